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

/// The regional endpoint of the SSO portal or SSO OIDC, by the services' endpoint rule sets.
pub fn regional(service: Service, region: &str, v: Variant) -> String {
    let p = partition(region);
    let name = match (service, v.fips) {
        (Service::Portal, false) => "portal.sso",
        (Service::Portal, true) => "portal.sso-fips",
        (Service::Oidc, false) => "oidc",
        (Service::Oidc, true) => "oidc-fips",
    };
    if v.fips && !v.dual_stack && p.us_gov {
        // GovCloud's FIPS endpoints are its plain ones.
        let plain = match service {
            Service::Portal => "portal.sso",
            Service::Oidc => "oidc",
        };
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
        let specific = match service {
            Service::Portal => "AWS_ENDPOINT_URL_SSO",
            Service::Oidc => "AWS_ENDPOINT_URL_SSO_OIDC",
        };
        for var in [specific, "AWS_ENDPOINT_URL"] {
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

impl crate::config::Login {
    /// This login's endpoint for a service, overrides included.
    pub fn endpoint(&self, service: Service) -> String {
        let configured = match service {
            Service::Portal => self.portal_endpoint.as_deref(),
            Service::Oidc => self.oidc_endpoint.as_deref(),
        };
        let variant = Variant {
            fips: self.fips,
            dual_stack: self.dual_stack,
        };
        endpoint_variant(service, &self.region, configured, variant)
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
    fn query_values_are_percent_encoded() {
        assert_eq!(encode("a b&c=d/é"), "a%20b%26c%3Dd%2F%C3%A9");
        assert_eq!(encode("Admin-Role_1.x~"), "Admin-Role_1.x~");
    }
}
