//! The config file read as botocore reads it: a corpus of config files — every quirk of
//! Python's configparser and botocore's loader that touches profiles — each read by botocore
//! and by ssoenv, which must agree on every profile (its name, order, and what it resolves
//! to) or both refuse the file. Then each file botocore takes is edited by `configure` and
//! `configure sso-session`, and must still parse in botocore, resolve the same in both, and
//! differ from the original only in the lines set.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use serde_json::{Value, json};

use crate::support::*;

const S: &str =
    "[sso-session corp]\nsso_start_url = https://corp.awsapps.com/start\nsso_region = us-east-1\n";

/// (name, file bytes). Each file shows one quirk (some several); refused files have one
/// problem each, so the line botocore names is the one ssoenv names.
fn corpus() -> Corpus {
    let dev = "[profile dev]\nsso_session = corp\nsso_account_id = 111111111111\nsso_role_name = ReadOnly\n";
    let legacy = "[profile legacy]\nsso_start_url = https://old.awsapps.com/start\nsso_region = eu-west-1\nsso_account_id = 222222222222\nsso_role_name = Admin\n";
    let t = |name: &'static str, text: String| (name, text.into_bytes());
    vec![
        t("session profile", format!("{dev}{S}")),
        t("legacy profile", legacy.to_string()),
        t("both forms", format!("{legacy}\n{dev}\n{S}")),
        t("empty file", String::new()),
        t("comments only", "# a\n; b\n\n   # c\n".into()),
        t(
            "names the AWS CLI quotes",
            "[profile 'my dev']\nsso_session = corp sess\nsso_account_id = 1\nsso_role_name = r\n[sso-session 'corp sess']\nsso_start_url = https://x.awsapps.com/start\nsso_region = us-east-1\n".into(),
        ),
        t(
            "double-quoted names",
            format!("[profile \"quoted name\"]\nsso_session = corp\nsso_account_id = 1\nsso_role_name = r\n{S}"),
        ),
        t(
            "escaped space in a name",
            format!("[profile a\\ b]\nsso_session = corp\nsso_account_id = 1\nsso_role_name = r\n{S}"),
        ),
        t(
            "header with a trailing comment",
            format!("[profile dev] # the dev account\nsso_session = corp\nsso_account_id = 1\nsso_role_name = r\n{S}"),
        ),
        t(
            "a bracket inside a header",
            format!("[profile dev]]\nsso_session = corp\nsso_account_id = 1\nsso_role_name = r\n{S}"),
        ),
        t(
            "keys indented alike",
            "[profile dev]\n    sso_start_url = https://x.awsapps.com/start\n    sso_region = us-east-1\n    sso_account_id = 1\n    sso_role_name = r\n".into(),
        ),
        t(
            "tab-indented keys",
            "[profile dev]\n\tsso_start_url = https://x.awsapps.com/start\n\tsso_region = us-east-1\n\tsso_account_id = 1\n\tsso_role_name = r\n".into(),
        ),
        t(
            "indented header after a header",
            format!("[plugins]\n  [profile dev]\n  sso_session = corp\n  sso_account_id = 1\n  sso_role_name = r\n{S}"),
        ),
        t(
            "indented header under a key is a value",
            format!("{dev}  [profile hidden]\n  sso_account_id = 9\n{S}"),
        ),
        t(
            "DEFAULT keys are inherited",
            "[DEFAULT]\nsso_region = eu-central-1\nsso_start_url = https://d.awsapps.com/start\n[profile a]\nsso_account_id = 1\nsso_role_name = r\n[profile b]\nsso_account_id = 2\nsso_role_name = s\nsso_region = us-west-2\n".into(),
        ),
        t(
            "DEFAULT reaches sessions too",
            "[DEFAULT]\nsso_region = eu-west-1\n[profile a]\nsso_session = s\nsso_account_id = 1\nsso_role_name = r\n[sso-session s]\nsso_start_url = https://s.awsapps.com/start\n".into(),
        ),
        t(
            "DEFAULT region against a session's region",
            "[DEFAULT]\nregion = eu-west-1\n[profile a]\nsso_session = s\nsso_account_id = 1\nsso_role_name = r\n[sso-session s]\nsso_start_url = https://s.awsapps.com/start\nsso_region = us-east-1\nregion = us-east-2\n".into(),
        ),
        t(
            "DEFAULT repeated",
            format!("[DEFAULT]\nregion = eu-west-1\n{dev}[DEFAULT]\noutput = json\n{S}"),
        ),
        t(
            "uppercase region",
            "[profile dev]\nsso_start_url = https://x.awsapps.com/start\nsso_region = US-EAST-1\nsso_account_id = 1\nsso_role_name = r\nregion = EU-West-1\n".into(),
        ),
        t("CR line endings", format!("{dev}{S}").replace('\n', "\r")),
        t("CRLF line endings", format!("{dev}{S}").replace('\n', "\r\n")),
        t(
            "mixed line endings",
            "[profile dev]\r\nsso_start_url = https://x.awsapps.com/start\rsso_region = us-east-1\nsso_account_id = 1\r\nsso_role_name = r".into(),
        ),
        t(
            "profiles prefix typo",
            format!("[profiles typo]\nsso_session = corp\nsso_account_id = 1\nsso_role_name = r\n{S}"),
        ),
        t(
            "padded header is no profile",
            format!("[ profile padded ]\nsso_session = corp\nsso_account_id = 1\nsso_role_name = r\n{dev}{S}"),
        ),
        t(
            "unquoted spaces are no profile",
            format!("[profile my dev]\nsso_session = corp\nsso_account_id = 1\nsso_role_name = r\n{S}"),
        ),
        t(
            "open quote is no profile",
            format!("[profile 'open]\nsso_session = corp\nsso_account_id = 1\nsso_role_name = r\n{dev}{S}"),
        ),
        t(
            "profile with no name",
            format!("[profile]\nsso_account_id = 1\n[profile ]\nregion = x\n{dev}{S}"),
        ),
        t(
            "default then profile default",
            "[default]\nsso_start_url = https://a.awsapps.com/start\nsso_region = us-east-1\nsso_account_id = 1\nsso_role_name = r\n[profile default]\nsso_start_url = https://b.awsapps.com/start\nsso_region = us-east-1\nsso_account_id = 2\nsso_role_name = r\n".into(),
        ),
        t(
            "profile default then default",
            "[profile default]\nsso_start_url = https://b.awsapps.com/start\nsso_region = us-east-1\nsso_account_id = 2\nsso_role_name = r\n[default]\nregion = eu-west-1\n".into(),
        ),
        t(
            "one profile in two spellings",
            format!("[profile a]\nsso_session = corp\nsso_account_id = 1\nsso_role_name = r\n[profile 'a']\nsso_session = corp\nsso_account_id = 2\nsso_role_name = r\n{S}"),
        ),
        t(
            "one session in two spellings",
            format!("{dev}{S}[sso-session 'corp']\nsso_start_url = https://later.awsapps.com/start\nsso_region = eu-west-1\n"),
        ),
        t(
            "continuation folded into a value",
            format!("[profile dev]\nsso_session = corp\nsso_account_id = 1\nsso_role_name = Admin\n  Extra\n{S}"),
        ),
        t(
            "blank lines and comments inside a value",
            format!("[profile dev]\nsso_session = corp\nsso_account_id = 1\nsso_role_name = r\ns3 =\n  a = 1\n\n# note\n  b = 2\n\n\n{S}"),
        ),
        t(
            "Unicode spaces indent a continuation",
            format!("[profile dev]\nsso_session = corp\nsso_account_id = 1\nsso_role_name = r\ncli_pager = less\n\u{a0}\u{a0}-R\n{S}"),
        ),
        t(
            "information separator strips like a space",
            format!("[profile dev]\nsso_session = corp\u{1f}\nsso_account_id = 1\nsso_role_name = r\n{S}"),
        ),
        t(
            "empty sso_session beside legacy keys",
            "[profile a]\nsso_session =\nsso_start_url = https://x.awsapps.com/start\nsso_region = us-east-1\nsso_account_id = 1\nsso_role_name = r\n".into(),
        ),
        t(
            "scopes differ from the session's",
            format!("[profile dev]\nsso_session = corp\nsso_account_id = 1\nsso_role_name = r\nsso_registration_scopes = other\n{S}sso_registration_scopes = sso:account:access\n"),
        ),
        t(
            "legacy keys agreeing with the session",
            format!("[profile dev]\nsso_session = corp\nsso_start_url = https://corp.awsapps.com/start\nsso_region = us-east-1\nsso_account_id = 1\nsso_role_name = r\n{S}"),
        ),
        t(
            "legacy keys differing from the session",
            format!("[profile dev]\nsso_session = corp\nsso_start_url = https://other.awsapps.com/start\nsso_account_id = 1\nsso_role_name = r\n{S}"),
        ),
        t(
            "colon delimiter and uppercase keys",
            "[profile dev]\nSSO_Start_URL: https://x.awsapps.com/start\nSSO_REGION:us-east-1\nsso_account_id=1\nSso_Role_Name =r\n".into(),
        ),
        t(
            "values holding delimiters",
            "[profile dev]\nsso_start_url = https://x.awsapps.com/start?a=b:c\nsso_region = us-east-1\nsso_account_id = 1\nsso_role_name = r\nendpoint_url = http://127.0.0.1:9/?x=y\n".into(),
        ),
        t(
            "inline comment is part of the value",
            "[profile dev]\nsso_start_url = https://x.awsapps.com/start\nsso_region = us-east-1\nsso_account_id = 1\nsso_role_name = r\nregion = eu-west-1 # Ireland\n".into(),
        ),
        t(
            "nested blocks and services",
            format!("[default]\ns3 =\n  max_concurrent_requests = 10\n  addressing_style = path\n[profile dev]\nsso_session = corp\nsso_account_id = 1\nsso_role_name = r\nservices = local\n[services local]\nsso =\n  endpoint_url = http://127.0.0.1:9\n{S}"),
        ),
        t("missing sso_region", "[profile a]\nsso_start_url = https://x.awsapps.com/start\nsso_account_id = 1\nsso_role_name = r\n".into()),
        t("missing session section", "[profile a]\nsso_session = nope\nsso_account_id = 1\nsso_role_name = r\n".into()),
        t(
            "session without its region",
            "[profile a]\nsso_session = s\nsso_account_id = 1\nsso_role_name = r\n[sso-session s]\nsso_start_url = https://s.awsapps.com/start\n".into(),
        ),
        t(
            "session keys only in the profile",
            "[profile a]\nsso_session = s\nsso_start_url = https://s.awsapps.com/start\nsso_region = us-east-1\nsso_account_id = 1\nsso_role_name = r\n[sso-session s]\nsso_registration_scopes = sso:account:access\n".into(),
        ),
        t("login-only profile", format!("[profile login]\nsso_session = corp\n{S}")),
        t("static keys profile", "[profile static]\naws_access_key_id = AKIA\nregion = eu-west-1\n".into()),
        t("account without role", format!("[profile a]\nsso_session = corp\nsso_account_id = 1\n{S}")),
        t("empty account id", format!("[profile a]\nsso_session = corp\nsso_account_id =\nsso_role_name = r\n{S}")),
        t(
            "region not a host label",
            format!("[profile a]\nsso_session = corp\nsso_account_id = 1\nsso_role_name = r\nregion = us east\n{S}"),
        ),
        t(
            "sso_region of digits",
            "[profile a]\nsso_start_url = https://x.awsapps.com/start\nsso_region = 123\nsso_account_id = 1\nsso_role_name = r\n".into(),
        ),
        t(
            "sso_region with a path",
            "[profile a]\nsso_start_url = https://x.awsapps.com/start\nsso_region = us-east-1.evil.example/\nsso_account_id = 1\nsso_role_name = r\n".into(),
        ),
        t(
            "key names with spaces are other keys",
            "[profile a]\nsso start url = https://x.awsapps.com/start\nsso account id = 1\n".into(),
        ),
        t(
            "Unicode and punctuation in names",
            format!("[profile ünï-cødé]\nsso_session = corp\nsso_account_id = 1\nsso_role_name = r\n[profile dev#1;x]\nsso_session = corp\nsso_account_id = 2\nsso_role_name = r\n{S}"),
        ),
        t(
            "trailing spaces and no final newline",
            format!("{S}[profile dev]   \nsso_session = corp   \nsso_account_id = 1\t\nsso_role_name = r"),
        ),
        t(
            "same name spaced differently",
            format!("[profile a]\nsso_session = corp\nsso_account_id = 1\nsso_role_name = r\n[profile  a]\nsso_session = corp\nsso_account_id = 3\nsso_role_name = r\n{S}"),
        ),
        t(
            "other tools' sections",
            format!("[plugins]\ncli_legacy_plugin_path = /opt\n[preview]\ncloudfront = true\n{dev}{S}"),
        ),
        t("many profiles", {
            let mut text = S.to_string();
            for i in 0..40 {
                text.push_str(&format!(
                    "\n[profile p{i}]\nsso_session = corp\nsso_account_id = {:012}\nsso_role_name = Role{i}\nregion = eu-west-{}\n",
                    i,
                    i % 3 + 1
                ));
            }
            text
        }),
        // Refused by botocore, so by ssoenv: one problem each.
        ("byte order mark", [b"\xef\xbb\xbf".as_slice(), format!("{dev}{S}").as_bytes()].concat()),
        t("duplicate section", format!("{dev}{S}[profile dev]\nregion = x\n")),
        t("duplicate key ignoring case", format!("{dev}REGION = a\nregion = b\n{S}")),
        t("duplicate key in two DEFAULT sections", "[DEFAULT]\nregion = a\n[profile x]\n[DEFAULT]\nregion = b\n".into()),
        t("key before any section", format!("region = eu-west-1\n{dev}{S}")),
        t("indented key before any section", format!("   region = eu-west-1\n{dev}{S}")),
        t("line without a delimiter", format!("{dev}this is not ini\n{S}")),
        t("line with no key", format!("{dev}= value\n{S}")),
        t("empty brackets", format!("{dev}[]\n{S}")),
        t("nested line without =", format!("{dev}s3 =\n  addressing_style: path\n{S}")),
        t("terminal escapes in a bad line", format!("{dev}\u{1b}]0;pwned\u{7}\n{S}")),
        t("bad line after CR endings", format!("{dev}bad line\n{S}").replace('\n', "\r")),
        ("not UTF-8", [format!("{dev}region = ").as_bytes(), b"\xff\xfe\n", S.as_bytes()].concat()),
    ]
}

/// botocore on each file: its profiles, what each resolves to (or why not), its sessions.
const PEER: &str = r#"
import json, os, sys
import botocore.session
from botocore.credentials import SSOProvider
from botocore.tokens import SSOTokenProvider
from botocore.utils import validate_region_name

def lineno(err):
    inner = getattr(err, "kwargs", {}).get("error")
    if hasattr(inner, "lineno"):
        return inner.lineno
    if getattr(inner, "errors", None):
        return inner.errors[0][0]
    return None

def text(v):
    return v if isinstance(v, str) else None

def one(path, full, p):
    prov = SSOProvider(load_config=lambda: full, client_creator=None, profile_name=p)
    try:
        cfg = prov._load_sso_config()
        if cfg is None:
            return "not-sso"
        if "sso_session" in cfg:
            s = botocore.session.Session(profile=p)
            SSOTokenProvider(s, profile_name=p)._load_sso_config()
        region = full["profiles"][p].get("region")
        for v in (cfg["sso_region"], region):
            if v is not None and not isinstance(v, str):
                return {"error": "not text"}
        validate_region_name(cfg["sso_region"])
        validate_region_name(region)
    except Exception as e:
        return {"error": type(e).__name__ + ": " + str(e)}
    # ssoenv's one rule beyond botocore's: a required value may not be empty (botocore
    # would send it to the service, which refuses it).
    for k in ("sso_start_url", "sso_region", "sso_account_id", "sso_role_name"):
        if not text(cfg.get(k)):
            return {"error": "empty " + k}
    return {
        "accountId": cfg["sso_account_id"], "roleName": cfg["sso_role_name"],
        "startUrl": cfg["sso_start_url"], "ssoRegion": cfg["sso_region"],
        "ssoSession": cfg.get("sso_session"), "region": region or None,
    }

out = []
for path in json.load(sys.stdin):
    os.environ["AWS_CONFIG_FILE"] = path
    s = botocore.session.Session()
    try:
        full = s.full_config
    except Exception as e:
        out.append({"error": type(e).__name__, "line": lineno(e)})
        continue
    profiles = list(full["profiles"])
    sessions = []
    for name, sess in full.get("sso_sessions", {}).items():
        url, region = text(sess.get("sso_start_url")), text(sess.get("sso_region"))
        try:
            validate_region_name(region)
        except Exception:
            continue
        if url and region:
            sessions.append([name, url, region])
    raw = {kind: {n: {k: v for k, v in sec.items() if isinstance(v, str)} for n, sec in full.get(kind, {}).items()}
           for kind in ("profiles", "sso_sessions")}
    out.append({"profiles": profiles, "resolved": {p: one(path, full, p) for p in profiles},
                "sessions": sorted(sessions), "raw": raw})
print(json.dumps(out))
"#;

/// botocore's reading of each file, in one Python process.
fn botocore(s: &Sandbox, paths: &[PathBuf]) -> Vec<Value> {
    let mut child = Command::new(crate::interop::python())
        .args(["-c", PEER])
        .env_clear()
        .env("HOME", s.home())
        .env(
            "AWS_SHARED_CREDENTIALS_FILE",
            s.dir.path().join("no-credentials"),
        )
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let list: Vec<String> = paths.iter().map(|p| p.to_string_lossy().into()).collect();
    use std::io::Write;
    child
        .stdin
        .take()
        .unwrap()
        .write_all(serde_json::to_string(&list).unwrap().as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "botocore: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

fn ssoenv(s: &Sandbox, path: &Path, args: &[&str]) -> Run {
    s.cmd(args)
        .env("AWS_CONFIG_FILE", path)
        .output()
        .unwrap()
        .into()
}

/// ssoenv's reading of a file, in the shape of the botocore peer's.
fn ssoenv_view(s: &Sandbox, path: &Path) -> Value {
    let list = ssoenv(s, path, &["list"]);
    if list.code != 0 {
        return json!({"error": list.stderr, "code": list.code, "stdout": list.stdout});
    }
    let profiles: Vec<&str> = list.stdout.lines().collect();
    let status = ssoenv(s, path, &["status", "--json"]);
    let status: Value = serde_json::from_str(status.ok()).unwrap();
    let mut resolved = serde_json::Map::new();
    for p in &profiles {
        let entry = status["profiles"]
            .as_array()
            .unwrap()
            .iter()
            .find(|e| e["name"] == *p);
        let v = match entry {
            None => json!("not-sso"),
            Some(e)
                if e["error"]
                    .as_str()
                    .is_some_and(|m| m.contains("not an SSO profile")) =>
            {
                json!("not-sso")
            }
            Some(e) if e.get("error").is_some() => json!({"error": e["error"]}),
            Some(e) => json!({
                "accountId": e["accountId"], "roleName": e["roleName"], "startUrl": e["startUrl"],
                "ssoRegion": e["ssoRegion"], "ssoSession": e["ssoSession"], "region": e["region"],
            }),
        };
        resolved.insert(p.to_string(), v);
    }
    let mut sessions: Vec<Value> = status["logins"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|l| l["kind"] == "sso-session")
        .map(|l| json!([l["name"], l["startUrl"], l["region"]]))
        .collect();
    sessions.sort_by_key(|v| v.to_string());
    json!({"profiles": profiles, "resolved": resolved, "sessions": sessions})
}

/// Compares one file's two readings; returns (refused, profiles resolved) for the tally.
#[track_caller]
fn agree(name: &str, path: &Path, boto: &Value, mine: &Value) -> (bool, usize) {
    if boto.get("error").is_some() {
        let err = mine["error"].as_str().unwrap_or_else(|| {
            panic!("{name}: botocore refuses the file ({boto}), ssoenv reads it: {mine}")
        });
        assert_eq!(mine["code"], 1, "{name}: {mine}");
        assert_eq!(mine["stdout"], "", "{name}");
        let line = err.trim_end_matches('\n');
        assert!(!line.contains('\n'), "{name}: one line: {err:?}");
        assert!(
            !line.contains(|c: char| c.is_control()),
            "{name}: raw control characters: {err:?}"
        );
        let prefix = format!("ssoenv: {}:", path.display());
        assert!(line.starts_with(&prefix), "{name}: names the file: {line}");
        if let Some(n) = boto["line"].as_u64() {
            assert!(
                line.starts_with(&format!("{prefix}{n}:")),
                "{name}: botocore names line {n}: {line}"
            );
        }
        return (true, 0);
    }
    assert!(
        mine.get("error").is_none(),
        "{name}: botocore reads it ({boto}), ssoenv refuses: {mine}"
    );
    assert_eq!(mine["profiles"], boto["profiles"], "{name}: profiles");
    assert_eq!(mine["sessions"], boto["sessions"], "{name}: sessions");
    let mut n = 0;
    for (p, want) in boto["resolved"].as_object().unwrap() {
        let got = &mine["resolved"][p];
        match want.get("error") {
            Some(_) => assert!(
                got.get("error").is_some(),
                "{name}: profile {p:?}: botocore {want}, ssoenv {got}"
            ),
            None => {
                assert_eq!(got, want, "{name}: profile {p:?}");
                if want.is_object() {
                    n += 1;
                }
            }
        }
    }
    (false, n)
}

type Corpus = Vec<(&'static str, Vec<u8>)>;

/// The corpus written into the sandbox, one file each, and botocore's reading of them.
fn written_corpus(s: &Sandbox) -> (Corpus, Vec<PathBuf>, Vec<Value>) {
    let files = corpus();
    let paths: Vec<PathBuf> = files
        .iter()
        .enumerate()
        .map(|(i, (_, bytes))| {
            let p = s.dir.path().join(format!("config-{i}"));
            std::fs::write(&p, bytes).unwrap();
            p
        })
        .collect();
    let boto = botocore(s, &paths);
    (files, paths, boto)
}

#[test]
fn every_corpus_file_reads_the_same_in_ssoenv_and_botocore() {
    let s = Sandbox::new();
    let (files, paths, boto) = written_corpus(&s);
    assert!(files.len() >= 60, "{} files", files.len());
    let (mut refused, mut resolved) = (0, 0);
    for (i, (name, bytes)) in files.iter().enumerate() {
        let (r, n) = agree(name, &paths[i], &boto[i], &ssoenv_view(&s, &paths[i]));
        refused += usize::from(r);
        resolved += n;
        if r {
            // Refused files stay refused by every command, and are never written.
            let export = ssoenv(&s, &paths[i], &["export", "dev"]);
            assert_eq!((export.code, export.stdout.as_str()), (1, ""), "{name}");
            let edit = ssoenv(
                &s,
                &paths[i],
                &[
                    "configure",
                    "sso-session",
                    "--sso-session",
                    "x",
                    "--sso-start-url",
                    "https://x.awsapps.com/start",
                    "--sso-region",
                    "us-east-1",
                ],
            );
            assert_eq!(
                (edit.code, edit.stdout.as_str()),
                (1, ""),
                "{name}: {}",
                edit.stderr
            );
            assert_eq!(
                std::fs::read(&paths[i]).unwrap(),
                *bytes,
                "{name}: not written"
            );
        }
    }
    // The corpus exercises both sides.
    assert!(refused >= 12, "{refused} refused");
    assert!(resolved >= 60, "{resolved} profiles resolved");
}

const EDIT_URL: &str = "https://edit.example.com/start";

/// `configure` with every answer given: the session at EDIT_URL, account 111111111111,
/// role ReadOnly, written as `profile`.
fn wizard<'a>(session: &'a str, profile: &'a str) -> Vec<&'a str> {
    vec![
        "configure",
        "--sso-session",
        session,
        "--sso-start-url",
        EDIT_URL,
        "--sso-region",
        "eu-west-1",
        "--sso-account-id",
        "111111111111",
        "--sso-role-name",
        "ReadOnly",
        "--profile",
        profile,
        "--use-device-code",
        "--no-browser",
    ]
}

/// Writes a valid token for a session name, so the wizard needs no sign-in.
fn token_for(s: &Sandbox, session: &str) {
    let v = json!({
        "startUrl": EDIT_URL, "region": "eu-west-1", "accessToken": ACCESS_TOKEN,
        "expiresAt": iso(now() + 8 * 3600),
    });
    s.write_token_raw(session, &v.to_string());
}

/// Whether `before`'s lines, less the lines of keys being set, stand in `after` in order, and
/// every other line of `after` is one the edit writes.
#[track_caller]
fn only_set_lines_differ(name: &str, before: &str, after: &str, keys: &[&str], headers: &[String]) {
    let is_set_key = |l: &str| {
        let l = l.trim().to_ascii_lowercase();
        keys.iter().any(|k| {
            l.strip_prefix(k)
                .is_some_and(|r| r.trim_start().starts_with(['=', ':']))
        })
    };
    let lines = |t: &str| -> Vec<String> {
        t.split_inclusive(['\n', '\r'])
            .map(|l| l.trim_end_matches(['\n', '\r']).to_string())
            .collect()
    };
    let (old, new) = (lines(before), lines(after));
    // A set key's value goes whole: its line and the deeper-indented lines under it.
    let indent = |l: &str| l.len() - l.trim_start().len();
    let mut kept = Vec::new();
    let mut set_at: Option<usize> = None;
    for l in &old {
        if let Some(i) = set_at
            && (l.trim().is_empty() || indent(l) > i)
        {
            continue;
        }
        set_at = is_set_key(l).then(|| indent(l));
        if set_at.is_none() {
            kept.push(l);
        }
    }
    let mut j = 0;
    for l in kept {
        while j < new.len() && new[j] != *l {
            let extra = &new[j];
            assert!(
                extra.trim().is_empty() || is_set_key(extra) || headers.iter().any(|h| extra == h),
                "{name}: line {extra:?} is new\n--- before\n{before}\n--- after\n{after}"
            );
            j += 1;
        }
        assert!(
            j < new.len(),
            "{name}: line {l:?} is lost\n--- before\n{before}\n--- after\n{after}"
        );
        j += 1;
    }
}

#[test]
fn configure_edits_every_corpus_file_botocore_reads_and_changes_only_what_it_sets() {
    let s = Sandbox::new();
    let (files, paths, boto) = written_corpus(&s);
    let mut edited = Vec::new();
    let mut expect = Vec::new();
    let (mut in_place, mut refused) = (0, 0);
    for (i, (name, bytes)) in files.iter().enumerate() {
        if boto[i].get("error").is_some() {
            continue;
        }
        let before = String::from_utf8(bytes.clone()).unwrap();
        let raw = &boto[i]["raw"];
        // An existing session and profile when the file has them (edited in place), else
        // new names that need quoting.
        let session = raw["sso_sessions"]
            .as_object()
            .and_then(|m| m.keys().next().cloned())
            .unwrap_or_else(|| "corpus sess".into());
        let profile = raw["profiles"]
            .as_object()
            .and_then(|m| m.keys().next().cloned())
            .unwrap_or_else(|| "corpus dev".into());
        token_for(&s, &session);
        let run = ssoenv(
            &s,
            &paths[i],
            &[
                "configure",
                "sso-session",
                "--sso-session",
                &session,
                "--sso-start-url",
                EDIT_URL,
                "--sso-region",
                "eu-west-1",
                "--sso-registration-scopes",
                "sso:account:access",
                "--force",
            ],
        );
        assert_eq!(run.code, 0, "{name}: {}", run.stderr);
        let mid = std::fs::read_to_string(&paths[i]).unwrap();
        let run = ssoenv(
            &s,
            &paths[i],
            &[&wizard(&session, &profile)[..], &["--force"]].concat(),
        );
        let after = std::fs::read_to_string(&paths[i]).unwrap();
        if run.code != 0 {
            // The wizard writes nothing when the profile would then resolve in neither tool:
            // a value it does not set is bad already (botocore refuses the profile as it
            // stands), or a [DEFAULT] key differs from the session.
            run.fails_after_progress(1, "not changed");
            assert_eq!(after, mid, "{name}: nothing written");
            let broken = boto[i]["resolved"][&profile].get("error").is_some();
            let key = run
                .stderr
                .split(" sets ")
                .nth(1)
                .and_then(|r| r.split(", which differs from [sso-session").next());
            let from_default = key.is_some_and(|key| {
                before
                    .split("[DEFAULT]")
                    .skip(1)
                    .any(|sec| sec.split("\n[").next().unwrap_or("").contains(key))
            });
            assert!(broken || from_default, "{name}: {}", run.stderr);
            refused += 1;
            continue;
        }
        assert_eq!(run.code, 0, "{name}: {}", run.stderr);
        let headers = [
            format!("[profile {}]", quote(&profile)),
            format!("[sso-session {}]", quote(&session)),
            "[default]".to_string(),
        ];
        let keys = [
            "sso_start_url",
            "sso_region",
            "sso_registration_scopes",
            "sso_session",
            "sso_account_id",
            "sso_role_name",
        ];
        only_set_lines_differ(name, &before, &after, &keys, &headers);
        let new_headers = headers
            .iter()
            .filter(|h| after.contains(h.as_str()) && !before.contains(h.as_str()))
            .count();
        if raw["profiles"].as_object().is_some_and(|m| !m.is_empty()) && new_headers == 0 {
            in_place += 1;
        }
        let copy = s.dir.path().join(format!("edited-{i}"));
        std::fs::copy(&paths[i], &copy).unwrap();
        edited.push((name, copy));
        expect.push((session, profile));
    }
    let paths: Vec<PathBuf> = edited.iter().map(|(_, p)| p.clone()).collect();
    let boto = botocore(&s, &paths);
    for (k, (name, path)) in edited.iter().enumerate() {
        let b = &boto[k];
        assert!(
            b.get("error").is_none(),
            "{name}: botocore refuses the edited file: {b}"
        );
        let (session, profile) = &expect[k];
        let p = &b["raw"]["profiles"][profile];
        assert_eq!(p["sso_session"], session.as_str(), "{name}: {b}");
        assert_eq!(p["sso_account_id"], "111111111111", "{name}");
        assert_eq!(p["sso_role_name"], "ReadOnly", "{name}");
        assert_eq!(
            b["raw"]["sso_sessions"][session]["sso_start_url"], EDIT_URL,
            "{name}"
        );
        // And ssoenv still reads the edited file as botocore does.
        agree(name, path, b, &ssoenv_view(&s, path));
    }
    assert!(edited.len() >= 45, "{} files edited", edited.len());
    assert!(in_place >= 30, "{in_place} files edited in place");
    assert!(refused >= 2, "the [DEFAULT] cases are refused");
}

/// The quoting the AWS CLI gives a section name (`shlex.quote` when it has white space).
fn quote(name: &str) -> String {
    let safe = |c: char| c.is_ascii_alphanumeric() || "_@%+=:,./-".contains(c);
    if name.chars().all(safe) {
        name.to_string()
    } else {
        format!("'{}'", name.replace('\'', "'\"'\"'"))
    }
}

#[test]
fn the_aws_clis_quoted_names_edit_in_place() {
    let s = Sandbox::new();
    let session =
        format!("[sso-session 'corp sess']\nsso_start_url = {EDIT_URL}\nsso_region = eu-west-1\n");
    s.write_config(&format!(
        "[profile 'my dev']\nsso_session = corp sess\nsso_account_id = 1\nsso_role_name = r\n\n{session}"
    ));
    token_for(&s, "corp sess");
    let run = s.run(&[&wizard("corp sess", "my dev")[..], &["--force"]].concat());
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(
        std::fs::read_to_string(s.config_path()).unwrap(),
        format!(
            "[profile 'my dev']\nsso_session = corp sess\nsso_account_id = 111111111111\nsso_role_name = ReadOnly\n\n{session}"
        )
    );
    s.run(&["status", "my dev", "--json"]).ok();
}

#[test]
fn names_are_written_so_botocore_reads_them_back_or_refused_naming_the_flag() {
    let s = Sandbox::new();
    std::fs::remove_file(s.config_path()).unwrap();
    let mut names = BTreeSet::new();
    for (session, profile) in [
        ("it's", "o'brien"),
        ("corp sess", "\"quoted\""),
        ("plain", "my dev"),
    ] {
        token_for(&s, session);
        let run = s.run(&wizard(session, profile));
        assert_eq!(run.code, 0, "{profile}: {}", run.stderr);
        names.insert(profile.to_string());
    }
    let boto = botocore(&s, &[s.config_path()]);
    let listed: BTreeSet<String> = boto[0]["profiles"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap().to_string())
        .collect();
    assert_eq!(listed, names);
    for p in &names {
        assert!(
            boto[0]["resolved"][p]["accountId"] == "111111111111",
            "{p}: {boto:?}"
        );
    }
    let before = std::fs::read(s.config_path()).unwrap();
    for (flag, bad) in [
        ("--profile", "two\nlines"),
        ("--profile", ""),
        ("--profile", "bell\u{7}"),
        ("--sso-session", " padded "),
    ] {
        let mut args = wizard("plain", "ok");
        let at = args.iter().position(|a| *a == flag).unwrap();
        args[at + 1] = bad;
        let run = s.run(&args);
        assert_eq!(
            (run.code, run.stdout.as_str()),
            (2, ""),
            "{bad:?}: {}",
            run.stderr
        );
        assert!(run.stderr.contains(flag), "{bad:?}: {}", run.stderr);
        assert!(
            !run.stderr.trim_end().contains(|c: char| c.is_control()),
            "{:?}",
            run.stderr
        );
    }
    assert_eq!(std::fs::read(s.config_path()).unwrap(), before);
}
