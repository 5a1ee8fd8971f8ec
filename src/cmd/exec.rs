//! `ssoenv exec [PROFILE] -- COMMAND [ARGS…]`: runs COMMAND with the profile's credentials in
//! its environment — the variables an export sets, without the shell plugins' bookkeeping —
//! its arguments passed as they are, no shell in between. On Unix ssoenv replaces itself with
//! the command (`execvp`): no ssoenv process stays behind, and the exit status and every
//! signal (Ctrl-C included) are the command's own. A command that is not found exits 127,
//! one that cannot be run 126, as shells do.
//!
//! With `--server` ssoenv stays the parent: it serves the credentials on a local endpoint
//! ([`crate::endpoint`]) and gives the command only the endpoint's variables (and the
//! region), never the keys; it forwards SIGINT, SIGTERM and SIGHUP and exits with the
//! command's status (128 + N for a signal N).

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
    if args.server {
        return with_server(args, profile);
    }
    let creds = credentials::credentials(&profile)?;
    let mut changes = env::portable_changes(&creds, profile.region.as_deref());
    changes.push(Change::Set(env::PROFILE, profile.name.clone()));
    // The same check every export format makes: no value a variable cannot hold.
    env::refuse_nul(&changes)?;
    let (mut cmd, program) = command(args)?;
    for c in &changes {
        match c {
            Change::Set(k, v) => cmd.env(k.as_str(), v),
            Change::Unset(k) => cmd.env_remove(k.as_str()),
        };
    }
    let failed = |e: std::io::Error| program_error(program, e);
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

/// The variables that would make an SDK skip the endpoint: credentials and profiles the
/// command would otherwise inherit.
const SHADOWING: &[&str] = &[
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
    "AWS_CREDENTIAL_EXPIRATION",
    "AWS_PROFILE",
    "AWS_DEFAULT_PROFILE",
    "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE",
];

/// The command to run, with its arguments as given, and its program's name.
fn command(args: &ExecArgs) -> Result<(Command, &std::ffi::OsStr)> {
    let (program, rest) = args
        .command
        .split_first()
        .ok_or_else(|| Error::Usage("exec needs a command after `--`".into()))?;
    let mut cmd = Command::new(program);
    cmd.args(rest);
    Ok((cmd, program))
}

fn program_error(program: &std::ffi::OsStr, e: std::io::Error) -> Error {
    let (code, why) = match e.kind() {
        std::io::ErrorKind::NotFound => (127, "command not found"),
        std::io::ErrorKind::PermissionDenied => (126, "cannot run it (permission denied)"),
        _ => (126, "cannot run it"),
    };
    Error::Exec {
        command: visible(&program.to_string_lossy()),
        code,
        why: format!("{why}: {e}"),
    }
}

#[cfg(unix)]
static SIGNALLED: std::sync::atomic::AtomicI32 = std::sync::atomic::AtomicI32::new(0);

#[cfg(unix)]
extern "C" fn remember(sig: std::ffi::c_int) {
    SIGNALLED.store(sig, std::sync::atomic::Ordering::SeqCst);
}

fn with_server(args: &ExecArgs, profile: crate::config::Profile) -> Result<String> {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicBool, Ordering};
    let region = profile.region.clone();
    let endpoint = crate::endpoint::Endpoint::bind(profile, 0)?;
    // A needed sign-in is said before the command starts.
    let creds = endpoint.credentials()?;
    let stop = Arc::new(AtomicBool::new(false));
    let server = {
        let (endpoint, stop) = (Arc::clone(&endpoint), Arc::clone(&stop));
        std::thread::spawn(move || endpoint.serve(|| stop.load(Ordering::SeqCst)))
    };
    let (mut cmd, program) = command(args)?;
    for var in SHADOWING {
        cmd.env_remove(var);
    }
    cmd.env(
        env::CONTAINER_CREDENTIALS_FULL_URI.as_str(),
        endpoint.url()?,
    )
    .env("AWS_CONTAINER_AUTHORIZATION_TOKEN", &endpoint.token);
    if let Some(r) = &region {
        cmd.env(env::REGION.as_str(), r)
            .env(env::DEFAULT_REGION.as_str(), r);
    }
    if !creds.account_id.is_empty() {
        cmd.env(env::ACCOUNT_ID.as_str(), &creds.account_id);
    }
    #[cfg(unix)]
    for sig in [libc::SIGINT, libc::SIGTERM, libc::SIGHUP] {
        // SAFETY: the handler only stores to an atomic, which is async-signal-safe.
        unsafe {
            libc::signal(sig, remember as *const () as libc::sighandler_t);
        }
    }
    let mut child = cmd.spawn().map_err(|e| program_error(program, e))?;
    let status = loop {
        #[cfg(unix)]
        {
            let sig = SIGNALLED.swap(0, Ordering::SeqCst);
            if sig != 0 {
                // SAFETY: sends a signal to our own child, whose pid we hold.
                unsafe {
                    libc::kill(child.id() as libc::pid_t, sig);
                }
            }
        }
        match child.try_wait() {
            Ok(Some(status)) => break status,
            Ok(None) => std::thread::sleep(std::time::Duration::from_millis(20)),
            Err(e) => return Err(Error::Other(format!("waiting for the command: {e}"))),
        }
    };
    stop.store(true, Ordering::SeqCst);
    let _ = server.join();
    #[cfg(unix)]
    {
        use std::os::unix::process::ExitStatusExt;
        if let Some(sig) = status.signal() {
            std::process::exit(128 + sig);
        }
    }
    std::process::exit(status.code().unwrap_or(1));
}
