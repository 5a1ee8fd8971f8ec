//! The stamp file: what a shell exported, so hooks can decide with builtins alone whether to
//! do nothing, renew, or pick up credentials another shell renewed.
//!
//! `$XDG_STATE_HOME/ssoenv/stamps/<profile>`: one line, `EXPIRATION RENEW_AT ID`, epoch seconds
//! and 16 hex digits of SHA-1 over the access key id. No secret is in it. Written atomically,
//! and only when its content changes, so a warm export writes nothing.
//!
//! Its link `<stamp>@<ID>` is a second name of the stamp file while that names credentials ID:
//! the hooks' fresh-prompt check compares the two paths (`-ef`) instead of reading the stamp.
//!
//! Beside it, `<stamp>.renewal` records a renewal the hooks started in the background, again
//! one line for shell builtins: `running SINCE 0 0 0 pid=PID`, or
//! `failed SINCE EXIT_CODE RETRY_AT COUNT MESSAGE` (no retry before RETRY_AT; COUNT failures
//! in a row). It is removed when a renewal succeeds: the stamp then names the new credentials.

use std::path::{Path, PathBuf};

use time::OffsetDateTime;

use crate::cache::RoleCreds;
use crate::error::Result;
use crate::files;

/// The hooks renew this many seconds before expiry (`SSOENV_REFRESH_MARGIN`, default 600).
pub fn margin() -> i64 {
    checked_margin().ok().flatten().unwrap_or(600)
}

/// `SSOENV_REFRESH_MARGIN` when set: whole seconds from 0 to 86400, or an error naming it.
pub fn checked_margin() -> Result<Option<i64>> {
    crate::messages::setting(
        "SSOENV_REFRESH_MARGIN",
        "whole seconds from 0 to 86400",
        |v| v.parse::<i64>().ok().filter(|s| (0..=86_400).contains(s)),
    )
    .map_err(crate::error::Error::Other)
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stamp {
    pub expiration: i64,
    pub renew_at: i64,
    pub id: String,
}

/// A short identity of a set of credentials (not a secret: the access key id is public).
pub fn identity(c: &RoleCreds) -> String {
    files::sha1_hex(&c.access_key_id)[..16].to_string()
}

impl Stamp {
    /// When to renew: `margin` before expiry, but never earlier than half-way through what is
    /// left, so credentials shorter-lived than the margin do not renew on every prompt.
    pub fn new(c: &RoleCreds, now: OffsetDateTime) -> Stamp {
        let exp = c.expiration.unix_timestamp();
        let left = (exp - now.unix_timestamp()).max(0);
        Stamp {
            expiration: exp,
            renew_at: exp - margin().min(left / 2),
            id: identity(c),
        }
    }

    pub fn line(&self) -> String {
        format!("{} {} {}\n", self.expiration, self.renew_at, self.id)
    }

    pub fn parse(text: &str) -> Option<Stamp> {
        let mut w = text.split_whitespace();
        Some(Stamp {
            expiration: w.next()?.parse().ok()?,
            renew_at: w.next()?.parse().ok()?,
            id: w.next()?.to_string(),
        })
    }
}

/// The stamp path of a profile. Names are kept readable; anything outside `[A-Za-z0-9._-]`
/// is replaced and a hash suffix keeps distinct names distinct; a long name is cut, so any
/// name gets a file (a file name has at most 255 bytes). A name that could be taken for
/// another file of the directory — hidden (`.`), the hashed form (`_`), or another stamp's
/// renewal record or direnv timer (`dev.renewal` beside `dev`) — is hashed too.
pub fn path(profile: &str) -> Result<PathBuf> {
    let clean: String = profile
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || "._-".contains(c) {
                c
            } else {
                '_'
            }
        })
        .collect();
    let plain = clean == profile
        && !profile.starts_with(['.', '_'])
        && !profile.ends_with(".renewal")
        && !profile.ends_with(".direnv-timer")
        && profile.len() <= 100;
    let name = if plain {
        clean
    } else {
        let short: String = clean.chars().take(80).collect();
        format!("_{short}-{}", &files::sha1_hex(profile)[..16])
    };
    Ok(files::state_dir()?.join("stamps").join(name))
}

pub fn read(profile: &str) -> Option<Stamp> {
    let bytes = files::read_bounded(&path(profile).ok()?, files::SMALL_CAP).ok()??;
    Stamp::parse(std::str::from_utf8(&bytes).ok()?)
}

/// The stamp's second name while it names credentials `id`: `<stamp>@<id>` (no stamp name
/// holds `@`). A hook asks "is the stamp still the one naming my credentials?" with one `-ef`
/// of the two paths, builtins only and without reading the stamp; any other answer sends it
/// to reading the stamp.
pub fn link_path(stamp: &Path, id: &str) -> PathBuf {
    let mut p = stamp.as_os_str().to_owned();
    p.push("@");
    p.push(id);
    PathBuf::from(p)
}

/// Writes the stamp if it differs from what is there, and keeps its link (see [`link_path`])
/// on it; the link of the credentials it named before goes. So a warm export writes nothing.
/// Failure is only worth a debug line: the hooks then read the stamp, or renew through the
/// binary, which still works.
pub fn write(profile: &str, s: &Stamp) {
    let old = read(profile);
    let Ok(p) = path(profile) else {
        return;
    };
    if old.as_ref() != Some(s)
        && let Err(e) = files::write_atomic(&p, s.line().as_bytes(), files::Existing::Private)
    {
        crate::debug!("stamp not written: {e}");
        return;
    }
    #[cfg(unix)]
    {
        let link = link_path(&p, &s.id);
        // Linked only while the stamp holds this line: never a link to another run's stamp.
        if !files::same_file(&p, &link) && !files::link_atomic(&p, &link, s.line().as_bytes()) {
            crate::debug!("stamp link not made: {}", link.display());
        }
        if let Some(old) = old.filter(|o| o.id != s.id) {
            let _ = std::fs::remove_file(link_path(&p, &old.id));
        }
    }
}

/// What a background renewal of a profile is doing, or how it failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Renewal {
    Running {
        since: i64,
        pid: u32,
    },
    Failed {
        since: i64,
        code: u8,
        retry_at: i64,
        count: u32,
        message: String,
    },
}

impl Renewal {
    pub fn line(&self) -> String {
        match self {
            Renewal::Running { since, pid } => format!("running {since} 0 0 0 pid={pid}\n"),
            Renewal::Failed {
                since,
                code,
                retry_at,
                count,
                message,
            } => {
                // One line whatever the message holds: the hooks read it with `read`.
                let message = crate::messages::visible(message);
                format!("failed {since} {code} {retry_at} {count} {message}\n")
            }
        }
    }

    pub fn parse(text: &str) -> Option<Renewal> {
        let mut w = text.trim_end().splitn(6, ' ');
        let state = w.next()?;
        let since = w.next()?.parse().ok()?;
        let code = w.next()?.parse().ok()?;
        let retry_at = w.next()?.parse().ok()?;
        let count = w.next()?.parse().ok()?;
        let rest = w.next().unwrap_or("");
        match state {
            "running" => Some(Renewal::Running {
                since,
                pid: rest.strip_prefix("pid=")?.parse().ok()?,
            }),
            "failed" => Some(Renewal::Failed {
                since,
                code,
                retry_at,
                count,
                message: rest.to_string(),
            }),
            _ => None,
        }
    }
}

/// The renewal record of a profile: its stamp's path plus `.renewal` (the hooks append the
/// same suffix to `SSOENV_STAMP`).
pub fn renewal_path(profile: &str) -> Result<PathBuf> {
    let mut p = path(profile)?.into_os_string();
    p.push(".renewal");
    Ok(PathBuf::from(p))
}

pub fn read_renewal(profile: &str) -> Option<Renewal> {
    let bytes = files::read_bounded(&renewal_path(profile).ok()?, files::SMALL_CAP).ok()??;
    Renewal::parse(std::str::from_utf8(&bytes).ok()?)
}

pub fn write_renewal(profile: &str, r: &Renewal) -> Result<()> {
    files::write_atomic(
        &renewal_path(profile)?,
        r.line().as_bytes(),
        files::Existing::Private,
    )
}

pub fn remove_renewal(profile: &str) {
    if let Ok(p) = renewal_path(profile) {
        let _ = std::fs::remove_file(p);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    fn creds(exp: OffsetDateTime) -> RoleCreds {
        RoleCreds {
            access_key_id: "ASIAX".into(),
            secret_access_key: "s".into(),
            session_token: "t".into(),
            expiration: exp,
            account_id: "1".into(),
        }
    }

    #[test]
    fn renewal_is_the_margin_before_expiry_or_half_way_for_short_credentials() {
        let now = datetime!(2026-11-25 12:00 UTC);
        let long = Stamp::new(&creds(datetime!(2026-11-25 13:00 UTC)), now);
        assert_eq!(long.expiration - long.renew_at, 600);
        let short = Stamp::new(&creds(datetime!(2026-11-25 12:04 UTC)), now);
        assert_eq!(short.expiration - short.renew_at, 120);
        assert_eq!(Stamp::parse(&long.line()), Some(long));
    }

    #[test]
    fn no_profile_name_is_taken_for_another_file_of_the_stamps() {
        let name = |p: &str| {
            path(p)
                .unwrap()
                .file_name()
                .unwrap()
                .to_string_lossy()
                .into_owned()
        };
        assert_eq!(name("dev"), "dev");
        assert_eq!(name("my-dev.eu_1"), "my-dev.eu_1");
        for other in [
            "dev.renewal",
            "dev.direnv-timer",
            ".dev",
            "_dev-0123456789abcdef",
            "a b",
        ] {
            let n = name(other);
            assert!(n.starts_with('_') && n.len() > 17, "{other}: {n}");
            assert_ne!(n, other);
        }
        assert_ne!(name("a b"), name("a_b"));
    }

    #[test]
    fn renewal_records_read_back_as_one_line() {
        let failed = Renewal::Failed {
            since: 10,
            code: 3,
            retry_at: 70,
            count: 1,
            message: "login required:\nrun `ssoenv login dev`".into(),
        };
        let line = failed.line();
        assert_eq!(line.lines().count(), 1, "{line}");
        assert!(
            line.starts_with("failed 10 3 70 1 login required:\\n"),
            "{line}"
        );
        let running = Renewal::Running { since: 5, pid: 42 };
        assert_eq!(running.line(), "running 5 0 0 0 pid=42\n");
        assert_eq!(Renewal::parse(&running.line()), Some(running));
        assert!(matches!(
            Renewal::parse(&line),
            Some(Renewal::Failed { count: 1, .. })
        ));
        assert_eq!(Renewal::parse("running 5"), None);
    }

    #[test]
    fn odd_profile_names_get_distinct_safe_file_names() {
        let name = |p: &str| {
            path(p)
                .unwrap()
                .file_name()
                .unwrap()
                .to_str()
                .unwrap()
                .to_string()
        };
        assert_ne!(name("a/b"), name("a_b"));
        assert!(!name("a/b").contains('/'));
        assert_eq!(name("dev"), "dev");
        let long = "x".repeat(300);
        assert!(name(&long).len() < 120);
        assert_ne!(name(&long), name(&"x".repeat(301)));
    }
}
