//! Profile names are data in completion, driven as an attacker would: a config whose profile
//! names are shell code, TAB pressed in real interactive shells in tmux (bash, zsh, fish,
//! nushell), no canary file may appear, and a completed unique prefix must give the command
//! exactly that name as one argument. PowerShell cannot run here: its completion text is
//! checked with the PowerShell grammar.

use std::os::unix::fs::PermissionsExt;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use crate::plugins::{Tmux, balanced, repo, shell_argv};
use crate::support::*;

/// Profile names that are code in some shell, and names that need quoting.
const NASTY: &[&str] = &[
    "$(touch${IFS}CANARY)",
    "`touch CANARY2`",
    "a;touch CANARY3",
    "(touch CANARY4)",
    "*",
    "my dev",
    "it's",
    "\"q\"",
    "dév",
];

const CANARIES: &[&str] = &["CANARY", "CANARY2", "CANARY3", "CANARY4"];

/// A HOME whose config holds the nasty names (written as `aws configure` writes them), a
/// working directory for the canaries, and a fake `ssoenv` first on PATH: `list`, `hook` and
/// `completions` run the real binary, anything else records its arguments, one call a line,
/// each argument ended by NUL.
struct Attack {
    dir: TempDir,
    env: Vec<(String, String)>,
}

impl Attack {
    fn new() -> Attack {
        let dir = TempDir::new();
        let home = dir.path().join("home");
        std::fs::create_dir_all(home.join(".aws")).unwrap();
        std::fs::create_dir_all(dir.path().join("work")).unwrap();
        let mut config = String::from("[profile dev]\nregion = eu-west-1\n");
        for name in NASTY {
            let header = if name.contains('\'') {
                format!("[profile \"{name}\"]")
            } else {
                format!("[profile '{name}']")
            };
            config.push_str(&format!("{header}\nregion = eu-west-1\n"));
        }
        std::fs::write(home.join(".aws/config"), config).unwrap();
        let bin = dir.path().join("bin");
        std::fs::create_dir_all(&bin).unwrap();
        let fake = bin.join("ssoenv");
        std::fs::write(
            &fake,
            format!(
                "#!/bin/sh\ncase $1 in list | hook | completions) exec '{BIN}' \"$@\" ;; esac\n\
                 printf '%s\\0' \"$@\" >> '{}'\necho >> '{0}'\n",
                dir.path().join("argv").display()
            ),
        )
        .unwrap();
        std::fs::set_permissions(&fake, std::fs::Permissions::from_mode(0o755)).unwrap();
        Attack {
            env: vec![
                ("HOME".into(), home.display().to_string()),
                (
                    "PATH".into(),
                    format!(
                        "{}:{}",
                        bin.display(),
                        std::env::var("PATH").unwrap_or_default()
                    ),
                ),
                ("TERM".into(), "xterm-256color".into()),
            ],
            dir,
        }
    }

    fn work(&self) -> PathBuf {
        self.dir.path().join("work")
    }

    fn no_canary(&self, what: &str) {
        for dir in [self.work(), self.dir.path().join("home")] {
            for c in CANARIES {
                assert!(!dir.join(c).exists(), "{what}: {c} was created in {dir:?}");
            }
        }
    }

    /// The arguments of the last call the fake recorded, waiting for it (bounded).
    fn last_call(&self, calls: usize) -> Vec<String> {
        let f = self.dir.path().join("argv");
        let t = Instant::now();
        loop {
            let text = std::fs::read_to_string(&f).unwrap_or_default();
            let lines: Vec<&str> = text.lines().collect();
            if lines.len() >= calls {
                return lines[calls - 1]
                    .split('\0')
                    .filter(|a| !a.is_empty())
                    .map(str::to_string)
                    .collect();
            }
            assert!(t.elapsed() < Duration::from_secs(20), "no call recorded");
            std::thread::sleep(Duration::from_millis(30));
        }
    }
}

/// How a shell gets its completion: the plugin, or `ssoenv completions SHELL`.
fn setup_lines(a: &Attack, shell: &str, plugin: bool) -> Vec<String> {
    let work = a.work().display().to_string();
    match (shell, plugin) {
        ("bash", true) => vec![
            format!("cd '{work}'"),
            r#"eval "$(ssoenv hook bash)""#.into(),
        ],
        ("bash", false) => vec![
            format!("cd '{work}'"),
            r#"eval "$(ssoenv completions bash)""#.into(),
        ],
        ("zsh", true) => vec![
            format!("cd '{work}'"),
            "autoload -Uz compinit && compinit -u -D".into(),
            r#"eval "$(ssoenv hook zsh)""#.into(),
        ],
        ("zsh", false) => vec![
            format!("cd '{work}'"),
            "autoload -Uz compinit && compinit -u -D".into(),
            r#"eval "$(ssoenv completions zsh)""#.into(),
        ],
        ("fish", true) => vec![format!("cd '{work}'"), "ssoenv hook fish | source".into()],
        ("fish", false) => vec![
            format!("cd '{work}'"),
            "ssoenv completions fish | source".into(),
        ],
        _ => vec![
            format!("cd '{work}'"),
            format!("source '{}'", repo("shell/ssoenv.nu").display()),
        ],
    }
}

/// Presses TAB after `ssoenv `, `ssoenv use ` and `ssoenv export `, then completes unique
/// prefixes of `my dev` and `it's` and runs the command: its argument must be that name.
/// `sub` is the subcommand typed before the prefix (`use` for the plugins; clap's zsh script
/// completes profiles only in first place), `shown` how the shell writes the two completed
/// names on the line.
fn completion_is_data(shell: &str, plugin: bool, sub: &str, shown: [&str; 2]) {
    let a = Attack::new();
    let mut tmux = Tmux::new(a.dir.path());
    let mut env = a.env.clone();
    if shell != "nu" {
        env.push(("LANG".into(), "C.UTF-8".into()));
    }
    let t = tmux.open(&env, &shell_argv(shell));
    for l in setup_lines(&a, shell, plugin) {
        t.line(&l);
    }
    t.sync();
    let what = format!("{shell} {}", if plugin { "plugin" } else { "completions" });
    for typed in [
        "ssoenv ",
        "ssoenv use ",
        "ssoenv export ",
        "ssoenv use a",
        "ssoenv ",
    ] {
        t.type_text(typed);
        t.keys("Tab");
        t.keys("Tab");
        std::thread::sleep(Duration::from_millis(300));
        // Clear the line with keys, not a signal that could cut a completion short; nushell's
        // menu takes Ctrl-C.
        if shell == "nu" {
            t.keys("C-c");
        } else {
            t.keys("C-e");
            t.keys("C-u");
        }
        t.type_text("");
        t.sync();
        a.no_canary(&format!("{what}: TAB after {typed:?}"));
    }
    let mut calls = 0;
    for (prefix, name, shown) in [("my", "my dev", shown[0]), ("it", "it's", shown[1])] {
        let typed = format!("ssoenv {sub}{prefix}");
        t.type_text(&typed);
        t.keys("Tab");
        t.wait_for(&format!("ssoenv {sub}{shown}"));
        t.keys("Enter");
        calls += 1;
        let argv = a.last_call(calls);
        assert_eq!(
            argv.last().map(String::as_str),
            Some(name),
            "{what}: {typed:?} completed to {argv:?}\n{}",
            t.screen()
        );
        t.type_text("");
        t.sync();
    }
    a.no_canary(&what);
}

#[test]
fn bash_plugin_completes_profile_names_as_data() {
    completion_is_data("bash", true, "use ", ["'my dev'", r"'it'\''s'"]);
}

#[test]
fn bash_completion_script_completes_profile_names_as_data() {
    completion_is_data("bash", false, "export ", ["'my dev'", r"'it'\''s'"]);
}

#[test]
fn zsh_plugin_completes_profile_names_as_data() {
    completion_is_data("zsh", true, "use ", [r"my\ dev", r"it\'s"]);
}

#[test]
fn zsh_completion_script_completes_profile_names_as_data() {
    completion_is_data("zsh", false, "", [r"my\ dev", r"it\'s"]);
}

#[test]
fn fish_plugin_completes_profile_names_as_data() {
    completion_is_data("fish", true, "use ", [r"my\ dev", r"it\'s"]);
}

#[test]
fn fish_completion_script_completes_profile_names_as_data() {
    completion_is_data("fish", false, "export ", [r"my\ dev", r"it\'s"]);
}

#[test]
fn nu_plugin_completes_profile_names_as_data() {
    completion_is_data("nu", true, "use ", ["\"my dev\"", "\"it's\""]);
}

/// In bash, whatever quoting the user opened: each completion of a quoted or escaped prefix
/// gives the name itself.
#[test]
fn bash_completes_inside_open_quotes_and_after_escapes() {
    let a = Attack::new();
    let mut tmux = Tmux::new(a.dir.path());
    let mut env = a.env.clone();
    env.push(("LANG".into(), "C.UTF-8".into()));
    let t = tmux.open(&env, &shell_argv("bash"));
    for l in setup_lines(&a, "bash", true) {
        t.line(&l);
    }
    t.sync();
    let cases = [
        ("'my", "my dev"),
        ("\"m", "my dev"),
        ("my\\ d", "my dev"),
        ("'it'\\''", "it's"),
        ("\"it", "it's"),
        ("'$(", "$(touch${IFS}CANARY)"),
        ("\"\\$(", "$(touch${IFS}CANARY)"),
        ("\\`", "`touch CANARY2`"),
        ("'`", "`touch CANARY2`"),
        ("\\*", "*"),
        ("'\"", "\"q\""),
        ("'(", "(touch CANARY4)"),
    ];
    for (n, (typed, name)) in cases.iter().enumerate() {
        t.type_text(&format!("ssoenv use {typed}"));
        t.keys("Tab");
        std::thread::sleep(Duration::from_millis(200));
        t.keys("Enter");
        let argv = a.last_call(n + 1);
        assert_eq!(
            argv.last().map(String::as_str),
            Some(*name),
            "{typed:?}: {argv:?}\n{}",
            t.screen()
        );
        t.sync();
    }
    a.no_canary("bash quoted prefixes");
}

/// What the PowerShell completers insert for a name, by their rule: a plain word as it is,
/// anything else as a verbatim string with ' and U+2018-U+201B doubled.
fn pwsh_completion(name: &str) -> String {
    let plain = name
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_alphanumeric() || c == '_')
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "_.-".contains(c));
    if plain {
        return name.to_string();
    }
    let mut s = String::from("'");
    for c in name.chars() {
        if "'\u{2018}\u{2019}\u{201a}\u{201b}".contains(c) {
            s.push(c);
        }
        s.push(c);
    }
    s.push('\'');
    s
}

#[test]
fn powershell_completers_insert_names_as_verbatim_strings() {
    let s = Sandbox::new();
    let module = std::fs::read_to_string(repo("shell/pwsh/ssoenv.psm1")).unwrap();
    let script = s.run(&["completions", "pwsh"]).ok().to_string();
    for (what, text) in [("module", &module), ("completions pwsh", &script)] {
        // The rule `pwsh_completion` mirrors, and no wildcard match or raw insertion.
        assert!(
            text.contains(r"$name -cnotmatch '^[A-Za-z0-9_][A-Za-z0-9_.-]*$'")
                && text.contains(r"($name -replace ('([' + $quotes + '])'), '$1$1')")
                && text.contains(
                    "CompletionResult]::new($completion, $name, 'ParameterValue', $name)"
                )
                && (what != "module" || !text.contains("-like")),
            "{what}"
        );
        balanced(what, text);
    }
    let mut names: Vec<String> = NASTY.iter().map(|n| n.to_string()).collect();
    names.extend([
        "dev".into(),
        "a’b‘c‚d‛e".into(),
        "-x".into(),
        "@a".into(),
        "a,b".into(),
    ]);
    let lines: Vec<String> = names
        .iter()
        .map(|n| format!("ssoenv use {}", pwsh_completion(n)))
        .collect();
    // The grammar does not know the `.Where{}` method syntax of clap's part: only ours is parsed.
    let ours = &script[script.find("# Profile names, from the config").unwrap()..];
    let mut docs: Vec<(&str, &str)> = vec![("module", &module), ("completions pwsh", ours)];
    for (n, l) in names.iter().zip(&lines) {
        docs.push((n, l));
    }
    let parsed = clean_pwsh(&docs);
    for (p, name) in parsed[2..].iter().zip(&names) {
        if name == "dev" {
            assert!(p.strings.is_empty());
        } else {
            assert_eq!(p.strings, std::slice::from_ref(name), "{name}: {}", p.name);
        }
    }
}

/// The plugins pass profile names to the binary after `--`,
/// so a name that starts with `-` is never read as a flag.
#[test]
fn plugins_pass_profile_names_after_double_dash() {
    for (f, needle) in [
        ("shell/ssoenv.bash", r#"--auto -- "$SSOENV_PROFILE""#),
        ("shell/ssoenv.zsh", r#"--auto -- "$SSOENV_PROFILE""#),
        (
            "shell/fish/conf.d/ssoenv.fish",
            r#"--auto -- "$SSOENV_PROFILE""#,
        ),
        (
            "shell/pwsh/ssoenv.psm1",
            "'--auto' '--' $Env:SSOENV_PROFILE",
        ),
        ("shell/ssoenv.nu", "--auto -- $profile"),
        ("shell/direnv/ssoenv.sh", r#"--shell bash -- "$profile""#),
    ] {
        let text = std::fs::read_to_string(repo(f)).unwrap();
        assert!(text.contains(needle), "{f}");
    }
}
