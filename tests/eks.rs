//! `ssoenv eks-token`: the ExecCredential of `aws eks get-token`, its presigned URL verified
//! by botocore's own SigV4 signer and accepted by the mock's STS, cached while it lasts.

use std::process::Command;

use serde_json::Value;

use crate::support::*;

/// The URL inside a `k8s-aws-v1.` token.
fn url_of(token: &str) -> String {
    let b64 = token
        .strip_prefix("k8s-aws-v1.")
        .expect("the token's prefix");
    let out = Command::new(crate::interop::python())
        .args([
            "-c",
            "import base64, sys; s = sys.argv[1]; print(base64.urlsafe_b64decode(s + '=' * (-len(s) % 4)).decode())",
            b64,
        ])
        .output()
        .unwrap();
    String::from_utf8(out.stdout).unwrap().trim().to_string()
}

/// botocore recomputes the URL's signature for these credentials at the URL's own time.
const VERIFY: &str = r#"
import sys, urllib.parse as up
from botocore.auth import SigV4QueryAuth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
url, ak, sk, tok, region, cluster = sys.argv[1:7]
parts = up.urlsplit(url)
q = dict(up.parse_qsl(parts.query, keep_blank_values=True))
auth = SigV4QueryAuth(Credentials(ak, sk, tok), "sts", region, expires=int(q["X-Amz-Expires"]))
req = AWSRequest(method="GET", url=f"{parts.scheme}://{parts.netloc}{parts.path}",
                 params={"Action": q["Action"], "Version": q["Version"]},
                 headers={"x-k8s-aws-id": cluster})
req.context["timestamp"] = q["X-Amz-Date"]
auth._modify_request_before_signing(req)
canonical = auth.canonical_request(req)
print(auth.signature(auth.string_to_sign(req, canonical), req) == q["X-Amz-Signature"])
"#;

/// Whether botocore finds the URL's signature right for these credentials and cluster.
fn botocore_verifies(url: &str, c: &Creds, cluster: &str) -> bool {
    let out = Command::new(crate::interop::python())
        .args([
            "-c",
            VERIFY,
            url,
            &c.access_key_id,
            &c.secret_access_key,
            &c.session_token,
            "eu-west-2",
            cluster,
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim() == "True"
}

#[test]
fn the_token_is_a_presigned_url_botocore_verifies_and_is_reused_while_it_lasts() {
    let s = Sandbox::signed_in();
    let out = s
        .run(&["eks-token", "--cluster", "my-cluster", "dev"])
        .ok()
        .to_string();
    let v: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["kind"], "ExecCredential");
    assert_eq!(v["apiVersion"], "client.authentication.k8s.io/v1beta1");
    assert_eq!(v["spec"], serde_json::json!({}));
    let exp = v["status"]["expirationTimestamp"].as_str().unwrap();
    assert!(exp.ends_with('Z') && exp.len() == 20, "{exp}");
    let token = v["status"]["token"].as_str().unwrap();
    let url = url_of(token);
    assert!(
        url.starts_with("https://sts.eu-west-2.amazonaws.com/?Action=GetCallerIdentity&Version=2011-06-15&X-Amz-Algorithm=AWS4-HMAC-SHA256"),
        "{url}"
    );
    assert!(
        url.contains("X-Amz-SignedHeaders=host%3Bx-k8s-aws-id") && url.contains("X-Amz-Expires=60")
    );
    let c = &s.mock.issued_credentials()[0];
    assert!(botocore_verifies(&url, c, "my-cluster"));
    // Signed for one cluster only: botocore does not accept it for another.
    assert!(!botocore_verifies(&url, c, "other-cluster"));
    // Again within its life: the same token, no request.
    let requests = s.mock.requests().len();
    let again = s
        .run(&["eks-token", "--cluster", "my-cluster", "dev"])
        .ok()
        .to_string();
    assert_eq!(again, out);
    assert_eq!(s.mock.requests().len(), requests);
    let cached = std::fs::read_dir(s.home().join(".local/state/ssoenv/eks"))
        .unwrap()
        .next()
        .unwrap()
        .unwrap()
        .path();
    let mode = std::fs::metadata(&cached).unwrap();
    assert_eq!(
        std::os::unix::fs::PermissionsExt::mode(&mode.permissions()) & 0o777,
        0o600
    );
    // Within a minute of its end, the token is signed anew (with the cached credentials:
    // still no request).
    let mut file: Value = serde_json::from_str(&std::fs::read_to_string(&cached).unwrap()).unwrap();
    file["expirationTimestamp"] = iso(now() + 30).into();
    std::fs::write(&cached, file.to_string()).unwrap();
    std::thread::sleep(std::time::Duration::from_millis(1100));
    let renewed = s
        .run(&["eks-token", "--cluster", "my-cluster", "dev"])
        .ok()
        .to_string();
    let v: Value = serde_json::from_str(&renewed).unwrap();
    assert_ne!(renewed, out);
    assert!(botocore_verifies(
        &url_of(v["status"]["token"].as_str().unwrap()),
        c,
        "my-cluster"
    ));
    assert_eq!(s.mock.requests().len(), requests);
}

#[test]
fn the_sts_endpoint_override_and_the_kubeconfig_snippet() {
    let mut s = Sandbox::signed_in();
    s.set("AWS_ENDPOINT_URL_STS", "https://sts.internal.example");
    let v: Value = serde_json::from_str(
        s.run(&[
            "eks-token",
            "--cluster",
            "c",
            "--region",
            "us-east-1",
            "dev",
        ])
        .ok(),
    )
    .unwrap();
    let url = url_of(v["status"]["token"].as_str().unwrap());
    assert!(
        url.starts_with("https://sts.internal.example/?Action=GetCallerIdentity"),
        "{url}"
    );
    assert!(url.contains("%2Fus-east-1%2Fsts%2Faws4_request"), "{url}");
    let snippet = s
        .run(&[
            "eks-token",
            "--cluster",
            "prod-eks",
            "--kubeconfig-snippet",
            "dev",
        ])
        .ok()
        .to_string();
    assert!(
        snippet.contains("args: [eks-token, --cluster, prod-eks, dev]"),
        "{snippet}"
    );
    s.run(&["eks-token", "dev"]).fails(2, "--cluster");
}

#[test]
fn sts_accepts_the_token_for_its_cluster_only() {
    let mut s = Sandbox::signed_in();
    let url = s.mock.url();
    s.set("AWS_ENDPOINT_URL_STS", &url);
    let out = s
        .run(&["eks-token", "--cluster", "prod", "dev"])
        .ok()
        .to_string();
    let v: Value = serde_json::from_str(&out).unwrap();
    let presigned = url_of(v["status"]["token"].as_str().unwrap());
    assert!(
        presigned.starts_with(&format!("{url}/?Action=GetCallerIdentity")),
        "{presigned}"
    );
    // What the cluster's authenticator does: GET the URL with the cluster's header.
    let (status, body) = http_get(&presigned, &[("x-k8s-aws-id", "prod")]);
    assert_eq!(status, 200, "{body}");
    assert!(
        body.contains("<Account>111111111111</Account>")
            && body.contains("<Arn>arn:aws:sts::111111111111:assumed-role/ReadOnly/"),
        "{body}"
    );
    // Another cluster's header does not match the signature.
    let (status, body) = http_get(&presigned, &[("x-k8s-aws-id", "staging")]);
    assert_eq!(status, 403);
    assert!(body.contains("SignatureDoesNotMatch"), "{body}");
}
