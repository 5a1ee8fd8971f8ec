//! The caches ssoenv shares with the AWS CLI and the AWS SDKs:
//! the SSO token cache `~/.aws/sso/cache/<sha1(session or start URL)>.json` and the
//! role-credential cache `~/.aws/cli/cache/<sha1(json key)>.json`.
//!
//! Invariants: names, keys and timestamp formats are exactly the CLI's (PROTOCOL.md); keys we
//! do not know survive a rewrite; every write is a 0600 temp file renamed over the target in a
//! 0700 directory, so a crash leaves either the old or the new file, never a torn one.

use std::fmt;
use std::path::{Path, PathBuf};

use serde_json::{Map, Value};
use time::OffsetDateTime;

use crate::clock::{format_time, parse_time};
use crate::error::{Error, Result};
use crate::files::{self, home, read_json, sha1_hex};

/// The AWS CLI's window: a token or cached credentials with less than this left are renewed.
pub const WINDOW: time::Duration = time::Duration::minutes(15);

pub fn token_dir() -> Result<PathBuf> {
    Ok(home()?.join(".aws").join("sso").join("cache"))
}

pub fn token_path(key: &str) -> Result<PathBuf> {
    Ok(token_dir()?.join(format!("{}.json", sha1_hex(key))))
}

pub fn role_dir() -> Result<PathBuf> {
    Ok(home()?.join(".aws").join("cli").join("cache"))
}

// ---------------------------------------------------------------------------------------------
// SSO token cache

/// A cached SSO token. `raw` keeps every key of the file so a rewrite loses nothing.
#[derive(Clone)]
pub struct Token {
    pub path: PathBuf,
    pub raw: Map<String, Value>,
    pub access_token: String,
    pub expires_at: OffsetDateTime,
    pub refresh_token: Option<String>,
    pub client_id: Option<String>,
    pub client_secret: Option<String>,
    pub registration_expires_at: Option<OffsetDateTime>,
}

impl fmt::Debug for Token {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Token")
            .field("path", &self.path)
            .field("access_token", &"<redacted>")
            .field("expires_at", &format_time(self.expires_at))
            .field(
                "refresh_token",
                &self.refresh_token.as_ref().map(|_| "<redacted>"),
            )
            .field("client_id", &self.client_id)
            .field(
                "registration_expires_at",
                &self.registration_expires_at.map(format_time),
            )
            .finish()
    }
}

fn str_field(m: &Map<String, Value>, k: &str) -> Option<String> {
    m.get(k)
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
}

impl Token {
    /// Parses a token file's object, naming the file and key at fault.
    pub fn from_map(path: &Path, raw: Map<String, Value>) -> Result<Token> {
        let bad = |message: String| Error::BadFile {
            path: path.to_path_buf(),
            message,
        };
        let access_token =
            str_field(&raw, "accessToken").ok_or_else(|| bad("no accessToken".into()))?;
        let exp = str_field(&raw, "expiresAt").ok_or_else(|| bad("no expiresAt".into()))?;
        let expires_at =
            parse_time(&exp).ok_or_else(|| bad(format!("expiresAt {exp:?} is not a time")))?;
        Ok(Token {
            path: path.to_path_buf(),
            access_token,
            expires_at,
            refresh_token: str_field(&raw, "refreshToken"),
            client_id: str_field(&raw, "clientId"),
            client_secret: str_field(&raw, "clientSecret"),
            registration_expires_at: str_field(&raw, "registrationExpiresAt")
                .and_then(|s| parse_time(&s)),
            raw,
        })
    }

    /// Whether the token could be refreshed now (botocore's rule).
    pub fn can_refresh(&self, now: OffsetDateTime) -> bool {
        self.refresh_token.is_some()
            && self.client_id.is_some()
            && self.client_secret.is_some()
            && self.registration_expires_at.is_some_and(|t| t > now)
    }
}

/// Reads the token cached under `key`. `Ok(None)` if there is none.
pub fn read_token(key: &str) -> Result<Option<Token>> {
    let path = token_path(key)?;
    match read_json(&path)? {
        None => Ok(None),
        Some(map) => Token::from_map(&path, map).map(Some),
    }
}

// ---------------------------------------------------------------------------------------------
// Role-credential cache

#[derive(Clone, PartialEq, Eq)]
pub struct RoleCreds {
    pub access_key_id: String,
    pub secret_access_key: String,
    pub session_token: String,
    pub expiration: OffsetDateTime,
    pub account_id: String,
}

impl fmt::Debug for RoleCreds {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RoleCreds")
            .field("access_key_id", &self.access_key_id)
            .field("secret_access_key", &"<redacted>")
            .field("session_token", &"<redacted>")
            .field("expiration", &format_time(self.expiration))
            .finish()
    }
}

/// The CLI's cache key: SHA-1 of compact, key-sorted JSON (`json.dumps(..., sort_keys=True,
/// separators=(",", ":"))`). Legacy profiles use `startUrl` where sessions use `sessionName`.
/// The JSON is written directly (its keys are already in sorted order): `status` names the
/// file of every profile of a big config.
pub fn role_cache_key(
    account_id: &str,
    role_name: &str,
    session: Option<&str>,
    start_url: &str,
) -> String {
    let (last, value) = match session {
        Some(s) => ("sessionName", s),
        None => ("startUrl", start_url),
    };
    let mut json = String::with_capacity(64 + account_id.len() + role_name.len() + value.len());
    json.push_str("{\"accountId\":");
    push_json_string(&mut json, account_id);
    json.push_str(",\"roleName\":");
    push_json_string(&mut json, role_name);
    json.push_str(",\"");
    json.push_str(last);
    json.push_str("\":");
    push_json_string(&mut json, value);
    json.push('}');
    sha1_hex(&json)
}

/// A string as Python's `json.dumps` writes it with its default `ensure_ascii=True`: `"` and
/// `\\` escaped, `\n` `\r` `\t` `\b` `\f` by name, every other character outside printable
/// ASCII (` ` to `~`; DEL too) as `\uXXXX` in lowercase hex, by UTF-16 units.
pub fn push_json_string(out: &mut String, s: &str) {
    out.push('"');
    // Nearly always nothing to escape: the bytes tell, without decoding characters.
    if s.bytes()
        .all(|b| matches!(b, b' '..=b'~') && b != b'"' && b != b'\\')
    {
        out.push_str(s);
        out.push('"');
        return;
    }
    let mut plain = 0;
    for (at, c) in s.char_indices() {
        let named = match c {
            '"' => "\\\"",
            '\\' => "\\\\",
            '\n' => "\\n",
            '\r' => "\\r",
            '\t' => "\\t",
            '\u{8}' => "\\b",
            '\u{c}' => "\\f",
            ' '..='~' => continue,
            _ => "",
        };
        out.push_str(&s[plain..at]);
        plain = at + c.len_utf8();
        if named.is_empty() {
            let mut buf = [0u16; 2];
            for unit in c.encode_utf16(&mut buf) {
                out.push_str("\\u");
                for shift in [12, 8, 4, 0] {
                    out.push(char::from(
                        b"0123456789abcdef"[usize::from(*unit >> shift & 0xf)],
                    ));
                }
            }
        } else {
            out.push_str(named);
        }
    }
    out.push_str(&s[plain..]);
    out.push('"');
}

/// Python's `json.dumps` default `ensure_ascii=True`: non-ASCII as `\uXXXX` (UTF-16 units).
pub fn ascii_json(json: &str) -> String {
    let mut out = String::with_capacity(json.len());
    for c in json.chars() {
        if c.is_ascii() {
            out.push(c);
        } else {
            let mut buf = [0u16; 2];
            for unit in c.encode_utf16(&mut buf) {
                out.push_str(&format!("\\u{unit:04x}"));
            }
        }
    }
    out
}

pub fn role_path(key: &str) -> Result<PathBuf> {
    // Built once: `status` names the file of every profile of a big config.
    static DIR: std::sync::OnceLock<PathBuf> = std::sync::OnceLock::new();
    let dir = match DIR.get() {
        Some(d) => d,
        None => {
            let d = role_dir()?;
            DIR.get_or_init(|| d)
        }
    };
    Ok(dir.join(format!("{key}.json")))
}

/// Reads cached role credentials. Anything unusable is a miss (it will be overwritten).
pub fn read_role(path: &Path) -> Option<RoleCreds> {
    let map = read_json(path).ok()??;
    let c = map.get("Credentials")?.as_object()?;
    // A value no variable could carry makes the file a miss: it is fetched anew.
    let s = |k: &str| str_field(c, k).filter(|v| !v.contains('\0'));
    Some(RoleCreds {
        access_key_id: s("AccessKeyId")?,
        secret_access_key: s("SecretAccessKey")?,
        session_token: s("SessionToken")?,
        expiration: parse_time(&s("Expiration")?)?,
        account_id: s("AccountId").unwrap_or_default(),
    })
}

fn credentials_json(c: &RoleCreds) -> Value {
    serde_json::json!({
        "AccessKeyId": c.access_key_id,
        "SecretAccessKey": c.secret_access_key,
        "SessionToken": c.session_token,
        "Expiration": format_time(c.expiration),
        "AccountId": c.account_id,
    })
}

/// Writes SSO role credentials as the AWS CLI's SSO provider does (`ProviderType: sso`, which
/// `logout` looks for).
pub fn write_role(path: &Path, c: &RoleCreds) -> Result<()> {
    let v = serde_json::json!({
        "ProviderType": "sso",
        "Credentials": credentials_json(c),
    });
    let text = serde_json::to_string(&v).map_err(|e| Error::Other(e.to_string()))?;
    files::write_atomic(path, text.as_bytes(), files::Existing::Private)
}

/// Writes assumed-role credentials as the AWS CLI caches an AssumeRole answer: its
/// `Credentials` (with the `AccountId` botocore adds) and `AssumedRoleUser`.
pub fn write_assumed_role(path: &Path, c: &RoleCreds, user_arn: &str, user_id: &str) -> Result<()> {
    let v = serde_json::json!({
        "Credentials": credentials_json(c),
        "AssumedRoleUser": {"AssumedRoleId": user_id, "Arn": user_arn},
    });
    let text = serde_json::to_string(&v).map_err(|e| Error::Other(e.to_string()))?;
    files::write_atomic(path, text.as_bytes(), files::Existing::Private)
}

/// The AWS CLI's cache key for an AssumeRole (botocore's AssumeRoleCredentialFetcher): SHA-1
/// of `json.dumps(args, sort_keys=True)` (default separators `", "` and `": "`) over the call's
/// arguments — `RoleArn`, and `RoleSessionName`, `ExternalId`, `SerialNumber`,
/// `DurationSeconds` when configured — without the session name ssoenv makes up when none
/// is configured. It does not depend on the source credentials.
pub fn assumed_role_key(
    role_arn: &str,
    session_name: Option<&str>,
    external_id: Option<&str>,
    mfa_serial: Option<&str>,
    duration_seconds: Option<i64>,
) -> String {
    let mut args: Vec<(&str, Value)> = vec![("RoleArn", role_arn.into())];
    let optional = [
        ("RoleSessionName", session_name),
        ("ExternalId", external_id),
        ("SerialNumber", mfa_serial),
    ];
    args.extend(
        optional
            .iter()
            .filter_map(|(k, v)| v.map(|v| (*k, Value::from(v)))),
    );
    if let Some(d) = duration_seconds {
        args.push(("DurationSeconds", d.into()));
    }
    args.sort_by(|a, b| a.0.cmp(b.0));
    let fields: Vec<String> = args.iter().map(|(k, v)| format!("\"{k}\": {v}")).collect();
    sha1_hex(&ascii_json(&format!("{{{}}}", fields.join(", "))))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn token_file_name_is_sha1_of_session_name() {
        // FIPS 180 test vector, and a name hashed by Python's hashlib.
        assert_eq!(sha1_hex("abc"), "a9993e364706816aba3e25717850c26c9cd0d89d");
        assert_eq!(
            sha1_hex("my-sso"),
            "0ad374308c5a4e22f723adf10145eafad7c4031c"
        );
    }

    #[test]
    fn role_cache_key_matches_python_json_dumps() {
        // hashlib.sha1(json.dumps({"accountId":"123456789012","roleName":"Admin","sessionName":"corp"},
        //   sort_keys=True, separators=(",",":")).encode()).hexdigest()
        assert_eq!(
            role_cache_key("123456789012", "Admin", Some("corp"), "ignored"),
            "8457bc68cf9d4aa8d629a61563948e8bd3159d49"
        );
        let legacy = r#"{"accountId":"1","roleName":"R","startUrl":"https://x/start"}"#;
        assert_eq!(
            role_cache_key("1", "R", None, "https://x/start"),
            sha1_hex(legacy)
        );
    }

    /// The key as it was built before: serde_json over a sorted map, then non-ASCII escaped.
    fn role_cache_key_by_serde(a: &str, r: &str, s: Option<&str>, u: &str) -> String {
        let mut m = std::collections::BTreeMap::new();
        m.insert("accountId", a);
        m.insert("roleName", r);
        match s {
            Some(s) => m.insert("sessionName", s),
            None => m.insert("startUrl", u),
        };
        sha1_hex(&ascii_json(&serde_json::to_string(&m).unwrap()))
    }

    #[test]
    fn role_cache_key_of_tricky_names_matches_python_json_dumps() {
        // Each expected JSON and digest printed by Python 3:
        // d = {"accountId": a, "roleName": r, "sessionName": s}  (or "startUrl": u)
        // j = json.dumps(d, sort_keys=True, separators=(",", ":"))
        // hashlib.sha1(j.encode()).hexdigest()
        type Case<'a> = (&'a str, &'a str, Option<&'a str>, &'a str, &'a str, &'a str);
        let cases: [Case; 5] = [
            (
                "123456789012",
                "Admin",
                Some("corp"),
                "",
                r#"{"accountId":"123456789012","roleName":"Admin","sessionName":"corp"}"#,
                "8457bc68cf9d4aa8d629a61563948e8bd3159d49",
            ),
            (
                "0001",
                "R\u{f4}le \"quoted\" \\ back",
                Some("sess\u{e9} \u{1f600}"),
                "",
                r#"{"accountId":"0001","roleName":"R\u00f4le \"quoted\" \\ back","sessionName":"sess\u00e9 \ud83d\ude00"}"#,
                "814e5a6caffbe4bdab9a23bc5bbf846dbb3cce4d",
            ),
            (
                "1",
                "ctl\0\u{1}\u{8}\u{c}\n\r\t\u{1f}\u{7f}",
                Some("s"),
                "",
                r#"{"accountId":"1","roleName":"ctl\u0000\u0001\b\f\n\r\t\u001f\u007f","sessionName":"s"}"#,
                "5a087156b4f3d973c18ad15b6407025a4cc64737",
            ),
            (
                "1",
                "R",
                None,
                "https://x/start?a=\"b\"&c=\u{2028}",
                r#"{"accountId":"1","roleName":"R","startUrl":"https://x/start?a=\"b\"&c=\u2028"}"#,
                "30933f6ca3029d68b57131d554cf79c7b753906e",
            ),
            (
                "",
                "",
                Some(""),
                "ignored",
                r#"{"accountId":"","roleName":"","sessionName":""}"#,
                "6c3860095c1474e78b6bd77dc30a526804291bba",
            ),
        ];
        for (a, r, s, u, json, digest) in cases {
            assert_eq!(sha1_hex(json), digest, "{json}");
            assert_eq!(role_cache_key(a, r, s, u), digest, "{json}");
            // The serde_json build agrees except on DEL, which Python escapes and it did not.
            if !r.contains('\u{7f}') {
                assert_eq!(role_cache_key_by_serde(a, r, s, u), digest, "{json}");
            }
        }
    }

    #[test]
    fn json_strings_escape_every_character_as_python_does() {
        for c in (0..0x80u8).map(char::from).chain([
            '\u{80}',
            '\u{ff}',
            '\u{2028}',
            '\u{ffff}',
            '\u{10000}',
            '\u{10ffff}',
        ]) {
            let mut direct = String::new();
            push_json_string(&mut direct, &c.to_string());
            let expected = match c {
                '"' => "\"\\\"\"".to_string(),
                '\\' => "\"\\\\\"".to_string(),
                '\n' => "\"\\n\"".to_string(),
                '\r' => "\"\\r\"".to_string(),
                '\t' => "\"\\t\"".to_string(),
                '\u{8}' => "\"\\b\"".to_string(),
                '\u{c}' => "\"\\f\"".to_string(),
                ' '..='~' => format!("\"{c}\""),
                _ => {
                    let units: Vec<String> = c
                        .encode_utf16(&mut [0; 2])
                        .iter()
                        .map(|u| format!("\\u{u:04x}"))
                        .collect();
                    format!("\"{}\"", units.concat())
                }
            };
            assert_eq!(direct, expected, "{:?}", c);
        }
    }

    #[test]
    fn assumed_role_key_matches_botocore() {
        // hashlib.sha1(json.dumps({"RoleArn": "arn:aws:iam::123456789012:role/Admin"},
        //   sort_keys=True).encode()).hexdigest()
        assert_eq!(
            assumed_role_key(
                "arn:aws:iam::123456789012:role/Admin",
                None,
                None,
                None,
                None
            ),
            sha1_hex(r#"{"RoleArn": "arn:aws:iam::123456789012:role/Admin"}"#)
        );
        let all = assumed_role_key(
            "arn:aws:iam::1:role/R",
            Some("me"),
            Some("ext\"é"),
            Some("arn:aws:iam::1:mfa/me"),
            Some(900),
        );
        assert_eq!(
            all,
            sha1_hex(
                r#"{"DurationSeconds": 900, "ExternalId": "ext\"\u00e9", "RoleArn": "arn:aws:iam::1:role/R", "RoleSessionName": "me", "SerialNumber": "arn:aws:iam::1:mfa/me"}"#
            )
        );
    }

    #[test]
    fn non_ascii_is_escaped_like_python() {
        assert_eq!(ascii_json("\"é😀\""), "\"\\u00e9\\ud83d\\ude00\"");
    }

    #[test]
    fn all_timestamp_forms_parse() {
        let z = parse_time("2026-11-23T01:08:21Z").unwrap();
        assert_eq!(parse_time("2026-11-23T01:08:21UTC"), Some(z));
        assert_eq!(parse_time("2026-11-23T02:08:21+01:00"), Some(z));
        assert_eq!(
            parse_time("2026-11-23T01:08:21.250Z")
                .unwrap()
                .unix_timestamp(),
            z.unix_timestamp()
        );
        assert_eq!(parse_time("2026-11-23T01:08:21"), Some(z));
        assert_eq!(parse_time("yesterday"), None);
        assert_eq!(
            format_time(parse_time("2026-11-23T02:08:21.9+01:00").unwrap()),
            "2026-11-23T01:08:21Z"
        );
    }
}
