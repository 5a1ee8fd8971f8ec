//! The mock's HTTP/1.1: reading requests, routing by method and path, writing responses with
//! keep-alive, the injected faults, and the percent and base64url codings.

use super::*;

pub(super) struct Request {
    pub(super) method: String,
    pub(super) path: String,
    pub(super) query: String,
    pub(super) headers: Vec<(String, String)>,
    pub(super) body: Vec<u8>,
}

impl Request {
    pub(super) fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
}

pub(super) struct Response {
    pub(super) status: u16,
    pub(super) headers: Vec<(String, String)>,
    pub(super) body: String,
}

impl Response {
    pub(super) fn json(status: u16, v: Value) -> Response {
        Response {
            status,
            headers: vec![("Content-Type".into(), "application/json".into())],
            body: v.to_string(),
        }
    }

    /// An error in the shape of the route's API.
    pub(super) fn error(route: Route, status: u16, name: &str, message: &str) -> Response {
        if route.is_sts() {
            return sts::error(status, name, message);
        }
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

pub(super) fn read_request(reader: &mut BufReader<TcpStream>) -> Option<Request> {
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

pub(super) fn route_of(method: &str, path: &str) -> Route {
    match (method, path) {
        ("GET", "/federation/credentials") => Route::GetRoleCredentials,
        ("GET", "/assignment/accounts") => Route::ListAccounts,
        ("GET", "/assignment/roles") => Route::ListAccountRoles,
        ("POST", "/logout") => Route::Logout,
        ("POST", "/client/register") => Route::RegisterClient,
        ("POST", "/device_authorization") => Route::StartDeviceAuthorization,
        ("POST", "/token") => Route::CreateToken,
        ("GET", "/authorize") => Route::Authorize,
        ("GET", "/federation") => Route::Federation,
        _ => Route::Other,
    }
}

pub(super) fn serve(inner: &Inner, stream: TcpStream) {
    let _ = stream.set_read_timeout(Some(Duration::from_secs(60)));
    let _ = stream.set_nodelay(true);
    let mut writer = match stream.try_clone() {
        Ok(w) => w,
        Err(_) => return,
    };
    let mut reader = BufReader::new(stream);
    while let Some(req) = read_request(&mut reader) {
        let route = match route_of(&req.method, &req.path) {
            Route::Other if req.path == "/" => sts::sts_route(&req),
            r => r,
        };
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
                let now = inner.in_flight.fetch_add(1, Ordering::SeqCst) + 1;
                inner.most_in_flight.fetch_max(now, Ordering::SeqCst);
                std::thread::sleep(d);
                inner.in_flight.fetch_sub(1, Ordering::SeqCst);
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

pub(super) fn reason(status: u16) -> &'static str {
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

pub(super) fn encode(s: &str) -> String {
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

pub(super) fn decode(s: &str) -> String {
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
