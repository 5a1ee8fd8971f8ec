//! `ssoenv status [PROFILE] [--json]`: offline and fast. Each SSO login (sso-session or
//! legacy start URL) with its cached token, and each SSO profile with its cached credentials.
//! Reads files only; starts no network connection and refreshes nothing.

use std::collections::{HashMap, HashSet};
use std::ffi::OsString;
use std::path::{Path, PathBuf};

use serde::Serialize;
use time::OffsetDateTime;

use crate::cache;
use crate::cli::StatusArgs;
use crate::clock;
use crate::config::{self, Config, Login, Profile};
use crate::error::Result;
use crate::table;

/// "in 3h 12m" / "2m ago", to the minute (seconds under a minute).
pub fn relative(to: OffsetDateTime, now: OffsetDateTime) -> String {
    let secs = (to - now).whole_seconds();
    let a = secs.unsigned_abs();
    let text = if a >= 86_400 {
        format!("{}d {}h", a / 86_400, a % 86_400 / 3600)
    } else if a >= 3600 {
        format!("{}h {}m", a / 3600, a % 3600 / 60)
    } else if a >= 60 {
        format!("{}m", a / 60)
    } else {
        format!("{a}s")
    };
    if secs >= 0 {
        format!("in {text}")
    } else {
        format!("{text} ago")
    }
}

/// One login's token, as `status` reports it.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct LoginRow {
    /// `sso-session` or `start-url`.
    kind: &'static str,
    name: String,
    start_url: String,
    region: String,
    /// Where this login's portal and OIDC calls go.
    portal_endpoint: String,
    oidc_endpoint: String,
    token_file: String,
    token: TokenState,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct TokenState {
    cached: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    expires_at: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    expires_in: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    refreshable: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<String>,
}

/// One profile and its cached credentials, or why it does not resolve. (Most rows resolve:
/// boxing them to even out the variants would cost an allocation each.)
#[derive(Serialize)]
#[serde(untagged)]
#[allow(clippy::large_enum_variant)]
enum ProfileRow {
    Resolved {
        name: String,
        login: String,
        #[serde(rename = "ssoSession")]
        sso_session: Option<String>,
        #[serde(rename = "startUrl")]
        start_url: String,
        #[serde(rename = "ssoRegion")]
        sso_region: String,
        #[serde(rename = "accountId")]
        account_id: String,
        #[serde(rename = "roleName")]
        role_name: String,
        /// The last role of a role chain (`role_arn`), assumed from the SSO role above.
        #[serde(rename = "roleArn", skip_serializing_if = "Option::is_none")]
        role_arn: Option<String>,
        /// Where that role is asked for.
        #[serde(rename = "stsEndpoint", skip_serializing_if = "Option::is_none")]
        sts_endpoint: Option<String>,
        region: Option<String>,
        credentials: CredentialState,
    },
    Broken {
        name: String,
        error: String,
    },
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct CredentialState {
    cached: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    expiration: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    expires_in: Option<i64>,
}

#[derive(Serialize)]
struct Report {
    logins: Vec<LoginRow>,
    profiles: Vec<ProfileRow>,
}

pub fn run(args: &StatusArgs) -> Result<String> {
    let cfg = config::load()?;
    let now = clock::now();
    let mut logins: Vec<Login> = Vec::new();
    let add = |logins: &mut Vec<Login>, l: &Login| {
        if !logins
            .iter()
            .any(|x| x.session == l.session && x.token_key() == l.token_key())
        {
            logins.push(l.clone());
        }
    };
    if args.profile.is_none() {
        for s in cfg.sso_sessions() {
            if let Ok(l) = cfg.session_login(&s.name) {
                add(&mut logins, &l);
            }
        }
    }
    // Each profile becomes its row as it is resolved: ten thousand resolved profiles are
    // not held at once, and their values move into the rows.
    let mut cached = CachedRoles::default();
    let mut profiles = Vec::with_capacity(match args.profile {
        Some(_) => 1,
        None => cfg.profiles().count(),
    });
    let mut row = |name: &str, p: Result<Profile>| {
        profiles.push(match p {
            Ok(p) => {
                add(&mut logins, &p.login);
                profile_row(p, now, &mut cached)
            }
            Err(e) => ProfileRow::Broken {
                name: name.to_string(),
                error: e.to_string(),
            },
        });
    };
    match &args.profile {
        Some(name) => row(name, Ok(cfg.resolve(name)?)),
        None => {
            for s in cfg.profiles().filter(|s| Config::is_sso(s)) {
                row(&s.name, cfg.resolve(&s.name));
            }
        }
    }
    let report = Report {
        logins: logins
            .iter()
            .map(|l| login_row(l, now))
            .collect::<Result<_>>()?,
        profiles,
    };
    // The rows own what they show: the config's memory serves the output now.
    drop(cfg);
    let out = if args.json {
        let mut json = serde_json::to_string_pretty(&report).unwrap_or_default();
        json.push('\n');
        json
    } else {
        draw(&report, now)
    };
    // The process ends with this command: freeing ten thousand rows one by one would cost a
    // good part of building them.
    std::mem::forget(report);
    Ok(out)
}

/// The names in each role-credential cache directory, read once: with thousands of profiles
/// and a few cached, opening each profile's file (absent for most) was a third of `status`.
#[derive(Default)]
struct CachedRoles {
    dirs: HashMap<PathBuf, Option<Names>>,
}

/// A directory's file names, on the lexer's hash: each profile looks its file up here.
type Names = HashSet<OsString, std::hash::BuildHasherDefault<crate::ini::Fingerprint>>;

impl CachedRoles {
    /// Whether the directory may hold this file (`true` when it cannot be listed).
    fn may_hold(&mut self, path: &Path) -> bool {
        let (Some(dir), Some(name)) = (path.parent(), path.file_name()) else {
            return true;
        };
        if !self.dirs.contains_key(dir) {
            let names = std::fs::read_dir(dir)
                .ok()
                .map(|entries| entries.flatten().map(|e| e.file_name()).collect());
            self.dirs.insert(dir.to_path_buf(), names);
        }
        self.dirs
            .get(dir)
            .and_then(Option::as_ref)
            .is_none_or(|n| n.contains(name))
    }
}

fn login_row(l: &Login, now: OffsetDateTime) -> Result<LoginRow> {
    let key = l.token_key();
    let token = match cache::read_token(key) {
        Ok(Some(t)) => TokenState {
            cached: true,
            expires_at: Some(clock::format_time(t.expires_at)),
            expires_in: Some((t.expires_at - now).whole_seconds()),
            refreshable: Some(l.session.is_some() && t.can_refresh(now)),
            error: None,
        },
        Ok(None) => TokenState {
            cached: false,
            expires_at: None,
            expires_in: None,
            refreshable: None,
            error: None,
        },
        Err(e) => TokenState {
            cached: false,
            expires_at: None,
            expires_in: None,
            refreshable: None,
            error: Some(e.to_string()),
        },
    };
    Ok(LoginRow {
        kind: if l.session.is_some() {
            "sso-session"
        } else {
            "start-url"
        },
        name: key.to_string(),
        start_url: l.start_url.clone(),
        region: l.region.clone(),
        portal_endpoint: l.endpoint(crate::http::Service::Portal),
        oidc_endpoint: l.endpoint(crate::http::Service::Oidc),
        token_file: cache::token_path(key)?.display().to_string(),
        token,
    })
}

fn profile_row(p: Profile, now: OffsetDateTime, roles: &mut CachedRoles) -> ProfileRow {
    let listed = crate::credentials::role_cache_path(&p).is_ok_and(|path| roles.may_hold(&path));
    let credentials = match listed.then(|| crate::credentials::cached(&p)).flatten() {
        Some(c) => CredentialState {
            cached: true,
            expiration: Some(clock::format_time(c.expiration)),
            expires_in: Some((c.expiration - now).whole_seconds()),
        },
        None => CredentialState {
            cached: false,
            expiration: None,
            expires_in: None,
        },
    };
    let login = p.login.token_key().to_string();
    let (role_arn, sts_endpoint) = match &p.chain {
        Some(c) => (c.hops.last().map(|h| h.role_arn.clone()), Some(c.sts().0)),
        None => (None, None),
    };
    ProfileRow::Resolved {
        name: p.name,
        login,
        sso_session: p.login.session,
        start_url: p.login.start_url,
        sso_region: p.login.region,
        account_id: p.account_id,
        role_name: p.role_name,
        role_arn,
        sts_endpoint,
        region: p.region,
        credentials,
    }
}

/// "expires in 3h" / "expired 2m ago".
fn expiry(
    verb: (&str, &str),
    at: &Option<String>,
    left: Option<i64>,
    now: OffsetDateTime,
) -> String {
    let when = at
        .as_deref()
        .and_then(clock::parse_time)
        .map(|t| relative(t, now))
        .unwrap_or_default();
    if left.unwrap_or(0) > 0 {
        format!("{} {when}", verb.0)
    } else {
        format!("{} {when}", verb.1)
    }
}

fn draw(r: &Report, now: OffsetDateTime) -> String {
    let logins = r
        .logins
        .iter()
        .map(|l| {
            let t = &l.token;
            let name = if l.kind == "sso-session" {
                format!("sso-session {}", crate::messages::visible(&l.name))
            } else {
                crate::messages::visible(&l.start_url)
            };
            let state = match (&t.error, t.cached) {
                (Some(e), _) => format!("unusable: {e}"),
                (None, true) => expiry(("expires", "expired"), &t.expires_at, t.expires_in, now),
                (None, false) => "not signed in".into(),
            };
            let refresh = if t.refreshable == Some(true) {
                "yes"
            } else {
                "no"
            };
            vec![name, state, refresh.into()]
        })
        .collect();
    let mut out = table::with_header(&["LOGIN", "TOKEN", "REFRESH"], logins);
    out.push('\n');
    let profiles = r
        .profiles
        .iter()
        .map(|p| match p {
            ProfileRow::Broken { name, error } => {
                vec![crate::messages::visible(name), format!("error: {error}")]
            }
            ProfileRow::Resolved {
                name,
                account_id,
                role_name,
                role_arn,
                region,
                credentials: c,
                ..
            } => vec![
                crate::messages::visible(name),
                account_id.clone(),
                match role_arn {
                    Some(arn) => format!("{} (from {role_name})", crate::messages::visible(arn)),
                    None => role_name.clone(),
                },
                region.clone().unwrap_or_else(|| "-".into()),
                if c.cached {
                    expiry(("expire", "expired"), &c.expiration, c.expires_in, now)
                } else {
                    "none cached".into()
                },
            ],
        })
        .collect();
    out.push_str(&table::with_header(
        &["PROFILE", "ACCOUNT", "ROLE", "REGION", "CREDENTIALS"],
        profiles,
    ));
    out
}

#[cfg(test)]
mod tests {
    use super::relative;
    use time::macros::datetime;

    #[test]
    fn relative_times_read_naturally() {
        let now = datetime!(2026-11-25 12:00 UTC);
        assert_eq!(
            relative(datetime!(2026-11-25 15:12:30 UTC), now),
            "in 3h 12m"
        );
        assert_eq!(relative(datetime!(2026-11-25 11:58 UTC), now), "2m ago");
        assert_eq!(relative(datetime!(2026-11-27 13:00 UTC), now), "in 2d 1h");
        assert_eq!(relative(datetime!(2026-11-25 12:00:09 UTC), now), "in 9s");
    }
}
