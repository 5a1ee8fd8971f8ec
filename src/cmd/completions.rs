//! Completion from one source. `ssoenv completions SHELL` prints the completion part of the
//! shell's plugin (the lines between its `# Completion: begin` and `# Completion: end`
//! markers; fish's is the whole completions file), so the plugins and the standalone scripts
//! are one text. Those scripts know nothing about ssoenv's commands: they split the command
//! line into words, ask the hidden `ssoenv complete` what may go where the cursor is, and
//! insert each answer quoted for their shell.
//!
//! `ssoenv complete` walks clap's command tree (`Cli::command()`) along the words before the
//! cursor, as clap would parse them, and offers: subcommands and options (visible ones), the
//! possible values of an option or argument, and at TAB time from the config, offline:
//! profile names where a profile goes, sso-session names where `--sso-session` goes, and
//! account ids where an account goes. One `VALUE<TAB>HELP` a line; a value that cannot be one
//! line (tab, line break or other control character) is left out. Names are data to the
//! scripts: nothing they read here is ever evaluated.

use std::collections::HashMap;

use clap::{Arg, Command, CommandFactory};

use crate::cli::{Cli, CompleteArgs, CompletionShell};
use crate::config::{self, Config};
use crate::error::Result;

const BASH: &str = include_str!("../../shell/ssoenv.bash");
const ZSH: &str = include_str!("../../shell/ssoenv.zsh");
const FISH: &str = include_str!("../../shell/fish/completions/ssoenv.fish");
const PWSH: &str = include_str!("../../shell/pwsh/ssoenv.psm1");
const NU: &str = include_str!("../../shell/ssoenv.nu");

const BEGIN: &str = "# Completion: begin";
const END: &str = "# Completion: end\n";

/// With `#compdef`, the script also works as an autoloaded `_ssoenv` in `$fpath`: its first
/// call defines the function, then completes.
const ZSH_AUTOLOAD: &str = r#"if [[ ${funcstack[1]-} == _ssoenv ]]; then
  _ssoenv "$@"
fi
"#;

/// Without the plugin's `ssoenv` command, nushell learns the completer from a signature of the
/// external command.
const NU_EXTERN: &str = "export extern ssoenv [...args: string@__ssoenv_complete]\n";

/// A plugin's completion part: the lines from its begin marker to its end marker (a unit test
/// checks every plugin has them).
fn block(plugin: &'static str) -> &'static str {
    let start = plugin.find(BEGIN).unwrap_or(plugin.len());
    let end = plugin[start..]
        .find(END)
        .map_or(start, |e| start + e + END.len());
    &plugin[start..end]
}

pub fn run(shell: CompletionShell) -> Result<String> {
    Ok(match shell {
        CompletionShell::Bash => block(BASH).to_string(),
        CompletionShell::Zsh => format!("#compdef ssoenv\n{}{ZSH_AUTOLOAD}", block(ZSH)),
        CompletionShell::Fish => FISH.to_string(),
        CompletionShell::Pwsh => block(PWSH).to_string(),
        CompletionShell::Nu => format!("{}{NU_EXTERN}", block(NU)),
    })
}

/// Dynamic values: names from the config.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Names {
    Profiles,
    Sessions,
    Accounts,
}

/// Which config names an argument takes, by its name in `cli.rs`: a positional PROFILE
/// (`use` names its rest so), any `--sso-session`, and the account of `roles` and
/// `configure --sso-account-id`.
fn names_for(arg: &Arg) -> Option<Names> {
    let id = arg.get_id().as_str();
    let profile = arg
        .get_value_names()
        .is_some_and(|v| v.iter().any(|n| n == "PROFILE"));
    match id {
        "profile" | "rest" if arg.is_positional() && (id == "profile" || profile) => {
            Some(Names::Profiles)
        }
        "sso_session" => Some(Names::Sessions),
        "account" | "sso_account_id" => Some(Names::Accounts),
        _ => None,
    }
}

/// Where the words before the cursor lead: the command they reached, an option that waits
/// for its value, how many positionals were given, which options, and whether a subcommand
/// may still come (clap takes one only before any argument of its parent).
struct Place<'a> {
    cmd: &'a Command,
    pending: Option<&'a Arg>,
    positionals: usize,
    seen: Vec<&'a str>,
    subcommand_ok: bool,
    /// After `--`, or inside a trailing list (`use PROFILE ...`): only positionals.
    only_positionals: bool,
}

impl<'a> Place<'a> {
    fn new(cmd: &'a Command) -> Place<'a> {
        Place {
            cmd,
            pending: None,
            positionals: 0,
            seen: Vec::new(),
            subcommand_ok: cmd.has_subcommands(),
            only_positionals: false,
        }
    }

    /// The positional argument the next positional word is for.
    fn positional(&self) -> Option<&'a Arg> {
        let mut all: Vec<&Arg> = self.cmd.get_positionals().collect();
        all.sort_by_key(|a| a.get_index().unwrap_or(usize::MAX));
        all.get(self.positionals).copied()
    }

    fn option(&self, long: &str) -> Option<&'a Arg> {
        self.cmd.get_arguments().find(|a| {
            a.get_long() == Some(long) || a.get_all_aliases().is_some_and(|all| all.contains(&long))
        })
    }

    fn short(&self, c: char) -> Option<&'a Arg> {
        self.cmd.get_arguments().find(|a| {
            a.get_short() == Some(c)
                || a.get_all_short_aliases()
                    .is_some_and(|all| all.contains(&c))
        })
    }

    fn word(&mut self, w: &str) {
        if self.pending.take().is_some() {
            return;
        }
        if self.only_positionals {
            self.positionals += 1;
            return;
        }
        if w == "--" {
            self.only_positionals = true;
            self.subcommand_ok = false;
            return;
        }
        if let Some(long) = w.strip_prefix("--") {
            let (name, inline) = match long.split_once('=') {
                Some((n, _)) => (n, true),
                None => (long, false),
            };
            if let Some(arg) = self.option(name) {
                self.seen.push(arg.get_id().as_str());
                if takes_value(arg) && !inline {
                    self.pending = Some(arg);
                }
            }
            self.subcommand_ok = false;
            return;
        }
        if w.len() > 1 && w.starts_with('-') {
            // A cluster of short flags; the first that takes a value takes the rest too.
            for (i, c) in w.char_indices().skip(1) {
                let Some(arg) = self.short(c) else { break };
                self.seen.push(arg.get_id().as_str());
                if takes_value(arg) {
                    if i + c.len_utf8() == w.len() {
                        self.pending = Some(arg);
                    }
                    break;
                }
            }
            self.subcommand_ok = false;
            return;
        }
        if self.subcommand_ok
            && let Some(sub) = self.cmd.find_subcommand(w)
        {
            *self = Place::new(sub);
            return;
        }
        if self.positional().is_some_and(Arg::is_trailing_var_arg_set) {
            self.only_positionals = true;
        }
        self.positionals += 1;
        self.subcommand_ok = false;
    }

    /// What may go in the word under the cursor, which starts with `current`: each value
    /// with its help, given to `emit` (ten thousand profiles are no ten thousand pairs).
    fn offers(&self, current: &str, emit: Emit) {
        if let Some(arg) = self.pending {
            return values(arg, emit);
        }
        if current.starts_with('-') && !self.only_positionals {
            for arg in self.cmd.get_arguments() {
                let repeat = matches!(
                    arg.get_action(),
                    clap::ArgAction::Append | clap::ArgAction::Count
                );
                if arg.is_positional()
                    || arg.is_hide_set()
                    || (!repeat && self.seen.contains(&arg.get_id().as_str()))
                {
                    continue;
                }
                if let Some(long) = arg.get_long() {
                    emit(&format!("--{long}"), &summary(arg.get_help()));
                }
            }
            return;
        }
        if self.subcommand_ok {
            for sub in self.cmd.get_subcommands().filter(|s| !s.is_hide_set()) {
                emit(sub.get_name(), &summary(sub.get_about()));
            }
        }
        if let Some(arg) = self.positional() {
            values(arg, emit);
        }
    }
}

/// Where an offer goes: its value and its help.
type Emit<'e> = &'e mut dyn FnMut(&str, &str);

fn takes_value(arg: &Arg) -> bool {
    arg.get_action().takes_values()
}

/// The first sentence of a help text, on one line.
fn summary(help: Option<&clap::builder::StyledStr>) -> String {
    let text = help.map(ToString::to_string).unwrap_or_default();
    let line = text.lines().next().unwrap_or("");
    let first = line.split(". ").next().unwrap_or(line);
    one_line(first.trim_end_matches('.'))
}

/// Help shown next to a value: no control character may reach the terminal.
fn one_line(s: &str) -> String {
    s.chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect()
}

/// The values an argument takes: names from the config, or its possible values.
fn values(arg: &Arg, emit: Emit) {
    if let Some(names) = names_for(arg) {
        // No config, or one that does not parse: nothing to offer.
        let _ = from_config(names, emit);
        return;
    }
    for v in arg
        .get_possible_values()
        .iter()
        .filter(|v| !v.is_hide_set())
    {
        emit(v.get_name(), &summary(v.get_help()));
    }
}

/// Profiles and accounts come from every profile's role and account, which a big file's
/// index keeps (a TAB reads no config text); sso-sessions from their own sections.
fn from_config(names: Names, emit: Emit) -> Result<()> {
    match names {
        Names::Sessions => match config::indexed_sessions()? {
            Some(cfg) => sessions(&cfg, emit),
            None => sessions(&config::read()?.config()?, emit),
        },
        Names::Profiles => profiles(&config::profile_roles()?, emit),
        Names::Accounts => accounts(&config::profile_roles()?, emit),
    }
    Ok(())
}

fn sessions(cfg: &Config<'_>, emit: Emit) {
    for s in cfg.sso_sessions() {
        emit(
            &s.name,
            &one_line(s.get("sso_start_url").unwrap_or("sso-session")),
        );
    }
}

/// Profiles, each with its role and account, from [`config::role_lines`]' text.
fn profiles(roles: &str, emit: Emit) {
    let mut help = String::new();
    for (name, role, account) in config::roles_of(roles) {
        help.clear();
        if role.is_empty() || account.is_empty() {
            help.push_str("profile");
        } else {
            help.extend([role, " in ", account]);
        }
        emit(name, &help);
    }
}

/// Account ids, each with the profiles that name it, from [`config::role_lines`]' text: what
/// the profiles name, as the portal (and so each account's name) is never asked at TAB time.
fn accounts(roles: &str, emit: Emit) {
    let mut order: Vec<&str> = Vec::new();
    let mut profiles: HashMap<&str, Vec<&str>> = HashMap::new();
    let named = config::roles_of(roles).filter(|(_, _, account)| !account.is_empty());
    for (name, _, account) in named {
        let of = profiles.entry(account).or_default();
        if of.is_empty() {
            order.push(account);
        }
        of.push(name);
    }
    for id in order {
        emit(id, &format!("account of {}", profiles[id].join(", ")));
    }
}

/// `ssoenv complete --current WORD -- WORDS...`: the offers for the cursor, one
/// `VALUE<TAB>HELP` a line.
pub fn candidates(args: &CompleteArgs) -> Result<String> {
    let mut root = Cli::command();
    root.build();
    let mut place = Place::new(&root);
    for w in &args.words {
        place.word(w);
    }
    let mut out = String::new();
    place.offers(&args.current, &mut |value, help| {
        if value.is_empty() || value.contains(char::is_control) {
            return;
        }
        out.extend([value, "\t", help, "\n"]);
    });
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn offers(words: &[&str], current: &str) -> Vec<String> {
        let mut root = Cli::command();
        root.build();
        let mut place = Place::new(&root);
        for w in words {
            place.word(w);
        }
        let mut out = Vec::new();
        place.offers(current, &mut |v, _| out.push(v.to_string()));
        out
    }

    #[test]
    fn every_plugin_has_its_completion_part() {
        for (name, plugin) in [("bash", BASH), ("zsh", ZSH), ("pwsh", PWSH), ("nu", NU)] {
            let part = block(plugin);
            assert!(part.starts_with(BEGIN) && part.ends_with(END), "{name}");
            assert!(part.contains("ssoenv complete"), "{name}");
        }
        assert!(FISH.contains("ssoenv complete"));
    }

    #[test]
    fn the_first_word_is_a_subcommand_of_the_tree() {
        let got = offers(&[], "");
        let root = Cli::command();
        for sub in root.get_subcommands().filter(|s| !s.is_hide_set()) {
            assert!(got.contains(&sub.get_name().to_string()), "{got:?}");
        }
        assert!(!got.contains(&"complete".to_string()));
        assert!(got.contains(&"help".to_string()));
    }

    #[test]
    fn options_and_their_values_come_from_the_tree() {
        assert!(offers(&["export"], "-").contains(&"--shell".to_string()));
        assert!(offers(&[], "--").contains(&"--unset".to_string()));
        let shells = offers(&["export", "--shell"], "");
        assert!(shells.contains(&"fish".to_string()) && shells.contains(&"json".to_string()));
        assert_eq!(offers(&["export", "-s"], ""), shells);
        assert_eq!(offers(&["dev", "--shell"], ""), shells);
        assert!(offers(&["hook"], "").contains(&"direnv".to_string()));
        assert!(offers(&["completions"], "").contains(&"nu".to_string()));
        // An option given once is not offered again; hidden ones never.
        let again = offers(&["export", "--unset"], "--");
        assert!(!again.contains(&"--unset".to_string()) && !again.contains(&"--auto".to_string()));
        // After a profile, no subcommand may follow.
        assert!(!offers(&["dev"], "").contains(&"list".to_string()));
        assert!(offers(&["configure"], "").contains(&"populate".to_string()));
        assert!(offers(&["configure", "populate"], "-").contains(&"--prune".to_string()));
    }

    #[test]
    fn config_names_go_where_the_tree_expects_them() {
        let mut root = Cli::command();
        root.build();
        let at = |words: &[&str]| {
            let mut place = Place::new(&root);
            for w in words {
                place.word(w);
            }
            place
                .pending
                .or_else(|| place.positional())
                .and_then(names_for)
        };
        for words in [
            &[][..],
            &["export"],
            &["use"],
            &["login"],
            &["status"],
            &["export", "-s", "sh"],
        ] {
            assert_eq!(at(words), Some(Names::Profiles), "{words:?}");
        }
        for words in [
            &["login", "--sso-session"][..],
            &["logout", "--sso-session"],
            &["accounts", "--sso-session"],
            &["roles", "--sso-session"],
            &["configure", "populate", "--sso-session"],
        ] {
            assert_eq!(at(words), Some(Names::Sessions), "{words:?}");
        }
        assert_eq!(at(&["roles"]), Some(Names::Accounts));
        assert_eq!(
            at(&["configure", "--sso-account-id"]),
            Some(Names::Accounts)
        );
        assert_eq!(at(&["use", "dev"]), None);
        assert_eq!(at(&["configure", "--profile"]), None);
        assert_eq!(at(&["export", "--", "x"]), None);
    }

    /// What `emit` was given.
    fn pairs(f: impl FnOnce(Emit)) -> Vec<(String, String)> {
        let mut out = Vec::new();
        f(&mut |v, h| out.push((v.to_string(), h.to_string())));
        out
    }

    #[test]
    fn account_ids_come_from_the_profiles() {
        let cfg = config::parse(
            "[profile a]\nsso_account_id = 111\n[profile b]\nsso_account_id = 222\n\
             [profile c]\nsso_account_id = 111\n[sso-session corp]\nsso_start_url = https://x/start\n",
            "config".into(),
        )
        .unwrap_or_else(|e| panic!("{e}"));
        let roles = config::role_lines(&cfg);
        assert_eq!(
            pairs(|e| accounts(&roles, e)),
            [
                ("111".to_string(), "account of a, c".to_string()),
                ("222".to_string(), "account of b".to_string())
            ]
        );
        assert_eq!(
            pairs(|e| sessions(&cfg, e)),
            [("corp".to_string(), "https://x/start".to_string())]
        );
    }

    #[test]
    fn a_profile_shows_its_role_and_account_and_nothing_a_line_cannot_hold() {
        let cfg = config::parse(
            "[DEFAULT]\nsso_role_name = Dev\n[profile a]\nsso_account_id = 111\n\
             [profile b]\nsso_account_id = 222\nsso_role_name =\n\
             [profile c]\nsso_account_id =\n  nested = 1\n[profile 'd\x01']\n\
             [profile e]\nsso_role_name = R\x02\nsso_account_id = 333\n",
            "config".into(),
        )
        .unwrap_or_else(|e| panic!("{e}"));
        let roles = config::role_lines(&cfg);
        assert_eq!(roles, "a\tDev\t111\nb\t\t222\nc\tDev\t\ne\t\t333\n");
        let help = |n: &str| {
            pairs(|e| profiles(&roles, e))
                .into_iter()
                .find(|(name, _)| name == n)
                .map(|(_, h)| h)
        };
        assert_eq!(help("a").as_deref(), Some("Dev in 111"));
        assert_eq!(help("b").as_deref(), Some("profile"));
        assert_eq!(help("c").as_deref(), Some("profile"));
        assert_eq!(help("d\x01"), None);
    }
}
