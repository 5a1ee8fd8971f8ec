//! The variables ssoenv sets, as a list of [`Change`]s that a shell module turns into text.
//! Names are checked once, here; values are quoted by the shell module, never here.

use crate::cache::RoleCreds;
use crate::clock::format_time;
use crate::stamp::Stamp;

/// A checked environment variable name: `^[A-Za-z_][A-Za-z0-9_]*$`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VarName(&'static str);

impl VarName {
    /// Names are compile-time constants of this module; a bad one is a bug caught by tests.
    const fn new(name: &'static str) -> VarName {
        let b = name.as_bytes();
        assert!(!b.is_empty() && (b[0] == b'_' || b[0].is_ascii_alphabetic()));
        let mut i = 0;
        while i < b.len() {
            assert!(b[i] == b'_' || b[i].is_ascii_alphanumeric());
            i += 1;
        }
        VarName(name)
    }

    pub fn as_str(&self) -> &'static str {
        self.0
    }
}

pub const ACCESS_KEY_ID: VarName = VarName::new("AWS_ACCESS_KEY_ID");
pub const SECRET_ACCESS_KEY: VarName = VarName::new("AWS_SECRET_ACCESS_KEY");
pub const SESSION_TOKEN: VarName = VarName::new("AWS_SESSION_TOKEN");
pub const CREDENTIAL_EXPIRATION: VarName = VarName::new("AWS_CREDENTIAL_EXPIRATION");
pub const REGION: VarName = VarName::new("AWS_REGION");
pub const DEFAULT_REGION: VarName = VarName::new("AWS_DEFAULT_REGION");
pub const PROFILE: VarName = VarName::new("AWS_PROFILE");
/// The profile ssoenv exported last in this shell.
pub const SSOENV_PROFILE: VarName = VarName::new("SSOENV_PROFILE");
/// Expiry of the exported credentials, in epoch seconds (for the hooks' arithmetic).
pub const SSOENV_EXPIRATION: VarName = VarName::new("SSOENV_EXPIRATION");
/// When the hooks should renew, in epoch seconds (see [`crate::stamp`]).
pub const SSOENV_RENEW_AT: VarName = VarName::new("SSOENV_RENEW_AT");
/// The identity of the exported credentials, compared with the stamp's.
pub const SSOENV_ID: VarName = VarName::new("SSOENV_ID");
/// The stamp file the hooks read.
pub const SSOENV_STAMP: VarName = VarName::new("SSOENV_STAMP");
/// The `AWS_PROFILE` the shell had before ssoenv set it, restored by `--unset`.
pub const SSOENV_PREVIOUS_PROFILE: VarName = VarName::new("SSOENV_PREVIOUS_AWS_PROFILE");

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Change {
    Set(VarName, String),
    Unset(VarName),
}

fn var(name: &VarName) -> Option<String> {
    std::env::var(name.as_str()).ok().filter(|v| !v.is_empty())
}

/// What exporting `profile`'s credentials changes, given the shell's current environment.
///
/// `AWS_PROFILE` is set to the exported profile, so tools that read the profile rather than
/// the credential variables agree with them; the value it replaces is kept in
/// `SSOENV_PREVIOUS_AWS_PROFILE` and restored by [`unset_changes`]. Without a region in the
/// profile, `AWS_REGION`/`AWS_DEFAULT_REGION` are left as they are.
pub fn export_changes(
    profile: &str,
    creds: &RoleCreds,
    region: Option<&str>,
    stamp: &Stamp,
) -> Vec<Change> {
    let mut out = vec![
        Change::Set(ACCESS_KEY_ID, creds.access_key_id.clone()),
        Change::Set(SECRET_ACCESS_KEY, creds.secret_access_key.clone()),
        Change::Set(SESSION_TOKEN, creds.session_token.clone()),
        Change::Set(CREDENTIAL_EXPIRATION, format_time(creds.expiration)),
    ];
    if let Some(r) = region {
        out.push(Change::Set(REGION, r.to_string()));
        out.push(Change::Set(DEFAULT_REGION, r.to_string()));
    }
    let current = var(&PROFILE);
    if var(&SSOENV_PROFILE).is_none()
        && let Some(prev) = current.as_deref().filter(|p| *p != profile)
    {
        out.push(Change::Set(SSOENV_PREVIOUS_PROFILE, prev.to_string()));
    }
    out.push(Change::Set(PROFILE, profile.to_string()));
    out.push(Change::Set(SSOENV_PROFILE, profile.to_string()));
    out.push(Change::Set(
        SSOENV_EXPIRATION,
        creds.expiration.unix_timestamp().to_string(),
    ));
    out.push(Change::Set(SSOENV_RENEW_AT, stamp.renew_at.to_string()));
    out.push(Change::Set(SSOENV_ID, stamp.id.clone()));
    if let Ok(path) = crate::stamp::path(profile) {
        out.push(Change::Set(SSOENV_STAMP, path.display().to_string()));
    }
    out
}

/// What removes everything ssoenv set, restoring the `AWS_PROFILE` it replaced.
pub fn unset_changes() -> Vec<Change> {
    let mut out: Vec<Change> = [
        ACCESS_KEY_ID,
        SECRET_ACCESS_KEY,
        SESSION_TOKEN,
        CREDENTIAL_EXPIRATION,
    ]
    .into_iter()
    .map(Change::Unset)
    .collect();
    // The region is ours only if ssoenv manages this shell; a user's own AWS_REGION stays.
    if var(&SSOENV_PROFILE).is_some() {
        out.push(Change::Unset(REGION));
        out.push(Change::Unset(DEFAULT_REGION));
    }
    match var(&SSOENV_PREVIOUS_PROFILE) {
        Some(prev) => out.push(Change::Set(PROFILE, prev)),
        None if var(&SSOENV_PROFILE).is_some() && var(&PROFILE) == var(&SSOENV_PROFILE) => {
            out.push(Change::Unset(PROFILE))
        }
        None => {}
    }
    out.extend(
        [
            SSOENV_PREVIOUS_PROFILE,
            SSOENV_PROFILE,
            SSOENV_EXPIRATION,
            SSOENV_RENEW_AT,
            SSOENV_ID,
            SSOENV_STAMP,
        ]
        .map(Change::Unset),
    );
    out
}
