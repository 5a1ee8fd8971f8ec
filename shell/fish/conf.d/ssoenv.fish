# ssoenv plugin for fish (fisher layout: conf.d/, functions/, completions/). Installed by
# `fisher install`, by copying the three folders into ~/.config/fish, or in config.fish with
#   ssoenv hook fish | source
#
# Before each prompt it renews the credentials before they expire (SSOENV_REFRESH_MARGIN
# seconds, default 600) and picks up credentials another shell renewed. While they are fresh,
# the check uses builtins only (the clock comes from `path mtime`, the stamp from `read`): no
# process is started. A `.ssoenv` file naming a profile is honoured on cd once `ssoenv allow`
# trusted it. Loading this file twice changes nothing: functions and handlers are redefined.

# The clock: fish has no builtin for it, but `path mtime` (fish 3.5) gives a file's mtime and
# its age, whose sum is now. Older fish asks `date`.
if builtin -q path
    function __ssoenv_now
        set -g __ssoenv_t (math (path mtime /) + (path mtime --relative /))
    end
else
    function __ssoenv_now
        set -g __ssoenv_t (command date +%s)
    end
end

# Runs `ssoenv export --shell fish ARGS...` and applies its output only on success.
function __ssoenv_apply
    set -l out (command ssoenv export --shell fish $argv)
    set -l rc $status
    if test $rc -eq 0
        printf '%s\n' $out | source
    end
    return $rc
end

# Dead credentials are removed, so that no tool runs with them.
function __ssoenv_expire
    if set -q SSOENV_EXPIRATION; and test "$__ssoenv_t" -ge "$SSOENV_EXPIRATION"
        printf 'ssoenv: the credentials of %s expired and were removed\n' "$SSOENV_PROFILE" >&2
        __ssoenv_apply --unset
    end
end

function __ssoenv_check
    # The stamp holds "EXPIRATION RENEW_AT ID" of the credentials exported last.
    set -l id ''
    set -l _e
    set -l _r
    __ssoenv_now
    if set -q SSOENV_STAMP; and test -r "$SSOENV_STAMP"
        # Into the locals above: `read -l` here would scope them to the if block.
        read _e _r id <"$SSOENV_STAMP"
    end
    set -q SSOENV_RENEW_AT; or set -l SSOENV_RENEW_AT 0
    # Fresh, and no other shell renewed them: nothing to do.
    if test "$id" = "$SSOENV_ID"; and test "$__ssoenv_t" -lt "$SSOENV_RENEW_AT"
        return 0
    end
    # After a failed renewal, wait a minute before the next try.
    set -q __ssoenv_retry; or set -g __ssoenv_retry 0
    if test "$__ssoenv_t" -lt "$__ssoenv_retry"
        __ssoenv_expire
        return 0
    end
    # One line about a failure, once per set of credentials; later tries are quiet.
    if set -q __ssoenv_warned; and test "$__ssoenv_warned" = "$SSOENV_ID"
        __ssoenv_apply --auto -- "$SSOENV_PROFILE" 2>/dev/null
    else
        __ssoenv_apply --auto -- "$SSOENV_PROFILE"
    end
    if test $status -eq 0
        set -g __ssoenv_retry 0
    else
        set -g __ssoenv_warned "$SSOENV_ID"
        set -g __ssoenv_retry (math $__ssoenv_t + 60)
        __ssoenv_expire
    end
end

# A trusted .ssoenv in this directory or above selects its profile; leaving it clears it.
function __ssoenv_cd --on-variable PWD
    # A cd inside a command substitution is not the user changing directory.
    status --is-command-substitution; and return
    set -l d $PWD
    set -l found ''
    while true
        if test -f "$d/.ssoenv"
            set found $d
            test -z "$found"; and set found /
            break
        end
        test -z "$d"; and break
        set d (string replace -r '/[^/]*$' '' -- $d)
    end
    set -q __ssoenv_dir; or set -g __ssoenv_dir ''
    if test -n "$found"
        if test "$found" != "$__ssoenv_dir"
            set -g __ssoenv_dir $found
            __ssoenv_apply --auto --from-dir "$found"; and set -g __ssoenv_dir_profile "$SSOENV_PROFILE"
        end
    else if test -n "$__ssoenv_dir"
        set -g __ssoenv_dir ''
        if set -q SSOENV_PROFILE; and set -q __ssoenv_dir_profile; and test "$SSOENV_PROFILE" = "$__ssoenv_dir_profile"
            __ssoenv_apply --unset
        end
        set -g __ssoenv_dir_profile ''
    end
end

function __ssoenv_prompt --on-event fish_prompt
    set -l s $status
    set -q SSOENV_PROFILE; and __ssoenv_check
    return $s
end

function __ssoenv_use
    if test (count $argv) -eq 0
        echo 'usage: ssoenv use PROFILE' >&2
        return 2
    end
    __ssoenv_apply $argv
    set -l rc $status
    # Login required: offer to sign in, then try again.
    if test $rc -eq 3; and test -t 0; and test -t 2
        read -l -P 'ssoenv: sign in now? [Y/n] ' answer; or set answer n
        string match -qi 'n*' -- "$answer"; and return 3
        command ssoenv login $argv[1]; and __ssoenv_apply $argv
        set rc $status
    end
    set -g __ssoenv_retry 0
    return $rc
end

# The directory the shell starts in counts as a cd.
if not set -q __ssoenv_started
    set -g __ssoenv_started 1
    __ssoenv_cd
end
