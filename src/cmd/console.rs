//! `ssoenv console [PROFILE] [--print] [--destination URL-or-service] [--region R]`: the AWS
//! console, signed in as an SSO profile, through the access portal's shortcut link
//! (`<start URL>/#/console?account_id=…&role_name=…&destination=…`). The link carries no
//! credential — the portal signs the browser in with its own session — and works with the
//! console's multi-session mode. `--print` prints it instead of opening a browser.

use crate::cli::ConsoleArgs;
use crate::config;
use crate::error::{Error, Result};
use crate::http::encode;

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
