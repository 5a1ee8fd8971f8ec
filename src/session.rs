//! From a resolved profile to credentials: the role-credential cache first (the warm path: no
//! network, one file read), then, under an exclusive per-login lock, a valid SSO token (refreshed
//! when under 15 minutes remain and it can be) and GetRoleCredentials. The lock makes N shells
//! renewing at once cost one refresh and one GetRoleCredentials; each re-reads the caches after
//! taking it.

use time::{Duration, OffsetDateTime};

use crate::cache::{self, RoleCreds, Token};
use crate::config::SsoProfile;
use crate::error::{Error, Result};
use crate::http::{self, Client, Service};
use crate::portal;

/// The CLI's window: a token or cached credentials with less than this left are renewed.
pub const WINDOW: Duration = Duration::minutes(15);

/// How long cached role credentials must still be valid to be reused: the CLI's 15 minutes,
/// or the shell hooks' margin (`SSOENV_REFRESH_MARGIN` seconds) when larger, so a renewal the
/// hooks ask for really renews.
pub fn reuse_window() -> Duration {
    Duration::seconds(crate::stamp::margin()).max(WINDOW)
}

/// What to run to sign in again for this profile.
pub fn login_hint(p: &SsoProfile) -> String {
    if p.account_id.is_empty()
        && let Some(s) = &p.session
    {
        // A session on its own (accounts, roles, configure).
        format!("ssoenv login --sso-session {s}")
    } else if p.name == "default" {
        "ssoenv login".to_string()
    } else {
        format!("ssoenv login {}", p.name)
    }
}

fn login_required(p: &SsoProfile, reason: String) -> Error {
    Error::LoginRequired {
        what: p.login_name(),
        reason,
        hint: login_hint(p),
    }
}

pub fn role_cache_path(p: &SsoProfile) -> std::path::PathBuf {
    cache::role_path(&cache::role_cache_key(
        &p.account_id,
        &p.role_name,
        p.session.as_deref(),
        &p.start_url,
    ))
}

/// Cached role credentials still good for at least the reuse window.
pub fn cached_credentials(p: &SsoProfile, now: OffsetDateTime) -> Option<RoleCreds> {
    let path = role_cache_path(p);
    let c = cache::read_role(&path)?;
    if c.expiration - now > reuse_window() {
        crate::debug!("role credentials: cache hit {}", path.display());
        Some(c)
    } else {
        crate::debug!("role credentials: cache miss {}", path.display());
        None
    }
}

/// Role credentials for a profile, from the cache or the portal.
pub fn credentials(p: &SsoProfile) -> Result<RoleCreds> {
    if let Some(c) = cached_credentials(p, cache::now()) {
        return Ok(c);
    }
    let _lock = take_lock(p.token_key());
    // Another process may have done the work while we waited.
    if let Some(c) = cached_credentials(p, cache::now()) {
        return Ok(c);
    }
    let client = Client::new(p.ca_bundle.as_deref())?;
    let token = valid_token(p, &client)?;
    fetch_credentials(p, &client, &token)
}

/// GetRoleCredentials, then the cache write (a failed write is a warning: the user still gets
/// the credentials).
pub fn fetch_credentials(p: &SsoProfile, client: &Client, token: &Token) -> Result<RoleCreds> {
    let endpoint = http::endpoint(Service::Portal, &p.sso_region, p.portal_endpoint.as_deref());
    let caller = portal::Caller {
        profile: &p.name,
        login: p.login_name(),
        login_hint: login_hint(p),
    };
    let creds = portal::get_role_credentials(
        client,
        &endpoint,
        &token.access_token,
        &p.account_id,
        &p.role_name,
        &caller,
    )?;
    if let Err(e) = cache::write_role(&role_cache_path(p), &creds) {
        eprintln!("ssoenv: warning: {e}");
    }
    Ok(creds)
}

/// The per-login lock; without a writable state directory ssoenv still works, unlocked.
pub fn take_lock(key: &str) -> Option<cache::Lock> {
    match cache::lock(key) {
        Ok(l) => Some(l),
        Err(e) => {
            crate::debug!("running without a lock: {e}");
            None
        }
    }
}

/// Reads the cached token for a profile's login, refreshing it when under the window.
/// Call with the login's lock held.
pub fn valid_token(p: &SsoProfile, client: &Client) -> Result<Token> {
    let path = cache::token_path(p.token_key());
    let token = match cache::read_token(p.token_key()) {
        Ok(Some(t)) => t,
        Ok(None) => {
            return Err(login_required(
                p,
                format!("no cached SSO token ({})", path.display()),
            ));
        }
        Err(Error::BadCache { path, message }) => {
            return Err(login_required(
                p,
                format!("the token cache {} is unusable: {message}", path.display()),
            ));
        }
        Err(e) => return Err(e),
    };
    let now = cache::now();
    if token.expires_at - now > WINDOW {
        return Ok(token);
    }
    if p.session.is_some() && token.can_refresh(now) {
        crate::debug!(
            "SSO token: refreshing ({} s left)",
            (token.expires_at - now).whole_seconds()
        );
        let oidc = http::endpoint(Service::Oidc, &p.sso_region, p.oidc_endpoint.as_deref());
        match crate::oidc::refresh(client, &oidc, &token) {
            Ok(t) => return Ok(t),
            Err(crate::oidc::RefreshError::Rejected(why)) => {
                if token.expires_at > now {
                    // Still valid for a while: use it, sign-in will be needed later.
                    eprintln!("ssoenv: warning: could not refresh the SSO token ({why})");
                    return Ok(token);
                }
                return Err(login_required(
                    p,
                    format!("the SSO token expired and {why}"),
                ));
            }
            Err(crate::oidc::RefreshError::Other(e)) => {
                if token.expires_at > now {
                    eprintln!("ssoenv: warning: could not refresh the SSO token: {e}");
                    return Ok(token);
                }
                return Err(e);
            }
        }
    }
    if token.expires_at > now {
        return Ok(token);
    }
    Err(login_required(
        p,
        format!(
            "the SSO token expired at {}",
            cache::format_time(token.expires_at)
        ),
    ))
}
