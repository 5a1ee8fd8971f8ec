//! A mock of the AWS APIs ssoenv speaks: the SSO portal (GetRoleCredentials, ListAccounts,
//! ListAccountRoles, Logout), SSO OIDC (RegisterClient, StartDeviceAuthorization, CreateToken
//! with all three grants, and the `/authorize` page of the PKCE flow) and STS (AssumeRole,
//! presigned GetCallerIdentity, both checking SigV4 signatures), on one local port over plain
//! HTTP/1.1 with keep-alive; and the sign-in federation endpoint (`getSigninToken`, `login`).
//!
//! It speaks the wire format of the API models: paths, the bearer header, JSON members, epoch
//! milliseconds for credential expiry, `x-amzn-ErrorType` plus the portal's `{"message"}` or
//! OIDC's `{"error", "error_description"}` bodies, status codes, and opaque `nextToken` pages.
//! It records every request, and injects faults per route: error statuses, garbage bodies,
//! closed connections, latency and a server that never answers.
//!
//! One file per part: `wire.rs` (HTTP and faults), `portal.rs`, `oidc.rs`, `sts.rs`. Used by the
//! integration tests and by `examples/mock.rs`; never part of the `ssoenv` binary.

#![allow(dead_code)]

use serde_json::{Value, json};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

mod oidc;
mod portal;
mod sts;
mod wire;

use oidc::*;
use portal::*;
pub use sts::AssumedRole;
use sts::{Issued, RoleRule};
use wire::*;
pub use wire::{base64url, query_params};

use std::collections::{HashMap, HashSet, VecDeque};

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
    AssumeRole,
    GetCallerIdentity,
    Federation,
    Other,
}

impl Route {
    fn is_sts(self) -> bool {
        matches!(self, Route::AssumeRole | Route::GetCallerIdentity)
    }

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
    /// Every credential the mock issued, by access key id (for STS's signature checks).
    issued: HashMap<String, Issued>,
    assumed: Vec<AssumedRole>,
    role_rules: HashMap<String, RoleRule>,
    /// The longest STS credentials live (AssumeRole's DurationSeconds, at most this).
    sts_lifetime: Duration,
    /// Sign-in tokens of the federation endpoint, with the access key they stand for.
    signin_tokens: Vec<(String, String)>,
}

struct Inner {
    state: Mutex<State>,
    stop: AtomicBool,
    log: AtomicBool,
    counter: AtomicU64,
    base: String,
    /// Requests being answered now, and the most there ever were at once.
    in_flight: AtomicU64,
    most_in_flight: AtomicU64,
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
                issued: HashMap::new(),
                assumed: Vec::new(),
                role_rules: HashMap::new(),
                sts_lifetime: Duration::from_secs(12 * 3600),
                signin_tokens: Vec::new(),
            }),
            stop: AtomicBool::new(false),
            log: AtomicBool::new(false),
            counter: AtomicU64::new(0),
            base: format!("http://{addr}"),
            in_flight: AtomicU64::new(0),
            most_in_flight: AtomicU64::new(0),
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

    /// The most requests the mock was answering at one time.
    pub fn most_in_flight(&self) -> u64 {
        self.inner.most_in_flight.load(Ordering::SeqCst)
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

    /// AssumeRole calls answered, oldest first.
    pub fn assumed_roles(&self) -> Vec<AssumedRole> {
        self.state().assumed.clone()
    }

    /// The federation endpoint's sign-in tokens and the access key each stands for.
    pub fn signin_tokens(&self) -> Vec<(String, String)> {
        self.state().signin_tokens.clone()
    }

    /// STS credentials live at most this long (whatever DurationSeconds asks).
    pub fn set_sts_lifetime(&self, d: Duration) {
        self.state().sts_lifetime = d;
    }

    /// AssumeRole of `role_arn` needs this ExternalId.
    pub fn require_external_id(&self, role_arn: &str, id: &str) {
        self.state()
            .role_rules
            .entry(role_arn.into())
            .or_default()
            .external_id = Some(id.into());
    }

    /// AssumeRole of `role_arn` needs this MFA device and code.
    pub fn require_mfa(&self, role_arn: &str, serial: &str, code: &str) {
        self.state()
            .role_rules
            .entry(role_arn.into())
            .or_default()
            .mfa = Some((serial.into(), code.into()));
    }

    /// AssumeRole of `role_arn` is refused (AccessDenied).
    pub fn deny_role(&self, role_arn: &str) {
        self.state()
            .role_rules
            .entry(role_arn.into())
            .or_default()
            .denied = true;
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

fn epoch_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64
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
        Route::AssumeRole => sts::assume_role(inner, &mut s, req),
        Route::GetCallerIdentity => sts::get_caller_identity(&mut s, req),
        Route::Federation => sts::federation(inner, &mut s, req),
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
