//! `ssoenv status [PROFILE] [--json]`: offline and fast. Each SSO login (sso-session or
//! legacy start URL) with its cached token, and each SSO profile with its cached credentials.
//! Reads files only; starts no network connection and refreshes nothing.

use std::borrow::Cow;
use std::collections::HashSet;

use serde::Serialize;
use time::OffsetDateTime;

use crate::cache;
use crate::cli::StatusArgs;
use crate::clock;
use crate::config::{self, Config, Login, Resolved, Section};
use crate::error::Result;
use crate::messages::visible_cow;
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
/// boxing them to even out the variants would cost an allocation each.) An SSO profile's
/// row borrows its settings from the config; a role chain's holds its built profile.
#[allow(clippy::large_enum_variant)]
enum ProfileRow<'c> {
    Resolved {
        name: &'c str,
        profile: Resolved<'c>,
        credentials: CredentialState,
    },
    Broken {
        name: &'c str,
        error: String,
    },
}

/// What a resolved row shows, borrowed from it: its JSON, field by field.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Shown<'r> {
    name: &'r str,
    login: &'r str,
    sso_session: Option<&'r str>,
    start_url: &'r str,
    sso_region: &'r str,
    account_id: &'r str,
    role_name: &'r str,
    /// The last role of a role chain (`role_arn`), assumed from the SSO role above.
    #[serde(skip_serializing_if = "Option::is_none")]
    role_arn: Option<&'r str>,
    /// Where that role is asked for.
    #[serde(skip_serializing_if = "Option::is_none")]
    sts_endpoint: Option<String>,
    region: Option<&'r str>,
    credentials: &'r CredentialState,
}

/// A row that does not resolve, as JSON.
#[derive(Serialize)]
struct BrokenShown<'r> {
    name: &'r str,
    error: &'r str,
}

/// What a resolved row shows (its role chain's STS endpoint only when `sts`).
fn shown<'r>(
    name: &'r str,
    profile: &'r Resolved<'_>,
    credentials: &'r CredentialState,
    sts: bool,
) -> Shown<'r> {
    match profile {
        Resolved::Sso(s) => Shown {
            name,
            login: s.token_key(),
            sso_session: s.session(),
            start_url: s.start_url,
            sso_region: s.sso_region,
            account_id: s.account_id,
            role_name: s.role_name,
            role_arn: None,
            sts_endpoint: None,
            region: s.region,
            credentials,
        },
        Resolved::Chain(p) => {
            let chain = p.chain.as_ref();
            Shown {
                name,
                login: p.login.token_key(),
                sso_session: p.login.session.as_deref(),
                start_url: &p.login.start_url,
                sso_region: &p.login.region,
                account_id: &p.account_id,
                role_name: &p.role_name,
                role_arn: chain
                    .and_then(|c| c.hops.last())
                    .map(|h| h.role_arn.as_str()),
                sts_endpoint: chain.filter(|_| sts).map(|c| c.sts().0),
                region: p.region.as_deref(),
                credentials,
            }
        }
    }
}

impl Serialize for ProfileRow<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        match self {
            ProfileRow::Resolved {
                name,
                profile,
                credentials,
            } => shown(name, profile, credentials, true).serialize(s),
            ProfileRow::Broken { name, error } => BrokenShown { name, error }.serialize(s),
        }
    }
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
struct Report<'c> {
    logins: Vec<LoginRow>,
    profiles: Rows<'c>,
}

/// The profile rows as made on two threads: the first half's, then the second's, kept apart
/// so that they are never copied into one list (a copy of ten thousand rows is megabytes).
#[derive(Default)]
struct Rows<'c>(Vec<ProfileRow<'c>>, Vec<ProfileRow<'c>>);

impl<'c> Rows<'c> {
    fn iter(&self) -> impl Iterator<Item = &ProfileRow<'c>> + Clone {
        self.0.iter().chain(&self.1)
    }
}

impl Serialize for Rows<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        s.collect_seq(self.iter())
    }
}

pub fn run(args: &StatusArgs) -> Result<String> {
    let file = config::read()?;
    let cfg = file.config()?;
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
    let profiles = match &args.profile {
        Some(name) => {
            let r = cfg.resolved(name)?;
            add(&mut logins, &r.login());
            Rows(
                vec![profile_row(name, r, now, &CachedRoles::read())],
                Vec::new(),
            )
        }
        None => {
            let sections: Vec<&Section> = cfg.profiles().filter(|s| Config::is_sso(s)).collect();
            let (rows, found) = rows_on_two_threads(&cfg, &sections, now);
            for l in &found {
                add(&mut logins, l);
            }
            rows
        }
    };
    let report = Report {
        logins: logins
            .iter()
            .map(|l| login_row(l, now))
            .collect::<Result<_>>()?,
        profiles,
    };
    let out = if args.json {
        let mut json = serde_json::to_string_pretty(&report).unwrap_or_default();
        json.push('\n');
        json
    } else {
        draw(&report, now)
    };
    // The process ends with this command: freeing ten thousand rows and sections one by one
    // would cost a good part of building them.
    std::mem::forget(report);
    std::mem::forget(cfg);
    Ok(out)
}

/// The rows of these profiles, in their order (the first half, then the second), and their
/// logins in order of first appearance. A big config's rows are made on two threads, each
/// resolving half of the profiles (a laptop has two cores at least); the second thread's
/// warnings are held back and written after the first's, so that they come out as from one
/// thread.
fn rows_on_two_threads<'c, 'a>(
    cfg: &'c Config<'a>,
    sections: &[&'c Section<'a>],
    now: OffsetDateTime,
) -> (Rows<'c>, Vec<Login>) {
    /// Below this, a second thread costs more than it saves.
    const SPLIT_AT: usize = 512;
    let cached = CachedRoles::read();
    // Each profile becomes its row as it is resolved; an SSO profile's row borrows its
    // values from the config, and only a login not seen before is built.
    let rows_of = |sections: &[&'c Section<'a>], rows: &mut Vec<ProfileRow<'c>>| {
        let mut logins: Vec<Login> = Vec::new();
        for &section in sections {
            let name = &*section.name;
            rows.push(match cfg.resolved_profile(section) {
                Ok(r) => {
                    let (session, key) = r.login_id();
                    if !logins
                        .iter()
                        .any(|x| x.session.as_deref() == session && x.token_key() == key)
                    {
                        logins.push(r.login());
                    }
                    profile_row(name, r, now, &cached)
                }
                Err(e) => ProfileRow::Broken {
                    name,
                    error: e.to_string(),
                },
            });
        }
        logins
    };
    let (first, second) = if sections.len() < SPLIT_AT {
        (sections, &[][..])
    } else {
        sections.split_at(sections.len() / 2)
    };
    // Each half's list is sized once: growing it would copy the rows and hold both copies.
    let mut rows = Vec::with_capacity(first.len());
    if second.is_empty() {
        let logins = rows_of(first, &mut rows);
        return (Rows(rows, Vec::new()), logins);
    }
    std::thread::scope(|scope| {
        let other = std::thread::Builder::new().spawn_scoped(scope, || {
            crate::messages::holding(|| {
                let mut rows = Vec::with_capacity(second.len());
                let logins = rows_of(second, &mut rows);
                (rows, logins)
            })
        });
        let mut logins = rows_of(first, &mut rows);
        match other {
            Ok(thread) => {
                let ((more, their_logins), held) = thread
                    .join()
                    .unwrap_or_else(|panic| std::panic::resume_unwind(panic));
                crate::messages::release(held);
                logins.extend(their_logins);
                (Rows(rows, more), logins)
            }
            // No second thread to be had: this one does the rest.
            Err(_) => {
                let mut more = Vec::with_capacity(second.len());
                logins.extend(rows_of(second, &mut more));
                (Rows(rows, more), logins)
            }
        }
    })
}

/// The names of the files in the role-credential cache directory, read once: with thousands
/// of profiles and a few cached, opening each profile's file (absent for most) was a third of
/// `status`. Each profile's key is looked up as it is, without building its path.
struct CachedRoles {
    /// The stems of the `.json` files; `None` when the directory cannot be listed.
    stems: Option<Names>,
}

/// File stems, on the lexer's hash: each profile looks its key up here.
type Names = HashSet<String, std::hash::BuildHasherDefault<crate::ini::Fingerprint>>;

impl CachedRoles {
    fn read() -> CachedRoles {
        let list = || {
            let entries = std::fs::read_dir(cache::role_dir().ok()?).ok()?;
            Some(
                entries
                    .flatten()
                    .filter_map(|e| {
                        let name = e.file_name().into_string().ok()?;
                        name.strip_suffix(".json").map(str::to_string)
                    })
                    .collect(),
            )
        };
        CachedRoles { stems: list() }
    }

    /// Whether the directory may hold the file of this key (`true` when it cannot be listed).
    fn may_hold(&self, key: &str) -> bool {
        self.stems.as_ref().is_none_or(|n| n.contains(key))
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

fn profile_row<'c>(
    name: &'c str,
    r: Resolved<'c>,
    now: OffsetDateTime,
    roles: &CachedRoles,
) -> ProfileRow<'c> {
    let key = match &r {
        Resolved::Sso(s) => {
            cache::role_cache_key(s.account_id, s.role_name, s.session(), s.start_url)
        }
        Resolved::Chain(p) => crate::credentials::role_cache_key(p),
    };
    let cached = || cache::read_role(&cache::role_path(&key).ok()?);
    let credentials = match roles.may_hold(&key).then(cached).flatten() {
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
    ProfileRow::Resolved {
        name,
        profile: r,
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
    let logins: Vec<[Cow<str>; 3]> = r
        .logins
        .iter()
        .map(|l| {
            let t = &l.token;
            let name = if l.kind == "sso-session" {
                format!("sso-session {}", visible_cow(&l.name)).into()
            } else {
                visible_cow(&l.start_url)
            };
            let state = match (&t.error, t.cached) {
                (Some(e), _) => format!("unusable: {e}").into(),
                (None, true) => {
                    expiry(("expires", "expired"), &t.expires_at, t.expires_in, now).into()
                }
                (None, false) => "not signed in".into(),
            };
            let refresh = if t.refreshable == Some(true) {
                "yes"
            } else {
                "no"
            };
            [name, state, refresh.into()]
        })
        .collect();
    let mut out = table::with_header(&["LOGIN", "TOKEN", "REFRESH"], &logins);
    out.push('\n');
    // Borrowed cells, made as the table needs them (not held for ten thousand rows at
    // once): only rows with cached credentials or an error make text of their own. (A
    // broken row's empty cells print as nothing: the blanks at the end of a line are
    // dropped.)
    let profiles = r.profiles.iter().map(|p| -> [Cow<str>; 5] {
        match p {
            ProfileRow::Broken { name, error } => [
                visible_cow(name),
                format!("error: {error}").into(),
                "".into(),
                "".into(),
                "".into(),
            ],
            ProfileRow::Resolved {
                name,
                profile,
                credentials: c,
            } => {
                let s = shown(name, profile, c, false);
                [
                    visible_cow(s.name),
                    s.account_id.into(),
                    match s.role_arn {
                        Some(arn) => format!("{} (from {})", visible_cow(arn), s.role_name).into(),
                        None => s.role_name.into(),
                    },
                    s.region.unwrap_or("-").into(),
                    if c.cached {
                        expiry(("expire", "expired"), &c.expiration, c.expires_in, now).into()
                    } else {
                        "none cached".into()
                    },
                ]
            }
        }
    });
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
