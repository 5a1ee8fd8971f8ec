//! The command line. Doc comments here are the help text.

use clap::{Args, Parser, Subcommand};

use crate::shell::Shell;

const AFTER_HELP: &str = "\
Examples:
  eval \"$(ssoenv dev)\"                 export profile dev's credentials (bash, zsh, sh)
  ssoenv dev --shell fish | source      the same in fish
  ssoenv dev --shell pwsh | Invoke-Expression
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
    /// Print the shell plugin: add `eval "$(ssoenv hook bash)"` to ~/.bashrc (see README).
    Hook(HookArgs),
    /// Trust DIR/.ssoenv (default: the current directory) so the cd hook may use its profile.
    Allow(AllowArgs),
    /// Revoke the trust given by `ssoenv allow`.
    Deny(AllowArgs),
    /// Print a completion script for a shell.
    Completions(CompletionsArgs),
    /// A shell function of the plugin: exports a profile into the current shell.
    #[command(hide = true)]
    Use {
        #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
        rest: Vec<String>,
    },
    /// A shell function of the plugin: removes what ssoenv exported.
    #[command(hide = true)]
    Clear {
        #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
        rest: Vec<String>,
    },
}

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
    /// redirect to this machine. Legacy profiles always use it.
    #[arg(long)]
    pub use_device_code: bool,

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

    /// Every cached SSO session (the default).
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

    /// Print the statements that remove everything ssoenv set (and restore the AWS_PROFILE it
    /// replaced) instead.
    #[arg(long, conflicts_with_all = ["profile", "auto", "from_dir"])]
    pub unset: bool,

    /// For shell hooks: print nothing when this shell already holds current credentials of
    /// the profile (per the stamp file), and reuse credentials another shell renewed.
    #[arg(long)]
    pub auto: bool,

    /// For shell hooks: export the profile named in DIR/.ssoenv, if `ssoenv allow` trusted it
    /// (otherwise print a hint on stderr and nothing on stdout).
    #[arg(long, value_name = "DIR", conflicts_with = "profile")]
    pub from_dir: Option<std::path::PathBuf>,
}

#[derive(Debug, Args)]
pub struct ListArgs {
    /// Only profiles that use SSO.
    #[arg(long)]
    pub sso: bool,

    /// Mark each profile: `sso` or `-` in a second, tab-separated column.
    #[arg(long, short = 'l')]
    pub long: bool,
}
