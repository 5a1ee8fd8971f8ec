//! Shell syntax, produced here and nowhere else. [`Shell`] is a closed set: every operation
//! is an exhaustive `match`, so adding a shell makes the compiler list what it must handle.
//! Values are always quoted (or refused); names come checked from [`crate::env`].

mod fish;
mod nu;
mod plain;
mod posix;
mod pwsh;

use clap::ValueEnum;

use crate::cache::RoleCreds;
use crate::clock::format_time;
use crate::env::Change;
use crate::error::{Error, Result};

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Shell {
    /// POSIX sh (and dash): `export K='v'`
    Sh,
    Bash,
    Zsh,
    /// `set -gx K 'v'`
    Fish,
    /// PowerShell: `$Env:K = 'v'`
    #[value(alias = "powershell")]
    Pwsh,
    /// Windows cmd.exe: `set K=v` (safe values only)
    Cmd,
    /// nushell: a JSON record for `from json | load-env` (null means hide)
    Nu,
    /// `K=v` lines for env files (safe values only)
    Dotenv,
    /// credential_process JSON (`Version: 1`)
    Json,
}

impl Shell {
    /// Renders a list of changes as one string, or refuses it whole.
    pub fn render(self, changes: &[Change]) -> Result<String> {
        crate::env::refuse_nul(changes)?;
        match self {
            Shell::Sh | Shell::Bash | Shell::Zsh => Ok(posix::render(changes)),
            Shell::Fish => Ok(fish::render(changes)),
            Shell::Pwsh => Ok(pwsh::render(changes)),
            Shell::Cmd => plain::render(changes, plain::Style::Cmd),
            Shell::Dotenv => plain::render(changes, plain::Style::Dotenv),
            Shell::Nu => Ok(nu::render(changes)),
            Shell::Json => Err(Error::Usage(
                "--shell json prints credentials for credential_process; it has no --unset".into(),
            )),
        }
    }
}

/// How a quoting shell writes statements: `set` as prefix, name, separator, quoted value;
/// `unset` as prefix, name, suffix; each statement followed by `end`.
struct Forms {
    set: (&'static str, &'static str),
    unset: (&'static str, &'static str),
    end: &'static str,
}

/// The statements for a list of changes, every value through `quote`.
fn statements(changes: &[Change], forms: &Forms, quote: fn(&str) -> String) -> String {
    let mut out = String::new();
    for c in changes {
        match c {
            Change::Set(k, v) => {
                out.push_str(forms.set.0);
                out.push_str(k.as_str());
                out.push_str(forms.set.1);
                out.push_str(&quote(v));
            }
            Change::Unset(k) => {
                out.push_str(forms.unset.0);
                out.push_str(k.as_str());
                out.push_str(forms.unset.1);
            }
        }
        out.push_str(forms.end);
    }
    out
}

/// `'…'` around a value, each character written by `escape` (which pushes it, escaped or not).
fn single_quoted(value: &str, escape: impl Fn(char, &mut String)) -> String {
    let mut out = String::with_capacity(value.len() + 2);
    out.push('\'');
    for c in value.chars() {
        escape(c, &mut out);
    }
    out.push('\'');
    out
}

/// credential_process output (the AWS CLI's `process` format).
pub fn process_json(c: &RoleCreds) -> String {
    let v = serde_json::json!({
        "Version": 1,
        "AccessKeyId": c.access_key_id,
        "SecretAccessKey": c.secret_access_key,
        "SessionToken": c.session_token,
        "Expiration": format_time(c.expiration),
    });
    let mut v = v;
    if !c.account_id.is_empty() {
        v["AccountId"] = serde_json::json!(c.account_id);
    }
    let mut s = serde_json::to_string_pretty(&v).unwrap_or_default();
    s.push('\n');
    s
}

#[cfg(test)]
pub(crate) mod nasty {
    /// Values that break naive quoting, for every shell's unit tests.
    pub const VALUES: &[&str] = &[
        "",
        "plain",
        "it's",
        "''",
        "back\\slash",
        "trailing\\",
        "\\'",
        "new\nline",
        "$(touch canary)",
        "`touch canary`",
        "$HOME ${HOME}",
        "\"double\"",
        "’curly‘ ‚low‛",
        "tab\there",
        "; rm -rf / #",
        "%PATH% !x! ^&|<>",
        "ünïcødé 🦀",
    ];
}
