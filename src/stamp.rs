//! The stamp file: what a shell exported, so hooks can decide with builtins alone whether to
//! do nothing, renew, or pick up credentials another shell renewed.
//!
//! `$XDG_STATE_HOME/ssoenv/stamps/<profile>`: one line, `EXPIRATION RENEW_AT ID`, epoch seconds
//! and 16 hex digits of SHA-1 over the access key id. No secret is in it. Written atomically,
//! and only when its content changes, so a warm export writes nothing.

use std::path::PathBuf;

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
/// name gets a file (a file name has at most 255 bytes).
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
    let name = if clean == profile && !profile.starts_with('.') && profile.len() <= 100 {
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

/// Writes the stamp if it differs from what is there. Failure is only worth a debug line:
/// the hooks then renew through the binary, which still works.
pub fn write(profile: &str, s: &Stamp) {
    if read(profile).as_ref() == Some(s) {
        return;
    }
    let written = path(profile)
        .and_then(|p| files::write_atomic(&p, s.line().as_bytes(), files::Existing::Private));
    if let Err(e) = written {
        crate::debug!("stamp not written: {e}");
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
