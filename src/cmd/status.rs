//! `ssoenv status [PROFILE] [--json]`: offline and fast. Each SSO login (sso-session or
//! legacy start URL) with its cached token, and each SSO profile with its cached credentials.
//! Reads files only; starts no network connection and refreshes nothing.

use serde_json::{Value, json};
use time::OffsetDateTime;

use crate::cache;
use crate::cli::StatusArgs;
use crate::config::{self, Config, SsoProfile};
use crate::error::Result;

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

struct Login {
    kind: &'static str,
    name: String,
    start_url: String,
    region: String,
}

pub fn run(args: &StatusArgs) -> Result<String> {
    let cfg = config::load()?;
    let now = cache::now();
    let profiles: Vec<(String, Result<SsoProfile>)> = match &args.profile {
        Some(name) => vec![(name.clone(), Ok(cfg.resolve(name)?))],
        None => cfg
            .profiles()
            .filter(|s| Config::is_sso(s))
            .map(|s| (s.name.clone(), cfg.resolve(&s.name)))
            .collect(),
    };
    let mut logins: Vec<Login> = Vec::new();
    let mut add = |l: Login| {
        if !logins.iter().any(|x| x.kind == l.kind && x.name == l.name) {
            logins.push(l);
        }
    };
    if args.profile.is_none() {
        for s in cfg.sso_sessions() {
            if let Ok(sess) = cfg.session(&s.name) {
                add(Login {
                    kind: "sso-session",
                    name: sess.name,
                    start_url: sess.start_url,
                    region: sess.region,
                });
            }
        }
    }
    for (_, p) in &profiles {
        if let Ok(p) = p {
            add(Login {
                kind: if p.session.is_some() {
                    "sso-session"
                } else {
                    "start-url"
                },
                name: p.token_key().to_string(),
                start_url: p.start_url.clone(),
                region: p.sso_region.clone(),
            });
        }
    }
    let login_json: Vec<Value> = logins.iter().map(|l| login_status(l, now)).collect();
    let profile_json: Vec<Value> = profiles
        .iter()
        .map(|(name, p)| match p {
            Ok(p) => profile_status(p, now),
            Err(e) => json!({"name": name, "error": e.to_string()}),
        })
        .collect();
    if args.json {
        let v = json!({"logins": login_json, "profiles": profile_json});
        return Ok(format!(
            "{}\n",
            serde_json::to_string_pretty(&v).unwrap_or_default()
        ));
    }
    Ok(table(&login_json, &profile_json, now))
}

fn login_status(l: &Login, now: OffsetDateTime) -> Value {
    let key = if l.kind == "sso-session" {
        &l.name
    } else {
        &l.start_url
    };
    let path = cache::token_path(key);
    let token = match cache::read_token(key) {
        Ok(Some(t)) => json!({
            "cached": true,
            "expiresAt": cache::format_time(t.expires_at),
            "expiresIn": (t.expires_at - now).whole_seconds(),
            "refreshable": l.kind == "sso-session" && t.can_refresh(now),
        }),
        Ok(None) => json!({"cached": false}),
        Err(e) => json!({"cached": false, "error": e.to_string()}),
    };
    json!({
        "kind": l.kind,
        "name": l.name,
        "startUrl": l.start_url,
        "region": l.region,
        "tokenFile": path.display().to_string(),
        "token": token,
    })
}

fn profile_status(p: &SsoProfile, now: OffsetDateTime) -> Value {
    let path = crate::session::role_cache_path(p);
    let creds = match cache::read_role(&path) {
        Some(c) => json!({
            "cached": true,
            "expiration": cache::format_time(c.expiration),
            "expiresIn": (c.expiration - now).whole_seconds(),
        }),
        None => json!({"cached": false}),
    };
    json!({
        "name": p.name,
        "login": p.token_key(),
        "ssoSession": p.session,
        "startUrl": p.start_url,
        "ssoRegion": p.sso_region,
        "accountId": p.account_id,
        "roleName": p.role_name,
        "region": p.region,
        "credentials": creds,
    })
}

fn table(logins: &[Value], profiles: &[Value], now: OffsetDateTime) -> String {
    let at = |v: &Value| {
        v.as_str()
            .and_then(cache::parse_time)
            .map(|t| relative(t, now))
            .unwrap_or_default()
    };
    let mut rows = vec![vec!["LOGIN".to_string(), "TOKEN".into(), "REFRESH".into()]];
    for l in logins {
        let t = &l["token"];
        let name = if l["kind"] == "sso-session" {
            format!("sso-session {}", l["name"].as_str().unwrap_or(""))
        } else {
            l["startUrl"].as_str().unwrap_or("").to_string()
        };
        let state = if let Some(e) = t["error"].as_str() {
            format!("unusable: {e}")
        } else if t["cached"] == true {
            let exp = at(&t["expiresAt"]);
            if t["expiresIn"].as_i64().unwrap_or(0) > 0 {
                format!("expires {exp}")
            } else {
                format!("expired {exp}")
            }
        } else {
            "not signed in".into()
        };
        let refresh = if t["refreshable"] == true {
            "yes"
        } else {
            "no"
        };
        rows.push(vec![name, state, refresh.into()]);
    }
    let mut out = render(&rows);
    out.push('\n');
    let mut rows = vec![vec![
        "PROFILE".to_string(),
        "ACCOUNT".into(),
        "ROLE".into(),
        "REGION".into(),
        "CREDENTIALS".into(),
    ]];
    for p in profiles {
        let s = |k: &str| p[k].as_str().unwrap_or("-").to_string();
        if let Some(e) = p["error"].as_str() {
            rows.push(vec![
                s("name"),
                format!("error: {e}"),
                String::new(),
                String::new(),
                String::new(),
            ]);
            continue;
        }
        let c = &p["credentials"];
        let creds = if c["cached"] == true {
            let exp = at(&c["expiration"]);
            if c["expiresIn"].as_i64().unwrap_or(0) > 0 {
                format!("expire {exp}")
            } else {
                format!("expired {exp}")
            }
        } else {
            "none cached".into()
        };
        rows.push(vec![
            s("name"),
            s("accountId"),
            s("roleName"),
            s("region"),
            creds,
        ]);
    }
    out.push_str(&render(&rows));
    out
}

fn render(rows: &[Vec<String>]) -> String {
    let cols = rows.iter().map(Vec::len).max().unwrap_or(0);
    let widths: Vec<usize> = (0..cols)
        .map(|c| {
            rows.iter()
                .map(|r| r.get(c).map_or(0, |x| x.chars().count()))
                .max()
                .unwrap_or(0)
        })
        .collect();
    let mut out = String::new();
    for r in rows {
        let mut line = String::new();
        for (i, cell) in r.iter().enumerate() {
            line.push_str(cell);
            if i + 1 < r.len() {
                line.push_str(&" ".repeat(widths[i] - cell.chars().count() + 2));
            }
        }
        out.push_str(line.trim_end());
        out.push('\n');
    }
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
