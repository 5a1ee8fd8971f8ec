//! `ssoenv exec [PROFILE] -- COMMAND [ARGS…]`: runs COMMAND with the profile's credentials in
//! its environment — the variables an export sets, without the shell plugins' bookkeeping —
//! its arguments passed as they are, no shell in between. On Unix ssoenv replaces itself with
//! the command (`execvp`): no ssoenv process stays behind, and the exit status and every
//! signal (Ctrl-C included) are the command's own. A command that is not found exits 127,
//! one that cannot be run 126, as shells do.

use std::process::Command;

use crate::cli::ExecArgs;
use crate::config;
use crate::credentials;
use crate::env::{self, Change};
use crate::error::{Error, Result};
use crate::messages::visible;

pub fn run(args: &ExecArgs) -> Result<String> {
    let name = config::choose_profile(args.profile.as_deref());
    let profile = config::load_for(&name)?.resolve(&name)?;
    let creds = credentials::credentials(&profile)?;
    let mut changes = env::portable_changes(&creds, profile.region.as_deref());
    changes.push(Change::Set(env::PROFILE, profile.name.clone()));
    // The same check every export format makes: no value a variable cannot hold.
    if let Some(Change::Set(k, _)) = changes
        .iter()
        .find(|c| matches!(c, Change::Set(_, v) if v.contains('\0')))
    {
        return Err(Error::NulInValue {
            variable: k.as_str().to_string(),
        });
    }
    let (program, rest) = args
        .command
        .split_first()
        .ok_or_else(|| Error::Usage("exec needs a command after `--`".into()))?;
    let mut cmd = Command::new(program);
    cmd.args(rest);
    for c in &changes {
        match c {
            Change::Set(k, v) => cmd.env(k.as_str(), v),
            Change::Unset(k) => cmd.env_remove(k.as_str()),
        };
    }
    let shown = visible(&program.to_string_lossy());
    let failed = |e: std::io::Error| {
        let (code, why) = match e.kind() {
            std::io::ErrorKind::NotFound => (127, "command not found"),
            std::io::ErrorKind::PermissionDenied => (126, "cannot run it (permission denied)"),
            _ => (126, "cannot run it"),
        };
        Error::Exec {
            command: shown.clone(),
            code,
            why: format!("{why}: {e}"),
        }
    };
    #[cfg(unix)]
    {
        use std::os::unix::process::CommandExt;
        // Only returns on failure.
        Err(failed(cmd.exec()))
    }
    #[cfg(not(unix))]
    {
        let status = cmd.status().map_err(failed)?;
        std::process::exit(status.code().unwrap_or(1));
    }
}
