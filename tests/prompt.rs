//! The prompt never waits for a renewal: with the portal accepting connections and never
//! answering at the renewal point, prompts come back at once in bash, zsh, fish, nushell and
//! bash with direnv; the failure is told once; once the portal answers again a background
//! renewal succeeds and a prompt takes it, after which fresh prompts start nothing. Also what
//! the plugins do around it: a hand-chosen profile comes back after a `.ssoenv` directory,
//! `ssoenv allow` applies at once, doctor learns whether the prompt hook is in place, and
//! direnv keeps one renewal timer per profile.

use std::path::Path;
use std::time::{Duration, Instant};

use crate::plugins::{
    Interactive, Term, Tmux, direnv_setup, load_line, shell_argv, stop_direnv_timer, used_dev,
};
use crate::support::*;

fn set_env(env: &mut Vec<(String, String)>, key: &str, value: &str) {
    env.retain(|(k, _)| k != key);
    env.push((key.into(), value.into()));
}

fn wait_until(epoch: i64) {
    while now() < epoch {
        std::thread::sleep(Duration::from_millis(200));
    }
}

/// Five prompts, each back well within the HTTP timeout (6 s here): none waits for it.
fn prompts_come_back_at_once(shell: &str, t: &Term) {
    for i in 0..5 {
        let clock = Instant::now();
        t.prompts(1);
        let took = clock.elapsed();
        assert!(
            took < Duration::from_secs(2),
            "{shell}: prompt {i} took {took:?}\n{}",
            t.screen()
        );
    }
}

/// Prompts until the screen shows `text` (the plugins speak at a prompt).
fn prompt_until_screen_shows(shell: &str, t: &Term, text: &str, limit: Duration) {
    let clock = Instant::now();
    while !t.screen().contains(text) {
        assert!(
            clock.elapsed() < limit,
            "{shell}: waited for {text:?}\n{}",
            t.screen()
        );
        t.prompts(1);
        std::thread::sleep(Duration::from_millis(300));
    }
}

/// Prompts until the shell holds other credentials than `old`; returns them.
fn prompt_until_renewed(shell: &str, t: &Term, old: &str, limit: Duration) -> String {
    let clock = Instant::now();
    loop {
        let key = t.var("AWS_ACCESS_KEY_ID");
        if !key.is_empty() && key != old {
            return key;
        }
        assert!(
            clock.elapsed() < limit,
            "{shell}: not renewed (holds {key:?})\n{}",
            t.screen()
        );
        std::thread::sleep(Duration::from_millis(300));
    }
}

fn renewal_never_blocks_the_prompt(shell: &str) {
    // Renewal is due half-way: at 25 s. A renewal gives up after 6 s without an answer.
    let mut it = Interactive::new(Duration::from_secs(50));
    set_env(&mut it.env, "SSOENV_TIMEOUT", "6");
    let mut tmux = Tmux::new(it.s.dir.path());
    let (a, c1) = used_dev(&it, &mut tmux, shell, &shell_argv(shell));
    it.s.mock
        .fault_always(Route::GetRoleCredentials, Fault::Hang);
    let renew_at: i64 = a.var("SSOENV_RENEW_AT").parse().unwrap();
    wait_until(renew_at + 1);
    prompts_come_back_at_once(shell, &a);
    // The renewal in the background gets no answer: told once, the credentials kept.
    let failed = "renewing the credentials of dev failed";
    prompt_until_screen_shows(shell, &a, failed, Duration::from_secs(20));
    assert_eq!(a.var("AWS_ACCESS_KEY_ID"), c1, "{shell}: kept until expiry");
    // The portal answers again: a retry renews in the background, a prompt takes it.
    it.s.mock.clear_faults();
    let c2 = prompt_until_renewed(shell, &a, &c1, Duration::from_secs(20));
    assert_eq!(c2, it.last_key(), "{shell}: the server's new credentials");
    let screen = a.screen();
    assert_eq!(
        screen.matches(failed).count(),
        1,
        "{shell}: told once\n{screen}"
    );
    // Fresh again: prompts start nothing.
    let before = it.starts();
    a.prompts(3);
    assert_eq!(
        it.starts(),
        before,
        "{shell}: a fresh prompt started ssoenv"
    );
}

#[test]
fn bash_renewal_never_blocks_the_prompt() {
    renewal_never_blocks_the_prompt("bash");
}

#[test]
fn zsh_renewal_never_blocks_the_prompt() {
    renewal_never_blocks_the_prompt("zsh");
}

#[test]
fn fish_renewal_never_blocks_the_prompt() {
    renewal_never_blocks_the_prompt("fish");
}

#[test]
fn nu_renewal_never_blocks_the_prompt() {
    renewal_never_blocks_the_prompt("nu");
}

/// `cd` in nushell takes a path as a string; the other shells a word.
fn cd(shell: &str, dir: &Path) -> String {
    if shell == "nu" {
        format!("cd '{}'", dir.display())
    } else {
        format!("cd {}", dir.display())
    }
}

/// `ssoenv use dev`, then into a directory whose `.ssoenv` names admin: untrusted it changes
/// nothing; `ssoenv allow` there applies it at once; leaving gives dev back.
fn hand_chosen_profile_comes_back_and_allow_applies_at_once(shell: &str) {
    let it = Interactive::new(Duration::from_secs(3600));
    let proj = it.s.home().join("proj");
    std::fs::create_dir_all(&proj).unwrap();
    std::fs::write(proj.join(".ssoenv"), "admin\n").unwrap();
    let mut tmux = Tmux::new(it.s.dir.path());
    let (a, _) = used_dev(&it, &mut tmux, shell, &shell_argv(shell));
    a.line(&cd(shell, &proj));
    assert_eq!(
        a.var("SSOENV_PROFILE"),
        "dev",
        "{shell}: untrusted changes nothing"
    );
    a.line("ssoenv allow");
    assert_eq!(
        a.var("SSOENV_PROFILE"),
        "admin",
        "{shell}: allow applies at once\n{}",
        a.screen()
    );
    a.line(&cd(shell, &it.s.home()));
    assert_eq!(
        a.var("SSOENV_PROFILE"),
        "dev",
        "{shell}: the hand-chosen profile is back\n{}",
        a.screen()
    );
    assert_eq!(a.var("AWS_PROFILE"), "dev");
    a.line(&cd(shell, &proj));
    assert_eq!(a.var("SSOENV_PROFILE"), "admin", "{shell}: trusted");
    a.line(&cd(shell, Path::new("/tmp")));
    assert_eq!(a.var("SSOENV_PROFILE"), "dev", "{shell}: back again");
    // A change made inside stays when leaving.
    a.line(&cd(shell, &proj));
    assert_eq!(a.var("SSOENV_PROFILE"), "admin", "{shell}: trusted");
    a.line("ssoenv clear");
    a.line(&cd(shell, &it.s.home()));
    assert_eq!(a.var("SSOENV_PROFILE"), "", "{shell}: cleared inside");
}

#[test]
fn bash_hand_chosen_profile_comes_back_and_allow_applies_at_once() {
    hand_chosen_profile_comes_back_and_allow_applies_at_once("bash");
}

#[test]
fn zsh_hand_chosen_profile_comes_back_and_allow_applies_at_once() {
    hand_chosen_profile_comes_back_and_allow_applies_at_once("zsh");
}

#[test]
fn fish_hand_chosen_profile_comes_back_and_allow_applies_at_once() {
    hand_chosen_profile_comes_back_and_allow_applies_at_once("fish");
}

#[test]
fn nu_hand_chosen_profile_comes_back_and_allow_applies_at_once() {
    hand_chosen_profile_comes_back_and_allow_applies_at_once("nu");
}

/// `ssoenv doctor` run through the plugin: the hook in place, then removed.
fn doctor_sees_whether_the_prompt_hook_is_in_place(shell: &str) {
    let it = Interactive::new(Duration::from_secs(3600));
    let mut tmux = Tmux::new(it.s.dir.path());
    let t = tmux.open(&it.env, &shell_argv(shell));
    t.line(load_line(shell));
    let doctor = |n: u32| -> String {
        let f = it.s.dir.path().join(format!("doctor-{n}"));
        if shell == "nu" {
            t.line(&format!(
                "ssoenv doctor | complete | get stdout | save -f '{}'",
                f.display()
            ));
        } else {
            t.line(&format!("ssoenv doctor > {}", f.display()));
        }
        t.sync();
        std::fs::read_to_string(&f).unwrap_or_default()
    };
    let report = doctor(1);
    assert!(
        report.contains(&format!(
            "the {shell} plugin is loaded and its prompt hook is in place"
        )),
        "{shell}: {report}\n{}",
        t.screen()
    );
    t.line(match shell {
        "bash" => "PROMPT_COMMAND=",
        "zsh" => "precmd_functions=()",
        "fish" => "functions -e __ssoenv_prompt",
        _ => "$env.config.hooks.pre_prompt = []",
    });
    let report = doctor(2);
    assert!(
        report.contains("prompt hook is gone"),
        "{shell}: {report}\n{}",
        t.screen()
    );
}

#[test]
fn bash_doctor_sees_whether_the_prompt_hook_is_in_place() {
    doctor_sees_whether_the_prompt_hook_is_in_place("bash");
}

#[test]
fn zsh_doctor_sees_whether_the_prompt_hook_is_in_place() {
    doctor_sees_whether_the_prompt_hook_is_in_place("zsh");
}

#[test]
fn fish_doctor_sees_whether_the_prompt_hook_is_in_place() {
    doctor_sees_whether_the_prompt_hook_is_in_place("fish");
}

#[test]
fn nu_doctor_sees_whether_the_prompt_hook_is_in_place() {
    doctor_sees_whether_the_prompt_hook_is_in_place("nu");
}

/// The `sleep` processes started under this HOME: the direnv timers.
fn timers(home: &Path) -> usize {
    let want = format!("HOME={}", home.display());
    std::fs::read_dir("/proc")
        .unwrap()
        .flatten()
        .filter(|e| {
            e.file_name()
                .to_string_lossy()
                .bytes()
                .all(|b| b.is_ascii_digit())
        })
        .filter(|e| {
            std::fs::read_to_string(e.path().join("comm")).is_ok_and(|c| c.trim() == "sleep")
        })
        .filter(|e| {
            std::fs::read(e.path().join("environ"))
                .is_ok_and(|env| env.split(|&b| b == 0).any(|v| v == want.as_bytes()))
        })
        .count()
}

fn wait_for_timers(home: &Path, n: usize) {
    let clock = Instant::now();
    while timers(home) != n {
        assert!(
            clock.elapsed() < Duration::from_secs(10),
            "{} timers, not {n}",
            timers(home)
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[test]
fn direnv_keeps_one_timer_per_profile_and_none_after_logout() {
    let it = Interactive::new(Duration::from_secs(3600));
    let (env, proj) = direnv_setup(&it);
    let mut tmux = Tmux::new(it.s.dir.path());
    let a = tmux.open(&env, &shell_argv("bash"));
    a.line(r#"eval "$(direnv hook bash)""#);
    a.line(&format!("cd {} && direnv allow", proj.display()));
    a.prompts(1);
    assert_eq!(a.var("AWS_ACCESS_KEY_ID"), it.last_key(), "{}", a.screen());
    wait_for_timers(&it.s.home(), 1);
    for _ in 0..5 {
        a.line("direnv reload");
        a.prompts(1);
    }
    // Give a leftover sleep time to show, then count.
    std::thread::sleep(Duration::from_millis(500));
    wait_for_timers(&it.s.home(), 1);
    a.line("ssoenv logout");
    a.prompts(1);
    wait_for_timers(&it.s.home(), 0);
}

#[test]
fn direnv_renewal_never_blocks_the_prompt() {
    let mut it = Interactive::new(Duration::from_secs(50));
    set_env(&mut it.env, "SSOENV_TIMEOUT", "6");
    let (env, proj) = direnv_setup(&it);
    let mut tmux = Tmux::new(it.s.dir.path());
    let a = tmux.open(&env, &shell_argv("bash"));
    a.line(r#"eval "$(direnv hook bash)""#);
    a.line(&format!("cd {} && direnv allow", proj.display()));
    a.prompts(1);
    let c1 = a.var("AWS_ACCESS_KEY_ID");
    assert_eq!(c1, it.last_key(), "{}", a.screen());
    it.s.mock
        .fault_always(Route::GetRoleCredentials, Fault::Hang);
    let renew_at: i64 = a.var("SSOENV_RENEW_AT").parse().unwrap();
    wait_until(renew_at + 1);
    // The timer touched the stamp: the reload starts the renewal and does not wait for it.
    prompts_come_back_at_once("direnv", &a);
    let failed = "renewing the credentials of 'dev' failed";
    prompt_until_screen_shows("direnv", &a, failed, Duration::from_secs(20));
    assert_eq!(a.var("AWS_ACCESS_KEY_ID"), c1, "kept");
    it.s.mock.clear_faults();
    let c2 = prompt_until_renewed("direnv", &a, &c1, Duration::from_secs(25));
    assert_eq!(c2, it.last_key());
    assert_eq!(a.screen().matches(failed).count(), 1, "{}", a.screen());
    let _ = std::panic::catch_unwind(|| stop_direnv_timer(&it));
}
