//! One sign-in per login at a time, and the PKCE loopback listener under hostile local
//! clients. The test plays the browser: `--no-browser`, the authorize URL read from stderr,
//! then curl follows it through the mock's redirect to ssoenv's listener. Every wait is
//! bounded, so a regression fails instead of hanging the suite.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::os::unix::fs::PermissionsExt;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex, mpsc};
use std::time::{Duration, Instant};

use crate::support::mock::DeviceApproval;
use crate::support::*;

/// Waits for a child at most `limit` (then kills it and fails), collecting its output.
#[track_caller]
fn finish(mut child: Child, limit: Duration) -> Run {
    let mut out = child.stdout.take();
    let mut err = child.stderr.take();
    let out = std::thread::spawn(move || {
        let mut text = String::new();
        if let Some(s) = out.as_mut() {
            let _ = s.read_to_string(&mut text);
        }
        text
    });
    let err = std::thread::spawn(move || {
        let mut text = String::new();
        if let Some(s) = err.as_mut() {
            let _ = s.read_to_string(&mut text);
        }
        text
    });
    let t = Instant::now();
    let status = loop {
        if let Some(st) = child.try_wait().unwrap() {
            break st;
        }
        if t.elapsed() > limit {
            let _ = child.kill();
            let _ = child.wait();
            panic!("ssoenv did not finish within {limit:?}");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    Run {
        code: status.code().unwrap_or(-1),
        stdout: out.join().unwrap(),
        stderr: err.join().unwrap(),
    }
}

/// Starts `n` copies at once and waits for all of them, at most `limit` in all.
fn run_many(s: &Sandbox, args: &[&str], n: usize, limit: Duration) -> Vec<(u32, Run)> {
    let children: Vec<Child> = (0..n)
        .map(|_| {
            s.cmd(args)
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    let t = Instant::now();
    children
        .into_iter()
        .map(|c| (c.id(), finish(c, limit.saturating_sub(t.elapsed()))))
        .collect()
}

#[test]
fn twenty_concurrent_device_code_logins_sign_in_once_and_fetch_once() {
    let s = Sandbox::new();
    let runs = run_many(
        &s,
        &[
            "login",
            "dev",
            "--use-device-code",
            "--no-browser",
            "--timeout",
            "60",
        ],
        20,
        Duration::from_secs(60),
    );
    for (_, r) in &runs {
        assert_eq!(r.code, 0, "{}", r.stderr);
    }
    assert_eq!(s.mock.count(Route::RegisterClient), 1);
    assert_eq!(s.mock.count(Route::StartDeviceAuthorization), 1);
    assert_eq!(
        s.mock.issued_access_tokens().len(),
        1,
        "one successful CreateToken"
    );
    assert_eq!(s.mock.count(Route::GetRoleCredentials), 1);

    let signers: Vec<_> = runs
        .iter()
        .filter(|(_, r)| r.stderr.contains("To sign in to"))
        .collect();
    assert_eq!(signers.len(), 1, "one process shows the prompt");
    let signer = signers[0].0;
    for (pid, r) in &runs {
        if *pid == signer {
            continue;
        }
        // Each waiter says what it waits for, shows where to confirm, then takes the token
        // and the credentials the first one fetched.
        assert!(
            r.stderr.contains(&format!(
                "ssoenv: waiting for the sign-in to sso-session 'corp' in progress in process {signer}"
            )),
            "{}",
            r.stderr
        );
        assert!(
            r.stderr.contains("it waits for confirmation at http")
                && r.stderr.contains("user_code="),
            "{}",
            r.stderr
        );
        assert!(r.stderr.contains("credentials for profile 'dev' are ready"));
    }
    // No secret reached any terminal.
    let t = s.read_token("corp");
    for (_, r) in &runs {
        for secret in ["accessToken", "refreshToken", "clientSecret"] {
            assert!(!r.stderr.contains(t[secret].as_str().unwrap()), "{secret}");
        }
    }
    // The notice is gone after a successful sign-in.
    let locks = s.home().join(".local/state/ssoenv/locks");
    let notices: Vec<_> = std::fs::read_dir(&locks)
        .unwrap()
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().ends_with(".json"))
        .collect();
    assert!(notices.is_empty());
}

#[test]
fn twenty_concurrent_exports_without_a_token_all_ask_for_login_quickly() {
    let s = Sandbox::new();
    let t = Instant::now();
    let runs = run_many(&s, &["dev"], 20, Duration::from_secs(20));
    for (_, r) in &runs {
        r.fails(3, "ssoenv login dev");
    }
    assert!(t.elapsed() < Duration::from_secs(10), "{:?}", t.elapsed());
    assert_eq!(s.mock.requests().len(), 0, "an export never signs in");
}

#[test]
fn waiters_for_a_denied_sign_in_fail_instead_of_starting_their_own() {
    let s = Sandbox::new();
    s.mock.set_device_approval(DeviceApproval::Deny);
    let runs = run_many(
        &s,
        &[
            "login",
            "dev",
            "--use-device-code",
            "--no-browser",
            "--timeout",
            "30",
        ],
        5,
        Duration::from_secs(40),
    );
    assert_eq!(s.mock.count(Route::StartDeviceAuthorization), 1);
    let mut waited = 0;
    for (_, r) in &runs {
        if r.stderr.contains("waiting for the sign-in") {
            waited += 1;
            r.fails_after_progress(1, "did not succeed; run the login again");
        } else {
            r.fails_after_progress(1, "denied");
        }
    }
    assert_eq!(waited, 4);
    // The next login, not a waiter, signs in.
    s.mock.set_device_approval(DeviceApproval::AfterPolls(0));
    s.run(&["login", "dev", "--use-device-code", "--no-browser"])
        .ok();
}

/// A login in progress that the test drives: its stderr so far, its authorize URL and the
/// listener's port.
struct Pending {
    child: Child,
    stderr: Arc<Mutex<String>>,
    url: String,
    port: u16,
}

/// Starts `ssoenv login dev --no-browser` and reads the authorize URL from its stderr.
fn start_login(s: &Sandbox, timeout: &str) -> Pending {
    let mut child = s
        .cmd(&[
            "login",
            "dev",
            "--no-browser",
            "--no-device-code",
            "--timeout",
            timeout,
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stderr = Arc::new(Mutex::new(String::new()));
    let (tx, rx) = mpsc::channel();
    let lines = BufReader::new(child.stderr.take().unwrap());
    let all = Arc::clone(&stderr);
    std::thread::spawn(move || {
        for line in lines.lines().map_while(Result::ok) {
            all.lock().unwrap().push_str(&format!("{line}\n"));
            if line.trim_start().starts_with("http") && line.contains("/authorize?") {
                let _ = tx.send(line.trim().to_string());
            }
        }
    });
    let Ok(url) = rx.recv_timeout(Duration::from_secs(20)) else {
        let _ = child.kill();
        panic!("no authorize URL: {}", stderr.lock().unwrap());
    };
    let port = url
        .split("redirect_uri=http%3A%2F%2F127.0.0.1%3A")
        .nth(1)
        .and_then(|r| r.split('%').next())
        .and_then(|p| p.parse().ok())
        .unwrap_or_else(|| panic!("no port in {url}"));
    Pending {
        child,
        stderr,
        url,
        port,
    }
}

impl Pending {
    /// The browser: the authorize URL, its redirect to the listener; the final HTTP status.
    fn browse(&self) -> String {
        let out = Command::new(require("curl"))
            .args(["-s", "-L", "-o", "/dev/null", "-w", "%{http_code}"])
            .args(["--max-time", "10", &self.url])
            .output()
            .unwrap();
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// Waits for the login to end (bounded); its exit code and stderr.
    fn end(mut self, limit: Duration) -> (i32, String) {
        let t = Instant::now();
        let status = loop {
            if let Some(st) = self.child.try_wait().unwrap() {
                break st;
            }
            if t.elapsed() > limit {
                let _ = self.child.kill();
                let _ = self.child.wait();
                panic!(
                    "login did not end within {limit:?}: {}",
                    self.stderr.lock().unwrap()
                );
            }
            std::thread::sleep(Duration::from_millis(20));
        };
        // The reader thread drains the rest of stderr.
        std::thread::sleep(Duration::from_millis(100));
        let text = self.stderr.lock().unwrap().clone();
        (status.code().unwrap_or(-1), text)
    }

    fn rss_kib(&self) -> u64 {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id()))
            .unwrap_or_default();
        status
            .lines()
            .find_map(|l| l.strip_prefix("VmRSS:"))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
            .unwrap_or(0)
    }
}

/// One raw HTTP request to the listener: the status line's code ("" when none came back).
fn raw_get(port: u16, target: &str) -> String {
    let mut c = TcpStream::connect(("127.0.0.1", port)).unwrap();
    c.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    write!(c, "GET {target} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n\r\n").unwrap();
    let mut answer = String::new();
    let _ = c.read_to_string(&mut answer);
    answer
        .strip_prefix("HTTP/1.1 ")
        .map(|r| r[..3].to_string())
        .unwrap_or_default()
}

#[test]
fn requests_that_are_not_the_callback_get_errors_and_the_sign_in_goes_on() {
    let s = Sandbox::new();
    let login = start_login(&s, "30");
    let port = login.port;
    // Any local process can reach the listener: none of these ends the sign-in.
    assert_eq!(
        raw_get(port, "/oauth/callback?code=stolen&state=not-the-state"),
        "400"
    );
    assert_eq!(raw_get(port, "/oauth/callback?code=stolen"), "400");
    assert_eq!(raw_get(port, "/favicon.ico"), "404");
    let mut c = TcpStream::connect(("127.0.0.1", port)).unwrap();
    c.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    c.write_all(b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03garbage\r\n\r\n")
        .unwrap();
    let mut answer = Vec::new();
    let _ = c.read_to_end(&mut answer);
    assert!(answer.starts_with(b"HTTP/1.1 400"), "{answer:?}");

    assert_eq!(login.browse(), "200");
    let (code, stderr) = login.end(Duration::from_secs(15));
    assert_eq!(code, 0, "{stderr}");
    assert!(
        stderr.contains("signed in to sso-session 'corp'"),
        "{stderr}"
    );
    assert_eq!(s.mock.issued_access_tokens().len(), 1);
    assert_eq!(
        s.mock.count(Route::CreateToken),
        1,
        "the stolen code was never sent"
    );
}

#[test]
fn a_64_mib_request_line_does_not_grow_memory_and_the_sign_in_completes() {
    let s = Sandbox::new();
    let login = start_login(&s, "60");
    let before = login.rss_kib();
    assert!(before > 0, "VmRSS of the login process");
    let port = login.port;
    let writer = std::thread::spawn(move || {
        let mut c = TcpStream::connect(("127.0.0.1", port)).unwrap();
        c.set_write_timeout(Some(Duration::from_secs(20))).unwrap();
        let mut chunk = b"GET /oauth/callback?".to_vec();
        chunk.resize(64 * 1024, b'A');
        let mut sent = 0usize;
        while sent < 64 * 1024 * 1024 {
            match c.write(&chunk) {
                Ok(n) => sent += n,
                Err(_) => break,
            }
            chunk[..20].fill(b'A');
        }
        sent
    });
    let mut peak = before;
    let t = Instant::now();
    while !writer.is_finished() && t.elapsed() < Duration::from_secs(30) {
        peak = peak.max(login.rss_kib());
        std::thread::sleep(Duration::from_millis(5));
    }
    for _ in 0..20 {
        peak = peak.max(login.rss_kib());
        std::thread::sleep(Duration::from_millis(10));
    }
    assert!(writer.is_finished(), "the writer is stuck");
    let sent = writer.join().unwrap();
    eprintln!("VmRSS {before} KiB before, {peak} KiB at most, after {sent} bytes sent");
    assert!(
        peak < 32 * 1024,
        "VmRSS grew from {before} KiB to {peak} KiB after {sent} bytes"
    );
    assert_eq!(login.browse(), "200");
    let (code, stderr) = login.end(Duration::from_secs(15));
    assert_eq!(code, 0, "{stderr}");
}

#[test]
fn silent_and_half_sent_connections_do_not_delay_the_real_callback() {
    let s = Sandbox::new();
    let login = start_login(&s, "60");
    let port = login.port;
    // Held open for the whole test: one says nothing, one stops half-way through a line.
    let _silent = TcpStream::connect(("127.0.0.1", port)).unwrap();
    let mut half = TcpStream::connect(("127.0.0.1", port)).unwrap();
    half.write_all(b"GET /oauth/callback?code=").unwrap();
    std::thread::sleep(Duration::from_millis(200));
    let t = Instant::now();
    assert_eq!(login.browse(), "200");
    let (code, stderr) = login.end(Duration::from_secs(15));
    assert_eq!(code, 0, "{stderr}");
    assert!(
        t.elapsed() < Duration::from_secs(3),
        "the callback waited {:?} behind stalled connections",
        t.elapsed()
    );
}

#[test]
fn a_waiting_login_gives_up_after_its_own_timeout_and_a_killed_sign_in_is_taken_over() {
    let mut s = Sandbox::new();
    s.set("BROWSER", "true");
    let mut holder = s
        .cmd(&["login", "dev", "--timeout", "60"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let locks = s.home().join(".local/state/ssoenv/locks");
    let notice = || {
        std::fs::read_dir(&locks).ok().and_then(|rd| {
            rd.flatten()
                .map(|e| e.path())
                .find(|p| p.extension().is_some_and(|x| x == "json"))
        })
    };
    // The holder shows the authorize URL once its listener is up.
    let t = Instant::now();
    while !notice()
        .and_then(|p| std::fs::read_to_string(p).ok())
        .is_some_and(|n| n.contains("authorize"))
    {
        assert!(t.elapsed() < Duration::from_secs(20), "no notice");
        std::thread::sleep(Duration::from_millis(20));
    }
    let path = notice().unwrap();
    let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600);
    let dir_mode = std::fs::metadata(&locks).unwrap().permissions().mode() & 0o777;
    assert_eq!(dir_mode, 0o700);
    let text = std::fs::read_to_string(&path).unwrap();
    assert!(
        !text.contains("secret") && !text.contains("verifier"),
        "{text}"
    );

    let t = Instant::now();
    let waiter = s
        .cmd(&["login", "dev", "--timeout", "2"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let r = finish(waiter, Duration::from_secs(15));
    let took = t.elapsed();
    r.fails_after_progress(
        1,
        &format!(
            "gave up after 2 s waiting for the sign-in in progress in process {}",
            holder.id()
        ),
    );
    assert!(
        took >= Duration::from_secs(2) && took < Duration::from_secs(6),
        "{took:?}"
    );
    assert!(
        r.stderr
            .contains("waiting for the sign-in to sso-session 'corp' in progress")
            && r.stderr
                .contains("it waits for the browser (if none opened, open http"),
        "{}",
        r.stderr
    );

    // Ctrl-C on the first sign-in: the next login is not a waiter for a failure, it signs in.
    Command::new("kill")
        .args(["-INT", &holder.id().to_string()])
        .status()
        .unwrap();
    let _ = holder.wait();
    let r = finish(
        s.cmd(&[
            "login",
            "dev",
            "--use-device-code",
            "--no-browser",
            "--timeout",
            "20",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap(),
        Duration::from_secs(30),
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
}
