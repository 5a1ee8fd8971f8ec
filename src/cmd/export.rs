//! `ssoenv [export] [PROFILE]`: the warm path is config + one cache file + formatting.
//! With `--auto` (the shell hooks), it first asks the stamp whether this shell already holds
//! current credentials and then exits before reading the config; and it takes credentials
//! another shell renewed from the cache, whatever the reuse window, while the stamp vouches
//! for them (so shells never ping-pong renewals of short-lived credentials).
//!
//! With `--background` (the hooks at the renewal point) it never waits for the network: it
//! starts `export --renewing` as a detached process and returns. That process renews under a
//! per-profile lock (one at a time), and records in the stamp's `.renewal` file that it runs,
//! then how it failed and when to retry (60 s, doubling up to 10 min, but at least twice
//! before expiry), or removes the record when the new stamp is written. A renewal that gets no
//! answer is given up after a deadline and recorded as failed.

use crate::cache;
use crate::cli::ExportArgs;
use crate::clock;
use crate::config;
use crate::credentials;
use crate::env;
use crate::error::{Error, Result};
use crate::files;
use crate::shell::{self, Shell};
use crate::stamp::{self, Renewal, Stamp};

fn env_is(var: &env::VarName, value: &str) -> bool {
    std::env::var(var.as_str()).is_ok_and(|v| v == value)
}

pub fn run(args: &ExportArgs) -> Result<String> {
    if args.unset {
        return args.shell.render(&env::unset_changes());
    }
    let name = match &args.from_dir {
        Some(dir) => match crate::trust::trusted_profile(dir)? {
            Some(p) => p,
            None => return Ok(String::new()),
        },
        None => config::choose_profile(args.profile.as_deref()),
    };
    if args.background {
        return background(args, &name);
    }
    if args.renewing {
        return renewing(args, &name);
    }
    export(args, &name)
}

fn export(args: &ExportArgs, name: &str) -> Result<String> {
    let name = name.to_string();
    let now = clock::now();
    let stamped = if args.auto || args.renewing {
        stamp::read(&name)
    } else {
        None
    };
    if let Some(s) = &stamped
        && now.unix_timestamp() < s.renew_at
        && env_is(&env::SSOENV_PROFILE, &name)
        && env_is(&env::SSOENV_ID, &s.id)
    {
        crate::debug!("stamp: credentials of '{name}' are current; nothing to do");
        return Ok(String::new());
    }
    let cfg = config::load_for(&name)?;
    let profile = match cfg.resolve(&name) {
        Err(Error::ProfileNotFound { .. })
            if args.from_dir.is_none()
                && config::named_profile(args.profile.as_deref()).is_none() =>
        {
            let names: Vec<String> = cfg
                .profiles()
                .take(5)
                .map(|p| crate::messages::visible(&p.name))
                .collect();
            return Err(Error::Usage(format!(
                "no profile given (no argument, no AWS_PROFILE) and {} has no [default] profile; run `ssoenv PROFILE`{}",
                cfg.path.display(),
                if names.is_empty() {
                    String::new()
                } else {
                    format!(
                        " with one of: {} (`ssoenv list` shows all)",
                        names.join(", ")
                    )
                }
            )));
        }
        other => other?,
    };
    // Credentials another shell renewed: the stamp vouches for the cached ones.
    let vouched = stamped
        .filter(|s| now.unix_timestamp() < s.renew_at)
        .and_then(|s| {
            credentials::cached(&profile)
                .filter(|c| stamp::identity(c) == s.id)
                .map(|c| (c, s))
        });
    let (creds, st) = match vouched {
        Some(pair) => pair,
        None => {
            let c = credentials::credentials(&profile)?;
            let s = Stamp::new(&c, now);
            (c, s)
        }
    };
    if !matches!(args.shell, Shell::Json | Shell::Dotenv) {
        stamp::write(&profile.name, &st);
    }
    output(args.shell, &profile, &creds, &st)
}

/// The text for the chosen format: credential_process JSON, a portable env file, or the
/// shell statements with the plugins' bookkeeping.
fn output(
    shell: Shell,
    profile: &config::Profile,
    creds: &cache::RoleCreds,
    st: &Stamp,
) -> Result<String> {
    let region = profile.region.as_deref();
    match shell {
        Shell::Json => Ok(shell::process_json(creds)),
        Shell::Dotenv => shell.render(&env::portable_changes(creds, region)),
        _ => shell.render(&env::export_changes(&profile.name, creds, region, st)),
    }
}

/// A renewal that runs longer than this is given up: an endpoint that accepts connections but
/// never answers must not leave a renewal "running" for ever.
fn deadline() -> std::time::Duration {
    let per_request = crate::http::checked_timeout()
        .ok()
        .flatten()
        .unwrap_or(std::time::Duration::from_secs(10));
    (per_request * 4).max(std::time::Duration::from_secs(60))
}

/// When to try again after `count` failures in a row: 60 s, doubling up to 10 minutes, but
/// at least twice before the credentials expire (at least 5 s apart).
fn retry_at(now: i64, count: u32, expiration: Option<i64>) -> i64 {
    let backoff = (60i64 << count.clamp(1, 5).saturating_sub(1)).min(600);
    let wait = match expiration {
        Some(exp) => backoff.min(((exp - now) / 2).max(5)),
        None => backoff,
    };
    now + wait
}

fn may_start(name: &str, now: i64) -> bool {
    match stamp::read_renewal(name) {
        Some(Renewal::Running { since, .. }) => now >= since + deadline().as_secs() as i64 + 10,
        Some(Renewal::Failed { retry_at, .. }) => now >= retry_at,
        None => true,
    }
}

/// `--background`: the hooks' renewal that never blocks the prompt.
fn background(args: &ExportArgs, name: &str) -> Result<String> {
    let now = clock::now();
    let stamped = stamp::read(name);
    let due = stamped
        .as_ref()
        .is_none_or(|s| now.unix_timestamp() >= s.renew_at);
    // The credentials the cache holds now, still valid: never the network. Without any,
    // there is nothing to renew before expiry: the caller exports in the foreground.
    let profile = config::load_for(name)?.resolve(name)?;
    let Some(creds) = credentials::cached(&profile).filter(|c| c.expiration > now) else {
        return Ok(String::new());
    };
    if due && may_start(name, now.unix_timestamp()) {
        start_renewal(name, now.unix_timestamp())?;
    }
    let st = stamped
        .filter(|s| s.id == stamp::identity(&creds))
        .unwrap_or_else(|| Stamp::new(&creds, now));
    output(args.shell, &profile, &creds, &st)
}

/// Starts `ssoenv export --renewing -- NAME` detached: no terminal, no pipes of the shell, in
/// a process group of its own (Ctrl-C at the prompt does not reach it). The record says
/// "running" before it starts, so the next prompt does not start another.
fn start_renewal(name: &str, now: i64) -> Result<()> {
    stamp::write_renewal(name, &Renewal::Running { since: now, pid: 0 })?;
    let exe = std::env::current_exe()
        .map_err(|e| Error::Other(format!("cannot find the ssoenv program to renew: {e}")))?;
    let mut cmd = std::process::Command::new(exe);
    cmd.args(["export", "--renewing", "--", name])
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null());
    #[cfg(unix)]
    std::os::unix::process::CommandExt::process_group(&mut cmd, 0);
    #[cfg(windows)]
    {
        use std::os::windows::process::CommandExt;
        const DETACHED_PROCESS: u32 = 0x0000_0008;
        const CREATE_NEW_PROCESS_GROUP: u32 = 0x0000_0200;
        cmd.creation_flags(DETACHED_PROCESS | CREATE_NEW_PROCESS_GROUP);
    }
    match cmd.spawn() {
        // Not waited for: it outlives this process and reports through the record.
        Ok(_child) => Ok(()),
        Err(e) => {
            stamp::remove_renewal(name);
            Err(Error::Other(format!(
                "cannot start a background renewal: {e}"
            )))
        }
    }
}

/// `--renewing`: the detached renewal. One per profile at a time (a second one leaves at
/// once); how it went is in the record, nothing is printed.
fn renewing(args: &ExportArgs, name: &str) -> Result<String> {
    // Descriptors the shell or direnv left open (direnv waits for its fd 3 to close) are not
    // this process's business: closed before anything else is opened.
    #[cfg(unix)]
    for fd in 3..1024 {
        // SAFETY: nothing in this process has opened a descriptor yet; close(2) of one that
        // is not open only fails with EBADF.
        unsafe { libc::close(fd) };
    }
    let Some(_lock) = files::try_lock(&format!("renewal of {name}"))? else {
        return Ok(String::new());
    };
    let start = clock::now().unix_timestamp();
    let count = match stamp::read_renewal(name) {
        Some(Renewal::Failed { count, .. }) => count.saturating_add(1),
        _ => 1,
    };
    let expiration = stamp::read(name).map(|s| s.expiration);
    let _ = stamp::write_renewal(
        name,
        &Renewal::Running {
            since: start,
            pid: std::process::id(),
        },
    );
    let failed = move |name: &str, code: u8, message: String| {
        let now = clock::now().unix_timestamp();
        let _ = stamp::write_renewal(
            name,
            &Renewal::Failed {
                since: now,
                code,
                retry_at: retry_at(now, count, expiration),
                count,
                message,
            },
        );
    };
    let limit = deadline();
    let watched = name.to_string();
    std::thread::spawn(move || {
        std::thread::sleep(limit);
        failed(
            &watched,
            crate::error::exit::ERROR,
            format!(
                "no answer within {} s (is the network or the SSO portal down?)",
                limit.as_secs()
            ),
        );
        std::process::exit(i32::from(crate::error::exit::ERROR));
    });
    match export(args, name) {
        Ok(_) => {
            stamp::remove_renewal(name);
            Ok(String::new())
        }
        Err(e) => {
            failed(name, e.exit_code(), e.to_string());
            Err(e)
        }
    }
}
