//! STS over the query protocol: AssumeRole (a form-encoded POST signed with SigV4 in the
//! `Authorization` header) and GetCallerIdentity (a presigned GET, as an EKS token carries it).
//! Every request must verify with the secret key the mock itself issued (by the portal or an
//! earlier AssumeRole) and carry that session's token; expired credentials, unknown keys and
//! wrong signatures are refused as STS refuses them, with its XML error shapes.
//!
//! The SigV4 check is written here from the specification, independently of the binary's
//! signer: canonical request, string to sign, the HMAC-SHA256 key chain.

use super::*;
use ring::{digest, hmac};

/// Credentials the mock handed out, by access key id: what a signature is checked against.
#[derive(Clone, Debug)]
pub(super) struct Issued {
    pub(super) secret: String,
    pub(super) token: String,
    pub(super) expiration_ms: i64,
    /// Whose they are: `arn:aws:sts::ACCOUNT:assumed-role/ROLE/SESSION`.
    pub(super) arn: String,
    /// Issued by AssumeRole (a role session from a role session: role chaining).
    pub(super) assumed: bool,
}

/// New credentials (or `given` ones), recorded as issued to `arn` for the signature checks.
pub(super) fn issue(
    inner: &Inner,
    s: &mut State,
    given: Option<Creds>,
    lifetime: Duration,
    arn: &str,
    assumed: bool,
) -> Creds {
    let c = given.unwrap_or_else(|| Creds {
        access_key_id: random(inner, "ASIA", 20).to_uppercase(),
        secret_access_key: random(inner, "", 40),
        session_token: random(inner, "IQoJb3JpZ2luX2VjE", 200),
        expiration_ms: epoch_ms() + lifetime.as_millis() as i64,
    });
    s.issued.insert(
        c.access_key_id.clone(),
        Issued {
            secret: c.secret_access_key.clone(),
            token: c.session_token.clone(),
            expiration_ms: c.expiration_ms,
            arn: arn.to_string(),
            assumed,
        },
    );
    c
}

/// One AssumeRole the mock answered, for the tests to inspect.
#[derive(Clone, Debug)]
pub struct AssumedRole {
    pub role_arn: String,
    pub session_name: String,
    /// The access key id that signed the request.
    pub source_key: String,
    /// The region in the signature's scope.
    pub region: String,
    pub duration_seconds: Option<i64>,
    pub external_id: Option<String>,
    pub serial_number: Option<String>,
    pub token_code: Option<String>,
    pub creds: Creds,
}

/// What a role demands of whoever assumes it.
#[derive(Clone, Debug, Default)]
pub(super) struct RoleRule {
    pub(super) external_id: Option<String>,
    /// `SerialNumber` and the code that is right.
    pub(super) mfa: Option<(String, String)>,
    pub(super) denied: bool,
}

pub(super) fn error(status: u16, code: &str, message: &str) -> Response {
    let kind = if status >= 500 { "Receiver" } else { "Sender" };
    Response {
        status,
        headers: vec![("Content-Type".into(), "text/xml".into())],
        body: format!(
            "<ErrorResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\">\n  <Error>\n    <Type>{kind}</Type>\n    <Code>{code}</Code>\n    <Message>{}</Message>\n  </Error>\n  <RequestId>4ab1c2d3-0000-4000-8000-000000000000</RequestId>\n</ErrorResponse>\n",
            xml_escape(message)
        ),
    }
}

fn xml_escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

fn sha256_hex(data: &[u8]) -> String {
    hex::encode(digest::digest(&digest::SHA256, data))
}

fn hmac(key: &[u8], data: &[u8]) -> Vec<u8> {
    hmac::sign(&hmac::Key::new(hmac::HMAC_SHA256, key), data)
        .as_ref()
        .to_vec()
}

/// The route of a request to `/`: STS's action, from the query (GET) or the form body (POST).
pub(super) fn sts_route(req: &Request) -> Route {
    let params = if req.method == "POST" {
        query_params(&String::from_utf8_lossy(&req.body))
    } else {
        query_params(&req.query)
    };
    match params
        .iter()
        .find(|(k, _)| k == "Action")
        .map(|(_, v)| v.as_str())
    {
        Some("AssumeRole") if req.method == "POST" => Route::AssumeRole,
        Some("GetCallerIdentity") => Route::GetCallerIdentity,
        _ => Route::Other,
    }
}

/// What a verified signature tells: who signed, and for which region.
struct Signer {
    key: String,
    region: String,
    issued: Issued,
}

/// The SigV4 parts of a request, from its header or its query.
struct Parts {
    key: String,
    date: String,
    region: String,
    service: String,
    signed_headers: Vec<String>,
    signature: String,
    amz_date: String,
    token: Option<String>,
}

fn parse_credential(credential: &str) -> Option<(String, String, String, String)> {
    let mut it = credential.split('/');
    let key = it.next()?.to_string();
    let date = it.next()?.to_string();
    let region = it.next()?.to_string();
    let service = it.next()?.to_string();
    (it.next()? == "aws4_request" && it.next().is_none()).then_some((key, date, region, service))
}

fn header_parts(req: &Request) -> Option<Parts> {
    let auth = req.header("authorization")?;
    let rest = auth.strip_prefix("AWS4-HMAC-SHA256 ")?;
    let mut credential = None;
    let mut signed = None;
    let mut signature = None;
    for part in rest.split(',') {
        let (k, v) = part.trim().split_once('=')?;
        match k {
            "Credential" => credential = Some(v),
            "SignedHeaders" => signed = Some(v),
            "Signature" => signature = Some(v),
            _ => return None,
        }
    }
    let (key, date, region, service) = parse_credential(credential?)?;
    Some(Parts {
        key,
        date,
        region,
        service,
        signed_headers: signed?.split(';').map(str::to_string).collect(),
        signature: signature?.to_string(),
        amz_date: req.header("x-amz-date")?.to_string(),
        token: req.header("x-amz-security-token").map(str::to_string),
    })
}

fn query_parts(params: &[(String, String)]) -> Option<Parts> {
    let get = |k: &str| params.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone());
    if get("X-Amz-Algorithm")? != "AWS4-HMAC-SHA256" {
        return None;
    }
    let (key, date, region, service) = parse_credential(&get("X-Amz-Credential")?)?;
    Some(Parts {
        key,
        date,
        region,
        service,
        signed_headers: get("X-Amz-SignedHeaders")?
            .split(';')
            .map(str::to_string)
            .collect(),
        signature: get("X-Amz-Signature")?,
        amz_date: get("X-Amz-Date")?,
        token: get("X-Amz-Security-Token"),
    })
}

/// `20261125T120005Z` as epoch seconds.
fn amz_epoch(d: &str) -> Option<i64> {
    let format = time::macros::format_description!("[year][month][day]T[hour][minute][second]Z");
    let t = time::PrimitiveDateTime::parse(d, format).ok()?;
    Some(t.assume_utc().unix_timestamp())
}

/// Checks a request's SigV4 signature against the credentials the mock issued; the error
/// answer when it does not verify.
fn verify(s: &State, req: &Request, presigned: bool) -> Result<Signer, Response> {
    let params = query_params(&req.query);
    let parts = if presigned {
        query_parts(&params)
    } else {
        header_parts(req)
    };
    let Some(p) = parts else {
        return Err(error(
            403,
            "MissingAuthenticationToken",
            "Request is missing Authentication Token",
        ));
    };
    let Some(issued) = s.issued.get(&p.key).cloned() else {
        return Err(error(
            403,
            "InvalidClientTokenId",
            "The security token included in the request is invalid.",
        ));
    };
    if p.token.as_deref() != Some(issued.token.as_str())
        || (!presigned && !p.signed_headers.iter().any(|h| h == "x-amz-security-token"))
    {
        return Err(error(
            403,
            "InvalidClientTokenId",
            "The security token included in the request is invalid.",
        ));
    }
    if issued.expiration_ms <= epoch_ms() {
        return Err(error(
            403,
            "ExpiredToken",
            "The security token included in the request is expired",
        ));
    }
    let Some(signed_at) = amz_epoch(&p.amz_date) else {
        return Err(error(
            400,
            "IncompleteSignature",
            "X-Amz-Date is not a date",
        ));
    };
    if p.service != "sts" || !p.amz_date.starts_with(&p.date) {
        return Err(error(
            403,
            "SignatureDoesNotMatch",
            "Credential should be scoped to a valid region and service sts",
        ));
    }
    if presigned {
        let expires: i64 = params
            .iter()
            .find(|(k, _)| k == "X-Amz-Expires")
            .and_then(|(_, v)| v.parse().ok())
            .unwrap_or(-1);
        if !(1..=900).contains(&expires) || epoch() > signed_at + expires {
            return Err(error(403, "AccessDenied", "Request has expired"));
        }
    } else if (epoch() - signed_at).abs() > 300 {
        return Err(error(
            403,
            "SignatureDoesNotMatch",
            "Signature expired: the request time is too far from the server's",
        ));
    }
    if !p.signed_headers.iter().any(|h| h == "host") {
        return Err(error(403, "SignatureDoesNotMatch", "host must be signed"));
    }
    // The canonical request, rebuilt from what arrived.
    let mut query: Vec<(String, String)> = params
        .iter()
        .filter(|(k, _)| !(presigned && k == "X-Amz-Signature"))
        .map(|(k, v)| (encode(k), encode(v)))
        .collect();
    query.sort();
    let query: Vec<String> = query.iter().map(|(k, v)| format!("{k}={v}")).collect();
    let mut headers = String::new();
    for name in &p.signed_headers {
        let Some(value) = req.header(name) else {
            return Err(error(
                403,
                "SignatureDoesNotMatch",
                &format!("signed header {name} is missing"),
            ));
        };
        let value = value.split_whitespace().collect::<Vec<_>>().join(" ");
        headers.push_str(&format!("{name}:{value}\n"));
    }
    let canonical = format!(
        "{}\n{}\n{}\n{headers}\n{}\n{}",
        req.method,
        req.path,
        query.join("&"),
        p.signed_headers.join(";"),
        sha256_hex(&req.body)
    );
    let scope = format!("{}/{}/sts/aws4_request", p.date, p.region);
    let to_sign = format!(
        "AWS4-HMAC-SHA256\n{}\n{scope}\n{}",
        p.amz_date,
        sha256_hex(canonical.as_bytes())
    );
    let mut k = hmac(
        format!("AWS4{}", issued.secret).as_bytes(),
        p.date.as_bytes(),
    );
    for part in [p.region.as_str(), "sts", "aws4_request"] {
        k = hmac(&k, part.as_bytes());
    }
    if hex::encode(hmac(&k, to_sign.as_bytes())) != p.signature {
        return Err(error(
            403,
            "SignatureDoesNotMatch",
            "The request signature we calculated does not match the signature you provided.",
        ));
    }
    Ok(Signer {
        key: p.key,
        region: p.region,
        issued,
    })
}

pub(super) fn assume_role(inner: &Inner, s: &mut State, req: &Request) -> Response {
    if req
        .header("content-type")
        .is_none_or(|c| !c.starts_with("application/x-www-form-urlencoded"))
    {
        return error(
            400,
            "InvalidAction",
            "Could not find operation for this request",
        );
    }
    let signer = match verify(s, req, false) {
        Ok(v) => v,
        Err(r) => return r,
    };
    let form = query_params(&String::from_utf8_lossy(&req.body));
    let get = |k: &str| form.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone());
    if get("Version").as_deref() != Some("2011-06-15") {
        return error(400, "InvalidAction", "Version must be 2011-06-15");
    }
    let Some(role_arn) = get("RoleArn") else {
        return error(
            400,
            "ValidationError",
            "1 validation error detected: RoleArn",
        );
    };
    let arn: Vec<&str> = role_arn.splitn(6, ':').collect();
    let valid_arn = arn.len() == 6
        && arn[0] == "arn"
        && arn[2] == "iam"
        && arn[4].len() == 12
        && arn[4].bytes().all(|b| b.is_ascii_digit())
        && arn[5].starts_with("role/")
        && arn[5].len() > 5;
    if !valid_arn {
        return error(400, "ValidationError", &format!("{role_arn} is invalid"));
    }
    let session_name = get("RoleSessionName").unwrap_or_default();
    let name_ok = (2..=64).contains(&session_name.len())
        && session_name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"_+=,.@-".contains(&b));
    if !name_ok {
        return error(
            400,
            "ValidationError",
            "1 validation error detected: Value at 'roleSessionName' failed to satisfy constraint",
        );
    }
    let duration = get("DurationSeconds").map(|d| d.parse::<i64>().unwrap_or(-1));
    if let Some(d) = duration {
        if !(900..=43200).contains(&d) {
            return error(
                400,
                "ValidationError",
                "1 validation error detected: Value at 'durationSeconds' failed to satisfy constraint",
            );
        }
        // Every source the mock issues is a role session: this is role chaining.
        if d > 3600 {
            return error(
                400,
                "ValidationError",
                "The requested DurationSeconds exceeds the 1 hour session limit for roles assumed by role chaining.",
            );
        }
    }
    let rule = s.role_rules.get(&role_arn).cloned().unwrap_or_default();
    let role_name = arn[5]
        .trim_start_matches("role/")
        .rsplit('/')
        .next()
        .unwrap_or("");
    let not_authorized = || {
        error(
            403,
            "AccessDenied",
            &format!(
                "User: {} is not authorized to perform: sts:AssumeRole on resource: {role_arn}",
                signer.issued.arn
            ),
        )
    };
    if rule.denied || (rule.external_id.is_some() && rule.external_id != get("ExternalId")) {
        return not_authorized();
    }
    if let Some((serial, code)) = &rule.mfa {
        match (get("SerialNumber"), get("TokenCode")) {
            (Some(sn), Some(tc)) if sn == *serial && tc == *code => {}
            (Some(_), Some(_)) => {
                return error(
                    403,
                    "AccessDenied",
                    "MultiFactorAuthentication failed with invalid MFA one time pass code.",
                );
            }
            _ => return not_authorized(),
        }
    }
    let lifetime = duration
        .map(|d| Duration::from_secs(d as u64))
        .unwrap_or(Duration::from_secs(3600))
        .min(s.sts_lifetime);
    let user_arn = format!(
        "arn:aws:sts::{}:assumed-role/{role_name}/{session_name}",
        arn[4]
    );
    let c = issue(inner, s, None, lifetime, &user_arn, true);
    s.assumed.push(AssumedRole {
        role_arn: role_arn.clone(),
        session_name: session_name.clone(),
        source_key: signer.key,
        region: signer.region,
        duration_seconds: duration,
        external_id: get("ExternalId"),
        serial_number: get("SerialNumber"),
        token_code: get("TokenCode"),
        creds: c.clone(),
    });
    let expiration = iso_ms(c.expiration_ms);
    Response {
        status: 200,
        headers: vec![("Content-Type".into(), "text/xml".into())],
        body: format!(
            "<AssumeRoleResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\">\n  <AssumeRoleResult>\n    <SourceIdentity/>\n    <AssumedRoleUser>\n      <AssumedRoleId>AROA{}:{session_name}</AssumedRoleId>\n      <Arn>{}</Arn>\n    </AssumedRoleUser>\n    <Credentials>\n      <AccessKeyId>{}</AccessKeyId>\n      <SecretAccessKey>{}</SecretAccessKey>\n      <SessionToken>{}</SessionToken>\n      <Expiration>{expiration}</Expiration>\n    </Credentials>\n    <PackedPolicySize>6</PackedPolicySize>\n  </AssumeRoleResult>\n  <ResponseMetadata>\n    <RequestId>c6104cbe-af31-11e0-8154-cbc7ccf896c7</RequestId>\n  </ResponseMetadata>\n</AssumeRoleResponse>\n",
            arn[4],
            xml_escape(&user_arn),
            c.access_key_id,
            c.secret_access_key,
            c.session_token
        ),
    }
}

/// GetCallerIdentity from a presigned URL, as the EKS authenticator sends it: the signature
/// must verify, and the cluster header `x-k8s-aws-id` must be among the signed ones.
pub(super) fn get_caller_identity(s: &mut State, req: &Request) -> Response {
    if req.method != "GET" {
        return error(400, "InvalidAction", "GET only here");
    }
    let signer = match verify(s, req, true) {
        Ok(v) => v,
        Err(r) => return r,
    };
    let signed = query_params(&req.query)
        .into_iter()
        .find(|(k, _)| k == "X-Amz-SignedHeaders")
        .map(|(_, v)| v)
        .unwrap_or_default();
    if !signed.split(';').any(|h| h == "x-k8s-aws-id") {
        return error(403, "AccessDenied", "x-k8s-aws-id is not signed");
    }
    let arn = &signer.issued.arn;
    let account = arn.split(':').nth(4).unwrap_or("");
    Response {
        status: 200,
        headers: vec![("Content-Type".into(), "text/xml".into())],
        body: format!(
            "<GetCallerIdentityResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\">\n  <GetCallerIdentityResult>\n    <Arn>{}</Arn>\n    <UserId>AROA{account}:ssoenv</UserId>\n    <Account>{account}</Account>\n  </GetCallerIdentityResult>\n  <ResponseMetadata>\n    <RequestId>01234567-89ab-cdef-0123-456789abcdef</RequestId>\n  </ResponseMetadata>\n</GetCallerIdentityResponse>\n",
            xml_escape(arn)
        ),
    }
}

/// Epoch milliseconds as ISO 8601 with a `Z` (STS's Expiration).
fn iso_ms(ms: i64) -> String {
    let format =
        time::macros::format_description!("[year]-[month]-[day]T[hour]:[minute]:[second]Z");
    time::OffsetDateTime::from_unix_timestamp(ms.div_euclid(1000))
        .ok()
        .and_then(|t| t.format(format).ok())
        .unwrap_or_default()
}

/// The sign-in federation endpoint: `getSigninToken` takes a session JSON whose keys must be
/// credentials the mock issued, still valid (`SessionDuration` is refused for a role session
/// assumed from another, as AWS refuses it); `login` with a token it gave sends the browser
/// on to the destination.
pub(super) fn federation(inner: &Inner, s: &mut State, req: &Request) -> Response {
    let q = query_params(&req.query);
    let get = |k: &str| q.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone());
    let bad = |message: &str| Response {
        status: 400,
        headers: vec![("Content-Type".into(), "text/plain".into())],
        body: message.to_string(),
    };
    match get("Action").as_deref() {
        Some("getSigninToken") => {
            let Some(session) = get("Session").and_then(|j| serde_json::from_str::<Value>(&j).ok())
            else {
                return bad("Session is not JSON");
            };
            let field = |k: &str| session.get(k).and_then(Value::as_str).unwrap_or("");
            let Some(issued) = s.issued.get(field("sessionId")).cloned() else {
                return bad("sessionId is not an access key");
            };
            if issued.secret != field("sessionKey")
                || issued.token != field("sessionToken")
                || issued.expiration_ms <= epoch_ms()
            {
                return bad("the session's credentials are not valid");
            }
            if get("SessionDuration").is_some() && issued.assumed {
                return bad("SessionDuration is not allowed for a role session from role chaining");
            }
            let token = random(inner, "sgn", 120);
            s.signin_tokens
                .push((token.clone(), field("sessionId").to_string()));
            Response::json(200, json!({"SigninToken": token}))
        }
        Some("login") => {
            let known =
                get("SigninToken").is_some_and(|t| s.signin_tokens.iter().any(|(k, _)| *k == t));
            match (known, get("Destination")) {
                (true, Some(dest)) => Response {
                    status: 302,
                    headers: vec![("Location".into(), dest)],
                    body: String::new(),
                },
                _ => bad("sign-in token or destination missing or unknown"),
            }
        }
        _ => bad("unknown Action"),
    }
}
