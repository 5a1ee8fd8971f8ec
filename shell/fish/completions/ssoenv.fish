# Completions for ssoenv in fish (`ssoenv completions fish` prints this file): what
# `ssoenv complete` offers where the cursor is, from the binary's command tree (subcommands,
# options and their values) and the config at TAB time (profiles, sso-sessions, account ids).
# The words before the cursor go to it unescaped (`commandline -opc` expands nothing). Each
# line it prints is one candidate, `VALUE<TAB>HELP`, taken as it is (never expanded) and
# escaped by fish as it inserts it.
function __ssoenv_complete
    set -l words (commandline -opc)
    set -e words[1]
    command ssoenv complete "--current="(commandline -ct) -- $words 2>/dev/null
end
complete -c ssoenv -f -a '(__ssoenv_complete)'
