# ssoenv plugin for nushell (0.90 and newer). Save it once and source it from config.nu:
#   ssoenv hook nu | save -f ($nu.default-config-dir | path join ssoenv.nu)
#   source ssoenv.nu
#
#   ssoenv use PROFILE   load PROFILE's credentials into this shell
#   ssoenv clear         remove everything ssoenv set
#   ssoenv ...           any other subcommand runs the binary
#
# Before each prompt it renews the credentials before they expire (SSOENV_REFRESH_MARGIN
# seconds, default 600) and picks up credentials another shell renewed; while they are fresh
# the check uses nushell's own commands (no process). The binary's `--shell nu` output is a
# JSON record: strings to load, null for variables to hide. A trusted `.ssoenv` file (see
# `ssoenv allow`) selects a profile on cd. Sourcing this file twice adds no second hook.

# Runs `ssoenv export --shell nu ARGS...` and applies its record only on success.
def --env --wrapped __ssoenv_apply [...args: string] {
    let r = (^ssoenv export --shell nu ...$args | complete)
    if ($r.stderr | str trim | is-not-empty) { print -e ($r.stderr | str trim) }
    if $r.exit_code == 0 and ($r.stdout | str trim | is-not-empty) {
        let rec = ($r.stdout | from json)
        for k in ($rec | columns) {
            let v = ($rec | get $k)
            if $v == null { hide-env -i $k } else { load-env {$k: $v} }
        }
    }
    $r.exit_code
}

def __ssoenv_now [] { (date now | into int) // 1_000_000_000 }

# Dead credentials are removed, so that no tool runs with them.
def --env __ssoenv_expire [now: int] {
    let exp = ($env.SSOENV_EXPIRATION? | default '' )
    if ($exp | is-not-empty) and $now >= ($exp | into int) {
        print -e $"ssoenv: the credentials of ($env.SSOENV_PROFILE? | default '') expired and were removed"
        __ssoenv_apply --unset | ignore
    }
}

def --env __ssoenv_check [] {
    let profile = ($env.SSOENV_PROFILE? | default '')
    if ($profile | is-empty) { return }
    let now = (__ssoenv_now)
    # The stamp holds "EXPIRATION RENEW_AT ID" of the credentials exported last.
    let stamp = ($env.SSOENV_STAMP? | default '')
    let fields = if ($stamp | is-not-empty) and ($stamp | path exists) {
        open --raw $stamp | str trim | split row ' '
    } else { [] }
    let id = if ($fields | length) > 2 { $fields | get 2 } else { '' }
    let renew_at = ($env.SSOENV_RENEW_AT? | default '0' | into int)
    # Fresh, and no other shell renewed them: nothing to do.
    if $id == ($env.SSOENV_ID? | default '') and $now < $renew_at { return }
    # After a failed renewal, wait a minute before the next try.
    if $now < ($env.__SSOENV_RETRY? | default '0' | into int) {
        __ssoenv_expire $now
        return
    }
    let rc = (__ssoenv_apply --auto -- $profile)
    if $rc == 0 {
        $env.__SSOENV_RETRY = '0'
    } else {
        $env.__SSOENV_RETRY = ($now + 60 | into string)
        __ssoenv_expire $now
    }
}

# A trusted .ssoenv in this directory or above selects its profile; leaving it clears it.
def --env __ssoenv_cd [] {
    mut d = $env.PWD
    mut found = ''
    loop {
        if ($d | path join '.ssoenv' | path exists) { $found = $d; break }
        let up = ($d | path dirname)
        if $up == $d { break }
        $d = $up
    }
    let dir = ($env.__SSOENV_DIR? | default '')
    if ($found | is-not-empty) {
        if $found != $dir {
            $env.__SSOENV_DIR = $found
            if (__ssoenv_apply --auto --from-dir $found) == 0 {
                $env.__SSOENV_DIR_PROFILE = ($env.SSOENV_PROFILE? | default '')
            }
        }
    } else if ($dir | is-not-empty) {
        $env.__SSOENV_DIR = ''
        let p = ($env.SSOENV_PROFILE? | default '')
        if ($p | is-not-empty) and $p == ($env.__SSOENV_DIR_PROFILE? | default '') {
            __ssoenv_apply --unset | ignore
        }
        $env.__SSOENV_DIR_PROFILE = ''
    }
}

# Completion: begin (`ssoenv completions nu` prints this part)
# What `ssoenv complete` offers where the cursor is: subcommands, options and their values
# from the binary's command tree, and names from the config at TAB time (profiles,
# sso-sessions, account ids), one `VALUE<TAB>HELP` a line; no value holds a tab or a line
# break. The words before the cursor are counted at spaces: only a name could hold a quoted
# space. A value is data: offered as a plain word (or option) only when it is one, else as a
# "..." string (escaping \ and "; nothing in it is interpolated), so that the completed line
# holds exactly that value as one argument (a plain word such as 123 stays a string: the
# command is --wrapped). Nushell completes a word that starts with `-` from the command's
# signature, without asking this completer: options do not complete here.
def __ssoenv_complete [context: string] {
    let words = ($context | split row -r '\s+' | skip 1 | each {|w| $w | str trim -c '"' | str trim -c "'" })
    let current = ($words | last)
    let before = ($words | drop 1)
    let out = try { (^ssoenv complete $"--current=($current)" -- ...$before | complete).stdout } catch { '' }
    $out | lines | where {|l| $l != '' } | each {|l|
        let f = ($l | split row -n 2 (char tab))
        let v = ($f | first)
        let value = if ($v =~ '^(--?)?[A-Za-z0-9_][A-Za-z0-9_.-]*$') and not ($v in [true false null]) {
            $v
        } else {
            '"' + ($v | str replace -a '\' '\\' | str replace -a '"' '\"') + '"'
        }
        {value: $value, description: ($f | get 1? | default '')}
    }
}
# Completion: end

# `ssoenv use PROFILE`, `ssoenv clear`, or any other subcommand of the binary.
def --env --wrapped ssoenv [...args: string@__ssoenv_complete] {
    let sub = if ($args | is-empty) { '' } else { $args | first }
    if $sub == 'use' {
        let rest = ($args | skip 1)
        if ($rest | is-empty) { error make {msg: 'usage: ssoenv use PROFILE'} }
        mut rc = (__ssoenv_apply ...$rest)
        # Login required: offer to sign in, then try again.
        if $rc == 3 and (is-terminal --stdin) {
            let answer = (input 'ssoenv: sign in now? [Y/n] ')
            if not ($answer | str starts-with -i 'n') {
                ^ssoenv login ($rest | first)
                $rc = (__ssoenv_apply ...$rest)
            }
        }
        $env.__SSOENV_RETRY = '0'
        if $rc != 0 { error make {msg: $"ssoenv use failed with exit code ($rc)"} }
    } else if $sub == 'clear' {
        __ssoenv_apply --unset | ignore
    } else {
        ^ssoenv ...$args
    }
}

# The hooks, added once.
if ($env.__SSOENV_HOOKED? | default '') != '1' {
    $env.__SSOENV_HOOKED = '1'
    $env.config = ($env.config | upsert hooks.pre_prompt (
        ($env.config.hooks.pre_prompt? | default []) | append {|| __ssoenv_check }
    ))
    $env.config = ($env.config | upsert hooks.env_change.PWD (
        ($env.config.hooks.env_change.PWD? | default []) | append {|before, after| __ssoenv_cd }
    ))
}
