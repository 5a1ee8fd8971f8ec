//! A mock of the two AWS APIs ssoenv speaks: the SSO portal (GetRoleCredentials, ListAccounts,
//! ListAccountRoles, Logout) and SSO OIDC (RegisterClient, StartDeviceAuthorization, CreateToken
//! with all three grants, and the `/authorize` page of the PKCE flow), on one local port over
//! plain HTTP/1.1 with keep-alive.
//!
//! It speaks the wire format of the API models: paths, the bearer header, JSON members, epoch
//! milliseconds for credential expiry, `x-amzn-ErrorType` plus the portal's `{"message"}` or
//! OIDC's `{"error", "error_description"}` bodies, status codes, and opaque `nextToken` pages.
//! It records every request, and injects faults per route: error statuses, garbage bodies,
//! closed connections, latency and a server that never answers.
//!
//! Used by the integration tests and by `examples/mock.rs`; never part of the `ssoenv` binary.

#![allow(dead_code)]

use std::collections::{HashMap, HashSet, VecDeque};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use serde_json::{Value, json};

/// The operation a request was routed to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Route {
    GetRoleCredentials,
    ListAccounts,
    ListAccountRoles,
    Logout,
    RegisterClient,
    StartDeviceAuthorization,
    CreateToken,
    Authorize,
    Other,
}

impl Route {
    fn is_oidc(self) -> bool {
        matches!(
            self,
            Route::RegisterClient
                | Route::StartDeviceAuthorization
                | Route::CreateToken
                | Route::Authorize
        )
    }
}

/// A fault injected in place of (or before) the normal answer.
#[derive(Clone, Debug)]
pub enum Fault {
    /// An AWS error of the route's API: status, error name, message.
    Status {
        status: u16,
        error_type: String,
        message: String,
    },
    /// 200 with this body.
    Garbage(String),
    /// Close the connection without answering.
    Close,
    /// Answer normally after this delay.
    Delay(Duration),
    /// Accept the request and never answer (until the mock is dropped, at most 60 s).
    Hang,
}

/// Role credentials as the portal hands them out.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Creds {
    pub access_key_id: String,
    pub secret_access_key: String,
    pub session_token: String,
    /// Epoch milliseconds, as on the wire.
    pub expiration_ms: i64,
}

/// How the user answers the device code prompt.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DeviceApproval {
    /// Pending for this many polls, then approved.
    AfterPolls(u32),
    /// The user pressed "deny".
    Deny,
    /// The user never came: the code expires.
    Expire,
    /// The first poll is answered with slow_down, the next one approves.
    SlowDownOnce,
}

/// How the authorize page answers the browser.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AuthorizeMode {
    Approve,
    Deny,
    WrongState,
    NoCode,
}

/// One request as the mock received it.
#[derive(Clone, Debug)]
pub struct Recorded {
    pub route: Route,
    pub method: String,
    pub path: String,
    /// The raw query string, without `?`.
    pub query: String,
    /// Header names lowercased, in arrival order.
    pub headers: Vec<(String, String)>,
    pub body: String,
    params: Vec<(String, String)>,
}

impl Recorded {
    pub fn header(&self, name: &str) -> Option<&str> {
        let name = name.to_ascii_lowercase();
        self.headers
            .iter()
            .find(|(k, _)| *k == name)
            .map(|(_, v)| v.as_str())
    }

    /// A decoded query parameter.
    pub fn param(&self, name: &str) -> Option<&str> {
        self.params
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    pub fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or(Value::Null)
    }
}

struct Account {
    id: String,
    name: String,
    email: String,
    roles: Vec<String>,
}

struct Client {
    secret: String,
    grants: Vec<String>,
    redirect_uris: Vec<String>,
    expires_at: i64,
}

struct Device {
    client: String,
    polls: u32,
    started: Instant,
    expires_in: u64,
    slowed: bool,
}

struct Code {
    client: String,
    challenge: String,
    redirect_uri: String,
}

struct State {
    access_tokens: HashSet<String>,
    accounts: Vec<Account>,
    next_creds: VecDeque<Creds>,
    credential_lifetime: Duration,
    issued_creds: Vec<Creds>,
    issued_tokens: Vec<String>,
    logged_out: Vec<String>,
    page_size: usize,
    token_lifetime: u64,
    client_secret_lifetime: u64,
    clients: HashMap<String, Client>,
    refresh_tokens: HashMap<String, String>,
    devices: HashMap<String, Device>,
    device_approval: DeviceApproval,
    authorize: AuthorizeMode,
    codes: HashMap<String, Code>,
    faults: HashMap<Route, VecDeque<Fault>>,
    always: HashMap<Route, Fault>,
    requests: Vec<Recorded>,
}

struct Inner {
    state: Mutex<State>,
    stop: AtomicBool,
    log: AtomicBool,
    counter: AtomicU64,
    base: String,
}

/// The running mock; it stops when dropped.
pub struct Mock {
    inner: Arc<Inner>,
    addr: SocketAddr,
}

impl Mock {
    /// Listens on an ephemeral port of 127.0.0.1.
    pub fn start() -> Mock {
        Mock::bind("127.0.0.1:0")
    }

    pub fn bind(addr: &str) -> Mock {
        let listener = TcpListener::bind(addr)
            .unwrap_or_else(|e| panic!("mock: cannot listen on {addr}: {e}"));
        let addr = listener.local_addr().unwrap();
        let inner = Arc::new(Inner {
            state: Mutex::new(State {
                access_tokens: HashSet::new(),
                accounts: Vec::new(),
                next_creds: VecDeque::new(),
                credential_lifetime: Duration::from_secs(3600),
                issued_creds: Vec::new(),
                issued_tokens: Vec::new(),
                logged_out: Vec::new(),
                page_size: 20,
                token_lifetime: 8 * 3600,
                client_secret_lifetime: 90 * 86400,
                clients: HashMap::new(),
                refresh_tokens: HashMap::new(),
                devices: HashMap::new(),
                device_approval: DeviceApproval::AfterPolls(1),
                authorize: AuthorizeMode::Approve,
                codes: HashMap::new(),
                faults: HashMap::new(),
                always: HashMap::new(),
                requests: Vec::new(),
            }),
            stop: AtomicBool::new(false),
            log: AtomicBool::new(false),
            counter: AtomicU64::new(0),
            base: format!("http://{addr}"),
        });
        let acceptor = Arc::clone(&inner);
        std::thread::spawn(move || {
            for conn in listener.incoming() {
                if acceptor.stop.load(Ordering::SeqCst) {
                    break;
                }
                let Ok(conn) = conn else { continue };
                let inner = Arc::clone(&acceptor);
                std::thread::spawn(move || serve(&inner, conn));
            }
        });
        Mock { inner, addr }
    }

    pub fn url(&self) -> String {
        self.inner.base.clone()
    }

    pub fn port(&self) -> u16 {
        self.addr.port()
    }

    fn state(&self) -> MutexGuard<'_, State> {
        self.inner.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Log one line per request on stderr (for the example program).
    pub fn set_log(&self, on: bool) {
        self.inner.log.store(on, Ordering::SeqCst);
    }

    pub fn add_access_token(&self, token: &str) {
        self.state().access_tokens.insert(token.to_string());
    }

    pub fn add_account(&self, id: &str, name: &str, email: &str, roles: &[&str]) {
        self.state().accounts.push(Account {
            id: id.into(),
            name: name.into(),
            email: email.into(),
            roles: roles.iter().map(|r| r.to_string()).collect(),
        });
    }

    pub fn remove_account(&self, id: &str) {
        self.state().accounts.retain(|a| a.id != id);
    }

    pub fn clear_accounts(&self) {
        self.state().accounts.clear();
    }

    pub fn set_credential_lifetime(&self, d: Duration) {
        self.state().credential_lifetime = d;
    }

    /// The next GetRoleCredentials answers these (a queue; generated ones after it empties).
    pub fn set_next_credentials(&self, c: Creds) {
        self.state().next_creds.push_back(c);
    }

    pub fn set_page_size(&self, n: usize) {
        self.state().page_size = n.max(1);
    }

    pub fn set_token_lifetime(&self, d: Duration) {
        self.state().token_lifetime = d.as_secs();
    }

    pub fn set_client_secret_lifetime(&self, d: Duration) {
        self.state().client_secret_lifetime = d.as_secs();
    }

    pub fn set_device_approval(&self, a: DeviceApproval) {
        self.state().device_approval = a;
    }

    pub fn set_authorize(&self, m: AuthorizeMode) {
        self.state().authorize = m;
    }

    pub fn add_client(&self, id: &str, secret: &str, grants: &[&str]) {
        self.state().clients.insert(
            id.into(),
            Client {
                secret: secret.into(),
                grants: grants.iter().map(|g| g.to_string()).collect(),
                redirect_uris: vec!["http://127.0.0.1/oauth/callback".into()],
                expires_at: epoch() + 90 * 86400,
            },
        );
    }

    pub fn add_refresh_token(&self, token: &str, client: &str) {
        self.state()
            .refresh_tokens
            .insert(token.into(), client.into());
    }

    /// A one-shot fault for the next request of `route` (queued in order).
    pub fn fault(&self, route: Route, f: Fault) {
        self.state().faults.entry(route).or_default().push_back(f);
    }

    /// A fault for every request of `route` until cleared.
    pub fn fault_always(&self, route: Route, f: Fault) {
        self.state().always.insert(route, f);
    }

    pub fn clear_faults(&self) {
        let mut s = self.state();
        s.faults.clear();
        s.always.clear();
    }

    pub fn requests(&self) -> Vec<Recorded> {
        self.state().requests.clone()
    }

    /// The first recorded request of a route.
    pub fn first(&self, route: Route) -> Option<Recorded> {
        self.state()
            .requests
            .iter()
            .find(|r| r.route == route)
            .cloned()
    }

    pub fn count(&self, route: Route) -> usize {
        self.state()
            .requests
            .iter()
            .filter(|r| r.route == route)
            .count()
    }

    pub fn clear_requests(&self) {
        self.state().requests.clear();
    }

    /// Access tokens issued by CreateToken, oldest first.
    pub fn issued_access_tokens(&self) -> Vec<String> {
        self.state().issued_tokens.clone()
    }

    /// Credentials handed out by GetRoleCredentials, oldest first.
    pub fn issued_credentials(&self) -> Vec<Creds> {
        self.state().issued_creds.clone()
    }

    /// Access tokens signed out through Logout.
    pub fn logged_out_tokens(&self) -> Vec<String> {
        self.state().logged_out.clone()
    }
}

impl Drop for Mock {
    fn drop(&mut self) {
        self.inner.stop.store(true, Ordering::SeqCst);
        // Wake the acceptor so that it sees the flag.
        let _ = TcpStream::connect_timeout(&self.addr, Duration::from_millis(200));
    }
}

fn epoch() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

/// A unique, unguessable-enough value for tests: counter, time and a mixed hash.
fn random(inner: &Inner, prefix: &str, len: usize) -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    let n = inner.counter.fetch_add(1, Ordering::SeqCst);
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_nanos() as u64;
    let mut x = nanos ^ (n.wrapping_mul(0x9E37_79B9_7F4A_7C15)) ^ u64::from(std::process::id());
    let mut out = String::from(prefix);
    out.push_str(&n.to_string());
    while out.len() < len {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        out.push(ALPHABET[(x % ALPHABET.len() as u64) as usize] as char);
    }
    out
}

struct Request {
    method: String,
    path: String,
    query: String,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Request {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
}

struct Response {
    status: u16,
    headers: Vec<(String, String)>,
    body: String,
}

impl Response {
    fn json(status: u16, v: Value) -> Response {
        Response {
            status,
            headers: vec![("Content-Type".into(), "application/json".into())],
            body: v.to_string(),
        }
    }

    /// An error in the shape of the route's API.
    fn error(route: Route, status: u16, name: &str, message: &str) -> Response {
        if route.is_oidc() {
            // OIDC: the name in the header, OAuth-style members in the body.
            let code = name.trim_end_matches("Exception");
            let mut snake = String::new();
            for (i, ch) in code.chars().enumerate() {
                if ch.is_ascii_uppercase() && i > 0 {
                    snake.push('_');
                }
                snake.push(ch.to_ascii_lowercase());
            }
            let mut r = Response::json(
                status,
                json!({"error": snake, "error_description": message}),
            );
            r.headers.push(("x-amzn-ErrorType".into(), name.into()));
            r
        } else {
            let mut r = Response::json(status, json!({"message": message}));
            r.headers.push((
                "x-amzn-ErrorType".into(),
                format!(
                    "{name}:http://internal.amazon.com/coral/com.amazonaws.switchboard.portal/"
                ),
            ));
            r
        }
    }
}

fn read_request(reader: &mut BufReader<TcpStream>) -> Option<Request> {
    let mut line = String::new();
    if reader.read_line(&mut line).ok()? == 0 {
        return None;
    }
    let mut parts = line.split_whitespace();
    let method = parts.next()?.to_string();
    let target = parts.next()?.to_string();
    let mut headers = Vec::new();
    loop {
        let mut h = String::new();
        if reader.read_line(&mut h).ok()? == 0 {
            return None;
        }
        let h = h.trim_end();
        if h.is_empty() {
            break;
        }
        let (k, v) = h.split_once(':')?;
        headers.push((k.trim().to_ascii_lowercase(), v.trim().to_string()));
    }
    let len: usize = headers
        .iter()
        .find(|(k, _)| k == "content-length")
        .and_then(|(_, v)| v.parse().ok())
        .unwrap_or(0);
    let mut body = vec![0; len];
    reader.read_exact(&mut body).ok()?;
    let (path, query) = match target.split_once('?') {
        Some((p, q)) => (p.to_string(), q.to_string()),
        None => (target, String::new()),
    };
    Some(Request {
        method,
        path,
        query,
        headers,
        body,
    })
}

fn route_of(method: &str, path: &str) -> Route {
    match (method, path) {
        ("GET", "/federation/credentials") => Route::GetRoleCredentials,
        ("GET", "/assignment/accounts") => Route::ListAccounts,
        ("GET", "/assignment/roles") => Route::ListAccountRoles,
        ("POST", "/logout") => Route::Logout,
        ("POST", "/client/register") => Route::RegisterClient,
        ("POST", "/device_authorization") => Route::StartDeviceAuthorization,
        ("POST", "/token") => Route::CreateToken,
        ("GET", "/authorize") => Route::Authorize,
        _ => Route::Other,
    }
}

fn serve(inner: &Inner, stream: TcpStream) {
    let _ = stream.set_read_timeout(Some(Duration::from_secs(60)));
    let _ = stream.set_nodelay(true);
    let mut writer = match stream.try_clone() {
        Ok(w) => w,
        Err(_) => return,
    };
    let mut reader = BufReader::new(stream);
    while let Some(req) = read_request(&mut reader) {
        let route = route_of(&req.method, &req.path);
        let fault = {
            let mut s = inner.state.lock().unwrap_or_else(|e| e.into_inner());
            s.requests.push(Recorded {
                route,
                method: req.method.clone(),
                path: req.path.clone(),
                query: req.query.clone(),
                headers: req.headers.clone(),
                body: String::from_utf8_lossy(&req.body).into_owned(),
                params: query_params(&req.query),
            });
            let once = s.faults.get_mut(&route).and_then(VecDeque::pop_front);
            once.or_else(|| s.always.get(&route).cloned())
        };
        let resp = match fault {
            Some(Fault::Close) => return,
            Some(Fault::Hang) => {
                let t = Instant::now();
                while !inner.stop.load(Ordering::SeqCst) && t.elapsed() < Duration::from_secs(60) {
                    std::thread::sleep(Duration::from_millis(50));
                }
                return;
            }
            Some(Fault::Garbage(body)) => Response {
                status: 200,
                headers: vec![("Content-Type".into(), "application/json".into())],
                body,
            },
            Some(Fault::Status {
                status,
                error_type,
                message,
            }) => Response::error(route, status, &error_type, &message),
            Some(Fault::Delay(d)) => {
                std::thread::sleep(d);
                handle(inner, route, &req)
            }
            None => handle(inner, route, &req),
        };
        if inner.log.load(Ordering::SeqCst) {
            eprintln!(
                "mock: {} {} -> {:?} {}",
                req.method, req.path, route, resp.status
            );
        }
        let close = req
            .header("connection")
            .is_some_and(|v| v.eq_ignore_ascii_case("close"));
        let mut out = format!("HTTP/1.1 {} {}\r\n", resp.status, reason(resp.status));
        for (k, v) in &resp.headers {
            out.push_str(&format!("{k}: {v}\r\n"));
        }
        let id = inner.counter.fetch_add(1, Ordering::SeqCst);
        out.push_str(&format!(
            "x-amzn-RequestId: 00000000-0000-4000-8000-{id:012x}\r\nContent-Length: {}\r\n",
            resp.body.len()
        ));
        if close {
            out.push_str("Connection: close\r\n");
        }
        out.push_str("\r\n");
        out.push_str(&resp.body);
        if writer.write_all(out.as_bytes()).is_err() || close {
            return;
        }
    }
}

fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        302 => "Found",
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        429 => "Too Many Requests",
        500 => "Internal Server Error",
        503 => "Service Unavailable",
        _ => "Status",
    }
}

fn handle(inner: &Inner, route: Route, req: &Request) -> Response {
    let mut s = inner.state.lock().unwrap_or_else(|e| e.into_inner());
    match route {
        Route::GetRoleCredentials
        | Route::ListAccounts
        | Route::ListAccountRoles
        | Route::Logout => portal(inner, &mut s, route, req),
        Route::RegisterClient | Route::StartDeviceAuthorization | Route::CreateToken => {
            let body: Value = match serde_json::from_slice(&req.body) {
                Ok(v @ Value::Object(_)) => v,
                _ => {
                    return Response::error(
                        route,
                        400,
                        "InvalidRequestException",
                        "The request body is not a JSON object",
                    );
                }
            };
            match route {
                Route::RegisterClient => register(inner, &mut s, &body),
                Route::StartDeviceAuthorization => start_device(inner, &mut s, &body),
                _ => create_token(inner, &mut s, &body),
            }
        }
        Route::Authorize => authorize(inner, &mut s, req),
        // The verification page a user opens for the device code: the mock approves codes by
        // itself (see DeviceApproval), so it only says so.
        Route::Other if req.method == "GET" && req.path == "/device" => Response {
            status: 200,
            headers: vec![("Content-Type".into(), "text/html".into())],
            body: "<html><body>Mock sign-in: the mock approves this code by itself.</body></html>"
                .into(),
        },
        Route::Other => {
            Response::error(route, 404, "UnknownOperationException", "Unknown operation")
        }
    }
}

fn portal(inner: &Inner, s: &mut State, route: Route, req: &Request) -> Response {
    let token = req.header("x-amz-sso_bearer_token").unwrap_or("");
    if !s.access_tokens.contains(token) {
        return Response::error(
            route,
            401,
            "UnauthorizedException",
            "Session token not found or invalid",
        );
    }
    let q: HashMap<String, String> = query_params(&req.query).into_iter().collect();
    match route {
        Route::GetRoleCredentials => {
            let (Some(role), Some(account)) = (q.get("role_name"), q.get("account_id")) else {
                return Response::error(
                    route,
                    400,
                    "InvalidRequestException",
                    "role_name and account_id are required",
                );
            };
            let allowed = s
                .accounts
                .iter()
                .any(|a| a.id == *account && a.roles.contains(role));
            if !allowed {
                return Response::error(route, 403, "ForbiddenException", "No access");
            }
            let c = s.next_creds.pop_front().unwrap_or_else(|| Creds {
                access_key_id: random(inner, "ASIA", 20).to_uppercase(),
                secret_access_key: random(inner, "", 40),
                session_token: random(inner, "IQoJb3JpZ2luX2VjE", 200),
                expiration_ms: (SystemTime::now() + s.credential_lifetime)
                    .duration_since(UNIX_EPOCH)
                    .unwrap()
                    .as_millis() as i64,
            });
            s.issued_creds.push(c.clone());
            Response::json(
                200,
                json!({"roleCredentials": {
                    "accessKeyId": c.access_key_id,
                    "secretAccessKey": c.secret_access_key,
                    "sessionToken": c.session_token,
                    "expiration": c.expiration_ms,
                }}),
            )
        }
        Route::ListAccounts => {
            let items: Vec<Value> = s
                .accounts
                .iter()
                .map(|a| json!({"accountId": a.id, "accountName": a.name, "emailAddress": a.email}))
                .collect();
            page(s, route, &q, items, "accountList")
        }
        Route::ListAccountRoles => {
            let Some(account) = q.get("account_id") else {
                return Response::error(
                    route,
                    400,
                    "InvalidRequestException",
                    "account_id is required",
                );
            };
            let items: Vec<Value> = s
                .accounts
                .iter()
                .filter(|a| a.id == *account)
                .flat_map(|a| {
                    a.roles
                        .iter()
                        .map(|r| json!({"roleName": r, "accountId": a.id}))
                })
                .collect();
            page(s, route, &q, items, "roleList")
        }
        _ => {
            s.access_tokens.remove(token);
            s.logged_out.push(token.to_string());
            Response {
                status: 200,
                headers: Vec::new(),
                body: String::new(),
            }
        }
    }
}

/// One page of a listing: `max_result` bounded by the page size, `next_token` an opaque offset.
fn page(
    s: &State,
    route: Route,
    q: &HashMap<String, String>,
    items: Vec<Value>,
    member: &str,
) -> Response {
    let size = q
        .get("max_result")
        .and_then(|m| m.parse::<usize>().ok())
        .unwrap_or(s.page_size)
        .clamp(1, s.page_size);
    let start = match q.get("next_token").filter(|t| !t.is_empty()) {
        None => 0,
        Some(t) => match t
            .strip_prefix("page~")
            .and_then(|n| n.parse::<usize>().ok())
        {
            Some(n) if n <= items.len() => n,
            _ => {
                return Response::error(
                    route,
                    400,
                    "InvalidRequestException",
                    "Invalid pagination token",
                );
            }
        },
    };
    let end = (start + size).min(items.len());
    let mut v = json!({ member: items[start..end].to_vec() });
    if end < items.len() {
        v["nextToken"] = format!("page~{end}").into();
    }
    Response::json(200, v)
}

fn strs(v: &Value) -> Vec<String> {
    v.as_array()
        .map(|a| {
            a.iter()
                .filter_map(|x| x.as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default()
}

fn register(inner: &Inner, s: &mut State, body: &Value) -> Response {
    let r = Route::RegisterClient;
    if !body["clientName"].is_string() || body["clientType"] != "public" {
        return Response::error(
            r,
            400,
            "InvalidRequestException",
            "clientName and clientType=public are required",
        );
    }
    let grants = strs(&body["grantTypes"]);
    let redirect_uris = strs(&body["redirectUris"]);
    if grants.iter().any(|g| g == "authorization_code") {
        if redirect_uris.is_empty() {
            return Response::error(
                r,
                400,
                "InvalidRedirectUriException",
                "redirectUris are required",
            );
        }
        if !body["issuerUrl"].is_string() {
            return Response::error(r, 400, "InvalidRequestException", "issuerUrl is required");
        }
    }
    let known = [
        "authorization_code",
        "refresh_token",
        "urn:ietf:params:oauth:grant-type:device_code",
    ];
    if let Some(g) = grants.iter().find(|g| !known.contains(&g.as_str())) {
        return Response::error(
            r,
            400,
            "UnsupportedGrantTypeException",
            &format!("unsupported grant {g}"),
        );
    }
    let id = random(inner, "client-", 22);
    let secret = random(inner, "eyJraWQiOiJrZXktMTU2", 120);
    let now = epoch();
    let expires = now + s.client_secret_lifetime as i64;
    s.clients.insert(
        id.clone(),
        Client {
            secret: secret.clone(),
            grants,
            redirect_uris,
            expires_at: expires,
        },
    );
    Response::json(
        200,
        json!({"clientId": id, "clientSecret": secret, "clientIdIssuedAt": now, "clientSecretExpiresAt": expires}),
    )
}

/// The client named in a request, if its id and secret match and it has not expired.
fn client_ok(s: &State, route: Route, body: &Value) -> Result<String, Response> {
    let id = body["clientId"].as_str().unwrap_or("");
    match s.clients.get(id) {
        Some(c) if body["clientSecret"] == c.secret.as_str() && c.expires_at > epoch() => {
            Ok(id.to_string())
        }
        Some(c) if c.expires_at <= epoch() => Err(Response::error(
            route,
            401,
            "InvalidClientException",
            "Client secret expired",
        )),
        _ => Err(Response::error(
            route,
            401,
            "InvalidClientException",
            "Invalid client",
        )),
    }
}

fn start_device(inner: &Inner, s: &mut State, body: &Value) -> Response {
    let r = Route::StartDeviceAuthorization;
    let client = match client_ok(s, r, body) {
        Ok(c) => c,
        Err(e) => return e,
    };
    if !body["startUrl"].is_string() {
        return Response::error(r, 400, "InvalidRequestException", "startUrl is required");
    }
    let code = random(inner, "device-", 40);
    let user = random(inner, "", 8).to_uppercase();
    let user = format!("{}-{}", &user[..4], &user[4..8]);
    s.devices.insert(
        code.clone(),
        Device {
            client,
            polls: 0,
            started: Instant::now(),
            expires_in: 600,
            slowed: false,
        },
    );
    let uri = format!("{}/device", inner.base);
    Response::json(
        200,
        json!({
            "deviceCode": code,
            "userCode": user,
            "verificationUri": uri,
            "verificationUriComplete": format!("{uri}?user_code={user}"),
            "expiresIn": 600,
            "interval": 1,
        }),
    )
}

fn issue_token(inner: &Inner, s: &mut State, client: &str) -> Response {
    let access = random(inner, "aoaAAAAAG", 60);
    s.access_tokens.insert(access.clone());
    s.issued_tokens.push(access.clone());
    let mut v =
        json!({"accessToken": access, "tokenType": "Bearer", "expiresIn": s.token_lifetime});
    if s.clients
        .get(client)
        .is_some_and(|c| c.grants.iter().any(|g| g == "refresh_token"))
    {
        let rt = random(inner, "aorAAAAAG", 60);
        s.refresh_tokens.insert(rt.clone(), client.to_string());
        v["refreshToken"] = rt.into();
    }
    Response::json(200, v)
}

fn create_token(inner: &Inner, s: &mut State, body: &Value) -> Response {
    let r = Route::CreateToken;
    let client = match client_ok(s, r, body) {
        Ok(c) => c,
        Err(e) => return e,
    };
    let grants = s.clients[&client].grants.clone();
    let grant = body["grantType"].as_str().unwrap_or("");
    // A client registered with grant types may use only those.
    if !grants.is_empty() && !grants.iter().any(|g| g == grant) {
        return Response::error(
            r,
            400,
            "UnauthorizedClientException",
            &format!("client is not registered for {grant}"),
        );
    }
    match grant {
        "urn:ietf:params:oauth:grant-type:device_code" => {
            let code = body["deviceCode"].as_str().unwrap_or("");
            let approval = s.device_approval;
            let Some(d) = s.devices.get_mut(code).filter(|d| d.client == client) else {
                return Response::error(r, 400, "InvalidGrantException", "Invalid device code");
            };
            if d.started.elapsed().as_secs() >= d.expires_in {
                return Response::error(r, 400, "ExpiredTokenException", "Device code expired");
            }
            match approval {
                DeviceApproval::Deny => {
                    Response::error(r, 400, "AccessDeniedException", "Access denied by the user")
                }
                DeviceApproval::Expire => {
                    Response::error(r, 400, "ExpiredTokenException", "Device code expired")
                }
                DeviceApproval::SlowDownOnce if !d.slowed => {
                    d.slowed = true;
                    Response::error(r, 400, "SlowDownException", "Client is polling too fast")
                }
                DeviceApproval::AfterPolls(n) if d.polls < n => {
                    d.polls += 1;
                    Response::error(
                        r,
                        400,
                        "AuthorizationPendingException",
                        "Authorization pending",
                    )
                }
                _ => {
                    s.devices.remove(code);
                    issue_token(inner, s, &client)
                }
            }
        }
        "authorization_code" => {
            let code = body["code"].as_str().unwrap_or("");
            let Some(c) = s.codes.remove(code).filter(|c| c.client == client) else {
                return Response::error(
                    r,
                    400,
                    "InvalidGrantException",
                    "Invalid authorization code",
                );
            };
            if body["redirectUri"] != c.redirect_uri.as_str() {
                return Response::error(
                    r,
                    400,
                    "InvalidGrantException",
                    "redirectUri does not match",
                );
            }
            let verifier = body["codeVerifier"].as_str().unwrap_or("");
            let digest = ring::digest::digest(&ring::digest::SHA256, verifier.as_bytes());
            if base64url(digest.as_ref()) != c.challenge {
                return Response::error(
                    r,
                    400,
                    "InvalidGrantException",
                    "Code verifier does not match the challenge",
                );
            }
            issue_token(inner, s, &client)
        }
        "refresh_token" => {
            let rt = body["refreshToken"].as_str().unwrap_or("");
            if s.refresh_tokens.get(rt).is_none_or(|c| *c != client) {
                return Response::error(r, 400, "InvalidGrantException", "Invalid refresh token");
            }
            // Rotation: the old refresh token is spent.
            s.refresh_tokens.remove(rt);
            issue_token(inner, s, &client)
        }
        _ => Response::error(
            r,
            400,
            "UnsupportedGrantTypeException",
            "Unsupported grant type",
        ),
    }
}

fn authorize(inner: &Inner, s: &mut State, req: &Request) -> Response {
    let r = Route::Authorize;
    let q: HashMap<String, String> = query_params(&req.query).into_iter().collect();
    let page = |status: u16, text: &str| Response {
        status,
        headers: vec![("Content-Type".into(), "text/html".into())],
        body: format!("<html><body>{text}</body></html>"),
    };
    let client_id = q.get("client_id").cloned().unwrap_or_default();
    let redirect = q.get("redirect_uri").cloned().unwrap_or_default();
    let Some(client) = s.clients.get(&client_id) else {
        return page(400, "unknown client");
    };
    // RFC 8252 7.3: a loopback redirect matches whatever its port.
    let without_port = |u: &str| {
        let u = u.replace("localhost", "127.0.0.1");
        match u.strip_prefix("http://127.0.0.1:") {
            Some(rest) => format!(
                "http://127.0.0.1{}",
                &rest[rest.find('/').unwrap_or(rest.len())..]
            ),
            None => u,
        }
    };
    if !client
        .redirect_uris
        .iter()
        .any(|u| without_port(u) == without_port(&redirect))
    {
        return page(400, "redirect_uri is not registered");
    }
    if q.get("response_type").map(String::as_str) != Some("code")
        || q.get("code_challenge_method").map(String::as_str) != Some("S256")
        || q.get("code_challenge").is_none_or(|c| c.len() != 43)
    {
        return page(400, "invalid PKCE request");
    }
    let state = q.get("state").cloned().unwrap_or_default();
    let code = random(inner, "code-", 32);
    let target = match s.authorize {
        AuthorizeMode::Approve | AuthorizeMode::WrongState => {
            s.codes.insert(
                code.clone(),
                Code {
                    client: client_id,
                    challenge: q["code_challenge"].clone(),
                    redirect_uri: redirect.clone(),
                },
            );
            let st = if s.authorize == AuthorizeMode::Approve {
                state
            } else {
                "not-the-state".into()
            };
            format!("{redirect}?code={code}&state={}", encode(&st))
        }
        AuthorizeMode::Deny => format!(
            "{redirect}?error=access_denied&error_description={}&state={}",
            encode("The user denied the request"),
            encode(&state)
        ),
        AuthorizeMode::NoCode => format!("{redirect}?state={}", encode(&state)),
    };
    let _ = r;
    Response {
        status: 302,
        headers: vec![
            ("Location".into(), target),
            ("Content-Type".into(), "text/html".into()),
        ],
        body: String::new(),
    }
}

/// base64url without padding.
pub fn base64url(data: &[u8]) -> String {
    const A: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let mut out = String::new();
    for chunk in data.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..=chunk.len() {
            out.push(A[((n >> (18 - 6 * i)) & 63) as usize] as char);
        }
    }
    out
}

fn encode(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

fn decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < b.len() => match u8::from_str_radix(&s[i + 1..i + 3], 16) {
                Ok(v) => {
                    out.push(v);
                    i += 2;
                }
                Err(_) => out.push(b'%'),
            },
            c => out.push(c),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

pub fn query_params(q: &str) -> Vec<(String, String)> {
    q.split('&')
        .filter(|p| !p.is_empty())
        .map(|p| match p.split_once('=') {
            Some((k, v)) => (decode(k), decode(v)),
            None => (decode(p), String::new()),
        })
        .collect()
}
