//! Reads the AWS CLI's config file and resolves a profile into a typed [`SsoProfile`].
//!
//! The parser follows the rules of the CLI's own (Python `configparser` with the CLI's tweaks):
//! `[default]`, `[profile NAME]`, `[sso-session NAME]`, `[services NAME]`; full-line comments
//! with `#` or `;`; `key = value` or `key: value` (keys are case-insensitive, values trimmed);
//! indented lines continue the previous key and form nested values (`s3 =` then
//! `  max_concurrent_requests = 10`). Nested values are kept for `[services]` endpoint lookups
//! and ignored elsewhere. Everything here is a pure function over text, except [`load`].

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use crate::error::{Error, Result};

/// One `key = value` line, with its nested `sub = value` lines if the value was empty.
#[derive(Debug, Clone, Default)]
pub struct Entry {
    pub value: String,
    pub nested: Vec<(String, String)>,
}

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum SectionKind {
    Profile,
    SsoSession,
    Services,
    /// Any other header: kept so its keys do not leak into a neighbour, otherwise ignored.
    Other,
}

#[derive(Debug, Clone)]
pub struct Section {
    pub kind: SectionKind,
    pub name: String,
    pub keys: BTreeMap<String, Entry>,
}

impl Section {
    pub fn get(&self, key: &str) -> Option<&str> {
        self.keys
            .get(key)
            .map(|e| e.value.as_str())
            .filter(|v| !v.is_empty())
    }

    fn header(&self) -> String {
        match self.kind {
            SectionKind::Profile if self.name == "default" => "default".to_string(),
            SectionKind::Profile => format!("profile {}", self.name),
            SectionKind::SsoSession => format!("sso-session {}", self.name),
            SectionKind::Services => format!("services {}", self.name),
            SectionKind::Other => self.name.clone(),
        }
    }
}

#[derive(Debug, Clone)]
pub struct Config {
    pub path: PathBuf,
    pub sections: Vec<Section>,
}

/// The SSO settings a profile resolves to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SsoProfile {
    pub name: String,
    pub start_url: String,
    pub sso_region: String,
    pub account_id: String,
    pub role_name: String,
    /// `Some` for the current form (refreshable); `None` for the legacy form.
    pub session: Option<String>,
    pub scopes: Vec<String>,
    /// The default region for the exported credentials.
    pub region: Option<String>,
    /// Endpoint overrides from the config file (`services` section, then `endpoint_url`).
    pub portal_endpoint: Option<String>,
    pub oidc_endpoint: Option<String>,
    pub ca_bundle: Option<String>,
}

impl SsoProfile {
    /// What names the token cache file: the session name, or the legacy start URL.
    pub fn token_key(&self) -> &str {
        self.session.as_deref().unwrap_or(&self.start_url)
    }

    /// How a user names this login in messages: `sso-session NAME` or the start URL.
    pub fn login_name(&self) -> String {
        match &self.session {
            Some(s) => format!("sso-session '{s}'"),
            None => self.start_url.clone(),
        }
    }
}

/// An `[sso-session]` on its own (for `login --sso-session` and `status`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SsoSession {
    pub name: String,
    pub start_url: String,
    pub region: String,
    pub scopes: Vec<String>,
}

/// `AWS_CONFIG_FILE`, else `~/.aws/config`.
pub fn config_path() -> PathBuf {
    match std::env::var_os("AWS_CONFIG_FILE") {
        Some(p) if !p.is_empty() => expand_tilde(Path::new(&p)),
        _ => crate::cache::home().join(".aws").join("config"),
    }
}

fn expand_tilde(p: &Path) -> PathBuf {
    match p.strip_prefix("~") {
        Ok(rest) => crate::cache::home().join(rest),
        Err(_) => p.to_path_buf(),
    }
}

/// Reads and parses the config file.
pub fn load() -> Result<Config> {
    let path = config_path();
    let text = match std::fs::read(&path) {
        Ok(bytes) => String::from_utf8_lossy(&bytes).into_owned(),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Err(Error::ConfigMissing { path });
        }
        Err(e) => return Err(Error::io(path, "read", e)),
    };
    parse(&text, path)
}

/// Parses config text. Lines before the first section and continuation lines without a key
/// are ignored, as the CLI does; a line that is nothing recognisable is an error naming it.
pub fn parse(text: &str, path: PathBuf) -> Result<Config> {
    let mut sections: Vec<Section> = Vec::new();
    // Index into `sections` of the section being filled, and the key that nested lines extend.
    let mut current: Option<usize> = None;
    let mut last_key: Option<String> = None;
    for (i, raw) in text.lines().enumerate() {
        let n = i + 1;
        let line = raw.strip_prefix('\u{feff}').unwrap_or(raw);
        let trimmed = line.trim();
        if trimmed.is_empty() || trimmed.starts_with('#') || trimmed.starts_with(';') {
            continue;
        }
        let indented = line.starts_with([' ', '\t']);
        if indented && current.is_some() && last_key.is_some() {
            // A continuation: a nested `key = value`, or a bare continuation line.
            if let (Some(idx), Some(key)) = (current, &last_key)
                && let Some(entry) = sections[idx].keys.get_mut(key)
                && let Some((k, v)) = split_key(trimmed)
            {
                entry.nested.push((k, v));
            }
            continue;
        }
        if trimmed.starts_with('[') {
            let Some(inner) = trimmed.strip_prefix('[').and_then(|t| t.strip_suffix(']')) else {
                return Err(Error::ConfigSyntax {
                    path,
                    line: n,
                    message: format!("section header without closing ']': {trimmed}"),
                });
            };
            let (kind, name) = classify(inner.trim());
            last_key = None;
            // Repeated sections merge, later keys winning.
            if let Some(idx) = sections
                .iter()
                .position(|s| s.kind == kind && s.name == name)
            {
                current = Some(idx);
            } else {
                sections.push(Section {
                    kind,
                    name,
                    keys: BTreeMap::new(),
                });
                current = Some(sections.len() - 1);
            }
            continue;
        }
        let Some(idx) = current else {
            // Keys before any section: configparser refuses the file; the CLI then fails.
            return Err(Error::ConfigSyntax {
                path,
                line: n,
                message: "key outside of any [section]".to_string(),
            });
        };
        let Some((key, value)) = split_key(trimmed) else {
            return Err(Error::ConfigSyntax {
                path,
                line: n,
                message: format!(
                    "expected `key = value`, a [section] or a comment, found {:?}",
                    clip(trimmed)
                ),
            });
        };
        sections[idx].keys.insert(
            key.clone(),
            Entry {
                value,
                nested: Vec::new(),
            },
        );
        last_key = Some(key);
    }
    Ok(Config { path, sections })
}

fn clip(s: &str) -> String {
    s.chars().take(40).collect()
}

fn split_key(line: &str) -> Option<(String, String)> {
    let at = line.find(['=', ':'])?;
    let key = line[..at].trim();
    if key.is_empty() {
        return None;
    }
    Some((key.to_ascii_lowercase(), line[at + 1..].trim().to_string()))
}

fn classify(header: &str) -> (SectionKind, String) {
    if header == "default" {
        return (SectionKind::Profile, "default".to_string());
    }
    for (prefix, kind) in [
        ("profile", SectionKind::Profile),
        ("sso-session", SectionKind::SsoSession),
        ("services", SectionKind::Services),
    ] {
        if let Some(rest) = header.strip_prefix(prefix)
            && rest.starts_with([' ', '\t'])
        {
            return (kind, rest.trim().to_string());
        }
    }
    (SectionKind::Other, header.to_string())
}

impl Config {
    pub fn section(&self, kind: SectionKind, name: &str) -> Option<&Section> {
        self.sections
            .iter()
            .find(|s| s.kind == kind && s.name == name)
    }

    /// Profile names in file order.
    pub fn profiles(&self) -> impl Iterator<Item = &Section> {
        self.sections
            .iter()
            .filter(|s| s.kind == SectionKind::Profile)
    }

    pub fn sso_sessions(&self) -> impl Iterator<Item = &Section> {
        self.sections
            .iter()
            .filter(|s| s.kind == SectionKind::SsoSession)
    }

    /// Whether a profile section carries SSO settings.
    pub fn is_sso(section: &Section) -> bool {
        section.get("sso_session").is_some() || section.get("sso_start_url").is_some()
    }

    /// Resolves a profile to its SSO settings, with errors naming the file and key at fault.
    pub fn resolve(&self, name: &str) -> Result<SsoProfile> {
        let path = &self.path;
        let Some(p) = self.section(SectionKind::Profile, name) else {
            return Err(Error::ProfileNotFound {
                profile: name.to_string(),
                path: path.clone(),
                close: self.close_names(name),
            });
        };
        let header = p.header();
        let need = |key: &'static str| -> Result<String> {
            p.get(key).map(str::to_string).ok_or(Error::MissingKey {
                section: header.clone(),
                key,
                path: path.clone(),
            })
        };
        let (start_url, sso_region, session, scopes) = if let Some(sname) = p.get("sso_session") {
            let s = self.session(sname).map_err(|e| match e {
                Error::SessionNotFound { session, path, .. } => Error::SessionNotFound {
                    session,
                    profile: name.to_string(),
                    path,
                },
                other => other,
            })?;
            // Legacy keys may stand beside sso_session only if they agree.
            for (key, value) in [("sso_start_url", &s.start_url), ("sso_region", &s.region)] {
                if let Some(v) = p.get(key)
                    && v != value
                {
                    return Err(Error::Conflict {
                        profile: name.to_string(),
                        key,
                        session: s.name.clone(),
                        path: path.clone(),
                    });
                }
            }
            (s.start_url, s.region, Some(s.name), s.scopes)
        } else if p.get("sso_start_url").is_some() || p.get("sso_account_id").is_some() {
            (
                need("sso_start_url")?,
                need("sso_region")?,
                None,
                Vec::new(),
            )
        } else {
            return Err(Error::NotSso {
                profile: name.to_string(),
                path: path.clone(),
            });
        };
        let account_id = need("sso_account_id")?;
        let role_name = need("sso_role_name")?;
        check_region(&header, "sso_region", &sso_region)?;
        let services = p
            .get("services")
            .and_then(|s| self.section(SectionKind::Services, s));
        let from_services = |service: &str| {
            services
                .and_then(|s| s.keys.get(service))
                .and_then(|e| e.nested.iter().find(|(k, _)| k == "endpoint_url"))
                .map(|(_, v)| v.clone())
        };
        let global = p.get("endpoint_url").map(str::to_string);
        let ignore = p
            .get("ignore_configured_endpoint_urls")
            .is_some_and(|v| v.eq_ignore_ascii_case("true"));
        let (portal_endpoint, oidc_endpoint) = if ignore {
            (None, None)
        } else {
            (
                from_services("sso").or_else(|| global.clone()),
                from_services("sso_oidc").or(global),
            )
        };
        Ok(SsoProfile {
            name: name.to_string(),
            start_url,
            sso_region,
            account_id,
            role_name,
            session,
            scopes,
            region: p.get("region").map(str::to_string),
            portal_endpoint,
            oidc_endpoint,
            ca_bundle: p.get("ca_bundle").map(str::to_string),
        })
    }

    /// Resolves an `[sso-session NAME]` section.
    pub fn session(&self, name: &str) -> Result<SsoSession> {
        let Some(s) = self.section(SectionKind::SsoSession, name) else {
            return Err(Error::SessionNotFound {
                session: name.to_string(),
                profile: String::new(),
                path: self.path.clone(),
            });
        };
        let header = s.header();
        let need = |key: &'static str| -> Result<String> {
            s.get(key).map(str::to_string).ok_or(Error::MissingKey {
                section: header.clone(),
                key,
                path: self.path.clone(),
            })
        };
        let start_url = need("sso_start_url")?;
        let region = need("sso_region")?;
        check_region(&header, "sso_region", &region)?;
        let scopes = s
            .get("sso_registration_scopes")
            .map(|v| {
                v.split(',')
                    .map(|x| x.trim().to_string())
                    .filter(|x| !x.is_empty())
                    .collect()
            })
            .unwrap_or_default();
        Ok(SsoSession {
            name: name.to_string(),
            start_url,
            region,
            scopes,
        })
    }

    /// Profile names close to `name`, for "did you mean".
    fn close_names(&self, name: &str) -> Vec<String> {
        let mut scored: Vec<(usize, &str)> = self
            .profiles()
            .map(|s| (distance(&s.name, name), s.name.as_str()))
            .filter(|(d, n)| *d <= 2.max(name.len() / 3) || n.contains(name) || name.contains(n))
            .collect();
        scored.sort();
        scored
            .into_iter()
            .take(3)
            .map(|(_, n)| n.to_string())
            .collect()
    }
}

/// A region goes into a host name: refuse anything that is not one.
fn check_region(section: &str, key: &'static str, value: &str) -> Result<()> {
    let ok = !value.is_empty()
        && value
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
    if ok {
        Ok(())
    } else {
        Err(Error::BadValue {
            section: section.to_string(),
            key,
            value: value.to_string(),
            why: "not a region name (like us-east-1)",
        })
    }
}

/// Levenshtein distance, for suggestions.
fn distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = vec![i + 1; b.len() + 1];
        for (j, cb) in b.iter().enumerate() {
            let cost = usize::from(ca != *cb);
            cur[j + 1] = (prev[j] + cost).min(prev[j + 1] + 1).min(cur[j] + 1);
        }
        prev = cur;
    }
    prev[b.len()]
}

/// The profile to use: the argument, else `AWS_PROFILE`, else `AWS_DEFAULT_PROFILE`, else `default`.
pub fn choose_profile(arg: Option<&str>) -> String {
    if let Some(a) = arg {
        return a.to_string();
    }
    for var in ["AWS_PROFILE", "AWS_DEFAULT_PROFILE"] {
        if let Ok(v) = std::env::var(var)
            && !v.is_empty()
        {
            return v;
        }
    }
    "default".to_string()
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

    fn cfg(text: &str) -> Config {
        parse(text, PathBuf::from("/cfg")).unwrap()
    }

    #[test]
    fn session_profile_resolves_with_scopes_region_and_services_endpoint() {
        let p = cfg(REAL).resolve("dev").unwrap();
        assert_eq!(p.start_url, "https://corp.awsapps.com/start");
        assert_eq!(p.sso_region, "eu-central-1");
        assert_eq!(p.session.as_deref(), Some("corp"));
        assert_eq!(p.token_key(), "corp");
        assert_eq!(p.scopes, vec!["sso:account:access", "extra:scope"]);
        assert_eq!(p.region.as_deref(), Some("us-east-2"));
        assert_eq!(p.portal_endpoint.as_deref(), Some("http://127.0.0.1:9"));
        assert_eq!(p.oidc_endpoint, None);
    }

    #[test]
    fn legacy_profile_keys_by_start_url() {
        let p = cfg(REAL).resolve("legacy").unwrap();
        assert_eq!(p.session, None);
        assert_eq!(p.token_key(), "https://example.awsapps.com/start");
        assert_eq!(p.role_name, "Admin");
    }

    #[test]
    fn nested_values_and_unknown_sections_do_not_leak_keys() {
        let c = cfg(REAL);
        let d = c.section(SectionKind::Profile, "default").unwrap();
        assert_eq!(d.get("region"), Some("eu-west-1"));
        assert!(d.get("max_concurrent_requests").is_none());
        assert_eq!(d.keys["s3"].nested.len(), 2);
        assert!(
            c.section(SectionKind::Profile, "static")
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
        let e = cfg("[profile a]\nsso_session = s\n[sso-session s]\nsso_start_url = https://x\n")
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
        assert_eq!(p.start_url, "https://x");
    }

    #[test]
    fn bad_region_is_refused() {
        let e = cfg("[profile a]\nsso_start_url=https://x\nsso_region=us-east-1.evil.com/\nsso_account_id=1\nsso_role_name=r\n")
            .resolve("a")
            .unwrap_err()
            .to_string();
        assert!(e.contains("not a region"), "{e}");
    }
}
