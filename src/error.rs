//! The one error type. Every variant carries the context a user needs to fix the problem
//! (file, line, profile, session, endpoint, HTTP status, AWS error code) and never a secret.
//! `exit_code()` maps variants to the documented exit codes.

use std::fmt;
use std::io;
use std::path::PathBuf;

use crate::messages::visible;

/// Exit codes, documented in `--help` and README.
pub mod exit {
    /// Success, including "nothing to do".
    pub const OK: u8 = 0;
    /// Any error not listed below.
    pub const ERROR: u8 = 1;
    /// Bad command line (clap uses 2 as well).
    pub const USAGE: u8 = 2;
    /// The SSO session needs a new sign-in: run `ssoenv login`.
    pub const LOGIN_REQUIRED: u8 = 3;
}

#[derive(Debug)]
pub enum Error {
    /// The config file does not exist.
    ConfigMissing {
        path: PathBuf,
    },
    /// A file could not be read or written.
    Io {
        path: PathBuf,
        action: &'static str,
        source: io::Error,
    },
    /// A line of the config file that is neither a section, a key, a comment nor a continuation.
    ConfigSyntax {
        path: PathBuf,
        line: usize,
        message: String,
    },
    ProfileNotFound {
        profile: String,
        path: PathBuf,
        close: Vec<String>,
    },
    NotSso {
        profile: String,
        path: PathBuf,
    },
    /// A role chain (`role_arn`, `source_profile`) that cannot be followed: a missing or
    /// looping source, a source ssoenv cannot use, contradicting keys.
    Chain {
        profile: String,
        path: PathBuf,
        message: String,
    },
    /// A role that needs an MFA code, with no terminal to ask on and no `--mfa-code`.
    MfaRequired {
        profile: String,
        serial: String,
    },
    /// An sso-session that is not in the config: named by a profile, or by `--sso-session`.
    SessionNotFound {
        session: String,
        profile: Option<String>,
        path: PathBuf,
    },
    /// Keys a section needs are missing or empty (`sso_start_url, sso_region`).
    MissingKey {
        section: String,
        key: String,
        path: PathBuf,
    },
    /// A key in a profile disagrees with the same key in its sso-session section.
    Conflict {
        profile: String,
        key: String,
        session: String,
        path: PathBuf,
    },
    /// A value in the config that cannot be used.
    BadValue {
        section: String,
        key: &'static str,
        value: String,
        why: &'static str,
    },
    /// A file that exists but cannot be used: a cache file, the CA bundle, a `.ssoenv`.
    BadFile {
        path: PathBuf,
        message: String,
    },
    /// A sign-in that did not complete: denied, expired, or no answer.
    SignIn {
        /// `sso-session 'NAME'` or the start URL.
        login: String,
        reason: String,
    },
    /// No usable token: the user must sign in again.
    LoginRequired {
        /// `sso-session NAME` or the start URL of a legacy profile.
        what: String,
        reason: String,
        /// What to run, e.g. `ssoenv login dev`.
        hint: String,
    },
    /// No answer, a refused connection, a timeout.
    Network {
        endpoint: String,
        message: String,
    },
    /// An AWS error response.
    Aws {
        endpoint: String,
        operation: &'static str,
        status: u16,
        code: String,
        message: String,
    },
    /// ForbiddenException from GetRoleCredentials.
    NoAccess {
        role: String,
        account: String,
        profile: String,
    },
    /// A 2xx response that is not what the API model says.
    BadResponse {
        endpoint: String,
        operation: &'static str,
        message: String,
    },
    /// A value that no quoting rule of the chosen output format can carry safely.
    Unsafe {
        format: &'static str,
        variable: String,
    },
    /// A value with a NUL character, which no environment variable can carry.
    NulInValue {
        variable: String,
    },
    /// `exec` could not start its command; `code` is the exit status shells use (127, 126).
    Exec {
        command: String,
        code: u8,
        why: String,
    },
    /// A usage problem found after parsing (e.g. `ssoenv use` without the hook).
    Usage(String),
    /// Anything else, already worded for the user.
    Other(String),
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    pub fn io(path: impl Into<PathBuf>, action: &'static str, source: io::Error) -> Error {
        Error::Io {
            path: path.into(),
            action,
            source,
        }
    }

    /// Whether the API asked to slow down (and kept asking through the HTTP layer's retries).
    pub fn is_throttling(&self) -> bool {
        matches!(self, Error::Aws { status: 429, .. })
            || matches!(self, Error::Aws { code, .. } if code.contains("Throttl") || code == "TooManyRequestsException")
    }

    pub fn exit_code(&self) -> u8 {
        match self {
            Error::LoginRequired { .. } => exit::LOGIN_REQUIRED,
            Error::Usage(_) => exit::USAGE,
            Error::Exec { code, .. } => *code,
            _ => exit::ERROR,
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::ConfigMissing { path } => write!(
                f,
                "config file {} does not exist (set AWS_CONFIG_FILE, or create it with `ssoenv configure`)",
                path.display()
            ),
            Error::Io {
                path,
                action,
                source,
            } => write!(f, "cannot {action} {}: {source}", path.display()),
            Error::ConfigSyntax {
                path,
                line,
                message,
            } => write!(f, "{}:{line}: {message}", path.display()),
            Error::ProfileNotFound {
                profile,
                path,
                close,
            } => {
                write!(
                    f,
                    "profile '{}' not found in {}",
                    visible(profile),
                    path.display()
                )?;
                if !close.is_empty() {
                    let close: Vec<String> = close.iter().map(|c| visible(c)).collect();
                    write!(f, " (did you mean {}?)", close.join(", "))?;
                }
                Ok(())
            }
            Error::NotSso { profile, path } => write!(
                f,
                "profile '{}' in {} is not an SSO profile (it has neither sso_account_id nor sso_role_name, nor role_arn)",
                visible(profile),
                path.display()
            ),
            Error::Chain {
                profile,
                path,
                message,
            } => write!(
                f,
                "profile '{}' in {}: {message}",
                visible(profile),
                path.display()
            ),
            Error::MfaRequired { profile, serial } => write!(
                f,
                "profile '{}' needs an MFA code for {}: pass --mfa-code CODE (no terminal to ask on)",
                visible(profile),
                visible(serial)
            ),
            Error::SessionNotFound {
                session,
                profile,
                path,
            } => {
                let session = visible(session);
                match profile {
                    Some(p) => write!(
                        f,
                        "profile '{}' names sso_session '{session}', but {} has no [sso-session {session}] section",
                        visible(p),
                        path.display()
                    ),
                    None => write!(
                        f,
                        "{} has no [sso-session {session}] section (add one with `ssoenv configure sso-session`)",
                        path.display()
                    ),
                }
            }
            Error::MissingKey { section, key, path } => write!(
                f,
                "[{}] in {} has no {key}",
                visible(section),
                path.display()
            ),
            Error::Conflict {
                profile,
                key,
                session,
                path,
            } => write!(
                f,
                "profile '{}' in {} sets {key}, which differs from [sso-session {}]: remove it from the profile",
                visible(profile),
                path.display(),
                visible(session)
            ),
            Error::BadValue {
                section,
                key,
                value,
                why,
            } => write!(
                f,
                "[{}] {key} = {}: {why}",
                visible(section),
                visible(value)
            ),
            Error::BadFile { path, message } => write!(f, "{}: {message}", path.display()),
            Error::SignIn { login, reason } => write!(f, "sign-in to {login} failed: {reason}"),
            Error::LoginRequired { what, reason, hint } => {
                write!(f, "{reason} for {what}: run `{hint}`")
            }
            Error::Network { endpoint, message } => write!(f, "{endpoint}: {message}"),
            Error::Aws {
                endpoint,
                operation,
                status,
                code,
                message,
            } => {
                write!(f, "{operation} at {endpoint} failed: HTTP {status} {code}")?;
                if !message.is_empty() {
                    write!(f, ": {message}")?;
                }
                Ok(())
            }
            Error::NoAccess {
                role,
                account,
                profile,
            } => write!(
                f,
                "no access to role {role} in account {account} (profile '{profile}')"
            ),
            Error::BadResponse {
                endpoint,
                operation,
                message,
            } => write!(
                f,
                "{operation} at {endpoint}: unexpected response: {message}"
            ),
            Error::Unsafe { format, variable } => write!(
                f,
                "the value of {variable} cannot be written safely in {format} format; use another --shell"
            ),
            Error::NulInValue { variable } => write!(
                f,
                "the value of {variable} holds a NUL character, which no environment variable can carry; nothing was exported"
            ),
            Error::Exec { command, why, .. } => write!(f, "{command}: {why}"),
            Error::Usage(message) | Error::Other(message) => f.write_str(message),
        }
    }
}

impl std::error::Error for Error {}
