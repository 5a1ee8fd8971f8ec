//! The stamp file: what a shell exported, so hooks can decide with builtins alone whether to
//! do nothing, renew, or pick up credentials another shell renewed.
//!
//! `$XDG_STATE_HOME/ssoenv/stamps/<profile>`: one line, `EXPIRATION RENEW_AT ID`, epoch seconds
//! and 16 hex digits of SHA-1 over the access key id. No secret is in it. Written atomically,
//! and only when its content changes, so a warm export writes nothing.

use std::path::PathBuf;

use time::OffsetDateTime;

use crate::cache::RoleCreds;
use crate::files;

/// The hooks renew this many seconds before expiry (`SSOENV_REFRESH_MARGIN`, default 600).
pub fn margin() -> i64 {
    std::env::var("SSOENV_REFRESH_MARGIN")
        .ok()
        .and_then(|v| v.trim().parse::<i64>().ok())
        .filter(|s| (0..=86_400).contains(s))
        .unwrap_or(600)
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
/// is replaced and a hash suffix keeps distinct names distinct.
pub fn path(profile: &str) -> PathBuf {
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
    let name = if clean == profile && !profile.starts_with('.') {
        clean
    } else {
        format!("_{clean}-{}", &files::sha1_hex(profile)[..8])
    };
    files::state_dir().join("stamps").join(name)
}

pub fn read(profile: &str) -> Option<Stamp> {
    Stamp::parse(&std::fs::read_to_string(path(profile)).ok()?)
}

/// Writes the stamp if it differs from what is there. Failure is only worth a debug line:
/// the hooks then renew through the binary, which still works.
pub fn write(profile: &str, s: &Stamp) {
    if read(profile).as_ref() == Some(s) {
        return;
    }
    if let Err(e) = files::write_atomic(
        &path(profile),
        s.line().as_bytes(),
        files::Existing::Private,
    ) {
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
        let a = path("a/b");
        let b = path("a_b");
        assert_ne!(a, b);
        assert!(!a.file_name().unwrap().to_str().unwrap().contains('/'));
        assert!(path("dev").ends_with("stamps/dev"));
    }
}
