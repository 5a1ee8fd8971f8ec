//! `ssoenv configure`: the sign-in wizard (like `aws configure sso`), `configure sso-session`
//! and `configure populate`. Answers come from flags named after the config keys, else from
//! questions on the terminal. Nothing is written until every answer is in; the file is then
//! changed through [`crate::edit`], which touches only the keys and sections being set.

use std::collections::{BTreeMap, BTreeSet};

use crate::cli::{
    ConfigureAction, ConfigureArgs, LoginArgs, PopulateArgs, SessionArgs, WizardArgs,
};
use crate::cmd::accounts::{Portal, choose_session, session_profile};
use crate::cmd::login;
use crate::config::{self, SsoProfile, SsoSession};
use crate::edit::{self, Doc, profile_header, session_header};
use crate::error::{Error, Result};
use crate::http::{self, Client, Service};
use crate::oidc::Target;
use crate::prompt::Prompter;

/// The key that marks a profile written by `configure populate`; its value is the session.
const GENERATED: &str = "ssoenv_generated";
const DEFAULT_SCOPES: &str = "sso:account:access";
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

/// An https URL with a host: the start URL or an issuer URL.
pub fn check_url(u: &str) -> Result<()> {
    let host = u
        .strip_prefix("https://")
        .map(|r| r.split(['/', '?', '#']).next().unwrap_or(""));
    match host {
        Some(h) if !h.is_empty() && h.contains('.') && !u.contains(char::is_whitespace) => Ok(()),
        _ => Err(bad("sso_start_url", u, "not an https:// URL")),
    }
}

/// A region name as AWS forms them: `us-east-1`, `eu-central-2`, `us-gov-west-1`,
/// `cn-northwest-1`, `us-isob-east-1`.
pub fn check_region(r: &str) -> Result<()> {
    const DIRECTIONS: &[&str] = &[
        "north",
        "south",
        "east",
        "west",
        "central",
        "northeast",
        "northwest",
        "southeast",
        "southwest",
    ];
    let parts: Vec<&str> = r.split('-').collect();
    let ok = match parts.as_slice() {
        [geo, rest @ ..] if geo.len() == 2 && geo.bytes().all(|b| b.is_ascii_lowercase()) => {
            let rest = match rest {
                [p, more @ ..] if *p == "gov" || p.starts_with("iso") => more,
                _ => rest,
            };
            matches!(rest, [dir, n] if DIRECTIONS.contains(dir)
                && !n.is_empty() && n.len() <= 2 && n.bytes().all(|b| b.is_ascii_digit()))
        }
        _ => false,
    };
    if ok {
        Ok(())
    } else {
        Err(bad(
            "region",
            r,
            "not a known form of region name (like us-east-1)",
        ))
    }
}

fn check_name(n: &str) -> Result<()> {
    if n.is_empty()
        || n.contains(|c: char| c.is_whitespace() || c == '[' || c == ']' || c.is_control())
    {
        Err(bad(
            "profile",
            n,
            "not usable as a profile name (no spaces or brackets)",
        ))
    } else {
        Ok(())
    }
}

/// A flag's value, checked; or the question's answer.
fn answer(
    q: &Prompter,
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
    header: &str,
    keys: &[(&str, String)],
    force: bool,
    path: &std::path::Path,
) -> Result<bool> {
    let exists = doc.has_section(header);
    if exists && !force {
        for (k, v) in keys {
            if let Some(old) = doc.get(header, k)
                && old != *v
            {
                return Err(Error::Other(format!(
                    "[{header}] in {} already has {k} = {old}; pass --force to change it to {v}, or choose another name",
                    path.display()
                )));
            }
        }
    }
    let mut changed = false;
    for (k, v) in keys {
        if doc.get(header, k).as_deref() != Some(v.as_str()) {
            doc.set(header, k, v);
            changed = true;
        }
    }
    Ok(changed || !exists)
}

fn write_if_changed(path: &std::path::Path, before: &str, doc: &Doc) -> Result<bool> {
    let after = doc.text();
    if after == before {
        return Ok(false);
    }
    edit::write(path, &after)?;
    Ok(true)
}

/// The session questions: name, start URL, region, scopes. An existing session with the same
/// name is reused.
fn session_answers(
    q: &Prompter,
    a: &SessionArgs,
    doc: &Doc,
) -> Result<(String, String, String, String)> {
    let name = match &a.sso_session {
        Some(n) => n.clone(),
        None => q.ask(
            "SSO session name (recommended; empty for the legacy form)",
            "--sso-session",
            None,
            |_| Ok(()),
        )?,
    };
    if name.contains(|c: char| c.is_whitespace() || c == '[' || c == ']') {
        return Err(bad(
            "sso_session",
            &name,
            "not usable as a section name (no spaces or brackets)",
        ));
    }
    let header = session_header(&name);
    let known = |k: &str| {
        if name.is_empty() {
            None
        } else {
            doc.get(&header, k)
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
        check_url,
    )?;
    let region = answer(
        q,
        &a.sso_region,
        "SSO region",
        "--sso-region",
        region_default.as_deref(),
        check_region,
    )?;
    let scopes = if name.is_empty() {
        String::new()
    } else {
        let d = known("sso_registration_scopes").unwrap_or_else(|| DEFAULT_SCOPES.into());
        answer(
            q,
            &a.sso_registration_scopes,
            "SSO registration scopes",
            "--sso-registration-scopes",
            Some(&d),
            |s| {
                if s.split(',').any(|x| x.trim().is_empty()) {
                    Err(bad(
                        "sso_registration_scopes",
                        s,
                        "an empty scope in the list",
                    ))
                } else {
                    Ok(())
                }
            },
        )?
    };
    Ok((name, url, region, scopes))
}

fn session_keys(url: &str, region: &str, scopes: &str) -> Vec<(&'static str, String)> {
    vec![
        ("sso_start_url", url.to_string()),
        ("sso_region", region.to_string()),
        ("sso_registration_scopes", scopes.to_string()),
    ]
}

fn sso_session(a: &SessionArgs) -> Result<String> {
    let path = config::config_path();
    let before = edit::read(&path)?;
    let mut doc = Doc::parse(&before);
    let q = Prompter::new();
    let (name, url, region, scopes) = session_answers(&q, a, &doc)?;
    if name.is_empty() {
        return Err(bad("sso_session", "", "an [sso-session] needs a name"));
    }
    apply_section(
        &mut doc,
        &session_header(&name),
        &session_keys(&url, &region, &scopes),
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
fn signed_in(t: &Target, p: &SsoProfile, device: bool, no_browser: bool) -> Result<Portal> {
    let client = Client::new(None)?;
    let args = LoginArgs {
        profile: None,
        sso_session: t.session.clone(),
        use_device_code: device,
        no_browser,
        force: false,
        timeout: 600,
    };
    let token = login::token_for(&client, t, &args)?;
    Ok(Portal::with_token(client, p, token.access_token))
}

fn wizard(a: &WizardArgs) -> Result<String> {
    let path = config::config_path();
    let before = edit::read(&path)?;
    let mut doc = Doc::parse(&before);
    let q = Prompter::new();
    let (name, url, region, scopes) = session_answers(&q, &a.session, &doc)?;
    let session = (!name.is_empty()).then(|| name.clone());
    let sess = SsoSession {
        name: name.clone(),
        start_url: url.clone(),
        region: region.clone(),
        scopes: scopes
            .split(',')
            .map(|s| s.trim().to_string())
            .filter(|s| !s.is_empty())
            .collect(),
    };
    let mut p = session_profile(&sess);
    p.session = session.clone();
    let target = Target {
        session: session.clone(),
        start_url: url.clone(),
        region: region.clone(),
        scopes: p.scopes.clone(),
        endpoint: http::endpoint(Service::Oidc, &region, None),
    };
    login::check_start_url(&target)?;
    let portal = signed_in(&target, &p, a.use_device_code, a.no_browser)?;

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
                check_region(r)
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
        check_name,
    )?;

    // Every answer is in: now the file.
    if let Some(s) = &session {
        apply_section(
            &mut doc,
            &session_header(s),
            &session_keys(&url, &region, &scopes),
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
    let header = profile_header(&profile);
    apply_section(&mut doc, &header, &keys, a.session.force, &path)?;
    if session.is_some() {
        // The session form: legacy keys left over in a forced profile would conflict.
        doc.unset(&header, "sso_start_url");
        doc.unset(&header, "sso_region");
    } else {
        doc.unset(&header, "sso_session");
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
        check_region(r)?;
    }
    let cfg = config::load()?;
    let s = choose_session(&cfg, a.sso_session.as_deref())?;
    let portal = Portal::open(&session_profile(&s))?;
    let accounts = portal.accounts()?;
    if accounts.is_empty() {
        return Err(Error::Other(format!(
            "no AWS account is assigned to you at {}",
            s.start_url
        )));
    }
    // name → (account, role); two pairs with one name is an error naming both.
    let mut wanted: BTreeMap<String, (String, String)> = BTreeMap::new();
    for acc in &accounts {
        for role in portal.roles(&acc.account_id)? {
            let name = render_name(
                &a.template,
                &s.name,
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
    let before = edit::read(&path)?;
    let mut doc = Doc::parse(&before);
    let (mut added, mut updated, mut skipped) = (0, 0, Vec::new());
    for (name, (account, role)) in &wanted {
        let header = profile_header(name);
        let ours = doc.get(&header, GENERATED).is_some_and(|v| v == s.name);
        if doc.has_section(&header) && !ours {
            skipped.push(name.clone());
            continue;
        }
        let mut keys = vec![
            ("sso_session", s.name.clone()),
            ("sso_account_id", account.clone()),
            ("sso_role_name", role.clone()),
        ];
        if let Some(r) = &a.region {
            keys.push(("region", r.clone()));
        }
        keys.push((GENERATED, s.name.clone()));
        let existed = doc.has_section(&header);
        if apply_section(&mut doc, &header, &keys, true, &path)? {
            if existed { updated += 1 } else { added += 1 }
        }
    }
    let mut pruned = 0;
    if a.prune {
        let names: BTreeSet<&String> = wanted.keys().collect();
        for h in doc.headers() {
            let Some(name) = h.strip_prefix("profile ") else {
                continue;
            };
            if !names.contains(&name.to_string())
                && doc.get(&h, GENERATED).is_some_and(|v| v == s.name)
            {
                doc.remove_section(&h);
                pruned += 1;
            }
        }
    }
    for name in &skipped {
        eprintln!(
            "ssoenv: warning: profile '{name}' exists and was not generated by ssoenv; left alone"
        );
    }
    let summary = format!(
        "{} profiles for sso-session '{}': {added} added, {updated} updated, {pruned} removed, {} left alone",
        wanted.len(),
        s.name,
        skipped.len()
    );
    if a.dry_run {
        eprintln!("ssoenv: dry run, {} not changed: {summary}", path.display());
        return Ok(edit::diff(&before, &doc.text()));
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

    #[test]
    fn regions_and_urls_are_checked() {
        for ok in [
            "us-east-1",
            "eu-central-2",
            "us-gov-west-1",
            "cn-northwest-1",
            "us-isob-east-1",
            "ap-southeast-4",
        ] {
            check_region(ok).unwrap();
        }
        for bad in [
            "",
            "us-east",
            "useast1",
            "US-EAST-1",
            "us-middle-1",
            "eu-west-100",
            "x-west-1",
        ] {
            assert!(check_region(bad).is_err(), "{bad}");
        }
        check_url("https://corp.awsapps.com/start").unwrap();
        check_url("https://identitycenter.amazonaws.com/ssoins-1234").unwrap();
        for bad in [
            "http://corp.awsapps.com/start",
            "corp.awsapps.com",
            "https://",
            "https://a b.com",
        ] {
            assert!(check_url(bad).is_err(), "{bad}");
        }
    }
}
