# ssoenv plugin for fish (fisher layout: conf.d/, functions/, completions/). Installed by
# `fisher install`, by copying the three folders into ~/.config/fish, or in config.fish with
#   ssoenv hook fish | source
#
# Before each prompt it renews the credentials before they expire (SSOENV_REFRESH_MARGIN
# seconds, default 600) and picks up credentials another shell renewed. While they are fresh,
# the check uses builtins only (the clock comes from /proc/uptime or `path mtime`, the stamp
# is compared with its link by `test -ef`): no process is started. A renewal never holds up
# the prompt: it runs in the background, and a later prompt takes its credentials (a failure
# is reported once, retried with backoff, and the credentials are removed when they expire).
# A `.ssoenv` file naming a profile is honoured on cd once `ssoenv allow` trusted it. Loading
# this file twice changes nothing: functions and handlers are redefined.

# The clock: fish has no builtin for it, but `path mtime` (fish 3.5) gives a file's mtime and
# its age, whose sum is now. Older fish asks `date`. On Linux the fresh-prompt check needs no
# command substitution at all: it reads /proc/uptime (time since boot, suspend included) with
# `read` and compares it with the renewal time converted to uptime once per export.
if builtin -q path
    function __ssoenv_epoch
        math (path mtime /) + (path mtime --relative /)
    end
else
    function __ssoenv_epoch
        command date +%s
    end
end
set -g __ssoenv_uptime ''
if test -r /proc/uptime; and read -l up _ </proc/uptime; and string match -qr '^[0-9]+(\.[0-9]+)?$' -- "$up"
    set -g __ssoenv_uptime /proc/uptime
end
# Off the fresh path only. It also sets the boot time in wall-clock seconds that converts the
# renewal time to uptime, so a change of the wall clock is caught up at the next export.
function __ssoenv_now
    set -g __ssoenv_t (__ssoenv_epoch)
    if test -n "$__ssoenv_uptime"; and read -l up _ <$__ssoenv_uptime
        set -g __ssoenv_boot (math "$__ssoenv_t - $up")
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

# Dead credentials are removed, so that no tool runs with them, saying what gets new ones.
function __ssoenv_expire
    if set -q SSOENV_EXPIRATION; and test "$__ssoenv_t" -ge "$SSOENV_EXPIRATION"
        set -l p (string escape -- "$SSOENV_PROFILE")
        if test "$__ssoenv_code" = 3
            printf 'ssoenv: the credentials of %s expired and were removed; to sign in and get new ones, run: ssoenv login %s; and ssoenv use %s\n' $p $p $p >&2
        else
            printf 'ssoenv: the credentials of %s expired and were removed; to get new ones, run: ssoenv use %s\n' $p $p >&2
        end
        __ssoenv_apply --unset
    end
end

# Past the fresh-prompt check (in __ssoenv_prompt): the stamp is read. It holds "EXPIRATION
# RENEW_AT ID" of the credentials exported last.
function __ssoenv_check
    set -l id ''
    set -l _e
    set -l _r
    if set -q SSOENV_STAMP; and test -r "$SSOENV_STAMP"
        # Into the locals above: `read -l` here would scope them to the if block.
        read _e _r id <"$SSOENV_STAMP"
    end
    # Fresh, and no other shell renewed them (a stamp without its link): nothing to do.
    if test "$id" = "$SSOENV_ID"; and test -n "$__ssoenv_uptime"; and read -l up _ <$__ssoenv_uptime
        test "$up" -lt "$__ssoenv_until"; and return 0
    end
    __ssoenv_renew "$_r" "$id"
end

# Past the renewal point, the stamp names other credentials, or the renewal time is new to
# the clock above. Nothing here waits for the network: `export --background` starts the
# renewal as a detached process and returns at once. Beside the stamp, its record says
# "running ..." or "failed SINCE CODE RETRY_AT COUNT MESSAGE"; a renewal that succeeded shows
# as a new stamp, taken at the next prompt.
function __ssoenv_renew --argument-names renew_at id
    __ssoenv_now
    set -q SSOENV_RENEW_AT; or set -l SSOENV_RENEW_AT 0
    if test -n "$__ssoenv_uptime"; and string match -qr '^[0-9]+$' -- "$SSOENV_RENEW_AT"
        set -g __ssoenv_until (math "$SSOENV_RENEW_AT - $__ssoenv_boot")
    end
    if test "$id" = "$SSOENV_ID"; and test "$__ssoenv_t" -lt "$SSOENV_RENEW_AT"
        return 0
    end
    string match -qr '^[0-9]+$' -- "$renew_at"; or set renew_at 0
    # Newer credentials in the cache (a renewal, or another shell's export): taken from there
    # by a local export that never asks the network.
    if test -n "$id"; and test "$id" != "$SSOENV_ID"; and test "$__ssoenv_t" -lt "$renew_at"
        __ssoenv_apply --background -- "$SSOENV_PROFILE" 2>/dev/null
        test "$SSOENV_ID" = "$id"; and return 0
    end
    set -l state ''
    set -l since ''
    set -l code ''
    set -l retry ''
    set -l count ''
    set -l msg ''
    if test -r "$SSOENV_STAMP.renewal"
        read state since code retry count msg <"$SSOENV_STAMP.renewal"
    end
    if not string match -qr '^[0-9]+ [0-9]+$' -- "$since $retry"
        set since 0
        set retry 0
    end
    switch "$state"
        case running
            # One renewal at a time; a record older than two minutes is left over from a
            # killed one.
            if test "$__ssoenv_t" -lt (math $since + 120)
                __ssoenv_expire
                return 0
            end
        case failed
            if test "$since" != "$__ssoenv_seen"
                # The record says when to retry, not the guard against starting twice.
                set -g __ssoenv_seen $since
                set -g __ssoenv_code $code
                set -g __ssoenv_next 0
                set -l launched (math $since + 1)
                set -q __ssoenv_launched; and set launched $__ssoenv_launched
                # One line about a failure of these credentials' renewal, once; retries are
                # quiet.
                if test "$__ssoenv_warned" != "$SSOENV_ID"
                    and begin
                        test "$since" -ge "$SSOENV_RENEW_AT"; or test "$since" -ge "$launched"
                    end
                    set -g __ssoenv_warned "$SSOENV_ID"
                    printf 'ssoenv: renewing the credentials of %s failed: %s (retrying in the background)\n' "$SSOENV_PROFILE" "$msg" >&2
                end
            end
            if test "$__ssoenv_t" -lt "$retry"
                __ssoenv_expire
                return 0
            end
    end
    set -q __ssoenv_next; or set -g __ssoenv_next 0
    if test "$__ssoenv_t" -lt "$__ssoenv_next"
        __ssoenv_expire
        return 0
    end
    set -g __ssoenv_launched $__ssoenv_t
    set -g __ssoenv_next (math $__ssoenv_t + 30)
    command ssoenv export --background -- "$SSOENV_PROFILE" </dev/null >/dev/null 2>&1
    __ssoenv_expire
end

# A trusted .ssoenv in this directory or above selects its profile. Leaving it gives back the
# profile chosen by hand before entering (or none), unless another was chosen inside. With
# an argument (after `ssoenv allow`) the directory's file is read again.
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
    set -q __ssoenv_before; or set -g __ssoenv_before ''
    set -q __ssoenv_dir_profile; or set -g __ssoenv_dir_profile ''
    if test -n "$found"
        # (A handler's arguments are "VARIABLE SET PWD"; `ssoenv allow` passes "again".)
        if test "$found" != "$__ssoenv_dir"; or test "$argv[1]" = again
            test -z "$__ssoenv_dir"; and set -g __ssoenv_before "$SSOENV_PROFILE"
            set -g __ssoenv_dir $found
            __ssoenv_apply --auto --from-dir "$found"; and set -g __ssoenv_dir_profile "$SSOENV_PROFILE"
        end
    else if test -n "$__ssoenv_dir"
        set -g __ssoenv_dir ''
        if set -q SSOENV_PROFILE; and test "$SSOENV_PROFILE" = "$__ssoenv_dir_profile"
            and test "$SSOENV_PROFILE" != "$__ssoenv_before"
            if test -n "$__ssoenv_before"
                __ssoenv_apply --auto -- "$__ssoenv_before"; or __ssoenv_apply --unset
            else
                __ssoenv_apply --unset
            end
        end
        set -g __ssoenv_dir_profile ''
        set -g __ssoenv_before ''
    end
end

# The renewal time in uptime, set off the fresh path; 0 (renewal due) until then, and again
# whenever the renewal time changes (an export), so that it never belongs to other credentials.
set -g __ssoenv_until 0
function __ssoenv_renew_at_set --on-variable SSOENV_RENEW_AT
    set -g __ssoenv_until 0
end

# The fresh-prompt check, one `read` and one `test`: the stamp is still the file its link
# `STAMP@ID` names (ssoenv links it while it names these credentials; a new stamp is a new
# file), and the uptime is before the renewal time. It needs `test -ef` and /proc/uptime;
# without them every prompt goes to __ssoenv_check. fish puts $status back after an event
# handler (event_fire_internal), so the user's status needs no keeping here.
if test -n "$__ssoenv_uptime"; and test / -ef / 2>/dev/null
    function __ssoenv_prompt --on-event fish_prompt
        set -q SSOENV_PROFILE; or return
        # One job, no `if` block: each costs several microseconds.
        read -l up _ </proc/uptime; and test "$SSOENV_STAMP" -ef "$SSOENV_STAMP@$SSOENV_ID" -a "$up" -lt "$__ssoenv_until"; and return
        __ssoenv_check
    end
else
    function __ssoenv_prompt --on-event fish_prompt
        set -l s $status
        set -q SSOENV_PROFILE; and __ssoenv_check
        return $s
    end
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
    set -g __ssoenv_next 0
    return $rc
end

# Which plugin is loaded, for `ssoenv doctor`.
set -gx SSOENV_PLUGIN fish

# The directory the shell starts in counts as a cd.
if not set -q __ssoenv_started
    set -g __ssoenv_started 1
    __ssoenv_cd
end
