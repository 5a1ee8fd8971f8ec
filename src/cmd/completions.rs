//! `ssoenv completions SHELL`: clap_complete's script for subcommands and flags, plus the
//! profile names, which change with the config: they come from `ssoenv list` at TAB time.

use clap::CommandFactory;
use clap_complete::{Shell as Target, generate};

use crate::cli::{Cli, CompletionShell};
use crate::error::Result;

const BASH_PROFILES: &str = r#"
# Profile names, from the config at TAB time.
_ssoenv_profiles() {
    local cur=${COMP_WORDS[COMP_CWORD]} prev=${COMP_WORDS[COMP_CWORD-1]}
    case $prev in
    ssoenv | export | login | status | use)
        if [[ $cur != -* ]]; then
            COMPREPLY=($(compgen -W "$(command ssoenv list 2>/dev/null)" -- "$cur"))
            [[ $prev == ssoenv ]] && _ssoenv "$@" && COMPREPLY+=($(compgen -W "${COMPREPLY[*]}" -- "$cur"))
            return 0
        fi
        ;;
    esac
    _ssoenv "$@"
}
complete -F _ssoenv_profiles -o bashdefault -o default ssoenv
"#;

const FISH_PROFILES: &str = r#"
# Profile names, from the config at TAB time.
complete -c ssoenv -n "__fish_use_subcommand; or __fish_seen_subcommand_from export login status use" -f -a "(command ssoenv list 2>/dev/null)" -d profile
"#;

const ZSH_PROFILES: &str = r#"
# Profile names, from the config at TAB time.
_ssoenv_profile_names() {
    local -a profiles
    profiles=(${(f)"$(command ssoenv list 2>/dev/null)"})
    _describe -t profiles 'profile' profiles
}
"#;

const PWSH_PROFILES: &str = r#"
# Profile names, from the config at TAB time.
Register-ArgumentCompleter -Native -CommandName 'ssoenv' -ScriptBlock {
    param($wordToComplete, $commandAst, $cursorPosition)
    $words = @($commandAst.CommandElements | ForEach-Object { $_.ToString() })
    if ($words.Count -le 2 -or @('export', 'login', 'status', 'use') -contains $words[1]) {
        & ssoenv list 2>$null | Where-Object { $_ -like "$wordToComplete*" } |
            ForEach-Object { [System.Management.Automation.CompletionResult]::new($_, $_, 'ParameterValue', $_) }
    }
}
"#;

pub fn run(shell: CompletionShell) -> Result<String> {
    let target = match shell {
        CompletionShell::Bash => Target::Bash,
        CompletionShell::Zsh => Target::Zsh,
        CompletionShell::Fish => Target::Fish,
        CompletionShell::Pwsh => Target::PowerShell,
    };
    let mut buf = Vec::new();
    generate(target, &mut Cli::command(), "ssoenv", &mut buf);
    let mut script = String::from_utf8_lossy(&buf).into_owned();
    match shell {
        CompletionShell::Bash => script.push_str(BASH_PROFILES),
        CompletionShell::Fish => script.push_str(FISH_PROFILES),
        CompletionShell::Zsh => {
            // clap writes `'::profile -- …:_default'` for the PROFILE arguments.
            script = script
                .lines()
                .map(|l| {
                    if l.starts_with("'::profile -- ") {
                        l.replace(":_default'", ":_ssoenv_profile_names'")
                    } else {
                        l.to_string()
                    }
                })
                .collect::<Vec<_>>()
                .join("\n");
            let at = script
                .find("\nif [ \"$funcstack[1]\" = \"_ssoenv\" ]")
                .unwrap_or(script.len());
            script.insert_str(at, ZSH_PROFILES);
        }
        CompletionShell::Pwsh => script.push_str(PWSH_PROFILES),
    }
    Ok(script)
}
