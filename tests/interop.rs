//! botocore (the AWS SDK for Python, which the AWS CLI is built on) as a peer on the same HOME:
//! each reads what the other cached, and each picks up the other's token refresh.

use std::process::Command;

use serde_json::Value;

use crate::support::*;

const PEER: &str = r#"
import json, os, sys
import botocore.session
from botocore.credentials import JSONFileCache
s = botocore.session.Session(profile=sys.argv[1])
if "cli-cache" in sys.argv:
    # What the AWS CLI does: share ~/.aws/cli/cache, for SSO and assumed roles.
    cache = JSONFileCache(os.path.expanduser(os.path.join("~", ".aws", "cli", "cache")))
    r = s.get_component("credential_provider")
    r.get_provider("sso").cache = cache
    r.get_provider("assume-role").cache = cache
c = s.get_credentials().get_frozen_credentials()
print(json.dumps({"AccessKeyId": c.access_key, "SecretAccessKey": c.secret_key, "SessionToken": c.token}))
"#;

pub fn python() -> String {
    let out = tool("python3")
        .args(["-c", "import sys, botocore; print(sys.executable)"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "botocore is not installed for python3: run the tests with tests/run, which installs it: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap().trim().to_string()
}

/// botocore's credentials for a profile, in the sandbox's HOME and endpoints (STS's too).
pub(crate) fn botocore(s: &Sandbox, profile: &str, cli_cache: bool) -> Value {
    botocore_routed(s, profile, cli_cache, true)
}

/// botocore as a peer; with `by_env`, every AWS call goes to the mock by the endpoint
/// variables, else only as the config routes it.
pub(crate) fn botocore_routed(s: &Sandbox, profile: &str, cli_cache: bool, by_env: bool) -> Value {
    let mut c = Command::new(python());
    c.arg("-c").arg(PEER).arg(profile);
    if cli_cache {
        c.arg("cli-cache");
    }
    c.env_clear().env("HOME", s.home());
    if by_env {
        for var in [
            "AWS_ENDPOINT_URL_SSO",
            "AWS_ENDPOINT_URL_SSO_OIDC",
            "AWS_ENDPOINT_URL_STS",
        ] {
            c.env(var, s.mock.url());
        }
    }
    let out = c
        .env(
            "AWS_SHARED_CREDENTIALS_FILE",
            s.dir.path().join("no-credentials"),
        )
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "botocore: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

#[test]
fn botocore_uses_the_token_ssoenv_signed_in_with() {
    let s = Sandbox::new();
    s.run(&[
        "login",
        "--sso-session",
        "corp",
        "--use-device-code",
        "--no-browser",
    ])
    .ok();
    let token = s.read_token("corp")["accessToken"]
        .as_str()
        .unwrap()
        .to_string();
    let v = botocore(&s, "dev", false);
    let issued = s.mock.issued_credentials();
    assert_eq!(
        v["AccessKeyId"],
        issued.last().unwrap().access_key_id.as_str()
    );
    let get = s.mock.first(Route::GetRoleCredentials).unwrap();
    assert_eq!(get.header("x-amz-sso_bearer_token"), Some(token.as_str()));
}

#[test]
fn credentials_cached_by_either_are_used_by_the_other_without_a_request() {
    let s = Sandbox::signed_in();
    let ours = s.exported("dev");
    s.mock.clear_requests();
    let v = botocore(&s, "dev", true);
    assert_eq!(v["AccessKeyId"], ours[0].as_str());
    assert_eq!(v["SessionToken"], ours[2].as_str());
    assert_eq!(s.mock.requests().len(), 0, "botocore read ssoenv's cache");

    let theirs = botocore(&s, "admin", true);
    s.mock.clear_requests();
    assert_eq!(
        s.exported("admin")[0],
        theirs["AccessKeyId"].as_str().unwrap()
    );
    assert_eq!(s.mock.requests().len(), 0, "ssoenv read botocore's cache");
}

fn refreshable(s: &Sandbox) {
    s.mock.add_client(
        "client-corp",
        "secret-corp",
        &["authorization_code", "refresh_token"],
    );
    s.mock.add_refresh_token("refresh-corp-1", "client-corp");
    s.write_session_token(now() + 300);
}

#[test]
fn ssoenv_reads_the_token_botocore_refreshed() {
    let s = Sandbox::new();
    refreshable(&s);
    botocore(&s, "dev", false);
    assert_eq!(s.mock.count(Route::CreateToken), 1, "botocore refreshed");
    let new_token = s.read_token("corp")["accessToken"]
        .as_str()
        .unwrap()
        .to_string();
    assert_ne!(new_token, ACCESS_TOKEN);
    s.mock.clear_requests();
    s.exported("admin");
    assert_eq!(s.mock.count(Route::CreateToken), 0, "no second refresh");
    let get = s.mock.first(Route::GetRoleCredentials).unwrap();
    assert_eq!(
        get.header("x-amz-sso_bearer_token"),
        Some(new_token.as_str())
    );
}

#[test]
fn botocore_reads_the_token_ssoenv_refreshed() {
    let s = Sandbox::new();
    refreshable(&s);
    s.exported("dev");
    assert_eq!(s.mock.count(Route::CreateToken), 1);
    let new_token = s.read_token("corp")["accessToken"]
        .as_str()
        .unwrap()
        .to_string();
    s.mock.clear_requests();
    botocore(&s, "admin", false);
    assert_eq!(
        s.mock.count(Route::CreateToken),
        0,
        "botocore found a fresh token"
    );
    let get = s.mock.first(Route::GetRoleCredentials).unwrap();
    assert_eq!(
        get.header("x-amz-sso_bearer_token"),
        Some(new_token.as_str())
    );
}
