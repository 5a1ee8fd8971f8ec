//! SSO OIDC (rest-json, unsigned, JSON bodies): CreateToken for the refresh-token grant.
//! Token files are rewritten as botocore does: every key kept, `accessToken`/`expiresAt`
//! replaced, the refresh token replaced only if a new one came back (rotation).

use serde::Deserialize;
use serde_json::{Map, Value, json};

use crate::cache::{self, Token};
use crate::config::Login;
use crate::error::Error;
use crate::http::{AwsError, Body, Client, Service};
use crate::{clock, files};
use time::OffsetDateTime;

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
    let expires = clock::now() + time::Duration::seconds(expires_in);
    set.insert(
        "expiresAt".into(),
        Value::String(clock::format_time(expires)),
    );
    if let Some(r) = out.refresh_token {
        set.insert("refreshToken".into(), Value::String(r));
    }
    let mut raw = token.raw.clone();
    for (k, v) in set {
        raw.insert(k, v);
    }
    files::write_json(&token.path, &raw).map_err(RefreshError::Other)?;
    Token::from_map(&token.path, raw).map_err(RefreshError::Other)
}

// ---------------------------------------------------------------------------------------------
// Sign-in: RegisterClient, StartDeviceAuthorization, CreateToken (device code, auth code).

pub const DEVICE_GRANT: &str = "urn:ietf:params:oauth:grant-type:device_code";

/// Which sign-in flow a registration serves; one is never reused for the other.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Flow {
    /// RFC 8628.
    Device,
    /// RFC 7636 + RFC 8252: authorization code with PKCE through a loopback redirect.
    AuthCode,
}

#[derive(Clone)]
pub struct Registration {
    pub client_id: String,
    pub client_secret: String,
    pub expires_at: OffsetDateTime,
}

impl std::fmt::Debug for Registration {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Registration")
            .field("client_id", &self.client_id)
            .field("client_secret", &"<redacted>")
            .field("expires_at", &clock::format_time(self.expires_at))
            .finish()
    }
}

/// The AWS CLI's registration cache file: `sha1(json.dumps({"region", "scopes",
/// "session_name", "startUrl", "tool": "botocore"}, sort_keys=True))` with Python's default
/// separators; absent scopes and session are `null`.
pub fn registration_path(t: &Login) -> Result<std::path::PathBuf, Error> {
    let scopes = if t.scopes.is_empty() {
        Value::Null
    } else {
        json!(t.scopes)
    };
    let session = t.session.as_ref().map_or(Value::Null, |s| json!(s));
    let parts = [
        ("region", json!(t.region)),
        ("scopes", scopes),
        ("session_name", session),
        ("startUrl", json!(t.start_url)),
        ("tool", json!("botocore")),
    ];
    let body: Vec<String> = parts
        .iter()
        .map(|(k, v)| format!("\"{k}\": {}", python_json(v)))
        .collect();
    let key = cache::ascii_json(&format!("{{{}}}", body.join(", ")));
    Ok(cache::token_dir()?.join(format!("{}.json", files::sha1_hex(&key))))
}

/// `json.dumps` with default separators (`", "` and `": "`).
fn python_json(v: &Value) -> String {
    match v {
        Value::Array(items) => {
            let inner: Vec<String> = items.iter().map(python_json).collect();
            format!("[{}]", inner.join(", "))
        }
        other => other.to_string(),
    }
}

fn grant_types(flow: Flow, refreshable: bool) -> Vec<&'static str> {
    match (flow, refreshable) {
        (Flow::AuthCode, _) => vec!["authorization_code", "refresh_token"],
        (Flow::Device, true) => vec![DEVICE_GRANT, "refresh_token"],
        (Flow::Device, false) => vec![],
    }
}

/// A cached registration for this flow with more than 15 minutes left, or a new one.
pub fn registration(
    client: &Client,
    t: &Login,
    flow: Flow,
    redirect_uri: Option<&str>,
) -> Result<Registration, Error> {
    let path = registration_path(t)?;
    let now = clock::now();
    if let Ok(Some(m)) = files::read_json(&path) {
        let s = |k: &str| m.get(k).and_then(Value::as_str).map(str::to_string);
        let cached_grants: Vec<&str> = m
            .get("grantTypes")
            .and_then(Value::as_array)
            .map(|a| a.iter().filter_map(Value::as_str).collect())
            .unwrap_or_default();
        let same_flow = match flow {
            Flow::AuthCode => cached_grants.contains(&"authorization_code"),
            Flow::Device => !cached_grants.contains(&"authorization_code"),
        };
        if let (Some(id), Some(secret), Some(exp)) = (
            s("clientId"),
            s("clientSecret"),
            s("expiresAt").and_then(|e| clock::parse_time(&e)),
        ) && same_flow
            && exp - now > cache::WINDOW
        {
            crate::debug!("RegisterClient: reusing {}", path.display());
            return Ok(Registration {
                client_id: id,
                client_secret: secret,
                expires_at: exp,
            });
        }
    }
    const OP: &str = "RegisterClient";
    let scopes = t.effective_scopes();
    let grants = grant_types(flow, t.session.is_some());
    let mut body = json!({
        "clientName": format!("ssoenv-{}", t.session.as_deref().unwrap_or("legacy")),
        "clientType": "public",
    });
    if !scopes.is_empty() {
        body["scopes"] = json!(scopes);
    }
    if !grants.is_empty() {
        body["grantTypes"] = json!(grants);
    }
    if flow == Flow::AuthCode {
        body["redirectUris"] = json!(redirect_uri.into_iter().collect::<Vec<_>>());
        body["issuerUrl"] = json!(t.start_url);
    }
    let out: Value = call(
        client,
        &t.endpoint(Service::Oidc),
        OP,
        "/client/register",
        &body,
    )?;
    let bad = |m: &str| Error::BadResponse {
        endpoint: t.endpoint(Service::Oidc),
        operation: OP,
        message: m.to_string(),
    };
    let id = out["clientId"].as_str().ok_or_else(|| bad("no clientId"))?;
    let secret = out["clientSecret"]
        .as_str()
        .ok_or_else(|| bad("no clientSecret"))?;
    let exp = out["clientSecretExpiresAt"]
        .as_i64()
        .and_then(|e| OffsetDateTime::from_unix_timestamp(e).ok())
        .ok_or_else(|| bad("no clientSecretExpiresAt"))?;
    let mut file = Map::new();
    file.insert("clientId".into(), json!(id));
    file.insert("clientSecret".into(), json!(secret));
    file.insert("expiresAt".into(), json!(clock::format_time(exp)));
    if !scopes.is_empty() {
        file.insert("scopes".into(), json!(scopes));
    }
    if !grants.is_empty() {
        file.insert("grantTypes".into(), json!(grants));
    }
    files::write_json(&path, &file)?;
    Ok(Registration {
        client_id: id.to_string(),
        client_secret: secret.to_string(),
        expires_at: exp,
    })
}

/// A POST with a JSON body; any non-200 becomes the AWS error.
fn call(
    client: &Client,
    endpoint: &str,
    op: &'static str,
    path: &str,
    body: &Value,
) -> Result<Value, Error> {
    let reply = client.send(
        op,
        endpoint,
        "POST",
        path,
        &[],
        Body::Json(&body.to_string()),
    )?;
    if reply.status != 200 {
        return Err(AwsError::from_reply(&reply).into_error(endpoint, op));
    }
    serde_json::from_str(&reply.body).map_err(|_| Error::BadResponse {
        endpoint: endpoint.to_string(),
        operation: op,
        message: "the body is not JSON".into(),
    })
}

pub struct DeviceAuth {
    pub device_code: String,
    pub user_code: String,
    pub verification_uri: String,
    pub verification_uri_complete: String,
    pub expires_in: u64,
    pub interval: u64,
}

pub fn start_device(client: &Client, t: &Login, reg: &Registration) -> Result<DeviceAuth, Error> {
    const OP: &str = "StartDeviceAuthorization";
    let body = json!({"clientId": reg.client_id, "clientSecret": reg.client_secret, "startUrl": t.start_url});
    let out = call(
        client,
        &t.endpoint(Service::Oidc),
        OP,
        "/device_authorization",
        &body,
    )?;
    let s = |k: &str| out[k].as_str().map(str::to_string);
    let bad = || Error::BadResponse {
        endpoint: t.endpoint(Service::Oidc),
        operation: OP,
        message: "no deviceCode, userCode or verificationUri".into(),
    };
    let uri = s("verificationUri").ok_or_else(bad)?;
    Ok(DeviceAuth {
        device_code: s("deviceCode").ok_or_else(bad)?,
        user_code: s("userCode").ok_or_else(bad)?,
        verification_uri_complete: s("verificationUriComplete").unwrap_or_else(|| uri.clone()),
        verification_uri: uri,
        expires_in: out["expiresIn"].as_u64().unwrap_or(600),
        interval: out["interval"].as_u64().filter(|i| *i > 0).unwrap_or(5),
    })
}

/// A new token from CreateToken.
pub struct NewToken {
    pub access_token: String,
    pub expires_in: i64,
    pub refresh_token: Option<String>,
}

impl std::fmt::Debug for NewToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("NewToken(<redacted>)")
    }
}

/// The outcome of one CreateToken call during sign-in.
pub enum Poll {
    Done(NewToken),
    Pending,
    SlowDown,
}

pub fn create_token(client: &Client, endpoint: &str, body: &Value) -> Result<Poll, Error> {
    const OP: &str = "CreateToken";
    let reply = client.send(
        OP,
        endpoint,
        "POST",
        "/token",
        &[],
        Body::Json(&body.to_string()),
    )?;
    if reply.status != 200 {
        let e = AwsError::from_reply(&reply);
        return match e.code.as_str() {
            "AuthorizationPendingException" => Ok(Poll::Pending),
            "SlowDownException" => Ok(Poll::SlowDown),
            _ => Err(e.into_error(endpoint, OP)),
        };
    }
    let out: TokenOut = serde_json::from_str(&reply.body).map_err(|_| Error::BadResponse {
        endpoint: endpoint.to_string(),
        operation: OP,
        message: "the body is not the JSON the API returns".into(),
    })?;
    match (out.access_token, out.expires_in) {
        (Some(a), Some(e)) => Ok(Poll::Done(NewToken {
            access_token: a,
            expires_in: e,
            refresh_token: out.refresh_token,
        })),
        _ => Err(Error::BadResponse {
            endpoint: endpoint.to_string(),
            operation: OP,
            message: "no accessToken or expiresIn".into(),
        }),
    }
}

/// Writes the token file as the AWS CLI does, keeping unknown keys of an existing one.
pub fn save_token(t: &Login, reg: &Registration, new: &NewToken) -> Result<Token, Error> {
    let path = cache::token_path(t.token_key())?;
    let mut raw = match files::read_json(&path) {
        Ok(Some(m)) => m,
        _ => Map::new(),
    };
    let expires = clock::now() + time::Duration::seconds(new.expires_in);
    raw.insert("startUrl".into(), json!(t.start_url));
    raw.insert("region".into(), json!(t.region));
    raw.insert("accessToken".into(), json!(new.access_token));
    raw.insert("expiresAt".into(), json!(clock::format_time(expires)));
    if t.session.is_some() {
        match &new.refresh_token {
            Some(r) => raw.insert("refreshToken".into(), json!(r)),
            None => raw.remove("refreshToken"),
        };
        raw.insert("clientId".into(), json!(reg.client_id));
        raw.insert("clientSecret".into(), json!(reg.client_secret));
        raw.insert(
            "registrationExpiresAt".into(),
            json!(clock::format_time(reg.expires_at)),
        );
    }
    files::write_json(&path, &raw)?;
    Token::from_map(&path, raw)
}

/// base64url without padding (RFC 4648 §5), for the PKCE challenge (RFC 7636 §4.2).
pub fn base64url(bytes: &[u8]) -> String {
    const A: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        let chars = chunk.len() + 1;
        for i in 0..chars {
            out.push(A[((n >> (18 - 6 * i)) & 63) as usize] as char);
        }
    }
    out
}

/// `code_challenge = base64url(SHA-256(verifier))` (RFC 7636 §4.2, S256).
pub fn pkce_challenge(verifier: &str) -> String {
    base64url(ring::digest::digest(&ring::digest::SHA256, verifier.as_bytes()).as_ref())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pkce_challenge_matches_rfc7636_appendix_b() {
        assert_eq!(
            pkce_challenge("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"),
            "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
        );
        assert_eq!(base64url(b"f"), "Zg");
        assert_eq!(base64url(b"fo"), "Zm8");
        assert_eq!(base64url(b"foo"), "Zm9v");
    }

    #[test]
    fn registration_key_is_the_clis() {
        // hashlib.sha1(json.dumps({"region": "us-east-1", "scopes": ["sso:account:access"],
        //   "session_name": "corp", "startUrl": "https://corp.awsapps.com/start",
        //   "tool": "botocore"}, sort_keys=True).encode()).hexdigest()
        let t = Login::session(
            "corp",
            "https://corp.awsapps.com/start",
            "us-east-1",
            vec!["sso:account:access".into()],
        );
        let p = registration_path(&t).unwrap();
        assert_eq!(
            p.file_name().unwrap().to_str().unwrap(),
            "1b56c55d6e723362537167a7f43960b8185b5a80.json"
        );
    }
}
