//! The shell plugins in real shells: sourced under strict modes, checked by each shell's own
//! parser and by shellcheck, and driven as interactive sessions in tmux (bash, zsh, fish, and
//! bash with direnv) against the mock, with the system calls of bash and zsh traced to show
//! that a fresh prompt starts no process.

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use crate::support::*;

const PLUGIN_FILES: &[&str] = &[
    "shell/ssoenv.bash",
    "shell/ssoenv.zsh",
    "shell/fish/conf.d/ssoenv.fish",
    "shell/fish/functions/ssoenv.fish",
    "shell/fish/completions/ssoenv.fish",
    "shell/pwsh/ssoenv.psm1",
    "shell/pwsh/ssoenv.psd1",
    "shell/ssoenv.nu",
    "shell/direnv/ssoenv.sh",
];

pub(crate) fn repo(p: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(p)
}

fn read(p: &str) -> String {
    std::fs::read_to_string(repo(p)).unwrap()
}

/// Runs a tool over files; it must succeed with no output.
#[track_caller]
fn clean(tool: &str, args: &[&str]) {
    let out = crate::support::tool(tool).args(args).output().unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        out.status.success() && text.is_empty(),
        "{tool} {args:?}: {text}"
    );
}

/// The bash and POSIX sh scripts: the plugins, the installer, the benchmarks, the test entry.
fn scripts() -> Vec<String> {
    let mut files: Vec<String> = [
        "shell/ssoenv.bash",
        "shell/direnv/ssoenv.sh",
        "install.sh",
        "tests/run",
    ]
    .iter()
    .map(|f| repo(f).to_string_lossy().into_owned())
    .collect();
    let mut bench: Vec<String> = std::fs::read_dir(repo("bench"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "sh"))
        .map(|p| p.to_string_lossy().into_owned())
        .collect();
    bench.sort();
    assert!(!bench.is_empty());
    files.extend(bench);
    files
}

/// The optional shellcheck checks that `--enable=all` brings and these scripts do not follow,
/// each with its reason. Every other exception is a `# shellcheck disable=` at its spot.
const SHELLCHECK_EXCLUDED: &[(&str, &str)] = &[(
    "SC2250",
    "braces around every variable reference: the scripts write `$name` wherever no character \
     could join the name, as shfmt and the shell manuals do",
)];

#[test]
fn plugin_files_pass_their_shells_parsers_and_shellcheck() {
    for f in PLUGIN_FILES {
        assert!(!read(f).contains("being written"), "{f} is a placeholder");
    }
    let scripts = scripts();
    let scripts: Vec<&str> = scripts.iter().map(String::as_str).collect();
    let exclude = SHELLCHECK_EXCLUDED
        .iter()
        .map(|(code, _)| *code)
        .collect::<Vec<_>>()
        .join(",");
    let exclude = format!("--exclude={exclude}");
    clean(
        "shellcheck",
        &[&["--enable=all", &exclude], &scripts[..]].concat(),
    );
    // The layout the files have: two-space indent, `case` items level with `case`.
    clean("shfmt", &[&["-d", "-i", "2"], &scripts[..]].concat());
    for f in &scripts {
        clean(
            if f.ends_with("install.sh") {
                "dash"
            } else {
                "bash"
            },
            &["-n", f],
        );
    }
    clean("zsh", &["-n", repo("shell/ssoenv.zsh").to_str().unwrap()]);
    let fish: Vec<String> = PLUGIN_FILES
        .iter()
        .filter(|f| f.ends_with(".fish"))
        .map(|f| repo(f).to_string_lossy().into_owned())
        .collect();
    let fish: Vec<&str> = fish.iter().map(String::as_str).collect();
    clean("fish", &[&["--no-execute"], &fish[..]].concat());
    clean("fish_indent", &[&["--check"], &fish[..]].concat());
}

/// `tests/run` with zsh and nu missing, no Python environment, and installing switched off:
/// it stops before building anything, with one line per missing tool and its install command.
#[test]
fn tests_run_names_each_missing_tool_and_how_to_install_it() {
    let s = Sandbox::new();
    // Everything this PATH has, but zsh and nu.
    let bin = s.dir.path().join("bin");
    std::fs::create_dir_all(&bin).unwrap();
    let path = std::env::var_os("PATH").unwrap_or_default();
    for dir in std::env::split_paths(&path) {
        for entry in std::fs::read_dir(&dir).into_iter().flatten().flatten() {
            let name = entry.file_name();
            let link = bin.join(&name);
            if name != "zsh" && name != "nu" && link.symlink_metadata().is_err() {
                std::os::unix::fs::symlink(entry.path(), link).unwrap();
            }
        }
    }
    let target = s.dir.path().join("target");
    let r: Run = tool("bash")
        .arg(repo("tests/run"))
        .arg("--check")
        .env_clear()
        .env("HOME", s.home())
        .env("PATH", &bin)
        .env("CARGO_TARGET_DIR", &target)
        .env("SSOENV_NO_INSTALL", "1")
        .output()
        .unwrap()
        .into();
    assert_eq!((r.code, r.stdout.as_str()), (1, ""), "{}", r.stderr);
    let lines: Vec<&str> = r.stderr.lines().collect();
    let tools = target.join("tools");
    let python = format!(
        "tests/run: missing python packages botocore tree-sitter tree-sitter-powershell: \
         python3 -m venv {0}/venv && {0}/venv/bin/pip install botocore tree-sitter tree-sitter-powershell",
        tools.display()
    );
    let nu = format!(
        "tests/run: missing nu (nushell): npm install --global --prefix {}/npm nushell",
        tools.display()
    );
    assert_eq!(lines.len(), 4, "{}", r.stderr);
    assert!(
        lines[0].starts_with("tests/run: missing zsh: ")
            && (lines[0].ends_with("apt-get install -y zsh")
                || lines[0].ends_with("brew install zsh")),
        "{}",
        r.stderr
    );
    assert_eq!(
        lines[1..],
        [
            &python,
            &nu,
            "tests/run: SSOENV_NO_INSTALL=1: nothing was installed"
        ]
    );
    assert!(!target.exists(), "nothing was created");
}

#[test]
fn hook_prints_the_files_of_shell_verbatim() {
    let s = Sandbox::new();
    assert_eq!(s.run(&["hook", "bash"]).ok(), read("shell/ssoenv.bash"));
    assert_eq!(s.run(&["hook", "zsh"]).ok(), read("shell/ssoenv.zsh"));
    assert_eq!(
        s.run(&["hook", "pwsh"]).ok(),
        read("shell/pwsh/ssoenv.psm1")
    );
    assert_eq!(s.run(&["hook", "nu"]).ok(), read("shell/ssoenv.nu"));
    assert_eq!(
        s.run(&["hook", "direnv"]).ok(),
        read("shell/direnv/ssoenv.sh")
    );
    let fish = s.run(&["hook", "fish"]).ok().to_string();
    for f in ["functions", "conf.d", "completions"] {
        assert!(fish.contains(&read(&format!("shell/fish/{f}/ssoenv.fish"))));
    }
    s.run(&["use", "dev"]).fails(2, "hook");
}

/// A shell command line (here: the plugin loaded twice under strict modes) run without
/// startup files, with the sandbox's HOME and the real binary first on PATH.
pub(crate) fn strict(s: &Sandbox, shell: &str, script: &str) -> Run {
    let bin = Path::new(BIN).parent().unwrap().display().to_string();
    let path = format!("{bin}:{}", std::env::var("PATH").unwrap_or_default());
    tool(shell)
        .args(match shell {
            "bash" => vec!["--norc", "--noprofile", "-c", script],
            "zsh" => vec!["-f", "-c", script],
            _ => vec!["--no-config", "-c", script],
        })
        .env_clear()
        .env("HOME", s.home())
        .env("PATH", path)
        .current_dir(s.home())
        .output()
        .unwrap()
        .into()
}

#[test]
fn sourcing_twice_under_strict_modes_is_silent_and_adds_nothing() {
    let s = Sandbox::new();
    let r = strict(
        &s,
        "bash",
        r#"set -euo pipefail; PROMPT_COMMAND='echo mine'
eval "$(ssoenv hook bash)"; eval "$(ssoenv hook bash)"; printf '%s\n' "$PROMPT_COMMAND""#,
    );
    assert_eq!(
        (r.stdout.as_str(), r.stderr.as_str()),
        ("__ssoenv_prompt;echo mine\n", "")
    );
    let r = strict(
        &s,
        "bash",
        r#"set -euo pipefail; PROMPT_COMMAND=('echo a' 'echo b')
eval "$(ssoenv hook bash)"; eval "$(ssoenv hook bash)"; printf '%s|' "${PROMPT_COMMAND[@]}""#,
    );
    assert_eq!(
        (r.stdout.as_str(), r.stderr.as_str()),
        ("__ssoenv_prompt|echo a|echo b|", "")
    );
    let r = strict(
        &s,
        "zsh",
        r#"setopt err_exit nounset pipe_fail warn_create_global; precmd_functions=(mine)
eval "$(ssoenv hook zsh)"; eval "$(ssoenv hook zsh)"; print -r -- $precmd_functions / $chpwd_functions"#,
    );
    assert_eq!(
        (r.stdout.as_str(), r.stderr.as_str()),
        ("mine __ssoenv_precmd / __ssoenv_chpwd\n", "")
    );
    let r = strict(
        &s,
        "fish",
        "ssoenv hook fish | source; ssoenv hook fish | source; functions --handlers | string match -r '__ssoenv\\S*'",
    );
    assert_eq!(
        (r.stdout.as_str(), r.stderr.as_str()),
        ("__ssoenv_cd\n__ssoenv_renew_at_set\n__ssoenv_prompt\n", ""),
        "one handler each"
    );
}

#[test]
fn powershell_files_are_well_formed_and_quote_verbatim() {
    let psm1 = read("shell/pwsh/ssoenv.psm1");
    let psd1 = read("shell/pwsh/ssoenv.psd1");
    for (name, text) in [("psm1", &psm1), ("psd1", &psd1)] {
        balanced(name, text);
        // Strings are verbatim: no expandable "..." string anywhere in the code.
        for (i, line) in text.lines().enumerate() {
            let code = line.split('#').next().unwrap();
            let without_verbatim: String = code.split('\'').step_by(2).collect();
            assert!(
                !without_verbatim.contains('"'),
                "{name}:{}: expandable string: {line}",
                i + 1
            );
        }
    }
    assert!(psd1.contains(&format!(
        "ModuleVersion     = '{}'",
        env!("CARGO_PKG_VERSION")
    )));
    for f in ["ssoenv", "Update-SsoenvCredential", "Update-SsoenvLocation"] {
        assert!(psd1.contains(&format!("'{f}'")), "{f} exported");
        assert!(psm1.contains(&format!("function {f} ")), "{f} defined");
    }
    assert!(psm1.contains("function global:prompt") && psm1.contains("LocationChangedAction"));
    // What the module evaluates comes from the binary in verbatim quotes only.
    let s = Sandbox::signed_in();
    let out = s.run(&["dev", "--shell", "pwsh"]).ok().to_string();
    for line in out.lines() {
        let (lhs, rhs) = line.split_once(" = ").unwrap();
        assert!(
            lhs.starts_with("$Env:") && rhs.starts_with('\'') && rhs.ends_with('\''),
            "{line}"
        );
    }
    // The real PowerShell grammar: the module, what `hook pwsh` prints, the manifest, and the
    // statements the module evaluates.
    let hook = s.run(&["hook", "pwsh"]).ok().to_string();
    let unset = s.run(&["--unset", "--shell", "pwsh"]).ok().to_string();
    let parsed = clean_pwsh(&[
        ("shell/pwsh/ssoenv.psm1", &psm1),
        ("ssoenv hook pwsh", &hook),
        ("shell/pwsh/ssoenv.psd1", &psd1),
        ("ssoenv dev --shell pwsh", &out),
        ("ssoenv --unset --shell pwsh", &unset),
    ]);
    let exported = &parsed[3].env;
    assert_eq!(exported.len(), out.lines().count(), "one assignment a line");
    let nu: serde_json::Value =
        serde_json::from_str(s.run(&["dev", "--shell", "nu"]).ok()).unwrap();
    for (k, v) in exported {
        assert_eq!(nu[k], v.as_str(), "{k}: the value PowerShell reads");
    }
}

/// Brackets, braces and parentheses balance outside verbatim strings and comments.
pub(crate) fn balanced(name: &str, text: &str) {
    let mut stack = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let mut in_str = false;
        for c in line.chars() {
            match c {
                '\'' => in_str = !in_str,
                '#' if !in_str => break,
                '(' | '{' | '[' if !in_str => stack.push(c),
                ')' | '}' | ']' if !in_str => {
                    let open = stack.pop();
                    let want = match c {
                        ')' => '(',
                        '}' => '{',
                        _ => '[',
                    };
                    assert_eq!(open, Some(want), "{name}:{}: unbalanced {c}", i + 1);
                }
                _ => {}
            }
        }
        assert!(!in_str, "{name}:{}: unterminated string", i + 1);
    }
    assert!(stack.is_empty(), "{name}: unclosed {stack:?}");
}

#[test]
fn nushell_plugin_loads_the_json_record_and_hides_nulls() {
    let nu = read("shell/ssoenv.nu");
    assert!(nu.contains("export --shell nu") && nu.contains("load-env") && nu.contains("hide-env"));
    assert!(nu.contains("hooks.pre_prompt") && nu.contains("hooks.env_change.PWD"));
    let s = Sandbox::signed_in();
    let set: serde_json::Value =
        serde_json::from_str(s.run(&["dev", "--shell", "nu"]).ok()).unwrap();
    assert!(set["AWS_SESSION_TOKEN"].is_string() && set["SSOENV_STAMP"].is_string());
    let unset: serde_json::Value =
        serde_json::from_str(s.run(&["--unset", "--shell", "nu"]).ok()).unwrap();
    assert!(unset["AWS_SESSION_TOKEN"].is_null() && unset["SSOENV_PROFILE"].is_null());
}

// ---------------------------------------------------------------------------------------
// Interactive sessions in tmux.

/// One tmux server with one window per shell, isolated by its own socket.
pub struct Tmux {
    socket: PathBuf,
    dir: PathBuf,
    windows: u32,
}

pub struct Term<'a> {
    tmux: &'a Tmux,
    target: String,
    /// The window's number, for file names.
    n: u32,
    /// Nushell speaks another language than the POSIX-like shells and fish.
    nu: bool,
    /// Lines typed into nushell so far: each leaves one `> ` prompt line on the screen.
    typed: std::cell::Cell<usize>,
}

impl Tmux {
    pub fn new(dir: &Path) -> Tmux {
        Tmux {
            socket: dir.join("tmux.sock"),
            dir: dir.to_path_buf(),
            windows: 0,
        }
    }

    pub fn tmux(&self, args: &[&str]) -> String {
        let out = tool("tmux")
            .arg("-S")
            .arg(&self.socket)
            .args(args)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "tmux {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// Starts `argv` in a new window with exactly `env`.
    pub fn open(&mut self, env: &[(String, String)], argv: &[&str]) -> Term<'_> {
        // A missing program would only show as a window that closed.
        require(argv[0]);
        self.windows += 1;
        let n = self.windows;
        let mut cmd = vec!["env".to_string(), "-i".to_string()];
        cmd.extend(env.iter().map(|(k, v)| format!("{k}={v}")));
        cmd.extend(argv.iter().map(|a| a.to_string()));
        let line = cmd
            .iter()
            .map(|a| sh_quote(a))
            .collect::<Vec<_>>()
            .join(" ");
        let name = format!("w{n}");
        if n == 1 {
            self.tmux(&[
                "-f",
                "/dev/null",
                "new-session",
                "-d",
                "-s",
                "t",
                "-n",
                &name,
                "-x",
                "200",
                "-y",
                "50",
                &line,
            ]);
        } else {
            self.tmux(&["new-window", "-d", "-t", "t", "-n", &name, &line]);
        }
        Term {
            tmux: self,
            target: format!("t:{name}"),
            n,
            nu: argv.last().is_some_and(|a| a.ends_with("nu"))
                || argv.iter().any(|a| a.ends_with("/nu")),
            typed: std::cell::Cell::new(0),
        }
    }
}

impl Drop for Tmux {
    fn drop(&mut self) {
        let _ = Command::new("tmux")
            .arg("-S")
            .arg(&self.socket)
            .arg("kill-server")
            .output();
    }
}

fn sh_quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', r"'\''"))
}

impl Term<'_> {
    /// Types a line and presses Enter.
    pub fn line(&self, text: &str) {
        if self.nu {
            self.nu_ready();
        }
        if !text.is_empty() {
            self.tmux
                .tmux(&["send-keys", "-t", &self.target, "-l", text]);
        }
        self.tmux.tmux(&["send-keys", "-t", &self.target, "Enter"]);
    }

    /// Types text without pressing Enter. In nushell, first waits for an empty prompt at the
    /// bottom (its completion menu turns the prompt of a line into `| `, so lines typed and
    /// prompts no longer pair up), and counts from there.
    pub fn type_text(&self, text: &str) {
        if self.nu {
            let t = Instant::now();
            loop {
                let screen = self.screen();
                let last = screen.lines().rev().find(|l| !l.trim().is_empty());
                // The right prompt (a clock) follows after a run of spaces.
                if last.is_some_and(|l| l.split("  ").next().unwrap_or("").trim_end() == ">") {
                    let prompts = screen.lines().filter(|l| l.starts_with("> ")).count();
                    self.typed.set(prompts.saturating_sub(1));
                    break;
                }
                assert!(
                    t.elapsed() < Duration::from_secs(30),
                    "nushell shows no empty prompt:\n{screen}"
                );
                std::thread::sleep(Duration::from_millis(30));
            }
        }
        if !text.is_empty() {
            self.tmux
                .tmux(&["send-keys", "-t", &self.target, "-l", text]);
        }
    }

    /// Nushell's line editor drops what is typed while a command runs (it is not reading the
    /// terminal then): waits for the prompt of the next line, one more `> ` line than typed.
    fn nu_ready(&self) {
        let t = Instant::now();
        loop {
            let screen = self.screen();
            let prompts = screen.lines().filter(|l| l.starts_with("> ")).count();
            if prompts > self.typed.get() {
                break;
            }
            assert!(
                t.elapsed() < Duration::from_secs(30),
                "nushell shows no prompt:\n{screen}"
            );
            std::thread::sleep(Duration::from_millis(30));
        }
        self.typed.set(self.typed.get() + 1);
    }

    /// Waits until every line typed so far ran: a builtin writes a marker file.
    pub fn sync(&self) {
        static N: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
        let k = N.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        let f = self.tmux.dir.join(format!("sync-{}-{k}", self.n));
        if self.nu {
            self.line(&format!("'ok' | save -f '{}'", f.display()));
        } else {
            self.line(&format!("echo ok > {}", f.display()));
        }
        let t = Instant::now();
        while !f.exists() {
            assert!(
                t.elapsed() < Duration::from_secs(30),
                "shell stuck:\n{}",
                self.screen()
            );
            std::thread::sleep(Duration::from_millis(30));
        }
    }

    /// A variable of the shell, read through a file written by builtins.
    pub fn var(&self, name: &str) -> String {
        let f = self.tmux.dir.join(format!("var-{}-{name}", self.n));
        let _ = std::fs::remove_file(&f);
        if self.nu {
            self.line(&format!(
                "$env.{name}? | default '' | save -f '{}'",
                f.display()
            ));
        } else {
            self.line(&format!("printf '%s' \"${name}\" > {}", f.display()));
        }
        self.sync();
        std::fs::read_to_string(&f).unwrap_or_default()
    }

    pub fn screen(&self) -> String {
        self.tmux
            .tmux(&["capture-pane", "-p", "-J", "-S", "-500", "-t", &self.target])
    }

    /// Waits until the screen shows `text`.
    pub fn wait_for(&self, text: &str) {
        let t = Instant::now();
        while !self.screen().contains(text) {
            assert!(
                t.elapsed() < Duration::from_secs(30),
                "waited for {text:?}:\n{}",
                self.screen()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Sends tmux key names (`C-c`, `Enter`).
    pub fn keys(&self, keys: &str) {
        self.tmux.tmux(&["send-keys", "-t", &self.target, keys]);
    }

    /// Presses Enter `n` times: `n` fresh prompts.
    pub(crate) fn prompts(&self, n: usize) {
        for _ in 0..n {
            self.line("");
        }
        self.sync();
    }
}

/// A sandbox whose PATH starts with a fake `ssoenv` that logs each start, then runs the real one.
pub(crate) struct Interactive {
    pub(crate) s: Sandbox,
    pub(crate) log: PathBuf,
    pub(crate) env: Vec<(String, String)>,
}

impl Interactive {
    pub(crate) fn new(credential_lifetime: Duration) -> Interactive {
        let s = Sandbox::signed_in();
        s.mock.set_credential_lifetime(credential_lifetime);
        let fake = s.dir.path().join("fakebin");
        std::fs::create_dir_all(&fake).unwrap();
        let log = s.dir.path().join("starts.log");
        let script = fake.join("ssoenv");
        std::fs::write(
            &script,
            format!(
                "#!/bin/sh\necho \"$*\" >> '{}'\nexec '{BIN}' \"$@\"\n",
                log.display()
            ),
        )
        .unwrap();
        std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).unwrap();
        let env = vec![
            ("HOME".into(), s.home().display().to_string()),
            (
                "PATH".into(),
                format!("{}:/usr/local/bin:/usr/bin:/bin", fake.display()),
            ),
            ("TERM".into(), "xterm-256color".into()),
            ("AWS_ENDPOINT_URL_SSO".into(), s.mock.url()),
            ("AWS_ENDPOINT_URL_SSO_OIDC".into(), s.mock.url()),
            ("SSOENV_TIMEOUT".into(), "3".into()),
        ];
        Interactive { s, log, env }
    }

    pub(crate) fn starts(&self) -> usize {
        std::fs::read_to_string(&self.log)
            .map(|t| t.lines().count())
            .unwrap_or(0)
    }

    pub(crate) fn last_key(&self) -> String {
        self.s
            .mock
            .issued_credentials()
            .last()
            .unwrap()
            .access_key_id
            .clone()
    }
}

/// Nushell (not in Debian: tests/run installs it from npm): `SSOENV_TEST_NU`, else `nu` on PATH.
fn nu_binary() -> String {
    let nu = std::env::var("SSOENV_TEST_NU").unwrap_or_else(|_| "nu".into());
    require(&nu).display().to_string()
}

pub(crate) fn shell_argv(shell: &str) -> Vec<&'static str> {
    match shell {
        "nu" => vec![String::leak(nu_binary()), "--no-config-file"],
        "bash" => vec!["bash", "--norc", "--noprofile", "-i"],
        "zsh" => vec!["zsh", "-f", "-i"],
        _ => vec!["fish", "--no-config", "-i"],
    }
}

pub(crate) fn load_line(shell: &str) -> &'static str {
    match shell {
        "nu" => String::leak(format!("source '{}'", repo("shell/ssoenv.nu").display())),
        "bash" => r#"eval "$(ssoenv hook bash)""#,
        "zsh" => r#"eval "$(ssoenv hook zsh)""#,
        _ => "ssoenv hook fish | source",
    }
}

/// Stops the renewal timer the direnv function left running.
pub(crate) fn stop_direnv_timer(it: &Interactive) {
    let f =
        it.s.home()
            .join(".local/state/ssoenv/stamps/dev.direnv-timer");
    let pid = std::fs::read_to_string(&f).unwrap_or_else(|e| panic!("{}: {e}", f.display()));
    Command::new("kill").arg(pid.trim()).status().unwrap();
}

/// Starts `argv` (a `shell` session), loads the plugin and runs `ssoenv use dev`: the terminal
/// and the exported key, which must be the server's.
pub(crate) fn used_dev<'a>(
    it: &Interactive,
    tmux: &'a mut Tmux,
    shell: &str,
    argv: &[&str],
) -> (Term<'a>, String) {
    let t = tmux.open(&it.env, argv);
    t.line(load_line(shell));
    t.line("ssoenv use dev");
    let key = t.var("AWS_ACCESS_KEY_ID");
    assert_eq!(
        key,
        it.last_key(),
        "{shell}: use exported the server's credentials\n{}",
        t.screen()
    );
    assert_eq!(t.var("AWS_PROFILE"), "dev");
    (t, key)
}

/// `ssoenv use`, fresh prompts that start nothing, a second shell's renewal picked up without
/// a request, renewal before expiry, and a renewal picked up by the other shell.
fn renews_before_expiry_and_shares_renewals(shell: &str) {
    // Renewal is due half-way through credentials shorter than the margin: at 6 s here.
    let it = Interactive::new(Duration::from_secs(12));
    let mut tmux = Tmux::new(it.s.dir.path());
    let (a, c1) = used_dev(&it, &mut tmux, shell, &shell_argv(shell));

    // Fresh prompts start no process.
    let before = it.starts();
    a.prompts(5);
    assert_eq!(
        it.starts(),
        before,
        "{shell}: a fresh prompt started ssoenv"
    );

    // A second shell gets credentials of its own; the first takes them over at its next
    // prompt, from the cache.
    let tmux2 = &mut Tmux::new(&it.s.dir.path().join("second"));
    std::fs::create_dir_all(it.s.dir.path().join("second")).unwrap();
    let (b, c2) = used_dev(&it, tmux2, shell, &shell_argv(shell));
    assert_ne!(c1, c2);
    it.s.mock.clear_requests();
    a.prompts(1);
    assert_eq!(
        a.var("AWS_ACCESS_KEY_ID"),
        c2,
        "{shell}: picked up the other shell's credentials"
    );
    assert_eq!(it.s.mock.requests().len(), 0, "{shell}: without a request");

    // Past the renewal point, the next prompt starts a renewal in the background, and a
    // prompt after it finished takes it: one request, new credentials.
    let renew_at: i64 = a.var("SSOENV_RENEW_AT").parse().unwrap();
    while now() < renew_at + 1 {
        std::thread::sleep(Duration::from_millis(200));
    }
    a.prompts(1);
    let clock = Instant::now();
    let mut c3 = a.var("AWS_ACCESS_KEY_ID");
    while c3 == c2 && clock.elapsed() < Duration::from_secs(10) {
        std::thread::sleep(Duration::from_millis(100));
        c3 = a.var("AWS_ACCESS_KEY_ID");
    }
    assert_eq!(c3, it.last_key(), "{shell}: renewed\n{}", a.screen());
    assert_ne!(c3, c2);
    assert_eq!(it.s.mock.count(Route::GetRoleCredentials), 1);
    // ... and the second shell picks up that renewal without a request.
    b.prompts(1);
    assert_eq!(
        b.var("AWS_ACCESS_KEY_ID"),
        c3,
        "{shell}: second shell took the renewal"
    );
    assert_eq!(it.s.mock.count(Route::GetRoleCredentials), 1);
}

#[test]
fn bash_renews_before_expiry_and_shares_renewals() {
    renews_before_expiry_and_shares_renewals("bash");
}

#[test]
fn nu_renews_before_expiry_and_shares_renewals() {
    renews_before_expiry_and_shares_renewals("nu");
}

#[test]
fn zsh_renews_before_expiry_and_shares_renewals() {
    renews_before_expiry_and_shares_renewals("zsh");
}

#[test]
fn fish_renews_before_expiry_and_shares_renewals() {
    renews_before_expiry_and_shares_renewals("fish");
}

/// A failing renewal says so once, keeps the variables until they expire, then removes them.
fn failing_renewal_warns_once_then_unsets(shell: &str) {
    let it = Interactive::new(Duration::from_secs(6));
    let mut tmux = Tmux::new(it.s.dir.path());
    let (a, c1) = used_dev(&it, &mut tmux, shell, &shell_argv(shell));
    it.s.mock.fault_always(
        Route::GetRoleCredentials,
        Fault::Status {
            status: 403,
            error_type: "ForbiddenException".into(),
            message: "No access".into(),
        },
    );
    let renew_at: i64 = a.var("SSOENV_RENEW_AT").parse().unwrap();
    while now() < renew_at + 1 {
        std::thread::sleep(Duration::from_millis(200));
    }
    a.prompts(3);
    assert_eq!(a.var("AWS_ACCESS_KEY_ID"), c1, "{shell}: kept until expiry");
    let expires: i64 = a.var("SSOENV_EXPIRATION").parse().unwrap();
    while now() < expires + 1 {
        std::thread::sleep(Duration::from_millis(200));
    }
    a.prompts(2);
    assert_eq!(
        a.var("AWS_ACCESS_KEY_ID"),
        "",
        "{shell}: removed after expiry"
    );
    assert_eq!(a.var("SSOENV_PROFILE"), "");
    let screen = a.screen();
    assert_eq!(
        screen.matches("no access to role").count(),
        1,
        "{shell}: warned once\n{screen}"
    );
    assert_eq!(
        screen.matches("expired and were removed").count(),
        1,
        "{screen}"
    );
}

#[test]
fn bash_failing_renewal_warns_once_then_unsets() {
    failing_renewal_warns_once_then_unsets("bash");
}

#[test]
fn zsh_failing_renewal_warns_once_then_unsets() {
    failing_renewal_warns_once_then_unsets("zsh");
}

#[test]
fn fish_failing_renewal_warns_once_then_unsets() {
    failing_renewal_warns_once_then_unsets("fish");
}

/// Counts the processes a shell starts over fresh prompts by tracing its system calls.
fn traced_prompts_start_nothing(shell: &str) {
    let it = Interactive::new(Duration::from_secs(3600));
    let mut tmux = Tmux::new(it.s.dir.path());
    let trace = it.s.dir.path().join("trace.log");
    let mut argv = vec![
        "strace",
        "-f",
        "-qq",
        "-e",
        "trace=execve,fork,vfork,clone,clone3",
        "-o",
    ];
    let t = trace.display().to_string();
    argv.push(&t);
    argv.extend(shell_argv(shell));
    let (a, _) = used_dev(&it, &mut tmux, shell, &argv);
    let count = || {
        std::fs::read_to_string(&trace)
            .unwrap_or_default()
            .lines()
            .count()
    };
    let before = count();
    assert!(before > 1, "the trace records the shell's own starts");
    a.prompts(10);
    let _ = a.var("AWS_ACCESS_KEY_ID");
    assert_eq!(count(), before, "{shell}: fresh prompts started processes");
}

/// The stamp of profile `dev` under `home`, and its link for credentials `id`.
fn stamp_and_link(home: &Path, id: &str) -> (PathBuf, PathBuf) {
    let stamp = home.join(".local/state/ssoenv/stamps/dev");
    let link = home.join(format!(".local/state/ssoenv/stamps/dev@{id}"));
    (stamp, link)
}

fn same_file(a: &Path, b: &Path) -> bool {
    use std::os::unix::fs::MetadataExt;
    match (std::fs::metadata(a), std::fs::metadata(b)) {
        (Ok(a), Ok(b)) => a.dev() == b.dev() && a.ino() == b.ino(),
        _ => false,
    }
}

/// The stamp's `ID` field: its third word.
fn stamp_id(stamp: &Path) -> String {
    let text = std::fs::read_to_string(stamp).unwrap();
    text.split_whitespace().nth(2).unwrap().to_string()
}

/// The link `<stamp>@ID` the hooks compare with `-ef` is a second name of the stamp while it
/// names credentials ID: made by an export, left as it is by a warm one, moved to the new
/// credentials' stamp by one that gets new credentials (the old link goes).
#[test]
fn the_stamps_link_names_the_stamp_of_the_exported_credentials_only() {
    let s = Sandbox::signed_in();
    s.mock.set_credential_lifetime(Duration::from_secs(3600));
    s.run(&["export", "--shell", "bash", "dev"]).ok();
    let stamp = s.home().join(".local/state/ssoenv/stamps/dev");
    let id1 = stamp_id(&stamp);
    let (_, link1) = stamp_and_link(&s.home(), &id1);
    assert!(same_file(&stamp, &link1), "linked after an export");
    let written = std::fs::metadata(&stamp).unwrap().modified().unwrap();
    // Warm: the same credentials, nothing written.
    s.run(&["export", "--shell", "bash", "dev"]).ok();
    assert!(
        same_file(&stamp, &link1),
        "still linked after a warm export"
    );
    assert_eq!(
        std::fs::metadata(&stamp).unwrap().modified().unwrap(),
        written,
        "a warm export writes nothing"
    );
    // A missing link (a stamp another version wrote) is made by the next export.
    std::fs::remove_file(&link1).unwrap();
    s.run(&["export", "--shell", "bash", "dev"]).ok();
    assert!(same_file(&stamp, &link1), "linked again");
    // New credentials (the cached ones gone): a new stamp, linked; the old link is gone.
    std::fs::remove_dir_all(s.home().join(".aws/cli/cache")).unwrap();
    s.run(&["export", "--shell", "bash", "dev"]).ok();
    let id2 = stamp_id(&stamp);
    assert_ne!(id1, id2);
    let (_, link2) = stamp_and_link(&s.home(), &id2);
    assert!(same_file(&stamp, &link2), "the new stamp is linked");
    assert!(!link1.exists(), "the old link is gone");
    let names: Vec<String> = std::fs::read_dir(stamp.parent().unwrap())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with("dev@"))
        .collect();
    assert_eq!(names, [format!("dev@{id2}")], "one link");
}

/// The cheap check trusts the link only while it is a name of the stamp itself: with the link
/// gone (a stamp another ssoenv wrote) a fresh prompt reads the stamp and still starts
/// nothing; a stamp replaced by one naming other credentials, the old link left behind, is
/// noticed at the next prompt, which goes to take them.
fn fresh_check_trusts_the_link_only_while_it_names_the_stamp(shell: &str) {
    let it = Interactive::new(Duration::from_secs(3600));
    let mut tmux = Tmux::new(it.s.dir.path());
    let (a, _) = used_dev(&it, &mut tmux, shell, &shell_argv(shell));
    let id = a.var("SSOENV_ID");
    let (stamp, link) = stamp_and_link(&it.s.home(), &id);
    assert!(same_file(&stamp, &link), "{shell}: use linked the stamp");
    let before = it.starts();
    a.prompts(3);
    assert_eq!(it.starts(), before, "{shell}: fresh prompts start nothing");
    std::fs::remove_file(&link).unwrap();
    a.prompts(3);
    assert_eq!(
        it.starts(),
        before,
        "{shell}: without the link, a fresh prompt reads the stamp and starts nothing"
    );
    std::fs::hard_link(&stamp, &link).unwrap();
    let text = std::fs::read_to_string(&stamp).unwrap();
    let other = text.replace(&id, "fedcba9876543210");
    let tmp = stamp.with_extension("test-tmp");
    std::fs::write(&tmp, other).unwrap();
    std::fs::rename(&tmp, &stamp).unwrap();
    assert!(link.exists() && !same_file(&stamp, &link));
    a.prompts(1);
    let _ = a.var("SSOENV_PROFILE");
    assert!(
        it.starts() > before,
        "{shell}: the next prompt noticed the new stamp\n{}",
        a.screen()
    );
}

#[test]
fn bash_fresh_check_trusts_the_link_only_while_it_names_the_stamp() {
    fresh_check_trusts_the_link_only_while_it_names_the_stamp("bash");
}

#[test]
fn zsh_fresh_check_trusts_the_link_only_while_it_names_the_stamp() {
    fresh_check_trusts_the_link_only_while_it_names_the_stamp("zsh");
}

#[test]
fn fish_fresh_check_trusts_the_link_only_while_it_names_the_stamp() {
    fresh_check_trusts_the_link_only_while_it_names_the_stamp("fish");
}

#[test]
fn bash_fresh_prompts_start_no_process_under_strace() {
    traced_prompts_start_nothing("bash");
}

#[test]
fn zsh_fresh_prompts_start_no_process_under_strace() {
    traced_prompts_start_nothing("zsh");
}

#[test]
fn a_trusted_ssoenv_file_selects_the_profile_on_cd_and_leaving_clears_it() {
    for shell in ["bash", "zsh", "fish"] {
        let it = Interactive::new(Duration::from_secs(3600));
        let proj = it.s.home().join("proj");
        std::fs::create_dir_all(proj.join("sub")).unwrap();
        std::fs::write(proj.join(".ssoenv"), "admin\n").unwrap();
        let mut tmux = Tmux::new(it.s.dir.path());
        let a = tmux.open(&it.env, &shell_argv(shell));
        a.line(load_line(shell));
        a.line(&format!("cd {}", proj.join("sub").display()));
        a.prompts(1);
        assert_eq!(a.var("SSOENV_PROFILE"), "", "{shell}: untrusted is ignored");
        a.line(&format!("ssoenv allow {}", proj.display()));
        a.line("cd ~");
        a.line(&format!("cd {}", proj.join("sub").display()));
        a.prompts(1);
        assert_eq!(
            a.var("SSOENV_PROFILE"),
            "admin",
            "{shell}: trusted\n{}",
            a.screen()
        );
        assert_eq!(a.var("AWS_ACCESS_KEY_ID"), it.last_key());
        a.line("cd ~");
        a.prompts(1);
        assert_eq!(a.var("SSOENV_PROFILE"), "", "{shell}: left");
        assert_eq!(a.var("AWS_ACCESS_KEY_ID"), "");
        // A changed file must be trusted again.
        std::fs::write(proj.join(".ssoenv"), "dev\n").unwrap();
        a.line(&format!("cd {}", proj.display()));
        a.prompts(1);
        assert_eq!(
            a.var("SSOENV_PROFILE"),
            "",
            "{shell}: changed file is untrusted"
        );
    }
}

/// direnv's lib folder with `use_ssoenv` as install.sh puts it, and a project whose .envrc
/// uses profile dev: the shell's environment and the project directory.
pub(crate) fn direnv_setup(it: &Interactive) -> (Vec<(String, String)>, PathBuf) {
    let config = it.s.dir.path().join("xdg-config");
    std::fs::create_dir_all(config.join("direnv/lib")).unwrap();
    std::fs::write(
        config.join("direnv/lib/ssoenv.sh"),
        it.s.run(&["hook", "direnv"]).ok(),
    )
    .unwrap();
    let proj = it.s.home().join("proj");
    std::fs::create_dir_all(&proj).unwrap();
    std::fs::write(proj.join(".envrc"), "use ssoenv dev\n").unwrap();
    let mut env = it.env.clone();
    env.push(("XDG_CONFIG_HOME".into(), config.display().to_string()));
    (env, proj)
}

#[test]
fn direnv_loads_credentials_and_reloads_when_the_stamp_changes() {
    let it = Interactive::new(Duration::from_secs(3600));
    let (env, proj) = direnv_setup(&it);
    let mut tmux = Tmux::new(it.s.dir.path());
    let a = tmux.open(&env, &shell_argv("bash"));
    a.line(r#"eval "$(direnv hook bash)""#);
    a.line(&format!("cd {} && direnv allow", proj.display()));
    a.prompts(1);
    let c1 = a.var("AWS_ACCESS_KEY_ID");
    assert_eq!(c1, it.last_key(), "{}", a.screen());
    // A renewal elsewhere (here: a cold run after the cache was dropped) changes the stamp...
    let cache = it.s.role_cache_path("111111111111", "ReadOnly", "corp");
    std::fs::remove_file(cache).unwrap();
    std::thread::sleep(Duration::from_millis(1100));
    it.s.run(&["dev"]).ok();
    let c2 = it.last_key();
    assert_ne!(c1, c2);
    it.s.mock.clear_requests();
    // ... and direnv reloads at the next prompt, from the cache.
    a.prompts(1);
    assert_eq!(a.var("AWS_ACCESS_KEY_ID"), c2, "{}", a.screen());
    assert_eq!(it.s.mock.requests().len(), 0);
    a.line("cd ~");
    a.prompts(1);
    assert_eq!(a.var("AWS_ACCESS_KEY_ID"), "", "direnv unloads on leaving");
    stop_direnv_timer(&it);
}

#[test]
fn install_sh_finds_cargos_target_dir_and_rc_creates_the_login_shells_file_with_path() {
    let s = Sandbox::new();
    let prefix = s.dir.path().join("pre'fix");
    // A cargo that builds by copying the real binary where CARGO_TARGET_DIR says.
    let fake = s.dir.path().join("fakebin");
    std::fs::create_dir_all(&fake).unwrap();
    std::fs::write(
        fake.join("cargo"),
        format!(
            "#!/bin/sh\nmkdir -p \"$CARGO_TARGET_DIR/release\" && cp '{BIN}' \"$CARGO_TARGET_DIR/release/ssoenv\"\n"
        ),
    )
    .unwrap();
    std::fs::set_permissions(fake.join("cargo"), std::fs::Permissions::from_mode(0o755)).unwrap();
    let path = format!("{}:/usr/bin:/bin", fake.display());
    let run: Run = tool("sh")
        .arg(repo("install.sh"))
        .arg("--rc")
        .current_dir(s.dir.path())
        .env_clear()
        .env("HOME", s.home())
        .env("PREFIX", &prefix)
        .env("PATH", &path)
        .env("SHELL", "/usr/bin/zsh")
        .env("CARGO_TARGET_DIR", "elsewhere")
        .output()
        .unwrap()
        .into();
    let out = run.ok().to_string();
    assert!(prefix.join("bin/ssoenv").is_file(), "{out}");
    let zshrc = std::fs::read_to_string(s.home().join(".zshrc")).unwrap();
    assert!(out.contains("created") && out.contains(".zshrc"), "{out}");
    assert!(zshrc.contains(r#"eval "$(ssoenv hook zsh)""#), "{zshrc}");
    // A new zsh finds ssoenv through the PATH line, odd characters in PREFIX and all.
    let r: Run = tool("zsh")
        .args(["-c", "source ~/.zshrc; whence -p ssoenv"])
        .env_clear()
        .env("HOME", s.home())
        .env("PATH", "/usr/bin:/bin")
        .output()
        .unwrap()
        .into();
    assert_eq!(
        r.ok().trim(),
        prefix.join("bin/ssoenv").display().to_string()
    );
    assert!(
        !s.home().join(".bashrc").exists(),
        "not the login shell: not created"
    );
    let help: Run = tool("sh")
        .args([repo("install.sh").to_str().unwrap(), "--help"])
        .output()
        .unwrap()
        .into();
    assert!(!help.ok().contains("set -eu"), "{}", help.stdout);
}

#[test]
fn install_sh_installs_appends_rc_lines_once_and_uninstalls() {
    let s = Sandbox::new();
    let prefix = s.dir.path().join("prefix");
    let bashrc = s.home().join(".bashrc");
    std::fs::write(&bashrc, "# mine\nalias ll='ls -l'\n").unwrap();
    let install = |args: &[&str]| -> Run {
        tool("sh")
            .arg(repo("install.sh"))
            .args(args)
            .env_clear()
            .env("HOME", s.home())
            .env("PREFIX", &prefix)
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .output()
            .unwrap()
            .into()
    };
    let out = install(&["--binary", BIN]);
    assert!(
        out.ok().contains(r#"eval "$(ssoenv hook bash)""#),
        "{}",
        out.stdout
    );
    assert_eq!(
        std::fs::read_to_string(&bashrc).unwrap(),
        "# mine\nalias ll='ls -l'\n",
        "no --rc, no edit"
    );
    install(&["--binary", BIN, "--rc"]).ok();
    install(&["--binary", BIN, "--rc"]).ok();
    let rc = std::fs::read_to_string(&bashrc).unwrap();
    assert_eq!(rc.matches("ssoenv hook bash").count(), 1, "{rc}");
    assert!(
        !s.home().join(".zshrc").exists(),
        "absent rc files are not created"
    );
    assert!(prefix.join("share/ssoenv/fish/conf.d/ssoenv.fish").exists());
    assert!(prefix.join("share/ssoenv/pwsh/ssoenv.psd1").exists());
    let lib = s.home().join(".config/direnv/lib/ssoenv.sh");
    assert_eq!(
        std::fs::read_to_string(&lib).unwrap(),
        read("shell/direnv/ssoenv.sh")
    );
    // The installed binary, found through PATH, loads the plugin from .bashrc.
    let path = format!(
        "{}:{}",
        prefix.join("bin").display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let r: Run = tool("bash")
        .args([
            "--norc",
            "-c",
            r#"source ~/.bashrc; type -t ssoenv; printf '%s\n' "$PROMPT_COMMAND""#,
        ])
        .env_clear()
        .env("HOME", s.home())
        .env("PATH", &path)
        .output()
        .unwrap()
        .into();
    assert_eq!(
        (r.stdout.as_str(), r.stderr.as_str()),
        ("function\n__ssoenv_prompt\n", "")
    );
    install(&["--uninstall"]).ok();
    assert_eq!(
        std::fs::read_to_string(&bashrc).unwrap(),
        "# mine\nalias ll='ls -l'\n"
    );
    assert!(
        !prefix.join("bin/ssoenv").exists()
            && !lib.exists()
            && !prefix.join("share/ssoenv").exists()
    );
}

#[test]
fn direnv_alone_renews_short_lived_credentials_before_they_expire() {
    let it = Interactive::new(Duration::from_secs(8));
    let (env, proj) = direnv_setup(&it);
    let mut tmux = Tmux::new(it.s.dir.path());
    let a = tmux.open(&env, &shell_argv("bash"));
    a.line(r#"eval "$(direnv hook bash)""#);
    a.line(&format!("cd {} && direnv allow", proj.display()));
    a.prompts(1);
    let c1 = a.var("AWS_ACCESS_KEY_ID");
    assert_eq!(c1, it.last_key(), "{}", a.screen());
    let renew_at: i64 = a.var("SSOENV_RENEW_AT").parse().unwrap();
    let expires: i64 = a.var("SSOENV_EXPIRATION").parse().unwrap();
    assert!(renew_at < expires);
    while now() < renew_at + 1 {
        std::thread::sleep(Duration::from_millis(200));
    }
    // Nobody else renews: the timer touches the stamp, a prompt reloads and starts the renewal
    // in the background, and a later prompt picks its new stamp up. How many prompts that takes
    // depends on the machine's load; it must happen before the credentials expire.
    let c2 = loop {
        a.prompts(1);
        let c = a.var("AWS_ACCESS_KEY_ID");
        if c != c1 || now() >= expires {
            break c;
        }
        std::thread::sleep(Duration::from_millis(200));
    };
    assert!(now() < expires, "renewed before expiry\n{}", a.screen());
    assert_ne!(c2, c1, "{}", a.screen());
    assert_eq!(c2, it.last_key());
    stop_direnv_timer(&it);
}

#[test]
fn the_bash_clock_without_epochseconds_is_printf_on_bash_4_and_seconds_arithmetic_on_bash_3_2() {
    // bash 3.2 (macOS) has neither EPOCHSECONDS nor printf %()T: the plugin reads `date` once
    // at load and counts SECONDS from there. Emulated: the variable unset, printf disabled.
    let s = Sandbox::new();
    // The numbers a script prints.
    let numbers = |script: &str, n: usize| -> Vec<i64> {
        let r = strict(&s, "bash", script);
        let v: Vec<i64> = r
            .stdout
            .split_whitespace()
            .map(|x| x.parse().unwrap())
            .collect();
        assert_eq!(v.len(), n, "{}{}", r.stdout, r.stderr);
        v
    };
    let v = numbers(
        r#"unset EPOCHSECONDS; enable -n printf; eval "$(ssoenv hook bash)"; SECONDS=0; __ssoenv_now; a=$__ssoenv_t; SECONDS=7; __ssoenv_now; echo "$a $__ssoenv_t $(date +%s)""#,
        3,
    );
    assert!((v[2] - v[0]).abs() <= 2, "starts at the wall clock: {v:?}");
    assert_eq!(v[1] - v[0], 7, "advances with SECONDS: {v:?}");
    // bash 4.2 to 4.4 (no EPOCHSECONDS, printf %()T): the wall clock at each reading, whatever
    // the user does with SECONDS.
    let v = numbers(
        r#"unset EPOCHSECONDS; eval "$(ssoenv hook bash)"; SECONDS=100000; __ssoenv_now; echo "$__ssoenv_t $(date +%s)""#,
        2,
    );
    assert!((v[1] - v[0]).abs() <= 2, "the wall clock: {v:?}");
}

/// Ctrl-C while the plugin evaluates ssoenv's statements: they run to the end, so the shell
/// has every variable, never some; the shell's own INT trap is back afterwards. A fake ssoenv
/// prints statements made slow by `padding` builtin-only lines between the first and the last
/// variable, and marks when the shell starts and ends evaluating them.
fn ctrl_c_cannot_stop_the_eval_half_way(shell: &str, padding: usize) {
    let dir = TempDir::new();
    let bin = dir.path().join("bin");
    std::fs::create_dir_all(&bin).unwrap();
    let started = dir.path().join("started");
    let done = dir.path().join("done");
    let mut out = format!(
        ": >'{}'\nexport AWS_ACCESS_KEY_ID='first'\n__pad=0\n",
        started.display()
    );
    for _ in 0..padding {
        out.push_str("__pad=$((__pad + 1))\n");
    }
    out.push_str(&format!(
        "export AWS_SESSION_TOKEN='last'\n: >'{}'\n",
        done.display()
    ));
    let output = dir.path().join("output");
    std::fs::write(&output, out).unwrap();
    let fake = bin.join("ssoenv");
    std::fs::write(
        &fake,
        format!(
            "#!/bin/sh\ncase $1 in hook) exec '{BIN}' \"$@\" ;; esac\nexec cat '{}'\n",
            output.display()
        ),
    )
    .unwrap();
    std::fs::set_permissions(&fake, std::fs::Permissions::from_mode(0o755)).unwrap();
    let env = vec![
        ("HOME".into(), dir.path().display().to_string()),
        (
            "PATH".into(),
            format!("{}:/usr/local/bin:/usr/bin:/bin", bin.display()),
        ),
        ("TERM".into(), "xterm-256color".into()),
    ];
    let mut tmux = Tmux::new(dir.path());
    let t = tmux.open(&env, &shell_argv(shell));
    t.line(load_line(shell));
    t.sync();
    t.line("ssoenv use dev");
    let clock = Instant::now();
    while !started.exists() {
        assert!(clock.elapsed() < Duration::from_secs(30), "{}", t.screen());
        std::thread::sleep(Duration::from_millis(10));
    }
    assert!(
        !done.exists(),
        "{shell}: the statements ended before Ctrl-C: more padding"
    );
    t.keys("C-c");
    t.sync();
    assert!(
        done.exists(),
        "{shell}: Ctrl-C stopped the statements half-way\n{}",
        t.screen()
    );
    assert_eq!(t.var("AWS_ACCESS_KEY_ID"), "first");
    assert_eq!(t.var("AWS_SESSION_TOKEN"), "last", "{shell}");
    // The shell's own trap is put back.
    t.line("trap 'echo mine' INT");
    t.line("ssoenv use dev");
    let traps = dir.path().join("traps");
    t.line(&format!("trap > {}", traps.display()));
    t.sync();
    let traps = std::fs::read_to_string(traps).unwrap();
    assert!(traps.contains("echo mine"), "{shell}: {traps}");
}

#[test]
fn bash_ctrl_c_cannot_stop_the_eval_half_way() {
    ctrl_c_cannot_stop_the_eval_half_way("bash", 300_000);
}

#[test]
fn zsh_ctrl_c_cannot_stop_the_eval_half_way() {
    ctrl_c_cannot_stop_the_eval_half_way("zsh", 25_000);
}

#[test]
fn zsh_plugin_is_not_changed_by_aliases_or_functions_named_like_builtins() {
    let s = Sandbox::signed_in();
    let bin = Path::new(BIN).parent().unwrap().display().to_string();
    let mut script = String::new();
    for b in [
        "command", "eval", "emulate", "local", "print", "return", "shift", "trap", "typeset",
    ] {
        script.push_str(&format!("alias {b}='echo HIJACKED {b}'\n"));
    }
    script.push_str(
        r#"read() { echo HIJACKED read; }
zmodload() { echo HIJACKED zmodload; }
builtin eval "$(ssoenv hook zsh)"
ssoenv use dev
builtin print -r -- "$AWS_PROFILE $SSOENV_PROFILE ${#AWS_SESSION_TOKEN}""#,
    );
    let r: Run = tool("zsh")
        .args(["-f", "-c", &script])
        .env_clear()
        .env("HOME", s.home())
        .env(
            "PATH",
            format!("{bin}:{}", std::env::var("PATH").unwrap_or_default()),
        )
        .env("AWS_ENDPOINT_URL_SSO", s.mock.url())
        .env("AWS_ENDPOINT_URL_SSO_OIDC", s.mock.url())
        .env("SSOENV_TIMEOUT", "3")
        .output()
        .unwrap()
        .into();
    let token = s
        .mock
        .issued_credentials()
        .last()
        .map_or(0, |c| c.session_token.len());
    assert_eq!(
        (r.stdout.as_str(), r.stderr.as_str()),
        (format!("dev dev {token}\n").as_str(), "")
    );
}
