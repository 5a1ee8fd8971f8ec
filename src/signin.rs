//! The sign-in engine, as `aws sso login` signs in: authorization code with PKCE through the
//! browser for sso-session logins (RFC 7636, RFC 8252: loopback redirect on 127.0.0.1 only,
//! bound before the browser opens), the device code flow (RFC 8628) on request and always for
//! legacy start URLs. The token file is written as the AWS CLI writes it, atomically, 0600.
//!
//! One sign-in per login at a time, across processes: a sign-in holds the login's sign-in lock
//! (`files::lock`, named after `Login::token_key()` but distinct from the credential lock that
//! `credentials` takes, so an export never waits behind a user at a browser). Others wait for
//! it, at most their own timeout, then re-read the token cache and use what it signed in.
//! Lock order: the sign-in lock, then the credential lock, never the other way round; the
//! credential lock is taken before the new token is written and handed to the caller with it
//! ([`Held`]), so `login` fetches the role credentials before anyone else can look for them.
//!
//! The loopback listener serves each connection on its own thread with a short deadline and
//! reads at most a few KiB of it: a local process that connects and stalls, sends garbage or a
//! wrong `state` gets an error page and cannot stop or delay the browser's real callback.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use serde_json::{Map, Value, json};

use crate::cache::{self, Token};
use crate::clock;
use crate::config::Login;
use crate::error::{Error, Result};
use crate::files;
use crate::http::{Client, Service, encode};
use crate::messages::visible;
use crate::oidc::{self, Flow, NewToken, Poll, Registration};
use crate::{browser, random};

/// How to sign in.
#[derive(Debug, Clone)]
pub struct Options {
    /// The device code flow even where the browser flow is possible.
    pub device: bool,
    /// Print the URL; do not start a browser.
    pub no_browser: bool,
    /// The browser flow even where it looks headless (an SSH session, a container).
    pub browser_flow: bool,
    /// The loopback port of the browser flow (`None`: any free one).
    pub port: Option<u16>,
    /// Sign in again even with a cached token that still has time.
    pub force: bool,
    /// How long to wait for the user (and for a sign-in in progress elsewhere).
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

/// A usable token for a login, with the login's locks held until dropped: the caller finishes
/// what it needed the token for (login fetches the profile's credentials) before anyone waiting
/// for the sign-in goes on and looks for that work in the caches.
pub struct Held {
    pub token: Token,
    /// Signed in just now by this process (not the cached token, not another process's).
    pub new: bool,
    // Fields drop in order: the credential lock first, then the sign-in lock.
    _credentials: Option<files::Lock>,
    _sign_in: Option<files::Lock>,
}

/// The cached token while it has more than the CLI's window left (unless `--force`), else a
/// sign-in now, or the one another process is doing.
pub fn token_for(client: &Client, target: &Login, opts: &Options) -> Result<Token> {
    token_held(client, target, opts).map(|h| h.token)
}

/// Like [`token_for`], with the login's locks still held (see [`Held`]).
pub fn token_held(client: &Client, t: &Login, opts: &Options) -> Result<Held> {
    let seen = cached(t);
    let again = format!(" (`{} --force` signs in again)", t.hint);
    if !opts.force
        && seen.is_some()
        && let Some(h) = reuse(t, &mut None, "already signed in to", &again)
    {
        return Ok(h);
    }
    let mut turn = take_turn(t, opts.timeout)?;
    // Another process may have signed in while we waited: its token is ours (under --force
    // too, when it is not the one seen before waiting).
    if let Some(now) = cached(t) {
        let other = seen
            .as_ref()
            .is_none_or(|s| s.access_token != now.access_token);
        let said = if turn.waited && other {
            Some(("signed in to", " (by the sign-in it waited for)"))
        } else if !opts.force {
            Some(("already signed in to", ""))
        } else {
            None
        };
        if let Some((said, how)) = said
            && let Some(h) = reuse(t, &mut turn.lock, said, how)
        {
            return Ok(h);
        }
    }
    if let Some(pid) = turn.failed_holder() {
        return Err(failed(
            t,
            format!(
                "the sign-in it waited for (process {pid}) did not succeed; run the login again"
            ),
        ));
    }
    let notice = Notice::post(&turn);
    let outcome = sign_in(client, t, opts, &notice);
    notice.finish(outcome.is_ok());
    let (token, credentials) = outcome?;
    Ok(Held {
        token,
        new: true,
        _credentials: credentials,
        _sign_in: turn.lock,
    })
}

/// The cached token if it has more than the window left.
fn cached(t: &Login) -> Option<Token> {
    cache::read_token(t.token_key())
        .ok()
        .flatten()
        .filter(|tok| tok.expires_at - clock::now() > cache::WINDOW)
}

/// The cached token, read again under the credential lock (a refresh may have replaced it, a
/// logout removed it: then `None`, and the sign-in lock stays with the caller).
fn reuse(t: &Login, sign_in: &mut Option<files::Lock>, said: &str, hint: &str) -> Option<Held> {
    let credentials = credential_lock(t);
    let token = cached(t)?;
    eprintln!(
        "ssoenv: {said} {} until {}{hint}",
        t.name(),
        clock::format_time(token.expires_at)
    );
    Some(Held {
        token,
        new: false,
        _credentials: credentials,
        _sign_in: sign_in.take(),
    })
}

/// The credential lock (the one `credentials::take_lock` takes); without a writable state
/// directory, none.
fn credential_lock(t: &Login) -> Option<files::Lock> {
    files::lock(t.token_key())
        .inspect_err(|e| crate::debug!("running without a lock: {e}"))
        .ok()
}

/// The sign-in lock's name: the login's key under a prefix no token key has.
fn sign_in_lock_name(t: &Login) -> String {
    format!("sign-in\n{}", t.token_key())
}

/// The sign-in lock, once this process may sign in.
struct Turn {
    lock: Option<files::Lock>,
    /// Where the holder leaves its [`Notice`] (`None` without a state directory).
    notice: Option<PathBuf>,
    /// Whether another process held the lock first.
    waited: bool,
    /// The process last seen holding it.
    holder: Option<u64>,
}

impl Turn {
    /// The process this one waited for, if it said its sign-in failed.
    fn failed_holder(&self) -> Option<u64> {
        let n = Notice::read(self.notice.as_deref()?)?;
        (self.waited && n.failed && Some(n.pid) == self.holder).then_some(n.pid)
    }
}

/// Takes the login's sign-in lock. While another process holds it, says so in one line (and
/// where that sign-in waits for the user, once its holder tells), and waits at most `wait`.
fn take_turn(t: &Login, wait: Duration) -> Result<Turn> {
    let name = sign_in_lock_name(t);
    let mut turn = Turn {
        lock: None,
        notice: files::beside_lock(&name, "json").ok(),
        waited: false,
        holder: None,
    };
    let start = Instant::now();
    let mut said_wait = false;
    let mut shown: Option<(u64, String)> = None;
    loop {
        match files::try_lock(&name) {
            Ok(Some(l)) => {
                turn.lock = Some(l);
                return Ok(turn);
            }
            Ok(None) => {}
            Err(e) => {
                crate::debug!("signing in without a lock: {e}");
                return Ok(turn);
            }
        }
        turn.waited = true;
        let notice = turn.notice.as_deref().and_then(Notice::read);
        if let Some(n) = &notice {
            turn.holder = Some(n.pid);
        }
        // The holder writes its notice as soon as it has the lock: wait a moment for it.
        if !said_wait && (notice.is_some() || start.elapsed() >= Duration::from_millis(200)) {
            said_wait = true;
            eprintln!(
                "ssoenv: waiting for the sign-in to {} in progress in {} (at most {} s)",
                t.name(),
                turn.holder
                    .map_or("another ssoenv process".to_string(), |p| format!(
                        "process {p}"
                    )),
                wait.as_secs()
            );
        }
        if said_wait
            && let Some(n) = notice
            && let Some(url) = n.url
            && shown.as_ref().is_none_or(|(p, u)| (*p, u) != (n.pid, &url))
        {
            match &n.code {
                Some(code) => eprintln!(
                    "ssoenv: it waits for confirmation at {} (code {})",
                    visible(&url),
                    visible(code)
                ),
                None => eprintln!(
                    "ssoenv: it waits for the browser (if none opened, open {})",
                    visible(&url)
                ),
            }
            shown = Some((n.pid, url));
        }
        if start.elapsed() >= wait {
            return Err(failed(
                t,
                format!(
                    "gave up after {} s waiting for the sign-in in progress in {}; run the login again",
                    wait.as_secs(),
                    turn.holder
                        .map_or("another ssoenv process".to_string(), |p| format!(
                            "process {p}"
                        ))
                ),
            ));
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// What the process signing in tells those waiting for it, in a small JSON file beside the
/// sign-in lock (0600 in the 0700 lock directory): its pid, then where the sign-in waits for
/// the user (the URL and user code it shows; no secret), and `failed` when it did not succeed,
/// so that those waiting do not each start a sign-in of their own. Removed on success.
struct Notice {
    /// `None` when this process signs in without the lock: it then tells no one.
    path: Option<PathBuf>,
    pid: u64,
    url: Option<String>,
    code: Option<String>,
    failed: bool,
}

impl Notice {
    /// This process's notice, written at once (the lock is taken: the file is ours).
    fn post(turn: &Turn) -> Notice {
        let n = Notice {
            path: turn.lock.as_ref().and(turn.notice.clone()),
            pid: u64::from(std::process::id()),
            url: None,
            code: None,
            failed: false,
        };
        n.write();
        n
    }

    fn read(path: &std::path::Path) -> Option<Notice> {
        let m = files::read_json(path).ok().flatten()?;
        let s = |k: &str| m.get(k).and_then(Value::as_str).map(str::to_string);
        Some(Notice {
            path: None,
            pid: m.get("pid").and_then(Value::as_u64)?,
            url: s("url"),
            code: s("userCode"),
            failed: m.get("failed").and_then(Value::as_bool).unwrap_or(false),
        })
    }

    fn write(&self) {
        let Some(path) = &self.path else { return };
        let mut m = Map::new();
        m.insert("pid".into(), json!(self.pid));
        if let Some(u) = &self.url {
            m.insert("url".into(), json!(u));
        }
        if let Some(c) = &self.code {
            m.insert("userCode".into(), json!(c));
        }
        if self.failed {
            m.insert("failed".into(), json!(true));
        }
        if let Err(e) = files::write_json(path, &m) {
            crate::debug!("cannot tell others about this sign-in: {e}");
        }
    }

    /// Where the sign-in now waits for the user.
    fn show(&self, url: &str, code: Option<&str>) {
        Notice {
            path: self.path.clone(),
            pid: self.pid,
            url: Some(url.to_string()),
            code: code.map(str::to_string),
            failed: false,
        }
        .write();
    }

    fn finish(&self, ok: bool) {
        if ok {
            if let Some(path) = &self.path {
                let _ = std::fs::remove_file(path);
            }
        } else {
            Notice {
                path: self.path.clone(),
                pid: self.pid,
                url: None,
                code: None,
                failed: true,
            }
            .write();
        }
    }
}

/// Signs in by the flow the options and the login ask for; the new token is written under the
/// credential lock, which is returned still held.
fn sign_in(
    client: &Client,
    t: &Login,
    opts: &Options,
    notice: &Notice,
) -> Result<(Token, Option<files::Lock>)> {
    let headless = if opts.browser_flow || opts.device {
        None
    } else {
        browser::headless()
    };
    if let Some(why) = headless
        && t.session.is_some()
    {
        eprintln!(
            "ssoenv: signing in with a device code: {why} (--no-device-code uses the browser)"
        );
    }
    let device = opts.device || t.session.is_none() || headless.is_some();
    let (reg, new) = if device {
        device_flow(client, t, opts, notice)?
    } else {
        pkce_flow(client, t, opts, notice)?
    };
    let credentials = credential_lock(t);
    let token = oidc::save_token(t, &reg, &new)?;
    eprintln!(
        "ssoenv: signed in to {} until {}",
        t.name(),
        clock::format_time(token.expires_at)
    );
    Ok((token, credentials))
}

fn device_flow(
    client: &Client,
    t: &Login,
    opts: &Options,
    notice: &Notice,
) -> Result<(Registration, NewToken)> {
    let endpoint = t.endpoint(Service::Oidc);
    let reg = oidc::registration(client, t, Flow::Device, None)?;
    let auth = oidc::start_device(client, t, &reg)?;
    eprintln!(
        "\nTo sign in to {}, open this URL in a browser:\n\n    {}\n\nand check that it shows the code:  {}\n(or go to {} and enter the code)\n",
        t.start_url, auth.verification_uri_complete, auth.user_code, auth.verification_uri
    );
    notice.show(&auth.verification_uri_complete, Some(&auth.user_code));
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
    let mut line = WaitLine::new(
        &format!(
            "waiting for you to confirm code {} at {}",
            auth.user_code, auth.verification_uri
        ),
        deadline,
    );
    loop {
        if Instant::now() + interval > deadline {
            return Err(failed(
                t,
                "the device code expired before sign-in was confirmed; run the login again",
            ));
        }
        // The poll interval, in steps that keep the time left on the line current.
        let until = Instant::now() + interval;
        while Instant::now() < until {
            line.tick();
            std::thread::sleep(
                until
                    .saturating_duration_since(Instant::now())
                    .min(Duration::from_millis(250)),
            );
        }
        match oidc::create_token(client, &endpoint, &body) {
            Ok(Poll::Done(tok)) => return Ok((reg, tok)),
            Ok(Poll::Pending) => {}
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

/// The live line while the user signs in, on a terminal only (nothing extra when stderr is
/// a file or a pipe): what is awaited and the time left, redrawn in place each second and
/// erased when the wait ends.
struct WaitLine {
    on: bool,
    what: String,
    deadline: Instant,
    shown: Option<u64>,
}

impl WaitLine {
    fn new(what: &str, deadline: Instant) -> WaitLine {
        WaitLine {
            on: std::io::IsTerminal::is_terminal(&std::io::stderr()),
            what: crate::messages::visible(what),
            deadline,
            shown: None,
        }
    }

    fn tick(&mut self) {
        if !self.on {
            return;
        }
        let left = self
            .deadline
            .saturating_duration_since(Instant::now())
            .as_secs();
        if self.shown == Some(left) {
            return;
        }
        self.shown = Some(left);
        eprint!(
            "\r\x1b[K{} ({}m {:02}s left)",
            self.what,
            left / 60,
            left % 60
        );
        let _ = std::io::Write::flush(&mut std::io::stderr());
    }
}

impl Drop for WaitLine {
    fn drop(&mut self) {
        if self.on && self.shown.is_some() {
            eprint!("\r\x1b[K");
        }
    }
}

const VERIFIER_ALPHABET: &[u8] =
    b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~";

fn pkce_flow(
    client: &Client,
    t: &Login,
    opts: &Options,
    notice: &Notice,
) -> Result<(Registration, NewToken)> {
    let endpoint = t.endpoint(Service::Oidc);
    // Bind before anything opens the browser, on 127.0.0.1 only (RFC 8252 §7.3, §8.3).
    let listen = |e: std::io::Error| failed(t, format!("cannot listen on 127.0.0.1: {e}"));
    let listener = TcpListener::bind(("127.0.0.1", opts.port.unwrap_or(0))).map_err(listen)?;
    let port = listener.local_addr().map_err(listen)?.port();
    if opts.port.is_some() && browser::over_ssh() {
        eprintln!(
            "ssoenv: over SSH, forward the port from the machine with the browser: ssh -L {port}:127.0.0.1:{port} …"
        );
    }
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
    if opts.no_browser {
        eprintln!(
            "\nTo sign in to {}, open this URL in a browser on this machine:\n\n    {url}\n",
            t.start_url
        );
    } else {
        eprintln!(
            "\nTo sign in to {}, a browser window opens. If it does not, open this URL:\n\n    {url}\n",
            t.start_url
        );
    }
    notice.show(&url, None);
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

/// How many loopback connections are served at once; more are closed unanswered.
const MAX_CONNECTIONS: usize = 32;
/// How long one connection may take to send its request line and headers (a browser sends
/// them at once). A stalled connection is closed then; it never delays another.
const CONNECTION_DEADLINE: Duration = Duration::from_secs(5);
/// The longest request line accepted (the callback's is a few hundred bytes).
const MAX_REQUEST_LINE: usize = 8 * 1024;
/// The most read of one request, request line and headers; headers are read (so that the
/// answer is not lost to a reset) and discarded, never kept.
const MAX_REQUEST: usize = 16 * 1024;

/// Serves the loopback redirect until the browser's callback arrives or the wait ends, each
/// connection on its own short-lived thread. Requests for other paths (a favicon, a stray
/// probe), garbage, and callbacks with a wrong `state` or without a code (any local process
/// can send one) are answered with an error and the wait goes on; an `error` with the right
/// `state` comes from the authorization server and ends it.
fn wait_for_code(listener: &TcpListener, state: &str, wait: Duration, t: &Login) -> Result<String> {
    let deadline = Instant::now() + wait;
    let mut line = WaitLine::new("waiting for the browser to finish signing in", deadline);
    let broken = |e: std::io::Error| failed(t, format!("loopback listener: {e}"));
    listener.set_nonblocking(true).map_err(broken)?;
    let state: Arc<str> = Arc::from(state);
    let busy = Arc::new(AtomicUsize::new(0));
    let (tx, rx) = mpsc::channel();
    let mut ignored: Option<&'static str> = None;
    loop {
        loop {
            match listener.accept() {
                Ok((stream, _)) => serve_later(stream, &state, &busy, &tx),
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => break,
                Err(e)
                    if matches!(
                        e.kind(),
                        std::io::ErrorKind::Interrupted | std::io::ErrorKind::ConnectionAborted
                    ) => {}
                Err(e) => return Err(broken(e)),
            }
        }
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            let why = ignored.map_or(String::new(), |w| format!(" (ignored {w})"));
            return Err(failed(
                t,
                format!(
                    "no answer from the browser within {} s{why}; run the login again (or use --use-device-code)",
                    wait.as_secs()
                ),
            ));
        }
        line.tick();
        match rx.recv_timeout(left.min(Duration::from_millis(20))) {
            Ok(Callback::Code(c)) => return Ok(c),
            Ok(Callback::Denied(e)) => {
                return Err(failed(t, format!("it was denied in the browser ({e})")));
            }
            Ok(Callback::Ignored(why)) => ignored = Some(why),
            Ok(Callback::Stray) | Err(_) => {}
        }
    }
}

/// Serves one connection on its own thread, or closes it when too many are open.
fn serve_later(
    stream: TcpStream,
    state: &Arc<str>,
    busy: &Arc<AtomicUsize>,
    tx: &mpsc::Sender<Callback>,
) {
    if busy.load(Ordering::SeqCst) >= MAX_CONNECTIONS {
        return;
    }
    busy.fetch_add(1, Ordering::SeqCst);
    let (state, done, tx) = (Arc::clone(state), Arc::clone(busy), tx.clone());
    let spawned = std::thread::Builder::new()
        .name("loopback".into())
        .stack_size(128 * 1024)
        .spawn(move || {
            let outcome = serve(stream, &state);
            done.fetch_sub(1, Ordering::SeqCst);
            let _ = tx.send(outcome);
        });
    if spawned.is_err() {
        busy.fetch_sub(1, Ordering::SeqCst);
    }
}

#[derive(Debug, PartialEq, Eq)]
enum Callback {
    /// Not the callback (another path, garbage, a connection that sent nothing).
    Stray,
    /// The callback, with the right state and a code.
    Code(String),
    /// The authorization server's `error`, with the right state.
    Denied(String),
    /// A request to the callback path that cannot be the browser's: why.
    Ignored(&'static str),
}

const DONE_PAGE: &str = "<!doctype html><meta charset=utf-8><title>ssoenv</title><body style=\"font-family:sans-serif\"><h1>Signed in</h1><p>You can close this window and return to the terminal.</p>";
const FAIL_PAGE: &str = "<!doctype html><meta charset=utf-8><title>ssoenv</title><body style=\"font-family:sans-serif\"><h1>Sign-in failed</h1><p>Return to the terminal for details.</p>";

fn serve(mut stream: TcpStream, state: &str) -> Callback {
    let _ = stream.set_nonblocking(false);
    let _ = stream.set_write_timeout(Some(Duration::from_secs(2)));
    let line = match read_request(&mut stream, Instant::now() + CONNECTION_DEADLINE) {
        Request::Line(l) => l,
        Request::TooLong => {
            respond(
                &stream,
                "414 URI Too Long",
                "text/plain",
                "request line too long",
            );
            return Callback::Stray;
        }
        Request::Nothing => return Callback::Stray,
    };
    let (status, outcome) = callback(&line, state);
    let body = match outcome {
        Callback::Code(_) => DONE_PAGE,
        Callback::Denied(_) => FAIL_PAGE,
        Callback::Ignored(_) => {
            "<!doctype html><title>ssoenv</title><p>This is not the sign-in's callback."
        }
        Callback::Stray => "<!doctype html><title>ssoenv</title><p>Not found.",
    };
    respond(&stream, status, "text/html; charset=utf-8", body);
    outcome
}

/// What one connection sent.
enum Request {
    /// A request line (headers read and discarded).
    Line(String),
    /// A request line longer than [`MAX_REQUEST_LINE`].
    TooLong,
    /// No complete request line before the deadline, the end of the stream or an error.
    Nothing,
}

/// Reads a request line and its headers, at most [`MAX_REQUEST`] bytes in fixed-size chunks,
/// keeping only the request line, until the deadline.
fn read_request(stream: &mut TcpStream, deadline: Instant) -> Request {
    let mut line: Vec<u8> = Vec::new();
    let mut have_line = false;
    // Characters on the current header line, `\r` aside: a line with none ends the headers.
    let mut col = 0usize;
    let mut total = 0usize;
    let mut buf = [0u8; 1024];
    'read: while total < MAX_REQUEST {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() || stream.set_read_timeout(Some(left)).is_err() {
            break;
        }
        let want = buf.len().min(MAX_REQUEST - total);
        let n = match stream.read(&mut buf[..want]) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(_) => break,
        };
        total += n;
        for &b in &buf[..n] {
            if !have_line {
                match b {
                    b'\n' => have_line = true,
                    _ if line.len() >= MAX_REQUEST_LINE => return Request::TooLong,
                    _ => line.push(b),
                }
            } else {
                match b {
                    b'\n' if col == 0 => break 'read,
                    b'\n' => col = 0,
                    b'\r' => {}
                    _ => col += 1,
                }
            }
        }
    }
    if !have_line {
        return Request::Nothing;
    }
    if line.last() == Some(&b'\r') {
        line.pop();
    }
    Request::Line(String::from_utf8_lossy(&line).into_owned())
}

/// The answer to a request line: the status, and what it means for the sign-in.
fn callback(line: &str, state: &str) -> (&'static str, Callback) {
    let mut parts = line.split(' ');
    let (Some(method), Some(target), Some(version), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return ("400 Bad Request", Callback::Stray);
    };
    if !version.starts_with("HTTP/1.") {
        return ("400 Bad Request", Callback::Stray);
    }
    let (path, query) = target.split_once('?').unwrap_or((target, ""));
    if path != "/oauth/callback" {
        return ("404 Not Found", Callback::Stray);
    }
    if method != "GET" {
        return ("405 Method Not Allowed", Callback::Stray);
    }
    let params: Vec<(String, String)> = query
        .split('&')
        .filter_map(|kv| kv.split_once('='))
        .map(|(k, v)| (decode(k), decode(v)))
        .collect();
    let get = |k: &str| params.iter().find(|(n, _)| n == k).map(|(_, v)| v.as_str());
    if !get("state").is_some_and(|s| same(s.as_bytes(), state.as_bytes())) {
        return (
            "400 Bad Request",
            Callback::Ignored("a callback whose state does not match this login"),
        );
    }
    if let Some(err) = get("error") {
        // From the authorization server (the state is right), yet shown on a terminal: keep
        // it to the characters of an OAuth error code.
        let err: String = err
            .chars()
            .filter(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'))
            .take(64)
            .collect();
        return ("400 Bad Request", Callback::Denied(err));
    }
    match get("code").filter(|c| !c.is_empty()) {
        Some(code) => ("200 OK", Callback::Code(code.to_string())),
        None => (
            "400 Bad Request",
            Callback::Ignored("a callback without a code"),
        ),
    }
}

/// Equality in time independent of where the inputs differ (the state is a secret shared
/// with the browser; requests may now probe it many times).
fn same(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

fn respond(mut stream: &TcpStream, status: &str, kind: &str, body: &str) {
    let _ = write!(
        stream,
        "HTTP/1.1 {status}\r\nContent-Type: {kind}\r\nContent-Length: {}\r\nConnection: close\r\nCache-Control: no-store\r\n\r\n{body}",
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
    use super::Callback::{Code, Denied, Ignored, Stray};
    use super::*;

    #[test]
    fn query_components_are_percent_decoded() {
        assert_eq!(super::decode("a%20b+c%2F%zz%"), "a b c/%zz%");
    }

    #[test]
    fn only_a_get_of_the_callback_with_the_state_and_a_code_is_the_callback() {
        let s = "st4te";
        let cb = |line: &str| callback(line, s);
        assert_eq!(
            cb("GET /oauth/callback?code=c%2B1&state=st4te HTTP/1.1"),
            ("200 OK", Code("c+1".into()))
        );
        for line in [
            "GET /oauth/callback?code=c&state=st4tf HTTP/1.1",
            "GET /oauth/callback?code=c&state=st4t HTTP/1.1",
            "GET /oauth/callback?code=c HTTP/1.1",
            "GET /oauth/callback?error=access_denied HTTP/1.1",
        ] {
            assert!(
                matches!(cb(line), ("400 Bad Request", Ignored(w)) if w.contains("state")),
                "{line}"
            );
        }
        assert_eq!(
            cb("GET /oauth/callback?state=st4te&code= HTTP/1.1"),
            ("400 Bad Request", Ignored("a callback without a code"))
        );
        assert_eq!(
            cb("GET /oauth/callback?state=st4te&error=access%5Fdenied%1B%5B2J HTTP/1.1"),
            ("400 Bad Request", Denied("access_denied2J".into()))
        );
        assert_eq!(cb("GET /favicon.ico HTTP/1.1"), ("404 Not Found", Stray));
        assert_eq!(
            cb("POST /oauth/callback?code=c&state=st4te HTTP/1.1"),
            ("405 Method Not Allowed", Stray)
        );
        for garbage in [
            "",
            "\u{0}\u{1}",
            "GET",
            "GET /oauth/callback",
            "GET / HTTP/1.1 x",
            "GET /oauth/callback?code=c&state=st4te SSH-2.0",
        ] {
            assert_eq!(cb(garbage), ("400 Bad Request", Stray), "{garbage:?}");
        }
    }

    /// What `read_request` makes of the bytes a client sends (then closes, or not).
    fn read_what(bytes: &'static [u8], close: bool) -> Request {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = l.local_addr().unwrap();
        let client = std::thread::spawn(move || {
            let mut c = TcpStream::connect(addr).unwrap();
            let _ = c.write_all(bytes);
            if !close {
                std::thread::sleep(Duration::from_millis(600));
            }
        });
        let (mut s, _) = l.accept().unwrap();
        let r = read_request(&mut s, Instant::now() + Duration::from_millis(300));
        client.join().unwrap();
        r
    }

    #[test]
    fn request_reading_is_bounded_in_size_and_time() {
        let line = |r: Request| match r {
            Request::Line(l) => l,
            Request::TooLong => "<too long>".into(),
            Request::Nothing => "<nothing>".into(),
        };
        let request_line = "GET /x HTTP/1.1";
        let cases: [(&[u8], bool, &str); 6] = [
            (b"GET /x HTTP/1.1\r\nHost: a\r\n\r\n", false, request_line),
            (b"GET /x HTTP/1.1\n\n", false, request_line),
            // Stalled in the headers: the request line still counts.
            (b"GET /x HTTP/1.1\r\nHost:", false, request_line),
            (b"GET /oauth/callback?co", false, "<nothing>"),
            (b"GET /oauth/callback?co", true, "<nothing>"),
            (b"", false, "<nothing>"),
        ];
        for (sent, close, want) in cases {
            assert_eq!(line(read_what(sent, close)), want, "{sent:?}");
        }
        assert_eq!(line(read_what(&[b'A'; 20_000], false)), "<too long>");
    }

    #[test]
    fn state_comparison_needs_every_byte() {
        assert!(same(b"abc", b"abc"));
        assert!(!same(b"abc", b"abd"));
        assert!(!same(b"abc", b"ab"));
        assert!(!same(b"", b"a"));
    }
}
