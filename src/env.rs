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
pub const ACCOUNT_ID: VarName = VarName::new("AWS_ACCOUNT_ID");
/// The local credential endpoint, for the SDKs' container credentials provider.
pub const CONTAINER_CREDENTIALS_FULL_URI: VarName =
    VarName::new("AWS_CONTAINER_CREDENTIALS_FULL_URI");
pub const CONTAINER_AUTHORIZATION_TOKEN_FILE: VarName =
    VarName::new("AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE");
/// The profile ssoenv exported last in this shell.
pub const SSOENV_PROFILE: VarName = VarName::new("SSOENV_PROFILE");
/// The region ssoenv set in `AWS_REGION` and `AWS_DEFAULT_REGION`.
pub const SSOENV_REGION: VarName = VarName::new("SSOENV_REGION");
/// The account id ssoenv set in `AWS_ACCOUNT_ID`.
pub const SSOENV_ACCOUNT_ID: VarName = VarName::new("SSOENV_ACCOUNT_ID");
/// Expiry of the exported credentials, in epoch seconds (for the hooks' arithmetic).
pub const SSOENV_EXPIRATION: VarName = VarName::new("SSOENV_EXPIRATION");
/// When the hooks should renew, in epoch seconds (see [`crate::stamp`]).
pub const SSOENV_RENEW_AT: VarName = VarName::new("SSOENV_RENEW_AT");
/// The identity of the exported credentials, compared with the stamp's.
pub const SSOENV_ID: VarName = VarName::new("SSOENV_ID");
/// The stamp file the hooks read.
pub const SSOENV_STAMP: VarName = VarName::new("SSOENV_STAMP");

/// A variable the user may have set: ssoenv keeps the user's own value in `previous` while
/// its own is in place (`mine` says which value is ssoenv's), and gives it back.
struct Kept {
    var: VarName,
    previous: VarName,
    mine: VarName,
}

const KEPT: [Kept; 4] = [
    Kept {
        var: PROFILE,
        previous: VarName::new("SSOENV_PREVIOUS_AWS_PROFILE"),
        mine: SSOENV_PROFILE,
    },
    Kept {
        var: REGION,
        previous: VarName::new("SSOENV_PREVIOUS_AWS_REGION"),
        mine: SSOENV_REGION,
    },
    Kept {
        var: DEFAULT_REGION,
        previous: VarName::new("SSOENV_PREVIOUS_AWS_DEFAULT_REGION"),
        mine: SSOENV_REGION,
    },
    Kept {
        var: ACCOUNT_ID,
        previous: VarName::new("SSOENV_PREVIOUS_AWS_ACCOUNT_ID"),
        mine: SSOENV_ACCOUNT_ID,
    },
];

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Change {
    Set(VarName, String),
    Unset(VarName),
}

fn var(name: &VarName) -> Option<String> {
    std::env::var(name.as_str()).ok().filter(|v| !v.is_empty())
}

impl Kept {
    /// Whether the variable holds the value ssoenv put there.
    fn is_mine(&self) -> bool {
        var(&self.var).is_some() && var(&self.var) == var(&self.mine)
    }

    /// Sets the variable to ssoenv's `value`, or, with none, gives the user's back where the
    /// current value is ssoenv's; the user's own value is remembered either way.
    fn change(&self, value: Option<&str>, out: &mut Vec<Change>) {
        let mine = self.is_mine();
        if !mine {
            match var(&self.var) {
                Some(v) => out.push(Change::Set(self.previous.clone(), v)),
                None if var(&self.previous).is_some() => {
                    out.push(Change::Unset(self.previous.clone()));
                }
                None => {}
            }
        }
        match value {
            Some(v) => out.push(Change::Set(self.var.clone(), v.to_string())),
            None if mine => self.give_back(out),
            None => {}
        }
    }

    /// The user's value again (or none), and nothing remembered.
    fn give_back(&self, out: &mut Vec<Change>) {
        out.push(match var(&self.previous) {
            Some(v) => Change::Set(self.var.clone(), v),
            None => Change::Unset(self.var.clone()),
        });
        out.push(Change::Unset(self.previous.clone()));
    }
}

/// No environment variable can hold a NUL (a shell would cut the value or drop it): a
/// change that sets one is refused whole.
pub fn refuse_nul(changes: &[Change]) -> crate::error::Result<()> {
    match changes
        .iter()
        .find(|c| matches!(c, Change::Set(_, v) if v.contains('\0')))
    {
        Some(Change::Set(k, _)) => Err(crate::error::Error::NulInValue {
            variable: k.as_str().to_string(),
        }),
        _ => Ok(()),
    }
}

fn credential_changes(creds: &RoleCreds) -> Vec<Change> {
    vec![
        Change::Set(ACCESS_KEY_ID, creds.access_key_id.clone()),
        Change::Set(SECRET_ACCESS_KEY, creds.secret_access_key.clone()),
        Change::Set(SESSION_TOKEN, creds.session_token.clone()),
        Change::Set(CREDENTIAL_EXPIRATION, format_time(creds.expiration)),
    ]
}

/// What exporting `profile`'s credentials changes, given the shell's current environment.
///
/// `AWS_PROFILE` is set to the exported profile, so tools that read the profile rather than
/// the credential variables agree with them; `AWS_REGION`/`AWS_DEFAULT_REGION` to the
/// profile's region when it has one; `AWS_ACCOUNT_ID` to the account. A value of the user's
/// that one of these replaces is kept and given back by [`unset_changes`] (or by a later
/// export that does not set that variable).
pub fn export_changes(
    profile: &str,
    creds: &RoleCreds,
    region: Option<&str>,
    stamp: &Stamp,
) -> Vec<Change> {
    let mut out = credential_changes(creds);
    let account = Some(creds.account_id.as_str()).filter(|a| !a.is_empty());
    for (kept, value) in KEPT.iter().zip([Some(profile), region, region, account]) {
        kept.change(value, &mut out);
    }
    let mine = [
        (SSOENV_PROFILE, Some(profile.to_string())),
        (SSOENV_REGION, region.map(str::to_string)),
        (SSOENV_ACCOUNT_ID, account.map(str::to_string)),
        (
            SSOENV_EXPIRATION,
            Some(creds.expiration.unix_timestamp().to_string()),
        ),
        (SSOENV_RENEW_AT, Some(stamp.renew_at.to_string())),
        (SSOENV_ID, Some(stamp.id.clone())),
        (
            SSOENV_STAMP,
            crate::stamp::path(profile)
                .ok()
                .map(|p| p.display().to_string()),
        ),
    ];
    for (name, value) in mine {
        out.push(match value {
            Some(v) => Change::Set(name, v),
            None => Change::Unset(name),
        });
    }
    out
}

/// What an env file for another machine (a container) needs: the credentials, their expiry,
/// the region and the account, and nothing that names this machine's profiles or files.
pub fn portable_changes(creds: &RoleCreds, region: Option<&str>) -> Vec<Change> {
    let mut out = credential_changes(creds);
    if let Some(r) = region {
        out.push(Change::Set(REGION, r.to_string()));
        out.push(Change::Set(DEFAULT_REGION, r.to_string()));
    }
    if !creds.account_id.is_empty() {
        out.push(Change::Set(ACCOUNT_ID, creds.account_id.clone()));
    }
    out
}

/// What removes everything ssoenv set, giving back each value of the user's it replaced.
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
    for kept in &KEPT {
        if kept.is_mine() {
            kept.give_back(&mut out);
        } else {
            out.push(Change::Unset(kept.previous.clone()));
        }
    }
    out.extend(
        [
            SSOENV_PROFILE,
            SSOENV_REGION,
            SSOENV_ACCOUNT_ID,
            SSOENV_EXPIRATION,
            SSOENV_RENEW_AT,
            SSOENV_ID,
            SSOENV_STAMP,
        ]
        .map(Change::Unset),
    );
    out
}
