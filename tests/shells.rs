//! Every output format evaluated by the real shell it targets, compared byte for byte with
//! what the server sent, with seeded random values full of quotes, backslashes, `$`,
//! backticks, newlines and non-ASCII, and a canary file that must never be created.

use std::path::Path;

use crate::support::*;

const VARS: [&str; 3] = [
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
];

/// xorshift64*: reproducible values from a seed.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545F4914F6CDD1D)
    }
    fn pick<'a>(&mut self, xs: &[&'a str]) -> &'a str {
        xs[(self.next() % xs.len() as u64) as usize]
    }
}

fn nasty_value(rng: &mut Rng, canary: &Path) -> String {
    let touch = format!("$(touch {0})`touch {0}`", canary.display());
    let parts: &[&str] = &[
        "'",
        "\"",
        "\\",
        "$",
        "`",
        "\n",
        "\r\n",
        "\t",
        " ",
        "’",
        "‘",
        "‚",
        "‛",
        "é",
        "🦀",
        "%PATH%",
        "!x!",
        "^",
        "&",
        "|",
        ";",
        "#",
        "*",
        "?",
        "[a]",
        "{b,c}",
        "~",
        "$HOME",
        "${HOME}",
        "\\'",
        "'\\''",
        "abc",
        "XYZ09",
        "+/=",
        "\u{7f}",
        "\u{1b}[31m",
    ];
    let mut s = String::new();
    let n = 3 + rng.next() % 12;
    for _ in 0..n {
        if rng.next().is_multiple_of(9) {
            s.push_str(&touch);
        } else {
            s.push_str(rng.pick(parts));
        }
    }
    // A trailing backslash is the classic breaker.
    if rng.next().is_multiple_of(3) {
        s.push('\\');
    }
    s
}

/// Runs `script` (which evaluates ssoenv's output) in a shell, then writes each variable to a
/// file of its own, byte exact, and returns the contents.
fn eval_in(shell: &str, output: &str, dir: &Path) -> Vec<String> {
    let script_path = dir.join("out.txt");
    std::fs::write(&script_path, output).unwrap();
    let mut dump = String::new();
    let (cmd, args): (&str, Vec<&str>) = match shell {
        "fish" => {
            for v in VARS {
                dump.push_str(&format!("printf '%s' ${v} > '{}/{v}'\n", dir.display()));
            }
            ("fish", vec!["--no-config", "--private", "-c"])
        }
        _ => {
            for v in VARS {
                dump.push_str(&format!("printf '%s' \"${v}\" > '{}/{v}'\n", dir.display()));
            }
            match shell {
                "bash" => (
                    "bash",
                    vec!["--noprofile", "--norc", "-e", "-u", "-o", "pipefail", "-c"],
                ),
                "zsh" => ("zsh", vec!["-f", "-e", "-u", "-c"]),
                "dash" => ("dash", vec!["-e", "-u", "-c"]),
                "sh" => ("sh", vec!["-e", "-u", "-c"]),
                _ => unreachable!(),
            }
        }
    };
    let load = match shell {
        "fish" => format!("source '{}'\n", script_path.display()),
        _ => format!("eval \"$(cat '{}')\"\n", script_path.display()),
    };
    let out = tool(cmd)
        .args(&args)
        .arg(format!("{load}{dump}"))
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap())
        .env("HOME", dir)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{shell}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "",
        "{shell} printed something"
    );
    VARS.iter()
        .map(|v| String::from_utf8(std::fs::read(dir.join(v)).unwrap()).unwrap())
        .collect()
}

#[test]
fn every_format_round_trips_seeded_nasty_values_in_its_real_shell() {
    let s = Sandbox::signed_in();
    let canary = s.dir.path().join("CANARY");
    let work = s.dir.path().join("work");
    std::fs::create_dir_all(&work).unwrap();
    let role_cache = s.role_cache_path("111111111111", "ReadOnly", "corp");
    // PowerShell is not here: its outputs are checked in one batch by its grammar, against
    // the values nushell's JSON carries.
    let mut pwsh_outputs = Vec::new();
    for seed in 1..=12u64 {
        let mut rng = Rng(seed.wrapping_mul(0x9E3779B97F4A7C15) | 1);
        let want: Vec<String> = (0..3).map(|_| nasty_value(&mut rng, &canary)).collect();
        let _ = std::fs::remove_file(&role_cache);
        s.mock.set_next_credentials(Creds {
            access_key_id: want[0].clone(),
            secret_access_key: want[1].clone(),
            session_token: want[2].clone(),
            expiration_ms: (now() + 3600) * 1000,
        });
        let posix = s.run(&["dev", "--shell", "sh"]).ok().to_string();
        for sh in ["sh", "dash", "bash", "zsh"] {
            assert_eq!(eval_in(sh, &posix, &work), want, "{sh}, seed {seed}");
        }
        for sh in ["bash", "zsh"] {
            assert_eq!(
                s.run(&["dev", "--shell", sh]).ok(),
                posix,
                "{sh} output is POSIX"
            );
        }
        let fish = s.run(&["dev", "--shell", "fish"]).ok().to_string();
        assert_eq!(eval_in("fish", &fish, &work), want, "fish, seed {seed}");

        let nu: serde_json::Value =
            serde_json::from_str(s.run(&["dev", "--shell", "nu"]).ok()).unwrap();
        for (i, v) in VARS.iter().enumerate() {
            assert_eq!(nu[v], want[i].as_str(), "nu {v}");
        }
        let pwsh = s.run(&["dev", "--shell", "powershell"]).ok().to_string();
        let every: Vec<(String, String)> = nu
            .as_object()
            .unwrap()
            .iter()
            .map(|(k, v)| (k.clone(), v.as_str().unwrap().to_string()))
            .collect();
        pwsh_outputs.push((format!("pwsh, seed {seed}"), pwsh, every));
        for fmt in ["cmd", "dotenv"] {
            s.run(&["dev", "--shell", fmt])
                .fails(1, "cannot be written safely");
        }
        assert!(!canary.exists(), "the canary was created: seed {seed}");
    }
    let docs: Vec<(&str, &str)> = pwsh_outputs
        .iter()
        .map(|(name, text, _)| (name.as_str(), text.as_str()))
        .collect();
    for (parsed, (name, _, every)) in clean_pwsh(&docs).iter().zip(&pwsh_outputs) {
        assert_eq!(
            &parsed.env, every,
            "{name}: every value, decoded as PowerShell reads it"
        );
        assert_eq!(parsed.strings.len(), every.len(), "{name}: no other string");
    }
    // The warm runs above all came from the cache.
    assert_eq!(s.mock.count(Route::GetRoleCredentials), 12);
}

#[test]
fn fish_unset_and_pwsh_unset_remove_the_variables() {
    let s = Sandbox::signed_in();
    let work = s.dir.path().join("w");
    std::fs::create_dir_all(&work).unwrap();
    let fish = s.run(&["dev", "--shell", "fish"]).ok().to_string();
    let unset = s.run(&["--unset", "--shell", "fish"]).ok().to_string();
    let script =
        format!("{fish}\n{unset}\nset -q AWS_ACCESS_KEY_ID; and echo still-set; or echo gone");
    let out = tool("fish")
        .args(["--no-config", "--private", "-c", &script])
        .output()
        .unwrap();
    assert_eq!(String::from_utf8_lossy(&out.stdout), "gone\n");
    let pwsh = s.run(&["--unset", "--shell", "pwsh"]).ok().to_string();
    assert!(
        pwsh.contains("Remove-Item -Path Env:AWS_SESSION_TOKEN -ErrorAction SilentlyContinue\n")
    );
    clean_pwsh(&[("pwsh --unset", &pwsh)]);
}

#[test]
fn safe_values_pass_in_cmd_and_dotenv() {
    let s = Sandbox::signed_in();
    let dotenv = s.run(&["dev", "--shell", "dotenv"]).ok().to_string();
    let got = s.mock.issued_credentials();
    let c = got.last().unwrap();
    assert!(
        dotenv.contains(&format!("AWS_SESSION_TOKEN={}\n", c.session_token)),
        "{dotenv}"
    );
    let cmd = s.run(&["dev", "--shell", "cmd"]).ok().to_string();
    assert!(
        cmd.contains(&format!("set AWS_ACCESS_KEY_ID={}\r\n", c.access_key_id)),
        "{cmd}"
    );
}

#[test]
fn the_powershell_check_rejects_what_powershell_would_misread() {
    let parsed = parse_pwsh(&[
        ("doubled", "$Env:A = 'it''s ’’ ‘‘ ‚‚ ‛‛'\n"),
        ("lone curly quote", "$Env:A = 'a’b'\n"),
        ("lone quote", "$Env:A = 'a'b'\n"),
        ("unterminated", "$Env:A = 'a\n"),
    ]);
    assert!(parsed[0].errors.is_empty(), "{:?}", parsed[0].errors);
    assert_eq!(
        parsed[0].env,
        [("A".to_string(), "it's ’ ‘ ‚ ‛".to_string())]
    );
    for p in &parsed[1..] {
        assert!(!p.errors.is_empty(), "{}: accepted", p.name);
    }
}
