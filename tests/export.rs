//! `ssoenv [export]`: credentials from the mock through the caches the AWS CLI shares.

use crate::support::*;

fn creds(n: u32) -> Creds {
    Creds {
        access_key_id: format!("ASIAEXAMPLE{n:05}"),
        secret_access_key: format!("secret/{n}+key="),
        session_token: format!("session-token-{n}"),
        expiration_ms: (now() + 3600) * 1000,
    }
}

#[test]
fn export_prints_the_servers_credentials_and_the_second_run_makes_no_request() {
    let s = Sandbox::signed_in();
    // One value for the server and the expectations (made twice, the clock may tick between).
    let c = creds(1);
    s.mock.set_next_credentials(c.clone());
    let out = s.run(&["dev"]);
    let text = out.ok().to_string();
    let vals = eval_posix(
        &text,
        &[
            "AWS_ACCESS_KEY_ID",
            "AWS_SECRET_ACCESS_KEY",
            "AWS_SESSION_TOKEN",
            "AWS_REGION",
            "AWS_DEFAULT_REGION",
            "AWS_PROFILE",
            "SSOENV_PROFILE",
            "SSOENV_EXPIRATION",
            "AWS_CREDENTIAL_EXPIRATION",
        ],
    );
    assert_eq!(vals[0], c.access_key_id);
    assert_eq!(vals[1], c.secret_access_key);
    assert_eq!(vals[2], c.session_token);
    assert_eq!(vals[3..5], ["eu-west-2", "eu-west-2"]);
    assert_eq!(vals[5..7], ["dev", "dev"]);
    assert_eq!(vals[7], (c.expiration_ms / 1000).to_string());
    assert_eq!(vals[8], iso(c.expiration_ms / 1000));

    let reqs = s.mock.requests();
    assert_eq!(reqs.len(), 1);
    let r = &reqs[0];
    assert_eq!(r.route, Route::GetRoleCredentials);
    assert_eq!(r.method, "GET");
    assert_eq!(r.path, "/federation/credentials");
    assert_eq!(r.param("role_name"), Some("ReadOnly"));
    assert_eq!(r.param("account_id"), Some("111111111111"));
    assert_eq!(r.header("x-amz-sso_bearer_token"), Some(ACCESS_TOKEN));

    // Warm: same output, no request.
    let again = s.run(&["dev"]);
    assert_eq!(again.ok(), text);
    assert_eq!(s.mock.count(Route::GetRoleCredentials), 1);
}

#[test]
fn aws_profile_selects_the_profile_and_default_is_the_fallback() {
    let mut s = Sandbox::signed_in();
    s.set("AWS_PROFILE", "admin");
    let out = s.run(&[]);
    out.ok();
    let r = &s.mock.requests()[0];
    assert_eq!(r.param("role_name"), Some("Admin"));
    // The user's own AWS_PROFILE is given back by --unset, even when it was the same name.
    let script = format!(
        "export AWS_PROFILE=admin\n{}\neval \"$({BIN} --unset)\"\nprintf %s \"${{AWS_PROFILE-unset}}\"",
        out.stdout
    );
    let after = std::process::Command::new("sh")
        .args(["-c", &script])
        .output()
        .unwrap();
    assert_eq!(String::from_utf8_lossy(&after.stdout), "admin");

    let bare = Sandbox::signed_in();
    bare.run(&[]).fails(1, "'default'");
}

#[test]
fn role_cache_has_the_cli_name_layout_and_modes() {
    let s = Sandbox::signed_in();
    let given = creds(7);
    s.mock.set_next_credentials(given.clone());
    s.run(&["dev"]).ok();
    let path = s.role_cache_path("111111111111", "ReadOnly", "corp");
    let v: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    assert_eq!(v["ProviderType"], "sso");
    let c = &v["Credentials"];
    assert_eq!(c["AccessKeyId"], "ASIAEXAMPLE00007");
    assert_eq!(c["SecretAccessKey"], "secret/7+key=");
    assert_eq!(c["SessionToken"], "session-token-7");
    assert_eq!(c["AccountId"], "111111111111");
    let exp = c["Expiration"].as_str().unwrap();
    assert_eq!(exp, iso(given.expiration_ms / 1000));
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = |p: &std::path::Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(&path), 0o600);
        assert_eq!(mode(path.parent().unwrap()), 0o700);
    }
    // No temp file is left beside it.
    let names: Vec<_> = std::fs::read_dir(path.parent().unwrap()).unwrap().collect();
    assert_eq!(names.len(), 1);
}

#[test]
fn credentials_the_cli_cached_are_used_without_a_request() {
    let s = Sandbox::new(); // no token at all: only the role cache can answer
    let path = s.role_cache_path("111111111111", "ReadOnly", "corp");
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    let exp = iso(now() + 3000);
    std::fs::write(
        &path,
        format!(r#"{{"ProviderType": "sso", "Credentials": {{"AccessKeyId": "ASIACLI", "SecretAccessKey": "cli-secret", "SessionToken": "cli-token", "Expiration": "{exp}", "AccountId": "111111111111"}}}}"#),
    )
    .unwrap();
    let out = s.run(&["dev"]);
    let vals = eval_posix(out.ok(), &["AWS_ACCESS_KEY_ID", "AWS_SESSION_TOKEN"]);
    assert_eq!(vals, ["ASIACLI", "cli-token"]);
    assert_eq!(s.mock.requests().len(), 0);
}

#[test]
fn cached_credentials_within_fifteen_minutes_of_expiry_are_renewed() {
    let s = Sandbox::signed_in();
    let path = s.role_cache_path("111111111111", "ReadOnly", "corp");
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(
        &path,
        format!(r#"{{"ProviderType":"sso","Credentials":{{"AccessKeyId":"ASIAOLD","SecretAccessKey":"s","SessionToken":"t","Expiration":"{}"}}}}"#, iso(now() + 600)),
    )
    .unwrap();
    s.mock.set_next_credentials(creds(2));
    let vals = eval_posix(s.run(&["dev"]).ok(), &["AWS_ACCESS_KEY_ID"]);
    assert_eq!(vals, ["ASIAEXAMPLE00002"]);
    assert_eq!(s.mock.count(Route::GetRoleCredentials), 1);
}

#[test]
fn legacy_profile_uses_the_start_url_token_and_cache_key() {
    let s = Sandbox::new();
    let t = serde_json::json!({
        "startUrl": START_URL, "region": "us-east-1",
        "accessToken": ACCESS_TOKEN, "expiresAt": format!("{}UTC", iso(now() + 3600).trim_end_matches('Z')),
    });
    s.write_token_raw(START_URL, &t.to_string());
    s.run(&["legacy"]).ok();
    let key =
        format!(r#"{{"accountId":"222222222222","roleName":"ReadOnly","startUrl":"{START_URL}"}}"#);
    let path = s
        .home()
        .join(".aws/cli/cache")
        .join(format!("{}.json", sha1_hex(&key)));
    assert!(path.exists(), "legacy cache key");
}

#[test]
fn json_is_credential_process_output() {
    let s = Sandbox::signed_in();
    let given = creds(3);
    s.mock.set_next_credentials(given.clone());
    let v: serde_json::Value =
        serde_json::from_str(s.run(&["export", "dev", "--shell", "json"]).ok()).unwrap();
    assert_eq!(v["Version"], 1);
    assert_eq!(v["AccessKeyId"], "ASIAEXAMPLE00003");
    assert_eq!(v["SecretAccessKey"], "secret/3+key=");
    assert_eq!(v["SessionToken"], "session-token-3");
    assert_eq!(v["Expiration"], iso(given.expiration_ms / 1000));
}

#[test]
fn unset_removes_what_export_set_and_restores_the_previous_profile() {
    let mut s = Sandbox::signed_in();
    s.set("AWS_PROFILE", "static");
    let exported = s.run(&["dev"]).ok().to_string();
    assert!(
        exported.contains("export SSOENV_PREVIOUS_AWS_PROFILE='static'"),
        "{exported}"
    );
    // Run --unset inside the exported environment, as a shell would.
    let script = format!(
        "{exported}\neval \"$({BIN} --unset)\"\nprintf '%s|%s|%s|%s' \"${{AWS_PROFILE-unset}}\" \"${{AWS_ACCESS_KEY_ID-unset}}\" \"${{SSOENV_PROFILE-unset}}\" \"${{AWS_REGION-unset}}\""
    );
    let out = std::process::Command::new("dash")
        .arg("-c")
        .arg(&script)
        .env_clear()
        .env("HOME", s.home())
        .output()
        .unwrap();
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "static|unset|unset|unset"
    );
}

#[test]
fn list_prints_profiles_in_file_order_and_filters_sso() {
    let s = Sandbox::new();
    assert_eq!(
        s.run(&["list"]).ok(),
        "default\ndev\nadmin\nlegacy\nstatic\n"
    );
    assert_eq!(s.run(&["list", "--sso"]).ok(), "dev\nadmin\nlegacy\n");
    assert!(s.run(&["list", "-l"]).ok().contains("static\t-\n"));
}

#[test]
fn config_file_from_aws_config_file_and_endpoint_from_services_section() {
    let mut s = Sandbox::signed_in();
    let other = s.dir.path().join("elsewhere.ini");
    std::fs::write(
        &other,
        format!("[profile x]\nsso_session = corp\nsso_account_id = 111111111111\nsso_role_name = Admin\nservices = mine\n[sso-session corp]\nsso_start_url = {START_URL}\nsso_region = us-east-1\n[services mine]\nsso =\n  endpoint_url = {}\n", s.mock.url()),
    )
    .unwrap();
    s.set("AWS_CONFIG_FILE", other.to_str().unwrap());
    // Without the environment override, the services section must lead to the mock.
    let out = s
        .cmd(&["x"])
        .env_remove("AWS_ENDPOINT_URL_SSO")
        .env_remove("AWS_ENDPOINT_URL_SSO_OIDC")
        .output()
        .unwrap();
    let run: Run = out.into();
    run.ok();
    assert_eq!(s.mock.count(Route::GetRoleCredentials), 1);
}

#[test]
fn concurrent_cold_runs_make_one_request_and_leave_valid_files() {
    let s = Sandbox::signed_in();
    s.mock.fault(
        Route::GetRoleCredentials,
        Fault::Delay(std::time::Duration::from_millis(300)),
    );
    s.run_concurrently(&["dev"], 8);
    assert_eq!(s.mock.count(Route::GetRoleCredentials), 1);
    let path = s.role_cache_path("111111111111", "ReadOnly", "corp");
    serde_json::from_str::<serde_json::Value>(&std::fs::read_to_string(path).unwrap()).unwrap();
}

#[test]
fn debug_output_names_steps_but_no_secret() {
    let s = Sandbox::signed_in();
    s.mock.set_next_credentials(creds(4));
    let out = s.run(&["dev", "--debug"]);
    out.ok();
    assert!(out.stderr.contains("GetRoleCredentials"), "{}", out.stderr);
    for secret in [ACCESS_TOKEN, "secret/4+key=", "session-token-4"] {
        assert!(
            !out.stderr.contains(secret),
            "leaked {secret}: {}",
            out.stderr
        );
    }
}

/// Runs a POSIX script with ssoenv on hand as `$S` in the sandbox's environment.
fn sh(s: &Sandbox, script: &str) -> String {
    let mut c = s.cmd(&[]);
    let envs: Vec<(String, String)> = c
        .get_envs()
        .filter_map(|(k, v)| Some((k.to_str()?.into(), v?.to_str()?.into())))
        .collect();
    c = std::process::Command::new("sh");
    c.env_clear().envs(envs).env("S", BIN).args(["-c", script]);
    let out = c.output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

#[test]
fn unset_gives_back_exactly_the_users_region_profile_and_account() {
    let s = Sandbox::signed_in();
    let show = r#"printf '%s|%s|%s|%s\n' "${AWS_REGION-unset}" "${AWS_DEFAULT_REGION-unset}" "${AWS_PROFILE-unset}" "${AWS_ACCOUNT_ID-unset}""#;
    let out = sh(
        &s,
        &format!(
            r#"export AWS_REGION=mine-1
eval "$($S dev)"; {show}
eval "$($S admin)"; {show}
eval "$($S dev)"; {show}
eval "$($S --unset)"; {show}
eval "$($S dev)"; export AWS_REGION=changed-by-hand
eval "$($S --unset)"; {show}"#
        ),
    );
    assert_eq!(
        out,
        "eu-west-2|eu-west-2|dev|111111111111\n\
         mine-1|unset|admin|111111111111\n\
         eu-west-2|eu-west-2|dev|111111111111\n\
         mine-1|unset|unset|unset\n\
         changed-by-hand|unset|unset|unset\n"
    );
}

#[test]
fn dotenv_carries_only_what_a_container_needs_and_botocore_uses_it_there() {
    let s = Sandbox::signed_in();
    let text = s.run(&["dev", "--shell", "dotenv"]).ok().to_string();
    let names: Vec<&str> = text.lines().filter_map(|l| l.split('=').next()).collect();
    assert_eq!(
        names,
        [
            "AWS_ACCESS_KEY_ID",
            "AWS_SECRET_ACCESS_KEY",
            "AWS_SESSION_TOKEN",
            "AWS_CREDENTIAL_EXPIRATION",
            "AWS_REGION",
            "AWS_DEFAULT_REGION",
            "AWS_ACCOUNT_ID"
        ]
    );
    // A container: no config, no profile, an empty home; only the env file.
    let empty = s.dir.path().join("container-home");
    std::fs::create_dir_all(&empty).unwrap();
    let mut py = std::process::Command::new(crate::interop::python());
    py.env_clear()
        .env("HOME", &empty)
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .args([
            "-c",
            "import botocore.session as b; s=b.Session(); c=s.get_credentials(); print(c.access_key, s.get_config_variable('region'))",
        ]);
    for l in text.lines() {
        let (k, v) = l.split_once('=').unwrap();
        py.env(k, v);
    }
    let out = py.output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let key = text.lines().next().unwrap().split_once('=').unwrap().1;
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim(),
        format!("{key} eu-west-2")
    );
}
