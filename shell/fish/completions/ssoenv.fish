# Completions for ssoenv in fish: subcommands, and profile names where a profile goes.
complete -c ssoenv -f
complete -c ssoenv -n __fish_use_subcommand -a 'use clear export list login logout status hook allow deny completions'
complete -c ssoenv -n __fish_use_subcommand -a '(command ssoenv list 2>/dev/null)' -d profile
complete -c ssoenv -n '__fish_seen_subcommand_from use export login status' -a '(command ssoenv list 2>/dev/null)' -d profile
complete -c ssoenv -n '__fish_seen_subcommand_from hook' -a 'bash zsh fish pwsh nu direnv'
complete -c ssoenv -n '__fish_seen_subcommand_from completions' -a 'bash zsh fish pwsh'
complete -c ssoenv -s s -l shell -x -a 'sh bash zsh fish pwsh powershell cmd nu dotenv json' -d 'output format'
