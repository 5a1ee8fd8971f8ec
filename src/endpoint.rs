//! A local credential endpoint that the AWS SDKs already know: the container credentials
//! provider (`AWS_CONTAINER_CREDENTIALS_FULL_URI` with `AWS_CONTAINER_AUTHORIZATION_TOKEN` or
//! `_TOKEN_FILE`). It serves one profile's credentials, renewed underneath (the cache, the
//! lock, the refresh, exactly as an export does) before they have 15 minutes left, so a long
//! process never holds credentials about to expire.
//!
//! What it lets in: connections to 127.0.0.1 only; `GET` only; a `Host` that is a loopback
//! name (a page in a browser cannot reach it by DNS rebinding); the `Authorization` header
//! equal to a random 256-bit token, compared in constant time. Each connection is read on
//! its own thread, at most 8 KiB within 5 seconds, so no client can stall another or grow
//! the server's memory. The token is never in argv, a log or an error.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::cache::{RoleCreds, WINDOW};
use crate::clock;
use crate::config::Profile;
use crate::credentials;
use crate::error::{Error, Result};

/// The most a request may be (request line and headers).
const MAX_REQUEST: usize = 8 << 10;
/// How long a client has to send its request.
const READ_DEADLINE: Duration = Duration::from_secs(5);
/// Connections served at once; more wait in the listen queue.
const MAX_CLIENTS: usize = 64;

/// The endpoint: bound, with its token, serving once [`Endpoint::serve`] runs.
pub struct Endpoint {
    listener: TcpListener,
    pub token: String,
    profile: Profile,
    creds: Mutex<Option<RoleCreds>>,
}

impl Endpoint {
    /// Binds 127.0.0.1 (port 0: any free one) for a profile.
    pub fn bind(profile: Profile, port: u16) -> Result<Arc<Endpoint>> {
        let listener = TcpListener::bind(("127.0.0.1", port))
            .map_err(|e| Error::Other(format!("cannot listen on 127.0.0.1:{port}: {e}")))?;
        let mut bytes = [0u8; 32];
        crate::random::fill(&mut bytes);
        Ok(Arc::new(Endpoint {
            listener,
            token: hex::encode(bytes),
            profile,
            creds: Mutex::new(None),
        }))
    }

    /// The URL for `AWS_CONTAINER_CREDENTIALS_FULL_URI`.
    pub fn url(&self) -> Result<String> {
        let addr = self
            .listener
            .local_addr()
            .map_err(|e| Error::Other(format!("the endpoint has no address: {e}")))?;
        Ok(format!("http://127.0.0.1:{}/", addr.port()))
    }

    /// The profile's credentials: the ones in memory while they have more than the renewal
    /// window left, else from the cache or the portal (as an export gets them).
    pub fn credentials(&self) -> Result<RoleCreds> {
        let mut held = self.creds.lock().map_err(|_| Error::Other("lock".into()))?;
        if let Some(c) = held.as_ref()
            && c.expiration - clock::now() > WINDOW.max(credentials::reuse_window())
        {
            return Ok(c.clone());
        }
        let fresh = credentials::credentials(&self.profile)?;
        *held = Some(fresh.clone());
        Ok(fresh)
    }

    /// Serves until `stop` says so (checked a few times a second).
    pub fn serve(self: &Arc<Endpoint>, stop: impl Fn() -> bool) -> Result<()> {
        self.listener
            .set_nonblocking(true)
            .map_err(|e| Error::Other(format!("endpoint: {e}")))?;
        let busy = Arc::new(AtomicUsize::new(0));
        while !stop() {
            match self.listener.accept() {
                Ok((stream, _)) => {
                    if busy.load(Ordering::SeqCst) >= MAX_CLIENTS {
                        continue;
                    }
                    busy.fetch_add(1, Ordering::SeqCst);
                    let (me, busy) = (Arc::clone(self), Arc::clone(&busy));
                    std::thread::spawn(move || {
                        me.answer(stream);
                        busy.fetch_sub(1, Ordering::SeqCst);
                    });
                }
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => self.wait_for_client(),
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(e) => return Err(Error::Other(format!("endpoint: {e}"))),
            }
        }
        Ok(())
    }

    /// Waits until a client connects, or a tenth of a second (so a stop is seen promptly):
    /// a request is answered as soon as it comes, not at the next tick of a timer.
    fn wait_for_client(&self) {
        #[cfg(unix)]
        {
            use std::os::fd::AsRawFd;
            let mut fd = libc::pollfd {
                fd: self.listener.as_raw_fd(),
                events: libc::POLLIN,
                revents: 0,
            };
            // SAFETY: one valid pollfd for the duration of the call.
            unsafe {
                libc::poll(&mut fd, 1, 100);
            }
        }
        #[cfg(not(unix))]
        std::thread::sleep(Duration::from_millis(20));
    }

    /// Reads one request and answers it; any failure only closes this connection.
    fn answer(&self, mut stream: TcpStream) {
        let _ = stream.set_nonblocking(false);
        let (status, body) = match read_request(&mut stream) {
            Some(req) => self.decide(&req),
            None => (
                400,
                error_body("the request is not one this endpoint reads"),
            ),
        };
        let reason = match status {
            200 => "OK",
            400 => "Bad Request",
            401 => "Unauthorized",
            403 => "Forbidden",
            405 => "Method Not Allowed",
            _ => "Internal Server Error",
        };
        let _ = write!(
            stream,
            "HTTP/1.1 {status} {reason}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nCache-Control: no-store\r\nConnection: close\r\n\r\n{body}",
            body.len()
        );
        let _ = stream.flush();
    }

    fn decide(&self, req: &Request) -> (u16, String) {
        if req.method != "GET" {
            return (405, error_body("only GET"));
        }
        let loopback = req.host.as_deref().is_some_and(is_loopback_host);
        if !loopback {
            return (403, error_body("the Host is not this machine"));
        }
        let given = req.authorization.as_deref().unwrap_or("");
        if !same(given.as_bytes(), self.token.as_bytes()) {
            return (
                401,
                error_body("the authorization token is missing or wrong"),
            );
        }
        match self.credentials() {
            Ok(c) => {
                let mut v = serde_json::json!({
                    "AccessKeyId": c.access_key_id,
                    "SecretAccessKey": c.secret_access_key,
                    "Token": c.session_token,
                    "Expiration": clock::format_time(c.expiration),
                });
                if !c.account_id.is_empty() {
                    v["AccountId"] = serde_json::json!(c.account_id);
                }
                (200, v.to_string())
            }
            Err(e) => {
                crate::warn!("endpoint: {e}");
                (500, error_body(&e.to_string()))
            }
        }
    }
}

fn error_body(message: &str) -> String {
    serde_json::json!({"code": "Error", "message": crate::messages::visible(message)}).to_string()
}

/// Constant-time equality: the time taken does not depend on where the inputs differ.
fn same(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// `127.0.0.1`, `localhost`, `[::1]`, with or without a port.
fn is_loopback_host(host: &str) -> bool {
    let name = if let Some(rest) = host.strip_prefix('[') {
        rest.split(']').next().unwrap_or("")
    } else {
        host.rsplit_once(':').map_or(host, |(h, _)| h)
    };
    name.eq_ignore_ascii_case("localhost")
        || name
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

struct Request {
    method: String,
    host: Option<String>,
    authorization: Option<String>,
}

/// The request line and headers, at most [`MAX_REQUEST`] bytes within [`READ_DEADLINE`].
fn read_request(stream: &mut TcpStream) -> Option<Request> {
    let deadline = Instant::now() + READ_DEADLINE;
    let mut buf = Vec::with_capacity(1024);
    let mut chunk = [0u8; 1024];
    while !buf.windows(4).any(|w| w == b"\r\n\r\n") {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() || buf.len() > MAX_REQUEST {
            return None;
        }
        stream.set_read_timeout(Some(left)).ok()?;
        let n = stream.read(&mut chunk).ok()?;
        if n == 0 {
            return None;
        }
        buf.extend_from_slice(&chunk[..n]);
    }
    let text = std::str::from_utf8(&buf).ok()?;
    let mut lines = text.split("\r\n");
    let method = lines.next()?.split(' ').next()?.to_string();
    let (mut host, mut authorization) = (None, None);
    for line in lines {
        let Some((name, value)) = line.split_once(':') else {
            continue;
        };
        let value = value.trim().to_string();
        if name.eq_ignore_ascii_case("host") {
            host = Some(value);
        } else if name.eq_ignore_ascii_case("authorization") {
            authorization = Some(value);
        }
    }
    Some(Request {
        method,
        host,
        authorization,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_loopback_names_are_hosts() {
        for ok in [
            "127.0.0.1:8080",
            "localhost",
            "LOCALHOST:1",
            "[::1]:9",
            "127.1.2.3",
        ] {
            assert!(is_loopback_host(ok), "{ok}");
        }
        for bad in [
            "evil.example",
            "10.0.0.1:80",
            "127.0.0.1.evil.example",
            "",
            "[::2]",
        ] {
            assert!(!is_loopback_host(bad), "{bad}");
        }
    }

    #[test]
    fn tokens_compare_whole() {
        assert!(same(b"abc", b"abc"));
        assert!(!same(b"abc", b"abd") && !same(b"abc", b"ab") && !same(b"", b"a"));
    }
}
