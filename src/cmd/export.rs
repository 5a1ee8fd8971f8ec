//! `ssoenv [export] [PROFILE]`: the warm path is config + one cache file + formatting.
//! With `--auto` (the shell hooks), it first asks the stamp whether this shell already holds
//! current credentials and then exits before reading the config; and it takes credentials
//! another shell renewed from the cache, whatever the reuse window, while the stamp vouches
//! for them (so shells never ping-pong renewals of short-lived credentials).

use crate::cache;
use crate::cli::ExportArgs;
use crate::clock;
use crate::config;
use crate::credentials;
use crate::env;
use crate::error::{Error, Result};
use crate::shell::{self, Shell};
use crate::stamp::{self, Stamp};

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
    let now = clock::now();
    let stamped = if args.auto { stamp::read(&name) } else { None };
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
            credentials::role_cache_path(&profile)
                .ok()
                .and_then(|path| cache::read_role(&path))
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
    match args.shell {
        Shell::Json => return Ok(shell::process_json(&creds)),
        Shell::Dotenv => {
            return args
                .shell
                .render(&env::portable_changes(&creds, profile.region.as_deref()));
        }
        _ => stamp::write(&profile.name, &st),
    }
    args.shell.render(&env::export_changes(
        &profile.name,
        &creds,
        profile.region.as_deref(),
        &st,
    ))
}
