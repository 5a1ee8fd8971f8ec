//! Bad input and server faults: each gives one line naming the culprit, a non-zero exit,
//! empty stdout, and leaves every file as it was.

use std::time::{Duration, Instant};

use crate::support::*;

const LOGIN: i32 = 3;

fn snapshot(s: &Sandbox) -> Vec<(String, Vec<u8>)> {
    fn walk(dir: &std::path::Path, out: &mut Vec<(String, Vec<u8>)>) {
        let Ok(rd) = std::fs::read_dir(dir) else {
            return;
        };
        for e in rd.flatten() {
            let p = e.path();
            if p.is_dir() {
                walk(&p, out);
            } else {
                out.push((p.display().to_string(), std::fs::read(&p).unwrap()));
            }
        }
    }
    let mut v = Vec::new();
    walk(&s.home().join(".aws"), &mut v);
    v.sort();
    v
}

/// Runs `ssoenv dev`, asserts the failure, and that no file under ~/.aws changed.
#[track_caller]
fn fails_untouched(s: &Sandbox, args: &[&str], code: i32, needle: &str) -> Run {
    let before = snapshot(s);
    let out = s.run(args);
    out.fails(code, needle);
    assert_eq!(snapshot(s), before, "files changed");
    out
}

#[test]
fn missing_config_file_is_named() {
    let s = Sandbox::signed_in();
    std::fs::remove_file(s.config_path()).unwrap();
    fails_untouched(&s, &["dev"], 1, ".aws/config does not exist");
}

#[test]
fn unknown_profile_lists_close_names() {
    let s = Sandbox::signed_in();
    fails_untouched(&s, &["deb"], 1, "profile 'deb' not found");
    assert!(s.run(&["deb"]).stderr.contains("did you mean dev"));
}

#[test]
fn profile_without_sso_keys_is_named() {
    let s = Sandbox::signed_in();
    fails_untouched(&s, &["static"], 1, "'static'");
}

#[test]
fn missing_sso_session_section_is_named() {
    let s = Sandbox::signed_in();
    s.write_config("[profile dev]\nsso_session = gone\nsso_account_id = 1\nsso_role_name = r\n");
    fails_untouched(&s, &["dev"], 1, "[sso-session gone]");
}

#[test]
fn session_missing_start_url_or_region_names_the_key() {
    let s = Sandbox::signed_in();
    s.write_config("[profile dev]\nsso_session = corp\nsso_account_id = 1\nsso_role_name = r\n[sso-session corp]\nsso_region = us-east-1\n");
    fails_untouched(&s, &["dev"], 1, "sso_start_url");
    s.write_config(&format!("[profile dev]\nsso_session = corp\nsso_account_id = 1\nsso_role_name = r\n[sso-session corp]\nsso_start_url = {START_URL}\n"));
    fails_untouched(&s, &["dev"], 1, "sso_region");
}

#[test]
fn conflicting_legacy_and_session_keys_are_refused() {
    let s = Sandbox::signed_in();
    s.write_config(&format!("[profile dev]\nsso_session = corp\nsso_start_url = https://other.example/start\nsso_account_id = 1\nsso_role_name = r\n[sso-session corp]\nsso_start_url = {START_URL}\nsso_region = us-east-1\n"));
    fails_untouched(&s, &["dev"], 1, "sso_start_url");
}

#[test]
fn config_syntax_error_names_file_and_line() {
    let s = Sandbox::signed_in();
    s.write_config("[profile dev]\nsso_session = corp\nnot a key value line\n");
    fails_untouched(&s, &["dev"], 1, "config:3:");
}

#[test]
fn missing_token_asks_for_login() {
    let s = Sandbox::new();
    let out = fails_untouched(&s, &["dev"], LOGIN, "ssoenv login dev");
    assert!(out.stderr.contains("sso-session 'corp'"), "{}", out.stderr);
}

#[test]
fn garbage_truncated_or_incomplete_token_files_are_named() {
    let s = Sandbox::new();
    let exp = iso(now() + 3600);
    for (text, needle) in [
        ("not json at all", "invalid JSON"),
        (r#"{"accessToken": "abc", "expiresAt": "#, "invalid JSON"),
        (r#"["a list"]"#, "not a JSON object"),
        (
            &format!(r#"{{"expiresAt": "{exp}"}}"#) as &str,
            "no accessToken",
        ),
        (r#"{"accessToken": "abc"}"#, "no expiresAt"),
        (
            r#"{"accessToken": "abc", "expiresAt": "next tuesday"}"#,
            "is not a time",
        ),
    ] {
        let path = s.write_token_raw("corp", text);
        let out = fails_untouched(&s, &["dev"], LOGIN, needle);
        assert!(
            out.stderr.contains(&path.display().to_string()),
            "{}",
            out.stderr
        );
    }
    assert_eq!(s.mock.requests().len(), 0);
}

#[cfg(unix)]
#[test]
fn unreadable_token_file_is_named() {
    use std::os::unix::fs::PermissionsExt;
    if unsafe_is_root() {
        return; // root reads anything: the case cannot be built here
    }
    let s = Sandbox::signed_in();
    let p = s.token_path("corp");
    std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o000)).unwrap();
    fails_untouched(&s, &["dev"], 1, "cannot read");
}

fn unsafe_is_root() -> bool {
    std::process::Command::new("id")
        .arg("-u")
        .output()
        .map(|o| o.stdout.starts_with(b"0"))
        .unwrap_or(true)
}

#[test]
fn expired_token_without_refresh_asks_for_login() {
    let s = Sandbox::new();
    let t = serde_json::json!({"startUrl": START_URL, "region": "us-east-1", "accessToken": ACCESS_TOKEN, "expiresAt": iso(now() - 60)});
    s.write_token_raw("corp", &t.to_string());
    fails_untouched(&s, &["dev"], LOGIN, "expired");
    assert_eq!(s.mock.requests().len(), 0, "an expired token is not sent");
}

#[test]
fn unauthorized_asks_for_login() {
    let s = Sandbox::signed_in();
    s.mock.fault(
        Route::GetRoleCredentials,
        Fault::Status {
            status: 401,
            error_type: "UnauthorizedException".into(),
            message: "Session token not found or invalid".into(),
        },
    );
    fails_untouched(&s, &["dev"], LOGIN, "ssoenv login dev");
}

#[test]
fn forbidden_names_role_and_account() {
    let s = Sandbox::signed_in();
    s.write_config(&CONFIG.replace(
        "sso_role_name = ReadOnly\nregion",
        "sso_role_name = Nope\nregion",
    ));
    fails_untouched(
        &s,
        &["dev"],
        1,
        "no access to role Nope in account 111111111111",
    );
}

#[test]
fn not_found_shows_the_aws_code_and_message() {
    let s = Sandbox::signed_in();
    s.mock.fault(
        Route::GetRoleCredentials,
        Fault::Status {
            status: 404,
            error_type: "ResourceNotFoundException".into(),
            message: "No such role".into(),
        },
    );
    fails_untouched(
        &s,
        &["dev"],
        1,
        "404 ResourceNotFoundException: No such role",
    );
    assert_eq!(
        s.mock.count(Route::GetRoleCredentials),
        1,
        "no retry on 4xx"
    );
}

#[test]
fn throttling_that_persists_is_retried_then_reported() {
    let s = Sandbox::signed_in();
    s.mock.fault_always(
        Route::GetRoleCredentials,
        Fault::Status {
            status: 429,
            error_type: "TooManyRequestsException".into(),
            message: "slow down".into(),
        },
    );
    fails_untouched(&s, &["dev"], 1, "TooManyRequestsException");
    assert_eq!(
        s.mock.count(Route::GetRoleCredentials),
        3,
        "bounded retries"
    );
}

#[test]
fn a_passing_server_error_is_retried_away() {
    let s = Sandbox::signed_in();
    s.mock.fault(
        Route::GetRoleCredentials,
        Fault::Status {
            status: 500,
            error_type: "InternalServerException".into(),
            message: "oops".into(),
        },
    );
    s.mock.fault(Route::GetRoleCredentials, Fault::Close);
    s.run(&["dev"]).ok();
    assert_eq!(s.mock.count(Route::GetRoleCredentials), 3);
}

#[test]
fn server_error_that_persists_is_reported() {
    let s = Sandbox::signed_in();
    s.mock.fault_always(
        Route::GetRoleCredentials,
        Fault::Status {
            status: 500,
            error_type: "InternalServerException".into(),
            message: "oops".into(),
        },
    );
    fails_untouched(&s, &["dev"], 1, "HTTP 500 InternalServerException");
}

#[test]
fn a_body_that_is_not_json_or_lacks_role_credentials_is_refused() {
    let s = Sandbox::signed_in();
    s.mock.fault(
        Route::GetRoleCredentials,
        Fault::Garbage("<html>proxy says hi</html>".into()),
    );
    fails_untouched(&s, &["dev"], 1, "unexpected response");
    s.mock.fault(
        Route::GetRoleCredentials,
        Fault::Garbage(r#"{"somethingElse": {}}"#.into()),
    );
    fails_untouched(&s, &["dev"], 1, "no roleCredentials");
}

#[test]
fn a_server_that_never_answers_gives_up_in_bounded_time() {
    let mut s = Sandbox::signed_in();
    s.set("SSOENV_TIMEOUT", "1");
    s.mock.fault(Route::GetRoleCredentials, Fault::Hang);
    let t = Instant::now();
    fails_untouched(&s, &["dev"], 1, "no answer in time");
    assert!(
        t.elapsed() < Duration::from_secs(5),
        "took {:?}",
        t.elapsed()
    );
}

#[test]
fn connection_refused_is_reported_with_the_endpoint() {
    let mut s = Sandbox::signed_in();
    // A port nothing listens on: bind, learn the port, close.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let url = format!("http://127.0.0.1:{port}");
    s.set("AWS_ENDPOINT_URL_SSO", &url);
    fails_untouched(&s, &["dev"], 1, &url);
}

#[test]
fn garbage_in_the_role_cache_is_a_miss_and_is_overwritten() {
    let s = Sandbox::signed_in();
    let path = s.role_cache_path("111111111111", "ReadOnly", "corp");
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(&path, "{\"ProviderType\": \"sso\", \"Credentials\": {trunc").unwrap();
    s.run(&["dev"]).ok();
    let v: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    assert_eq!(v["ProviderType"], "sso");
}

#[test]
fn unknown_shell_is_a_usage_error() {
    let s = Sandbox::signed_in();
    let out = s.run(&["dev", "--shell", "tcsh"]);
    assert_eq!(out.code, 2);
    assert_eq!(out.stdout, "");
}
