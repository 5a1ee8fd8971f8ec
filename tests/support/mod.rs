//! Test support: a temporary HOME with the AWS CLI's files laid out as the CLI writes them,
//! the real `ssoenv` binary run with a cleared environment, and the mock of the two AWS APIs.

#![allow(dead_code)]

pub mod mock;

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

pub use mock::{Creds, Fault, Mock, Route};
use serde_json::{Value, json};
use sha1::{Digest, Sha1};

pub const BIN: &str = env!("CARGO_BIN_EXE_ssoenv");

pub const START_URL: &str = "https://corp.awsapps.com/start";
pub const ACCESS_TOKEN: &str = "aoaAAAAAGfakeAccessTokenForTests";

/// The config most tests use: a session profile, a legacy one, and the kind of noise real
/// files carry.
pub const CONFIG: &str = "\
# written by hand, edited by the AWS CLI
[default]
region = eu-west-1
s3 =
  max_concurrent_requests = 10

[profile dev]
sso_session = corp
sso_account_id = 111111111111
sso_role_name = ReadOnly
region = eu-west-2

[profile admin]
sso_session = corp
sso_account_id = 111111111111
sso_role_name = Admin

[profile legacy]
sso_start_url = https://corp.awsapps.com/start
sso_region = us-east-1
sso_account_id = 222222222222
sso_role_name = ReadOnly

[profile static]
aws_access_key_id = AKIAEXAMPLE

[sso-session corp]
sso_start_url = https://corp.awsapps.com/start
sso_region = us-east-1
sso_registration_scopes = sso:account:access

[services local]
sso =
  endpoint_url = http://127.0.0.1:9
";

pub fn sha1_hex(s: &str) -> String {
    hex::encode(Sha1::digest(s.as_bytes()))
}

pub fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

/// `%Y-%m-%dT%H:%M:%SZ` for an epoch second (the CLI's cache format).
pub fn iso(epoch: i64) -> String {
    let t = time::OffsetDateTime::from_unix_timestamp(epoch).unwrap();
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}Z",
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute(),
        t.second()
    )
}

pub struct TempDir(PathBuf);

impl TempDir {
    pub fn new() -> TempDir {
        use std::sync::atomic::{AtomicUsize, Ordering};
        static N: AtomicUsize = AtomicUsize::new(0);
        let p = std::env::temp_dir().join(format!(
            "ssoenv-test-{}-{}-{}",
            std::process::id(),
            N.fetch_add(1, Ordering::SeqCst),
            now()
        ));
        std::fs::create_dir_all(&p).unwrap();
        TempDir(p)
    }
    pub fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// What a run of the binary left behind.
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl From<Output> for Run {
    fn from(o: Output) -> Run {
        Run {
            code: o.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&o.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&o.stderr).into_owned(),
        }
    }
}

impl Run {
    /// Asserts a failure: the exit code, empty stdout, one line on stderr containing `needle`.
    #[track_caller]
    pub fn fails(&self, code: i32, needle: &str) {
        assert_eq!(self.code, code, "exit code; stderr: {}", self.stderr);
        assert_eq!(self.stdout, "", "stdout must be empty on failure");
        assert!(
            self.stderr.contains(needle),
            "stderr should mention {needle:?}: {}",
            self.stderr
        );
        assert_eq!(
            self.stderr.trim_end().lines().count(),
            1,
            "one line: {}",
            self.stderr
        );
    }

    /// Like `fails`, for commands that show progress first (login): the error is the last line,
    /// a single `ssoenv:` line.
    #[track_caller]
    pub fn fails_after_progress(&self, code: i32, needle: &str) {
        assert_eq!(self.code, code, "exit code; stderr: {}", self.stderr);
        assert_eq!(self.stdout, "", "stdout must be empty on failure");
        let last = self.stderr.trim_end().lines().last().unwrap_or("");
        assert!(
            last.starts_with("ssoenv: ") && last.contains(needle),
            "last line should name {needle:?}: {}",
            self.stderr
        );
    }

    #[track_caller]
    pub fn ok(&self) -> &str {
        assert_eq!(self.code, 0, "stderr: {}", self.stderr);
        &self.stdout
    }
}

/// A sandbox: temporary HOME and a mock server.
pub struct Sandbox {
    pub dir: TempDir,
    pub mock: Mock,
    pub vars: Vec<(String, String)>,
}

impl Sandbox {
    pub fn new() -> Sandbox {
        let dir = TempDir::new();
        std::fs::create_dir_all(dir.path().join("home/.aws")).unwrap();
        let mock = Mock::start();
        mock.add_access_token(ACCESS_TOKEN);
        mock.add_account(
            "111111111111",
            "dev",
            "dev@example.com",
            &["ReadOnly", "Admin"],
        );
        mock.add_account(
            "222222222222",
            "legacy",
            "legacy@example.com",
            &["ReadOnly"],
        );
        let s = Sandbox {
            dir,
            mock,
            vars: Vec::new(),
        };
        s.write_config(CONFIG);
        s
    }

    /// A sandbox with the standard config and a valid cached token for session `corp`.
    pub fn signed_in() -> Sandbox {
        let s = Sandbox::new();
        s.write_session_token(now() + 8 * 3600);
        s
    }

    pub fn home(&self) -> PathBuf {
        self.dir.path().join("home")
    }

    pub fn config_path(&self) -> PathBuf {
        self.home().join(".aws/config")
    }

    pub fn write_config(&self, text: &str) {
        std::fs::write(self.config_path(), text).unwrap();
    }

    pub fn token_path(&self, key: &str) -> PathBuf {
        self.home()
            .join(".aws/sso/cache")
            .join(format!("{}.json", sha1_hex(key)))
    }

    pub fn write_token_raw(&self, key: &str, text: &str) -> PathBuf {
        let p = self.token_path(key);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(&p, text).unwrap();
        p
    }

    /// A token file for session `corp`, as `aws sso login` writes it.
    pub fn write_session_token(&self, expires: i64) -> PathBuf {
        let v = json!({
            "startUrl": START_URL,
            "region": "us-east-1",
            "accessToken": ACCESS_TOKEN,
            "expiresAt": iso(expires),
            "clientId": "client-corp",
            "clientSecret": "secret-corp",
            "registrationExpiresAt": iso(now() + 80 * 86400),
            "refreshToken": "refresh-corp-1",
        });
        self.write_token_raw("corp", &serde_json::to_string_pretty(&v).unwrap())
    }

    pub fn read_token(&self, key: &str) -> Value {
        serde_json::from_str(&std::fs::read_to_string(self.token_path(key)).unwrap()).unwrap()
    }

    /// The AWS CLI's role-credential cache path, computed the way botocore computes it.
    pub fn role_cache_path(&self, account: &str, role: &str, session: &str) -> PathBuf {
        let key =
            format!(r#"{{"accountId":"{account}","roleName":"{role}","sessionName":"{session}"}}"#);
        self.home()
            .join(".aws/cli/cache")
            .join(format!("{}.json", sha1_hex(&key)))
    }

    pub fn set(&mut self, k: &str, v: &str) -> &mut Sandbox {
        self.vars.push((k.into(), v.into()));
        self
    }

    /// The binary with a cleared environment: HOME, PATH and the standard endpoint variables.
    pub fn cmd(&self, args: &[&str]) -> Command {
        let mut c = Command::new(BIN);
        c.args(args)
            .env_clear()
            .env("HOME", self.home())
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env("AWS_ENDPOINT_URL_SSO", self.mock.url())
            .env("AWS_ENDPOINT_URL_SSO_OIDC", self.mock.url())
            .env("SSOENV_TIMEOUT", "3")
            .stdin(Stdio::null());
        for (k, v) in &self.vars {
            c.env(k, v);
        }
        c
    }

    pub fn run(&self, args: &[&str]) -> Run {
        self.cmd(args).output().unwrap().into()
    }

    /// What `eval "$(ssoenv PROFILE)"` sets in a POSIX shell: the access key id, secret,
    /// session token, account id and region, in that order (empty where unset).
    pub fn exported(&self, profile: &str) -> Vec<String> {
        eval_posix(
            self.run(&[profile]).ok(),
            &[
                "AWS_ACCESS_KEY_ID",
                "AWS_SECRET_ACCESS_KEY",
                "AWS_SESSION_TOKEN",
                "AWS_ACCOUNT_ID",
                "AWS_REGION",
            ],
        )
    }

    /// Runs `n` copies at once; all must succeed with the same stdout, which is returned.
    pub fn run_concurrently(&self, args: &[&str], n: usize) -> String {
        let children: Vec<_> = (0..n)
            .map(|_| {
                self.cmd(args)
                    .stdout(Stdio::piped())
                    .stderr(Stdio::piped())
                    .spawn()
                    .unwrap()
            })
            .collect();
        let outs: Vec<Run> = children
            .into_iter()
            .map(|c| c.wait_with_output().unwrap().into())
            .collect();
        let first = outs[0].ok().to_string();
        for o in &outs {
            assert_eq!(
                o.ok(),
                first,
                "concurrent runs printed different credentials"
            );
        }
        first
    }
}

/// Parses `export K='v'` lines by evaluating them in dash and reading the variables back.
pub fn eval_posix(script: &str, names: &[&str]) -> Vec<String> {
    let mut prog = String::from(script);
    for n in names {
        prog.push_str(&format!("\nprintf '%s\\0' \"${n}\""));
    }
    let out = tool("dash").arg("-c").arg(&prog).output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let s = String::from_utf8(out.stdout).unwrap();
    s.split('\0')
        .take(names.len())
        .map(str::to_string)
        .collect()
}

/// A tool the tests drive, found on PATH (or by its path): its full path. A missing tool fails
/// the test, naming the tool and `tests/run`, which installs it: no test skips for want of one.
#[track_caller]
pub fn require(tool: &str) -> PathBuf {
    let found = if tool.contains('/') {
        Some(PathBuf::from(tool)).filter(|p| p.is_file())
    } else {
        let path = std::env::var_os("PATH").unwrap_or_default();
        std::env::split_paths(&path)
            .map(|d| d.join(tool))
            .find(|p| p.is_file())
    };
    found.unwrap_or_else(|| {
        panic!("`{tool}` is not installed: run the tests with tests/run, which installs it")
    })
}

/// `Command::new(tool)` for a tool that must be installed (see `require`).
#[track_caller]
pub fn tool(name: &str) -> Command {
    require(name);
    Command::new(name)
}

/// What the real PowerShell grammar made of one text (`tests/support/pwsh.py`).
pub struct Pwsh {
    pub name: String,
    /// `LINE:COL ERROR|MISSING|STRING ...`: must be empty.
    pub errors: Vec<String>,
    /// Every verbatim string, decoded by PowerShell's rules.
    pub strings: Vec<String>,
    /// Each `$Env:NAME = '...'` statement: name and decoded value.
    pub env: Vec<(String, String)>,
}

/// Parses named PowerShell texts with tree-sitter-powershell, in one python process.
pub fn parse_pwsh(docs: &[(&str, &str)]) -> Vec<Pwsh> {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/support/pwsh.py");
    let input = json!({
        "docs": docs.iter().map(|(n, t)| json!({"name": n, "text": t})).collect::<Vec<_>>()
    });
    let mut child = tool("python3")
        .arg(&script)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let text = input.to_string();
    let writer = std::thread::spawn(move || {
        use std::io::Write;
        stdin.write_all(text.as_bytes())
    });
    let out = child.wait_with_output().unwrap();
    writer.join().unwrap().unwrap();
    assert!(
        out.status.success(),
        "{} needs python3 with tree-sitter and tree-sitter-powershell (tests/run installs them): {}",
        script.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    let strs = |v: &Value| -> Vec<String> {
        v.as_array()
            .unwrap()
            .iter()
            .map(|s| s.as_str().unwrap().to_string())
            .collect()
    };
    v["docs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| Pwsh {
            name: d["name"].as_str().unwrap().to_string(),
            errors: strs(&d["errors"]),
            strings: strs(&d["strings"]),
            env: d["env"]
                .as_array()
                .unwrap()
                .iter()
                .map(|p| {
                    let p = strs(p);
                    (p[0].clone(), p[1].clone())
                })
                .collect(),
        })
        .collect()
}

/// Asserts that each text parses as PowerShell without an ERROR or MISSING node and with
/// every verbatim string well-formed; returns what was parsed.
#[track_caller]
pub fn clean_pwsh(docs: &[(&str, &str)]) -> Vec<Pwsh> {
    let parsed = parse_pwsh(docs);
    for p in &parsed {
        assert!(p.errors.is_empty(), "{}: {:#?}", p.name, p.errors);
    }
    parsed
}

/// One plain-HTTP GET (to the mock): the status and the body.
pub fn http_get(url: &str, headers: &[(&str, &str)]) -> (u16, String) {
    use std::io::{Read, Write};
    let rest = url.strip_prefix("http://").expect("a plain http URL");
    let (host, target) = match rest.find('/') {
        Some(i) => (&rest[..i], &rest[i..]),
        None => (rest, "/"),
    };
    let mut c = std::net::TcpStream::connect(host).unwrap();
    c.set_read_timeout(Some(std::time::Duration::from_secs(10)))
        .unwrap();
    let mut req = format!("GET {target} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n");
    for (k, v) in headers {
        req.push_str(&format!("{k}: {v}\r\n"));
    }
    req.push_str("\r\n");
    c.write_all(req.as_bytes()).unwrap();
    let mut answer = String::new();
    let _ = c.read_to_string(&mut answer);
    let status = answer
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let (head, body) = answer.split_once("\r\n\r\n").unwrap_or((&answer, ""));
    let location = head
        .lines()
        .find_map(|l| l.strip_prefix("Location: "))
        .unwrap_or("");
    let body = if body.is_empty() { location } else { body };
    (status, body.to_string())
}
