//! `ssoenv login [PROFILE] | --sso-session NAME`: sign in like `aws sso login` (see
//! [`crate::signin`]), then fetch the profile's credentials so the next export is instant.

use std::time::Duration;

use crate::cli::LoginArgs;
use crate::clock;
use crate::config;
use crate::credentials;
use crate::error::{Error, Result};
use crate::http::Client;
use crate::signin::{self, Options};

/// The sign-in options the flags ask for.
pub fn options(args: &LoginArgs) -> Options {
    Options {
        device: args.use_device_code,
        no_browser: args.no_browser,
        force: args.force,
        timeout: Duration::from_secs(args.timeout.clamp(1, 3600)),
    }
}

pub fn run(args: &LoginArgs) -> Result<String> {
    let cfg = config::load()?;
    let (login, profile) = match &args.sso_session {
        Some(name) => (cfg.session_login(name)?, None),
        None => {
            let p = cfg.resolve(&config::choose_profile(args.profile.as_deref()))?;
            (p.login.clone(), Some(p))
        }
    };
    config::check_start_url(&login.start_url).map_err(|why| Error::BadValue {
        section: login.name(),
        key: "sso_start_url",
        value: login.start_url.clone(),
        why,
    })?;
    let client = Client::new(login.ca_bundle.as_deref())?;
    let token = signin::token_for(&client, &login, &options(args))?;
    if let Some(p) = &profile {
        let _lock = credentials::take_lock(login.token_key());
        let creds = credentials::fetch_credentials(p, &client, &token)?;
        eprintln!(
            "ssoenv: credentials for profile '{}' are ready until {}",
            crate::messages::visible(&p.name),
            clock::format_time(creds.expiration)
        );
    }
    Ok(String::new())
}
