//! SSO OIDC (rest-json, unsigned, JSON bodies): CreateToken for the refresh-token grant.
//! Token files are rewritten as botocore does: every key kept, `accessToken`/`expiresAt`
//! replaced, the refresh token replaced only if a new one came back (rotation).

use serde::Deserialize;
use serde_json::{Map, Value, json};

use crate::cache::{self, Token};
use crate::error::Error;
use crate::http::{AwsError, Body, Client};

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TokenOut {
    pub access_token: Option<String>,
    pub expires_in: Option<i64>,
    pub refresh_token: Option<String>,
}

/// Why a refresh did not happen.
pub enum RefreshError {
    /// The server refused the grant or the client: only a new sign-in helps.
    Rejected(String),
    /// Network trouble or a server fault: the old token may still serve.
    Other(Error),
}

/// CreateToken with `grantType=refresh_token`, then the atomic rewrite of the token file.
pub fn refresh(client: &Client, endpoint: &str, token: &Token) -> Result<Token, RefreshError> {
    const OP: &str = "CreateToken";
    let body = json!({
        "clientId": token.client_id,
        "clientSecret": token.client_secret,
        "grantType": "refresh_token",
        "refreshToken": token.refresh_token,
    })
    .to_string();
    let reply = client
        .send(OP, endpoint, "POST", "/token", &[], Body::Json(&body))
        .map_err(RefreshError::Other)?;
    if reply.status != 200 {
        let e = AwsError::from_reply(&reply);
        return Err(match e.code.as_str() {
            "InvalidGrantException" | "ExpiredTokenException" | "AccessDeniedException" => {
                RefreshError::Rejected("the refresh token is no longer valid".into())
            }
            "InvalidClientException" | "UnauthorizedClientException" => {
                RefreshError::Rejected("the client registration is no longer valid".into())
            }
            _ => RefreshError::Other(e.into_error(endpoint, OP)),
        });
    }
    let out: TokenOut = serde_json::from_str(&reply.body).map_err(|_| {
        RefreshError::Other(Error::BadResponse {
            endpoint: endpoint.into(),
            operation: OP,
            message: "the body is not the JSON the API returns".into(),
        })
    })?;
    let mut set = Map::new();
    let (Some(access), Some(expires_in)) = (out.access_token, out.expires_in) else {
        return Err(RefreshError::Other(Error::BadResponse {
            endpoint: endpoint.into(),
            operation: OP,
            message: "no accessToken or expiresIn".into(),
        }));
    };
    set.insert("accessToken".into(), Value::String(access));
    let expires = cache::now() + time::Duration::seconds(expires_in);
    set.insert(
        "expiresAt".into(),
        Value::String(cache::format_time(expires)),
    );
    if let Some(r) = out.refresh_token {
        set.insert("refreshToken".into(), Value::String(r));
    }
    let mut raw = token.raw.clone();
    for (k, v) in set {
        raw.insert(k, v);
    }
    cache::write_json(&token.path, &raw).map_err(RefreshError::Other)?;
    Token::from_map(&token.path, raw).map_err(RefreshError::Other)
}
