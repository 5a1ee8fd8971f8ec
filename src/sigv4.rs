//! AWS Signature Version 4 (the "AWS4-HMAC-SHA256" scheme), as the AWS docs specify it and
//! botocore implements it: canonical request, string to sign, the HMAC-SHA256 key chain
//! (ring, already linked for TLS): presigned GET URLs (EKS tokens) and signed POSTs (STS
//! AssumeRole). The tests check signatures against botocore's own signer and the mock's.

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

/// The date parts of a signature: `20261125`, `20261125T120005Z`.
fn dates(now: OffsetDateTime) -> (String, String) {
    let t = now.to_offset(time::UtcOffset::UTC);
    let date = format!("{:04}{:02}{:02}", t.year(), u8::from(t.month()), t.day());
    let amz_date = format!("{date}T{:02}{:02}{:02}Z", t.hour(), t.minute(), t.second());
    (date, amz_date)
}

/// `https://host/path` split into scheme, host and path (`/` when none).
fn split_url(url: &str) -> (&str, &str, &str) {
    let (scheme, rest) = url.split_once("://").unwrap_or(("https", url));
    match rest.find('/') {
        Some(i) => (scheme, &rest[..i], &rest[i..]),
        None => (scheme, rest, "/"),
    }
}

/// Headers as signed: lower-case names, sorted; values trimmed, inner runs of spaces as one.
/// Returns the canonical header block and the signed-header list.
fn canonical_headers(headers: &[(&str, &str)], host: &str) -> (String, String) {
    let mut all: Vec<(String, String)> = headers
        .iter()
        .map(|(k, v)| {
            (
                k.to_ascii_lowercase(),
                v.split_whitespace().collect::<Vec<_>>().join(" "),
            )
        })
        .collect();
    all.push(("host".into(), host.to_ascii_lowercase()));
    all.sort();
    let block = all.iter().map(|(k, v)| format!("{k}:{v}\n")).collect();
    let names: Vec<&str> = all.iter().map(|(k, _)| k.as_str()).collect();
    (block, names.join(";"))
}

/// A request as SigV4 canonicalises it.
struct Canonical<'a> {
    method: &'a str,
    path: &'a str,
    query: &'a str,
    headers: &'a str,
    signed: &'a str,
    payload: &'a [u8],
}

/// The signature of a canonical request: string to sign, then the HMAC key chain.
fn signature(
    c: &Canonical,
    keys: &RoleCreds,
    (date, amz_date): (&str, &str),
    region: &str,
    service: &str,
) -> String {
    let canonical = format!(
        "{}\n{}\n{}\n{}\n{}\n{}",
        c.method,
        uri_encode(c.path, true),
        c.query,
        c.headers,
        c.signed,
        sha256_hex(c.payload)
    );
    let scope = format!("{date}/{region}/{service}/aws4_request");
    let to_sign = format!(
        "AWS4-HMAC-SHA256\n{amz_date}\n{scope}\n{}",
        sha256_hex(canonical.as_bytes())
    );
    let mut key = hmac(
        format!("AWS4{}", keys.secret_access_key).as_bytes(),
        date.as_bytes(),
    );
    for part in [region, service, "aws4_request"] {
        key = hmac(&key, part.as_bytes());
    }
    hex::encode(hmac(&key, to_sign.as_bytes()))
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
        let (scheme, host, path) = split_url(self.url);
        let (date, amz_date) = dates(self.now);
        let (canonical_headers, signed) = canonical_headers(self.headers, host);
        let credential = format!(
            "{}/{date}/{}/{}/aws4_request",
            keys.access_key_id, self.region, self.service
        );
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
        let canonical = Canonical {
            method: "GET",
            path,
            query: &canonical_query,
            headers: &canonical_headers,
            signed: &signed,
            payload: b"",
        };
        let signature = signature(
            &canonical,
            keys,
            (&date, &amz_date),
            self.region,
            self.service,
        );
        format!("{scheme}://{host}{path}?{canonical_query}&X-Amz-Signature={signature}")
    }
}

/// What to sign in headers: a `POST` of `body` to `url` (no query) with `headers` (beyond
/// `host` and the ones signing adds), as botocore's `SigV4Auth` signs the query-protocol APIs.
pub struct SignedPost<'a> {
    pub url: &'a str,
    pub region: &'a str,
    pub service: &'a str,
    pub headers: &'a [(&'a str, &'a str)],
    pub body: &'a str,
    pub now: OffsetDateTime,
}

impl SignedPost<'_> {
    /// The headers to send besides `headers`: `X-Amz-Date`, `X-Amz-Security-Token` (for
    /// session credentials) and `Authorization`.
    pub fn sign(&self, keys: &RoleCreds) -> Vec<(&'static str, String)> {
        let (_, host, path) = split_url(self.url);
        let (date, amz_date) = dates(self.now);
        let mut added = vec![("X-Amz-Date", amz_date.clone())];
        if !keys.session_token.is_empty() {
            added.push(("X-Amz-Security-Token", keys.session_token.clone()));
        }
        let mut all: Vec<(&str, &str)> = self.headers.to_vec();
        all.extend(added.iter().map(|(k, v)| (*k, v.as_str())));
        let (canonical_headers, signed) = canonical_headers(&all, host);
        let canonical = Canonical {
            method: "POST",
            path,
            query: "",
            headers: &canonical_headers,
            signed: &signed,
            payload: self.body.as_bytes(),
        };
        let signature = signature(
            &canonical,
            keys,
            (&date, &amz_date),
            self.region,
            self.service,
        );
        added.push((
            "Authorization",
            format!(
                "AWS4-HMAC-SHA256 Credential={}/{date}/{}/{}/aws4_request, SignedHeaders={signed}, Signature={signature}",
                keys.access_key_id, self.region, self.service
            ),
        ));
        added
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
