//! `ssoenv doctor`: checks, offline, everything a working setup depends on, and says what to
//! run for each problem: ssoenv on PATH, the config and every profile in it, each login's
//! token and each profile's cached credentials, the state directory, the settings, and the
//! shell plugin (loaded in this shell, its prompt hook still in place — the plugin's wrapper
//! tells, through `SSOENV_PLUGIN` and `SSOENV_HOOK`). It starts no network connection.

use crate::cache;
use crate::clock;
use crate::config::{self, Config, Login};
use crate::credentials;
use crate::error::{Error, Result};
use crate::files;
use crate::messages::visible;

/// One finding: fine, worth knowing, or a problem with what to do about it.
enum Finding {
    Ok(String),
    Note(String),
    Problem { what: String, fix: String },
}

fn ok(s: impl Into<String>) -> Finding {
    Finding::Ok(s.into())
}

fn problem(what: impl Into<String>, fix: impl Into<String>) -> Finding {
    Finding::Problem {
        what: what.into(),
        fix: fix.into(),
    }
}

pub fn run() -> Result<String> {
    let mut found = Vec::new();
    on_path(&mut found);
    settings(&mut found);
    state_dir(&mut found);
    match config::read().and_then(|f| f.config().map(|c| profiles_and_logins(&c, &mut found))) {
        Ok(()) => {}
        Err(e) => found.push(problem(
            e.to_string(),
            "fix the file as the message says (`ssoenv configure` writes a new profile)",
        )),
    }
    plugin(&mut found);
    let mut out = String::new();
    let mut problems = 0;
    for f in &found {
        match f {
            Finding::Ok(s) => out.push_str(&format!("ok       {s}\n")),
            Finding::Note(s) => out.push_str(&format!("note     {s}\n")),
            Finding::Problem { what, fix } => {
                problems += 1;
                out.push_str(&format!("PROBLEM  {what}\n         fix: {fix}\n"));
            }
        }
    }
    if problems == 0 {
        out.push_str("\nno problems found\n");
        Ok(out)
    } else {
        // The report is the point: it goes to stdout whole, and the exit code says how it went.
        print!("{out}");
        Err(Error::Other(format!(
            "{problems} problem{} found",
            if problems == 1 { "" } else { "s" }
        )))
    }
}

fn on_path(found: &mut Vec<Finding>) {
    let me = std::env::current_exe().ok();
    match which::which("ssoenv") {
        Ok(p) if me.as_ref().is_none_or(|m| same_file(m, &p)) => {
            found.push(ok(format!("ssoenv on PATH is {}", p.display())))
        }
        Ok(p) => found.push(Finding::Note(format!(
            "ssoenv on PATH is {}, another binary than this one ({})",
            p.display(),
            me.map(|m| m.display().to_string()).unwrap_or_default()
        ))),
        Err(_) => found.push(problem(
            "ssoenv is not on PATH, so the shell plugins cannot run it",
            match me.as_ref().and_then(|m| m.parent()) {
                Some(dir) => format!("add {} to PATH in your shell's startup file", dir.display()),
                None => "add the directory of ssoenv to PATH".to_string(),
            },
        )),
    }
}

fn same_file(a: &std::path::Path, b: &std::path::Path) -> bool {
    match (std::fs::canonicalize(a), std::fs::canonicalize(b)) {
        (Ok(a), Ok(b)) => a == b,
        _ => false,
    }
}

fn settings(found: &mut Vec<Finding>) {
    for check in [
        crate::stamp::checked_margin().map(|_| ()),
        crate::http::checked_timeout().map(|_| ()),
    ] {
        if let Err(e) = check {
            found.push(problem(e.to_string(), "unset it or give it a valid value"));
        }
    }
}

fn state_dir(found: &mut Vec<Finding>) {
    let dir = match files::state_dir() {
        Ok(d) => d,
        Err(e) => {
            found.push(problem(e.to_string(), "set HOME to your home directory"));
            return;
        }
    };
    let probe = dir.join("doctor-probe");
    match files::write_atomic(&probe, b"", files::Existing::Private) {
        Ok(()) => {
            let _ = std::fs::remove_file(&probe);
            found.push(ok(format!("state directory {} is writable", dir.display())));
        }
        Err(e) => found.push(problem(
            format!("state directory: {e}"),
            format!(
                "make {} writable, or set XDG_STATE_HOME to a writable directory",
                dir.display()
            ),
        )),
    }
}

fn profiles_and_logins(cfg: &Config<'_>, found: &mut Vec<Finding>) {
    let sso: Vec<&str> = cfg
        .profiles()
        .filter(|s| Config::is_sso(s))
        .map(|s| &*s.name)
        .collect();
    found.push(ok(format!(
        "config {} reads as botocore reads it ({} profiles, {} with SSO, {} sso-sessions)",
        cfg.path.display(),
        cfg.profiles().count(),
        sso.len(),
        cfg.sso_sessions().count()
    )));
    let now = clock::now();
    let mut logins: Vec<Login> = Vec::new();
    for name in sso {
        match cfg.resolve(name) {
            Ok(p) => {
                let cached = credentials::cached(&p).filter(|c| c.expiration > now);
                if let Some(c) = cached {
                    found.push(ok(format!(
                        "profile '{}': credentials cached until {}",
                        visible(name),
                        clock::format_time(c.expiration)
                    )));
                } else {
                    let role = match p.chain.as_ref().and_then(|c| c.hops.last()) {
                        Some(h) => format!(
                            "role {}, assumed from account {} role {}",
                            visible(&h.role_arn),
                            p.account_id,
                            visible(&p.role_name)
                        ),
                        None => format!("account {}, role {}", p.account_id, visible(&p.role_name)),
                    };
                    found.push(ok(format!("profile '{}' resolves ({role})", visible(name))));
                }
                if !logins.iter().any(|l| l.token_key() == p.login.token_key()) {
                    logins.push(p.login);
                }
            }
            Err(e) => found.push(problem(
                e.to_string(),
                "edit the profile as the message says, or `ssoenv configure --profile NAME --force`",
            )),
        }
    }
    for login in &logins {
        found.push(token(login, now));
    }
}

fn token(login: &Login, now: time::OffsetDateTime) -> Finding {
    match cache::read_token(login.token_key()) {
        Ok(Some(t)) if t.expires_at > now => ok(format!(
            "signed in to {} until {}",
            login.name(),
            clock::format_time(t.expires_at)
        )),
        Ok(Some(t)) if login.session.is_some() && t.can_refresh(now) => Finding::Note(format!(
            "the token of {} expired; it is refreshed on next use",
            login.name()
        )),
        Ok(Some(_)) => problem(
            format!("the token of {} expired", login.name()),
            format!("run `{}`", login.hint),
        ),
        Ok(None) => problem(
            format!("not signed in to {}", login.name()),
            format!("run `{}`", login.hint),
        ),
        Err(e) => problem(e.to_string(), format!("run `{}`", login.hint)),
    }
}

fn plugin(found: &mut Vec<Finding>) {
    let shell = std::env::var("SHELL")
        .ok()
        .and_then(|s| s.rsplit('/').next().map(str::to_string))
        .unwrap_or_default();
    let line = match shell.as_str() {
        "zsh" => "eval \"$(ssoenv hook zsh)\" in ~/.zshrc",
        "fish" => "ssoenv hook fish | source in config.fish",
        "nu" => "the lines of `ssoenv hook --help` in config.nu",
        "pwsh" => "Invoke-Expression (& ssoenv hook pwsh | Out-String) in $PROFILE",
        _ => "eval \"$(ssoenv hook bash)\" in ~/.bashrc",
    };
    match std::env::var("SSOENV_PLUGIN").ok().filter(|v| !v.is_empty()) {
        None => found.push(Finding::Note(format!(
            "the shell plugin is not loaded in this shell (it renews credentials before they expire); to load it, add {line}"
        ))),
        Some(sh) => match std::env::var("SSOENV_HOOK").as_deref() {
            Ok("1") => found.push(ok(format!(
                "the {} plugin is loaded and its prompt hook is in place",
                visible(&sh)
            ))),
            Ok("0") => found.push(problem(
                format!(
                    "the {} plugin is loaded but its prompt hook is gone (something replaced it)",
                    visible(&sh)
                ),
                format!("load the plugin after the tool that sets the prompt: {line}"),
            )),
            _ => found.push(Finding::Note(format!(
                "the {} plugin is loaded; run `ssoenv doctor` from it to check its prompt hook",
                visible(&sh)
            ))),
        },
    }
}
