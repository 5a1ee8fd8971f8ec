//! The SSO portal API (rest-json, unsigned, bearer token in `x-amz-sso_bearer_token`):
//! GetRoleCredentials, ListAccounts, ListAccountRoles, Logout. Wire shapes per the
//! `sso` 2019-06-10 model; errors become [`Error`]s that say what to do.

use serde::Deserialize;

use crate::cache::RoleCreds;
use crate::error::{Error, Result};
use crate::http::{AwsError, Body, Client, encode};

const TOKEN_HEADER: &str = "x-amz-sso_bearer_token";

/// Who is asking, for messages: the profile and the login it uses.
pub struct Caller<'a> {
    pub profile: &'a str,
    pub login: String,
    pub login_hint: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RoleCredentialsOut {
    role_credentials: Option<WireCreds>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct WireCreds {
    access_key_id: Option<String>,
    secret_access_key: Option<String>,
    session_token: Option<String>,
    expiration: Option<i64>,
}

pub fn get_role_credentials(
    client: &Client,
    endpoint: &str,
    token: &str,
    account_id: &str,
    role_name: &str,
    caller: &Caller<'_>,
) -> Result<RoleCreds> {
    const OP: &str = "GetRoleCredentials";
    let path = format!(
        "/federation/credentials?role_name={}&account_id={}",
        encode(role_name),
        encode(account_id)
    );
    let reply = client.send(
        OP,
        endpoint,
        "GET",
        &path,
        &[(TOKEN_HEADER, token)],
        Body::None,
    )?;
    if reply.status != 200 {
        let e = AwsError::from_reply(&reply);
        return Err(match e.code.as_str() {
            "UnauthorizedException" => Error::LoginRequired {
                what: caller.login.clone(),
                reason: "the SSO session has expired or was signed out".into(),
                hint: caller.login_hint.clone(),
            },
            "ForbiddenException" => Error::NoAccess {
                role: role_name.to_string(),
                account: account_id.to_string(),
                profile: caller.profile.to_string(),
            },
            _ => e.into_error(endpoint, OP),
        });
    }
    let bad = |message: &str| Error::BadResponse {
        endpoint: endpoint.to_string(),
        operation: OP,
        message: message.to_string(),
    };
    let out: RoleCredentialsOut = serde_json::from_str(&reply.body)
        .map_err(|_| bad("the body is not the JSON the API returns"))?;
    let c = out
        .role_credentials
        .ok_or_else(|| bad("no roleCredentials"))?;
    let nonempty = |v: Option<String>, name: &str| {
        v.filter(|s| !s.is_empty())
            .ok_or_else(|| bad(&format!("roleCredentials has no {name}")))
    };
    let expiration_ms = c
        .expiration
        .ok_or_else(|| bad("roleCredentials has no expiration"))?;
    let expiration = time::OffsetDateTime::from_unix_timestamp(expiration_ms.div_euclid(1000))
        .map_err(|_| bad("expiration is out of range"))?;
    Ok(RoleCreds {
        access_key_id: nonempty(c.access_key_id, "accessKeyId")?,
        secret_access_key: nonempty(c.secret_access_key, "secretAccessKey")?,
        session_token: nonempty(c.session_token, "sessionToken")?,
        expiration,
        account_id: account_id.to_string(),
    })
}

/// POST /logout: ends the session server-side.
pub fn logout(client: &Client, endpoint: &str, token: &str) -> Result<()> {
    const OP: &str = "Logout";
    let reply = client.send(
        OP,
        endpoint,
        "POST",
        "/logout",
        &[(TOKEN_HEADER, token)],
        Body::None,
    )?;
    if reply.status / 100 != 2 {
        return Err(AwsError::from_reply(&reply).into_error(endpoint, OP));
    }
    Ok(())
}
