//! Role chaining: profiles with `role_arn` and `source_profile`, down to an SSO profile.
//! ssoenv signs STS AssumeRole itself; the mock checks every signature against the secret it
//! issued. The assumed-role cache is the AWS CLI's: botocore reuses ssoenv's and the other way.

use std::os::unix::fs::PermissionsExt;

use serde_json::Value;

use crate::support::*;

const OPS: &str = "arn:aws:iam::333333333333:role/Ops";
const DEEP: &str = "arn:aws:iam::444444444444:role/team/Deep";

/// The standard config plus a chain: ops from dev, deep from ops.
fn chained() -> Sandbox {
    let mut s = Sandbox::signed_in();
    s.write_config(&format!(
        "{CONFIG}
[profile ops]
role_arn = {OPS}
source_profile = dev
region = eu-central-1

[profile deep]
role_arn = {DEEP}
source_profile = ops
role_session_name = me@example.com
duration_seconds = 2700
region = us-west-2
"
    ));
    let url = s.mock.url();
    s.set("AWS_ENDPOINT_URL_STS", &url);
    s
}

/// The AWS CLI's assumed-role cache file for these AssumeRole arguments, named as botocore
/// names it (SHA-1 of `json.dumps(args, sort_keys=True)`).
fn cli_cache(s: &Sandbox, args: &str) -> std::path::PathBuf {
    s.home()
        .join(".aws/cli/cache")
        .join(format!("{}.json", sha1_hex(args)))
}

fn ops_cache(s: &Sandbox) -> std::path::PathBuf {
    cli_cache(s, &format!(r#"{{"RoleArn": "{OPS}"}}"#))
}

fn deep_cache(s: &Sandbox) -> std::path::PathBuf {
    cli_cache(
        s,
        &format!(
            r#"{{"DurationSeconds": 2700, "RoleArn": "{DEEP}", "RoleSessionName": "me@example.com"}}"#
        ),
    )
}

#[test]
fn a_chained_profile_assumes_its_role_with_the_sso_credentials_and_caches_it_as_the_cli_does() {
    let s = chained();
    let got = s.exported("ops");
    let assumed = s.mock.assumed_roles();
    assert_eq!(assumed.len(), 1);
    let a = &assumed[0];
    assert_eq!(a.role_arn, OPS);
    // Signed with the SSO role's credentials, for the profile's region.
    assert_eq!(
        a.source_key,
        s.mock.issued_credentials()[0].access_key_id,
        "the source is dev's role"
    );
    assert_eq!(a.region, "eu-central-1");
    assert!(a.session_name.starts_with("ssoenv-"), "{}", a.session_name);
    assert_eq!(a.duration_seconds, None);
    assert_eq!(
        got,
        [
            a.creds.access_key_id.as_str(),
            a.creds.secret_access_key.as_str(),
            a.creds.session_token.as_str(),
            "333333333333",
            "eu-central-1"
        ]
    );
    // The AWS CLI's cache file, private, in the CLI's shape.
    let path = ops_cache(&s);
    let cached: Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    assert_eq!(
        cached["Credentials"]["AccessKeyId"],
        a.creds.access_key_id.as_str()
    );
    assert_eq!(cached["Credentials"]["AccountId"], "333333333333");
    assert!(
        cached["AssumedRoleUser"]["Arn"]
            .as_str()
            .unwrap()
            .starts_with("arn:aws:sts::333333333333:assumed-role/Ops/ssoenv-")
    );
    assert!(cached.get("ProviderType").is_none());
    assert_eq!(
        std::fs::metadata(&path).unwrap().permissions().mode() & 0o777,
        0o600
    );
    // Warm: no request at all; credential_process JSON carries the account.
    s.mock.clear_requests();
    let json: Value = serde_json::from_str(s.run(&["ops", "--shell", "json"]).ok()).unwrap();
    assert_eq!(json["AccessKeyId"], a.creds.access_key_id.as_str());
    assert_eq!(json["AccountId"], "333333333333");
    assert_eq!(s.mock.requests().len(), 0);
}

#[test]
fn two_roles_deep_each_signed_by_the_one_before_with_the_profiles_settings() {
    let s = chained();
    let got = s.exported("deep");
    let assumed = s.mock.assumed_roles();
    assert_eq!(assumed.len(), 2);
    assert_eq!(
        (assumed[0].role_arn.as_str(), assumed[1].role_arn.as_str()),
        (OPS, DEEP)
    );
    assert_eq!(assumed[1].source_key, assumed[0].creds.access_key_id);
    assert_eq!(assumed[1].session_name, "me@example.com");
    assert_eq!(assumed[1].duration_seconds, Some(2700));
    // Every step goes to STS as the named profile resolves it: deep's region, not ops'.
    assert_eq!(assumed[0].region, "us-west-2");
    assert_eq!(got[0], assumed[1].creds.access_key_id);
    assert_eq!(got[3], "444444444444");
    assert_eq!(got[4], "us-west-2");
    assert!(deep_cache(&s).is_file() && ops_cache(&s).is_file());
    // The role in the middle is cached too: ops needs no request now.
    s.mock.clear_requests();
    assert_eq!(s.exported("ops")[0], assumed[0].creds.access_key_id);
    assert_eq!(s.mock.requests().len(), 0);
}

fn botocore(s: &Sandbox, profile: &str) -> Value {
    crate::interop::botocore(s, profile, true)
}

#[test]
fn botocore_and_ssoenv_reuse_each_others_assumed_role_cache() {
    let s = chained();
    let ours = s.exported("ops");
    s.mock.clear_requests();
    let theirs = botocore(&s, "ops");
    assert_eq!(theirs["AccessKeyId"], ours[0].as_str());
    assert_eq!(theirs["SessionToken"], ours[2].as_str());
    assert_eq!(
        s.mock.count(Route::AssumeRole),
        0,
        "botocore read ssoenv's cache"
    );

    // The other way, two roles deep: botocore assumes both through the mock (its own SigV4
    // signatures verify there) and caches them; ssoenv then makes no request.
    std::fs::remove_file(ops_cache(&s)).unwrap();
    let theirs = botocore(&s, "deep");
    assert_eq!(s.mock.count(Route::AssumeRole), 2, "botocore assumed both");
    assert!(
        deep_cache(&s).is_file(),
        "botocore named the file as ssoenv does"
    );
    s.mock.clear_requests();
    let file = std::fs::read_to_string(deep_cache(&s)).unwrap();
    assert_eq!(
        s.exported("deep")[0],
        theirs["AccessKeyId"].as_str().unwrap(),
        "{file}"
    );
    assert_eq!(s.mock.requests().len(), 0, "ssoenv read botocore's cache");
}

#[test]
fn chains_that_cannot_be_followed_are_one_line_naming_the_profile_and_file() {
    let s = Sandbox::signed_in();
    let cases: &[(&str, &str)] = &[
        (
            "[profile a]\nrole_arn = arn:aws:iam::1:role/A\nsource_profile = b\n[profile b]\nrole_arn = arn:aws:iam::1:role/B\nsource_profile = a\n",
            "source_profile loops: 'a' -> 'b' -> 'a'",
        ),
        (
            "[profile a]\nrole_arn = arn:aws:iam::1:role/A\nsource_profile = a\n",
            "source_profile loops: 'a' -> 'a'",
        ),
        (
            "[profile a]\nrole_arn = arn:aws:iam::1:role/A\nsource_profile = dve\n[profile dev]\nsso_session = x\n",
            "source_profile 'dve' does not exist (did you mean dev?)",
        ),
        (
            "[profile a]\nrole_arn = arn:aws:iam::1:role/A\ncredential_source = Ec2InstanceMetadata\n",
            "credential_source = Ec2InstanceMetadata is not supported",
        ),
        (
            "[profile a]\nrole_arn = arn:aws:iam::1:role/A\nsource_profile = b\ncredential_source = Environment\n[profile b]\n",
            "both source_profile and credential_source",
        ),
        (
            "[profile a]\nrole_arn = arn:aws:iam::1:role/A\nweb_identity_token_file = /t\n",
            "web_identity_token_file (web identity federation) is not supported",
        ),
        (
            "[profile a]\nrole_arn = arn:aws:iam::1:role/A\nsource_profile = k\n[profile k]\naws_access_key_id = AKIA\naws_secret_access_key = x\n",
            "profile 'k' in",
        ),
        (
            "[profile a]\nrole_arn = arn:aws:iam::1:role/A\nsource_profile = b\n[profile b]\nregion = eu-west-1\n",
            "is the source_profile of 'a' but has no SSO settings",
        ),
        (
            "[profile a]\nrole_arn = arn:aws:iam::1:role/A\n",
            "role_arn needs source_profile",
        ),
        (
            "[profile a]\nrole_arn =\nsource_profile = b\n",
            "role_arn is empty",
        ),
    ];
    for (config, needle) in cases {
        s.write_config(config);
        let r = s.run(&["a"]);
        assert_eq!(r.code, 1, "{config}: {}", r.stderr);
        assert_eq!(r.stdout, "", "{config}");
        assert_eq!(r.stderr.lines().count(), 1, "{config}: {}", r.stderr);
        assert!(r.stderr.contains(needle), "{config}: {}", r.stderr);
        assert!(
            r.stderr.contains(&s.config_path().display().to_string()),
            "{}",
            r.stderr
        );
    }
    assert_eq!(s.mock.requests().len(), 0);
}

#[test]
fn mfa_external_id_and_refusals_from_sts() {
    let mut s = chained();
    let serial = "arn:aws:iam::111111111111:mfa/me";
    s.write_config(&format!(
        "{CONFIG}
[profile mfa]
role_arn = {OPS}
source_profile = dev
mfa_serial = {serial}
external_id = partner-42
region = eu-west-1

[profile deep]
role_arn = {DEEP}
source_profile = dev
role_session_name = me@example.com
duration_seconds = 2700
region = eu-west-1
"
    ));
    s.mock.require_mfa(OPS, serial, "123456");
    s.mock.require_external_id(OPS, "partner-42");
    // No terminal and no code: one line that says how.
    s.run(&["mfa"]).fails(
        1,
        "profile 'mfa' needs an MFA code for arn:aws:iam::111111111111:mfa/me: pass --mfa-code",
    );
    assert_eq!(s.mock.count(Route::AssumeRole), 0);
    s.run(&["mfa", "--mfa-code", "12ab"])
        .fails(2, "must be 6 digits");
    s.run(&["mfa", "--mfa-code", "654321"])
        .fails(1, "AccessDenied");
    let r = s.run(&["export", "mfa", "--mfa-code", "123456"]);
    let key = eval_posix(r.ok(), &["AWS_ACCESS_KEY_ID"]);
    let a = s.mock.assumed_roles().pop().unwrap();
    assert_eq!(key[0], a.creds.access_key_id);
    assert_eq!(a.serial_number.as_deref(), Some(serial));
    assert_eq!(a.token_code.as_deref(), Some("123456"));
    assert_eq!(a.external_id.as_deref(), Some("partner-42"));

    // A role the user may not assume: the error, nothing exported, nothing cached.
    s.mock.deny_role(DEEP);
    let r = s.run(&["deep"]);
    assert_eq!((r.code, r.stdout.as_str()), (1, ""));
    assert!(
        r.stderr.contains("AccessDenied") && r.stderr.contains("profile 'deep'"),
        "{}",
        r.stderr
    );
    assert!(!deep_cache(&s).exists());

    // Wrong keys in the cache (as if tampered with): the mock's signature check refuses them.
    let dev_cache = s.role_cache_path("111111111111", "ReadOnly", "corp");
    let mut v: Value = serde_json::from_str(&std::fs::read_to_string(&dev_cache).unwrap()).unwrap();
    v["Credentials"]["SecretAccessKey"] = "not-the-secret".into();
    std::fs::write(&dev_cache, v.to_string()).unwrap();
    std::fs::remove_file(ops_cache(&s)).ok();
    s.write_config(&format!(
        "{CONFIG}\n[profile ops]\nrole_arn = {}\nsource_profile = dev\nregion = eu-west-1\n",
        "arn:aws:iam::555555555555:role/Other"
    ));
    s.run(&["ops"]).fails(1, "SignatureDoesNotMatch");
    s.vars.retain(|(k, _)| k != "AWS_ENDPOINT_URL_STS");
}

#[test]
fn expired_source_credentials_are_refused_by_sts() {
    let s = chained();
    s.mock
        .set_credential_lifetime(std::time::Duration::from_secs(2));
    s.run(&["dev"]).ok();
    // The cache claims an hour more than the mock granted.
    let dev_cache = s.role_cache_path("111111111111", "ReadOnly", "corp");
    let mut v: Value = serde_json::from_str(&std::fs::read_to_string(&dev_cache).unwrap()).unwrap();
    v["Credentials"]["Expiration"] = iso(now() + 3600).into();
    std::fs::write(&dev_cache, v.to_string()).unwrap();
    std::thread::sleep(std::time::Duration::from_millis(2100));
    s.run(&["ops"]).fails(1, "ExpiredToken");
}

#[test]
fn exec_status_list_and_logout_know_chained_profiles() {
    let s = chained();
    let out = s
        .run(&[
            "exec",
            "deep",
            "--",
            "sh",
            "-c",
            "echo $AWS_ACCOUNT_ID $AWS_ACCESS_KEY_ID",
        ])
        .ok()
        .to_string();
    let a = s.mock.assumed_roles().pop().unwrap();
    assert_eq!(out, format!("444444444444 {}\n", a.creds.access_key_id));
    let status: Value = serde_json::from_str(s.run(&["status", "--json"]).ok()).unwrap();
    let deep = status["profiles"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == "deep")
        .unwrap()
        .clone();
    assert_eq!(deep["roleArn"], DEEP);
    assert_eq!(deep["credentials"]["cached"], true);
    assert!(s.run(&["list", "-l"]).ok().contains("deep\tsso\n"));
    // Signing out ends what was derived from the sign-in too.
    s.run(&["logout"]).ok();
    assert!(!deep_cache(&s).exists() && !ops_cache(&s).exists());
}

#[test]
fn status_of_thousands_of_chained_profiles_keeps_their_order_and_warns_in_file_order() {
    // Enough profiles that `status` makes its rows on two threads.
    let s = Sandbox::signed_in();
    let mut config = CONFIG.to_string();
    for i in 0..2000 {
        config.push_str(&format!(
            "\n[profile r{i}]\nrole_arn = arn:aws:iam::333333333333:role/R{i}\nsource_profile = dev\n"
        ));
        if i % 400 == 7 {
            config.push_str(&format!("duration_seconds = {i}x\n"));
        }
    }
    s.write_config(&config);
    let run = s.run(&["status", "--json"]);
    let status: Value = serde_json::from_str(run.ok()).unwrap();
    let rows: Vec<&Value> = status["profiles"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|p| p["name"].as_str().unwrap().starts_with('r'))
        .collect();
    assert_eq!(rows.len(), 2000);
    for (i, row) in rows.iter().enumerate() {
        assert_eq!(row["name"], format!("r{i}"));
        assert_eq!(
            row["roleArn"],
            format!("arn:aws:iam::333333333333:role/R{i}")
        );
        assert_eq!(row["accountId"], "111111111111");
    }
    let expected: Vec<String> = (7..2000)
        .step_by(400)
        .map(|i| format!("ssoenv: warning: profile 'r{i}': duration_seconds = {i}x is not a whole number; ignored, as the AWS CLI does"))
        .collect();
    assert_eq!(run.stderr.lines().collect::<Vec<_>>(), expected);
    // The table lists them in the same order.
    let text = s.run(&["status"]).ok().to_string();
    let names: Vec<&str> = text
        .lines()
        .filter_map(|l| l.split(' ').next())
        .filter(|n| n.starts_with('r'))
        .collect();
    let want: Vec<String> = (0..2000).map(|i| format!("r{i}")).collect();
    assert_eq!(names, want);
}

#[test]
fn without_a_region_an_sts_endpoint_override_cannot_be_signed_for() {
    // botocore: "You must specify a region" (the global endpoint is for AWS's own STS only).
    let s = chained();
    s.write_config(&format!(
        "{CONFIG}\n[profile ops]\nrole_arn = {OPS}\nsource_profile = dev\n"
    ));
    s.run(&["ops"])
        .fails(1, "profile 'ops' has no region, which STS at");
    assert_eq!(s.mock.count(Route::AssumeRole), 0);
}

#[test]
fn a_chain_calls_sso_and_sts_where_the_named_profile_says_as_botocore_does() {
    // botocore makes the SSO client of a chain's source from the session of the profile
    // asked for: ops's services section routes the portal and STS, dev's own is not used.
    let mut s = chained();
    for var in ["AWS_ENDPOINT_URL_SSO", "AWS_ENDPOINT_URL_SSO_OIDC"] {
        s.set(var, "");
    }
    s.vars.retain(|(k, _)| k != "AWS_ENDPOINT_URL_STS");
    let config = CONFIG.replacen("[profile dev]\n", "[profile dev]\nservices = nowhere\n", 1);
    assert_ne!(config, CONFIG);
    s.write_config(&format!(
        "{config}
[profile ops]
role_arn = {OPS}
source_profile = dev
region = eu-west-1
services = here

[services here]
sso =
  endpoint_url = {url}
sts =
  endpoint_url = {url}

[services nowhere]
sso =
  endpoint_url = http://127.0.0.1:9
",
        url = s.mock.url()
    ));
    // dev alone goes where its own section says: nowhere.
    let r = s.run(&["dev"]);
    assert_ne!(r.code, 0, "{}", r.stdout);
    assert!(r.stderr.contains("127.0.0.1:9"), "{}", r.stderr);
    let ours = s.exported("ops");
    assert_eq!(s.mock.count(Route::GetRoleCredentials), 1);
    assert_eq!(s.mock.count(Route::AssumeRole), 1);
    // botocore, routed by the config alone, makes both calls the same way.
    std::fs::remove_file(ops_cache(&s)).unwrap();
    std::fs::remove_file(s.role_cache_path("111111111111", "ReadOnly", "corp")).unwrap();
    let theirs = crate::interop::botocore_routed(&s, "ops", true, false);
    assert_eq!(
        s.mock.count(Route::GetRoleCredentials),
        2,
        "botocore's SSO call"
    );
    assert_eq!(s.mock.count(Route::AssumeRole), 2, "botocore's STS call");
    assert_ne!(theirs["AccessKeyId"], ours[0].as_str());
}

#[test]
fn the_console_of_a_chained_role_goes_through_the_federation_endpoint() {
    let mut s = chained();
    let url = s.mock.url();
    s.set("AWS_ENDPOINT_URL_SIGNIN", &url);
    let r = s.run(&["console", "ops", "--print", "--destination", "s3"]);
    let link = r.ok().trim().to_string();
    assert!(r.stderr.contains("keep it secret"), "{}", r.stderr);
    let tokens = s.mock.signin_tokens();
    assert_eq!(tokens.len(), 1);
    let (token, key) = &tokens[0];
    // The sign-in token stands for the chained role's credentials.
    assert_eq!(*key, s.mock.assumed_roles()[0].creds.access_key_id);
    assert_eq!(
        link,
        format!(
            "{url}/federation?Action=login&Issuer=ssoenv&Destination=https%3A%2F%2Fconsole.aws.amazon.com%2Fs3%2Fhome%3Fregion%3Deu-central-1&SigninToken={token}"
        )
    );
    // A chained role session takes no SessionDuration.
    let asked = s.mock.first(Route::Federation).unwrap();
    assert_eq!(asked.param("Action"), Some("getSigninToken"));
    assert_eq!(asked.param("SessionDuration"), None);
    // The link signs in and lands on the destination.
    assert_eq!(
        http_get(&link, &[]),
        (
            302,
            "https://console.aws.amazon.com/s3/home?region=eu-central-1".to_string()
        )
    );

    // Opened in a browser, the link never is in a command line: the browser gets a private
    // page that forwards to it.
    let argv = s.dir.path().join("browser-argv");
    let browser = s.dir.path().join("browser");
    std::fs::write(
        &browser,
        format!("#!/bin/sh\nprintf '%s\\n' \"$@\" > {}\n", argv.display()),
    )
    .unwrap();
    std::fs::set_permissions(&browser, std::fs::Permissions::from_mode(0o755)).unwrap();
    s.set("BROWSER", &browser.display().to_string());
    let r = s.run(&["console", "ops"]);
    assert_eq!(r.ok(), "");
    let mut opened = String::new();
    for _ in 0..50 {
        opened = std::fs::read_to_string(&argv).unwrap_or_default();
        if !opened.is_empty() {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    let page = opened.trim().strip_prefix("file://").expect("a file link");
    let (token, _) = s.mock.signin_tokens().pop().unwrap();
    assert!(!opened.contains(&token) && !r.stderr.contains(&token));
    let html = std::fs::read_to_string(page).unwrap();
    assert!(
        html.contains(&format!("&amp;SigninToken={token}")),
        "{html}"
    );
    assert_eq!(
        std::fs::metadata(page).unwrap().permissions().mode() & 0o777,
        0o600
    );
}

#[test]
fn the_credential_endpoint_serves_a_chained_role_and_renews_it_underneath() {
    let s = chained();
    // Ten-minute role sessions: under the 15-minute window, so each read renews.
    s.mock.set_sts_lifetime(std::time::Duration::from_secs(600));
    let py = crate::interop::python();
    let script = crate::endpoint::READ_TWICE;
    let out = s
        .cmd(&["exec", "--server", "deep", "--", &py, "-c", script])
        .output()
        .unwrap();
    let deep: Vec<String> = s
        .mock
        .assumed_roles()
        .into_iter()
        .filter(|a| a.role_arn == DEEP)
        .map(|a| a.creds.access_key_id)
        .collect();
    crate::endpoint::renewed_underneath(&out, &deep);
}

#[test]
fn many_shells_at_once_cost_one_call_per_role() {
    let s = chained();
    let out = s.run_concurrently(&["deep"], 8);
    assert!(out.contains("AWS_ACCESS_KEY_ID"));
    assert_eq!(s.mock.count(Route::GetRoleCredentials), 1);
    assert_eq!(
        s.mock.count(Route::AssumeRole),
        2,
        "one per role of the chain"
    );
}

#[test]
fn login_to_a_role_profile_readies_the_role_from_the_cached_sso_role() {
    let s = chained();
    s.run(&["dev"]).ok();
    let r = s.run(&["login", "ops", "--use-device-code", "--no-browser"]);
    r.ok();
    assert!(
        r.stderr
            .contains("credentials for profile 'ops' are ready until"),
        "{}",
        r.stderr
    );
    assert_eq!(
        s.mock.count(Route::GetRoleCredentials),
        1,
        "dev's were reused"
    );
    assert_eq!(s.mock.count(Route::AssumeRole), 1);
    assert!(ops_cache(&s).is_file());
}

#[test]
fn a_short_role_session_is_reused_for_half_its_life_and_renewed_half_way() {
    let s = chained();
    s.write_config(&format!(
        "{CONFIG}\n[profile quick]\nrole_arn = {OPS}\nsource_profile = dev\nduration_seconds = 900\nregion = eu-west-1\n"
    ));
    let names = ["SSOENV_EXPIRATION", "SSOENV_RENEW_AT", "AWS_ACCESS_KEY_ID"];
    let first = eval_posix(s.run(&["quick"]).ok(), &names);
    // Fifteen minutes of life, under the 15-minute window: without the half-life rule every
    // export would assume the role again.
    let again = eval_posix(s.run(&["quick"]).ok(), &names);
    assert_eq!(again[2], first[2]);
    assert_eq!(s.mock.count(Route::AssumeRole), 1);
    assert_eq!(s.mock.assumed_roles()[0].duration_seconds, Some(900));
    let (exp, renew): (i64, i64) = (first[0].parse().unwrap(), first[1].parse().unwrap());
    assert!((449..=450).contains(&(exp - renew)), "{exp} {renew}");
}
