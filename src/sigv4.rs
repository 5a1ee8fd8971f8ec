//! AWS Signature Version 4 (the "AWS4-HMAC-SHA256" scheme), as the AWS docs specify it and
//! botocore implements it: canonical request, string to sign, the HMAC-SHA256 key chain
//! (ring, already linked for TLS). Only presigned GET URLs are made here (EKS tokens); the
//! tests check every signature against botocore's own signer.

use ring::{digest, hmac};
use time::OffsetDateTime;

use crate::cache::RoleCreds;

/// RFC 3986 percent-encoding of everything but the unreserved characters, as SigV4 wants.
fn uri_encode(s: &str, keep_slash: bool) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) || (keep_slash && b == b'/') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

fn sha256_hex(data: &[u8]) -> String {
    hex::encode(digest::digest(&digest::SHA256, data))
}

fn hmac(key: &[u8], data: &[u8]) -> Vec<u8> {
    hmac::sign(&hmac::Key::new(hmac::HMAC_SHA256, key), data)
        .as_ref()
        .to_vec()
}

/// What to presign: `GET` of `url` (`https://host/path`) with `params`, also signing
/// `headers` (beyond `host`), valid `expires` seconds from `now`.
pub struct Presign<'a> {
    pub url: &'a str,
    pub region: &'a str,
    pub service: &'a str,
    pub params: &'a [(&'a str, &'a str)],
    pub headers: &'a [(&'a str, &'a str)],
    pub expires: u64,
    pub now: OffsetDateTime,
}

impl Presign<'_> {
    /// The presigned URL.
    pub fn sign(&self, keys: &RoleCreds) -> String {
        let (scheme, rest) = self.url.split_once("://").unwrap_or(("https", self.url));
        let (host, path) = match rest.find('/') {
            Some(i) => (&rest[..i], &rest[i..]),
            None => (rest, "/"),
        };
        let t = self.now.to_offset(time::UtcOffset::UTC);
        let date = format!("{:04}{:02}{:02}", t.year(), u8::from(t.month()), t.day());
        let amz_date = format!("{date}T{:02}{:02}{:02}Z", t.hour(), t.minute(), t.second());
        let scope = format!("{date}/{}/{}/aws4_request", self.region, self.service);
        // Headers: lower-case names, sorted; values trimmed, inner runs of spaces as one.
        let mut headers: Vec<(String, String)> = self
            .headers
            .iter()
            .map(|(k, v)| {
                (
                    k.to_ascii_lowercase(),
                    v.split_whitespace().collect::<Vec<_>>().join(" "),
                )
            })
            .collect();
        headers.push(("host".into(), host.to_ascii_lowercase()));
        headers.sort();
        let signed: Vec<&str> = headers.iter().map(|(k, _)| k.as_str()).collect();
        let signed = signed.join(";");
        let canonical_headers: String = headers.iter().map(|(k, v)| format!("{k}:{v}\n")).collect();
        let credential = format!("{}/{scope}", keys.access_key_id);
        let expires = self.expires.to_string();
        let mut query: Vec<(String, String)> = self
            .params
            .iter()
            .map(|(k, v)| (uri_encode(k, false), uri_encode(v, false)))
            .collect();
        let mut auth = vec![
            ("X-Amz-Algorithm", "AWS4-HMAC-SHA256"),
            ("X-Amz-Credential", credential.as_str()),
            ("X-Amz-Date", amz_date.as_str()),
            ("X-Amz-Expires", expires.as_str()),
            ("X-Amz-SignedHeaders", signed.as_str()),
        ];
        if !keys.session_token.is_empty() {
            auth.push(("X-Amz-Security-Token", keys.session_token.as_str()));
        }
        query.extend(
            auth.iter()
                .map(|(k, v)| (uri_encode(k, false), uri_encode(v, false))),
        );
        query.sort();
        let canonical_query: Vec<String> = query.iter().map(|(k, v)| format!("{k}={v}")).collect();
        let canonical_query = canonical_query.join("&");
        let canonical = format!(
            "GET\n{}\n{canonical_query}\n{canonical_headers}\n{signed}\n{}",
            uri_encode(path, true),
            sha256_hex(b"")
        );
        let to_sign = format!(
            "AWS4-HMAC-SHA256\n{amz_date}\n{scope}\n{}",
            sha256_hex(canonical.as_bytes())
        );
        let mut key = hmac(
            format!("AWS4{}", keys.secret_access_key).as_bytes(),
            date.as_bytes(),
        );
        for part in [self.region, self.service, "aws4_request"] {
            key = hmac(&key, part.as_bytes());
        }
        let signature = hex::encode(hmac(&key, to_sign.as_bytes()));
        format!("{scheme}://{host}{path}?{canonical_query}&X-Amz-Signature={signature}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    #[test]
    fn the_signing_key_chain_matches_the_aws_documentation_example() {
        // The AWS docs' example key: secret wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY,
        // 20120215, us-east-1, iam.
        let mut k = hmac(b"AWS4wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", b"20120215");
        for part in ["us-east-1", "iam", "aws4_request"] {
            k = hmac(&k, part.as_bytes());
        }
        assert_eq!(
            hex::encode(k),
            "f4780e2d9f65fa895f9c67b32ce1baf0b0d8a43505a000a1a9e090d414db404d"
        );
    }

    #[test]
    fn presigned_urls_carry_the_auth_parameters_sorted_and_encoded() {
        let keys = RoleCreds {
            access_key_id: "ASIAX".into(),
            secret_access_key: "s".into(),
            session_token: "t/+=".into(),
            expiration: datetime!(2026-11-25 13:00 UTC),
            account_id: String::new(),
        };
        let url = Presign {
            url: "https://sts.eu-west-1.amazonaws.com/",
            region: "eu-west-1",
            service: "sts",
            params: &[("Action", "GetCallerIdentity"), ("Version", "2011-06-15")],
            headers: &[("x-k8s-aws-id", "my-cluster")],
            expires: 60,
            now: datetime!(2026-11-25 12:00:05 UTC),
        }
        .sign(&keys);
        assert!(url.starts_with("https://sts.eu-west-1.amazonaws.com/?Action=GetCallerIdentity&Version=2011-06-15&X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=ASIAX%2F20261125%2Feu-west-1%2Fsts%2Faws4_request&X-Amz-Date=20261125T120005Z&X-Amz-Expires=60&X-Amz-Security-Token=t%2F%2B%3D&X-Amz-SignedHeaders=host%3Bx-k8s-aws-id&X-Amz-Signature="), "{url}");
    }
}
