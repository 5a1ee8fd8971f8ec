//! `ssoenv console [PROFILE] [--print] [--destination URL-or-service] [--region R]`: the AWS
//! console, signed in as the profile. An SSO profile goes through the access portal's
//! shortcut link (`<start URL>/#/console?account_id=…&role_name=…&destination=…`), which
//! carries no credential — the portal signs the browser in with its own session — and works
//! with the console's multi-session mode. A role chain has no portal link: its credentials
//! become a sign-in token at the federation endpoint ([`crate::federation`]), and the link
//! holding it is a bearer credential, so `--print` says so. `--print` prints the link instead
//! of opening a browser.

use crate::cli::ConsoleArgs;
use crate::config;
use crate::credentials;
use crate::error::{Error, Result};
use crate::federation;
use crate::http::{Client, encode};

/// The console's host in the region's partition.
fn console_host(region: &str) -> &'static str {
    if region.starts_with("cn-") {
        "console.amazonaws.cn"
    } else if region.starts_with("us-gov-") {
        "console.amazonaws-us-gov.com"
    } else {
        "console.aws.amazon.com"
    }
}

/// Where the console opens: a URL as given, a service's home page by its name, or the
/// console home; in the region asked for, else the profile's.
pub fn destination(dest: Option<&str>, region: Option<&str>) -> Result<String> {
    let host = console_host(region.unwrap_or(""));
    let query = region.map_or(String::new(), |r| format!("?region={}", encode(r)));
    match dest {
        Some(d) if d.starts_with("https://") => Ok(d.to_string()),
        Some(d)
            if !d.is_empty()
                && d.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"-_".contains(&b)) =>
        {
            Ok(format!("https://{host}/{d}/home{query}"))
        }
        Some(d) => Err(Error::Usage(format!(
            "--destination {:?}: give an https:// URL or a service name like s3",
            crate::messages::visible(d)
        ))),
        None => Ok(format!("https://{host}/console/home{query}")),
    }
}

pub fn run(args: &ConsoleArgs) -> Result<String> {
    let name = config::choose_profile(args.profile.as_deref());
    let p = config::load_for(&name)?.resolve(&name)?;
    if let Some(r) = &args.region {
        config::check_region(r).map_err(|why| Error::Usage(format!("--region {r}: {why}")))?;
    }
    let region = args.region.as_deref().or(p.region.as_deref());
    let dest = destination(args.destination.as_deref(), region)?;
    if p.chain.is_some() {
        let creds = credentials::credentials(&p)?;
        let endpoint = federation::endpoint(region);
        let client = Client::new(p.login.ca_bundle.as_deref())?;
        let token = federation::signin_token(&client, &endpoint, &creds)?;
        let url = federation::login_url(&endpoint, &token, &dest);
        if args.print {
            eprintln!(
                "ssoenv: this link signs whoever opens it in as profile '{}' for 15 minutes: keep it secret",
                crate::messages::visible(&name)
            );
            return Ok(format!("{url}\n"));
        }
        // The link is a credential: the browser gets a private file that forwards to it, so
        // that it is never in a command line other users can see.
        let page = forwarding_page(&url)?;
        let shown = format!("file://{}", page.display());
        eprintln!(
            "ssoenv: opening the console as profile '{}' (role {}):\n    {shown}",
            crate::messages::visible(&name),
            crate::messages::visible(
                p.chain
                    .as_ref()
                    .and_then(|c| c.hops.last())
                    .map_or("", |h| h.role_arn.as_str())
            )
        );
        crate::browser::open(&shown);
        std::thread::sleep(std::time::Duration::from_millis(300));
        return Ok(String::new());
    }
    let url = format!(
        "{}/#/console?account_id={}&role_name={}&destination={}",
        p.login.start_url.trim_end_matches('/'),
        encode(&p.account_id),
        encode(&p.role_name),
        encode(&dest)
    );
    if args.print {
        return Ok(format!("{url}\n"));
    }
    eprintln!(
        "ssoenv: opening the console as profile '{}':\n    {url}",
        crate::messages::visible(&name)
    );
    crate::browser::open(&url);
    // Give the browser a moment to start before ssoenv's exit reaps nothing of it.
    std::thread::sleep(std::time::Duration::from_millis(300));
    Ok(String::new())
}

/// A private page (0600, in ssoenv's state) that sends the browser on to `url`. Pages older
/// than a minute are removed first: the sign-in token in them lasts 15 minutes, and a
/// browser has read its page long before.
fn forwarding_page(url: &str) -> Result<std::path::PathBuf> {
    let dir = crate::files::state_dir()?.join("console");
    crate::files::ensure_dir(&dir)?;
    let minute = std::time::Duration::from_secs(60);
    if let Ok(rd) = std::fs::read_dir(&dir) {
        for e in rd.flatten() {
            let old = e
                .metadata()
                .and_then(|m| m.modified())
                .ok()
                .and_then(|t| t.elapsed().ok())
                .is_some_and(|age| age > minute);
            if old {
                let _ = std::fs::remove_file(e.path());
            }
        }
    }
    let name = crate::random::string(16, b"abcdefghijklmnopqrstuvwxyz0123456789");
    let path = dir.join(format!("{name}.html"));
    // The URL's values are percent-encoded: no quote or angle bracket can end the attribute;
    // its `&`s are written as HTML wants them in one.
    let url = url.replace('&', "&amp;");
    let html = format!(
        "<!doctype html><meta charset=\"utf-8\"><meta name=\"referrer\" content=\"no-referrer\"><meta http-equiv=\"refresh\" content=\"0;url={url}\"><title>AWS console</title><a href=\"{url}\">Open the AWS console</a>\n"
    );
    crate::files::write_atomic(&path, html.as_bytes(), crate::files::Existing::Private)?;
    Ok(path)
}

#[cfg(test)]
mod tests {
    use super::destination;

    #[test]
    fn destinations_by_url_service_or_home_in_the_partition() {
        assert_eq!(
            destination(Some("s3"), Some("eu-west-1")).unwrap(),
            "https://console.aws.amazon.com/s3/home?region=eu-west-1"
        );
        assert_eq!(
            destination(None, Some("cn-north-1")).unwrap(),
            "https://console.amazonaws.cn/console/home?region=cn-north-1"
        );
        assert_eq!(
            destination(Some("ec2"), Some("us-gov-west-1")).unwrap(),
            "https://console.amazonaws-us-gov.com/ec2/home?region=us-gov-west-1"
        );
        assert_eq!(
            destination(Some("https://x.example/y"), None).unwrap(),
            "https://x.example/y"
        );
        assert!(destination(Some("javascript:alert(1)"), None).is_err());
    }
}
