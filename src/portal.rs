//! The SSO portal API (rest-json, unsigned, bearer token in `x-amz-sso_bearer_token`):
//! GetRoleCredentials, ListAccounts, ListAccountRoles, Logout. Wire shapes per the
//! `sso` 2019-06-10 model; errors come back as [`Error::Aws`] with their AWS name, for the
//! caller to say what they mean for its profile or login.

use serde::Deserialize;

use crate::cache::RoleCreds;
use crate::error::{Error, Result};
use crate::http::{AwsError, Body, Client, encode};

const TOKEN_HEADER: &str = "x-amz-sso_bearer_token";

/// A GET with the bearer token.
fn get(
    client: &Client,
    endpoint: &str,
    op: &'static str,
    path: &str,
    token: &str,
) -> Result<crate::http::Reply> {
    client.send(
        op,
        endpoint,
        "GET",
        path,
        &[(TOKEN_HEADER, token)],
        Body::None,
    )
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
) -> Result<RoleCreds> {
    const OP: &str = "GetRoleCredentials";
    let path = format!(
        "/federation/credentials?role_name={}&account_id={}",
        encode(role_name),
        encode(account_id)
    );
    let reply = get(client, endpoint, OP, &path, token)?;
    if reply.status != 200 {
        return Err(AwsError::from_reply(&reply).into_error(endpoint, OP));
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
    let nonempty = |v: Option<String>, name: &str| match v {
        Some(s) if s.contains('\0') => Err(bad(&format!("roleCredentials {name} holds a NUL"))),
        Some(s) if !s.is_empty() => Ok(s),
        _ => Err(bad(&format!("roleCredentials has no {name}"))),
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

/// An account the signed-in user can reach (ListAccounts).
#[derive(Debug, Clone, Deserialize, serde::Serialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct Account {
    pub account_id: String,
    #[serde(default)]
    pub account_name: String,
    #[serde(default)]
    pub email_address: String,
}

/// A role of an account (ListAccountRoles).
#[derive(Debug, Clone, Deserialize, serde::Serialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct Role {
    pub role_name: String,
    pub account_id: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct AccountsPage {
    #[serde(default)]
    account_list: Vec<Account>,
    next_token: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RolesPage {
    #[serde(default)]
    role_list: Vec<Role>,
    next_token: Option<String>,
}

/// Every page of a listing: `base` is the path with its query; `next_token` follows until
/// the API returns none (bounded, against a server that loops).
fn pages<T: serde::de::DeserializeOwned>(
    client: &Client,
    endpoint: &str,
    token: &str,
    op: &'static str,
    base: &str,
    mut take: impl FnMut(T) -> Option<String>,
) -> Result<()> {
    let mut next: Option<String> = None;
    for _ in 0..10_000 {
        let sep = if base.contains('?') { '&' } else { '?' };
        let mut path = format!("{base}{sep}max_result=100");
        if let Some(t) = &next {
            path.push_str("&next_token=");
            path.push_str(&encode(t));
        }
        let reply = get(client, endpoint, op, &path, token)?;
        if reply.status != 200 {
            return Err(AwsError::from_reply(&reply).into_error(endpoint, op));
        }
        let page: T = serde_json::from_str(&reply.body).map_err(|_| Error::BadResponse {
            endpoint: endpoint.to_string(),
            operation: op,
            message: "the body is not the JSON the API returns".into(),
        })?;
        next = take(page).filter(|t| !t.is_empty());
        if next.is_none() {
            return Ok(());
        }
    }
    Err(Error::BadResponse {
        endpoint: endpoint.to_string(),
        operation: op,
        message: "the listing does not end".into(),
    })
}

/// ListAccounts, all pages.
pub fn list_accounts(client: &Client, endpoint: &str, token: &str) -> Result<Vec<Account>> {
    let mut all = Vec::new();
    pages(
        client,
        endpoint,
        token,
        "ListAccounts",
        "/assignment/accounts",
        |p: AccountsPage| {
            all.extend(p.account_list);
            p.next_token
        },
    )?;
    Ok(all)
}

/// ListAccountRoles, all pages.
pub fn list_roles(
    client: &Client,
    endpoint: &str,
    token: &str,
    account_id: &str,
) -> Result<Vec<Role>> {
    let mut all = Vec::new();
    let base = format!("/assignment/roles?account_id={}", encode(account_id));
    pages(
        client,
        endpoint,
        token,
        "ListAccountRoles",
        &base,
        |p: RolesPage| {
            all.extend(p.role_list);
            p.next_token
        },
    )?;
    Ok(all)
}
