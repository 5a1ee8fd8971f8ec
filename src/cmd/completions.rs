//! `ssoenv completions SHELL`: clap_complete's script for subcommands and flags, plus the
//! profile names, which change with the config: they come from `ssoenv list` at TAB time.

use clap::CommandFactory;
use clap_complete::{Shell as Target, generate};

use crate::cli::{Cli, CompletionShell};
use crate::error::Result;

/// The plugin's profile completion (`__ssoenv_words`, `__ssoenv_complete_profiles`), so that
/// the quoting of names for bash is written once: the lines between these markers.
const BASH_PLUGIN: &str = include_str!("../../shell/ssoenv.bash");
const BASH_BEGIN: &str = "# Profile completion: begin";
const BASH_END: &str = "# Profile completion: end\n";

const BASH_PROFILES: &str = r#"
# Profile names, from the config at TAB time: data, compared and quoted, never evaluated.
_ssoenv_profiles() {
    local LC_ALL=C
    __ssoenv_words "${COMP_LINE:0:COMP_POINT}" || :
    local at=${#__ssoenv_w[@]}:${__ssoenv_w[1]-}
    case $at in
    2:* | 3:export | 3:login | 3:status | 3:use)
        if [[ ${__ssoenv_w[${#__ssoenv_w[@]} - 1]} != -* ]]; then
            COMPREPLY=()
            [[ $at == 2:* ]] && _ssoenv "$@"
            __ssoenv_complete_profiles "$2"
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
# Profile names, from the config at TAB time. `ssoenv list` prints one name a line, and no
# name holds a newline (the config lexer splits lines at \n and \r). compadd quotes each name
# for the command line; none is ever evaluated (nor split at `:`, as _describe would).
_ssoenv_profile_names() {
    emulate -L zsh
    local -a profiles expl
    profiles=(${(f)"$(command ssoenv list 2>/dev/null)"})
    _wanted profiles expl profile compadd -a profiles
}
"#;

const PWSH_PROFILES: &str = r#"
# Profile names, from the config at TAB time.
# `ssoenv list` prints one name a line, and no name holds a newline (the config lexer splits
# lines at \n and \r). A name is data: compared as text (a wildcard match would read [ * ?
# in it), and inserted as a verbatim string unless it is a plain word, with ' and the
# curly quotes PowerShell also reads as ' doubled (about_Quoting_Rules), so that the completed
# line holds exactly that name as one argument.
Register-ArgumentCompleter -Native -CommandName 'ssoenv' -ScriptBlock {
    param($wordToComplete, $commandAst, $cursorPosition)
    $words = @($commandAst.CommandElements | ForEach-Object { $_.ToString() })
    # The word under the cursor is an element only once it holds something.
    $position = $words.Count
    if ($wordToComplete) { $position -= 1 }
    # What the word says so far, read as PowerShell reads a verbatim string: a pair of quote
    # characters is one, a lone one ends it. A "..." string is taken as it stands (it is
    # never expanded here).
    $quotes = [string][char]39 + [char]0x2018 + [char]0x2019 + [char]0x201A + [char]0x201B
    $typed = [string] $wordToComplete
    if ($typed.Length -gt 0 -and $quotes.IndexOf($typed[0]) -ge 0) {
        $text = [System.Text.StringBuilder]::new()
        for ($i = 1; $i -lt $typed.Length; $i++) {
            if ($quotes.IndexOf($typed[$i]) -ge 0) {
                if ($i + 1 -lt $typed.Length -and $quotes.IndexOf($typed[$i + 1]) -ge 0) { $i++ } else { break }
            }
            $null = $text.Append($typed[$i])
        }
        $typed = $text.ToString()
    }
    elseif ($typed.StartsWith([string][char]34)) {
        $typed = $typed.Substring(1).TrimEnd([char]34)
    }
    $candidates = @()
    if ($position -eq 1 -or ($position -eq 2 -and @('export', 'login', 'status', 'use') -contains $words[1])) {
        $candidates = @(& ssoenv list 2>$null)
    }
    foreach ($name in $candidates) {
        if (-not $name -or -not $name.StartsWith($typed, [System.StringComparison]::OrdinalIgnoreCase)) { continue }
        $completion = $name
        if ($name -cnotmatch '^[A-Za-z0-9_][A-Za-z0-9_.-]*$') {
            $completion = [string][char]39 + ($name -replace ('([' + $quotes + '])'), '$1$1') + [char]39
        }
        [System.Management.Automation.CompletionResult]::new($completion, $name, 'ParameterValue', $name)
    }
}
"#;

/// The plugin's profile completion functions, from its marker lines (a unit test checks they
/// are there).
fn bash_profile_completion() -> &'static str {
    let start = BASH_PLUGIN.find(BASH_BEGIN).unwrap_or(BASH_PLUGIN.len());
    let end = BASH_PLUGIN[start..]
        .find(BASH_END)
        .map_or(start, |e| start + e + BASH_END.len());
    &BASH_PLUGIN[start..end]
}

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
        CompletionShell::Bash => {
            script.push_str(bash_profile_completion());
            script.push_str(BASH_PROFILES);
        }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bash_script_carries_the_plugins_profile_completion() {
        let helper = bash_profile_completion();
        assert!(helper.starts_with(BASH_BEGIN) && helper.ends_with(BASH_END));
        assert!(helper.contains("__ssoenv_words() {"));
        assert!(helper.contains("__ssoenv_complete_profiles() {"));
        let script = run(CompletionShell::Bash).unwrap_or_default();
        assert!(script.contains(helper) && script.contains("_ssoenv_profiles() {"));
    }
}
