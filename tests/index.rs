//! The config index of a big file: what it serves equals a read of the whole file, any edit
//! is seen at once, and a broken index is never trusted.

use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::support::*;

const PROFILES: usize = 10_000;

/// A big config with a quirk in every tenth profile: quoted names, legacy start URLs, non-SSO
/// profiles, missing keys, the `[profiles NAME]` spelling, nested blocks and continuations,
/// bad regions, one profile in two sections, indented keys with a services section.
fn big_config() -> String {
    let mut t = format!(
        "[DEFAULT]\ncli_pager =\n\n[sso-session corp]\nsso_start_url = {START_URL}\nsso_region = us-east-1\n\n[services local]\nsso =\n  endpoint_url = http://127.0.0.1:9\n"
    );
    for i in 0..PROFILES {
        let a = format!("{i:012}");
        let s = format!("sso_session = corp\nsso_account_id = {a}\nsso_role_name = ReadOnly\n");
        t.push('\n');
        t.push_str(&match i % 10 {
            0 => format!("[profile p{i}]\n{s}region = eu-west-1\n"),
            1 => format!("[profile 'p {i}']\n{s}"),
            2 => format!(
                "[profile p{i}]\nsso_start_url = https://legacy.awsapps.com/start\nsso_region = eu-west-1\nsso_account_id = {a}\nsso_role_name = Admin\n"
            ),
            3 => format!("[profile p{i}]\naws_access_key_id = AKIA{i}\n"),
            4 => format!("[profile p{i}]\nsso_session = corp\nsso_account_id = {a}\n"),
            5 => format!("[profiles p{i}]\n{s}"),
            6 => format!("[profile p{i}]\n{s}s3 =\n  max_concurrent_requests = 10\n\n  addressing_style = path\nnote = one\n  two\n"),
            7 => format!("[profile p{i}]\n{s}region = eu-west-1.evil.example/\n"),
            8 => format!("[profile p{i}]\n{s}region = us-west-1\n[profiles p{i}]\n{s}region = us-west-2\n"),
            _ => format!("[profile p{i}]\n  {}services = local\n", s.replace('\n', "\n  ")),
        });
    }
    t
}

fn name(i: usize) -> String {
    if i % 10 == 1 {
        format!("p {i}")
    } else {
        format!("p{i}")
    }
}

/// Cached role credentials for profile `i`, so that its export needs no network.
fn cache_credentials(s: &Sandbox, i: usize) {
    let account = format!("{i:012}");
    let path = if i % 10 == 2 {
        let key = format!(
            r#"{{"accountId":"{account}","roleName":"Admin","startUrl":"https://legacy.awsapps.com/start"}}"#
        );
        s.home()
            .join(".aws/cli/cache")
            .join(format!("{}.json", sha1_hex(&key)))
    } else {
        s.role_cache_path(&account, "ReadOnly", "corp")
    };
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    let exp = iso(now() + 3000);
    std::fs::write(
        &path,
        format!(r#"{{"ProviderType":"sso","Credentials":{{"AccessKeyId":"ASIA{i}","SecretAccessKey":"s{i}","SessionToken":"t{i}","Expiration":"{exp}","AccountId":"{account}"}}}}"#),
    )
    .unwrap();
}

fn index_path(s: &Sandbox) -> PathBuf {
    s.home().join(".local/state/ssoenv/config.index")
}

/// The file is indexed once it has been left alone for 2 s; this waits that out.
fn settle() {
    std::thread::sleep(Duration::from_millis(3100));
}

/// A run that cannot use or write an index: its state directory cannot be created.
fn run_without_index(s: &Sandbox, args: &[&str]) -> Run {
    let blocker = s.dir.path().join("not-a-dir");
    std::fs::write(&blocker, "").unwrap();
    s.cmd(args)
        .env("XDG_STATE_HOME", blocker.join("state"))
        .output()
        .unwrap()
        .into()
}

fn run_debug(s: &Sandbox, args: &[&str]) -> Run {
    s.cmd(args)
        .env("SSOENV_DEBUG", "1")
        .output()
        .unwrap()
        .into()
}

fn used_index(r: &Run) -> bool {
    r.stderr.contains("by the index")
}

/// The same output, but for the path of the stamp, which lies in the state directory.
fn same(a: &Run, b: &Run, what: &str) {
    let b_out = b.stdout.replace("/not-a-dir/state/", "/home/.local/state/");
    assert_eq!(
        (a.code, &a.stdout, &a.stderr),
        (b.code, &b_out, &b.stderr),
        "{what}"
    );
}

#[test]
fn a_config_of_ten_thousand_profiles_resolves_every_profile_as_a_whole_read_does() {
    let s = Sandbox::new();
    s.write_config(&big_config());
    let sample: Vec<usize> = (0..PROFILES)
        .step_by(331)
        .chain([1, 2, 5, 6, 8, 9, PROFILES - 1])
        .collect();
    for &i in &sample {
        cache_credentials(&s, i);
    }
    settle();
    // The first run reads the whole file and writes the index.
    s.run(&["list"]).ok();
    assert!(index_path(&s).is_file());
    for &i in &sample {
        let n = name(i);
        let by_index = run_debug(&s, &["export", "--json", &n]);
        assert!(
            used_index(&by_index) || by_index.code != 0,
            "{n}: {}",
            by_index.stderr
        );
        let by_index = s.run(&["export", &n]);
        let whole = run_without_index(&s, &["export", &n]);
        same(&by_index, &whole, &n);
        match i % 10 {
            3 => assert!(whole.stderr.contains("not an SSO profile"), "{n}"),
            4 => assert!(whole.stderr.contains("sso_role_name"), "{n}"),
            7 => assert!(whole.stderr.contains("not a region"), "{n}"),
            8 => assert!(
                whole.stdout.contains("us-west-2"),
                "{n}: the last section counts"
            ),
            _ => assert!(
                whole.stdout.contains(&format!("ASIA{i}")),
                "{n}: {}",
                whole.stderr
            ),
        }
    }
    // A profile that is not there: the "did you mean" comes from the whole file.
    same(
        &s.run(&["export", "p99999"]),
        &run_without_index(&s, &["export", "p99999"]),
        "missing profile",
    );
    for args in [&["list", "--long"][..], &["list", "--sso"][..]] {
        let by_index = s.run(args);
        let whole = run_without_index(&s, args);
        same(&by_index, &whole, &args.join(" "));
        assert_eq!(
            by_index.ok().lines().count(),
            if args[1] == "--long" {
                PROFILES
            } else {
                PROFILES - PROFILES / 10
            }
        );
    }
}

/// Puts a file's modification time back, as `touch -d` does.
fn set_mtime(path: &Path, t: std::time::SystemTime) {
    std::fs::File::options()
        .write(true)
        .open(path)
        .unwrap()
        .set_modified(t)
        .unwrap();
}

#[test]
fn an_edit_of_the_same_size_with_the_time_put_back_is_read_at_once() {
    let s = Sandbox::new();
    let text = big_config();
    s.write_config(&text);
    cache_credentials(&s, 10);
    cache_credentials(&s, 20);
    settle();
    let first = run_debug(&s, &["p10"]);
    assert!(first.ok().contains("eu-west-1"));
    assert!(index_path(&s).is_file());
    assert!(used_index(&run_debug(&s, &["p10"])));

    // One byte of p10's region, same size, the modification time restored.
    let path = s.config_path();
    let before = std::fs::metadata(&path).unwrap();
    let edited = text.replacen(
        "[profile p10]\nsso_session = corp\nsso_account_id = 000000000010\nsso_role_name = ReadOnly\nregion = eu-west-1",
        "[profile p10]\nsso_session = corp\nsso_account_id = 000000000010\nsso_role_name = ReadOnly\nregion = eu-west-2",
        1,
    );
    assert_ne!(edited, text);
    std::fs::OpenOptions::new()
        .write(true)
        .open(&path)
        .and_then(|mut f| std::io::Write::write_all(&mut f, edited.as_bytes()))
        .unwrap();
    set_mtime(&path, before.modified().unwrap());
    let after = std::fs::metadata(&path).unwrap();
    assert_eq!(after.len(), before.len());
    assert_eq!(after.modified().unwrap(), before.modified().unwrap());
    let out = run_debug(&s, &["p10"]);
    assert!(!used_index(&out), "{}", out.stderr);
    assert!(out.ok().contains("eu-west-2"));

    // A same-size edit that makes the file invalid (p20 named twice) is refused, with its line.
    settle();
    s.run(&["p20"]).ok();
    assert!(used_index(&run_debug(&s, &["p20"])));
    let line = edited.lines().position(|l| l == "[profile p30]").unwrap() + 1;
    let broken = edited.replacen("[profile p30]", "[profile p20]", 1);
    std::fs::write(&path, &broken).unwrap();
    set_mtime(&path, before.modified().unwrap());
    s.run(&["p20"]).fails(
        1,
        &format!("config:{line}: section [profile p20] appears a second time"),
    );
}

#[test]
fn a_broken_index_is_never_trusted_and_is_written_again() {
    let s = Sandbox::new();
    s.write_config(&big_config());
    cache_credentials(&s, 40);
    settle();
    let good = s.run(&["p40"]).ok().to_string();
    let index = index_path(&s);
    let bytes = std::fs::read(&index).unwrap();

    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(&index), 0o600);
        assert_eq!(mode(index.parent().unwrap()), 0o700);
    }

    // p40's entry pointed at p50's section, with the fingerprint of p50's bytes: the
    // fingerprint of the bucket that holds it no longer matches.
    let text = String::from_utf8(bytes.clone()).unwrap();
    let p40 = text.lines().find(|l| l.ends_with(" p40")).unwrap();
    let p50 = text.lines().find(|l| l.ends_with(" p50")).unwrap();
    let swapped = text.replacen(p40, &p50.replace(" p50", " p40"), 1);
    let mut truncated = bytes.clone();
    truncated.truncate(bytes.len() / 2);
    // A bit flipped in the head, or in the bucket that holds p40's entry (its line's
    // fingerprint field: the entry still parses).
    let flip = |at: usize| {
        let mut b = bytes.clone();
        b[at] ^= 1;
        b
    };
    let in_head = flip(text.find("\nnames ").unwrap() + 10);
    let in_bucket = flip(text.find(p40).unwrap() + p40.len() - " p40".len() - 1);
    for (what, content) in [
        ("swapped", swapped.into_bytes()),
        ("truncated", truncated),
        ("a flipped bit in the head", in_head),
        ("a flipped bit in the bucket", in_bucket),
        ("empty", Vec::new()),
        ("not UTF-8", vec![0xff; 100]),
    ] {
        std::fs::write(&index, &content).unwrap();
        let out = run_debug(&s, &["p40"]);
        assert!(!used_index(&out), "{what}: {}", out.stderr);
        assert_eq!(s.run(&["p40"]).ok(), good, "{what}");
        assert_eq!(
            std::fs::read(&index).unwrap(),
            bytes,
            "{what}: written again"
        );
    }

    // Too big (sparse), a directory, a FIFO: ignored, and replaced where a file can be.
    std::fs::File::create(&index)
        .unwrap()
        .set_len(80 << 20)
        .unwrap();
    assert_eq!(s.run(&["p40"]).ok(), good, "huge");
    assert_eq!(std::fs::read(&index).unwrap(), bytes, "huge: written again");
    std::fs::remove_file(&index).unwrap();
    std::fs::create_dir(&index).unwrap();
    assert_eq!(s.run(&["p40"]).ok(), good, "a directory");
    std::fs::remove_dir(&index).unwrap();
    #[cfg(unix)]
    {
        let fifo = std::ffi::CString::new(index.to_str().unwrap()).unwrap();
        // SAFETY: a NUL-terminated path.
        assert_eq!(unsafe { libc::mkfifo(fifo.as_ptr(), 0o600) }, 0);
        let out = s
            .cmd(&["p40"])
            .stdout(std::process::Stdio::piped())
            .spawn()
            .unwrap()
            .wait_with_output()
            .unwrap();
        assert_eq!(String::from_utf8_lossy(&out.stdout), good, "a FIFO");
    }
}

#[test]
fn a_bad_nested_block_in_another_profile_refuses_the_file_as_botocore_does() {
    let s = Sandbox::signed_in();
    let text = format!("{CONFIG}\n[profile other]\ns3 =\n  broken\n");
    s.write_config(&text);
    let line = text.lines().count();
    s.run(&["dev"])
        .fails(1, &format!("config:{line}: \"broken\" in a nested block"));
}

#[test]
fn a_role_profile_in_an_indexed_file_finds_its_source_profiles() {
    let mut s = Sandbox::signed_in();
    let url = s.mock.url();
    s.set("AWS_ENDPOINT_URL_STS", &url);
    let mut text = big_config();
    text.push_str(
        "\n[profile src]\nsso_session = corp\nsso_account_id = 111111111111\nsso_role_name = ReadOnly\n\n[profile ops]\nrole_arn = arn:aws:iam::333333333333:role/Ops\nsource_profile = src\nregion = eu-west-1\n",
    );
    s.write_config(&text);
    settle();
    // The first run indexes the file; the second has the index and still follows the chain.
    s.run(&["list"]).ok();
    assert!(index_path(&s).is_file());
    let r = run_debug(&s, &["ops"]);
    let key = eval_posix(r.ok(), &["AWS_ACCESS_KEY_ID"]);
    assert_eq!(key[0], s.mock.assumed_roles()[0].creds.access_key_id);
    assert!(
        used_index(&r),
        "the chain's sections come by the index: {}",
        r.stderr
    );
    same(&s.run(&["ops"]), &run_without_index(&s, &["ops"]), "ops");
    assert!(s.run(&["list", "--sso"]).ok().contains("\nops\n"));
    // Chains the index cannot finish, or that fail, say what a whole read says.
    text.push_str(
        "\n[profile lost]\nrole_arn = arn:aws:iam::1:role/A\nsource_profile = srx\n\n[profile a]\nrole_arn = arn:aws:iam::1:role/A\nsource_profile = b\n\n[profile b]\nrole_arn = arn:aws:iam::1:role/B\nsource_profile = a\n\n[profile k]\nrole_arn = arn:aws:iam::1:role/K\nsource_profile = p3\n",
    );
    s.write_config(&text);
    settle();
    s.run(&["list"]).ok();
    for (name, needle) in [
        ("lost", "(did you mean src?)"),
        ("a", "source_profile loops: 'a' -> 'b' -> 'a'"),
        ("k", "long-term keys"),
    ] {
        let r = run_debug(&s, &[name]);
        assert!(r.stderr.contains(needle), "{name}: {}", r.stderr);
        same(&s.run(&[name]), &run_without_index(&s, &[name]), name);
    }
}

#[test]
fn status_and_list_of_ten_thousand_profiles_equal_a_run_without_the_index() {
    let s = Sandbox::new();
    s.write_config(&big_config());
    for i in [0, 2, 9, 5000, PROFILES - 1] {
        cache_credentials(&s, i);
    }
    settle();
    s.run(&["list"]).ok();
    let index = index_path(&s);
    assert!(index.is_file());
    // The seconds left move on between runs: all else must be the same.
    let steady = |mut r: Run| {
        r.stdout = r
            .stdout
            .lines()
            .filter(|l| !l.contains("\"expiresIn\""))
            .map(|l| format!("{l}\n"))
            .collect();
        r
    };
    let by_index = steady(s.run(&["status", "--json"]));
    assert_eq!(by_index.code, 0, "{}", by_index.stderr);
    assert_eq!(by_index.stdout.matches("\"cached\": true").count(), 5);
    let whole = steady(run_without_index(&s, &["status", "--json"]));
    same(&by_index, &whole, "status --json");
    for args in [
        &["list"][..],
        &["list", "--long"][..],
        &["list", "--sso", "--long"][..],
        // TAB completion: profiles with their role and account, and account ids.
        &["complete", "--current", "", "--"][..],
        &["complete", "--current", "", "--", "roles"][..],
        &["complete", "--current", "", "--", "login", "--sso-session"][..],
    ] {
        let by_index = s.run(args);
        assert_eq!(by_index.code, 0, "{}: {}", args.join(" "), by_index.stderr);
        same(&by_index, &run_without_index(&s, args), &args.join(" "));
    }
    // A corrupt names piece is not served: `list` reads the file and writes the index again.
    let bytes = std::fs::read(&index).unwrap();
    let text = String::from_utf8(bytes.clone()).unwrap();
    let mut broken = bytes.clone();
    let at = text.find("\np5000\tsso\n").unwrap() + 2;
    broken[at] = b'9';
    std::fs::write(&index, &broken).unwrap();
    let out = s.run(&["list"]);
    assert!(out.ok().contains("\np5000\n"));
    assert!(!out.stdout.contains("p9000\np9000\n"));
    same(
        &out,
        &run_without_index(&s, &["list"]),
        "list after a corrupt names piece",
    );
    assert_eq!(std::fs::read(&index).unwrap(), bytes, "written again");

    // TAB completion reads the roles piece; a corrupt one is not served either.
    let complete = ["complete", "--current", "", "--"];
    assert!(used_index(&run_debug(&s, &complete)));
    let sessions = run_debug(
        &s,
        &["complete", "--current", "", "--", "login", "--sso-session"],
    );
    assert!(used_index(&sessions), "{}", sessions.stderr);
    assert_eq!(sessions.stdout, format!("corp\t{START_URL}\n"));
    let mut broken = bytes.clone();
    let at = text.find("\np5000\tReadOnly\t000000005000\n").unwrap() + 3;
    broken[at] = b'9';
    std::fs::write(&index, &broken).unwrap();
    let out = run_debug(&s, &complete);
    assert!(!used_index(&out), "{}", out.stderr);
    assert!(out.stdout.contains("\np5000\tReadOnly in 000000005000\n"));
    same(
        &s.run(&complete),
        &run_without_index(&s, &complete),
        "complete after a corrupt roles piece",
    );
    assert_eq!(std::fs::read(&index).unwrap(), bytes, "written again");
}
