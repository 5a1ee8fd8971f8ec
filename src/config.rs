//! Resolves profiles and sso-sessions from the AWS CLI's config file, as botocore does.
//!
//! The file is read by [`crate::ini`] (configparser's and botocore's rules); this module
//! builds botocore's maps on top: profiles (`[default]`, `[profile NAME]`), sso-sessions and
//! services sections, each with `[DEFAULT]`'s keys inherited, the last section of a name
//! counting whole. Resolution follows botocore's SSO credential provider: a profile is an
//! SSO profile when it has `sso_account_id` or `sso_role_name`; a profile naming an
//! `sso_session` (even an empty one) must find it, and every key the session sets must equal
//! the profile's own if it has one; the session must carry `sso_start_url` and `sso_region`.
//! Beyond botocore, ssoenv refuses empty required values and region names that are not host
//! labels (botocore's own region check when it creates a client) before anything goes over
//! the network.

use std::borrow::Cow;
use std::collections::hash_map::Entry;
use std::path::{Path, PathBuf};

use crate::error::{Error, Result};
use crate::files;
use crate::index;
use crate::ini::{self, Ini, SectionKind, Value};

/// The keys that make a profile one ssoenv gives credentials for ([`Config::is_sso`]): SSO
/// settings, or a role to assume.
const SSO_KEYS: [&str; 5] = [
    "sso_account_id",
    "sso_role_name",
    "sso_session",
    "sso_start_url",
    "role_arn",
];

/// The scope an sso-session registers for when it names none.
pub const DEFAULT_SCOPE: &str = "sso:account:access";

/// A profile, sso-session or services section as botocore sees it.
/// It borrows from the text read, as [`ini`] does.
#[derive(Debug, Clone)]
pub struct Section<'a> {
    pub name: Cow<'a, str>,
    /// The header as written (`profile 'my dev'`), for messages.
    pub header: Cow<'a, str>,
    /// Its keys, with the `[DEFAULT]` keys it does not set itself.
    pub keys: Vec<(ini::Key<'a>, Value<'a>)>,
}

impl Section<'_> {
    /// A key's value as written (nested values are not text), empty or not.
    pub fn text(&self, key: &str) -> Option<&str> {
        self.value(key).and_then(Value::text)
    }

    /// A key's value when it is non-empty text.
    pub fn get(&self, key: &str) -> Option<&str> {
        self.text(key).filter(|v| !v.is_empty())
    }

    pub fn value(&self, key: &str) -> Option<&Value<'_>> {
        // The lengths first: most keys differ in length from the one sought, and the test
        // stays in line where a comparison of strings is a call.
        self.keys
            .iter()
            .find(|(k, _)| k.len() == key.len() && k.as_bytes() == key.as_bytes())
            .map(|(_, v)| v)
    }

    pub fn has(&self, key: &str) -> bool {
        self.value(key).is_some()
    }
}

/// Sections of one kind in botocore's order (first appearance), by name.
#[derive(Debug, Clone, Default)]
struct Named<'a> {
    list: Vec<Section<'a>>,
    /// On the lexer's hash: `status` builds ten thousand of these.
    at: ini::FastMap<Cow<'a, str>, usize>,
}

impl<'a> Named<'a> {
    /// A later section of the same name replaces the earlier one, keeping its place.
    fn put(&mut self, s: Section<'a>) {
        // One hash of the name, not one to look and one to insert.
        match self.at.entry(s.name.clone()) {
            Entry::Occupied(at) => self.list[*at.get()] = s,
            Entry::Vacant(at) => {
                at.insert(self.list.len());
                self.list.push(s);
            }
        }
    }

    fn get(&self, name: &str) -> Option<&Section<'a>> {
        self.at.get(name).map(|&i| &self.list[i])
    }
}

/// The profiles, sso-sessions and services sections of a config file, borrowing from its
/// text ([`ConfigFile`]) or owning it ([`load_for`]).
#[derive(Debug, Clone)]
pub struct Config<'a> {
    pub path: PathBuf,
    profiles: Named<'a>,
    sessions: Named<'a>,
    services: Named<'a>,
}

/// What you sign in to: an `[sso-session]`, or the start URL of a legacy profile; with the
/// settings the sign-in and the portal calls need.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Login {
    /// `Some` for an sso-session (its token refreshes); `None` for a legacy start URL.
    pub session: Option<String>,
    pub start_url: String,
    /// The SSO region.
    pub region: String,
    /// The configured `sso_registration_scopes` (empty: none configured).
    pub scopes: Vec<String>,
    /// Endpoint overrides from the config (`services` section, then `endpoint_url`).
    pub portal_endpoint: Option<String>,
    pub oidc_endpoint: Option<String>,
    pub ca_bundle: Option<String>,
    /// The FIPS and dual-stack endpoint variants (`use_fips_endpoint`,
    /// `use_dualstack_endpoint`, or their `AWS_USE_…` variables; dual-stack by itself for a
    /// start URL on the dual-stack portal domain, `….app.aws`).
    pub fips: bool,
    pub dual_stack: bool,
    /// What to run to sign in again: `ssoenv login dev`, `ssoenv login --sso-session corp`.
    pub hint: String,
}

/// A boolean setting as botocore reads it: the environment variable's value, else the
/// profile's key.
fn flag(env: Option<&str>, key: &str, profile: Option<&Section<'_>>) -> Option<bool> {
    let value = env.or_else(|| profile.and_then(|p| p.get(key)))?;
    Some(value.eq_ignore_ascii_case("true"))
}

/// `AWS_USE_FIPS_ENDPOINT` and `AWS_USE_DUALSTACK_ENDPOINT` when set and not empty, read once
/// per process (`status` resolves every profile of a big file).
fn endpoint_env() -> &'static [Option<String>; 2] {
    static ENV: std::sync::OnceLock<[Option<String>; 2]> = std::sync::OnceLock::new();
    ENV.get_or_init(|| {
        ["AWS_USE_FIPS_ENDPOINT", "AWS_USE_DUALSTACK_ENDPOINT"]
            .map(|var| std::env::var(var).ok().filter(|v| !v.is_empty()))
    })
}

/// The endpoint variants for a login reached through `profile` (or none).
fn variants(profile: Option<&Section<'_>>, start_url: &str) -> (bool, bool) {
    let [fips_env, dual_env] = endpoint_env();
    let fips = flag(fips_env.as_deref(), "use_fips_endpoint", profile).unwrap_or(false);
    let dual = flag(dual_env.as_deref(), "use_dualstack_endpoint", profile).unwrap_or_else(|| {
        // The host: between the first `://` and the next, up to `/`, `?` or `#`. (All
        // ASCII: the bytes decide, without a substring searcher built per profile.)
        let scheme_end = |s: &[u8]| s.windows(3).position(|w| w == b"://");
        let url = start_url.as_bytes();
        let Some(at) = scheme_end(url) else {
            return false;
        };
        let rest = &url[at + 3..];
        let rest = &rest[..scheme_end(rest).unwrap_or(rest.len())];
        let host = &rest[..rest
            .iter()
            .position(|b| matches!(b, b'/' | b'?' | b'#'))
            .unwrap_or(rest.len())];
        let domain = b".app.aws";
        host.len() >= domain.len() && host[host.len() - domain.len()..].eq_ignore_ascii_case(domain)
    });
    (fips, dual)
}

impl Login {
    /// A login to an sso-session, reached by its name (`login --sso-session`, `accounts`,
    /// `configure`).
    pub fn session(name: &str, start_url: &str, region: &str, scopes: Vec<String>) -> Login {
        let (fips, dual_stack) = variants(None, start_url);
        Login {
            fips,
            dual_stack,
            session: Some(name.to_string()),
            start_url: start_url.to_string(),
            region: region.to_string(),
            scopes,
            portal_endpoint: None,
            oidc_endpoint: None,
            ca_bundle: None,
            hint: format!("ssoenv login --sso-session {}", ini::shell_quote(name)),
        }
    }

    /// A legacy login to a start URL (`configure` with an empty session name).
    pub fn legacy(start_url: &str, region: &str) -> Login {
        let (fips, dual_stack) = variants(None, start_url);
        Login {
            fips,
            dual_stack,
            session: None,
            start_url: start_url.to_string(),
            region: region.to_string(),
            scopes: Vec::new(),
            portal_endpoint: None,
            oidc_endpoint: None,
            ca_bundle: None,
            hint: "ssoenv login".to_string(),
        }
    }

    /// What names the token cache file: the session name, or the legacy start URL.
    pub fn token_key(&self) -> &str {
        self.session.as_deref().unwrap_or(&self.start_url)
    }

    /// How a user names this login in messages: `sso-session 'NAME'` or the start URL.
    pub fn name(&self) -> String {
        match &self.session {
            Some(s) => format!("sso-session '{}'", crate::messages::visible(s)),
            None => crate::messages::visible(&self.start_url),
        }
    }

    /// Scopes to register with: the configured ones, else the AWS CLI's default for sessions.
    pub fn effective_scopes(&self) -> Vec<String> {
        if !self.scopes.is_empty() {
            self.scopes.clone()
        } else if self.session.is_some() {
            vec![DEFAULT_SCOPE.to_string()]
        } else {
            Vec::new()
        }
    }

    /// The error that says a new sign-in is needed, and how.
    pub fn required(&self, reason: impl Into<String>) -> Error {
        Error::LoginRequired {
            what: self.name(),
            reason: reason.into(),
            hint: self.hint.clone(),
        }
    }
}

/// A profile whose credentials come from IAM Identity Center: a role in an account reached
/// through a login (an SSO profile), and, for a profile with `role_arn` and `source_profile`,
/// the roles assumed from there (`chain`). `account_id` and `role_name` are the SSO role's,
/// the chain's start.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Profile {
    pub name: String,
    pub login: Login,
    pub account_id: String,
    pub role_name: String,
    /// The default region for the exported credentials (the named profile's own `region`).
    pub region: Option<String>,
    /// The roles assumed from the SSO role, in order; `None` for an SSO profile.
    pub chain: Option<Chain>,
}

/// A profile resolved by [`Config::resolved`]: an SSO profile as it stands in the config, or
/// a role chain, built (boxed: chains are few).
pub enum Resolved<'c> {
    Sso(SsoRole<'c>),
    Chain(Box<Profile>),
}

impl Resolved<'_> {
    /// What tells its login from another: the sso-session's name, if any, and the token key.
    pub fn login_id(&self) -> (Option<&str>, &str) {
        match self {
            Resolved::Sso(r) => (r.session(), r.token_key()),
            Resolved::Chain(p) => (p.login.session.as_deref(), p.login.token_key()),
        }
    }

    /// Its login, built.
    pub fn login(&self) -> Login {
        match self {
            Resolved::Sso(r) => r.to_profile().login,
            Resolved::Chain(p) => p.login.clone(),
        }
    }
}

/// An SSO profile whose settings [`Config::resolve`] found sound, borrowed from the config:
/// the [`Profile`] it makes ([`SsoRole::to_profile`]) adds what needs no further check
/// (endpoints, variants, scopes, the hint).
#[derive(Clone, Copy)]
pub struct SsoRole<'c> {
    config: &'c Config<'c>,
    section: &'c Section<'c>,
    session: Option<&'c Section<'c>>,
    pub name: &'c str,
    pub start_url: &'c str,
    pub sso_region: &'c str,
    pub account_id: &'c str,
    pub role_name: &'c str,
    /// The profile's own `region`.
    pub region: Option<&'c str>,
}

impl<'c> SsoRole<'c> {
    /// The sso-session's name, for a profile that names one.
    pub fn session(&self) -> Option<&'c str> {
        self.session.map(|s| &*s.name)
    }

    /// What names the token cache file, as [`Login::token_key`].
    pub fn token_key(&self) -> &'c str {
        self.session().unwrap_or(self.start_url)
    }

    pub fn to_profile(self) -> Profile {
        let (cfg, p, name) = (self.config, self.section, self.name);
        let hint = if name == "default" {
            "ssoenv login".to_string()
        } else {
            format!("ssoenv login {}", ini::shell_quote(name))
        };
        let (fips, dual_stack) = variants(Some(p), self.start_url);
        Profile {
            name: name.to_string(),
            login: Login {
                fips,
                dual_stack,
                session: self.session().map(str::to_string),
                start_url: self.start_url.to_string(),
                region: self.sso_region.to_string(),
                scopes: self
                    .session
                    .and_then(|s| s.get("sso_registration_scopes"))
                    .map(parse_scopes)
                    .unwrap_or_default(),
                portal_endpoint: cfg.configured_endpoint(p, "sso"),
                oidc_endpoint: cfg.configured_endpoint(p, "sso_oidc"),
                ca_bundle: p.get("ca_bundle").map(str::to_string),
                hint,
            },
            account_id: self.account_id.to_string(),
            role_name: self.role_name.to_string(),
            region: self.region.map(str::to_string),
            chain: None,
        }
    }
}

/// Roles assumed one from another, starting from an SSO role's credentials, and the STS
/// that is asked: as botocore, every step goes to STS as the named profile's settings
/// resolve it (its region, `sts_regional_endpoints`, endpoint overrides, FIPS, dual-stack).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Chain {
    pub hops: Vec<RoleHop>,
    /// The named profile's `region`; STS's global endpoint without one.
    pub region: Option<String>,
    /// Its endpoint override for STS (`[services]` `sts`, else `endpoint_url`).
    pub sts_endpoint: Option<String>,
    /// `sts_regional_endpoints = legacy` (or `AWS_STS_REGIONAL_ENDPOINTS`).
    pub legacy_sts: bool,
    pub fips: bool,
    pub dual_stack: bool,
}

/// One AssumeRole: the settings of the profile that names the role, as botocore reads them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RoleHop {
    /// The profile with the `role_arn`.
    pub profile: String,
    pub role_arn: String,
    /// `role_session_name` when set and not empty (else ssoenv names the session).
    pub session_name: Option<String>,
    pub external_id: Option<String>,
    pub mfa_serial: Option<String>,
    /// `duration_seconds` when it is an integer (botocore ignores anything else).
    pub duration_seconds: Option<i64>,
}

/// Python's `int()` of a string, as botocore reads `duration_seconds`: blanks around, an
/// optional sign, digits with single underscores between them.
fn python_int(text: &str) -> Option<i64> {
    let t = text.trim();
    let (neg, digits) = match t.as_bytes().first() {
        Some(b'-') => (true, &t[1..]),
        Some(b'+') => (false, &t[1..]),
        _ => (false, t),
    };
    let ok = !digits.is_empty()
        && !digits.starts_with('_')
        && !digits.ends_with('_')
        && !digits.contains("__")
        && digits.bytes().all(|b| b.is_ascii_digit() || b == b'_');
    if !ok {
        return None;
    }
    let n: i64 = digits.replace('_', "").parse().ok()?;
    Some(if neg { -n } else { n })
}

/// `AWS_CONFIG_FILE` (with `$VAR`s and `~` expanded, as botocore does), else `~/.aws/config`.
pub fn config_path() -> Result<PathBuf> {
    match std::env::var("AWS_CONFIG_FILE") {
        Ok(p) if !p.is_empty() => Ok(PathBuf::from(expand_user(&expand_vars(&p)))),
        _ => Ok(files::home()?.join(".aws").join("config")),
    }
}

/// Python's `os.path.expandvars`: `$NAME` and `${NAME}` with a variable that is set are
/// replaced; anything else stays as written.
fn expand_vars(path: &str) -> String {
    let word = |c: char| c.is_ascii_alphanumeric() || c == '_';
    let mut out = String::new();
    let mut rest = path;
    while let Some(at) = rest.find('$') {
        out.push_str(&rest[..at]);
        let after = &rest[at + 1..];
        let (name, len) = if let Some(inner) = after.strip_prefix('{') {
            match inner.find('}') {
                Some(end) => (&inner[..end], end + 2),
                None => ("", 0),
            }
        } else {
            let end = after.find(|c: char| !word(c)).unwrap_or(after.len());
            (&after[..end], end)
        };
        match std::env::var(name) {
            Ok(v) if len > 0 && !name.is_empty() => {
                out.push_str(&v);
                rest = &after[len..];
            }
            _ => {
                out.push('$');
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

/// Python's `os.path.expanduser`: `~` and `~/…` are the home directory, `~user/…` that
/// user's home; anything else stays as written.
fn expand_user(path: &str) -> String {
    let Some(rest) = path.strip_prefix('~') else {
        return path.to_string();
    };
    let (user, tail) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
    let home = if user.is_empty() {
        files::home().ok().map(Path::to_path_buf)
    } else {
        files::user_home(user)
    };
    match home {
        Some(h) => {
            let h = h.to_string_lossy();
            let joined = format!("{}{tail}", h.trim_end_matches('/'));
            if joined.is_empty() {
                "/".into()
            } else {
                joined
            }
        }
        None => path.to_string(),
    }
}

/// The config file read whole: its text, which the [`Config`] parsed from it borrows (ten
/// thousand profiles' names and values are not copied).
pub struct ConfigFile {
    pub path: PathBuf,
    meta: std::fs::Metadata,
    text: String,
}

/// Reads the whole config file (parsed by [`ConfigFile::config`]).
pub fn read() -> Result<ConfigFile> {
    let path = config_path()?;
    let (file, meta) = open(&path)?;
    let bytes = files::read_opened(&path, file, &meta, files::CONFIG_CAP)?;
    let text = String::from_utf8(bytes)
        .map_err(|e| not_utf8(e.as_bytes(), e.utf8_error().valid_up_to(), &path))?;
    Ok(ConfigFile { path, meta, text })
}

impl ConfigFile {
    /// Parses the file into botocore's profiles, sso-sessions and services, and records its
    /// [`index`] when due.
    pub fn config(&self) -> Result<Config<'_>> {
        let due = index::due(&self.path, &self.meta);
        let (ini, spans) = ini::parse_spans(&self.text, |_| true, due.then_some(&SSO_KEYS[..]))
            .map_err(|e| syntax(&self.path, e))?;
        let cfg = from_ini(Ok(ini), self.path.clone())?;
        if due {
            index::record(
                &self.path,
                &self.meta,
                &self.text,
                &spans,
                &role_lines(&cfg),
            );
        }
        Ok(cfg)
    }
}

/// The config file, opened, with its metadata.
fn open(path: &Path) -> Result<(std::fs::File, std::fs::Metadata)> {
    files::open_bounded(path, files::CONFIG_CAP)?.ok_or_else(|| Error::ConfigMissing {
        path: path.to_path_buf(),
    })
}

fn syntax(path: &Path, e: ini::SyntaxError) -> Error {
    Error::ConfigSyntax {
        path: path.to_path_buf(),
        line: e.line,
        message: e.message,
    }
}

/// Reads the config file for one profile: every line is checked as by a whole read
/// ([`ConfigFile::config`]), but only the profile's sections, the sso-sessions and the
/// services sections are built. A missing
/// profile is looked up in the whole file, for its "did you mean"; a role chain (`role_arn`)
/// is followed in the whole file. With a current [`index`] of a big file, only those
/// sections are read.
pub fn load_for(profile: &str) -> Result<Config<'static>> {
    let path = config_path()?;
    let (file, meta) = open(&path)?;
    if let Some(ix) = index::Index::read(&path, &meta) {
        // The profile's sections, and those of the profiles its role chain names, one more
        // each round; anything the index cannot answer (a missing profile, whose "did you
        // mean" needs every name) is read whole.
        let mut names = vec![profile.to_string()];
        while names.len() <= 16 {
            let wanted: Vec<&str> = names.iter().map(String::as_str).collect();
            let Some(ini) = ix.sections_for(&path, &file, &meta, &wanted) else {
                break;
            };
            let cfg = from_ini(Ok(ini), path.clone())?;
            let Some(last) = names.last().and_then(|n| cfg.profile(n)) else {
                break;
            };
            let source = last
                .text("source_profile")
                .filter(|_| last.has("role_arn") && !last.has("web_identity_token_file"))
                .filter(|s| !names.iter().any(|n| n == s));
            match source {
                Some(s) => names.push(s.to_string()),
                None => {
                    crate::debug!("config: read {profile}'s sections by the index");
                    return Ok(cfg);
                }
            }
        }
    }
    let bytes = files::read_opened(&path, file, &meta, files::CONFIG_CAP)?;
    let text = utf8(&bytes, &path)?;
    let due = index::due(&path, &meta);
    let (ini, spans) = ini::parse_spans(text, |h| keeps(h, profile), due.then_some(&SSO_KEYS[..]))
        .map_err(|e| syntax(&path, e))?;
    let cfg = from_ini(Ok(ini.into_owned()), path.clone())?;
    // A role chain needs its source profiles, and the index every profile's role: the whole
    // file, parsed once for both.
    let chain = cfg.profile(profile).is_none_or(|p| p.has("role_arn"));
    if !chain && !due {
        return Ok(cfg);
    }
    let whole = from_ini(ini::parse(text).map(Ini::into_owned), path)?;
    if due {
        index::record(&whole.path, &meta, text, &spans, &role_lines(&whole));
    }
    Ok(if chain { whole } else { cfg })
}

/// Every profile's name in botocore's order, each followed by a tab and `sso` or `-` (whether
/// it carries SSO settings, see [`Config::is_sso`]), one a line: what `list --long` prints.
/// From a current [`index`], read as it is stored, without reading the file; else from a
/// whole read.
pub fn profile_lines() -> Result<String> {
    let path = config_path()?;
    let (_file, meta) = open(&path)?;
    if let Some(lines) = index::Index::read(&path, &meta).and_then(|ix| ix.names()) {
        return Ok(lines);
    }
    let file = read()?;
    let cfg = file.config()?;
    let mut lines = String::new();
    for s in cfg.profiles() {
        lines.push_str(&s.name);
        lines.push_str(if Config::is_sso(s) {
            "\tsso\n"
        } else {
            "\t-\n"
        });
    }
    // The process ends soon: freeing ten thousand sections one by one costs as much as
    // building them.
    std::mem::forget(cfg);
    Ok(lines)
}

/// The sso-sessions (with `[DEFAULT]` and the services sections) and no profile, for TAB
/// completion, from a current [`index`]: only those sections are read. `None` without one:
/// the caller reads the file whole.
pub fn indexed_sessions() -> Result<Option<Config<'static>>> {
    let path = config_path()?;
    let (file, meta) = open(&path)?;
    let Some(ini) =
        index::Index::read(&path, &meta).and_then(|ix| ix.sections_for(&path, &file, &meta, &[]))
    else {
        return Ok(None);
    };
    crate::debug!("config: read the sso-sessions by the index");
    from_ini(Ok(ini), path).map(Some)
}

/// Every profile's SSO role and account, for TAB completion: `NAME<TAB>ROLE<TAB>ACCOUNT` a
/// line in botocore's order, ROLE and ACCOUNT empty where the profile has none (or a nested
/// one). A name or value holding a control character is no completion (it could not be
/// typed back, or shown as it is): such a profile is left out, such a value left empty.
pub fn role_lines(cfg: &Config<'_>) -> String {
    fn plain(v: Option<&str>) -> &str {
        v.filter(|v| !v.contains(char::is_control)).unwrap_or("")
    }
    let mut out = String::new();
    for p in cfg
        .profiles()
        .filter(|p| !p.name.contains(char::is_control))
    {
        for field in [
            &*p.name,
            "\t",
            plain(p.get("sso_role_name")),
            "\t",
            plain(p.get("sso_account_id")),
            "\n",
        ] {
            out.push_str(field);
        }
    }
    out
}

/// [`role_lines`] of the config file: from a current [`index`], read as it is stored (TAB
/// completion of a 10,000-profile file reads no config text); else from the whole file.
pub fn profile_roles() -> Result<String> {
    let path = config_path()?;
    let (_file, meta) = open(&path)?;
    if let Some(lines) = index::Index::read(&path, &meta).and_then(|ix| ix.roles()) {
        crate::debug!("config: read every profile's role and account by the index");
        return Ok(lines);
    }
    let file = read()?;
    let cfg = file.config()?;
    let lines = role_lines(&cfg);
    // As in `profile_lines`: the process ends soon.
    std::mem::forget(cfg);
    Ok(lines)
}

/// The profiles, roles and accounts in [`role_lines`]' text.
pub fn roles_of(lines: &str) -> impl Iterator<Item = (&str, &str, &str)> {
    lines.split_terminator('\n').filter_map(|line| {
        let (name, rest) = line.split_once('\t')?;
        let (role, account) = rest.split_once('\t')?;
        Some((name, role, account))
    })
}

/// The names and marks in [`profile_lines`]' text. (A name may hold a tab; the mark never.)
pub fn marked_names(lines: &str) -> impl Iterator<Item = (&str, bool)> {
    lines
        .split_terminator('\n')
        .map(|line| match line.rsplit_once('\t') {
            Some((name, mark)) => (name, mark == "sso"),
            None => (line, false),
        })
}

/// Whether a section belongs in a [`Config`] for one profile: its own sections, the
/// sso-sessions and the services sections (which it may name). Judged by the header as
/// written, without building the name of every other profile.
fn keeps(header: &str, profile: &str) -> bool {
    ini::names(header, SectionKind::Profile, profile)
        || ((header.starts_with("sso-session") || header.starts_with("services"))
            && ini::identify(header).is_some())
}

/// [`parse`] for one profile, as [`load_for`] reads a file without an index.
#[cfg(test)]
pub fn parse_for<'a>(text: &'a str, path: PathBuf, profile: &str) -> Result<Config<'a>> {
    let cfg = from_ini(ini::parse_only(text, |h| keeps(h, profile)), path.clone())?;
    if cfg.profile(profile).is_none_or(|p| p.has("role_arn")) {
        return parse(text, path);
    }
    Ok(cfg)
}

/// The file's text, or an error naming the line of the first byte that is not UTF-8
/// (botocore refuses such a file whole).
pub fn utf8<'a>(bytes: &'a [u8], path: &Path) -> Result<&'a str> {
    std::str::from_utf8(bytes).map_err(|e| not_utf8(bytes, e.valid_up_to(), path))
}

/// The error for bytes that are UTF-8 only up to `valid`.
fn not_utf8(bytes: &[u8], valid: usize, path: &Path) -> Error {
    let before = std::str::from_utf8(&bytes[..valid]).unwrap_or_default();
    let breaks = ini::split_lines(before)
        .filter(|l| !l.end.is_empty())
        .count();
    Error::ConfigSyntax {
        path: path.to_path_buf(),
        line: breaks + 1,
        message: "this line is not UTF-8 text; save the file as UTF-8".into(),
    }
}

/// Parses config text into botocore's profiles, sso-sessions and services.
pub fn parse(text: &str, path: PathBuf) -> Result<Config<'_>> {
    from_ini(ini::parse(text), path)
}

fn from_ini(
    parsed: std::result::Result<Ini<'_>, ini::SyntaxError>,
    path: PathBuf,
) -> Result<Config<'_>> {
    let parsed = parsed.map_err(|e| syntax(&path, e))?;
    // Nearly every section of a big file is a profile: its map is sized once.
    let mut profiles = Named::default();
    profiles.at.reserve(parsed.sections.len());
    profiles.list.reserve(parsed.sections.len());
    let mut cfg = Config {
        path,
        profiles,
        sessions: Named::default(),
        services: Named::default(),
    };
    for s in parsed.into_effective() {
        // The name borrows from the text as the header does.
        let id = match &s.name {
            Cow::Borrowed(header) => ini::identify(header),
            Cow::Owned(header) => {
                ini::identify(header).map(|(kind, name)| (kind, Cow::Owned(name.into_owned())))
            }
        };
        let Some((kind, name)) = id else {
            continue;
        };
        let section = Section {
            name,
            header: s.name,
            keys: s.entries,
        };
        match kind {
            SectionKind::Profile => cfg.profiles.put(section),
            SectionKind::SsoSession => cfg.sessions.put(section),
            SectionKind::Services => cfg.services.put(section),
        }
    }
    Ok(cfg)
}

/// A region as botocore accepts one when it creates a client: a host label of letters,
/// digits and inner hyphens, not all digits. It goes into a host name, so nothing else may
/// pass. (botocore also lets an empty region through; ssoenv treats that as no region.)
pub fn check_region(region: &str) -> std::result::Result<(), &'static str> {
    let b = region.as_bytes();
    let inner = |c: &u8| c.is_ascii_alphanumeric() || *c == b'-';
    let ok = !b.is_empty()
        && b.len() <= 63
        && b[0] != b'-'
        && b[b.len() - 1] != b'-'
        && b.iter().all(inner)
        && !b.iter().all(u8::is_ascii_digit);
    if ok {
        Ok(())
    } else {
        Err("not a region name (like us-east-1)")
    }
}

/// A start URL (or issuer URL) ssoenv can sign in to: https with a host.
pub fn check_start_url(url: &str) -> std::result::Result<(), &'static str> {
    let host = url
        .strip_prefix("https://")
        .map(|r| r.split(['/', '?', '#']).next().unwrap_or(""));
    match host {
        Some(h)
            if !h.is_empty() && !url.contains(|c: char| c.is_whitespace() || c.is_control()) =>
        {
            Ok(())
        }
        _ => Err("not an https:// URL"),
    }
}

/// `sso_registration_scopes` as the AWS CLI reads it: comma-separated, blanks dropped.
pub fn parse_scopes(value: &str) -> Vec<String> {
    value
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .collect()
}

impl<'a> Config<'a> {
    pub fn profile(&self, name: &str) -> Option<&Section<'a>> {
        self.profiles.get(name)
    }

    pub fn services(&self, name: &str) -> Option<&Section<'a>> {
        self.services.get(name)
    }

    /// Profiles in botocore's order (where each name first appears).
    pub fn profiles(&self) -> impl Iterator<Item = &Section<'a>> {
        self.profiles.list.iter()
    }

    pub fn sso_sessions(&self) -> impl Iterator<Item = &Section<'a>> {
        self.sessions.list.iter()
    }

    /// Whether a profile carries SSO settings or a role to assume (`role_arn`): the profiles
    /// ssoenv may give credentials for (for `list --sso`, `status`, `doctor`).
    pub fn is_sso(section: &Section<'_>) -> bool {
        SSO_KEYS.iter().any(|k| section.has(k))
    }

    /// Resolves a profile to its SSO settings and role chain, with errors naming the file
    /// and key at fault. As in botocore's credential chain, `role_arn` (without
    /// `web_identity_token_file`) comes before the SSO keys.
    pub fn resolve(&self, name: &str) -> Result<Profile> {
        Ok(match self.resolved(name)? {
            Resolved::Sso(role) => role.to_profile(),
            Resolved::Chain(profile) => *profile,
        })
    }

    /// [`Config::resolve`], with an SSO profile's settings left in the config, borrowed:
    /// `status` shows ten thousand profiles without copying their values.
    pub fn resolved(&self, name: &str) -> Result<Resolved<'_>> {
        let Some(p) = self.profile(name) else {
            return Err(Error::ProfileNotFound {
                profile: name.to_string(),
                path: self.path.clone(),
                close: self.close_names(name),
            });
        };
        self.resolved_profile(p)
    }

    /// [`Config::resolved`] for a profile's section as [`Config::profiles`] lists it, without
    /// looking its name up again.
    pub fn resolved_profile<'s>(&'s self, p: &'s Section<'a>) -> Result<Resolved<'s>> {
        let name = &*p.name;
        if p.has("web_identity_token_file") {
            return Err(self.chain_error(
                name,
                "web_identity_token_file (web identity federation) is not supported by ssoenv",
            ));
        }
        if p.has("role_arn") {
            return self
                .resolve_chain(name, p)
                .map(|chain| Resolved::Chain(Box::new(chain)));
        }
        self.sso_role(name, p).map(Resolved::Sso)
    }

    fn chain_error(&self, profile: &str, message: impl Into<String>) -> Error {
        Error::Chain {
            profile: profile.to_string(),
            path: self.path.clone(),
            message: message.into(),
        }
    }

    /// A profile with `role_arn`: its sources followed down to an SSO profile, as botocore's
    /// AssumeRoleProvider follows them.
    fn resolve_chain(&self, name: &str, top: &Section<'_>) -> Result<Profile> {
        let mut hops = Vec::new();
        let mut visited = vec![name.to_string()];
        let mut current = (name.to_string(), top);
        let root = loop {
            let (pname, p) = &current;
            let text = |k: &str| p.text(k).map(str::to_string);
            if p.has("credential_source") {
                let message = if p.has("source_profile") {
                    "it has both source_profile and credential_source".to_string()
                } else {
                    format!(
                        "credential_source = {} is not supported by ssoenv (it assumes roles from SSO credentials only: use source_profile)",
                        crate::messages::visible(p.text("credential_source").unwrap_or(""))
                    )
                };
                return Err(self.chain_error(pname, message));
            }
            let role_arn = text("role_arn").unwrap_or_default();
            if role_arn.is_empty() {
                return Err(self.chain_error(pname, "role_arn is empty"));
            }
            for key in ["external_id", "mfa_serial"] {
                if p.text(key) == Some("") {
                    return Err(self.chain_error(pname, format!("{key} is empty")));
                }
            }
            let duration_seconds = match p.text("duration_seconds") {
                None => None,
                Some(v) => {
                    let n = python_int(v);
                    if n.is_none() {
                        crate::warn!(
                            "profile '{}': duration_seconds = {} is not a whole number; ignored, as the AWS CLI does",
                            crate::messages::visible(pname),
                            crate::messages::visible(v)
                        );
                    }
                    n
                }
            };
            hops.push(RoleHop {
                profile: pname.clone(),
                role_arn,
                session_name: text("role_session_name").filter(|s| !s.is_empty()),
                external_id: text("external_id"),
                mfa_serial: text("mfa_serial"),
                duration_seconds,
            });
            let Some(source) = p.text("source_profile") else {
                return Err(self.chain_error(
                    pname,
                    "role_arn needs source_profile (the profile whose credentials assume the role)",
                ));
            };
            let Some(sp) = self.profile(source) else {
                let close = self.close_names(source);
                let mut message = format!(
                    "source_profile '{}' does not exist",
                    crate::messages::visible(source)
                );
                if !close.is_empty() {
                    let close: Vec<String> =
                        close.iter().map(|c| crate::messages::visible(c)).collect();
                    message.push_str(&format!(" (did you mean {}?)", close.join(", ")));
                }
                return Err(self.chain_error(pname, message));
            };
            if visited.iter().any(|v| v == source) {
                visited.push(source.to_string());
                let names: Vec<String> = visited
                    .iter()
                    .map(|v| format!("'{}'", crate::messages::visible(v)))
                    .collect();
                return Err(self.chain_error(
                    name,
                    format!("source_profile loops: {}", names.join(" -> ")),
                ));
            }
            visited.push(source.to_string());
            if sp.has("aws_access_key_id") || sp.has("aws_secret_access_key") {
                return Err(self.chain_error(
                    source,
                    "long-term keys are not supported by ssoenv as a source of roles (it assumes roles from SSO credentials only)",
                ));
            }
            if sp.has("role_arn") && !sp.has("web_identity_token_file") {
                current = (source.to_string(), sp);
                continue;
            }
            if sp.has("web_identity_token_file") {
                return Err(self.chain_error(
                    source,
                    "web_identity_token_file (web identity federation) is not supported by ssoenv",
                ));
            }
            break self.sso_role(source, sp).map(|r| r.to_profile()).map_err(|e| match e {
                Error::NotSso { profile, .. } => self.chain_error(
                    &profile,
                    format!(
                        "is the source_profile of '{}' but has no SSO settings (sso_account_id, sso_role_name) nor role_arn; ssoenv assumes roles from SSO credentials only",
                        crate::messages::visible(pname)
                    ),
                ),
                e => e,
            })?;
        };
        hops.reverse();
        let region = top.get("region").map(str::to_string);
        if let Some(r) = &region {
            check_region(r).map_err(|why| Error::BadValue {
                section: top.header.to_string(),
                key: "region",
                value: r.clone(),
                why,
            })?;
        }
        let legacy = match std::env::var("AWS_STS_REGIONAL_ENDPOINTS")
            .ok()
            .filter(|v| !v.is_empty())
            .or_else(|| top.get("sts_regional_endpoints").map(str::to_string))
        {
            None => false,
            Some(v) if v == "legacy" => true,
            Some(v) if v == "regional" => false,
            Some(v) => {
                return Err(Error::BadValue {
                    section: top.header.to_string(),
                    key: "sts_regional_endpoints",
                    value: v,
                    why: "must be legacy or regional",
                });
            }
        };
        let (fips, dual_stack) = variants(Some(top), "");
        let mut login = root.login;
        // botocore makes every client of the chain, the SSO and OIDC ones of its source
        // included, from the session of the profile asked for: that profile's CA bundle,
        // endpoint overrides and endpoint variants, not the SSO profile's.
        login.ca_bundle = top.get("ca_bundle").map(str::to_string);
        login.portal_endpoint = self.configured_endpoint(top, "sso");
        login.oidc_endpoint = self.configured_endpoint(top, "sso_oidc");
        (login.fips, login.dual_stack) = variants(Some(top), &login.start_url);
        login.hint = if name == "default" {
            "ssoenv login".to_string()
        } else {
            format!("ssoenv login {}", ini::shell_quote(name))
        };
        Ok(Profile {
            name: name.to_string(),
            login,
            account_id: root.account_id,
            role_name: root.role_name,
            chain: Some(Chain {
                hops,
                region: region.clone(),
                sts_endpoint: self.configured_endpoint(top, "sts"),
                legacy_sts: legacy,
                fips,
                dual_stack,
            }),
            region,
        })
    }

    /// A profile's endpoint override for a service: its `[services]` section's
    /// `endpoint_url` for that service, else its own `endpoint_url`; none when the profile
    /// sets `ignore_configured_endpoint_urls`.
    fn configured_endpoint(&self, p: &Section<'_>, service: &str) -> Option<String> {
        if p.get("ignore_configured_endpoint_urls")
            .is_some_and(|v| v.eq_ignore_ascii_case("true"))
        {
            return None;
        }
        let services = p.get("services").and_then(|s| self.services(s));
        match services.and_then(|s| s.value(service)) {
            Some(Value::Nested(n)) => n
                .iter()
                .find(|(k, _)| k == "endpoint_url")
                .map(|(_, v)| v.clone()),
            _ => None,
        }
        .or_else(|| p.get("endpoint_url").map(str::to_string))
    }

    /// An SSO profile (`sso_account_id`, `sso_role_name`, its session's or its own
    /// `sso_start_url` and `sso_region`).
    fn sso_role<'s>(&'s self, name: &str, p: &'s Section<'a>) -> Result<SsoRole<'s>> {
        let path = &self.path;
        if !p.has("sso_account_id") && !p.has("sso_role_name") {
            return Err(Error::NotSso {
                profile: name.to_string(),
                path: path.clone(),
            });
        }
        // The profile's keys, with its session's merged in: the profile's own first.
        let mut session = None;
        if let Some(sname) = p.text("sso_session") {
            let Some(s) = self.sessions.get(sname) else {
                return Err(Error::SessionNotFound {
                    session: sname.to_string(),
                    profile: Some(name.to_string()),
                    path: path.clone(),
                });
            };
            for (key, value) in &s.keys {
                if p.value(key).is_some_and(|mine| mine != value) {
                    return Err(Error::Conflict {
                        profile: name.to_string(),
                        key: key.to_string(),
                        session: s.name.to_string(),
                        path: path.clone(),
                    });
                }
            }
            // The token comes from the session alone.
            self.session_required(s)?;
            session = Some(s);
        }
        let get = |key: &str| {
            p.value(key)
                .or_else(|| session.and_then(|s: &Section| s.value(key)))
                .and_then(Value::text)
                .filter(|v| !v.is_empty())
        };
        // Each looked up once: `status` resolves every profile of a big file.
        const REQUIRED: [&str; 4] = [
            "sso_start_url",
            "sso_region",
            "sso_account_id",
            "sso_role_name",
        ];
        let found = REQUIRED.map(get);
        let [
            Some(start_url),
            Some(sso_region),
            Some(account_id),
            Some(role_name),
        ] = found
        else {
            let missing: Vec<&str> = REQUIRED
                .iter()
                .zip(found)
                .filter(|(_, v)| v.is_none())
                .map(|(k, _)| *k)
                .collect();
            return Err(Error::MissingKey {
                section: p.header.to_string(),
                key: missing.join(", "),
                path: path.clone(),
            });
        };
        let region = p.get("region");
        for (key, v) in [("sso_region", Some(sso_region)), ("region", region)] {
            if let Some(v) = v {
                check_region(v).map_err(|why| Error::BadValue {
                    section: p.header.to_string(),
                    key,
                    value: v.to_string(),
                    why,
                })?;
            }
        }
        Ok(SsoRole {
            config: self,
            section: p,
            session,
            name: &p.name,
            start_url,
            sso_region,
            account_id,
            role_name,
            region,
        })
    }

    /// An sso-session's start URL and region, which its token is fetched with.
    fn session_required<'s>(&self, s: &'s Section<'_>) -> Result<(&'s str, &'s str)> {
        let missing: Vec<&str> = ["sso_start_url", "sso_region"]
            .into_iter()
            .filter(|k| s.get(k).is_none())
            .collect();
        if !missing.is_empty() {
            return Err(Error::MissingKey {
                section: s.header.to_string(),
                key: missing.join(", "),
                path: self.path.clone(),
            });
        }
        let region = s.get("sso_region").unwrap_or_default();
        check_region(region).map_err(|why| Error::BadValue {
            section: s.header.to_string(),
            key: "sso_region",
            value: region.to_string(),
            why,
        })?;
        Ok((s.get("sso_start_url").unwrap_or_default(), region))
    }

    /// The login of an `[sso-session NAME]` section.
    pub fn session_login(&self, name: &str) -> Result<Login> {
        let Some(s) = self.sessions.get(name) else {
            return Err(Error::SessionNotFound {
                session: name.to_string(),
                profile: None,
                path: self.path.clone(),
            });
        };
        let (start_url, region) = self.session_required(s)?;
        let scopes = s
            .get("sso_registration_scopes")
            .map(parse_scopes)
            .unwrap_or_default();
        Ok(Login::session(name, start_url, region, scopes))
    }

    /// The sso-session a command means: the one named, else the only one, else the default
    /// profile's.
    pub fn choose_login(&self, name: Option<&str>) -> Result<Login> {
        if let Some(name) = name {
            return self.session_login(name);
        }
        let names: Vec<&str> = self.sso_sessions().map(|s| &*s.name).collect();
        if let [only] = names.as_slice() {
            return self.session_login(only);
        }
        if let Ok(p) = self.resolve(&choose_profile(None))
            && let Some(s) = &p.login.session
        {
            return self.session_login(s);
        }
        if names.is_empty() {
            Err(Error::Other(format!(
                "{} has no [sso-session] section; add one with `ssoenv configure sso-session`",
                self.path.display()
            )))
        } else {
            let names: Vec<String> = names.iter().map(|n| crate::messages::visible(n)).collect();
            Err(Error::Usage(format!(
                "{} has several [sso-session] sections ({}); pass --sso-session NAME",
                self.path.display(),
                names.join(", ")
            )))
        }
    }

    /// Profile names close to `name`, for "did you mean".
    fn close_names(&self, name: &str) -> Vec<String> {
        crate::messages::close_to(name, self.profiles().map(|s| &*s.name))
    }
}

/// The profile to use: the argument, else `AWS_PROFILE`, else `AWS_DEFAULT_PROFILE`, else `default`.
pub fn choose_profile(arg: Option<&str>) -> String {
    named_profile(arg).unwrap_or_else(|| "default".to_string())
}

/// The profile the user named, by argument or environment; `None` when only `default` is left.
pub fn named_profile(arg: Option<&str>) -> Option<String> {
    if let Some(a) = arg {
        return Some(a.to_string());
    }
    ["AWS_PROFILE", "AWS_DEFAULT_PROFILE"]
        .iter()
        .find_map(|var| std::env::var(var).ok().filter(|v| !v.is_empty()))
}

#[cfg(test)]
mod tests {
    use super::*;

    const REAL: &str = "\
# my config
[default]
region = eu-west-1
output = json
s3 =
  max_concurrent_requests = 10
  max_queue_size = 1000

[profile dev]
sso_session = corp
sso_account_id = 111111111111
sso_role_name = ReadOnly
region = us-east-2
services = local

; a legacy one
[profile legacy]
sso_start_url = https://example.awsapps.com/start
sso_region = us-east-1
sso_account_id = 222222222222
sso_role_name = Admin

[profile static]
aws_access_key_id = AKIA

[sso-session corp]
sso_start_url = https://corp.awsapps.com/start
sso_region = eu-central-1
sso_registration_scopes = sso:account:access, extra:scope

[services local]
sso =
  endpoint_url = http://127.0.0.1:9
[plugins]
cli_legacy_plugin_path = /x
";

    fn cfg(text: &str) -> Config<'_> {
        parse(text, PathBuf::from("/cfg")).unwrap()
    }

    #[test]
    fn session_profile_resolves_with_scopes_region_and_services_endpoint() {
        let p = cfg(REAL).resolve("dev").unwrap();
        assert_eq!(p.login.start_url, "https://corp.awsapps.com/start");
        assert_eq!(p.login.region, "eu-central-1");
        assert_eq!(p.login.session.as_deref(), Some("corp"));
        assert_eq!(p.login.token_key(), "corp");
        assert_eq!(p.login.scopes, vec!["sso:account:access", "extra:scope"]);
        assert_eq!(p.region.as_deref(), Some("us-east-2"));
        assert_eq!(
            p.login.portal_endpoint.as_deref(),
            Some("http://127.0.0.1:9")
        );
        assert_eq!(p.login.oidc_endpoint, None);
    }

    #[test]
    fn legacy_profile_keys_by_start_url() {
        let p = cfg(REAL).resolve("legacy").unwrap();
        assert_eq!(p.login.session, None);
        assert_eq!(p.login.token_key(), "https://example.awsapps.com/start");
        assert_eq!(p.role_name, "Admin");
    }

    #[test]
    fn nested_values_and_unknown_sections_do_not_leak_keys() {
        let c = cfg(REAL);
        let d = c.profile("default").unwrap();
        assert_eq!(d.get("region"), Some("eu-west-1"));
        assert!(d.get("max_concurrent_requests").is_none());
        assert!(matches!(d.value("s3"), Some(Value::Nested(n)) if n.len() == 2));
        assert!(
            c.profile("static")
                .unwrap()
                .get("cli_legacy_plugin_path")
                .is_none()
        );
    }

    #[test]
    fn non_sso_profile_is_an_error_naming_it() {
        let e = cfg(REAL).resolve("static").unwrap_err().to_string();
        assert!(
            e.contains("'static'") && e.contains("not an SSO profile"),
            "{e}"
        );
    }

    #[test]
    fn missing_profile_suggests_close_names() {
        let e = cfg(REAL).resolve("deb").unwrap_err().to_string();
        assert!(e.contains("did you mean dev"), "{e}");
    }

    #[test]
    fn missing_session_section_is_named() {
        let e = cfg("[profile a]\nsso_session = nope\nsso_account_id=1\nsso_role_name=r\n")
            .resolve("a")
            .unwrap_err()
            .to_string();
        assert!(e.contains("[sso-session nope]") && e.contains("'a'"), "{e}");
    }

    #[test]
    fn session_without_region_names_the_key() {
        let e = cfg("[profile a]\nsso_session = s\nsso_account_id = 1\nsso_role_name = r\n[sso-session s]\nsso_start_url = https://x\n")
            .resolve("a")
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("[sso-session s]") && e.contains("sso_region"),
            "{e}"
        );
    }

    #[test]
    fn conflicting_legacy_and_session_keys_are_refused() {
        let text = "[profile a]\nsso_session = s\nsso_start_url = https://other\nsso_account_id=1\nsso_role_name=r\n[sso-session s]\nsso_start_url = https://x\nsso_region = us-east-1\n";
        let e = cfg(text).resolve("a").unwrap_err().to_string();
        assert!(e.contains("sso_start_url") && e.contains("differs"), "{e}");
        // Agreeing keys are fine.
        let text = text.replace("https://other", "https://x");
        assert!(cfg(&text).resolve("a").is_ok());
    }

    #[test]
    fn garbage_line_is_an_error_with_line_number() {
        let e = parse("[profile a]\nthis is not ini\n", PathBuf::from("/c"))
            .unwrap_err()
            .to_string();
        assert!(e.starts_with("/c:2:"), "{e}");
    }

    #[test]
    fn colon_delimiter_uppercase_keys_and_profile_default() {
        let c = cfg(
            "[profile default]\nSSO_Start_URL: https://x\nsso_region=us-east-1\nsso_account_id=1\nsso_role_name=r\n",
        );
        let p = c.resolve("default").unwrap();
        assert_eq!(p.login.start_url, "https://x");
    }

    #[test]
    fn bad_region_is_refused() {
        let e = cfg("[profile a]\nsso_start_url=https://x\nsso_region=us-east-1.evil.com/\nsso_account_id=1\nsso_role_name=r\n")
            .resolve("a")
            .unwrap_err()
            .to_string();
        assert!(e.contains("not a region"), "{e}");
    }

    #[test]
    fn regions_are_host_labels_as_botocore_checks_them() {
        for ok in [
            "us-east-1",
            "US-EAST-1",
            "us-gov-west-1",
            "eusc-de-east-1",
            "x",
        ] {
            check_region(ok).unwrap();
        }
        let long = "a".repeat(64);
        for bad in [
            "",
            "-us",
            "us-",
            "us_east_1",
            "us-east-1.evil.com/",
            "us east",
            long.as_str(),
        ] {
            assert!(check_region(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn start_urls_are_https_with_a_host() {
        check_start_url("https://corp.awsapps.com/start").unwrap();
        check_start_url("https://identitycenter.amazonaws.com/ssoins-1234").unwrap();
        for bad in [
            "http://corp.awsapps.com/start",
            "corp.awsapps.com",
            "https://",
            "https://a b.com",
            "https://a\n",
        ] {
            assert!(check_start_url(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn scopes_are_comma_separated_without_blanks() {
        assert_eq!(parse_scopes(" a , ,b,"), vec!["a", "b"]);
    }

    #[test]
    fn config_file_paths_expand_variables_and_home_as_botocore_does() {
        // SAFETY of set_var: unit tests in this module do not read these variables elsewhere.
        unsafe { std::env::set_var("SSOENV_TEST_DIR", "/d") };
        assert_eq!(
            expand_vars("$SSOENV_TEST_DIR/x/${SSOENV_TEST_DIR}"),
            "/d/x//d"
        );
        assert_eq!(expand_vars("$NOPE_NOT_SET/$/${x"), "$NOPE_NOT_SET/$/${x");
        assert_eq!(expand_user("~root/x"), "/root/x");
        assert_eq!(expand_user("~no-such-user-here/x"), "~no-such-user-here/x");
        assert_eq!(expand_user("a~"), "a~");
    }

    #[test]
    fn botocore_resolution_rules() {
        // An empty sso_session still names a session.
        let e = cfg("[profile a]\nsso_session =\nsso_start_url = https://x\nsso_region = us-east-1\nsso_account_id = 1\nsso_role_name = r\n")
            .resolve("a").unwrap_err().to_string();
        assert!(e.contains("names sso_session ''"), "{e}");
        // Any key the session sets must agree with the profile's.
        let e = cfg("[profile a]\nsso_session = s\nsso_registration_scopes = x\nsso_account_id = 1\nsso_role_name = r\n[sso-session s]\nsso_start_url = https://x\nsso_region = us-east-1\nsso_registration_scopes = y\n")
            .resolve("a").unwrap_err().to_string();
        assert!(e.contains("sso_registration_scopes"), "{e}");
        // [DEFAULT] is inherited; the last section of a name counts whole; quoted names.
        let c = cfg(
            "[DEFAULT]\nsso_region = eu-west-1\n[profile 'my dev']\nsso_start_url = https://x\nsso_account_id = 1\nsso_role_name = r\n[default]\nregion = a\n[profile default]\nregion = b\n",
        );
        let p = c.resolve("my dev").unwrap();
        assert_eq!(p.login.region, "eu-west-1");
        let names: Vec<&str> = c.profiles().map(|s| &*s.name).collect();
        assert_eq!(names, ["my dev", "default"]);
        assert_eq!(c.profile("default").unwrap().get("region"), Some("b"));
        // Only sso_account_id or sso_role_name make an SSO profile.
        let e = cfg("[profile a]\nsso_session = s\n[sso-session s]\nsso_start_url = https://x\nsso_region = us-east-1\n")
            .resolve("a").unwrap_err().to_string();
        assert!(e.contains("not an SSO profile"), "{e}");
    }

    #[test]
    fn one_profile_read_alone_resolves_as_from_the_whole_file() {
        let quirky = "[DEFAULT]\nregion = eu-west-1\n[profile 'my dev']\nsso_session = corp\nsso_account_id = 1\nsso_role_name = r\n[default]\nsso_start_url = https://x\nsso_region = us-east-1\nsso_account_id = 2\nsso_role_name = r\n[profile default]\nregion = b\n[profiles typo]\nsso_session = corp\nsso_account_id = 3\nsso_role_name = r\n[profile my dev]\nsso_account_id = 9\n[sso-session corp]\nsso_start_url = https://corp\nsso_region = eu-central-1\n";
        for text in [REAL, quirky] {
            let whole = cfg(text);
            let names: Vec<String> = whole.profiles().map(|p| p.name.to_string()).collect();
            for name in names.iter().map(String::as_str).chain(["nope", "dev "]) {
                let alone = parse_for(text, PathBuf::from("/cfg"), name).unwrap();
                assert_eq!(
                    format!("{:?}", alone.resolve(name)),
                    format!("{:?}", whole.resolve(name)),
                    "{name}"
                );
            }
        }
    }
}
