//! `ssoenv configure`: the sign-in wizard (like `aws configure sso`), `configure sso-session`
//! and `configure populate`. Answers come from flags named after the config keys, else from
//! questions on the terminal. Nothing is written until every answer is in; the file is then
//! changed through [`crate::edit`], which touches only the keys and sections being set.

use std::collections::{BTreeMap, BTreeSet};

use crate::ask::Asker;
use crate::cli::{ConfigureAction, ConfigureArgs, PopulateArgs, SessionArgs, WizardArgs};
use crate::config::{self, DEFAULT_SCOPE, Login, check_region, check_start_url};
use crate::credentials::Portal;
use crate::edit::{self, Doc};
use crate::error::{Error, Result};
use crate::http::Client;
use crate::ini::{self, SectionKind};
use crate::signin::{self, Options};

/// The key that marks a profile written by `configure populate`; its value is the session.
const GENERATED: &str = "ssoenv_generated";
const OUTPUTS: &[&str] = &["json", "yaml", "yaml-stream", "text", "table"];

pub fn run(args: &ConfigureArgs) -> Result<String> {
    match &args.action {
        None => wizard(&args.wizard),
        Some(ConfigureAction::SsoSession(a)) => sso_session(a),
        Some(ConfigureAction::Populate(a)) => populate(a),
    }
}

fn bad(key: &'static str, value: &str, why: &'static str) -> Error {
    Error::BadValue {
        section: "the answer".into(),
        key,
        value: value.to_string(),
        why,
    }
}

/// A checker for answers: the config's own rule for the key, as an answer error.
fn by(
    key: &'static str,
    rule: fn(&str) -> std::result::Result<(), &'static str>,
) -> impl Fn(&str) -> Result<()> {
    move |v| rule(v).map_err(|why| bad(key, v, why))
}

/// A name for a section that botocore reads back as exactly that name, or a usage error
/// naming the flag. Profile names are also what users type and shells complete, so control
/// characters are refused even where a quoted header could carry them.
fn check_section_name(kind: SectionKind, flag: &str, name: &str) -> Result<()> {
    let why = if name.is_empty() {
        Some("a name cannot be empty")
    } else if name.contains(char::is_control) {
        Some("a name cannot hold control characters")
    } else if ini::header_for(kind, name).is_none() {
        Some("no config section reads back as this name")
    } else if kind == SectionKind::SsoSession && !edit::value_fits(name) {
        // Profiles name it as `sso_session = NAME`, which loses outer spaces.
        Some("a session name cannot start or end with a space")
    } else {
        None
    };
    match why {
        Some(why) => Err(Error::Usage(format!(
            "{flag} {:?}: {why}",
            crate::messages::visible(name)
        ))),
        None => Ok(()),
    }
}

/// A flag's value, checked; or the question's answer.
fn answer(
    q: &Asker,
    flag_value: &Option<String>,
    question: &str,
    flag: &str,
    default: Option<&str>,
    check: impl Fn(&str) -> Result<()>,
) -> Result<String> {
    match flag_value {
        Some(v) => {
            check(v)?;
            Ok(v.clone())
        }
        None => q.ask(question, flag, default, check),
    }
}

/// Sets each key of a section, refusing to change differing values without `force`.
fn apply_section(
    doc: &mut Doc,
    (kind, name): (SectionKind, &str),
    keys: &[(&str, String)],
    force: bool,
    path: &std::path::Path,
) -> Result<bool> {
    let exists = doc.has_section(kind, name);
    if exists && !force {
        for (k, v) in keys {
            if let Some(old) = doc.get(kind, name, k)
                && old != *v
            {
                return Err(Error::Other(format!(
                    "[{} {}] in {} already has {k} = {}; pass --force to change it to {}, or choose another name",
                    kind.word(),
                    crate::messages::visible(name),
                    path.display(),
                    crate::messages::visible(&old),
                    crate::messages::visible(v)
                )));
            }
        }
    }
    let mut changed = false;
    for (k, v) in keys {
        if doc.get(kind, name, k).as_deref() != Some(v.as_str()) {
            doc.set(kind, name, k, v)?;
            changed = true;
        }
    }
    Ok(changed || !exists)
}

/// The config file's text and its lines, or an error naming the line botocore would refuse.
fn open(path: &std::path::Path) -> Result<(String, Doc)> {
    let before = edit::read(path)?;
    let doc = Doc::parse(&before).map_err(|e| syntax(path, e))?;
    Ok((before, doc))
}

fn syntax(path: &std::path::Path, e: ini::SyntaxError) -> Error {
    Error::ConfigSyntax {
        path: path.to_path_buf(),
        line: e.line,
        message: e.message,
    }
}

/// The new text, checked to read as intended, when it differs from the old.
fn new_text(path: &std::path::Path, before: &str, doc: &Doc) -> Result<Option<String>> {
    let after = doc.checked_text().map_err(|e| syntax(path, e))?;
    Ok((after != before).then_some(after))
}

fn write_if_changed(path: &std::path::Path, before: &str, doc: &Doc) -> Result<bool> {
    match new_text(path, before, doc)? {
        Some(after) => {
            edit::write(path, &after)?;
            Ok(true)
        }
        None => Ok(false),
    }
}

/// The session questions: name, start URL, region, scopes. An existing session with the same
/// name is reused.
fn session_answers(q: &Asker, a: &SessionArgs, doc: &Doc) -> Result<SessionAnswers> {
    let name = match &a.sso_session {
        Some(n) => n.clone(),
        None => q.ask(
            "SSO session name (recommended; empty for the legacy form)",
            "--sso-session",
            None,
            |_| Ok(()),
        )?,
    };
    if !name.is_empty() {
        check_section_name(SectionKind::SsoSession, "--sso-session", &name)?;
    }
    let known = |k: &str| {
        if name.is_empty() {
            None
        } else {
            doc.get(SectionKind::SsoSession, &name, k)
        }
    };
    let url_default = known("sso_start_url");
    let region_default = known("sso_region");
    let url = answer(
        q,
        &a.sso_start_url,
        "SSO start URL (or issuer URL)",
        "--sso-start-url",
        url_default.as_deref(),
        by("sso_start_url", check_start_url),
    )?;
    let region = answer(
        q,
        &a.sso_region,
        "SSO region",
        "--sso-region",
        region_default.as_deref(),
        by("sso_region", check_region),
    )?;
    let mut scopes_given = a.sso_registration_scopes.is_some();
    let scopes = if name.is_empty() {
        String::new()
    } else {
        let d = known("sso_registration_scopes").unwrap_or_else(|| DEFAULT_SCOPE.into());
        let s = answer(
            q,
            &a.sso_registration_scopes,
            "SSO registration scopes",
            "--sso-registration-scopes",
            Some(&d),
            |s| {
                if s.split(',').any(|x| x.trim().is_empty()) || !edit::value_fits(s) {
                    Err(bad(
                        "sso_registration_scopes",
                        s,
                        "an empty scope in the list",
                    ))
                } else {
                    Ok(())
                }
            },
        )?;
        scopes_given |= s != d;
        s
    };
    Ok(SessionAnswers {
        name,
        url,
        region,
        scopes,
        scopes_given,
    })
}

/// What the session questions answered.
struct SessionAnswers {
    name: String,
    url: String,
    region: String,
    scopes: String,
    /// Whether the scopes were given (a flag, or an answer other than the default shown).
    scopes_given: bool,
}

impl SessionAnswers {
    /// The keys of the session section. The scopes are written to a new session, when given,
    /// or where the section has them; an existing session without them keeps doing without
    /// (the AWS CLI's default then applies, which is the same scope).
    fn keys(&self, doc: &Doc) -> Vec<(&'static str, String)> {
        let mut keys = vec![
            ("sso_start_url", self.url.clone()),
            ("sso_region", self.region.clone()),
        ];
        let kind = SectionKind::SsoSession;
        let exists = doc.has_section(kind, &self.name);
        let has_scopes = doc
            .get(kind, &self.name, "sso_registration_scopes")
            .is_some();
        if !exists || has_scopes || self.scopes_given {
            keys.push(("sso_registration_scopes", self.scopes.clone()));
        }
        keys
    }
}

fn sso_session(a: &SessionArgs) -> Result<String> {
    let path = config::config_path()?;
    let (before, mut doc) = open(&path)?;
    let q = Asker::new();
    let answers = session_answers(&q, a, &doc)?;
    let name = answers.name.clone();
    if name.is_empty() {
        return Err(bad("sso_session", "", "an [sso-session] needs a name"));
    }
    let keys = answers.keys(&doc);
    apply_section(
        &mut doc,
        (SectionKind::SsoSession, &name),
        &keys,
        a.force,
        &path,
    )?;
    if write_if_changed(&path, &before, &doc)? {
        eprintln!(
            "ssoenv: wrote [sso-session {name}] to {}; sign in with `ssoenv login --sso-session {name}`",
            path.display()
        );
    } else {
        eprintln!(
            "ssoenv: [sso-session {name}] in {} is already so",
            path.display()
        );
    }
    Ok(String::new())
}

/// Signed in to the login: the cached token, or a sign-in now.
fn signed_in(login: &Login, device: bool, no_browser: bool) -> Result<Portal> {
    let client = Client::new(None)?;
    let opts = Options {
        device,
        no_browser,
        browser_flow: false,
        port: None,
        force: false,
        timeout: signin::WAIT,
    };
    let token = signin::token_for(&client, login, &opts)?;
    Ok(Portal::with_token(client, login, token.access_token))
}

fn wizard(a: &WizardArgs) -> Result<String> {
    let path = config::config_path()?;
    let (before, mut doc) = open(&path)?;
    let q = Asker::new();
    let answers = session_answers(&q, &a.session, &doc)?;
    let (name, url, region) = (&answers.name, &answers.url, &answers.region);
    if let Some(p) = &a.profile {
        check_section_name(SectionKind::Profile, "--profile", p)?;
    }
    let session = (!name.is_empty()).then(|| name.clone());
    let login = match &session {
        Some(s) => Login::session(s, url, region, config::parse_scopes(&answers.scopes)),
        None => Login::legacy(url, region),
    };
    let portal = signed_in(&login, a.use_device_code, a.no_browser)?;

    let accounts = portal.accounts()?;
    if accounts.is_empty() {
        return Err(Error::Other(format!(
            "no AWS account is assigned to you at {url}"
        )));
    }
    let account = match &a.sso_account_id {
        Some(id) => accounts
            .iter()
            .find(|x| x.account_id == *id)
            .ok_or_else(|| {
                Error::Other(format!(
                    "account {id} is not among the {} accounts you can reach at {url}",
                    accounts.len()
                ))
            })?,
        None => {
            let labels: Vec<String> = accounts
                .iter()
                .map(|x| format!("{} ({}, {})", x.account_name, x.account_id, x.email_address))
                .collect();
            &accounts[q.pick("account", "--sso-account-id", &labels)?]
        }
    };
    let roles = portal.roles(&account.account_id)?;
    if roles.is_empty() {
        return Err(Error::Other(format!(
            "account {} ({}) has no role for you",
            account.account_id, account.account_name
        )));
    }
    let role = match &a.sso_role_name {
        Some(r) => roles.iter().find(|x| x.role_name == *r).ok_or_else(|| {
            Error::Other(format!(
                "account {} has no role {r} for you",
                account.account_id
            ))
        })?,
        None => {
            let labels: Vec<String> = roles.iter().map(|r| r.role_name.clone()).collect();
            &roles[q.pick("role", "--sso-role-name", &labels)?]
        }
    };
    let default_region = answer(
        &q,
        &a.region,
        "Default client region",
        "--region",
        Some(""),
        |r| {
            if r.is_empty() {
                Ok(())
            } else {
                by("region", check_region)(r)
            }
        },
    )?;
    let output = answer(
        &q,
        &a.output,
        "CLI default output format (json, yaml, yaml-stream, text, table)",
        "--output",
        Some(""),
        |o| {
            if o.is_empty() || OUTPUTS.contains(&o) {
                Ok(())
            } else {
                Err(bad(
                    "output",
                    o,
                    "not one of json, yaml, yaml-stream, text, table",
                ))
            }
        },
    )?;
    let default_name = format!("{}-{}", role.role_name, account.account_id);
    let profile = answer(
        &q,
        &a.profile,
        "Profile name",
        "--profile",
        Some(&default_name),
        |n| check_section_name(SectionKind::Profile, "--profile", n),
    )?;

    // Every answer is in: now the file.
    if let Some(s) = &session {
        let keys = answers.keys(&doc);
        apply_section(
            &mut doc,
            (SectionKind::SsoSession, s),
            &keys,
            a.session.force,
            &path,
        )?;
    }
    let mut keys: Vec<(&str, String)> = match &session {
        Some(s) => vec![("sso_session", s.clone())],
        None => vec![
            ("sso_start_url", url.clone()),
            ("sso_region", region.clone()),
        ],
    };
    keys.push(("sso_account_id", account.account_id.clone()));
    keys.push(("sso_role_name", role.role_name.clone()));
    if !default_region.is_empty() {
        keys.push(("region", default_region));
    }
    if !output.is_empty() {
        keys.push(("output", output));
    }
    let id = (SectionKind::Profile, profile.as_str());
    apply_section(&mut doc, id, &keys, a.session.force, &path)?;
    if session.is_some() {
        // The session form: legacy keys left over in a forced profile would conflict.
        for key in ["sso_start_url", "sso_region", "sso_registration_scopes"] {
            doc.unset(id.0, id.1, key);
        }
    } else {
        doc.unset(id.0, id.1, "sso_session");
    }
    // A profile that botocore and ssoenv could not use is not written (a `[DEFAULT]` key
    // that differs from the session, say).
    if let Some(after) = new_text(&path, &before, &doc)? {
        config::parse(&after, path.clone())?
            .resolve(&profile)
            .map_err(|e| Error::Other(format!("{e}; {} not changed", path.display())))?;
    }
    let wrote = write_if_changed(&path, &before, &doc)?;
    eprintln!(
        "ssoenv: profile '{profile}' {} {}; use it with: eval \"$(ssoenv {profile})\"",
        if wrote {
            "written to"
        } else {
            "is already so in"
        },
        path.display()
    );
    Ok(String::new())
}

/// A profile name from the template, with anything but `[A-Za-z0-9._-]` turned into `-`.
pub fn render_name(
    template: &str,
    session: &str,
    account_id: &str,
    account_name: &str,
    role: &str,
) -> String {
    let raw = template
        .replace("{account_name}", account_name)
        .replace("{account_id}", account_id)
        .replace("{role_name}", role)
        .replace("{sso_session}", session);
    let mut out = String::new();
    for c in raw.chars() {
        let c = if c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-') {
            c
        } else {
            '-'
        };
        if !(c == '-' && out.ends_with('-')) {
            out.push(c);
        }
    }
    out.trim_matches('-').to_string()
}

fn populate(a: &PopulateArgs) -> Result<String> {
    for bad_key in ["{", "}"] {
        let stripped = [
            "{account_name}",
            "{account_id}",
            "{role_name}",
            "{sso_session}",
        ]
        .iter()
        .fold(a.template.clone(), |t, k| t.replace(k, ""));
        if stripped.contains(bad_key) {
            return Err(Error::Usage(format!(
                "--template '{}': the placeholders are {{account_name}}, {{account_id}}, {{role_name}} and {{sso_session}}",
                a.template
            )));
        }
    }
    if let Some(r) = &a.region {
        by("region", check_region)(r)?;
    }
    let file = config::read()?;
    let cfg = file.config()?;
    let login = cfg.choose_login(a.sso_session.as_deref())?;
    let portal = Portal::open(&login)?;
    let session = login.session.clone().unwrap_or_default();
    let accounts = portal.accounts()?;
    if accounts.is_empty() {
        return Err(Error::Other(format!(
            "no AWS account is assigned to you at {}",
            login.start_url
        )));
    }
    // name → (account, role); two pairs with one name is an error naming both.
    let mut wanted: BTreeMap<String, (String, String)> = BTreeMap::new();
    for (acc, roles) in accounts.iter().zip(portal.roles_of(&accounts)?) {
        for role in roles {
            let name = render_name(
                &a.template,
                &session,
                &acc.account_id,
                &acc.account_name,
                &role.role_name,
            );
            if name.is_empty() {
                return Err(Error::Usage(format!(
                    "--template '{}' gives an empty name for account {}",
                    a.template, acc.account_id
                )));
            }
            if let Some((other, r)) = wanted.get(&name) {
                return Err(Error::Other(format!(
                    "profile name '{name}' would stand for account {other} role {r} and account {} role {}; use a --template with {{account_id}}",
                    acc.account_id, role.role_name
                )));
            }
            wanted.insert(name, (acc.account_id.clone(), role.role_name.clone()));
        }
    }

    let path = cfg.path.clone();
    let (before, mut doc) = open(&path)?;
    let (mut added, mut updated, mut skipped) = (0, 0, Vec::new());
    for (name, (account, role)) in &wanted {
        let id = (SectionKind::Profile, name.as_str());
        let ours = doc.get(id.0, id.1, GENERATED).is_some_and(|v| v == session);
        if doc.has_section(id.0, id.1) && !ours {
            skipped.push(name.clone());
            continue;
        }
        let mut keys = vec![
            ("sso_session", session.clone()),
            ("sso_account_id", account.clone()),
            ("sso_role_name", role.clone()),
        ];
        if let Some(r) = &a.region {
            keys.push(("region", r.clone()));
        }
        keys.push((GENERATED, session.clone()));
        let existed = doc.has_section(id.0, id.1);
        if apply_section(&mut doc, id, &keys, true, &path)? {
            if existed { updated += 1 } else { added += 1 }
        }
    }
    // Profiles generated for this session whose account or role is gone.
    let names: BTreeSet<&String> = wanted.keys().collect();
    let stale: Vec<String> = doc
        .names(SectionKind::Profile)
        .into_iter()
        .filter(|name| {
            !names.contains(name)
                && doc
                    .get(SectionKind::Profile, name, GENERATED)
                    .is_some_and(|v| v == session)
        })
        .collect();
    let mut pruned = 0;
    if a.prune {
        for name in &stale {
            doc.remove_section(SectionKind::Profile, name);
            pruned += 1;
        }
    } else if !stale.is_empty() {
        let shown: Vec<String> = stale
            .iter()
            .take(5)
            .map(|n| crate::messages::visible(n))
            .collect();
        crate::warn!(
            "{} generated profile{} no longer match an account and role you can reach ({}{}); --prune removes them",
            stale.len(),
            if stale.len() == 1 { "" } else { "s" },
            shown.join(", "),
            if stale.len() > 5 { ", …" } else { "" }
        );
    }
    for name in &skipped {
        crate::warn!("profile '{name}' exists and was not generated by ssoenv; left alone");
    }
    let summary = format!(
        "{} profiles for sso-session '{}': {added} added, {updated} updated, {pruned} removed, {} left alone",
        wanted.len(),
        session,
        skipped.len()
    );
    if a.dry_run {
        eprintln!("ssoenv: dry run, {} not changed: {summary}", path.display());
        let after = new_text(&path, &before, &doc)?.unwrap_or_else(|| before.clone());
        return Ok(edit::diff(&before, &after, &path.display().to_string()));
    }
    write_if_changed(&path, &before, &doc)?;
    eprintln!("ssoenv: {summary} ({})", path.display());
    Ok(String::new())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_sanitised() {
        assert_eq!(
            render_name(
                "{account_name}.{role_name}",
                "s",
                "1",
                "My Team / Prod",
                "Admin"
            ),
            "My-Team-Prod.Admin"
        );
        assert_eq!(
            render_name("{sso_session}-{account_id}", "corp", "123", "", ""),
            "corp-123"
        );
    }
}
