//! `ssoenv accounts` and `ssoenv roles ACCOUNT`: what the signed-in user can reach, from
//! ListAccounts and ListAccountRoles (all pages), with the session's cached token (refreshed
//! when due, like every other path).

use serde_json::json;

use crate::cli::{AccountsArgs, RolesArgs};
use crate::config;
use crate::credentials::Portal;
use crate::error::{Error, Result};
use crate::portal::Account;
use crate::table;

fn open(flag: Option<&str>) -> Result<Portal> {
    Portal::open(&config::read()?.config()?.choose_login(flag)?)
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
    Ok(table::with_header(&["ACCOUNT", "NAME", "EMAIL"], &rows))
}

pub fn roles(args: &RolesArgs) -> Result<String> {
    let portal = open(args.sso_session.as_deref())?;
    let accounts = portal.accounts()?;
    let wanted = args.account.as_str();
    let matching: Vec<&Account> = accounts
        .iter()
        .filter(|a| a.account_id == wanted || a.account_name.eq_ignore_ascii_case(wanted))
        .collect();
    let account = match matching.as_slice() {
        [one] => *one,
        [] => {
            let close =
                crate::messages::close_to(wanted, accounts.iter().map(|a| a.account_name.as_str()));
            return Err(Error::Other(format!(
                "no account '{}' among the {} you can reach{}",
                crate::messages::visible(wanted),
                accounts.len(),
                if close.is_empty() {
                    " (`ssoenv accounts` lists them)".to_string()
                } else {
                    format!(" (did you mean {}?)", close.join(", "))
                }
            )));
        }
        many => {
            let ids: Vec<&str> = many.iter().map(|a| a.account_id.as_str()).collect();
            return Err(Error::Usage(format!(
                "several accounts are named '{}' ({}); give the account id",
                crate::messages::visible(wanted),
                ids.join(", ")
            )));
        }
    };
    let list = portal.roles(&account.account_id)?;
    if list.is_empty() {
        return Err(Error::Other(format!(
            "account {} ({}) has no role for you",
            account.account_id,
            crate::messages::visible(&account.account_name)
        )));
    }
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
