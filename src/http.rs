//! HTTP for the two AWS APIs: one `ureq::Agent` with bounded timeouts, a user agent, the
//! proxy from `HTTPS_PROXY`/`NO_PROXY`, the CA bundle from `AWS_CA_BUNDLE` (or `ca_bundle`),
//! endpoint resolution as every AWS SDK does it, bounded jittered retries, and the mapping of
//! AWS error responses into [`Error`]. Secrets go in headers and bodies, never in a message.

use std::time::{Duration, Instant};

use crate::error::{Error, Result};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Service {
    /// The SSO portal (`portal.sso.{region}`), env suffix `SSO`.
    Portal,
    /// SSO OIDC (`oidc.{region}`), env suffix `SSO_OIDC`.
    Oidc,
    /// STS (`sts.{region}`), env suffix `STS`.
    Sts,
}

impl Service {
    /// The host name's first label, plain and FIPS.
    fn names(self) -> (&'static str, &'static str) {
        match self {
            Service::Portal => ("portal.sso", "portal.sso-fips"),
            Service::Oidc => ("oidc", "oidc-fips"),
            Service::Sts => ("sts", "sts-fips"),
        }
    }

    /// `AWS_ENDPOINT_URL_<this>`.
    fn variable(self) -> &'static str {
        match self {
            Service::Portal => "AWS_ENDPOINT_URL_SSO",
            Service::Oidc => "AWS_ENDPOINT_URL_SSO_OIDC",
            Service::Sts => "AWS_ENDPOINT_URL_STS",
        }
    }
}

/// An AWS partition as botocore's `partitions.json` describes it: the regions it names, the
/// shape of its region names, its DNS suffixes.
struct Partition {
    regions: &'static [&'static str],
    /// The region-name prefixes of its `regionRegex` (`^PREFIX-\w+-\d+$`).
    prefixes: &'static [&'static str],
    dns: &'static str,
    dual_stack_dns: &'static str,
    us_gov: bool,
}

/// In botocore's order: the first that names the region or whose pattern it matches wins,
/// else the first. (The table test compares every region with botocore's resolver.)
const PARTITIONS: &[Partition] = &[
    Partition {
        regions: &["aws-global"],
        prefixes: &["us", "eu", "ap", "sa", "ca", "me", "af", "il", "mx"],
        dns: "amazonaws.com",
        dual_stack_dns: "api.aws",
        us_gov: false,
    },
    Partition {
        regions: &["aws-cn-global"],
        prefixes: &["cn"],
        dns: "amazonaws.com.cn",
        dual_stack_dns: "api.amazonwebservices.com.cn",
        us_gov: false,
    },
    Partition {
        regions: &[],
        prefixes: &["eusc-de"],
        dns: "amazonaws.eu",
        dual_stack_dns: "api.amazonwebservices.eu",
        us_gov: false,
    },
    Partition {
        regions: &["aws-iso-global"],
        prefixes: &["us-iso"],
        dns: "c2s.ic.gov",
        dual_stack_dns: "api.aws.ic.gov",
        us_gov: false,
    },
    Partition {
        regions: &["aws-iso-b-global"],
        prefixes: &["us-isob"],
        dns: "sc2s.sgov.gov",
        dual_stack_dns: "api.aws.scloud",
        us_gov: false,
    },
    Partition {
        regions: &["aws-iso-e-global"],
        prefixes: &["eu-isoe"],
        dns: "cloud.adc-e.uk",
        dual_stack_dns: "api.cloud-aws.adc-e.uk",
        us_gov: false,
    },
    Partition {
        regions: &["aws-iso-f-global"],
        prefixes: &["us-isof"],
        dns: "csp.hci.ic.gov",
        dual_stack_dns: "api.aws.hci.ic.gov",
        us_gov: false,
    },
    Partition {
        regions: &["aws-us-gov-global"],
        prefixes: &["us-gov"],
        dns: "amazonaws.com",
        dual_stack_dns: "api.aws",
        us_gov: true,
    },
];

/// `^PREFIX-\w+-\d+$` for one of the prefixes.
fn shaped(region: &str, prefixes: &[&str]) -> bool {
    prefixes.iter().any(|p| {
        let Some(rest) = region.strip_prefix(p).and_then(|r| r.strip_prefix('-')) else {
            return false;
        };
        let Some((word, digits)) = rest.split_once('-') else {
            return false;
        };
        !word.is_empty()
            && word.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
            && !digits.is_empty()
            && digits.bytes().all(|b| b.is_ascii_digit())
    })
}

fn partition(region: &str) -> &'static Partition {
    PARTITIONS
        .iter()
        .find(|p| p.regions.contains(&region) || shaped(region, p.prefixes))
        .unwrap_or(&PARTITIONS[0])
}

/// The endpoint variant a profile or the environment asks for.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Variant {
    pub fips: bool,
    pub dual_stack: bool,
}

/// The regional endpoint of a service, by the services' endpoint rule sets.
pub fn regional(service: Service, region: &str, v: Variant) -> String {
    let p = partition(region);
    let (plain, fips) = service.names();
    let name = if v.fips { fips } else { plain };
    if v.fips && !v.dual_stack && p.us_gov {
        // GovCloud's FIPS endpoints are its plain ones.
        return format!("https://{plain}.{region}.amazonaws.com");
    }
    let suffix = if v.dual_stack {
        p.dual_stack_dns
    } else {
        p.dns
    };
    format!("https://{name}.{region}.{suffix}")
}

/// The endpoint for a service: `AWS_ENDPOINT_URL_<SERVICE>`, then `AWS_ENDPOINT_URL`, then the
/// config file's override, then the regional endpoint of the region's partition (FIPS and
/// dual-stack variants as asked). `AWS_IGNORE_CONFIGURED_ENDPOINT_URLS` turns the overrides
/// off, as in the SDKs.
pub fn endpoint(service: Service, region: &str, configured: Option<&str>) -> String {
    endpoint_variant(service, region, configured, Variant::default())
}

pub fn endpoint_variant(
    service: Service,
    region: &str,
    configured: Option<&str>,
    variant: Variant,
) -> String {
    let ignore = std::env::var("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS")
        .is_ok_and(|v| v.eq_ignore_ascii_case("true"));
    if !ignore {
        for var in [service.variable(), "AWS_ENDPOINT_URL"] {
            if let Ok(v) = std::env::var(var)
                && !v.is_empty()
            {
                return v.trim_end_matches('/').to_string();
            }
        }
        if let Some(c) = configured {
            return c.trim_end_matches('/').to_string();
        }
    }
    regional(service, region, variant)
}

/// The regions STS answers on its global endpoint when `sts_regional_endpoints = legacy`
/// (the rule set's list).
const STS_LEGACY_GLOBAL: &[&str] = &[
    "ap-northeast-1",
    "ap-south-1",
    "ap-southeast-1",
    "ap-southeast-2",
    "aws-global",
    "ca-central-1",
    "eu-central-1",
    "eu-north-1",
    "eu-west-1",
    "eu-west-2",
    "eu-west-3",
    "sa-east-1",
    "us-east-1",
    "us-east-2",
    "us-west-1",
    "us-west-2",
];

/// STS's endpoint and signing region as botocore resolves them: the overrides as for every
/// service; without a region, the global endpoint (signed for us-east-1), or no signing
/// region at all for an override (botocore cannot sign then: "You must specify a region");
/// `aws-global`, or a legacy-list region with `sts_regional_endpoints = legacy`, the global
/// endpoint too; else the regional one.
pub fn sts_endpoint(
    region: Option<&str>,
    configured: Option<&str>,
    variant: Variant,
    legacy: bool,
) -> (String, Option<String>) {
    const GLOBAL: &str = "https://sts.amazonaws.com";
    let Some(region) = region else {
        let url = endpoint_variant(Service::Sts, "us-east-1", configured, variant);
        if url != regional(Service::Sts, "us-east-1", variant) {
            return (url, None);
        }
        let url = if variant == Variant::default() {
            GLOBAL.to_string()
        } else {
            url
        };
        return (url, Some("us-east-1".into()));
    };
    let url = endpoint_variant(Service::Sts, region, configured, variant);
    let global = variant == Variant::default()
        && url == regional(Service::Sts, region, variant)
        && (region == "aws-global" || (legacy && STS_LEGACY_GLOBAL.contains(&region)));
    if global {
        (GLOBAL.to_string(), Some("us-east-1".into()))
    } else {
        (url, Some(region.to_string()))
    }
}

impl crate::config::Login {
    /// This login's endpoint for a service, overrides included.
    pub fn endpoint(&self, service: Service) -> String {
        let configured = match service {
            Service::Portal => self.portal_endpoint.as_deref(),
            Service::Oidc => self.oidc_endpoint.as_deref(),
            Service::Sts => None,
        };
        let variant = Variant {
            fips: self.fips,
            dual_stack: self.dual_stack,
        };
        endpoint_variant(service, &self.region, configured, variant)
    }
}

impl crate::config::Chain {
    /// The STS endpoint of a role chain and the region requests are signed for (none: an
    /// endpoint override and no region).
    pub fn sts(&self) -> (String, Option<String>) {
        let variant = Variant {
            fips: self.fips,
            dual_stack: self.dual_stack,
        };
        sts_endpoint(
            self.region.as_deref(),
            self.sts_endpoint.as_deref(),
            variant,
            self.legacy_sts,
        )
    }
}

/// A response: status, the AWS error name if any, and the body.
#[derive(Debug)]
pub struct Reply {
    pub status: u16,
    pub error_type: Option<String>,
    pub body: String,
}

pub enum Body<'a> {
    None,
    Json(&'a str),
    /// A body sent as it is; its content type is among the request's headers.
    Raw(&'a str),
}

pub struct Client {
    agent: ureq::Agent,
    timeout: Duration,
}

const ATTEMPTS: u32 = 3;

/// The per-attempt budget: `SSOENV_TIMEOUT` seconds, default 10.
fn timeout() -> Duration {
    checked_timeout()
        .ok()
        .flatten()
        .unwrap_or(Duration::from_secs(10))
}

/// `SSOENV_TIMEOUT` when set: seconds above 0 and below 3600, or an error naming it.
pub fn checked_timeout() -> Result<Option<Duration>> {
    crate::messages::setting("SSOENV_TIMEOUT", "seconds above 0 and below 3600", |v| {
        v.parse::<f64>()
            .ok()
            .filter(|s| *s > 0.0 && *s < 3600.0)
            .map(Duration::from_secs_f64)
    })
    .map_err(Error::Other)
}

/// Whether the operating system has a certificate store to verify with: always on macOS and
/// Windows; on other Unixes when `SSL_CERT_FILE`/`SSL_CERT_DIR` name one or a usual bundle
/// exists. Without one, the built-in (Mozilla) roots are used.
fn system_roots() -> bool {
    if cfg!(any(target_os = "macos", target_os = "windows")) {
        return true;
    }
    let set = |v: &str| std::env::var_os(v).is_some_and(|x| !x.is_empty());
    set("SSL_CERT_FILE")
        || set("SSL_CERT_DIR")
        || [
            "/etc/ssl/certs/ca-certificates.crt",
            "/etc/pki/tls/certs/ca-bundle.crt",
            "/etc/ssl/ca-bundle.pem",
            "/etc/ssl/cert.pem",
            "/etc/pki/ca-trust/extracted/pem/tls-ca-bundle.pem",
        ]
        .iter()
        .any(|p| std::path::Path::new(p).is_file())
}

impl Client {
    /// `ca_bundle` from the profile; `AWS_CA_BUNDLE` wins, as in the CLI. Without either, the
    /// operating system's trust store ([`system_roots`]), else the built-in roots.
    pub fn new(ca_bundle: Option<&str>) -> Result<Client> {
        let timeout = timeout();
        let mut tls = ureq::tls::TlsConfig::builder();
        let bundle = std::env::var("AWS_CA_BUNDLE")
            .ok()
            .filter(|s| !s.is_empty())
            .or(ca_bundle.map(str::to_string));
        if let Some(path) = bundle {
            let pem = crate::files::read_bounded(path.as_ref(), crate::files::CA_BUNDLE_CAP)?
                .ok_or_else(|| {
                    Error::io(&path, "read CA bundle", std::io::ErrorKind::NotFound.into())
                })?;
            let certs: Vec<_> = ureq::tls::parse_pem(&pem)
                .filter_map(|item| match item {
                    Ok(ureq::tls::PemItem::Certificate(c)) => Some(c),
                    _ => None,
                })
                .collect();
            if certs.is_empty() {
                return Err(Error::BadFile {
                    path: path.into(),
                    message: "CA bundle holds no PEM certificate".into(),
                });
            }
            tls = tls.root_certs(ureq::tls::RootCerts::new_with_certs(&certs));
        } else if system_roots() {
            // The operating system's store (a corporate CA installed there is trusted).
            tls = tls.root_certs(ureq::tls::RootCerts::PlatformVerifier);
        }
        let config = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .user_agent(concat!("ssoenv/", env!("CARGO_PKG_VERSION")))
            .proxy(ureq::Proxy::try_from_env())
            .timeout_connect(Some(timeout.min(Duration::from_secs(5))))
            .timeout_global(Some(timeout))
            .max_redirects(0)
            .tls_config(tls.build())
            .build();
        Ok(Client {
            agent: config.into(),
            timeout,
        })
    }

    /// Sends a request, retrying 429, 5xx and failed connections with jittered exponential
    /// backoff, at most [`ATTEMPTS`] times. Never retries other 4xx, nor a request that
    /// timed out waiting for an answer (the budget is spent: a shell must not hang).
    pub fn send(
        &self,
        operation: &'static str,
        base: &str,
        method: &str,
        path_and_query: &str,
        headers: &[(&str, &str)],
        body: Body<'_>,
    ) -> Result<Reply> {
        let url = format!("{base}{path_and_query}");
        let started = Instant::now();
        let mut attempt = 0;
        loop {
            attempt += 1;
            crate::debug!(
                "{operation}: {method} {base}{} (attempt {attempt})",
                strip_query(path_and_query)
            );
            let outcome = self.once(&url, method, headers, &body);
            let retry = match &outcome {
                Ok(r) => r.status == 429 || (500..600).contains(&r.status),
                Err(Failure::Connect(_)) => true,
                Err(Failure::Timeout | Failure::Other(_)) => false,
            };
            match &outcome {
                Ok(r) => crate::debug!(
                    "{operation}: HTTP {} {} after {} ms",
                    r.status,
                    r.error_type.as_deref().unwrap_or(""),
                    started.elapsed().as_millis()
                ),
                Err(f) => crate::debug!("{operation}: {}", f.message()),
            }
            if retry && attempt < ATTEMPTS && started.elapsed() < self.timeout {
                std::thread::sleep(backoff(attempt));
                continue;
            }
            return match outcome {
                Ok(r) => Ok(r),
                Err(f) => Err(Error::Network {
                    endpoint: base.to_string(),
                    message: format!("{operation}: {}", f.message()),
                }),
            };
        }
    }

    fn once(
        &self,
        url: &str,
        method: &str,
        headers: &[(&str, &str)],
        body: &Body<'_>,
    ) -> std::result::Result<Reply, Failure> {
        let result = match method {
            "GET" => {
                let mut rb = self.agent.get(url);
                for (k, v) in headers {
                    rb = rb.header(*k, *v);
                }
                rb.call()
            }
            _ => {
                let mut rb = self.agent.post(url);
                for (k, v) in headers {
                    rb = rb.header(*k, *v);
                }
                match body {
                    Body::Json(j) => rb.header("content-type", "application/json").send(*j),
                    Body::Raw(t) => rb.send(*t),
                    Body::None => rb.send_empty(),
                }
            }
        };
        let mut resp = result.map_err(Failure::from)?;
        let status = resp.status().as_u16();
        let error_type = resp
            .headers()
            .get("x-amzn-errortype")
            .and_then(|v| v.to_str().ok())
            .map(|v| v.split(':').next().unwrap_or(v).trim().to_string())
            .filter(|v| !v.is_empty());
        let body = resp
            .body_mut()
            .with_config()
            .limit(1 << 20)
            .read_to_string()
            .map_err(Failure::from)?;
        Ok(Reply {
            status,
            error_type,
            body,
        })
    }
}

fn strip_query(p: &str) -> &str {
    p.split('?').next().unwrap_or(p)
}

enum Failure {
    Connect(String),
    Timeout,
    Other(String),
}

impl Failure {
    fn message(&self) -> String {
        match self {
            Failure::Connect(m) => format!("cannot connect: {m}"),
            Failure::Timeout => {
                "no answer in time; SSOENV_TIMEOUT sets the limit in seconds".to_string()
            }
            Failure::Other(m) => m.clone(),
        }
    }
}

impl From<ureq::Error> for Failure {
    fn from(e: ureq::Error) -> Failure {
        match e {
            ureq::Error::Timeout(_) => Failure::Timeout,
            ureq::Error::ConnectionFailed | ureq::Error::HostNotFound => {
                Failure::Connect(e.to_string())
            }
            ureq::Error::Io(io) => match io.kind() {
                std::io::ErrorKind::ConnectionRefused
                | std::io::ErrorKind::ConnectionReset
                | std::io::ErrorKind::ConnectionAborted
                | std::io::ErrorKind::UnexpectedEof
                | std::io::ErrorKind::BrokenPipe => Failure::Connect(io.to_string()),
                std::io::ErrorKind::TimedOut | std::io::ErrorKind::WouldBlock => Failure::Timeout,
                _ => Failure::Other(io.to_string()),
            },
            other => Failure::Other(other.to_string()),
        }
    }
}

/// Full jitter: a random wait in [0, 200 ms * 2^attempt].
fn backoff(attempt: u32) -> Duration {
    let cap_ms = 200u64 << attempt.min(6);
    let r = u64::from(crate::random::u32());
    Duration::from_millis(r % (cap_ms + 1))
}

/// An AWS error response, parsed from the `x-amzn-ErrorType` header and/or the JSON body
/// (`__type`, `code`, `error`; `message`, `Message`, `error_description`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AwsError {
    pub status: u16,
    pub code: String,
    pub message: String,
}

impl AwsError {
    pub fn from_reply(r: &Reply) -> AwsError {
        if r.body.trim_start().starts_with('<') {
            // The query protocol (STS): `ErrorResponse › Error › {Type, Code, Message}`.
            let code = xml_text(&r.body, "Code")
                .or_else(|| r.error_type.clone())
                .unwrap_or_else(|| format!("HTTP{}", r.status));
            return AwsError {
                status: r.status,
                code,
                message: xml_text(&r.body, "Message")
                    .unwrap_or_default()
                    .chars()
                    .take(300)
                    .collect(),
            };
        }
        let json: serde_json::Value = serde_json::from_str(&r.body).unwrap_or_default();
        let s = |k: &str| json.get(k).and_then(|v| v.as_str()).map(str::to_string);
        let code = r
            .error_type
            .clone()
            .or_else(|| s("__type").map(|t| t.rsplit('#').next().unwrap_or(&t).to_string()))
            .or_else(|| s("code"))
            .or_else(|| s("error").map(|e| oidc_error_name(&e)))
            .unwrap_or_else(|| format!("HTTP{}", r.status));
        let message = s("message")
            .or_else(|| s("Message"))
            .or_else(|| s("error_description"))
            .unwrap_or_default();
        AwsError {
            status: r.status,
            code,
            message: message.chars().take(300).collect(),
        }
    }

    pub fn into_error(self, endpoint: &str, operation: &'static str) -> Error {
        Error::Aws {
            endpoint: endpoint.to_string(),
            operation,
            status: self.status,
            code: self.code,
            message: self.message,
        }
    }
}

/// The text of the first `<tag>…</tag>` element of an XML answer, entities decoded. The AWS
/// query protocol's answers are flat enough for this: no attributes on the elements read,
/// no CDATA, names unique where they are read.
pub fn xml_text(xml: &str, tag: &str) -> Option<String> {
    let open = format!("<{tag}>");
    let close = format!("</{tag}>");
    let start = xml.find(&open)? + open.len();
    let end = start + xml[start..].find(&close)?;
    let raw = &xml[start..end];
    let mut out = String::with_capacity(raw.len());
    let mut rest = raw;
    while let Some(at) = rest.find('&') {
        out.push_str(&rest[..at]);
        let after = &rest[at + 1..];
        let Some(semi) = after.find(';').filter(|&i| i <= 10) else {
            out.push('&');
            rest = after;
            continue;
        };
        let entity = &after[..semi];
        let c = match entity {
            "amp" => Some('&'),
            "lt" => Some('<'),
            "gt" => Some('>'),
            "quot" => Some('"'),
            "apos" => Some('\''),
            _ => entity
                .strip_prefix("#x")
                .and_then(|h| u32::from_str_radix(h, 16).ok())
                .or_else(|| entity.strip_prefix('#').and_then(|d| d.parse().ok()))
                .and_then(char::from_u32),
        };
        match c {
            Some(c) => {
                out.push(c);
                rest = &after[semi + 1..];
            }
            None => {
                out.push('&');
                rest = after;
            }
        }
    }
    out.push_str(rest);
    Some(out)
}

/// OAuth error codes (RFC 6749 §5.2, RFC 8628 §3.5) as the OIDC API names its exceptions.
fn oidc_error_name(e: &str) -> String {
    match e {
        "authorization_pending" => "AuthorizationPendingException",
        "slow_down" => "SlowDownException",
        "expired_token" => "ExpiredTokenException",
        "access_denied" => "AccessDeniedException",
        "invalid_grant" => "InvalidGrantException",
        "invalid_client" => "InvalidClientException",
        "invalid_request" => "InvalidRequestException",
        "invalid_scope" => "InvalidScopeException",
        "unauthorized_client" => "UnauthorizedClientException",
        "unsupported_grant_type" => "UnsupportedGrantTypeException",
        "server_error" => "InternalServerException",
        other => other,
    }
    .to_string()
}

/// Percent-encodes a query value (RFC 3986 unreserved characters pass).
pub fn encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reply(status: u16, error_type: Option<&str>, body: &str) -> Reply {
        Reply {
            status,
            error_type: error_type.map(str::to_string),
            body: body.to_string(),
        }
    }

    #[test]
    fn error_name_from_header_body_type_or_oauth_code() {
        let e = AwsError::from_reply(&reply(
            401,
            Some("UnauthorizedException"),
            r#"{"message":"Session token not found or invalid"}"#,
        ));
        assert_eq!(e.code, "UnauthorizedException");
        assert_eq!(e.message, "Session token not found or invalid");
        let e = AwsError::from_reply(&reply(
            400,
            None,
            r#"{"__type":"com.amazonaws.sso#ForbiddenException","Message":"No access"}"#,
        ));
        assert_eq!(
            (e.code.as_str(), e.message.as_str()),
            ("ForbiddenException", "No access")
        );
        let e = AwsError::from_reply(&reply(
            400,
            None,
            r#"{"error":"invalid_grant","error_description":"gone"}"#,
        ));
        assert_eq!(e.code, "InvalidGrantException");
        assert_eq!(
            AwsError::from_reply(&reply(502, None, "<html>")).code,
            "HTTP502"
        );
    }

    #[test]
    fn query_protocol_errors_and_xml_text() {
        let e = AwsError::from_reply(&reply(
            403,
            None,
            "<ErrorResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\"><Error><Type>Sender</Type><Code>AccessDenied</Code><Message>User: a &amp; b &lt;x&gt; &#233;</Message></Error></ErrorResponse>",
        ));
        assert_eq!(
            (e.code.as_str(), e.message.as_str()),
            ("AccessDenied", "User: a & b <x> é")
        );
        assert_eq!(xml_text("<a>&bogus; &</a>", "a").unwrap(), "&bogus; &");
        assert_eq!(xml_text("<a>x</a>", "b"), None);
    }

    #[test]
    fn sts_is_global_without_a_region_and_for_legacy_regions_only_when_asked() {
        let plain = Variant::default();
        let fips = Variant {
            fips: true,
            dual_stack: false,
        };
        let at = |r: Option<&str>, v, legacy| sts_endpoint(r, None, v, legacy);
        assert_eq!(
            at(None, plain, false),
            ("https://sts.amazonaws.com".into(), Some("us-east-1".into()))
        );
        assert_eq!(
            sts_endpoint(None, Some("http://127.0.0.1:9"), plain, false),
            ("http://127.0.0.1:9".into(), None)
        );
        assert_eq!(
            at(Some("eu-west-1"), plain, false),
            (
                "https://sts.eu-west-1.amazonaws.com".into(),
                Some("eu-west-1".into())
            )
        );
        assert_eq!(
            at(Some("eu-west-1"), plain, true).0,
            "https://sts.amazonaws.com"
        );
        assert_eq!(
            at(Some("ap-east-1"), plain, true).0,
            "https://sts.ap-east-1.amazonaws.com"
        );
        assert_eq!(
            at(Some("eu-west-1"), fips, true).0,
            "https://sts-fips.eu-west-1.amazonaws.com"
        );
        assert_eq!(
            at(Some("us-gov-west-1"), fips, false).0,
            "https://sts.us-gov-west-1.amazonaws.com"
        );
        assert_eq!(
            sts_endpoint(Some("eu-west-1"), Some("http://127.0.0.1:9/"), plain, true),
            ("http://127.0.0.1:9".into(), Some("eu-west-1".into()))
        );
    }

    #[test]
    fn query_values_are_percent_encoded() {
        assert_eq!(encode("a b&c=d/é"), "a%20b%26c%3Dd%2F%C3%A9");
        assert_eq!(encode("Admin-Role_1.x~"), "Admin-Role_1.x~");
    }
}
