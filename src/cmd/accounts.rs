//! `ssoenv accounts` and `ssoenv roles ACCOUNT`: what the signed-in user can reach, from
//! ListAccounts and ListAccountRoles (all pages), with the session's cached token (refreshed
//! when due, like every other path).

use serde_json::json;

use crate::cli::{AccountsArgs, RolesArgs};
use crate::config::{self, Config, SsoProfile, SsoSession};
use crate::error::{Error, Result};
use crate::http::{self, Client, Service};
use crate::portal::{self, Account, Role};
use crate::session;

/// The session a command works on: the flag, else the only `[sso-session]`, else the one of
/// the profile in use.
pub fn choose_session(cfg: &Config, flag: Option<&str>) -> Result<SsoSession> {
    if let Some(name) = flag {
        return cfg.session(name);
    }
    let names: Vec<&str> = cfg.sso_sessions().map(|s| s.name.as_str()).collect();
    if names.len() == 1 {
        return cfg.session(names[0]);
    }
    if let Ok(p) = cfg.resolve(&config::choose_profile(None))
        && let Some(s) = &p.session
    {
        return cfg.session(s);
    }
    if names.is_empty() {
        Err(Error::Other(format!(
            "{} has no [sso-session] section; add one with `ssoenv configure sso-session`",
            cfg.path.display()
        )))
    } else {
        Err(Error::Usage(format!(
            "{} has several [sso-session] sections ({}); pass --sso-session NAME",
            cfg.path.display(),
            names.join(", ")
        )))
    }
}

/// A profile-shaped view of a session alone: what the token and portal code take.
pub fn session_profile(s: &SsoSession) -> SsoProfile {
    SsoProfile {
        name: String::new(),
        start_url: s.start_url.clone(),
        sso_region: s.region.clone(),
        account_id: String::new(),
        role_name: String::new(),
        session: Some(s.name.clone()),
        scopes: s.scopes.clone(),
        region: None,
        portal_endpoint: None,
        oidc_endpoint: None,
        ca_bundle: None,
    }
}

/// A signed-in view of the portal for one login.
pub struct Portal {
    client: Client,
    endpoint: String,
    token: String,
    login: String,
    hint: String,
}

impl Portal {
    /// With the login's cached token, refreshed when due.
    pub fn open(p: &SsoProfile) -> Result<Portal> {
        let client = Client::new(p.ca_bundle.as_deref())?;
        let token = {
            let _lock = session::take_lock(p.token_key());
            session::valid_token(p, &client)?
        };
        Ok(Portal::with_token(client, p, token.access_token.clone()))
    }

    pub fn with_token(client: Client, p: &SsoProfile, token: String) -> Portal {
        Portal {
            endpoint: http::endpoint(Service::Portal, &p.sso_region, p.portal_endpoint.as_deref()),
            client,
            token,
            login: p.login_name(),
            hint: session::login_hint(p),
        }
    }

    fn caller(&self) -> portal::Caller<'_> {
        portal::Caller {
            profile: "",
            login: self.login.clone(),
            login_hint: self.hint.clone(),
        }
    }

    pub fn accounts(&self) -> Result<Vec<Account>> {
        let mut a =
            portal::list_accounts(&self.client, &self.endpoint, &self.token, &self.caller())?;
        a.sort_by(|x, y| {
            (x.account_name.to_lowercase(), &x.account_id)
                .cmp(&(y.account_name.to_lowercase(), &y.account_id))
        });
        Ok(a)
    }

    pub fn roles(&self, account: &str) -> Result<Vec<Role>> {
        let mut r = portal::list_roles(
            &self.client,
            &self.endpoint,
            &self.token,
            account,
            &self.caller(),
        )?;
        r.sort_by(|x, y| x.role_name.cmp(&y.role_name));
        Ok(r)
    }
}

fn open(flag: Option<&str>) -> Result<Portal> {
    let cfg = config::load()?;
    let s = choose_session(&cfg, flag)?;
    Portal::open(&session_profile(&s))
}

/// Columns padded to their widest cell.
pub fn table(header: &[&str], rows: &[Vec<String>]) -> String {
    let mut w: Vec<usize> = header.iter().map(|h| h.len()).collect();
    for r in rows {
        for (i, c) in r.iter().enumerate() {
            w[i] = w[i].max(c.chars().count());
        }
    }
    let mut out = String::new();
    let mut line = |cells: Vec<&str>| {
        let last = cells.len() - 1;
        for (i, c) in cells.iter().enumerate() {
            out.push_str(c);
            if i < last {
                out.push_str(&" ".repeat(w[i] - c.chars().count() + 2));
            }
        }
        out.push('\n');
    };
    line(header.to_vec());
    for r in rows {
        line(r.iter().map(String::as_str).collect());
    }
    out
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
    Ok(table(&["ACCOUNT", "NAME", "EMAIL"], &rows))
}

pub fn roles(args: &RolesArgs) -> Result<String> {
    if args.account.len() != 12 || !args.account.bytes().all(|b| b.is_ascii_digit()) {
        return Err(Error::Usage(format!(
            "'{}' is not an account id (12 digits)",
            args.account
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
