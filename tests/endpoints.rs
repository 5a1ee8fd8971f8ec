//! Endpoints as the AWS SDKs resolve them: for every region botocore knows (and some it only
//! knows by their shape), with and without FIPS and dual-stack, the SSO portal, SSO OIDC and
//! STS (regional and legacy) URLs ssoenv uses equal what botocore's endpoint rule sets give.

use std::process::Command;

use serde_json::Value;

use crate::support::*;

/// botocore's rule-set resolver over every region of its partitions and some shaped ones.
const PEER: &str = r#"
import json, botocore.session
s = botocore.session.Session()
regions = []
for p in s.get_component("data_loader").load_data("partitions")["partitions"]:
    regions += sorted(p["regions"])
regions += ["us-east-9", "cn-south-7", "eu-isoe-north-3", "xx-nowhere-1", "US-EAST-1"]
out = {}
for svc in ("sso", "sso-oidc", "sts"):
    c = s.create_client(svc, region_name="us-east-1", aws_access_key_id="a", aws_secret_access_key="b")
    provider = c._ruleset_resolver._provider
    for r in regions:
        for fips in (False, True):
            for dual in (False, True):
                e = provider.resolve_endpoint(Region=r, UseFIPS=fips, UseDualStack=dual)
                out[f"{svc} {r} {fips} {dual}"] = e.url
                if svc == "sts":
                    # sts_regional_endpoints = legacy
                    e = provider.resolve_endpoint(Region=r, UseFIPS=fips, UseDualStack=dual, UseGlobalEndpoint=True)
                    out[f"sts-legacy {r} {fips} {dual}"] = e.url
print(json.dumps({"regions": regions, "urls": out}))
"#;

#[test]
fn every_region_and_variant_resolves_as_botocores_rule_sets() {
    let out = Command::new(crate::interop::python())
        .args(["-c", PEER])
        .env_clear()
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let peer: Value = serde_json::from_slice(&out.stdout).unwrap();
    let regions: Vec<&str> = peer["regions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r.as_str().unwrap())
        .collect();
    assert!(regions.len() > 50, "{} regions", regions.len());
    let mut s = Sandbox::new();
    // One sso-session per region; no endpoint overrides.
    let mut config = String::new();
    for (i, r) in regions.iter().enumerate() {
        config.push_str(&format!(
            "[sso-session r{i}]\nsso_start_url = https://x.awsapps.com/start\nsso_region = {r}\n[profile s{i}]\nrole_arn = arn:aws:iam::123456789012:role/R\nsource_profile = src\nregion = {r}\n"
        ));
    }
    config.push_str(
        "[profile src]\nsso_session = r0\nsso_account_id = 123456789012\nsso_role_name = R\n",
    );
    s.write_config(&config);
    s.vars.clear();
    let mut compared = 0;
    for fips in [false, true] {
        for dual in [false, true] {
            for legacy in [false, true] {
                let mut c = s.cmd(&["status", "--json"]);
                c.env_remove("AWS_ENDPOINT_URL_SSO")
                    .env_remove("AWS_ENDPOINT_URL_SSO_OIDC")
                    .env("AWS_USE_FIPS_ENDPOINT", fips.to_string())
                    .env("AWS_USE_DUALSTACK_ENDPOINT", dual.to_string())
                    .env(
                        "AWS_STS_REGIONAL_ENDPOINTS",
                        if legacy { "legacy" } else { "regional" },
                    );
                let run: Run = c.output().unwrap().into();
                let status: Value = serde_json::from_str(run.ok()).unwrap();
                let (fips, dual) = (py(fips), py(dual));
                for login in status["logins"].as_array().unwrap() {
                    let i: usize = login["name"].as_str().unwrap()[1..].parse().unwrap();
                    let r = regions[i];
                    for (svc, field) in [("sso", "portalEndpoint"), ("sso-oidc", "oidcEndpoint")] {
                        let want = &peer["urls"][format!("{svc} {r} {fips} {dual}")];
                        assert_eq!(&login[field], want, "{svc} {r} fips={fips} dual={dual}");
                        compared += 1;
                    }
                }
                let svc = if legacy { "sts-legacy" } else { "sts" };
                for p in status["profiles"].as_array().unwrap() {
                    let name = p["name"].as_str().unwrap();
                    let Some(i) = name.strip_prefix('s').and_then(|i| i.parse::<usize>().ok())
                    else {
                        continue;
                    };
                    let r = regions[i];
                    let want = &peer["urls"][format!("{svc} {r} {fips} {dual}")];
                    assert_eq!(&p["stsEndpoint"], want, "{svc} {r} fips={fips} dual={dual}");
                    compared += 1;
                }
            }
        }
    }
    assert_eq!(compared, regions.len() * 4 * 3 * 2);
}

fn py(b: bool) -> &'static str {
    if b { "True" } else { "False" }
}

#[test]
fn a_start_url_on_the_dual_stack_portal_domain_uses_dual_stack_endpoints() {
    let s = Sandbox::new();
    s.write_config("[sso-session v6]\nsso_start_url = https://d-123.portal.us-east-1.app.aws\nsso_region = us-east-1\n[sso-session v4]\nsso_start_url = https://d-123.awsapps.com/start\nsso_region = us-east-1\n");
    let mut c = s.cmd(&["status", "--json"]);
    c.env_remove("AWS_ENDPOINT_URL_SSO")
        .env_remove("AWS_ENDPOINT_URL_SSO_OIDC");
    let run: Run = c.output().unwrap().into();
    let v: Value = serde_json::from_str(run.ok()).unwrap();
    let logins = v["logins"].as_array().unwrap();
    assert_eq!(logins[0]["oidcEndpoint"], "https://oidc.us-east-1.api.aws");
    assert_eq!(
        logins[0]["portalEndpoint"],
        "https://portal.sso.us-east-1.api.aws"
    );
    assert_eq!(
        logins[1]["oidcEndpoint"],
        "https://oidc.us-east-1.amazonaws.com"
    );
}
