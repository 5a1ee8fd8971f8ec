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
# the check uses nushell's own commands (no process). A renewal never holds up the prompt: it
# runs in the background, and a later prompt takes its credentials (a failure is reported
# once, retried with backoff, and the credentials are removed when they expire). The binary's `--shell nu` output is a
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

# Dead credentials are removed, so that no tool runs with them, saying what gets new ones.
def --env __ssoenv_expire [now: int] {
    let exp = ($env.SSOENV_EXPIRATION? | default '' )
    if ($exp | is-not-empty) and $now >= ($exp | into int) {
        let p = ($env.SSOENV_PROFILE? | default '')
        if ($env.__SSOENV_CODE? | default '') == '3' {
            print -e $"ssoenv: the credentials of ($p) expired and were removed; to sign in and get new ones, run: ssoenv login ($p); ssoenv use ($p)"
        } else {
            print -e $"ssoenv: the credentials of ($p) expired and were removed; to get new ones, run: ssoenv use ($p)"
        }
        __ssoenv_apply --unset | ignore
    }
}

# A whole number from text, 0 for anything else.
def __ssoenv_int [text: any] {
    try { $text | default '0' | into int } catch { 0 }
}

# Before each prompt. Fresh, it reads the stamp and compares; nothing waits for the network:
# past the renewal point `export --background` starts the renewal as a detached process and
# returns at once. Beside the stamp, its record says "running ..." or "failed SINCE CODE
# RETRY_AT COUNT MESSAGE"; a renewal that succeeded shows as a new stamp, taken at the next
# prompt.
def --env __ssoenv_check [] {
    let profile = ($env.SSOENV_PROFILE? | default '')
    if ($profile | is-empty) { return }
    let now = (__ssoenv_now)
    # The stamp holds "EXPIRATION RENEW_AT ID" of the credentials exported last.
    let stamp = ($env.SSOENV_STAMP? | default '')
    let fields = if ($stamp | is-not-empty) and ($stamp | path exists) {
        open --raw $stamp | str trim | split row ' '
    } else { [] }
    let id = ($fields.2? | default '')
    let mine = ($env.SSOENV_ID? | default '')
    let renew_at = (__ssoenv_int $env.SSOENV_RENEW_AT?)
    # Fresh, and no other shell renewed them: nothing to do.
    if $id == $mine and $now < $renew_at { return }
    # Newer credentials in the cache (a renewal, or another shell's export): taken from there
    # by a local export that never asks the network.
    if ($id | is-not-empty) and $id != $mine and $now < (__ssoenv_int $fields.1?) {
        __ssoenv_apply --background -- $profile | ignore
        if ($env.SSOENV_ID? | default '') == $id { return }
    }
    let record = $"($stamp).renewal"
    let r = if ($stamp | is-not-empty) and ($record | path exists) {
        open --raw $record | str trim | split row -n 6 ' '
    } else { [] }
    let state = ($r.0? | default '')
    let since = (__ssoenv_int $r.1?)
    let retry = (__ssoenv_int $r.3?)
    if $state == 'running' and $now < $since + 120 {
        # One renewal at a time; a record older than two minutes is left over from a killed one.
        __ssoenv_expire $now
        return
    }
    if $state == 'failed' {
        if ($since | into string) != ($env.__SSOENV_SEEN? | default '') {
            # The record says when to retry, not the guard against starting twice.
            $env.__SSOENV_SEEN = ($since | into string)
            $env.__SSOENV_CODE = ($r.2? | default '')
            $env.__SSOENV_NEXT = '0'
            let launched = (__ssoenv_int ($env.__SSOENV_LAUNCHED? | default ($since + 1 | into string)))
            # One line about a failure of these credentials' renewal, once; retries are quiet.
            if ($env.__SSOENV_WARNED? | default '') != $mine and ($since >= $renew_at or $since >= $launched) {
                $env.__SSOENV_WARNED = $mine
                print -e $"ssoenv: renewing the credentials of ($profile) failed: ($r.5? | default '') \(retrying in the background\)"
            }
        }
        if $now < $retry {
            __ssoenv_expire $now
            return
        }
    }
    if $now < (__ssoenv_int $env.__SSOENV_NEXT?) {
        __ssoenv_expire $now
        return
    }
    $env.__SSOENV_LAUNCHED = ($now | into string)
    $env.__SSOENV_NEXT = ($now + 30 | into string)
    ^ssoenv export --background -- $profile | complete | ignore
    __ssoenv_expire $now
}

# A trusted .ssoenv in this directory or above selects its profile. Leaving it gives back the
# profile chosen by hand before entering (or none), unless another was chosen inside. `again`
# (after `ssoenv allow`) reads the directory's file again.
def --env __ssoenv_cd [again: bool = false] {
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
        if $found != $dir or $again {
            if ($dir | is-empty) { $env.__SSOENV_BEFORE = ($env.SSOENV_PROFILE? | default '') }
            $env.__SSOENV_DIR = $found
            if (__ssoenv_apply --auto --from-dir $found) == 0 {
                $env.__SSOENV_DIR_PROFILE = ($env.SSOENV_PROFILE? | default '')
            }
        }
    } else if ($dir | is-not-empty) {
        $env.__SSOENV_DIR = ''
        let p = ($env.SSOENV_PROFILE? | default '')
        let before = ($env.__SSOENV_BEFORE? | default '')
        if ($p | is-not-empty) and $p == ($env.__SSOENV_DIR_PROFILE? | default '') and $p != $before {
            if ($before | is-empty) or (__ssoenv_apply --auto -- $before) != 0 {
                __ssoenv_apply --unset | ignore
            }
        }
        $env.__SSOENV_DIR_PROFILE = ''
        $env.__SSOENV_BEFORE = ''
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
        $env.__SSOENV_NEXT = '0'
        if $rc != 0 { error make {msg: $"ssoenv use failed with exit code ($rc)"} }
    } else if $sub == 'clear' {
        __ssoenv_apply --unset | ignore
    } else if $sub == 'allow' {
        # Applies at once: the directory is read again once it is trusted.
        ^ssoenv ...$args
        if $env.LAST_EXIT_CODE == 0 { __ssoenv_cd true }
    } else if $sub == 'doctor' {
        # Tells doctor whether the prompt hook is still installed in this shell.
        let hooked = ($env.config.hooks.pre_prompt? | default [] | any {|h|
            (try { view source $h } catch { '' }) | str contains '__ssoenv_check'
        })
        with-env {SSOENV_HOOK: (if $hooked { '1' } else { '0' })} { ^ssoenv ...$args }
    } else {
        ^ssoenv ...$args
    }
}

# Which plugin is loaded, for `ssoenv doctor`.
$env.SSOENV_PLUGIN = 'nu'

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
