//! `ssoenv configure`, `configure sso-session`, `configure populate`, `accounts` and `roles`
//! against the mock: the wizard with flags and answered through a terminal (tmux), populate
//! over many pages, and the config file kept byte for byte outside what changes.

use std::os::unix::fs::PermissionsExt;
use std::process::Command;

use crate::plugins::Tmux;
use crate::support::*;

/// A config as people have them: comments, odd spacing, nested values, services, CRLF-free.
const REALISTIC: &str = "\
; managed partly by hand
# and partly by tools

[default]
region=eu-west-1
output =   json
s3 =
    max_concurrent_requests = 20
    addressing_style = path

[profile  dev]
sso_session = corp
sso_account_id = 111111111111
sso_role_name = ReadOnly
# a comment inside a section
cli_pager=

[sso-session corp]
sso_start_url = https://corp.awsapps.com/start
sso_region = us-east-1
sso_registration_scopes = sso:account:access

[services local]
s3 =
  endpoint_url = http://localhost:4566

[plugins]
cli_legacy_plugin_path = /opt/plugins
;trailing comment without newline";

const DEMO: &[&str] = &[
    "--sso-start-url",
    "https://demo.awsapps.com/start",
    "--sso-region",
    "us-east-1",
    "--use-device-code",
    "--no-browser",
];

/// Where the demo session signs in.
const DEMO_SESSION: [&str; 4] = [
    "--sso-start-url",
    "https://demo.awsapps.com/start",
    "--sso-region",
    "us-east-1",
];

fn wizard(s: &Sandbox, extra: &[&str]) -> Run {
    let mut args = vec!["configure"];
    args.extend_from_slice(DEMO);
    args.extend_from_slice(extra);
    s.run(&args)
}

/// botocore, the AWS SDK for Python, run on the sandbox's HOME and mock; its stdout.
fn botocore(s: &Sandbox, code: &str) -> String {
    let py = Command::new(crate::interop::python())
        .args(["-c", code])
        .env_clear()
        .env("HOME", s.home())
        .env("AWS_ENDPOINT_URL_SSO", s.mock.url())
        .env("AWS_ENDPOINT_URL_SSO_OIDC", s.mock.url())
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .output()
        .unwrap();
    assert!(
        py.status.success(),
        "botocore: {}",
        String::from_utf8_lossy(&py.stderr)
    );
    String::from_utf8_lossy(&py.stdout).trim().to_string()
}

fn config(s: &Sandbox) -> String {
    std::fs::read_to_string(s.config_path()).unwrap()
}

#[test]
fn the_wizard_with_flags_signs_in_and_writes_a_profile_botocore_and_ssoenv_use() {
    let s = Sandbox::new();
    std::fs::remove_file(s.config_path()).unwrap();
    let out = wizard(
        &s,
        &[
            "--sso-session",
            "demo",
            "--sso-account-id",
            "222222222222",
            "--sso-role-name",
            "ReadOnly",
            "--region",
            "eu-west-1",
            "--output",
            "json",
            "--profile",
            "prod-ro",
        ],
    );
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_eq!(out.stdout, "");
    assert_eq!(
        config(&s),
        "[sso-session demo]\nsso_start_url = https://demo.awsapps.com/start\nsso_region = us-east-1\nsso_registration_scopes = sso:account:access\n\n\
         [profile prod-ro]\nsso_session = demo\nsso_account_id = 222222222222\nsso_role_name = ReadOnly\nregion = eu-west-1\noutput = json\n"
    );
    let mode = std::fs::metadata(s.config_path())
        .unwrap()
        .permissions()
        .mode()
        & 0o777;
    assert_eq!(mode, 0o600);
    // ssoenv reads it back and gets the mock's credentials...
    let vals = eval_posix(
        s.run(&["prod-ro"]).ok(),
        &["AWS_ACCESS_KEY_ID", "AWS_REGION"],
    );
    assert_eq!(
        vals[0],
        s.mock.issued_credentials().last().unwrap().access_key_id
    );
    assert_eq!(vals[1], "eu-west-1");
    // ... and so does botocore, with the same login.
    assert_eq!(
        botocore(
            &s,
            "import botocore.session as b; c = b.Session(profile='prod-ro').get_credentials(); print(c.access_key)"
        ),
        s.mock.issued_credentials().last().unwrap().access_key_id
    );
}

#[test]
fn without_a_terminal_a_missing_answer_names_its_flag_and_nothing_is_written() {
    let s = Sandbox::new();
    let before = config(&s);
    wizard(&s, &["--sso-session", "demo"]).fails_after_progress(2, "--sso-account-id");
    wizard(
        &s,
        &["--sso-session", "demo", "--sso-account-id", "111111111111"],
    )
    .fails_after_progress(2, "--sso-role-name");
    s.run(&[
        "configure",
        "--sso-start-url",
        "https://x.awsapps.com/start",
    ])
    .fails(2, "--sso-session");
    assert_eq!(config(&s), before);
}

#[test]
fn the_default_profile_name_is_role_and_account_and_legacy_form_works() {
    let s = Sandbox::new();
    let before = config(&s);
    let out = wizard(
        &s,
        &["--sso-session", "", "--sso-account-id", "222222222222"],
    );
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(
        out.stderr.contains("Using the only role: ReadOnly"),
        "{}",
        out.stderr
    );
    assert_eq!(
        config(&s),
        format!(
            "{before}\n[profile ReadOnly-222222222222]\nsso_start_url = https://demo.awsapps.com/start\nsso_region = us-east-1\nsso_account_id = 222222222222\nsso_role_name = ReadOnly\n"
        )
    );
    s.run(&["ReadOnly-222222222222"]).ok();
}

#[test]
fn bad_answers_are_refused_by_name_and_leave_the_file_alone() {
    let s = Sandbox::new();
    let before = config(&s);
    let base = [
        "configure",
        "--sso-session",
        "demo",
        "--use-device-code",
        "--no-browser",
    ];
    let run = |extra: &[&str]| s.run(&[&base[..], extra].concat());
    run(&[
        "--sso-start-url",
        "http://demo.awsapps.com/start",
        "--sso-region",
        "us-east-1",
    ])
    .fails(1, "http://demo.awsapps.com/start");
    run(&["--sso-start-url", "not a url", "--sso-region", "us-east-1"])
        .fails(1, "not an https:// URL");
    run(&[
        "--sso-start-url",
        "https://demo.awsapps.com/start",
        "--sso-region",
        "us-east-1.evil.example/",
    ])
    .fails(1, "us-east-1.evil.example/");
    fn full(profile: &str) -> Vec<&str> {
        vec![
            "--sso-start-url",
            "https://demo.awsapps.com/start",
            "--sso-region",
            "us-east-1",
            "--sso-account-id",
            "111111111111",
            "--sso-role-name",
            "Admin",
            "--profile",
            profile,
        ]
    }
    // `dev` exists with another role: refused unless --force.
    run(&full("dev")).fails_after_progress(1, "--force");
    run(&[&DEMO_SESSION[..], &["--sso-account-id", "999999999999"]].concat())
        .fails_after_progress(1, "999999999999");
    assert_eq!(config(&s), before);
    // An account without roles, and no accounts at all.
    s.mock
        .add_account("333333333333", "empty", "e@example.com", &[]);
    run(&[&DEMO_SESSION[..], &["--sso-account-id", "333333333333"]].concat())
        .fails_after_progress(1, "no role");
    s.mock.clear_accounts();
    run(&DEMO_SESSION).fails_after_progress(1, "no AWS account");
    assert_eq!(config(&s), before);
    // With --force the profile changes, in place, and nothing else does.
    s.mock.add_account(
        "111111111111",
        "dev",
        "dev@example.com",
        &["ReadOnly", "Admin"],
    );
    let mut forced = full("dev");
    forced.push("--force");
    let out = run(&forced);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let expected = before.replacen(
        "[profile dev]\nsso_session = corp\nsso_account_id = 111111111111\nsso_role_name = ReadOnly",
        "[profile dev]\nsso_session = demo\nsso_account_id = 111111111111\nsso_role_name = Admin",
        1,
    ) + "\n[sso-session demo]\nsso_start_url = https://demo.awsapps.com/start\nsso_region = us-east-1\nsso_registration_scopes = sso:account:access\n";
    assert_eq!(config(&s), expected);
}

#[test]
fn a_symlinked_config_is_edited_through_the_link_and_a_read_only_one_is_refused() {
    let s = Sandbox::new();
    let real = s.dir.path().join("dotfiles-config");
    std::fs::write(&real, REALISTIC).unwrap();
    std::fs::set_permissions(&real, std::fs::Permissions::from_mode(0o640)).unwrap();
    std::fs::remove_file(s.config_path()).unwrap();
    std::os::unix::fs::symlink(&real, s.config_path()).unwrap();
    let out = s.run(&[
        "configure",
        "sso-session",
        "--sso-session",
        "new",
        "--sso-start-url",
        "https://new.awsapps.com/start",
        "--sso-region",
        "eu-west-1",
    ]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(
        std::fs::symlink_metadata(s.config_path())
            .unwrap()
            .file_type()
            .is_symlink()
    );
    let text = std::fs::read_to_string(&real).unwrap();
    assert_eq!(
        text,
        format!(
            "{REALISTIC}\n\n[sso-session new]\nsso_start_url = https://new.awsapps.com/start\nsso_region = eu-west-1\nsso_registration_scopes = sso:account:access\n"
        )
    );
    assert_eq!(
        std::fs::metadata(&real).unwrap().permissions().mode() & 0o777,
        0o640
    );
    // Read-only: refused, untouched.
    std::fs::set_permissions(&real, std::fs::Permissions::from_mode(0o444)).unwrap();
    s.run(&[
        "configure",
        "sso-session",
        "--sso-session",
        "other",
        "--sso-start-url",
        "https://o.awsapps.com/start",
        "--sso-region",
        "eu-west-1",
    ])
    .fails(1, "read-only");
    assert_eq!(std::fs::read_to_string(&real).unwrap(), text);
}

#[test]
fn accounts_and_roles_list_every_page() {
    let s = Sandbox::signed_in();
    s.mock.set_page_size(1);
    let out = s.run(&["accounts"]).ok().to_string();
    assert_eq!(
        out,
        "ACCOUNT       NAME    EMAIL\n111111111111  dev     dev@example.com\n222222222222  legacy  legacy@example.com\n"
    );
    assert_eq!(s.mock.count(Route::ListAccounts), 2);
    // --debug explains, never with the token.
    let dbg = s.run(&["accounts", "--debug"]);
    assert!(
        !dbg.stderr.is_empty() && !dbg.stderr.contains(ACCESS_TOKEN),
        "{}",
        dbg.stderr
    );
    let v: serde_json::Value = serde_json::from_str(s.run(&["accounts", "--json"]).ok()).unwrap();
    assert_eq!(v[1]["accountName"], "legacy");
    assert_eq!(s.run(&["roles", "111111111111"]).ok(), "Admin\nReadOnly\n");
    // By name too; an unknown account or name is an error, never an empty list.
    assert_eq!(s.run(&["roles", "LEGACY"]).ok(), "ReadOnly\n");
    s.run(&["roles", "12"])
        .fails(1, "no account '12' among the 2");
    s.run(&["roles", "999999999999"])
        .fails(1, "no account '999999999999'");
    s.run(&["roles", "devv"]).fails(1, "did you mean dev?");
    // Without a token: login required, named.
    let s = Sandbox::new();
    s.run(&["accounts"])
        .fails(3, "ssoenv login --sso-session corp");
}

fn populate(s: &Sandbox, extra: &[&str]) -> Run {
    s.run(&[&["configure", "populate"][..], extra].concat())
}

#[test]
fn populate_writes_250_accounts_over_many_pages_updates_in_place_and_prunes_only_its_own() {
    let s = Sandbox::signed_in();
    s.write_config(REALISTIC);
    s.mock.clear_accounts();
    s.mock.set_page_size(20);
    for i in 0..250 {
        let roles: &[&str] = if i % 2 == 0 {
            &["ReadOnly", "Admin"]
        } else {
            &["ReadOnly"]
        };
        s.mock.add_account(
            &format!("{:012}", 100000000000u64 + i),
            &format!("team {i}"),
            "t@example.com",
            roles,
        );
    }
    // A hand-written profile whose name the template would produce: never touched.
    let hand = format!(
        "{REALISTIC}\n\n[profile team-1.ReadOnly]\nsso_session = corp\nsso_account_id = 999999999999\nsso_role_name = Mine\n"
    );
    s.write_config(&hand);
    let out = populate(&s, &["--region", "eu-west-1"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(
        out.stderr.contains(
            "375 profiles for sso-session 'corp': 374 added, 0 updated, 0 removed, 1 left alone"
        ),
        "{}",
        out.stderr
    );
    assert!(
        out.stderr
            .contains("'team-1.ReadOnly' exists and was not generated"),
        "{}",
        out.stderr
    );
    assert!(
        s.mock.count(Route::ListAccounts) >= 13,
        "all pages: {}",
        s.mock.count(Route::ListAccounts)
    );
    let text = config(&s);
    assert!(
        text.starts_with(&hand),
        "everything before is kept byte for byte"
    );
    assert!(text.contains("\n[profile team-0.Admin]\nsso_session = corp\nsso_account_id = 100000000000\nsso_role_name = Admin\nregion = eu-west-1\nssoenv_generated = corp\n"));
    // Each generated profile works.
    let vals = eval_posix(s.run(&["team-249.ReadOnly"]).ok(), &["AWS_REGION"]);
    assert_eq!(vals[0], "eu-west-1");

    // Re-running changes nothing.
    let out = populate(&s, &["--region", "eu-west-1"]);
    assert!(out.stderr.contains("0 added, 0 updated"), "{}", out.stderr);
    assert_eq!(config(&s), text);

    // A generated profile edited by hand is put back in place, nothing else moves.
    let edited = text.replacen(
        "sso_account_id = 100000000007\nsso_role_name = ReadOnly\nregion = eu-west-1",
        "sso_account_id = 100000000007\nsso_role_name = ReadOnly\nregion = us-west-2",
        1,
    );
    assert_ne!(edited, text);
    std::fs::write(s.config_path(), &edited).unwrap();
    let out = populate(&s, &["--region", "eu-west-1"]);
    assert!(out.stderr.contains("0 added, 1 updated"), "{}", out.stderr);
    assert_eq!(config(&s), text);

    // botocore parses the file the way the AWS CLI does and finds every profile.
    assert_eq!(
        botocore(
            &s,
            "import botocore.session as b; s = b.Session(); c = s.full_config['profiles']; print(len(c), c['team-7.ReadOnly']['sso_account_id'], c['default']['s3']['addressing_style'])"
        ),
        "377 100000000007 path"
    );

    // A lost account: --dry-run shows the removal, --prune does it, the hand-written stays.
    s.mock.remove_account("100000000004");
    // Without --prune, the stale profiles are named, not hidden.
    let kept = populate(&s, &["--region", "eu-west-1"]);
    assert!(
        kept.stderr.contains("2 generated profiles no longer match")
            && kept.stderr.contains("team-4.Admin")
            && kept.stderr.contains("--prune removes them"),
        "{}",
        kept.stderr
    );
    let dry = populate(&s, &["--region", "eu-west-1", "--prune", "--dry-run"]);
    assert!(
        dry.stdout.contains("-[profile team-4.Admin]")
            && dry.stdout.contains("-[profile team-4.ReadOnly]"),
        "{}",
        dry.stdout
    );
    assert_eq!(config(&s), text, "dry run writes nothing");
    // The dry run is a unified diff that `patch` applies to give what --prune writes.
    let copy = s.dir.path().join("config.copy");
    std::fs::write(&copy, &text).unwrap();
    let mut patch = Command::new("patch")
        .args(["--quiet", "--force"])
        .arg(&copy)
        .stdin(std::process::Stdio::piped())
        .spawn()
        .expect("patch must be installed (tests/run installs it)");
    std::io::Write::write_all(patch.stdin.as_mut().unwrap(), dry.stdout.as_bytes()).unwrap();
    assert!(patch.wait().unwrap().success());
    populate(&s, &["--region", "eu-west-1", "--prune"]).ok();
    let pruned = config(&s);
    assert_eq!(
        std::fs::read_to_string(&copy).unwrap(),
        pruned,
        "patched = pruned"
    );
    assert!(
        !pruned.contains("[profile team-4.")
            && pruned.contains(
                "[profile team-1.ReadOnly]\nsso_session = corp\nsso_account_id = 999999999999"
            )
    );
    assert!(pruned.starts_with(&hand));
    for line in pruned.lines().filter(|l| l.starts_with('[')) {
        assert!(line.ends_with(']'), "{line}");
    }
}

#[test]
fn populate_refuses_names_that_collide() {
    let s = Sandbox::signed_in();
    s.mock
        .add_account("333333333333", "dev", "x@example.com", &["Admin"]);
    let before = config(&s);
    populate(&s, &[]).fails(1, "would stand for account");
    assert_eq!(config(&s), before);
    populate(&s, &["--template", "{account_id}.{role_name}"]).ok();
    populate(&s, &["--template", "{nope}"]).fails(2, "placeholders");
}

#[test]
fn the_wizard_answered_in_a_terminal_filters_accounts_and_ctrl_c_writes_nothing() {
    let s = Sandbox::new();
    for i in 0..30 {
        s.mock.add_account(
            &format!("{:012}", 500000000000u64 + i),
            &format!("web {i}"),
            "w@example.com",
            &["Dev"],
        );
    }
    let before = config(&s);
    let bin_dir = std::path::Path::new(BIN)
        .parent()
        .unwrap()
        .display()
        .to_string();
    let env = vec![
        ("HOME".to_string(), s.home().display().to_string()),
        ("PATH".to_string(), format!("{bin_dir}:/usr/bin:/bin")),
        ("TERM".to_string(), "xterm".to_string()),
        ("AWS_ENDPOINT_URL_SSO".to_string(), s.mock.url()),
        ("AWS_ENDPOINT_URL_SSO_OIDC".to_string(), s.mock.url()),
    ];
    let mut tmux = Tmux::new(s.dir.path());
    let t = tmux.open(&env, &["bash", "--norc", "--noprofile", "-i"]);
    // First run: Ctrl-C at the account picker.
    t.line("ssoenv configure --use-device-code --no-browser; echo \"rc=$?\"");
    t.wait_for("SSO session name");
    t.line("demo");
    t.wait_for("SSO start URL");
    t.line("https://demo.awsapps.com/start");
    t.wait_for("SSO region");
    t.line("us-east-1");
    t.wait_for("SSO registration scopes [sso:account:access]");
    t.line("");
    t.wait_for("32 accounts");
    t.keys("C-c");
    t.sync();
    assert_eq!(config(&s), before, "nothing written after Ctrl-C");

    // Second run: filter to one account by typing, take the defaults.
    t.line("clear; ssoenv configure --use-device-code --no-browser; echo \"rc=$?\"");
    t.wait_for("SSO session name");
    t.line("demo");
    t.wait_for("SSO start URL");
    t.line("https://demo.awsapps.com/start");
    t.wait_for("SSO region");
    t.line("us-east-1");
    t.wait_for("scopes");
    t.line("");
    t.wait_for("... 12 more");
    t.line("web 2");
    t.wait_for("matching 'web 2'");
    t.line("web 27");
    t.wait_for("Default client region");
    t.line("ap-southeast-2");
    t.wait_for("output format");
    t.line("");
    t.wait_for("Profile name [Dev-500000000027]");
    t.line("");
    t.wait_for("rc=0");
    assert!(
        t.screen().contains("Using the only role: Dev"),
        "{}",
        t.screen()
    );
    let text = config(&s);
    assert!(text.starts_with(&before));
    assert!(
        text.ends_with("[profile Dev-500000000027]\nsso_session = demo\nsso_account_id = 500000000027\nsso_role_name = Dev\nregion = ap-southeast-2\n"),
        "{text}"
    );
}

#[test]
fn populate_lists_1000_accounts_roles_a_few_at_a_time_with_the_same_requests() {
    let s = Sandbox::signed_in();
    s.mock.clear_accounts();
    s.mock.set_page_size(100);
    for i in 0..1000u64 {
        s.mock.add_account(
            &format!("{:012}", 200000000000u64 + i),
            &format!("acct {i}"),
            "a@example.com",
            &["Admin", "ReadOnly", "Billing"],
        );
    }
    s.mock.fault_always(
        Route::ListAccountRoles,
        Fault::Delay(std::time::Duration::from_millis(10)),
    );
    // The API throttles a while: more than the HTTP layer's three attempts for one account.
    for _ in 0..4 {
        s.mock.fault(
            Route::ListAccountRoles,
            Fault::Status {
                status: 429,
                error_type: "TooManyRequestsException".into(),
                message: "Rate exceeded".into(),
            },
        );
    }
    let out = populate(&s, &["--template", "{account_id}.{role_name}"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(
        out.stderr
            .contains("3000 profiles for sso-session 'corp': 3000 added"),
        "{}",
        out.stderr
    );
    // Every account's roles asked for (one page each), the listing's 10 pages, nothing twice
    // but the throttled request.
    let reqs = s.mock.requests();
    let mut asked: Vec<String> = reqs
        .iter()
        .filter(|r| r.route == Route::ListAccountRoles)
        .map(|r| r.param("account_id").unwrap().to_string())
        .collect();
    assert_eq!(
        asked.len(),
        1000 + 4,
        "one each, plus the 4 throttled answers"
    );
    asked.sort();
    asked.dedup();
    assert_eq!(asked.len(), 1000);
    assert_eq!(
        reqs.iter()
            .filter(|r| r.route == Route::ListAccounts)
            .count(),
        10
    );
    let most = s.mock.most_in_flight();
    assert!((2..=8).contains(&most), "{most} at once");
    // The same file again: deterministic, nothing to change.
    let first = config(&s);
    let again = populate(&s, &["--template", "{account_id}.{role_name}"]);
    assert!(
        again.stderr.contains("0 added, 0 updated"),
        "{}",
        again.stderr
    );
    assert_eq!(config(&s), first);
}
