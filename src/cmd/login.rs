//! `ssoenv login [PROFILE] | --sso-session NAME`: sign in like `aws sso login` (see
//! [`crate::signin`]), then fetch the profile's credentials so the next export is instant (or
//! take those another `login` just fetched with the same sign-in).

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
        browser_flow: args.no_device_code,
        port: args.port,
        force: args.force,
        timeout: Duration::from_secs(args.timeout.clamp(1, 3600)),
    }
}

pub fn run(args: &LoginArgs) -> Result<String> {
    let file = config::read()?;
    let cfg = file.config()?;
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
    // The login's locks stay held until the profile's credentials are in the cache: anyone who
    // waited for this sign-in finds them there.
    let held = signin::token_held(&client, &login, &options(args))?;
    if let Some(p) = &profile {
        let cached = if held.new {
            None
        } else {
            credentials::cached_credentials(p, clock::now())
        };
        let creds = match (cached, &p.chain) {
            (Some(c), _) => c,
            (None, None) => credentials::fetch_credentials(p, &client, &held.token)?,
            (None, Some(chain)) => {
                // The SSO role's cached credentials serve unless this was a new sign-in.
                let sso = match credentials::fresh_sso(p).filter(|_| !held.new) {
                    Some(c) => c,
                    None => credentials::fetch_credentials(p, &client, &held.token)?,
                };
                credentials::assume_chain(chain, &client, sso)?
            }
        };
        eprintln!(
            "ssoenv: credentials for profile '{}' are ready until {}",
            crate::messages::visible(&p.name),
            clock::format_time(creds.expiration)
        );
    }
    drop(held);
    Ok(String::new())
}
