//! Hardening, tried as an attacker or a clumsy user would: files that never end or never
//! answer, no usable HOME, credentials the portal hands out already expired or with bytes no
//! variable can hold, terminal escapes in untrusted files, settings with typos, a umask of
//! 000, temp files a killed run left behind, and profile names too long for a file name.
//! Every run here is bounded: a regression fails, it does not hang the suite.

use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::support::*;

/// Runs a command with a deadline; a run that outlives it is killed and fails the test.
#[track_caller]
fn bounded(mut c: Command, limit: Duration) -> Run {
    let child = c
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let pid = child.id();
    let start = Instant::now();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(child.wait_with_output());
    });
    match rx.recv_timeout(limit) {
        Ok(out) => out.unwrap().into(),
        Err(_) => {
            let _ = Command::new("kill").args(["-9", &pid.to_string()]).status();
            panic!("still running after {:?}", start.elapsed());
        }
    }
}

const LIMIT: Duration = Duration::from_secs(10);

fn mkfifo(p: &Path) {
    let ok = Command::new("mkfifo").arg(p).status().unwrap().success();
    assert!(ok, "mkfifo {}", p.display());
}

fn symlink(target: &str, link: &Path) {
    std::fs::create_dir_all(link.parent().unwrap()).unwrap();
    let _ = std::fs::remove_file(link);
    std::os::unix::fs::symlink(target, link).unwrap();
}

#[test]
fn endless_files_are_refused_by_kind_before_they_are_read() {
    let s = Sandbox::signed_in();
    // The config.
    let mut c = s.cmd(&["dev"]);
    c.env("AWS_CONFIG_FILE", "/dev/zero");
    bounded(c, LIMIT).fails(1, "/dev/zero: is a pipe, socket or device");
    // The CA bundle.
    let mut c = s.cmd(&["login", "--sso-session", "corp"]);
    c.env("AWS_CA_BUNDLE", "/dev/zero");
    bounded(c, LIMIT).fails(1, "not a regular file");
    // The token cache, through a link to /dev/zero: the token is unusable, sign in again.
    symlink("/dev/zero", &s.token_path("corp"));
    let run = bounded(s.cmd(&["dev"]), LIMIT);
    run.fails(3, "not a regular file");
    // A config file larger than 16 MiB is no config.
    let big = s.dir.path().join("big");
    let f = std::fs::File::create(&big).unwrap();
    f.set_len(17 << 20).unwrap();
    let mut c = s.cmd(&["list"]);
    c.env("AWS_CONFIG_FILE", &big);
    bounded(c, LIMIT).fails(1, "larger than 16384 KiB");
}

#[test]
fn fifos_never_block_a_read() {
    let s = Sandbox::signed_in();
    // The config.
    let fifo = s.dir.path().join("config.fifo");
    mkfifo(&fifo);
    let mut c = s.cmd(&["list"]);
    c.env("AWS_CONFIG_FILE", &fifo);
    bounded(c, LIMIT).fails(1, "is a pipe, socket or device");
    // The token cache.
    let token = s.token_path("corp");
    std::fs::remove_file(&token).unwrap();
    mkfifo(&token);
    bounded(s.cmd(&["dev"]), LIMIT).fails(3, "is a pipe, socket or device");
    std::fs::remove_file(&token).unwrap();
    s.write_session_token(now() + 8 * 3600);
    // The role cache: a FIFO is a miss, fetched anew (the write renames a file over it).
    let role = s.role_cache_path("111111111111", "ReadOnly", "corp");
    std::fs::create_dir_all(role.parent().unwrap()).unwrap();
    mkfifo(&role);
    let run = bounded(s.cmd(&["dev"]), LIMIT);
    assert_eq!(run.code, 0, "{}", run.stderr);
    // The stamp: ignored, rewritten.
    let stamp = s.home().join(".local/state/ssoenv/stamps/admin");
    std::fs::create_dir_all(stamp.parent().unwrap()).unwrap();
    mkfifo(&stamp);
    let run = bounded(s.cmd(&["admin"]), LIMIT);
    assert_eq!(run.code, 0, "{}", run.stderr);
    // `.ssoenv`.
    let proj = s.dir.path().join("proj");
    std::fs::create_dir_all(&proj).unwrap();
    mkfifo(&proj.join(".ssoenv"));
    let run = bounded(s.cmd(&["allow", proj.to_str().unwrap()]), LIMIT);
    run.fails(1, "is a pipe, socket or device");
}

#[test]
fn without_a_usable_home_the_password_database_decides_never_the_working_directory() {
    let s = Sandbox::signed_in();
    // A config planted in the working directory, as `.aws/config` relative to it.
    let cwd = s.dir.path().join("cwd");
    std::fs::create_dir_all(cwd.join(".aws")).unwrap();
    std::fs::write(cwd.join(".aws/config"), CONFIG).unwrap();
    for home in [
        None,
        Some(""),
        Some("relative/home"),
        Some("/nonexistent/dir"),
    ] {
        let mut c = s.cmd(&["export", "dev"]);
        c.current_dir(&cwd).env_remove("HOME");
        if let Some(h) = home {
            c.env("HOME", h);
        }
        let run = bounded(c, LIMIT);
        assert_ne!(run.code, 0, "{home:?}: the planted config must not be used");
        assert_eq!(run.stdout, "", "{home:?}");
        // Whatever it says, it does not speak of the planted file, and writes nothing here.
        assert!(!run.stderr.contains("relative/home"), "{}", run.stderr);
        assert!(
            !run.stderr.contains(&cwd.display().to_string()),
            "{}",
            run.stderr
        );
        assert!(!cwd.join(".local").exists(), "{home:?}: wrote into the cwd");
    }
    // The password database's home is the one used.
    let passwd_home = String::from_utf8(
        Command::new("sh")
            .args(["-c", "getent passwd $(id -u) | cut -d: -f6"])
            .output()
            .unwrap()
            .stdout,
    )
    .unwrap();
    let mut c = s.cmd(&["export", "dev"]);
    c.current_dir(&cwd).env_remove("HOME");
    let run = bounded(c, LIMIT);
    assert!(
        run.stderr
            .contains(&format!("{}/.aws/config", passwd_home.trim())),
        "{}",
        run.stderr
    );
}

#[test]
fn credentials_that_arrive_expired_are_refused_and_not_cached() {
    let s = Sandbox::signed_in();
    s.mock.set_next_credentials(Creds {
        access_key_id: "ASIAEXPIRED".into(),
        secret_access_key: "secret".into(),
        session_token: "token".into(),
        expiration_ms: (now() - 60) * 1000,
    });
    s.run(&["dev"])
        .fails(1, "credentials for profile 'dev' expired already");
    assert!(
        !s.role_cache_path("111111111111", "ReadOnly", "corp")
            .exists(),
        "cached"
    );
}

#[test]
fn a_nul_in_a_credential_or_a_name_is_refused_in_every_format() {
    let s = Sandbox::signed_in();
    s.mock.set_next_credentials(Creds {
        access_key_id: "ASIANUL".into(),
        secret_access_key: "sec\u{0}ret".into(),
        session_token: "token".into(),
        expiration_ms: (now() + 3600) * 1000,
    });
    s.run(&["dev"]).fails(1, "holds a NUL");
    assert!(
        !s.role_cache_path("111111111111", "ReadOnly", "corp")
            .exists()
    );
    // A profile name with a NUL (a valid config byte, reachable through a trusted `.ssoenv`:
    // argv cannot carry one) cannot be exported as AWS_PROFILE.
    s.write_config(&format!(
        "{CONFIG}\n[profile nul\u{0}name]\nsso_session = corp\nsso_account_id = 111111111111\nsso_role_name = ReadOnly\n"
    ));
    let proj = s.dir.path().join("proj");
    std::fs::create_dir_all(&proj).unwrap();
    std::fs::write(proj.join(".ssoenv"), "nul\u{0}name\n").unwrap();
    s.run(&["allow", proj.to_str().unwrap()]);
    let from = |shell: &str| {
        s.run(&[
            "export",
            "--from-dir",
            proj.to_str().unwrap(),
            "--shell",
            shell,
        ])
    };
    for shell in ["sh", "bash", "zsh", "fish", "pwsh", "nu", "cmd"] {
        from(shell).fails(1, "holds a NUL character");
    }
    // An env file for another machine names no profile, so it has nothing to refuse.
    assert!(!from("dotenv").ok().contains('\u{0}'));
    // A role cache file with a NUL is a miss: fetched anew.
    let role = s.role_cache_path("111111111111", "Admin", "corp");
    std::fs::create_dir_all(role.parent().unwrap()).unwrap();
    let text = format!(
        r#"{{"ProviderType":"sso","Credentials":{{"AccessKeyId":"ASIA\u0000X","SecretAccessKey":"s","SessionToken":"t","Expiration":"{}"}}}}"#,
        iso(now() + 3600)
    );
    std::fs::write(&role, text).unwrap();
    let before = s.mock.count(Route::GetRoleCredentials);
    let out = s.run(&["admin"]).ok().to_string();
    assert!(!out.contains('\u{0}'), "{out}");
    assert_eq!(
        s.mock.count(Route::GetRoleCredentials),
        before + 1,
        "fetched anew"
    );
}

#[test]
fn terminal_escapes_in_untrusted_files_and_names_are_shown_escaped() {
    let s = Sandbox::signed_in();
    let proj = s.dir.path().join("proj");
    std::fs::create_dir_all(&proj).unwrap();
    std::fs::write(proj.join(".ssoenv"), "\u{1b}]0;pwned\u{7}\u{1b}[2J\n").unwrap();
    let run = s.run(&["export", "--from-dir", proj.to_str().unwrap()]);
    assert!(!run.stderr.contains('\u{1b}'), "{:?}", run.stderr);
    assert!(run.stderr.contains("\\e]0;pwned\\x07"), "{:?}", run.stderr);
    let run = s.run(&["allow", proj.to_str().unwrap()]);
    assert!(!run.stderr.contains('\u{1b}'), "{:?}", run.stderr);
    // A profile name from the command line, and a server's error text.
    let run = s.run(&["export", "no\u{1b}]52;c;Zm9v\u{7}such"]);
    run.fails(1, "not found");
    assert!(!run.stderr.contains('\u{1b}'), "{:?}", run.stderr);
    s.mock.fault(
        Route::GetRoleCredentials,
        Fault::Status {
            status: 400,
            error_type: "InvalidRequestException".into(),
            message: "bad \u{1b}[31mred\u{1b}[0m".into(),
        },
    );
    let run = s.run(&["dev"]);
    run.fails(1, "InvalidRequestException");
    assert!(!run.stderr.contains('\u{1b}'), "{:?}", run.stderr);
}

#[test]
fn settings_with_typos_are_errors_naming_the_variable_and_range() {
    let s = Sandbox::signed_in();
    for (var, value, range) in [
        (
            "SSOENV_REFRESH_MARGIN",
            "abc",
            "whole seconds from 0 to 86400",
        ),
        (
            "SSOENV_REFRESH_MARGIN",
            "-5",
            "whole seconds from 0 to 86400",
        ),
        (
            "SSOENV_REFRESH_MARGIN",
            "1e99",
            "whole seconds from 0 to 86400",
        ),
        ("SSOENV_TIMEOUT", "0", "seconds above 0 and below 3600"),
        ("SSOENV_TIMEOUT", "-1", "seconds above 0 and below 3600"),
        ("SSOENV_TIMEOUT", "abc", "seconds above 0 and below 3600"),
    ] {
        let mut c = s.cmd(&["dev"]);
        c.env(var, value);
        let run: Run = c.output().unwrap().into();
        run.fails(1, &format!("{var}={value}: not valid; it takes {range}"));
    }
    // Good values still work.
    let mut c = s.cmd(&["dev"]);
    c.env("SSOENV_REFRESH_MARGIN", "900")
        .env("SSOENV_TIMEOUT", "2.5");
    let run: Run = c.output().unwrap().into();
    run.ok();
}

/// Every file and directory ssoenv made under a directory, with its mode.
fn modes(dir: &Path, out: &mut Vec<(String, u32)>) {
    for e in std::fs::read_dir(dir).unwrap().flatten() {
        let p = e.path();
        let meta = std::fs::symlink_metadata(&p).unwrap();
        out.push((p.display().to_string(), meta.permissions().mode() & 0o777));
        if meta.is_dir() {
            modes(&p, out);
        }
    }
}

#[test]
fn under_umask_000_every_file_is_0600_and_every_directory_0700() {
    let s = Sandbox::signed_in();
    let token = s.token_path("corp");
    std::fs::set_permissions(&token, std::fs::Permissions::from_mode(0o600)).unwrap();
    let base = s.cmd(&["dev"]);
    let mut sh = Command::new("sh");
    sh.args(["-c", "umask 000; exec \"$0\" \"$@\"", BIN, "dev"])
        .env_clear();
    for (k, v) in base.get_envs() {
        if let Some(v) = v {
            sh.env(k, v);
        }
    }
    let run = bounded(sh, LIMIT);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let mut all = Vec::new();
    modes(&s.home().join(".local/state/ssoenv"), &mut all);
    modes(&s.home().join(".aws/cli"), &mut all);
    assert!(all.iter().any(|(p, _)| p.ends_with(".lock")), "{all:?}");
    for (p, m) in &all {
        let want = if Path::new(p).is_dir() { 0o700 } else { 0o600 };
        assert_eq!(*m, want, "{p} is {m:o}");
    }
}

#[test]
fn temp_files_of_killed_runs_are_cleaned_on_the_next_write_and_by_logout() {
    let s = Sandbox::signed_in();
    let dir = s.home().join(".aws/cli/cache");
    std::fs::create_dir_all(&dir).unwrap();
    let old = dir.join(".abc.json.4242.17.tmp");
    let fresh = dir.join(".abc.json.4243.18.tmp");
    let theirs = dir.join(".abc.json.tmp");
    for f in [&old, &fresh, &theirs] {
        std::fs::write(f, "{\"SecretAccessKey\": \"left behind\"}").unwrap();
    }
    let two_minutes_ago = std::time::SystemTime::now() - Duration::from_secs(120);
    std::fs::File::options()
        .write(true)
        .open(&old)
        .unwrap()
        .set_modified(two_minutes_ago)
        .unwrap();
    s.run(&["dev"]).ok();
    assert!(!old.exists(), "an old temp file stays");
    assert!(fresh.exists(), "a fresh one may belong to a live run");
    assert!(theirs.exists(), "not ssoenv's pattern");
    let token_tmp = s.home().join(".aws/sso/cache/.x.json.1.2.tmp");
    std::fs::write(&token_tmp, "{\"refreshToken\": \"left behind\"}").unwrap();
    s.run(&["logout"]);
    assert!(
        !fresh.exists() && !token_tmp.exists(),
        "logout leaves temp files"
    );
    assert!(theirs.exists());
}

#[test]
fn a_profile_name_too_long_for_a_file_name_still_gets_a_stamp() {
    let s = Sandbox::signed_in();
    let long = "p".repeat(300);
    s.write_config(&format!(
        "{CONFIG}\n[profile {long}]\nsso_session = corp\nsso_account_id = 111111111111\nsso_role_name = ReadOnly\n"
    ));
    let out = s.run(&[&long]).ok().to_string();
    let stamp = out
        .lines()
        .find_map(|l| l.strip_prefix("export SSOENV_STAMP="))
        .expect("a stamp path")
        .trim_matches('\'')
        .to_string();
    assert!(Path::new(&stamp).is_file(), "{stamp}");
    assert!(Path::new(&stamp).file_name().unwrap().len() < 255);
}
