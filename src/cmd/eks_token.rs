//! `ssoenv eks-token --cluster NAME [PROFILE] [--region R]`: the `ExecCredential` kubectl's
//! exec plugin reads, as `aws eks get-token` prints it — a `k8s-aws-v1.` token wrapping a
//! SigV4-presigned STS GetCallerIdentity URL that signs the `x-k8s-aws-id` header, and its
//! `expirationTimestamp` 14 minutes on — from a warm path of about a millisecond: the token is
//! cached (0600, in ssoenv's state) per cluster, profile, endpoint and credentials until a
//! minute before it expires. `AWS_ENDPOINT_URL_STS` (or `AWS_ENDPOINT_URL`) moves STS.

use serde_json::json;
use time::Duration;

use crate::cli::EksTokenArgs;
use crate::clock;
use crate::config;
use crate::credentials;
use crate::error::{Error, Result};
use crate::files;
use crate::sigv4::Presign;

/// The presigned URL's own lifetime, and the token's as `aws eks get-token` states it.
const URL_SECONDS: u64 = 60;
const TOKEN_MINUTES: i64 = 14;

const SNIPPET: &str = "\
users:
- name: NAME
  user:
    exec:
      apiVersion: client.authentication.k8s.io/v1beta1
      command: ssoenv
      args: [eks-token, --cluster, CLUSTER, PROFILE]
      interactiveMode: Never
";

pub fn run(args: &EksTokenArgs) -> Result<String> {
    let name = config::choose_profile(args.profile.as_deref());
    if args.kubeconfig_snippet {
        let cluster = args.cluster.as_deref().unwrap_or("CLUSTER");
        return Ok(SNIPPET
            .replace("NAME", &format!("{cluster}-{name}"))
            .replace("CLUSTER", cluster)
            .replace("PROFILE", &name));
    }
    let cluster = args
        .cluster
        .as_deref()
        .filter(|c| !c.is_empty())
        .ok_or_else(|| Error::Usage("eks-token needs --cluster NAME".into()))?;
    let profile = config::load_for(&name)?.resolve(&name)?;
    let region = args
        .region
        .clone()
        .or_else(|| profile.region.clone())
        .ok_or_else(|| {
            Error::Usage(format!(
                "profile '{}' has no region; give --region",
                crate::messages::visible(&name)
            ))
        })?;
    config::check_region(&region)
        .map_err(|why| Error::Usage(format!("--region {region}: {why}")))?;
    // The regional endpoint of the region's partition, or the override.
    let (endpoint, _) =
        crate::http::sts_endpoint(Some(&region), None, crate::http::Variant::default(), false);
    let now = clock::now();
    // The cache first, then the lock and the portal: as every export.
    let creds = credentials::credentials(&profile)?;
    let key = files::sha1_hex(&format!(
        "{cluster}\n{name}\n{endpoint}\n{}",
        creds.access_key_id
    ));
    let path = files::state_dir()?.join("eks").join(format!("{key}.json"));
    let cached = files::read_json(&path).ok().flatten().and_then(|m| {
        let token = m.get("token")?.as_str()?.to_string();
        let exp = clock::parse_time(m.get("expirationTimestamp")?.as_str()?)?;
        (exp - now > Duration::minutes(1)).then_some((token, exp))
    });
    let (token, expiration) = match cached {
        Some(pair) => pair,
        None => {
            let url = Presign {
                url: &endpoint,
                region: &region,
                service: "sts",
                params: &[("Action", "GetCallerIdentity"), ("Version", "2011-06-15")],
                headers: &[("x-k8s-aws-id", cluster)],
                expires: URL_SECONDS,
                now,
            }
            .sign(&creds);
            let token = format!("k8s-aws-v1.{}", crate::oidc::base64url(url.as_bytes()));
            let exp = now + Duration::minutes(TOKEN_MINUTES);
            let file = json!({"token": token, "expirationTimestamp": clock::format_time(exp)});
            if let Some(m) = file.as_object()
                && let Err(e) = files::write_json(&path, m)
            {
                crate::debug!("eks token not cached: {e}");
            }
            (token, exp)
        }
    };
    // kubectl says which API version it speaks in KUBERNETES_EXEC_INFO.
    let api = std::env::var("KUBERNETES_EXEC_INFO")
        .ok()
        .and_then(|v| serde_json::from_str::<serde_json::Value>(&v).ok())
        .and_then(|v| v["apiVersion"].as_str().map(str::to_string))
        .unwrap_or_else(|| "client.authentication.k8s.io/v1beta1".into());
    let out = json!({
        "kind": "ExecCredential",
        "apiVersion": api,
        "spec": {},
        "status": {
            "expirationTimestamp": clock::format_time(expiration),
            "token": token,
        },
    });
    Ok(format!("{out}\n"))
}
