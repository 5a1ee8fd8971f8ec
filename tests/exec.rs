//! `ssoenv exec`: a command run with a profile's credentials, its arguments byte for byte,
//! ssoenv replaced by it (its pid, its exit status, its signals), and shells' codes for a
//! command that cannot run.

use std::os::unix::process::ExitStatusExt;
use std::process::{Command, Stdio};

use crate::support::*;

fn exec(s: &Sandbox, args: &[&str]) -> Command {
    let mut c = s.cmd(&[&["exec", "dev", "--"][..], args].concat());
    c.stdout(Stdio::piped()).stderr(Stdio::piped());
    c
}

/// Starts a command that traps `sig`, waits until it says it is ready, sends `sig` to the
/// process ssoenv started, and returns the exit code the command ended with.
fn trapped(mut c: Command, sig: &str) -> Option<i32> {
    let mut child = c.spawn().unwrap();
    let mut ready = String::new();
    std::io::BufRead::read_line(
        &mut std::io::BufReader::new(child.stdout.as_mut().unwrap()),
        &mut ready,
    )
    .unwrap();
    assert_eq!(ready.trim(), "ready");
    Command::new("kill")
        .args([&format!("-{sig}"), &child.id().to_string()])
        .status()
        .unwrap();
    child.wait().unwrap().code()
}

#[test]
fn the_command_gets_the_credentials_and_its_arguments_exactly() {
    let s = Sandbox::signed_in();
    let nasty = [
        "a b",
        "it's",
        "\"q\"",
        "line\nbreak",
        "$(touch CANARY)",
        "",
        "-x",
    ];
    let mut args = vec![
        "python3",
        "-c",
        "import json, os, sys; print(json.dumps([sys.argv[1:], {k: os.environ.get(k) for k in ['AWS_ACCESS_KEY_ID', 'AWS_ACCOUNT_ID', 'AWS_REGION', 'AWS_PROFILE', 'SSOENV_STAMP']}]))",
    ];
    args.extend(nasty);
    let out = exec(&s, &args).output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v[0], serde_json::json!(nasty));
    let creds = s.mock.issued_credentials();
    assert_eq!(v[1]["AWS_ACCESS_KEY_ID"], creds[0].access_key_id.as_str());
    assert_eq!(v[1]["AWS_ACCOUNT_ID"], "111111111111");
    assert_eq!(v[1]["AWS_REGION"], "eu-west-2");
    assert_eq!(v[1]["AWS_PROFILE"], "dev");
    assert_eq!(
        v[1]["SSOENV_STAMP"],
        serde_json::Value::Null,
        "no plugin bookkeeping"
    );
    assert!(!s.home().join("CANARY").exists());
}

#[test]
fn ssoenv_becomes_the_command_exit_status_and_signals_included() {
    let s = Sandbox::signed_in();
    for code in [0, 3, 42] {
        let out = exec(&s, &["sh", "-c", &format!("exit {code}")])
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(code));
    }
    let out = exec(&s, &["sh", "-c", "kill -TERM $$"]).output().unwrap();
    assert_eq!(out.status.signal(), Some(15));
    // The command runs in ssoenv's own process: the pid the caller started is the command's.
    let child = exec(&s, &["sh", "-c", "echo $$"]).spawn().unwrap();
    let pid = child.id();
    let out = child.wait_with_output().unwrap();
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), pid.to_string());
    // Ctrl-C reaches it.
    let script = "trap 'exit 7' INT; echo ready; while :; do sleep 0.05; done";
    assert_eq!(trapped(exec(&s, &["sh", "-c", script]), "INT"), Some(7));
}

#[test]
fn a_command_that_cannot_run_exits_127_or_126_with_one_line() {
    let s = Sandbox::signed_in();
    let run: Run = exec(&s, &["no-such-command-here"]).output().unwrap().into();
    run.fails(127, "no-such-command-here: command not found");
    let file = s.dir.path().join("not-executable");
    std::fs::write(&file, "#!/bin/sh\n").unwrap();
    let run: Run = exec(&s, &[file.to_str().unwrap()]).output().unwrap().into();
    run.fails(126, "cannot run it");
    // No command at all is a usage error; a login problem is the export's.
    let run = s.run(&["exec", "dev"]);
    assert_eq!((run.code, run.stdout.as_str()), (2, ""));
    assert!(run.stderr.contains("<COMMAND>"), "{}", run.stderr);
    let fresh = Sandbox::new();
    let run: Run = exec(&fresh, &["true"]).output().unwrap().into();
    run.fails(3, "ssoenv login");
}

fn exec_server(s: &Sandbox, args: &[&str]) -> Command {
    let mut c = s.cmd(&[&["exec", "--server", "dev", "--"][..], args].concat());
    c.stdout(Stdio::piped()).stderr(Stdio::piped());
    c
}

#[test]
fn with_server_the_command_gets_an_endpoint_not_the_keys_and_its_status_comes_back() {
    let mut s = Sandbox::signed_in();
    // Keys the caller's shell holds must not reach the command.
    s.set("AWS_ACCESS_KEY_ID", "ASIAPARENT")
        .set("AWS_PROFILE", "admin");
    let script = "import os, botocore.session as b\nassert 'AWS_ACCESS_KEY_ID' not in os.environ and 'AWS_PROFILE' not in os.environ\nc = b.Session().get_credentials()\nprint(c.method, c.get_frozen_credentials().access_key, os.environ['AWS_REGION'])\nraise SystemExit(42)";
    let py = crate::interop::python();
    let out = exec_server(&s, &[&py, "-c", script]).output().unwrap();
    assert_eq!(
        out.status.code(),
        Some(42),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8_lossy(&out.stdout).to_string();
    let issued = s.mock.issued_credentials();
    assert_eq!(
        text.trim(),
        format!("container-role {} eu-west-2", issued[0].access_key_id)
    );
    // A signal that ends the command comes back as 128 + N; SIGTERM to ssoenv reaches it.
    let out = exec_server(&s, &["sh", "-c", "kill -TERM $$"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(128 + 15));
    let script = "trap 'exit 9' TERM; echo ready; while :; do sleep 0.05; done";
    assert_eq!(
        trapped(exec_server(&s, &["sh", "-c", script]), "TERM"),
        Some(9)
    );
}
