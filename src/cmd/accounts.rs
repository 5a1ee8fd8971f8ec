//! `ssoenv accounts` and `ssoenv roles ACCOUNT`: what the signed-in user can reach, from
//! ListAccounts and ListAccountRoles (all pages), with the session's cached token (refreshed
//! when due, like every other path).

use serde_json::json;

use crate::cli::{AccountsArgs, RolesArgs};
use crate::config;
use crate::credentials::Portal;
use crate::error::{Error, Result};
use crate::table;

fn open(flag: Option<&str>) -> Result<Portal> {
    Portal::open(&config::load()?.choose_login(flag)?)
}

pub fn accounts(args: &AccountsArgs) -> Result<String> {
    let list = open(args.sso_session.as_deref())?.accounts()?;
    if args.json {
        return Ok(format!(
            "{}\n",
            serde_json::to_string_pretty(&list).unwrap_or_default()
        ));
    }
    let rows: Vec<Vec<String>> = list
        .iter()
        .map(|a| {
            vec![
                a.account_id.clone(),
                a.account_name.clone(),
                a.email_address.clone(),
            ]
        })
        .collect();
    Ok(table::with_header(&["ACCOUNT", "NAME", "EMAIL"], rows))
}

pub fn roles(args: &RolesArgs) -> Result<String> {
    if args.account.len() != 12 || !args.account.bytes().all(|b| b.is_ascii_digit()) {
        return Err(Error::Usage(format!(
            "'{}' is not an account id (12 digits)",
            crate::messages::visible(&args.account)
        )));
    }
    let list = open(args.sso_session.as_deref())?.roles(&args.account)?;
    if args.json {
        let v: Vec<_> = list
            .iter()
            .map(|r| json!({"roleName": r.role_name, "accountId": r.account_id}))
            .collect();
        return Ok(format!(
            "{}\n",
            serde_json::to_string_pretty(&v).unwrap_or_default()
        ));
    }
    Ok(list.iter().map(|r| format!("{}\n", r.role_name)).collect())
}
