//! Daily use without surprises: messages that say what to run, help that shows what a user
//! types, and edits that change only what was asked.

use crate::support::*;

#[test]
fn a_mistyped_subcommand_is_suggested_not_taken_for_a_profile() {
    let s = Sandbox::signed_in();
    s.run(&["stauts"]).fails(
        2,
        "'stauts' is neither a subcommand nor a profile; did you mean `ssoenv status`?",
    );
    // A word close to a profile stays a profile typo.
    s.run(&["deb"]).fails(1, "did you mean dev");
}

#[test]
fn no_profile_and_no_default_says_how_to_pick_one() {
    let s = Sandbox::signed_in();
    s.write_config(&CONFIG.replace("[default]", "[profile plain]"));
    let run = s.run(&[]);
    run.fails(2, "no profile given (no argument, no AWS_PROFILE)");
    assert!(
        run.stderr
            .contains("with one of: plain, dev, admin, legacy, static")
            && run.stderr.contains("`ssoenv list` shows all"),
        "{}",
        run.stderr
    );
}

#[test]
fn deny_says_whether_it_withdrew_trust() {
    let s = Sandbox::signed_in();
    let proj = s.dir.path().join("proj");
    std::fs::create_dir_all(&proj).unwrap();
    std::fs::write(proj.join(".ssoenv"), "dev\n").unwrap();
    let dir = proj.to_str().unwrap();
    s.run(&["allow", dir]).ok();
    let run = s.run(&["deny", dir]);
    assert!(
        run.stderr.contains("is no longer trusted"),
        "{}",
        run.stderr
    );
    run.ok();
    let run = s.run(&["deny", dir]);
    assert!(
        run.stderr.contains("was not trusted; nothing to do"),
        "{}",
        run.stderr
    );
    run.ok();
}

#[test]
fn help_shows_what_users_type_and_hides_what_hooks_use() {
    let s = Sandbox::new();
    let help = s.run(&["--help"]).ok().to_string();
    for shown in [
        "use ",
        "clear ",
        "Out-String | Invoke-Expression",
        "login",
        "status",
    ] {
        assert!(help.contains(shown), "{shown} missing:\n{help}");
    }
    for hidden in ["--auto", "--from-dir"] {
        assert!(!help.contains(hidden), "{hidden} shown:\n{help}");
    }
    let hook = s.run(&["hook", "--help"]).ok().to_string();
    for line in [
        "eval \"$(ssoenv hook bash)\"",
        "eval \"$(ssoenv hook zsh)\"",
        "ssoenv hook fish | source",
        "ssoenv hook pwsh | Out-String",
        "ssoenv hook nu",
        "use ssoenv PROFILE",
    ] {
        assert!(hook.contains(line), "{line} missing:\n{hook}");
    }
    let logout = s.run(&["logout", "--help"]).ok().to_string();
    assert!(!logout.contains("(the default)"), "{logout}");
}

#[test]
fn configure_sso_session_adds_no_scopes_to_a_session_that_has_none_unless_asked() {
    let s = Sandbox::new();
    let without = CONFIG.replace("sso_registration_scopes = sso:account:access\n", "");
    s.write_config(&without);
    let base = [
        "configure",
        "sso-session",
        "--sso-session",
        "corp",
        "--sso-start-url",
        START_URL,
        "--sso-region",
        "us-east-1",
    ];
    let run = s.run(&base);
    assert!(run.stderr.contains("is already so"), "{}", run.stderr);
    assert_eq!(std::fs::read_to_string(s.config_path()).unwrap(), without);
    // Asked for: written.
    let run = s.run(
        &[
            &base[..],
            &["--sso-registration-scopes", "sso:account:access"],
        ]
        .concat(),
    );
    run.ok();
    assert!(
        std::fs::read_to_string(s.config_path())
            .unwrap()
            .contains("sso_region = us-east-1\nsso_registration_scopes = sso:account:access\n")
    );
}

#[test]
fn timeouts_are_reported_without_library_jargon() {
    let mut s = Sandbox::signed_in();
    s.mock.fault_always(Route::GetRoleCredentials, Fault::Hang);
    s.set("SSOENV_TIMEOUT", "0.5");
    let run = s.run(&["dev"]);
    run.fails(
        1,
        "no answer in time; SSOENV_TIMEOUT sets the limit in seconds",
    );
    assert!(!run.stderr.contains("global"), "{}", run.stderr);
}

#[test]
fn doctor_finds_each_problem_offline_and_says_what_to_run() {
    let bin_dir = std::path::Path::new(BIN)
        .parent()
        .unwrap()
        .display()
        .to_string();
    let path = format!("{bin_dir}:/usr/bin:/bin");
    // Healthy: on PATH, signed in, the plugin loaded with its hook.
    let mut s = Sandbox::signed_in();
    s.set("PATH", &path)
        .set("SSOENV_PLUGIN", "bash")
        .set("SSOENV_HOOK", "1");
    s.run(&["dev"]).ok();
    // The legacy profile's login, signed in too.
    let legacy = std::fs::read_to_string(s.token_path("corp")).unwrap();
    s.write_token_raw(START_URL, &legacy);
    let run = s.run(&["doctor"]);
    let out = run.ok().to_string();
    assert!(out.ends_with("no problems found\n"), "{out}");
    assert!(
        out.contains("profile 'dev': credentials cached until"),
        "{out}"
    );
    assert!(out.contains("signed in to sso-session 'corp'"), "{out}");
    assert_eq!(
        s.mock.requests().len(),
        1,
        "doctor is offline (the 1 is the export)"
    );
    // Broken: a bad profile, no token, the prompt hook gone, a bad setting, not on PATH.
    let mut s = Sandbox::new();
    s.write_config(&format!(
        "{CONFIG}\n[profile broken]\nsso_session = nope\nsso_account_id = 1\nsso_role_name = r\n"
    ));
    s.set("PATH", "/usr/bin:/bin")
        .set("SSOENV_PLUGIN", "zsh")
        .set("SSOENV_HOOK", "0")
        .set("SSOENV_TIMEOUT", "abc")
        .set("SHELL", "/usr/bin/zsh");
    let run = s.run(&["doctor"]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(run.stderr.contains("problems found"), "{}", run.stderr);
    for needle in [
        "PROBLEM  ssoenv is not on PATH",
        &format!("fix: add {bin_dir} to PATH"),
        "PROBLEM  SSOENV_TIMEOUT=abc: not valid",
        "PROBLEM  profile 'broken' names sso_session 'nope'",
        "PROBLEM  not signed in to sso-session 'corp'",
        "fix: run `ssoenv login dev`",
        "PROBLEM  the zsh plugin is loaded but its prompt hook is gone",
        "eval \"$(ssoenv hook zsh)\"",
    ] {
        assert!(run.stdout.contains(needle), "{needle}:\n{}", run.stdout);
    }
}

#[test]
fn signing_in_shows_a_live_wait_line_on_a_terminal_and_nothing_extra_elsewhere() {
    let s = Sandbox::new();
    s.mock
        .set_device_approval(crate::support::mock::DeviceApproval::AfterPolls(3));
    let mut tmux = crate::plugins::Tmux::new(s.dir.path());
    let env: Vec<(String, String)> = s
        .cmd(&[])
        .get_envs()
        .filter_map(|(k, v)| Some((k.to_str()?.into(), v?.to_str()?.into())))
        .collect();
    let script =
        format!("'{BIN}' login dev --use-device-code --no-browser; echo DONE=$?; sleep 60");
    let term = tmux.open(&env, &["sh", "-c", &script]);
    term.wait_for("left)");
    let live = term.screen();
    assert!(live.contains("waiting for you to confirm code"), "{live}");
    term.wait_for("DONE=0");
    let done = term.screen();
    assert!(
        !done.contains("left)"),
        "the line is erased when the wait ends:\n{done}"
    );
    // Without a terminal: the first lines only, no line redrawn in place.
    let s = Sandbox::new();
    let run = s.run(&["login", "dev", "--use-device-code", "--no-browser"]);
    run.ok();
    assert!(
        !run.stderr.contains('\r') && !run.stderr.contains("left)"),
        "{:?}",
        run.stderr
    );
}

#[test]
fn console_links_through_the_portal_with_no_credential_and_opens_the_browser() {
    let mut s = Sandbox::signed_in();
    let url = s
        .run(&["console", "dev", "--print", "--destination", "s3"])
        .ok()
        .to_string();
    assert_eq!(
        url,
        "https://corp.awsapps.com/start/#/console?account_id=111111111111&role_name=ReadOnly&destination=https%3A%2F%2Fconsole.aws.amazon.com%2Fs3%2Fhome%3Fregion%3Deu-west-2\n"
    );
    assert!(!url.contains(ACCESS_TOKEN) && !url.contains("ASIA"));
    assert_eq!(s.mock.requests().len(), 0, "offline, no credential fetched");
    // Without --print: the browser (BROWSER) gets the link as one argument.
    let seen = s.dir.path().join("seen-url");
    let browser = s.dir.path().join("browser");
    std::fs::write(
        &browser,
        format!("#!/bin/sh\nprintf '%s' \"$1\" > '{}'\n", seen.display()),
    )
    .unwrap();
    std::fs::set_permissions(
        &browser,
        std::os::unix::fs::PermissionsExt::from_mode(0o755),
    )
    .unwrap();
    s.set("BROWSER", browser.to_str().unwrap());
    let run = s.run(&["console", "legacy", "--region", "us-east-1"]);
    assert_eq!(run.stdout, "", "{}", run.stderr);
    let t = std::time::Instant::now();
    while !seen.exists() && t.elapsed() < std::time::Duration::from_secs(5) {
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    assert_eq!(
        std::fs::read_to_string(&seen).unwrap(),
        "https://corp.awsapps.com/start/#/console?account_id=222222222222&role_name=ReadOnly&destination=https%3A%2F%2Fconsole.aws.amazon.com%2Fconsole%2Fhome%3Fregion%3Dus-east-1"
    );
    s.run(&["console", "dev", "--print", "--destination", "javascript:x"])
        .fails(2, "--destination");
}

#[test]
fn a_headless_session_signs_in_with_a_device_code_and_port_fixes_the_browser_flows_port() {
    for (var, value) in [
        ("SSH_CONNECTION", "10.0.0.1 5000 10.0.0.2 22"),
        ("CODESPACES", "true"),
        ("REMOTE_CONTAINERS", "true"),
    ] {
        let mut s = Sandbox::new();
        s.set(var, value).set("DISPLAY", ":0");
        let run = s.run(&["login", "dev", "--no-browser"]);
        assert_eq!(run.code, 0, "{var}: {}", run.stderr);
        assert!(
            run.stderr
                .contains("signing in with a device code: this is")
                && run.stderr.contains("--no-device-code uses the browser"),
            "{var}: {}",
            run.stderr
        );
        assert_eq!(s.mock.count(Route::StartDeviceAuthorization), 1, "{var}");
    }
    // --port: exactly that port on 127.0.0.1, and over SSH the forwarding line.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut s = Sandbox::new();
    s.set("SSH_CONNECTION", "10.0.0.1 5000 10.0.0.2 22");
    let run = s.run(&[
        "login",
        "dev",
        "--no-browser",
        "--no-device-code",
        "--port",
        &port.to_string(),
        "--timeout",
        "1",
    ]);
    assert!(
        run.stderr
            .contains(&format!("ssh -L {port}:127.0.0.1:{port}")),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr
            .contains(&format!("127.0.0.1%3A{port}%2Foauth%2Fcallback")),
        "{}",
        run.stderr
    );
    assert_eq!(s.mock.count(Route::StartDeviceAuthorization), 0);
}
