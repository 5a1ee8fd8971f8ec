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
/// working directory for the canaries, and a fake `ssoenv` first on PATH: `list`, `hook`,
/// `completions` and `complete` run the real binary, anything else records its arguments, one
/// call a line, each argument ended by NUL.
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
                "#!/bin/sh\ncase $1 in list | hook | completions | complete) exec '{BIN}' \"$@\" ;; esac\n\
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
        ("nu", true) => vec![
            format!("cd '{work}'"),
            format!("source '{}'", repo("shell/ssoenv.nu").display()),
        ],
        _ => vec![
            format!("cd '{work}'"),
            format!("ssoenv completions nu | save -f '{work}/ssoenv-completions.nu'"),
            format!("source '{work}/ssoenv-completions.nu'"),
        ],
    }
}

/// Presses TAB after `ssoenv `, `ssoenv use ` and `ssoenv export `, then completes unique
/// prefixes of `my dev` and `it's` and runs the command: its argument must be that name.
/// `sub` is the subcommand typed before the prefix (`use` for the plugins, which know it),
/// `shown` how the shell writes the two completed names on the line.
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
    completion_is_data("zsh", false, "export ", [r"my\ dev", r"it\'s"]);
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

#[test]
fn nu_completion_script_completes_profile_names_as_data() {
    completion_is_data("nu", false, "export ", ["\"my dev\"", "\"it's\""]);
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

/// What the PowerShell completer inserts for a name, by its rule: a plain word (or option) as
/// it is, anything else as a verbatim string with ' and U+2018-U+201B doubled.
fn pwsh_completion(name: &str) -> String {
    let word = name
        .strip_prefix("--")
        .or_else(|| name.strip_prefix('-'))
        .unwrap_or(name);
    let plain = word
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_alphanumeric() || c == '_')
        && word
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
    // One completer: the script is the module's completion part.
    assert!(module.contains(&script) && script.contains("Register-ArgumentCompleter"));
    for (what, text) in [("module", &module), ("completions pwsh", &script)] {
        // The rule `pwsh_completion` mirrors, and no wildcard match or raw insertion.
        assert!(
            text.contains(r"$name -cnotmatch '^(--?)?[A-Za-z0-9_][A-Za-z0-9_.-]*$'")
                && text.contains(r"($name -replace ('([' + $quotes + '])'), '$1$1')")
                && text.contains(
                    "CompletionResult]::new($completion, $name, 'ParameterValue', $help)"
                )
                && !text.contains("-like"),
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
    let mut docs: Vec<(&str, &str)> = vec![("module", &module), ("completions pwsh", &script)];
    for (n, l) in names.iter().zip(&lines) {
        docs.push((n, l));
    }
    let parsed = clean_pwsh(&docs);
    for (p, name) in parsed[2..].iter().zip(&names) {
        if pwsh_completion(name) == *name {
            assert!(p.strings.is_empty(), "{name}");
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
        ("shell/ssoenv.bash", r#"--background -- "$SSOENV_PROFILE""#),
        ("shell/ssoenv.zsh", r#"--background -- "$SSOENV_PROFILE""#),
        (
            "shell/fish/conf.d/ssoenv.fish",
            r#"--background -- "$SSOENV_PROFILE""#,
        ),
        (
            "shell/pwsh/ssoenv.psm1",
            "'--background' '--' $Env:SSOENV_PROFILE",
        ),
        ("shell/ssoenv.nu", "--background -- $profile"),
        ("shell/direnv/ssoenv.sh", r#"--shell bash -- "$profile""#),
    ] {
        let text = std::fs::read_to_string(repo(f)).unwrap();
        assert!(text.contains(needle), "{f}");
    }
}

/// Runs `script` in `shell` (no startup files) with the sandbox's HOME and the real binary
/// first on PATH: its stdout and stderr.
fn run_shell(s: &Sandbox, shell: &str, script: &str) -> (String, String) {
    let r = crate::plugins::strict(s, shell, script);
    (r.stdout, r.stderr)
}

#[test]
fn completion_scripts_offer_profile_names_from_the_config_at_tab_time() {
    let s = Sandbox::new();
    let dir = s.dir.path().join("completions");
    std::fs::create_dir_all(&dir).unwrap();
    for sh in ["bash", "zsh", "fish", "pwsh", "nu"] {
        std::fs::write(dir.join(sh), s.run(&["completions", sh]).ok()).unwrap();
    }
    // bash: the completion function fills COMPREPLY from `ssoenv complete`.
    let script = format!(
        r#"set -euo pipefail; source {}; COMP_WORDS=(ssoenv export ad); COMP_CWORD=2; COMP_LINE="ssoenv export ad"; COMP_POINT=${{#COMP_LINE}}; __ssoenv_complete ssoenv ad export; printf '%s\n' "${{COMPREPLY[@]}}""#,
        dir.join("bash").display()
    );
    assert_eq!(
        run_shell(&s, "bash", &script),
        ("admin\n".into(), "".into())
    );
    // A profile added later completes without reloading anything.
    std::fs::write(
        s.config_path(),
        format!("{CONFIG}\n[profile adhoc]\nregion = eu-west-1\n"),
    )
    .unwrap();
    assert_eq!(run_shell(&s, "bash", &script).0, "admin\nadhoc\n");
    // fish: `complete -C` asks the real completion machinery.
    let (out, err) = run_shell(
        &s,
        "fish",
        &format!(
            "source {}; complete -C 'ssoenv login le'",
            dir.join("fish").display()
        ),
    );
    assert!(out.lines().any(|l| l.starts_with("legacy")), "{out}{err}");
    // zsh: the script parses, and works from $fpath as an autoloaded `_ssoenv` too.
    let zsh = std::fs::read_to_string(dir.join("zsh")).unwrap();
    assert!(zsh.starts_with("#compdef ssoenv\n"), "{zsh}");
    let (out, err) = run_shell(
        &s,
        "zsh",
        &format!("zsh -n {} && echo parsed", dir.join("zsh").display()),
    );
    assert_eq!(out, "parsed\n", "{err}");
    let pwsh = std::fs::read_to_string(dir.join("pwsh")).unwrap();
    assert!(pwsh.contains("Register-ArgumentCompleter -Native -CommandName 'ssoenv'"));
    clean_pwsh(&[("completions pwsh", &pwsh)]);
    let nu = std::fs::read_to_string(dir.join("nu")).unwrap();
    assert!(nu.contains("export extern ssoenv [...args: string@__ssoenv_complete]"));
}

// ---------------------------------------------------------------------------------------
// Every subcommand and option of the command tree completes in every shell.

/// The command tree as `--help` shows it: the subcommands of `ssoenv`, and the long options
/// of `ssoenv SUB`.
fn help_section(s: &Sandbox, args: &[&str], section: &str) -> Vec<String> {
    let help = s.run(args).ok().to_string();
    let start = help
        .find(&format!("\n{section}:\n"))
        .unwrap_or_else(|| panic!("{args:?}: no {section}:\n{help}"));
    help[start + section.len() + 3..]
        .lines()
        .take_while(|l| l.starts_with(' '))
        .filter_map(|l| {
            let l = l.trim_start();
            if section == "Commands" {
                l.split_whitespace().next().map(str::to_string)
            } else {
                // `-s, --shell <SHELL>` or `--unset`.
                l.split([' ', ','])
                    .find(|w| w.starts_with("--"))
                    .map(str::to_string)
            }
        })
        .collect()
}

/// The possible values clap names when a value is wrong.
fn possible_values(s: &Sandbox, args: &[&str]) -> Vec<String> {
    let out = s.cmd(args).output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    let list = err
        .split("[possible values: ")
        .nth(1)
        .and_then(|r| r.split(']').next())
        .unwrap_or_else(|| panic!("{args:?}: {err}"));
    list.split(", ").map(str::to_string).collect()
}

/// What TAB must offer after each typed line, from the tree and the config.
fn tree_cases(s: &Sandbox) -> Vec<(&'static str, Vec<String>)> {
    let commands = help_section(s, &["--help"], "Commands");
    for sub in [
        "use",
        "clear",
        "doctor",
        "accounts",
        "roles",
        "configure",
        "export",
    ] {
        assert!(commands.iter().any(|c| c == sub), "{commands:?}");
    }
    let shells = possible_values(s, &["export", "--shell", "bogus"]);
    assert!(shells.len() > 5, "{shells:?}");
    let owned = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    vec![
        ("ssoenv ", commands),
        ("ssoenv export --shell ", shells),
        ("ssoenv hook ", possible_values(s, &["hook", "bogus"])),
        (
            "ssoenv completions ",
            possible_values(s, &["completions", "bogus"]),
        ),
        ("ssoenv login --sso-session ", owned(&["corp", "other"])),
        ("ssoenv roles ", owned(&["111111111111", "222222222222"])),
        (
            "ssoenv export --",
            help_section(s, &["export", "--help"], "Options"),
        ),
        (
            "ssoenv login --",
            help_section(s, &["login", "--help"], "Options"),
        ),
    ]
}

/// The single words a completion listing shows: at the start of a line, or after two spaces
/// (descriptions are several words, or follow `--`/`(`).
fn listed(screen: &str) -> Vec<String> {
    let mut words = Vec::new();
    for line in screen.lines() {
        for piece in line.split("  ") {
            let piece = piece.trim();
            if !piece.is_empty() && !piece.contains(' ') {
                words.push(piece.to_string());
            }
        }
    }
    words
}

fn every_word_of_the_tree_completes(shell: &str) {
    let s = Sandbox::new();
    s.write_config(&format!(
        "{CONFIG}\n[sso-session other]\nsso_start_url = https://other.awsapps.com/start\nsso_region = eu-west-1\n"
    ));
    let cases = tree_cases(&s);
    let mut tmux = Tmux::new(s.dir.path());
    let bin = std::path::Path::new(BIN)
        .parent()
        .unwrap()
        .display()
        .to_string();
    let mut env = vec![
        ("HOME".to_string(), s.home().display().to_string()),
        (
            "PATH".to_string(),
            format!("{bin}:{}", std::env::var("PATH").unwrap_or_default()),
        ),
        ("TERM".to_string(), "xterm-256color".to_string()),
    ];
    if shell != "nu" {
        env.push(("LANG".into(), "C.UTF-8".into()));
    }
    let t = tmux.open(&env, &shell_argv(shell));
    let nu = shell == "nu";
    match shell {
        "bash" => t.line(r#"eval "$(ssoenv hook bash)""#),
        // The plugin before compinit: it registers at the next prompt.
        "zsh" => {
            t.line(r#"eval "$(ssoenv hook zsh)""#);
            t.line("autoload -Uz compinit && compinit -u -D");
        }
        "fish" => t.line("ssoenv hook fish | source"),
        _ => t.line(&format!("source '{}'", repo("shell/ssoenv.nu").display())),
    }
    t.sync();
    for (n, (typed, want)) in cases.iter().enumerate() {
        // Nushell completes a word that starts with `-` from the signature alone.
        if nu && typed.ends_with('-') {
            continue;
        }
        let mark = format!("MARK-{n}-");
        t.line(&if nu {
            format!("print '{mark}done'")
        } else {
            format!("echo '{mark}'done")
        });
        t.sync();
        t.type_text(typed);
        t.keys("Tab");
        if shell == "bash" {
            std::thread::sleep(Duration::from_millis(300));
            t.keys("Tab");
        }
        let start = Instant::now();
        let missing = loop {
            let screen = t.screen();
            let after = &screen[screen.rfind(&format!("{mark}done")).unwrap_or(0)..];
            let words = listed(after);
            let missing: Vec<&String> = want.iter().filter(|w| !words.contains(w)).collect();
            if missing.is_empty() || start.elapsed() > Duration::from_secs(10) {
                break (missing, screen);
            }
            std::thread::sleep(Duration::from_millis(100));
        };
        assert!(
            missing.0.is_empty(),
            "{shell}: TAB after {typed:?} does not offer {:?}\n{}",
            missing.0,
            missing.1
        );
        t.keys("C-c");
        t.type_text("");
        t.sync();
    }
}

#[test]
fn bash_completes_every_subcommand_option_and_value_of_the_tree() {
    every_word_of_the_tree_completes("bash");
}

#[test]
fn zsh_completes_every_subcommand_option_and_value_of_the_tree_without_compinit_first() {
    every_word_of_the_tree_completes("zsh");
}

#[test]
fn fish_completes_every_subcommand_option_and_value_of_the_tree() {
    every_word_of_the_tree_completes("fish");
}

#[test]
fn nu_completes_every_subcommand_and_value_of_the_tree() {
    every_word_of_the_tree_completes("nu");
}

/// PowerShell cannot run here: its completer must parse, pass the words before the cursor to
/// `ssoenv complete`, and the binary must answer each case with every word of the tree.
#[test]
fn powershell_completer_asks_the_binary_which_offers_every_word_of_the_tree() {
    let s = Sandbox::new();
    s.write_config(&format!(
        "{CONFIG}\n[sso-session other]\nsso_start_url = https://other.awsapps.com/start\nsso_region = eu-west-1\n"
    ));
    let script = s.run(&["completions", "pwsh"]).ok().to_string();
    clean_pwsh(&[("completions pwsh", &script)]);
    assert!(script.contains("& $exe 'complete' ('--current=' + $typed) '--' @before"));
    for (typed, want) in tree_cases(&s) {
        // As the completer splits it: the words between `ssoenv` and the one at the cursor.
        let mut words: Vec<&str> = typed.split(' ').skip(1).collect();
        let current = words.pop().unwrap_or("");
        let mut args = vec![
            "complete".to_string(),
            format!("--current={current}"),
            "--".into(),
        ];
        args.extend(words.iter().map(|w| w.to_string()));
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let out = s.run(&args).ok().to_string();
        let offered: Vec<&str> = out.lines().filter_map(|l| l.split('\t').next()).collect();
        for w in &want {
            assert!(
                offered.contains(&w.as_str()),
                "{typed:?}: {w} not in {offered:?}"
            );
        }
    }
}
