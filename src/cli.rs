//! The command line. Doc comments here are the help text.

use clap::{Args, Parser, Subcommand};

use crate::shell::Shell;

const AFTER_HELP: &str = "\
Examples:
  eval \"$(ssoenv dev)\"                 export profile dev's credentials (bash, zsh, sh)
  ssoenv dev --shell fish | source      the same in fish
  ssoenv dev --shell pwsh | Out-String | Invoke-Expression
  eval \"$(ssoenv --unset)\"             remove what ssoenv set

Exit codes:
  0  success (also: nothing to do)
  1  error
  2  bad command line
  3  login required: run `ssoenv login [PROFILE]`";

/// Put AWS IAM Identity Center (SSO) credentials into the shell you are already in.
///
/// With no subcommand, `ssoenv [PROFILE]` is `ssoenv export [PROFILE]`: it prints shell
/// statements that set the temporary credentials of PROFILE (else $AWS_PROFILE, else
/// `default`) from ~/.aws/config and the AWS CLI's SSO caches. On any error it prints nothing
/// on stdout, so `eval "$(ssoenv dev)"` never applies half an answer.
#[derive(Debug, Parser)]
#[command(
    name = "ssoenv",
    version,
    after_help = AFTER_HELP,
    args_conflicts_with_subcommands = true,
    subcommand_negates_reqs = true
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,

    #[command(flatten)]
    pub export: ExportArgs,

    /// Explain each step on stderr (never secrets). Also SSOENV_DEBUG=1.
    #[arg(long, global = true)]
    pub debug: bool,

    /// The 6-digit code of the MFA device a role of the profile's chain needs (mfa_serial);
    /// without it ssoenv asks on the terminal.
    #[arg(long, global = true, value_name = "CODE")]
    pub mfa_code: Option<String>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Print the statements that export a profile's credentials (the default command).
    Export(ExportArgs),
    /// List the profiles of ~/.aws/config, one per line.
    List(ListArgs),
    /// Sign in to an SSO session, like `aws sso login` (browser with PKCE, or device code).
    Login(LoginArgs),
    /// Sign out: end every cached SSO session and delete the cached tokens and credentials.
    Logout(LogoutArgs),
    /// Show cached sign-ins and credentials, offline.
    Status(StatusArgs),
    /// List the AWS accounts the signed-in user can reach.
    Accounts(AccountsArgs),
    /// List the roles the signed-in user has in an account.
    Roles(RolesArgs),
    /// Write SSO profiles into ~/.aws/config, like `aws configure sso`, keeping every other
    /// byte of the file. Every question has a flag, for scripts.
    Configure(Box<ConfigureArgs>),
    /// Run a command with a profile's credentials in its environment: `ssoenv exec dev -- aws s3 ls`.
    Exec(ExecArgs),
    /// Serve a profile's credentials, renewed, on a local endpoint the AWS SDKs read
    /// (the container credentials provider); prints the variables to use.
    Serve(ServeArgs),
    /// Open the AWS console signed in as a profile (through the access portal; no credential
    /// in the link).
    Console(ConsoleArgs),
    /// Print the ExecCredential kubectl needs for an EKS cluster (like `aws eks get-token`),
    /// cached while it lasts.
    EksToken(EksTokenArgs),
    /// Check, offline, everything ssoenv depends on, and say what to run for each problem.
    Doctor,
    /// Print the shell plugin for your shell's startup file.
    #[command(after_help = HOOK_HELP)]
    Hook(HookArgs),
    /// Trust DIR/.ssoenv (default: the current directory) so the cd hook may use its profile.
    Allow(AllowArgs),
    /// Revoke the trust given by `ssoenv allow`.
    Deny(AllowArgs),
    /// Print a completion script for a shell.
    Completions(CompletionsArgs),
    /// Export a profile into this shell and keep it fresh (needs the shell plugin: `ssoenv hook`).
    Use {
        #[arg(
            trailing_var_arg = true,
            allow_hyphen_values = true,
            value_name = "PROFILE"
        )]
        rest: Vec<String>,
    },
    /// Remove what ssoenv exported into this shell (needs the shell plugin: `ssoenv hook`).
    Clear {
        #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
        rest: Vec<String>,
    },
    /// For the completion scripts: what may go where the cursor is, one `VALUE<TAB>HELP` a
    /// line, from this command tree and the config (offline).
    #[command(hide = true)]
    Complete(CompleteArgs),
}

const HOOK_HELP: &str = "\
Load it in your shell's startup file:
  bash        eval \"$(ssoenv hook bash)\"                      in ~/.bashrc
  zsh         eval \"$(ssoenv hook zsh)\"                       in ~/.zshrc
  fish        ssoenv hook fish | source                         in config.fish
  PowerShell  Invoke-Expression (& ssoenv hook pwsh | Out-String)   in $PROFILE
  nushell     ssoenv hook nu | save -f ($nu.default-config-dir | path join ssoenv.nu)
              then `source ssoenv.nu` in config.nu
  direnv      eval \"$(ssoenv hook direnv)\" in direnvrc, then `use ssoenv PROFILE` in .envrc";

#[derive(Debug, Args)]
pub struct HookArgs {
    pub shell: HookShell,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum HookShell {
    Bash,
    Zsh,
    Fish,
    #[value(alias = "powershell")]
    Pwsh,
    Nu,
    Direnv,
}

#[derive(Debug, Args)]
pub struct AllowArgs {
    #[arg(default_value = ".")]
    pub dir: std::path::PathBuf,
}

#[derive(Debug, Args)]
pub struct CompletionsArgs {
    pub shell: CompletionShell,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum CompletionShell {
    Bash,
    Zsh,
    Fish,
    #[value(alias = "powershell")]
    Pwsh,
    Nu,
}

#[derive(Debug, Args)]
pub struct CompleteArgs {
    /// The word under the cursor, as typed so far, unquoted.
    #[arg(long, default_value = "", allow_hyphen_values = true)]
    pub current: String,

    /// The words between `ssoenv` and the cursor, unquoted.
    #[arg(last = true)]
    pub words: Vec<String>,
}

#[derive(Debug, Args)]
pub struct LoginArgs {
    /// The profile whose SSO session to sign in to (default: $AWS_PROFILE, else `default`);
    /// its credentials are fetched afterwards so the next export is instant.
    #[arg(conflicts_with = "sso_session")]
    pub profile: Option<String>,

    /// Sign in to this [sso-session] instead of a profile's.
    #[arg(long, value_name = "NAME")]
    pub sso_session: Option<String>,

    /// Use the device code flow (a code to confirm in any browser) instead of the browser
    /// redirect to this machine. Legacy profiles always use it, and so does a session that
    /// looks headless (SSH, a container, no display) unless --no-device-code.
    #[arg(long, conflicts_with = "no_device_code")]
    pub use_device_code: bool,

    /// Use the browser redirect even where the session looks headless.
    #[arg(long)]
    pub no_device_code: bool,

    /// The loopback port of the browser redirect (default: any free one); over SSH, forward
    /// it with `ssh -L PORT:127.0.0.1:PORT`.
    #[arg(long, value_name = "PORT")]
    pub port: Option<u16>,

    /// Do not open a browser; only print the URL.
    #[arg(long)]
    pub no_browser: bool,

    /// Sign in even if the cached token has more than 15 minutes left.
    #[arg(long)]
    pub force: bool,

    /// Seconds to wait for the sign-in to complete.
    #[arg(long, value_name = "SECS", default_value_t = 600)]
    pub timeout: u64,
}

#[derive(Debug, Args)]
pub struct LogoutArgs {
    /// Only this [sso-session] (and the cached credentials of its profiles).
    #[arg(long, value_name = "NAME", conflicts_with = "all")]
    pub sso_session: Option<String>,

    /// Every cached SSO session; the same as giving no --sso-session.
    #[arg(long)]
    pub all: bool,
}

#[derive(Debug, Args)]
pub struct StatusArgs {
    /// Only this profile and its SSO session.
    pub profile: Option<String>,

    /// Machine-readable output.
    #[arg(long)]
    pub json: bool,
}

/// The subcommands' names (and `help`): a first word that is one of these is no profile.
/// A unit test keeps the list equal to clap's.
const SUBCOMMANDS: &[&str] = &[
    "export",
    "list",
    "login",
    "logout",
    "status",
    "accounts",
    "roles",
    "configure",
    "doctor",
    "eks-token",
    "console",
    "exec",
    "serve",
    "hook",
    "allow",
    "deny",
    "completions",
    "use",
    "clear",
    "complete",
    "help",
];

/// The command lines a shell runs at every renewal and that users type most — `ssoenv dev`,
/// `ssoenv export --auto --shell zsh dev`, `--from-dir DIR` — read without building clap's
/// whole command tree (a fifth of a warm export). Anything else, and anything doubtful, is
/// `None`: clap reads it, and says what is wrong. A unit test checks that both agree.
pub fn fast_export(args: &[std::ffi::OsString]) -> Option<(ExportArgs, bool)> {
    let mut words = args
        .iter()
        .map(|a| a.to_str())
        .collect::<Option<Vec<&str>>>()?;
    let explicit = words.first() == Some(&"export");
    if explicit {
        words.remove(0);
    }
    let mut out = ExportArgs {
        profile: None,
        shell: Shell::Sh,
        unset: false,
        auto: false,
        from_dir: None,
        background: false,
        renewing: false,
    };
    let (mut debug, mut shell_given) = (false, false);
    let mut it = words.into_iter();
    while let Some(w) = it.next() {
        let (flag, inline) = match w.split_once('=') {
            Some((f, v)) if f.starts_with("--") => (f, Some(v)),
            _ => (w, None),
        };
        match flag {
            "--auto" if inline.is_none() && !out.auto => out.auto = true,
            "--debug" if inline.is_none() && !debug => debug = true,
            "--shell" | "-s" if !shell_given => {
                let v = match inline {
                    Some(v) => v,
                    None if flag == "-s" || flag == "--shell" => it.next()?,
                    None => return None,
                };
                out.shell = <Shell as clap::ValueEnum>::from_str(v, false).ok()?;
                shell_given = true;
            }
            "--from-dir" if out.from_dir.is_none() => {
                let v = match inline {
                    Some(v) => v,
                    None => it.next()?,
                };
                if v.is_empty() || v.starts_with('-') {
                    return None;
                }
                out.from_dir = Some(v.into());
            }
            _ if !w.starts_with('-')
                && out.profile.is_none()
                && (explicit || !SUBCOMMANDS.contains(&w)) =>
            {
                out.profile = Some(w.to_string());
            }
            _ => return None,
        }
    }
    // `--from-dir` with a profile is clap's to refuse.
    if out.from_dir.is_some() && out.profile.is_some() {
        return None;
    }
    Some((out, debug))
}

#[derive(Debug, Args)]
pub struct ExportArgs {
    /// The profile (default: $AWS_PROFILE, else `default`).
    pub profile: Option<String>,

    /// The syntax to print: sh, bash, zsh (`export`), fish, pwsh (powershell), cmd, nu (JSON
    /// record for load-env), dotenv, json (credential_process).
    #[arg(
        long,
        short = 's',
        value_enum,
        default_value = "sh",
        hide_possible_values = true
    )]
    pub shell: Shell,

    /// Print the statements that remove everything ssoenv set (and give back the values of
    /// yours it replaced) instead.
    #[arg(long, conflicts_with_all = ["profile", "auto", "from_dir"])]
    pub unset: bool,

    /// For shell hooks: print nothing when this shell already holds current credentials of
    /// the profile (per the stamp file), and reuse credentials another shell renewed.
    #[arg(long, hide = true)]
    pub auto: bool,

    /// For shell hooks: export the profile named in DIR/.ssoenv, if `ssoenv allow` trusted it
    /// (otherwise print a hint on stderr and nothing on stdout).
    #[arg(long, value_name = "DIR", conflicts_with = "profile", hide = true)]
    pub from_dir: Option<std::path::PathBuf>,

    /// For shell hooks: never wait for the network. Print the credentials the cache still
    /// holds (nothing when it holds none); when they are due for renewal, start the renewal
    /// in a detached process (unless one runs, or the last failed and its retry time has not
    /// come) and return at once.
    #[arg(long, hide = true, conflicts_with_all = ["from_dir", "renewing"])]
    pub background: bool,

    /// The detached renewal `--background` starts: renews, records how it went beside the
    /// stamp, prints nothing.
    #[arg(long, hide = true, conflicts_with = "from_dir")]
    pub renewing: bool,
}

#[derive(Debug, Args)]
pub struct ExecArgs {
    /// The profile (default: $AWS_PROFILE, else `default`).
    pub profile: Option<String>,

    /// Give the command a local credential endpoint instead of the keys (ssoenv stays its
    /// parent and renews underneath; see `ssoenv serve`).
    #[arg(long)]
    pub server: bool,

    /// The command and its arguments, after `--`; without --server ssoenv becomes it (no shell
    /// in between), so its exit status and signals are the command's own.
    #[arg(last = true, required = true, value_name = "COMMAND")]
    pub command: Vec<std::ffi::OsString>,
}

#[derive(Debug, Args)]
pub struct ConsoleArgs {
    /// The profile (default: $AWS_PROFILE, else `default`).
    pub profile: Option<String>,

    /// Print the link instead of opening a browser.
    #[arg(long)]
    pub print: bool,

    /// Where the console opens: an https:// URL, or a service name such as s3.
    #[arg(long, value_name = "URL-OR-SERVICE")]
    pub destination: Option<String>,

    /// The console's region (default: the profile's).
    #[arg(long, value_name = "REGION")]
    pub region: Option<String>,
}

#[derive(Debug, Args)]
pub struct EksTokenArgs {
    /// The profile (default: $AWS_PROFILE, else `default`).
    pub profile: Option<String>,

    /// The EKS cluster's name.
    #[arg(long, value_name = "NAME")]
    pub cluster: Option<String>,

    /// The cluster's region (default: the profile's).
    #[arg(long, value_name = "REGION")]
    pub region: Option<String>,

    /// Print the kubeconfig `users:` entry that runs this command, instead of a token.
    #[arg(long)]
    pub kubeconfig_snippet: bool,
}

#[derive(Debug, Args)]
pub struct ServeArgs {
    /// The profile (default: $AWS_PROFILE, else `default`).
    pub profile: Option<String>,

    /// The port on 127.0.0.1 (default: any free one).
    #[arg(long, default_value_t = 0)]
    pub port: u16,

    /// The syntax of the variables printed, as for `ssoenv export`.
    #[arg(long, short = 's', value_enum, default_value = "sh")]
    pub shell: Shell,
}

#[derive(Debug, Args)]
pub struct ListArgs {
    /// Only profiles ssoenv gives credentials for: SSO profiles and roles assumed from them.
    #[arg(long)]
    pub sso: bool,

    /// Mark each profile in a second, tab-separated column: `sso` (an SSO profile, or a role
    /// assumed from one) or `-`.
    #[arg(long, short = 'l')]
    pub long: bool,
}

#[derive(Debug, Args)]
pub struct AccountsArgs {
    /// The [sso-session] to ask (default: the only one in the config, else the one of
    /// $AWS_PROFILE or `default`).
    #[arg(long, value_name = "NAME")]
    pub sso_session: Option<String>,

    /// Machine-readable output.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct RolesArgs {
    /// The account: its 12-digit id, or its name as `ssoenv accounts` shows it.
    pub account: String,

    /// The [sso-session] to ask (default as for `ssoenv accounts`).
    #[arg(long, value_name = "NAME")]
    pub sso_session: Option<String>,

    /// Machine-readable output.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
#[command(args_conflicts_with_subcommands = true)]
pub struct ConfigureArgs {
    #[command(subcommand)]
    pub action: Option<ConfigureAction>,

    #[command(flatten)]
    pub wizard: WizardArgs,
}

#[derive(Debug, Subcommand)]
pub enum ConfigureAction {
    /// Write only an [sso-session] section, like `aws configure sso-session`.
    SsoSession(SessionArgs),
    /// Write one profile per account and role the signed-in user can reach; re-running
    /// updates them, and only profiles it generated are ever changed.
    Populate(PopulateArgs),
}

#[derive(Debug, Args)]
pub struct SessionArgs {
    /// The [sso-session] name (recommended); an empty name writes the legacy form.
    #[arg(long, value_name = "NAME")]
    pub sso_session: Option<String>,

    /// The AWS access portal URL (https://…/start) or the issuer URL.
    #[arg(long, value_name = "URL")]
    pub sso_start_url: Option<String>,

    /// The region of IAM Identity Center.
    #[arg(long, value_name = "REGION")]
    pub sso_region: Option<String>,

    /// Comma-separated registration scopes (default sso:account:access).
    #[arg(long, value_name = "SCOPES")]
    pub sso_registration_scopes: Option<String>,

    /// Overwrite a section of the same name that says something else.
    #[arg(long)]
    pub force: bool,
}

#[derive(Debug, Args)]
pub struct WizardArgs {
    #[command(flatten)]
    pub session: SessionArgs,

    /// The account to use (else picked from the accounts you can reach).
    #[arg(long, value_name = "ID")]
    pub sso_account_id: Option<String>,

    /// The role to use (else picked from the account's roles).
    #[arg(long, value_name = "ROLE")]
    pub sso_role_name: Option<String>,

    /// The profile's default region (empty: none).
    #[arg(long, value_name = "REGION")]
    pub region: Option<String>,

    /// The profile's output format for the AWS CLI (json, yaml, yaml-stream, text, table;
    /// empty: none).
    #[arg(long, value_name = "FORMAT")]
    pub output: Option<String>,

    /// The profile's name (default ROLE-ACCOUNT).
    #[arg(long, value_name = "NAME")]
    pub profile: Option<String>,

    /// Sign in with the device code flow instead of the browser redirect.
    #[arg(long)]
    pub use_device_code: bool,

    /// Do not open a browser to sign in; only print the URL.
    #[arg(long)]
    pub no_browser: bool,
}

#[derive(Debug, Args)]
pub struct PopulateArgs {
    /// The [sso-session] whose accounts to write (default as for `ssoenv accounts`).
    #[arg(long, value_name = "NAME")]
    pub sso_session: Option<String>,

    /// Profile names from {account_name}, {account_id}, {role_name}, {sso_session}; characters
    /// other than letters, digits, `.`, `_` and `-` become `-`.
    #[arg(
        long,
        value_name = "TEMPLATE",
        default_value = "{account_name}.{role_name}"
    )]
    pub template: String,

    /// The default region of the generated profiles.
    #[arg(long, value_name = "REGION")]
    pub region: Option<String>,

    /// Remove generated profiles whose account or role is no longer reachable.
    #[arg(long)]
    pub prune: bool,

    /// Print the change as a diff instead of writing it.
    #[arg(long)]
    pub dry_run: bool,
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::{CommandFactory, Parser};

    #[test]
    fn the_subcommand_list_is_claps() {
        let mut names: Vec<String> = Cli::command()
            .get_subcommands()
            .flat_map(|c| {
                std::iter::once(c.get_name().to_string())
                    .chain(c.get_all_aliases().map(str::to_string))
            })
            .collect();
        names.push("help".into());
        names.sort();
        let mut ours: Vec<String> = SUBCOMMANDS.iter().map(|s| s.to_string()).collect();
        ours.sort();
        assert_eq!(ours, names);
    }

    #[test]
    fn the_fast_path_reads_what_clap_reads_or_leaves_it_to_clap() {
        let cases: &[&[&str]] = &[
            &["dev"],
            &[],
            &["export"],
            &["export", "dev"],
            &["export", "list"],
            &["export", "--auto", "--shell", "zsh", "dev"],
            &["--shell=fish", "dev"],
            &["-s", "pwsh", "dev"],
            &["dev", "--debug"],
            &["export", "--auto", "--from-dir", "/tmp/x"],
            &["export", "--from-dir=/tmp/x", "--shell", "nu"],
            &["--shell", "powershell", "it's"],
            &["list"],
            &["dev", "prod"],
            &["--shell", "nope", "dev"],
            &["--from-dir", "/d", "dev"],
            &["--auto", "--auto", "dev"],
            &["--unset"],
            &["-x"],
            &["--shell"],
            &["export", "--", "dev"],
            &["--help"],
        ];
        for case in cases {
            let os: Vec<std::ffi::OsString> = case.iter().map(Into::into).collect();
            let Some((fast, debug)) = fast_export(&os) else {
                continue;
            };
            let argv = std::iter::once("ssoenv").chain(case.iter().copied());
            let clap = Cli::try_parse_from(argv).unwrap_or_else(|e| panic!("{case:?}: {e}"));
            let clap_export = match clap.command {
                None => clap.export,
                Some(Command::Export(e)) => e,
                Some(other) => panic!("{case:?}: clap reads {other:?}"),
            };
            assert_eq!(format!("{fast:?}"), format!("{clap_export:?}"), "{case:?}");
            assert_eq!(debug, clap.debug, "{case:?}");
        }
        // The common ones do take the fast path.
        for case in [
            &["dev"][..],
            &["export", "--auto", "--shell", "bash", "dev"],
        ] {
            let os: Vec<std::ffi::OsString> = case.iter().map(Into::into).collect();
            assert!(fast_export(&os).is_some(), "{case:?}");
        }
    }
}
