//! `ssoenv serve`: the local credential endpoint, read by botocore's container credentials
//! provider as the AWS SDKs read it, renewing underneath; and refusing what it must.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use crate::support::*;

/// A running `ssoenv serve`, stopped when dropped.
struct Served {
    child: Child,
    url: String,
    token_file: String,
}

impl Served {
    fn start(s: &Sandbox) -> Served {
        let mut child = s
            .cmd(&["serve", "dev"])
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let mut out = BufReader::new(child.stdout.take().unwrap());
        let (mut url, mut token_file) = (String::new(), String::new());
        for _ in 0..6 {
            let mut line = String::new();
            if out.read_line(&mut line).unwrap() == 0 {
                break;
            }
            let value = |l: &str| {
                l.split_once('=')
                    .unwrap()
                    .1
                    .trim()
                    .trim_matches('\'')
                    .to_string()
            };
            if line.starts_with("export AWS_CONTAINER_CREDENTIALS_FULL_URI=") {
                url = value(&line);
            } else if line.starts_with("export AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE=") {
                token_file = value(&line);
            }
            if !url.is_empty() && !token_file.is_empty() {
                break;
            }
        }
        assert!(
            !url.is_empty() && !token_file.is_empty(),
            "no variables printed"
        );
        Served {
            child,
            url,
            token_file,
        }
    }

    fn addr(&self) -> String {
        self.url
            .trim_start_matches("http://")
            .trim_end_matches('/')
            .to_string()
    }

    fn token(&self) -> String {
        std::fs::read_to_string(&self.token_file).unwrap()
    }

    /// One raw request; the status code of the answer (0 when the connection just closed).
    fn raw(&self, request: &[u8]) -> u16 {
        let mut c = TcpStream::connect(self.addr()).unwrap();
        c.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        let _ = c.write_all(request);
        let mut answer = String::new();
        let _ = c.read_to_string(&mut answer);
        answer
            .split(' ')
            .nth(1)
            .and_then(|s| s.parse().ok())
            .unwrap_or(0)
    }

    fn get(&self, host: &str, auth: Option<&str>) -> u16 {
        let auth = auth.map_or(String::new(), |a| format!("Authorization: {a}\r\n"));
        self.raw(format!("GET / HTTP/1.1\r\nHost: {host}\r\n{auth}\r\n").as_bytes())
    }
}

impl Drop for Served {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// botocore's container credentials provider asked twice: it prints its method and both keys.
pub(crate) const READ_TWICE: &str = "import botocore.session as b\nc = b.Session().get_credentials()\na = c.get_frozen_credentials().access_key\nz = c.get_frozen_credentials().access_key\nprint(c.method, a, z)";

/// What [`READ_TWICE`] printed: through the endpoint, two of the `issued` keys, renewed between.
pub(crate) fn renewed_underneath(out: &std::process::Output, issued: &[String]) {
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8_lossy(&out.stdout).to_string();
    let words: Vec<&str> = text.split_whitespace().collect();
    assert_eq!(words[0], "container-role", "{text}");
    assert!(issued.contains(&words[1].to_string()) && issued.contains(&words[2].to_string()));
    assert_ne!(words[1], words[2], "renewed underneath: {text}");
}

#[test]
fn botocore_reads_the_endpoint_and_gets_renewed_credentials() {
    let s = Sandbox::signed_in();
    // Credentials of 10 minutes: under the 15-minute window, so each read renews.
    s.mock.set_credential_lifetime(Duration::from_secs(600));
    let served = Served::start(&s);
    let mode = std::fs::metadata(&served.token_file).unwrap();
    assert_eq!(
        std::os::unix::fs::PermissionsExt::mode(&mode.permissions()) & 0o777,
        0o600
    );
    let empty = s.dir.path().join("elsewhere");
    std::fs::create_dir_all(&empty).unwrap();
    let out = Command::new(crate::interop::python())
        .args(["-c", READ_TWICE])
        .env_clear()
        .env("HOME", &empty)
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env("AWS_CONTAINER_CREDENTIALS_FULL_URI", &served.url)
        .env("AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE", &served.token_file)
        .output()
        .unwrap();
    let issued: Vec<String> = s
        .mock
        .issued_credentials()
        .into_iter()
        .map(|c| c.access_key_id)
        .collect();
    renewed_underneath(&out, &issued);
    // Stopped, it takes its token file with it.
    let mut served = served;
    Command::new("kill")
        .args(["-TERM", &served.child.id().to_string()])
        .status()
        .unwrap();
    assert!(served.child.wait().unwrap().success());
    assert!(!std::path::Path::new(&served.token_file).exists());
}

#[test]
fn eval_of_a_backgrounded_serve_sets_the_variables_and_returns() {
    let s = Sandbox::signed_in();
    let base = s.cmd(&[]);
    let mut sh = Command::new("sh");
    sh.env_clear();
    for (k, v) in base.get_envs() {
        if let Some(v) = v {
            sh.env(k, v);
        }
    }
    let out = sh
        .args([
            "-c",
            &format!(
                "eval \"$('{BIN}' serve dev & echo SERVE_PID=$!)\"; printf '%s\\n' \"$AWS_CONTAINER_CREDENTIALS_FULL_URI\"; kill -TERM \"$SERVE_PID\""
            ),
        ])
        .output()
        .unwrap();
    let url = String::from_utf8_lossy(&out.stdout);
    assert!(
        url.starts_with("http://127.0.0.1:"),
        "{url:?} {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn the_endpoint_refuses_strangers_and_no_client_can_stall_it() {
    let s = Sandbox::signed_in();
    let served = Served::start(&s);
    let token = served.token();
    let host = served.addr();
    assert_eq!(served.get(&host, Some(&token)), 200);
    assert_eq!(served.get("localhost", Some(&token)), 200);
    assert_eq!(served.get(&host, None), 401);
    assert_eq!(served.get(&host, Some("wrong")), 401);
    assert_eq!(served.get("evil.example", Some(&token)), 403);
    assert_eq!(served.get("127.0.0.1.evil.example", Some(&token)), 403);
    let post = format!("POST / HTTP/1.1\r\nHost: {host}\r\nAuthorization: {token}\r\n\r\n");
    assert_eq!(served.raw(post.as_bytes()), 405);
    // 10 MB without an end: refused, and the endpoint still serves.
    let big = vec![b'a'; 10 << 20];
    assert!(matches!(served.raw(&big), 0 | 400));
    // A client that connects and says nothing does not hold up the next one.
    let _silent = TcpStream::connect(served.addr()).unwrap();
    let _half = {
        let mut c = TcpStream::connect(served.addr()).unwrap();
        c.write_all(b"GET / HT").unwrap();
        c
    };
    let start = std::time::Instant::now();
    assert_eq!(served.get(&host, Some(&token)), 200);
    assert!(
        start.elapsed() < Duration::from_secs(4),
        "{:?}",
        start.elapsed()
    );
    // Nothing of the token in the process's arguments.
    let cmdline = std::fs::read(format!("/proc/{}/cmdline", served.child.id())).unwrap();
    assert!(!String::from_utf8_lossy(&cmdline).contains(&token));
}
