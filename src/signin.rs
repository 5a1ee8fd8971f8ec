//! The sign-in engine, as `aws sso login` signs in: authorization code with PKCE through the
//! browser for sso-session logins (RFC 7636, RFC 8252: loopback redirect on 127.0.0.1 only,
//! bound before the browser opens), the device code flow (RFC 8628) on request and always for
//! legacy start URLs. The token file is written as the AWS CLI writes it, atomically, 0600.

use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::time::{Duration, Instant};

use serde_json::json;

use crate::cache::{self, Token};
use crate::clock;
use crate::config::Login;
use crate::error::{Error, Result};
use crate::http::{Client, Service, encode};
use crate::oidc::{self, Flow, NewToken, Poll, Registration};
use crate::{browser, random};

/// How to sign in.
#[derive(Debug, Clone)]
pub struct Options {
    /// The device code flow even where the browser flow is possible.
    pub device: bool,
    /// Print the URL; do not start a browser.
    pub no_browser: bool,
    /// Sign in again even with a cached token that still has time.
    pub force: bool,
    /// How long to wait for the user.
    pub timeout: Duration,
}

/// How long a sign-in waits for the user by default.
pub const WAIT: Duration = Duration::from_secs(600);

fn failed(t: &Login, reason: impl Into<String>) -> Error {
    Error::SignIn {
        login: t.name(),
        reason: reason.into(),
    }
}

/// The cached token while it has more than the CLI's window left (unless `--force`), else a
/// sign-in now.
pub fn token_for(client: &Client, target: &Login, opts: &Options) -> Result<Token> {
    let cached = cache::read_token(target.token_key()).ok().flatten();
    match cached {
        Some(t) if !opts.force && t.expires_at - clock::now() > cache::WINDOW => {
            eprintln!(
                "ssoenv: already signed in to {} until {} (--force signs in again)",
                target.name(),
                clock::format_time(t.expires_at)
            );
            Ok(t)
        }
        _ => sign_in(client, target, opts),
    }
}

fn sign_in(client: &Client, t: &Login, opts: &Options) -> Result<Token> {
    let device = opts.device || t.session.is_none();
    let (reg, new) = if device {
        device_flow(client, t, opts)?
    } else {
        if browser::remote_session() && !opts.no_browser {
            eprintln!(
                "ssoenv: this looks like a remote session; if the browser cannot reach this machine, use --use-device-code"
            );
        }
        pkce_flow(client, t, opts)?
    };
    let token = oidc::save_token(t, &reg, &new)?;
    eprintln!(
        "ssoenv: signed in to {} until {}",
        t.name(),
        clock::format_time(token.expires_at)
    );
    Ok(token)
}

fn device_flow(client: &Client, t: &Login, opts: &Options) -> Result<(Registration, NewToken)> {
    let endpoint = t.endpoint(Service::Oidc);
    let reg = oidc::registration(client, t, Flow::Device, None)?;
    let auth = oidc::start_device(client, t, &reg)?;
    eprintln!(
        "\nTo sign in to {}, open this URL in a browser:\n\n    {}\n\nand check that it shows the code:  {}\n(or go to {} and enter the code)\n",
        t.start_url, auth.verification_uri_complete, auth.user_code, auth.verification_uri
    );
    if !opts.no_browser {
        browser::open(&auth.verification_uri_complete);
    }
    let mut interval = Duration::from_secs(auth.interval);
    let deadline = Instant::now() + Duration::from_secs(auth.expires_in).min(opts.timeout);
    let body = json!({
        "clientId": reg.client_id,
        "clientSecret": reg.client_secret,
        "grantType": oidc::DEVICE_GRANT,
        "deviceCode": auth.device_code,
    });
    let progress = std::io::IsTerminal::is_terminal(&std::io::stderr());
    loop {
        if Instant::now() + interval > deadline {
            return Err(failed(
                t,
                "the device code expired before sign-in was confirmed; run the login again",
            ));
        }
        std::thread::sleep(interval);
        match oidc::create_token(client, &endpoint, &body) {
            Ok(Poll::Done(tok)) => {
                if progress {
                    eprintln!();
                }
                return Ok((reg, tok));
            }
            Ok(Poll::Pending) => {
                if progress {
                    eprint!(".");
                }
            }
            // RFC 8628 §3.5: add 5 seconds to the interval.
            Ok(Poll::SlowDown) => interval += Duration::from_secs(5),
            Err(e) => return Err(device_error(e, t)),
        }
    }
}

fn device_error(e: Error, t: &Login) -> Error {
    match &e {
        Error::Aws { code, .. } if code == "AccessDeniedException" => {
            failed(t, "it was denied in the browser")
        }
        Error::Aws { code, .. } if code == "ExpiredTokenException" => failed(
            t,
            "the device code expired before sign-in was confirmed; run the login again",
        ),
        _ => e,
    }
}

const VERIFIER_ALPHABET: &[u8] =
    b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~";

fn pkce_flow(client: &Client, t: &Login, opts: &Options) -> Result<(Registration, NewToken)> {
    let endpoint = t.endpoint(Service::Oidc);
    // Bind before anything opens the browser, on 127.0.0.1 only (RFC 8252 §7.3, §8.3).
    let listen = |e: std::io::Error| failed(t, format!("cannot listen on 127.0.0.1: {e}"));
    let listener = TcpListener::bind("127.0.0.1:0").map_err(listen)?;
    let port = listener.local_addr().map_err(listen)?.port();
    let redirect_base = "http://127.0.0.1/oauth/callback";
    let redirect_uri = format!("http://127.0.0.1:{port}/oauth/callback");
    let reg = oidc::registration(client, t, Flow::AuthCode, Some(redirect_base))?;
    let verifier = random::string(64, VERIFIER_ALPHABET);
    let state = random::string(32, VERIFIER_ALPHABET);
    let scopes = t.effective_scopes().join(" ");
    let url = format!(
        "{}/authorize?response_type=code&client_id={}&redirect_uri={}&state={}&code_challenge_method=S256&scopes={}&code_challenge={}",
        endpoint,
        encode(&reg.client_id),
        encode(&redirect_uri),
        encode(&state),
        encode(&scopes),
        oidc::pkce_challenge(&verifier)
    );
    eprintln!(
        "\nTo sign in to {}, a browser window opens. If it does not, open this URL:\n\n    {url}\n",
        t.start_url
    );
    if !opts.no_browser {
        browser::open(&url);
    }
    let code = wait_for_code(&listener, &state, opts.timeout, t)?;
    drop(listener);
    let body = json!({
        "clientId": reg.client_id,
        "clientSecret": reg.client_secret,
        "grantType": "authorization_code",
        "code": code,
        "redirectUri": redirect_uri,
        "codeVerifier": verifier,
    });
    match oidc::create_token(client, &endpoint, &body)? {
        Poll::Done(tok) => Ok((reg, tok)),
        Poll::Pending | Poll::SlowDown => Err(failed(
            t,
            "CreateToken answered a pending state to an authorization code",
        )),
    }
}

/// Serves the loopback redirect until a callback arrives or the wait ends. Requests for other
/// paths (a favicon, a stray probe) get a 404 and the wait goes on.
fn wait_for_code(listener: &TcpListener, state: &str, wait: Duration, t: &Login) -> Result<String> {
    let deadline = Instant::now() + wait;
    listener
        .set_nonblocking(true)
        .map_err(|e| failed(t, format!("loopback listener: {e}")))?;
    loop {
        if Instant::now() >= deadline {
            return Err(failed(
                t,
                format!(
                    "no answer from the browser within {} s; run the login again (or use --use-device-code)",
                    wait.as_secs()
                ),
            ));
        }
        let stream = match listener.accept() {
            Ok((s, _)) => s,
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {
                std::thread::sleep(Duration::from_millis(50));
                continue;
            }
            Err(e) => return Err(failed(t, format!("loopback listener: {e}"))),
        };
        match handle(stream, state) {
            Callback::Stray => continue,
            Callback::Code(c) => return Ok(c),
            Callback::Denied(e) => {
                return Err(failed(t, format!("it was denied in the browser ({e})")));
            }
            Callback::Bad(why) => {
                return Err(failed(
                    t,
                    format!("the browser's answer was refused: {why}"),
                ));
            }
        }
    }
}

enum Callback {
    Stray,
    Code(String),
    Denied(String),
    Bad(&'static str),
}

const DONE_PAGE: &str = "<!doctype html><meta charset=utf-8><title>ssoenv</title><body style=\"font-family:sans-serif\"><h1>Signed in</h1><p>You can close this window and return to the terminal.</p>";
const FAIL_PAGE: &str = "<!doctype html><meta charset=utf-8><title>ssoenv</title><body style=\"font-family:sans-serif\"><h1>Sign-in failed</h1><p>Return to the terminal for details.</p>";

fn handle(stream: TcpStream, state: &str) -> Callback {
    let _ = stream.set_nonblocking(false);
    let _ = stream.set_read_timeout(Some(Duration::from_secs(5)));
    let mut reader = BufReader::new(&stream);
    let mut line = String::new();
    if reader.read_line(&mut line).is_err() {
        return Callback::Stray;
    }
    // Drain the headers so the browser sees a clean answer.
    let mut h = String::new();
    while reader.read_line(&mut h).is_ok_and(|n| n > 2) {
        h.clear();
    }
    let target = line.split_whitespace().nth(1).unwrap_or("");
    let (path, query) = target.split_once('?').unwrap_or((target, ""));
    if !line.starts_with("GET ") || path != "/oauth/callback" {
        respond(&stream, "404 Not Found", "not found");
        return Callback::Stray;
    }
    let params: Vec<(String, String)> = query
        .split('&')
        .filter_map(|kv| kv.split_once('='))
        .map(|(k, v)| (decode(k), decode(v)))
        .collect();
    let get = |k: &str| params.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone());
    let outcome = if get("state").as_deref() != Some(state) {
        Callback::Bad("the state does not match this login")
    } else if let Some(err) = get("error") {
        Callback::Denied(err)
    } else if let Some(code) = get("code").filter(|c| !c.is_empty()) {
        Callback::Code(code)
    } else {
        Callback::Bad("the callback carries no code")
    };
    match outcome {
        Callback::Code(_) => respond(&stream, "200 OK", DONE_PAGE),
        _ => respond(&stream, "400 Bad Request", FAIL_PAGE),
    }
    outcome
}

fn respond(mut stream: &TcpStream, status: &str, body: &str) {
    let _ = write!(
        stream,
        "HTTP/1.1 {status}\r\nContent-Type: text/html; charset=utf-8\r\nContent-Length: {}\r\nConnection: close\r\nCache-Control: no-store\r\n\r\n{body}",
        body.len()
    );
    let _ = stream.flush();
}

/// Percent-decoding of a query component (`+` is a space in forms).
fn decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'%' if i + 2 < b.len() => {
                let hex = |c: u8| (c as char).to_digit(16);
                match (hex(b[i + 1]), hex(b[i + 2])) {
                    (Some(h), Some(l)) => {
                        out.push((h * 16 + l) as u8);
                        i += 3;
                        continue;
                    }
                    _ => out.push(b'%'),
                }
            }
            b'+' => out.push(b' '),
            c => out.push(c),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    #[test]
    fn query_components_are_percent_decoded() {
        assert_eq!(super::decode("a%20b+c%2F%zz%"), "a b c/%zz%");
    }
}
