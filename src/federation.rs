//! The AWS sign-in federation endpoint, for the console of credentials that are not an SSO
//! role: `getSigninToken` turns a role session into a sign-in token, and the `login` link
//! carries that token to the console. Wire shapes and the call, nothing else.

use crate::cache::RoleCreds;
use crate::error::{Error, Result};
use crate::http::{AwsError, Body, Client, encode};

/// The federation endpoint of a region's partition: `AWS_ENDPOINT_URL_SIGNIN` (or
/// `AWS_ENDPOINT_URL`) when set, else the partition's sign-in host.
pub fn endpoint(region: Option<&str>) -> String {
    for var in ["AWS_ENDPOINT_URL_SIGNIN", "AWS_ENDPOINT_URL"] {
        if let Ok(v) = std::env::var(var)
            && !v.is_empty()
        {
            return format!("{}/federation", v.trim_end_matches('/'));
        }
    }
    let region = region.unwrap_or("");
    let host = if region.starts_with("cn-") {
        "signin.amazonaws.cn"
    } else if region.starts_with("us-gov-") {
        "signin.amazonaws-us-gov.com"
    } else {
        "signin.aws.amazon.com"
    };
    format!("https://{host}/federation")
}

/// `getSigninToken` for a role session. No `SessionDuration`: the federation endpoint refuses
/// it for credentials of a role assumed from another role session (role chaining), and the
/// console then lasts as long as the credentials, at most its own 12 hours.
pub fn signin_token(client: &Client, endpoint: &str, creds: &RoleCreds) -> Result<String> {
    let session = serde_json::json!({
        "sessionId": creds.access_key_id,
        "sessionKey": creds.secret_access_key,
        "sessionToken": creds.session_token,
    })
    .to_string();
    let (base, path) = split(endpoint);
    let query = format!("{path}?Action=getSigninToken&Session={}", encode(&session));
    let reply = client.send("getSigninToken", base, "GET", &query, &[], Body::None)?;
    if !(200..300).contains(&reply.status) {
        return Err(AwsError::from_reply(&reply).into_error(endpoint, "getSigninToken"));
    }
    let v: serde_json::Value = serde_json::from_str(&reply.body).unwrap_or_default();
    v.get("SigninToken")
        .and_then(|t| t.as_str())
        .filter(|t| !t.is_empty() && t.bytes().all(|b| b.is_ascii_graphic()))
        .map(str::to_string)
        .ok_or_else(|| Error::BadResponse {
            endpoint: endpoint.to_string(),
            operation: "getSigninToken",
            message: "the answer has no SigninToken".into(),
        })
}

/// The link that signs the browser in with a token and opens `destination`.
pub fn login_url(endpoint: &str, token: &str, destination: &str) -> String {
    format!(
        "{endpoint}?Action=login&Issuer=ssoenv&Destination={}&SigninToken={}",
        encode(destination),
        encode(token)
    )
}

/// `https://host/path` as base (`https://host`) and path (`/path`).
fn split(url: &str) -> (&str, &str) {
    let after = url.find("://").map_or(0, |i| i + 3);
    match url[after..].find('/') {
        Some(i) => url.split_at(after + i),
        None => (url, "/"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_partition_has_its_sign_in_host_and_the_link_is_encoded() {
        // Only when the overrides are not set in the environment running the tests.
        if std::env::var_os("AWS_ENDPOINT_URL_SIGNIN").is_none()
            && std::env::var_os("AWS_ENDPOINT_URL").is_none()
        {
            assert_eq!(
                endpoint(Some("eu-west-1")),
                "https://signin.aws.amazon.com/federation"
            );
            assert_eq!(
                endpoint(Some("cn-north-1")),
                "https://signin.amazonaws.cn/federation"
            );
            assert_eq!(
                endpoint(Some("us-gov-west-1")),
                "https://signin.amazonaws-us-gov.com/federation"
            );
        }
        assert_eq!(
            split("https://signin.aws.amazon.com/federation"),
            ("https://signin.aws.amazon.com", "/federation")
        );
        assert_eq!(
            login_url("https://s/federation", "t+/=", "https://c/x?region=a"),
            "https://s/federation?Action=login&Issuer=ssoenv&Destination=https%3A%2F%2Fc%2Fx%3Fregion%3Da&SigninToken=t%2B%2F%3D"
        );
    }
}
