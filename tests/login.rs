//! Sign-in, refresh, logout and status against the mock, sharing files the way the AWS CLI
//! and botocore do. A `BROWSER` script plays the browser: it fetches the authorize URL and
//! follows the redirect to ssoenv's loopback listener.

use std::os::unix::fs::PermissionsExt;
use std::path::PathBuf;
use std::process::Stdio;
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::support::mock::{AuthorizeMode, DeviceApproval};
use crate::support::*;

/// A browser stand-in: optional stray request first, then the authorize URL with redirects.
fn browser(s: &Sandbox, stray_first: bool) -> PathBuf {
    let p = s.dir.path().join("browser.sh");
    let stray = if stray_first {
        // The callback host and port, from the redirect_uri in the URL.
        "port=$(printf '%s' \"$1\" | sed -n 's/.*redirect_uri=http%3A%2F%2F127.0.0.1%3A\\([0-9]*\\).*/\\1/p')\ncurl -s -o /dev/null \"http://127.0.0.1:$port/favicon.ico\"\n"
    } else {
        ""
    };
    std::fs::write(
        &p,
        format!("#!/bin/sh\nprintf '%s\\n' \"$1\" >> '{}/browser.log'\n{stray}curl -s -L -o /dev/null \"$1\"\n", s.dir.path().display()),
    )
    .unwrap();
    std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o755)).unwrap();
    p
}

fn with_browser(s: &mut Sandbox, stray: bool) {
    let b = browser(s, stray);
    s.set("BROWSER", b.to_str().unwrap());
}

fn token_keys(v: &Value) -> Vec<String> {
    let mut k: Vec<String> = v.as_object().unwrap().keys().cloned().collect();
    k.sort();
    k
}

#[test]
fn pkce_login_writes_the_token_file_the_cli_writes_and_fetches_the_profile() {
    let mut s = Sandbox::new();
    with_browser(&mut s, true);
    let out = s.run(&["login", "dev"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_eq!(out.stdout, "");

    let t = s.read_token("corp");
    assert_eq!(
        token_keys(&t),
        [
            "accessToken",
            "clientId",
            "clientSecret",
            "expiresAt",
            "refreshToken",
            "region",
            "registrationExpiresAt",
            "startUrl"
        ]
    );
    assert_eq!(t["startUrl"], START_URL);
    assert_eq!(t["region"], "us-east-1");
    assert_eq!(t["accessToken"], s.mock.issued_access_tokens()[0].as_str());
    let exp = t["expiresAt"].as_str().unwrap();
    assert!(exp.len() == 20 && exp.ends_with('Z'), "{exp}");
    let mode = std::fs::metadata(s.token_path("corp"))
        .unwrap()
        .permissions()
        .mode()
        & 0o777;
    assert_eq!(mode, 0o600);

    let reqs = s.mock.requests();
    let reg = reqs
        .iter()
        .find(|r| r.route == Route::RegisterClient)
        .unwrap()
        .json();
    assert_eq!(reg["clientType"], "public");
    assert_eq!(
        reg["grantTypes"],
        serde_json::json!(["authorization_code", "refresh_token"])
    );
    assert_eq!(
        reg["redirectUris"],
        serde_json::json!(["http://127.0.0.1/oauth/callback"])
    );
    assert_eq!(reg["issuerUrl"], START_URL);
    assert_eq!(reg["scopes"], serde_json::json!(["sso:account:access"]));
    let auth = reqs.iter().find(|r| r.route == Route::Authorize).unwrap();
    assert_eq!(auth.param("code_challenge_method"), Some("S256"));
    assert!(
        auth.param("redirect_uri")
            .unwrap()
            .starts_with("http://127.0.0.1:")
    );
    assert_eq!(auth.param("state").unwrap().len(), 32);
    let tok = reqs
        .iter()
        .find(|r| r.route == Route::CreateToken)
        .unwrap()
        .json();
    assert_eq!(tok["grantType"], "authorization_code");
    assert_eq!(tok["codeVerifier"].as_str().unwrap().len(), 64);
    assert_eq!(tok["redirectUri"], auth.param("redirect_uri").unwrap());

    // The profile's credentials were fetched: the next export needs no request.
    assert_eq!(s.mock.count(Route::GetRoleCredentials), 1);
    s.mock.clear_requests();
    s.run(&["dev"]).ok();
    assert_eq!(s.mock.requests().len(), 0);
    // No secret reached the terminal.
    assert!(!out.stderr.contains(t["accessToken"].as_str().unwrap()));
    assert!(!out.stderr.contains(t["clientSecret"].as_str().unwrap()));
}

#[test]
fn device_code_login_without_browser_shows_the_code_and_polls() {
    let s = Sandbox::new();
    let out = s.run(&[
        "login",
        "--sso-session",
        "corp",
        "--use-device-code",
        "--no-browser",
    ]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let reqs = s.mock.requests();
    assert!(reqs.iter().all(|r| r.route != Route::Authorize));
    let reg = reqs
        .iter()
        .find(|r| r.route == Route::RegisterClient)
        .unwrap()
        .json();
    assert_eq!(
        reg["grantTypes"],
        serde_json::json!([
            "urn:ietf:params:oauth:grant-type:device_code",
            "refresh_token"
        ])
    );
    let polls = reqs
        .iter()
        .filter(|r| r.route == Route::CreateToken)
        .count();
    assert!(polls >= 2, "pending at least once: {polls}");
    assert!(out.stderr.contains("user_code="), "{}", out.stderr);
    let t = s.read_token("corp");
    assert!(t["refreshToken"].is_string());
    assert_eq!(
        s.mock.count(Route::GetRoleCredentials),
        0,
        "no profile named"
    );
}

#[test]
fn legacy_profiles_always_use_the_device_code_and_cache_by_start_url() {
    let s = Sandbox::new();
    let out = s.run(&["login", "legacy", "--no-browser"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let t = s.read_token(START_URL);
    assert_eq!(
        token_keys(&t),
        ["accessToken", "expiresAt", "region", "startUrl"]
    );
    let reg = s
        .mock
        .requests()
        .into_iter()
        .find(|r| r.route == Route::RegisterClient)
        .unwrap()
        .json();
    assert!(reg.get("grantTypes").is_none());
}

#[test]
fn a_fresh_token_skips_the_flow_unless_forced_and_registrations_are_reused_per_flow() {
    let mut s = Sandbox::new();
    with_browser(&mut s, false);
    s.run(&["login", "--sso-session", "corp"]).ok();
    assert_eq!(s.mock.count(Route::RegisterClient), 1);
    let out = s.run(&["login", "--sso-session", "corp"]);
    assert!(out.stderr.contains("already signed in"), "{}", out.stderr);
    assert_eq!(s.mock.count(Route::CreateToken), 1);
    s.run(&["login", "--sso-session", "corp", "--force"]).ok();
    assert_eq!(
        s.mock.count(Route::RegisterClient),
        1,
        "registration reused"
    );
    assert_eq!(s.mock.count(Route::CreateToken), 2);
    // The device flow does not reuse the PKCE registration.
    s.run(&[
        "login",
        "--sso-session",
        "corp",
        "--force",
        "--use-device-code",
        "--no-browser",
    ])
    .ok();
    assert_eq!(s.mock.count(Route::RegisterClient), 2);
}

#[test]
fn login_keeps_unknown_keys_of_an_existing_token_file() {
    let mut s = Sandbox::new();
    with_browser(&mut s, false);
    s.write_token_raw("corp", &format!(r#"{{"startUrl":"{START_URL}","region":"us-east-1","accessToken":"old","expiresAt":"2020-01-01T00:00:00Z","someFutureKey":"kept"}}"#));
    s.run(&["login", "--sso-session", "corp"]).ok();
    let t = s.read_token("corp");
    assert_eq!(t["someFutureKey"], "kept");
    assert_ne!(t["accessToken"], "old");
}

#[test]
fn a_denial_ends_the_sign_in_and_a_wrong_state_or_missing_code_is_ignored_until_the_timeout() {
    // The denial comes with the right state: only the authorization server knows it. Any local
    // process can send the other two, so they are refused and the wait goes on.
    for (mode, needle) in [
        (AuthorizeMode::Deny, "denied"),
        (AuthorizeMode::WrongState, "state does not match"),
        (AuthorizeMode::NoCode, "without a code"),
    ] {
        let mut s = Sandbox::new();
        with_browser(&mut s, false);
        s.mock.set_authorize(mode);
        s.run(&["login", "dev", "--timeout", "2"])
            .fails_after_progress(1, needle);
        assert!(!s.token_path("corp").exists());
        assert_eq!(s.mock.count(Route::CreateToken), 0);
    }
}

#[test]
fn device_code_denied_or_expired_fails_clearly() {
    for (approval, needle) in [
        (DeviceApproval::Deny, "denied"),
        (DeviceApproval::Expire, "expired"),
    ] {
        let s = Sandbox::new();
        s.mock.set_device_approval(approval);
        s.run(&["login", "legacy", "--no-browser"])
            .fails_after_progress(1, needle);
        assert!(!s.token_path(START_URL).exists());
    }
}

#[test]
fn slow_down_adds_five_seconds_to_the_interval() {
    let s = Sandbox::new();
    s.mock.set_device_approval(DeviceApproval::SlowDownOnce);
    let t = Instant::now();
    let out = s.run(&["login", "legacy", "--no-browser"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(t.elapsed() >= Duration::from_secs(6), "{:?}", t.elapsed());
}

#[test]
fn a_browser_that_never_comes_back_times_out() {
    let mut s = Sandbox::new();
    s.set("BROWSER", "true");
    let t = Instant::now();
    s.run(&["login", "dev", "--timeout", "1"])
        .fails_after_progress(1, "no answer from the browser within 1 s");
    assert!(t.elapsed() < Duration::from_secs(5));
}

#[test]
fn ctrl_c_during_login_leaves_no_partial_file_and_closes_the_listener() {
    let mut s = Sandbox::new();
    s.set("BROWSER", "true");
    let mut child = s
        .cmd(&["login", "dev"])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Wait for the registration: the listener is bound before it.
    let t = Instant::now();
    while s.mock.count(Route::RegisterClient) == 0 && t.elapsed() < Duration::from_secs(10) {
        std::thread::sleep(Duration::from_millis(20));
    }
    std::thread::sleep(Duration::from_millis(200));
    unsafe_kill(child.id(), 2);
    let status = child.wait().unwrap();
    assert!(!status.success());
    assert!(!s.token_path("corp").exists());
    let leftovers: Vec<_> = std::fs::read_dir(s.home().join(".aws/sso/cache"))
        .map(|rd| {
            rd.flatten()
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .filter(|n| n.ends_with(".tmp"))
                .collect()
        })
        .unwrap_or_default();
    assert!(leftovers.is_empty(), "{leftovers:?}");
}

fn unsafe_kill(pid: u32, sig: i32) {
    std::process::Command::new("kill")
        .arg(format!("-{sig}"))
        .arg(pid.to_string())
        .status()
        .unwrap();
}

#[test]
fn an_unwritable_cache_directory_is_named() {
    let mut s = Sandbox::new();
    with_browser(&mut s, false);
    std::fs::create_dir_all(s.home().join(".aws/sso")).unwrap();
    // A file where the directory should be: unwritable even for root.
    std::fs::write(s.home().join(".aws/sso/cache"), "").unwrap();
    s.run(&["login", "dev"]).fails(1, ".aws/sso/cache");
}

/// A token in the refresh window, with the mock knowing its client and refresh token.
fn refreshable(s: &Sandbox, expires_in: i64) {
    s.mock.add_client(
        "client-corp",
        "secret-corp",
        &["authorization_code", "refresh_token"],
    );
    s.mock.add_refresh_token("refresh-corp-1", "client-corp");
    let p = s.write_session_token(now() + expires_in);
    // An extra key, as a newer CLI might write, must survive the rewrite.
    let mut v: Value = serde_json::from_str(&std::fs::read_to_string(&p).unwrap()).unwrap();
    v["someFutureKey"] = "kept".into();
    std::fs::write(&p, v.to_string()).unwrap();
}

#[test]
fn a_token_near_expiry_is_refreshed_and_rewritten_as_botocore_does() {
    let s = Sandbox::new();
    refreshable(&s, 300);
    s.run(&["dev"]).ok();
    let reqs = s.mock.requests();
    let refresh: Vec<_> = reqs
        .iter()
        .filter(|r| r.route == Route::CreateToken)
        .collect();
    assert_eq!(refresh.len(), 1);
    let body = refresh[0].json();
    assert_eq!(body["grantType"], "refresh_token");
    assert_eq!(body["refreshToken"], "refresh-corp-1");
    let t = s.read_token("corp");
    let new_access = s.mock.issued_access_tokens()[0].clone();
    assert_eq!(t["accessToken"], new_access.as_str());
    assert_ne!(t["refreshToken"], "refresh-corp-1", "rotated");
    assert_eq!(t["someFutureKey"], "kept");
    assert_eq!(t["clientId"], "client-corp");
    let get = reqs
        .iter()
        .find(|r| r.route == Route::GetRoleCredentials)
        .unwrap();
    assert_eq!(
        get.header("x-amz-sso_bearer_token"),
        Some(new_access.as_str())
    );
}

#[test]
fn a_rotated_away_refresh_token_asks_for_login_once_the_token_expired() {
    let s = Sandbox::new();
    s.mock.add_client(
        "client-corp",
        "secret-corp",
        &["authorization_code", "refresh_token"],
    );
    // The mock does not know refresh-corp-1: invalid_grant.
    s.write_session_token(now() - 10);
    let before = std::fs::read(s.token_path("corp")).unwrap();
    s.run(&["dev"]).fails(3, "ssoenv login dev");
    assert_eq!(std::fs::read(s.token_path("corp")).unwrap(), before);
}

#[test]
fn a_refresh_failure_while_the_token_still_works_is_a_warning() {
    let s = Sandbox::new();
    s.mock.add_client(
        "client-corp",
        "secret-corp",
        &["authorization_code", "refresh_token"],
    );
    s.write_session_token(now() + 300);
    let out = s.run(&["dev"]);
    out.ok();
    assert!(out.stderr.contains("warning"), "{}", out.stderr);
}

#[test]
fn an_expired_registration_is_not_used_to_refresh() {
    let s = Sandbox::new();
    let p = s.write_session_token(now() - 10);
    let mut v: Value = serde_json::from_str(&std::fs::read_to_string(&p).unwrap()).unwrap();
    v["registrationExpiresAt"] = iso(now() - 60).into();
    std::fs::write(&p, v.to_string()).unwrap();
    s.run(&["dev"]).fails(3, "expired");
    assert_eq!(s.mock.count(Route::CreateToken), 0);
}

#[test]
fn oidc_server_errors_during_refresh_of_an_expired_token_are_reported() {
    for (status, name) in [
        (500, "InternalServerException"),
        (429, "TooManyRequestsException"),
    ] {
        let s = Sandbox::new();
        refreshable(&s, -10);
        s.mock.fault_always(
            Route::CreateToken,
            Fault::Status {
                status,
                error_type: name.into(),
                message: "x".into(),
            },
        );
        s.run(&["dev"]).fails(1, name);
        assert_eq!(s.mock.count(Route::CreateToken), 3, "retried, bounded");
        assert_eq!(s.read_token("corp")["refreshToken"], "refresh-corp-1");
    }
}

#[test]
fn twenty_concurrent_exports_in_the_refresh_window_refresh_once_and_fetch_once() {
    let s = Sandbox::new();
    refreshable(&s, 300);
    s.mock
        .fault(Route::CreateToken, Fault::Delay(Duration::from_millis(300)));
    s.run_concurrently(&["dev"], 20);
    assert_eq!(s.mock.count(Route::CreateToken), 1);
    assert_eq!(s.mock.count(Route::GetRoleCredentials), 1);
    for dir in [".aws/sso/cache", ".aws/cli/cache"] {
        for e in std::fs::read_dir(s.home().join(dir)).unwrap().flatten() {
            let text = std::fs::read_to_string(e.path()).unwrap();
            serde_json::from_str::<Value>(&text)
                .unwrap_or_else(|_| panic!("{}", e.path().display()));
        }
    }
}

#[test]
fn logout_signs_out_and_deletes_tokens_and_sso_credentials_only() {
    let mut s = Sandbox::new();
    with_browser(&mut s, false);
    s.run(&["login", "dev"]).ok();
    let token = s.read_token("corp")["accessToken"]
        .as_str()
        .unwrap()
        .to_string();
    let cli_cache = s.home().join(".aws/cli/cache");
    std::fs::write(
        cli_cache.join("assume-role.json"),
        r#"{"ProviderType":"assume-role","Credentials":{}}"#,
    )
    .unwrap();
    let registrations = std::fs::read_dir(s.home().join(".aws/sso/cache"))
        .unwrap()
        .count()
        - 1;
    let out = s.run(&["logout"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_eq!(s.mock.logged_out_tokens(), vec![token]);
    assert!(!s.token_path("corp").exists());
    let left: Vec<_> = std::fs::read_dir(&cli_cache)
        .unwrap()
        .flatten()
        .map(|e| e.file_name())
        .collect();
    assert_eq!(left, vec![std::ffi::OsString::from("assume-role.json")]);
    assert_eq!(
        std::fs::read_dir(s.home().join(".aws/sso/cache"))
            .unwrap()
            .count(),
        registrations
    );
    // The next export asks for a login.
    s.run(&["dev"]).fails(3, "ssoenv login dev");
}

#[test]
fn logout_failure_at_the_server_is_a_warning_and_files_still_go() {
    let s = Sandbox::signed_in();
    s.mock.fault_always(
        Route::Logout,
        Fault::Status {
            status: 500,
            error_type: "InternalServerException".into(),
            message: "x".into(),
        },
    );
    let out = s.run(&["logout"]);
    assert_eq!(out.code, 0);
    assert!(out.stderr.contains("warning"));
    assert!(!s.token_path("corp").exists());
}

#[test]
fn status_is_offline_and_reports_tokens_and_credentials() {
    let s = Sandbox::signed_in();
    s.run(&["dev"]).ok();
    s.mock.clear_requests();
    let v: Value = serde_json::from_str(s.run(&["status", "--json"]).ok()).unwrap();
    let corp = v["logins"]
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l["name"] == "corp")
        .unwrap();
    assert_eq!(corp["token"]["cached"], true);
    assert_eq!(corp["token"]["refreshable"], true);
    let left = corp["token"]["expiresIn"].as_i64().unwrap();
    assert!((8 * 3600 - 60..=8 * 3600).contains(&left), "{left}");
    let legacy = v["logins"]
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l["kind"] == "start-url")
        .unwrap();
    assert_eq!(legacy["token"]["cached"], false);
    let dev = v["profiles"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == "dev")
        .unwrap();
    assert_eq!(dev["accountId"], "111111111111");
    assert_eq!(dev["credentials"]["cached"], true);
    let admin = v["profiles"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == "admin")
        .unwrap();
    assert_eq!(admin["credentials"]["cached"], false);
    let human = s.run(&["status"]).ok().to_string();
    assert!(
        human.contains("sso-session corp") && human.contains("expires in 7h 59m"),
        "{human}"
    );
    assert!(human.contains("not signed in"), "{human}");
    assert_eq!(s.mock.requests().len(), 0, "status is offline");
}
