//! `ssoenv logout [--sso-session NAME | --all]`: what `aws sso logout` does — the Logout API
//! with each cached token (failures are warnings), then the token files and the SSO
//! role-credential cache files are deleted — plus the assumed-role caches of the role chains
//! that start from those sign-ins, and the shell plugins' stamp files.
//! Client registrations (cache files without `accessToken`) are kept, as the CLI keeps them.
//! The direnv plugin's renewal timers (`<stamp>.direnv-timer`, their pid) are stopped.

use std::path::{Path, PathBuf};

use crate::cache;
use crate::cli::LogoutArgs;
use crate::config;
use crate::error::{Error, Result};
use crate::files;
use crate::http::{self, Client, Service};
use crate::portal;

pub fn run(args: &LogoutArgs) -> Result<String> {
    let client = Client::new(None)?;
    let session = args.sso_session.as_deref();
    let file = match session {
        Some(_) => Some(config::read()?),
        None => config::read().ok(),
    };
    let cfg = match (&file, session) {
        (Some(file), Some(name)) => {
            let cfg = file.config()?;
            cfg.session_login(name)?;
            Some(cfg)
        }
        (Some(file), None) => file.config().ok(),
        (None, _) => None,
    };
    // The assumed-role caches of the role chains that start from these sign-ins: derived
    // from them, they go with them (the AWS CLI's logout leaves them).
    let mut derived = Vec::new();
    if let Some(cfg) = &cfg {
        for p in cfg.profiles().filter_map(|s| cfg.resolve(&s.name).ok()) {
            if session.is_some_and(|n| p.login.session.as_deref() != Some(n)) {
                continue;
            }
            match (&p.chain, session) {
                (Some(c), _) => derived.extend(
                    c.hops
                        .iter()
                        .filter_map(|h| crate::credentials::hop_cache_path(h).ok()),
                ),
                (None, Some(_)) => {
                    derived.extend(crate::credentials::sso_cache_path(&p).ok());
                }
                (None, None) => {}
            }
        }
    }
    let (tokens, roles) = match session {
        Some(name) => (vec![cache::token_path(name)?], Vec::new()),
        None => (
            json_files(&cache::token_dir()?)?,
            json_files(&cache::role_dir()?)?,
        ),
    };
    let mut signed_out = 0;
    for path in tokens {
        let Ok(Some(map)) = files::read_json(&path) else {
            continue;
        };
        let Some(token) = map.get("accessToken").and_then(|v| v.as_str()) else {
            continue; // a client registration
        };
        let region = map
            .get("region")
            .and_then(|v| v.as_str())
            .unwrap_or("us-east-1");
        let region = if crate::config::check_region(region).is_ok() {
            region
        } else {
            "us-east-1"
        };
        let endpoint = http::endpoint(Service::Portal, region, None);
        if let Err(e) = portal::logout(&client, &endpoint, token) {
            crate::warn!("{e}");
        }
        remove(&path)?;
        signed_out += 1;
    }
    for path in roles {
        let is_sso = files::read_json(&path)
            .ok()
            .flatten()
            .is_some_and(|m| m.get("ProviderType").and_then(|v| v.as_str()) == Some("sso"));
        if is_sso {
            remove(&path)?;
        }
    }
    for path in derived {
        remove(&path)?;
    }
    // Temp files a killed run left behind may hold a secret: they go with the caches.
    files::remove_temp_files(&cache::token_dir()?, None);
    files::remove_temp_files(&cache::role_dir()?, None);
    let stamps = files::state_dir()?.join("stamps");
    if let Ok(rd) = std::fs::read_dir(&stamps) {
        for e in rd.flatten() {
            stop_direnv_timer(&e.path());
            remove(&e.path())?;
        }
    }
    eprintln!(
        "ssoenv: signed out of {signed_out} SSO session{}",
        if signed_out == 1 { "" } else { "s" }
    );
    Ok(String::new())
}

fn json_files(dir: &Path) -> Result<Vec<PathBuf>> {
    let rd = match std::fs::read_dir(dir) {
        Ok(rd) => rd,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(Error::io(dir, "read directory", e)),
    };
    let mut v: Vec<PathBuf> = rd
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .collect();
    v.sort();
    Ok(v)
}

fn remove(p: &Path) -> Result<()> {
    match std::fs::remove_file(p) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(Error::io(p, "delete", e)),
    }
}

/// Stops the timer process named in a `<stamp>.direnv-timer` file (the direnv plugin's
/// background wait until renewal): with the stamps gone it has nothing left to renew.
fn stop_direnv_timer(p: &Path) {
    if p.extension().is_none_or(|x| x != "direnv-timer") {
        return;
    }
    let Ok(Some(bytes)) = files::read_bounded(p, files::SMALL_CAP) else {
        return;
    };
    let pid = String::from_utf8_lossy(&bytes).trim().parse::<i32>().ok();
    #[cfg(unix)]
    if let Some(pid) = pid.filter(|&pid| pid > 1) {
        // SAFETY: kill(2) with a plain pid and signal number touches no memory of ours.
        unsafe { libc::kill(pid, libc::SIGTERM) };
    }
    #[cfg(not(unix))]
    let _ = pid;
}
