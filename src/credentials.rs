//! From a profile to credentials: the role-credential cache first (the warm path: no
//! network, one file read), then, under an exclusive per-login lock, a valid SSO token (refreshed
//! when under 15 minutes remain and it can be) and GetRoleCredentials. The lock makes N shells
//! renewing at once cost one refresh and one GetRoleCredentials; each re-reads the caches after
//! taking it. A profile with a role chain goes on from the SSO role's credentials with
//! AssumeRole, one role after another, each cached where the AWS CLI caches it. [`Portal`] is
//! the same signed-in view for listing accounts and roles.

use time::{Duration, OffsetDateTime};

use crate::cache::{self, RoleCreds, Token, WINDOW};
use crate::clock;
use crate::config::{Chain, Login, Profile, RoleHop};
use crate::error::{Error, Result};
use crate::files;
use crate::http::{Client, Service};
use crate::portal::{self, Account, Role};
use crate::sts;

/// How long cached role credentials must still be valid to be reused: the CLI's 15 minutes,
/// or the shell hooks' margin (`SSOENV_REFRESH_MARGIN` seconds) when larger, so a renewal the
/// hooks ask for really renews.
pub fn reuse_window() -> Duration {
    Duration::seconds(crate::stamp::margin()).max(WINDOW)
}

/// A portal error as it concerns a login: a 401 means the sign-in is gone.
fn signed_out(e: Error, login: &Login) -> Error {
    match e {
        Error::Aws { code, .. } if code == "UnauthorizedException" => {
            login.required("the SSO session has expired or was signed out")
        }
        other => other,
    }
}

/// Where the credentials a profile exports are cached: its SSO role's, or the last role of
/// its chain's.
pub fn role_cache_path(p: &Profile) -> Result<std::path::PathBuf> {
    cache::role_path(&role_cache_key(p))
}

/// The name (without `.json`) of the file in [`cache::role_dir`] that [`role_cache_path`]
/// names.
pub fn role_cache_key(p: &Profile) -> String {
    match p.chain.as_ref().and_then(|c| c.hops.last()) {
        Some(hop) => hop_cache_key(hop),
        None => sso_cache_key(p),
    }
}

fn sso_cache_key(p: &Profile) -> String {
    cache::role_cache_key(
        &p.account_id,
        &p.role_name,
        p.login.session.as_deref(),
        &p.login.start_url,
    )
}

fn hop_cache_key(hop: &RoleHop) -> String {
    cache::assumed_role_key(
        &hop.role_arn,
        hop.session_name.as_deref(),
        hop.external_id.as_deref(),
        hop.mfa_serial.as_deref(),
        hop.duration_seconds,
    )
}

/// Where the SSO role's credentials are cached.
pub fn sso_cache_path(p: &Profile) -> Result<std::path::PathBuf> {
    cache::role_path(&sso_cache_key(p))
}

/// Where an assumed role's credentials are cached (the AWS CLI's key).
pub fn hop_cache_path(hop: &RoleHop) -> Result<std::path::PathBuf> {
    cache::role_path(&hop_cache_key(hop))
}

/// The MFA code given on the command line (`--mfa-code`), used once.
static MFA_CODE: std::sync::Mutex<Option<String>> = std::sync::Mutex::new(None);

pub fn set_mfa_code(code: String) {
    *MFA_CODE.lock().unwrap_or_else(|e| e.into_inner()) = Some(code);
}

/// The code for a role's MFA device: `--mfa-code` (once), else asked on the terminal.
fn mfa_code(profile: &str, serial: &str) -> Result<String> {
    let given = MFA_CODE.lock().unwrap_or_else(|e| e.into_inner()).take();
    let code = match given {
        Some(c) => c,
        None => crate::ask::terminal_secret(&format!(
            "MFA code for {} (profile '{}'): ",
            crate::messages::visible(serial),
            crate::messages::visible(profile)
        ))
        .ok_or_else(|| Error::MfaRequired {
            profile: profile.to_string(),
            serial: serial.to_string(),
        })?,
    };
    if code.len() == 6 && code.bytes().all(|b| b.is_ascii_digit()) {
        Ok(code)
    } else {
        Err(Error::Usage(format!(
            "the MFA code for profile '{}' must be 6 digits",
            crate::messages::visible(profile)
        )))
    }
}

/// Whatever role credentials the cache holds for a profile, valid or not.
pub fn cached(p: &Profile) -> Option<RoleCreds> {
    cache::read_role(&role_cache_path(p).ok()?)
}

/// Cached role credentials still good for at least the reuse window.
pub fn cached_credentials(p: &Profile, now: OffsetDateTime) -> Option<RoleCreds> {
    let last = p.chain.as_ref().and_then(|c| c.hops.last());
    fresh(role_cache_path(p).ok()?, last, now)
}

/// Role credentials for a profile, from the cache or the portal.
pub fn credentials(p: &Profile) -> Result<RoleCreds> {
    if let Some(c) = cached_credentials(p, clock::now()) {
        return Ok(c);
    }
    let _lock = take_lock(p.login.token_key());
    // Another process may have done the work while we waited.
    if let Some(c) = cached_credentials(p, clock::now()) {
        return Ok(c);
    }
    let client = Client::new(p.login.ca_bundle.as_deref())?;
    let Some(chain) = &p.chain else {
        let token = valid_token(&p.login, &client)?;
        return fetch_credentials(p, &client, &token);
    };
    let sso = match fresh_sso(p) {
        Some(c) => c,
        None => {
            let token = valid_token(&p.login, &client)?;
            fetch_credentials(p, &client, &token)?
        }
    };
    assume_chain(chain, &client, sso)
}

/// How long cached credentials must still be valid to be reused: [`reuse_window`], or half
/// the life of a role that asks for a short session (`duration_seconds` of 900 would otherwise
/// never be reused: every export would assume it again, and ask for its MFA code again). The
/// shell hooks' stamp renews short credentials half way too, so the two agree.
fn window(hop: Option<&RoleHop>) -> Duration {
    match hop.and_then(|h| h.duration_seconds).filter(|d| *d > 0) {
        Some(d) => reuse_window().min(Duration::seconds(d / 2)),
        None => reuse_window(),
    }
}

/// Cached credentials at `path` still good for the window of `hop` (none: the SSO role).
fn fresh(
    path: std::path::PathBuf,
    hop: Option<&RoleHop>,
    now: OffsetDateTime,
) -> Option<RoleCreds> {
    let c = cache::read_role(&path).filter(|c| c.expiration - now > window(hop));
    let verdict = if c.is_some() { "hit" } else { "miss" };
    crate::debug!("role credentials: cache {verdict} {}", path.display());
    c
}

/// The SSO role's cached credentials (a chain's start), still good for the reuse window.
pub fn fresh_sso(p: &Profile) -> Option<RoleCreds> {
    fresh(sso_cache_path(p).ok()?, None, clock::now())
}

/// The roles of a chain assumed one after another from the SSO role's credentials (those
/// before the last taken from the cache while they last). Call with the login's lock held.
pub fn assume_chain(chain: &Chain, client: &Client, sso: RoleCreds) -> Result<RoleCreds> {
    let mut creds = sso;
    let last = chain.hops.len().saturating_sub(1);
    for (i, hop) in chain.hops.iter().enumerate() {
        // The roles before the last may still be cached (the last one is not: it was just
        // looked up).
        let cached = if i < last {
            hop_cache_path(hop)
                .ok()
                .and_then(|path| fresh(path, Some(hop), clock::now()))
        } else {
            None
        };
        creds = match cached {
            Some(c) => c,
            None => assume(chain, hop, client, &creds)?,
        };
    }
    Ok(creds)
}

/// One AssumeRole of a chain with the credentials before it, then the cache write.
fn assume(chain: &Chain, hop: &RoleHop, client: &Client, source: &RoleCreds) -> Result<RoleCreds> {
    let code = match &hop.mfa_serial {
        Some(serial) => Some(mfa_code(&hop.profile, serial)?),
        None => None,
    };
    let default_name = format!("ssoenv-{}", clock::now().unix_timestamp());
    let (endpoint, region) = chain.sts();
    let Some(region) = region else {
        return Err(Error::Other(format!(
            "profile '{}' has no region, which STS at {endpoint} needs to sign for: set region in the profile",
            crate::messages::visible(chain.hops.last().map_or("", |h| h.profile.as_str()))
        )));
    };
    let assumed = sts::assume_role(
        client,
        &endpoint,
        &region,
        source,
        &sts::AssumeRole {
            role_arn: &hop.role_arn,
            session_name: hop.session_name.as_deref().unwrap_or(&default_name),
            external_id: hop.external_id.as_deref(),
            mfa: hop.mfa_serial.as_deref().zip(code.as_deref()),
            duration_seconds: hop.duration_seconds,
        },
    )
    .map_err(|mut e| {
        if let Error::Aws { message, .. } = &mut e {
            message.push_str(&format!(
                " (role {} of profile '{}')",
                crate::messages::visible(&hop.role_arn),
                crate::messages::visible(&hop.profile)
            ));
        }
        e
    })?;
    if let Err(e) = hop_cache_path(hop).and_then(|path| {
        cache::write_assumed_role(&path, &assumed.creds, &assumed.user_arn, &assumed.user_id)
    }) {
        crate::warn!("{e}");
    }
    Ok(assumed.creds)
}

/// GetRoleCredentials, then the cache write (a failed write is a warning: the user still gets
/// the credentials).
pub fn fetch_credentials(p: &Profile, client: &Client, token: &Token) -> Result<RoleCreds> {
    let creds = portal::get_role_credentials(
        client,
        &p.login.endpoint(Service::Portal),
        &token.access_token,
        &p.account_id,
        &p.role_name,
    )
    .map_err(|e| match e {
        Error::Aws { code, .. } if code == "ForbiddenException" => Error::NoAccess {
            role: p.role_name.clone(),
            account: p.account_id.clone(),
            profile: p.name.clone(),
        },
        e => signed_out(e, &p.login),
    })?;
    if creds.expiration <= clock::now() {
        // Expired on arrival: nothing to export, and nothing to cache.
        return Err(Error::BadResponse {
            endpoint: p.login.endpoint(Service::Portal),
            operation: "GetRoleCredentials",
            message: format!(
                "the credentials for profile '{}' expired already at {}",
                crate::messages::visible(&p.name),
                clock::format_time(creds.expiration)
            ),
        });
    }
    if let Err(e) = sso_cache_path(p).and_then(|path| cache::write_role(&path, &creds)) {
        crate::warn!("{e}");
    }
    Ok(creds)
}

/// The per-login lock; without a writable state directory ssoenv still works, unlocked.
/// A sign-in (`signin`) holds its own lock first and may then take this one; a holder of this
/// lock never waits for a sign-in, so the two cannot deadlock.
pub fn take_lock(key: &str) -> Option<files::Lock> {
    match files::lock(key) {
        Ok(l) => Some(l),
        Err(e) => {
            crate::debug!("running without a lock: {e}");
            None
        }
    }
}

/// Reads the cached token for a login, refreshing it when under the window.
/// Call with the login's lock held.
pub fn valid_token(login: &Login, client: &Client) -> Result<Token> {
    let path = cache::token_path(login.token_key())?;
    let token = match cache::read_token(login.token_key()) {
        Ok(Some(t)) => t,
        Ok(None) => {
            return Err(login.required(format!("no cached SSO token ({})", path.display())));
        }
        Err(Error::BadFile { path, message }) => {
            return Err(login.required(format!(
                "the token cache {} is unusable: {message}",
                path.display()
            )));
        }
        Err(e) => return Err(e),
    };
    let now = clock::now();
    if token.expires_at - now > WINDOW {
        return Ok(token);
    }
    if login.session.is_some() && token.can_refresh(now) {
        crate::debug!(
            "SSO token: refreshing ({} s left)",
            (token.expires_at - now).whole_seconds()
        );
        let oidc = login.endpoint(Service::Oidc);
        match crate::oidc::refresh(client, &oidc, &token) {
            Ok(t) => return Ok(t),
            Err(crate::oidc::RefreshError::Rejected(why)) => {
                if token.expires_at > now {
                    // Still valid for a while: use it, sign-in will be needed later.
                    crate::warn!("could not refresh the SSO token ({why})");
                    return Ok(token);
                }
                return Err(login.required(format!("the SSO token expired and {why}")));
            }
            Err(crate::oidc::RefreshError::Other(e)) => {
                if token.expires_at > now {
                    crate::warn!("could not refresh the SSO token: {e}");
                    return Ok(token);
                }
                return Err(e);
            }
        }
    }
    if token.expires_at > now {
        return Ok(token);
    }
    Err(login.required(format!(
        "the SSO token expired at {}",
        clock::format_time(token.expires_at)
    )))
}

/// How many role listings run at once: well under the portal's throttle, and enough to hide
/// the latency of 1,000 accounts.
pub const PARALLEL: usize = 8;

/// A signed-in view of the portal for one login: the accounts and roles it reaches.
pub struct Portal {
    client: Client,
    login: Login,
    token: String,
}

impl Portal {
    /// With the login's cached token, refreshed when due.
    pub fn open(login: &Login) -> Result<Portal> {
        let client = Client::new(login.ca_bundle.as_deref())?;
        let token = {
            let _lock = take_lock(login.token_key());
            valid_token(login, &client)?
        };
        Ok(Portal::with_token(client, login, token.access_token))
    }

    pub fn with_token(client: Client, login: &Login, token: String) -> Portal {
        Portal {
            client,
            login: login.clone(),
            token,
        }
    }

    /// Every account, by name then id.
    pub fn accounts(&self) -> Result<Vec<Account>> {
        let endpoint = self.login.endpoint(Service::Portal);
        let mut a = portal::list_accounts(&self.client, &endpoint, &self.token)
            .map_err(|e| signed_out(e, &self.login))?;
        a.sort_by(|x, y| {
            (x.account_name.to_lowercase(), &x.account_id)
                .cmp(&(y.account_name.to_lowercase(), &y.account_id))
        });
        Ok(a)
    }

    /// The roles of many accounts, in the accounts' order, fetched a few at a time: at most
    /// [`PARALLEL`] at once, fewer for the rest of the run each time the API still throttles
    /// after the HTTP layer's own retries (and that account is asked again after a pause).
    pub fn roles_of(&self, accounts: &[Account]) -> Result<Vec<Vec<Role>>> {
        use std::sync::Mutex;
        use std::sync::atomic::{AtomicUsize, Ordering};
        let n = accounts.len();
        let next = AtomicUsize::new(0);
        let allowed = AtomicUsize::new(PARALLEL);
        let results: Mutex<Vec<Option<Result<Vec<Role>>>>> =
            Mutex::new((0..n).map(|_| None).collect());
        std::thread::scope(|scope| {
            for worker in 0..PARALLEL.min(n) {
                let (next, allowed, results) = (&next, &allowed, &results);
                scope.spawn(move || {
                    // Worker 0 always stays, so every account is asked.
                    while worker < allowed.load(Ordering::SeqCst) {
                        let i = next.fetch_add(1, Ordering::SeqCst);
                        if i >= n {
                            return;
                        }
                        let mut r = self.roles(&accounts[i].account_id);
                        for pause in [1, 2, 4, 8] {
                            if !matches!(&r, Err(e) if e.is_throttling()) {
                                break;
                            }
                            let fewer = (allowed.load(Ordering::SeqCst) / 2).max(1);
                            allowed.store(fewer, Ordering::SeqCst);
                            crate::debug!("ListAccountRoles throttled: {fewer} at once now");
                            std::thread::sleep(std::time::Duration::from_secs(pause));
                            r = self.roles(&accounts[i].account_id);
                        }
                        if let Ok(mut all) = results.lock() {
                            all[i] = Some(r);
                        }
                    }
                });
            }
        });
        let all = results.into_inner().unwrap_or_default();
        all.into_iter()
            .map(|r| r.unwrap_or_else(|| Err(Error::Other("a role listing did not run".into()))))
            .collect()
    }

    /// Every role of an account, by name.
    pub fn roles(&self, account: &str) -> Result<Vec<Role>> {
        let endpoint = self.login.endpoint(Service::Portal);
        let mut r = portal::list_roles(&self.client, &endpoint, &self.token, account)
            .map_err(|e| signed_out(e, &self.login))?;
        r.sort_by(|x, y| x.role_name.cmp(&y.role_name));
        Ok(r)
    }
}
