//! `ssoenv hook SHELL`: prints the plugin file of `shell/`, embedded at build time, so
//! `eval "$(ssoenv hook bash)"` and the installed files are one source of truth.
//! Also the answer of the binary to `use`/`clear`, which only the plugin's function knows.

use crate::cli::HookShell;
use crate::error::{Error, Result};

pub const BASH: &str = include_str!("../../shell/ssoenv.bash");
pub const ZSH: &str = include_str!("../../shell/ssoenv.zsh");
pub const FISH_CONF: &str = include_str!("../../shell/fish/conf.d/ssoenv.fish");
pub const FISH_FUNCTION: &str = include_str!("../../shell/fish/functions/ssoenv.fish");
pub const FISH_COMPLETIONS: &str = include_str!("../../shell/fish/completions/ssoenv.fish");
pub const PWSH: &str = include_str!("../../shell/pwsh/ssoenv.psm1");
pub const NU: &str = include_str!("../../shell/ssoenv.nu");
pub const DIRENV: &str = include_str!("../../shell/direnv/ssoenv.sh");

pub fn run(shell: HookShell) -> Result<String> {
    Ok(match shell {
        HookShell::Bash => BASH.to_string(),
        HookShell::Zsh => ZSH.to_string(),
        // The function first: the conf.d part calls it.
        HookShell::Fish => format!("{FISH_FUNCTION}\n{FISH_CONF}\n{FISH_COMPLETIONS}"),
        HookShell::Pwsh => PWSH.to_string(),
        HookShell::Nu => NU.to_string(),
        HookShell::Direnv => DIRENV.to_string(),
    })
}

/// `ssoenv use` / `ssoenv clear` reached the binary: the plugin is not loaded.
pub fn not_loaded(what: &str) -> Result<String> {
    Err(Error::Usage(format!(
        "`ssoenv {what}` changes the current shell, so it is a shell function: load the plugin first, e.g. `eval \"$(ssoenv hook bash)\"` in ~/.bashrc, `eval \"$(ssoenv hook zsh)\"` in ~/.zshrc, `ssoenv hook fish | source` in config.fish (see `ssoenv hook --help`)"
    )))
}
