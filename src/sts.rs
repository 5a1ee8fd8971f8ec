//! STS, the one call role chaining needs: AssumeRole over the query protocol (a form-encoded
//! POST, an XML answer), signed with SigV4 by [`crate::sigv4`]. Wire shapes and the call,
//! nothing else.

use time::OffsetDateTime;

use crate::cache::RoleCreds;
use crate::clock;
use crate::error::{Error, Result};
use crate::http::{self, AwsError, Body, Client};
use crate::sigv4::SignedPost;

/// The arguments of one AssumeRole.
pub struct AssumeRole<'a> {
    pub role_arn: &'a str,
    pub session_name: &'a str,
    pub external_id: Option<&'a str>,
    /// `SerialNumber` and `TokenCode`.
    pub mfa: Option<(&'a str, &'a str)>,
    pub duration_seconds: Option<i64>,
}

/// What AssumeRole answers: the credentials (with the account of the assumed role) and the
/// assumed-role user.
#[derive(Debug)]
pub struct Assumed {
    pub creds: RoleCreds,
    pub user_arn: String,
    pub user_id: String,
}

const CONTENT_TYPE: &str = "application/x-www-form-urlencoded; charset=utf-8";

impl AssumeRole<'_> {
    /// The form body, in the order botocore's query serializer writes it.
    fn body(&self) -> String {
        let duration = self.duration_seconds.map(|d| d.to_string());
        let mut fields: Vec<(&str, &str)> = vec![
            ("Action", "AssumeRole"),
            ("Version", "2011-06-15"),
            ("RoleArn", self.role_arn),
            ("RoleSessionName", self.session_name),
        ];
        if let Some(d) = &duration {
            fields.push(("DurationSeconds", d));
        }
        if let Some(e) = self.external_id {
            fields.push(("ExternalId", e));
        }
        if let Some((serial, code)) = self.mfa {
            fields.push(("SerialNumber", serial));
            fields.push(("TokenCode", code));
        }
        let pairs: Vec<String> = fields
            .iter()
            .map(|(k, v)| format!("{k}={}", http::encode(v)))
            .collect();
        pairs.join("&")
    }
}

/// AssumeRole with `source` credentials at `endpoint` (signed for `region`).
pub fn assume_role(
    client: &Client,
    endpoint: &str,
    region: &str,
    source: &RoleCreds,
    args: &AssumeRole,
) -> Result<Assumed> {
    let body = args.body();
    let base = endpoint.trim_end_matches('/');
    let url = format!("{base}/");
    let signed = SignedPost {
        url: &url,
        region,
        service: "sts",
        headers: &[("Content-Type", CONTENT_TYPE)],
        body: &body,
        now: clock::now(),
    }
    .sign(source);
    let mut headers: Vec<(&str, &str)> = vec![("Content-Type", CONTENT_TYPE)];
    headers.extend(signed.iter().map(|(k, v)| (*k, v.as_str())));
    let reply = client.send("AssumeRole", base, "POST", "/", &headers, Body::Raw(&body))?;
    if !(200..300).contains(&reply.status) {
        return Err(AwsError::from_reply(&reply).into_error(base, "AssumeRole"));
    }
    parse(&reply.body, clock::now()).map_err(|message| Error::BadResponse {
        endpoint: base.to_string(),
        operation: "AssumeRole",
        message,
    })
}

/// The `AssumeRoleResponse › AssumeRoleResult` members ssoenv uses.
fn parse(xml: &str, now: OffsetDateTime) -> std::result::Result<Assumed, String> {
    let field = |tag: &str| {
        http::xml_text(xml, tag)
            .filter(|v| !v.is_empty() && !v.contains('\0'))
            .ok_or_else(|| format!("the answer has no {tag}"))
    };
    let expiration = field("Expiration")?;
    let expiration = clock::parse_time(&expiration)
        .ok_or_else(|| "the answer's Expiration is not a time".to_string())?;
    if expiration <= now {
        return Err(format!(
            "the assumed role's credentials expired already at {}",
            clock::format_time(expiration)
        ));
    }
    let user_arn = field("Arn")?;
    // arn:PARTITION:sts::ACCOUNT:assumed-role/ROLE/SESSION
    let account_id = user_arn.split(':').nth(4).unwrap_or_default().to_string();
    Ok(Assumed {
        creds: RoleCreds {
            access_key_id: field("AccessKeyId")?,
            secret_access_key: field("SecretAccessKey")?,
            session_token: field("SessionToken")?,
            expiration,
            account_id,
        },
        user_id: field("AssumedRoleId").unwrap_or_default(),
        user_arn,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    #[test]
    fn the_body_is_form_encoded_with_the_optional_members() {
        let a = AssumeRole {
            role_arn: "arn:aws:iam::123456789012:role/Admin",
            session_name: "ssoenv-1",
            external_id: Some("a b&c"),
            mfa: Some(("arn:aws:iam::1:mfa/me", "123456")),
            duration_seconds: Some(900),
        };
        assert_eq!(
            a.body(),
            "Action=AssumeRole&Version=2011-06-15&RoleArn=arn%3Aaws%3Aiam%3A%3A123456789012%3Arole%2FAdmin&RoleSessionName=ssoenv-1&DurationSeconds=900&ExternalId=a%20b%26c&SerialNumber=arn%3Aaws%3Aiam%3A%3A1%3Amfa%2Fme&TokenCode=123456"
        );
    }

    const ANSWER: &str = r#"<AssumeRoleResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">
  <AssumeRoleResult>
    <AssumedRoleUser>
      <AssumedRoleId>AROA3XFRBF535PLBIFPI4:s3-access-example</AssumedRoleId>
      <Arn>arn:aws:sts::123456789012:assumed-role/Admin/s3-access-example</Arn>
    </AssumedRoleUser>
    <Credentials>
      <SecretAccessKey>9drTJvcXLB89EXAMPLELB8923FB892xMFI</SecretAccessKey>
      <SessionToken>AQoXdzELDDY//////////wEaoAK1wvxJY12r2IrDFT2IvAzTCn3zHoZ7YNtpiQLF0MqZye/qwjzP2iEXAMPLE</SessionToken>
      <Expiration>2026-11-25T19:00:00Z</Expiration>
      <AccessKeyId>ASIAJEXAMPLEXEG2JICEA</AccessKeyId>
    </Credentials>
  </AssumeRoleResult>
  <ResponseMetadata><RequestId>c6104cbe-af31-11e0-8154-cbc7ccf896c7</RequestId></ResponseMetadata>
</AssumeRoleResponse>"#;

    #[test]
    fn the_answer_gives_credentials_with_the_account_of_the_role() {
        let a = parse(ANSWER, datetime!(2026-11-25 18:00 UTC)).unwrap();
        assert_eq!(a.creds.access_key_id, "ASIAJEXAMPLEXEG2JICEA");
        assert!(a.creds.session_token.starts_with("AQoXdzELDDY//"));
        assert_eq!(a.creds.account_id, "123456789012");
        assert_eq!(a.creds.expiration, datetime!(2026-11-25 19:00 UTC));
        assert_eq!(a.user_id, "AROA3XFRBF535PLBIFPI4:s3-access-example");
        let late = parse(ANSWER, datetime!(2026-11-25 19:00 UTC));
        assert!(late.unwrap_err().contains("expired already"));
        let e = parse("<AssumeRoleResponse/>", datetime!(2026-11-25 18:00 UTC));
        assert_eq!(e.err().unwrap(), "the answer has no Expiration");
    }
}
