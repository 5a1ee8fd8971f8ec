# ssoenv plugin for zsh. In ~/.zshrc:  eval "$(ssoenv hook zsh)"
# Builtins and commands are called as \builtin and \command, so that no alias or function of
# the same name changes what the hook does.
#
#   ssoenv use PROFILE   export PROFILE's credentials into this shell
#   ssoenv clear         remove everything ssoenv set
#   ssoenv ...           any other subcommand runs the binary
#
# Before each prompt it renews the credentials before they expire (SSOENV_REFRESH_MARGIN
# seconds, default 600) and picks up credentials another shell renewed. While they are fresh,
# the check uses builtins only (EPOCHSECONDS from zsh/datetime, the stamp compared with its
# link by `-ef`): no process is started. A renewal never holds up the prompt: it runs in the
# background, and a later prompt takes its credentials (a failure is reported once, retried
# with backoff, and the credentials are removed when they expire). A `.ssoenv` file naming a
# profile is honoured on cd once `ssoenv allow` trusted it. Sourcing this file twice changes
# nothing.

\builtin zmodload -F zsh/datetime p:EPOCHSECONDS 2>/dev/null || \builtin zmodload zsh/datetime
# sysread takes the stamp in one read(2); `read` would take it a byte at a time.
\builtin zmodload -F zsh/system b:sysread 2>/dev/null || \builtin zmodload zsh/system

# Runs `ssoenv export --shell zsh ARGS...` and applies its output only on success. Ctrl-C
# cannot stop the statements half-way (some variables set, others not): SIGINT is ignored
# while they run, and local_traps puts the shell's own INT trap back on return.
__ssoenv_apply() {
  \builtin emulate -L zsh -o local_traps
  \builtin local out rc
  out=$(\command ssoenv export --shell zsh "$@")
  rc=$?
  if (( rc == 0 )); then
    \builtin trap '' INT
    \builtin eval "$out"
  fi
  \builtin return rc
}

# Dead credentials are removed, so that no tool runs with them, saying what gets new ones.
__ssoenv_expire() {
  \builtin emulate -L zsh
  if [[ -n ${SSOENV_EXPIRATION-} ]] && (( EPOCHSECONDS >= SSOENV_EXPIRATION )); then
    \builtin local p=${(q-)SSOENV_PROFILE-}
    if [[ ${__ssoenv_code-} == 3 ]]; then
      \builtin print -r -u2 -- "ssoenv: the credentials of $p expired and were removed; to sign in and get new ones, run: ssoenv login $p && ssoenv use $p"
    else
      \builtin print -r -u2 -- "ssoenv: the credentials of $p expired and were removed; to get new ones, run: ssoenv use $p"
    fi
    __ssoenv_apply --unset
  fi
}

# Past the fresh-prompt check (in __ssoenv_precmd): the stamp is read, in one read(2). It
# holds "EXPIRATION RENEW_AT ID" of the credentials exported last.
__ssoenv_check() {
  \builtin local line=''
  if [[ -n ${SSOENV_STAMP-} && -r $SSOENV_STAMP ]]; then
    \builtin sysread -s 256 line <"$SSOENV_STAMP" || :
  fi
  line=${line%%$'\n'*}
  # Fresh, and no other shell renewed them (a stamp without its link): nothing to do.
  if [[ ${line##* } == "${SSOENV_ID-}" ]] && (( EPOCHSECONDS < ${SSOENV_RENEW_AT:-0} )); then
    \builtin return 0
  fi
  __ssoenv_renew "$line"
}

# Past the renewal point, or the stamp names other credentials. Nothing here waits for the
# network: `export --background` starts the renewal as a detached process and returns at
# once. Beside the stamp, its record says "running ..." or "failed SINCE CODE RETRY_AT COUNT
# MESSAGE"; a renewal that succeeded shows as a new stamp, taken at the next prompt.
__ssoenv_renew() {
  \builtin emulate -L zsh
  \builtin local -a f
  f=(${=1})
  \builtin local renew_at=${f[2]-} id=${f[3]-} state='' since='' code='' retry='' count='' msg=''
  [[ $renew_at == <-> ]] || renew_at=0
  # Newer credentials in the cache (a renewal, or another shell's export): taken from there
  # by a local export that never asks the network.
  if [[ -n $id && $id != "${SSOENV_ID-}" ]] && (( EPOCHSECONDS < renew_at )); then
    __ssoenv_apply --background -- "$SSOENV_PROFILE" 2>/dev/null
    [[ ${SSOENV_ID-} == "$id" ]] && \builtin return 0
  fi
  if [[ -r $SSOENV_STAMP.renewal ]]; then
    \builtin read -r state since code retry count msg <"$SSOENV_STAMP.renewal" || :
  fi
  [[ $since == <-> && $retry == <-> ]] || since=0 retry=0
  case $state in
    (running)
      # One renewal at a time; a record older than two minutes is left over from a killed one.
      if (( EPOCHSECONDS < since + 120 )); then
        __ssoenv_expire
        \builtin return 0
      fi
      ;;
    (failed)
      if [[ $since != "${__ssoenv_seen-}" ]]; then
        # The record says when to retry, not the guard against starting twice.
        \builtin typeset -g __ssoenv_seen=$since __ssoenv_code=$code __ssoenv_next=0
        # One line about a failure of these credentials' renewal, once; retries are quiet.
        if [[ ${__ssoenv_warned-} != "${SSOENV_ID-}" ]] &&
          (( since >= ${SSOENV_RENEW_AT:-0} || since >= ${__ssoenv_launched:-since + 1} )); then
          \builtin typeset -g __ssoenv_warned=${SSOENV_ID-}
          \builtin print -r -u2 -- "ssoenv: renewing the credentials of ${SSOENV_PROFILE-} failed: $msg (retrying in the background)"
        fi
      fi
      if (( EPOCHSECONDS < retry )); then
        __ssoenv_expire
        \builtin return 0
      fi
      ;;
  esac
  if (( EPOCHSECONDS < ${__ssoenv_next:-0} )); then
    __ssoenv_expire
    \builtin return 0
  fi
  \builtin typeset -g __ssoenv_launched=$EPOCHSECONDS __ssoenv_next=$(( EPOCHSECONDS + 30 ))
  \command ssoenv export --background -- "$SSOENV_PROFILE" </dev/null >/dev/null 2>&1
  __ssoenv_expire
}

# A trusted .ssoenv in this directory or above selects its profile. Leaving it gives back the
# profile chosen by hand before entering (or none), unless another was chosen inside. With
# an argument (after `ssoenv allow`) the directory's file is read again.
__ssoenv_cd() {
  \builtin emulate -L zsh
  \builtin local d=$PWD found=''
  while :; do
    if [[ -f $d/.ssoenv ]]; then
      found=${d:-/}
      break
    fi
    [[ -z $d ]] && break
    d=${d%/*}
  done
  if [[ -n $found ]]; then
    if [[ $found != "${__ssoenv_dir-}" ]] || (( $# )); then
      [[ -z ${__ssoenv_dir-} ]] && \builtin typeset -g __ssoenv_before=${SSOENV_PROFILE-}
      \builtin typeset -g __ssoenv_dir=$found
      __ssoenv_apply --auto --from-dir "$found" && \builtin typeset -g __ssoenv_dir_profile=${SSOENV_PROFILE-}
    fi
  elif [[ -n ${__ssoenv_dir-} ]]; then
    \builtin typeset -g __ssoenv_dir=''
    if [[ -n ${SSOENV_PROFILE-} && ${SSOENV_PROFILE-} == "${__ssoenv_dir_profile-}" &&
      ${SSOENV_PROFILE-} != "${__ssoenv_before-}" ]]; then
      if [[ -n ${__ssoenv_before-} ]]; then
        __ssoenv_apply --auto -- "$__ssoenv_before" || __ssoenv_apply --unset
      else
        __ssoenv_apply --unset
      fi
    fi
    \builtin typeset -g __ssoenv_dir_profile='' __ssoenv_before=''
  fi
  \builtin return 0
}

# The fresh-prompt check, builtins only: the stamp is still the file its link `STAMP@ID`
# names (ssoenv links it while it names these credentials; a new stamp is a new file), and
# the clock is before the renewal time. Two stat(2), no read.
__ssoenv_precmd() {
  \builtin local s=$?
  if [[ -n ${SSOENV_PROFILE-} ]] && ! {
    [[ ${SSOENV_STAMP-} -ef ${SSOENV_STAMP-}@${SSOENV_ID-} ]] && (( EPOCHSECONDS < ${SSOENV_RENEW_AT:-0} ))
  }; then
    __ssoenv_check
  fi
  \builtin return s
}

__ssoenv_chpwd() {
  \builtin local s=$?
  __ssoenv_cd
  \builtin return s
}

__ssoenv_use() {
  \builtin emulate -L zsh
  if (( $# == 0 )); then
    \builtin print -r -u2 -- 'usage: ssoenv use PROFILE'
    \builtin return 2
  fi
  __ssoenv_apply "$@"
  \builtin local rc=$?
  # Login required: offer to sign in, then try again.
  if (( rc == 3 )) && [[ -t 0 && -t 2 ]]; then
    \builtin local answer=''
    \builtin print -n -u2 -- 'ssoenv: sign in now? [Y/n] '
    \builtin read -r answer || answer=n
    [[ $answer == [nN]* ]] && \builtin return 3
    \command ssoenv login "$1" && __ssoenv_apply "$@"
    rc=$?
  fi
  \builtin typeset -g __ssoenv_next=0
  \builtin return rc
}

ssoenv() {
  case ${1-} in
    use) \builtin shift; __ssoenv_use "$@" ;;
    clear) __ssoenv_apply --unset ;;
    # Applies at once: the directory is read again once it is trusted.
    allow) \command ssoenv "$@" && __ssoenv_cd again ;;
    # Tells doctor whether the prompt hook is still installed in this shell.
    doctor)
      if (( ${+precmd_functions} )) && (( ${precmd_functions[(Ie)__ssoenv_precmd]} )); then
        SSOENV_HOOK=1 \command ssoenv "$@"
      else
        SSOENV_HOOK=0 \command ssoenv "$@"
      fi
      ;;
    *) \command ssoenv "$@" ;;
  esac
}

# Completion: begin (`ssoenv completions zsh` prints this part)
# What `ssoenv complete` offers where the cursor is: subcommands, options and their values
# from the binary's command tree, and names from the config at TAB time (profiles,
# sso-sessions, account ids), one `VALUE<TAB>HELP` a line; no value holds a tab or a line
# break. The words go to it unquoted: ${(Q)…} removes quotes and expands nothing. compadd
# quotes each value for the command line; none is ever evaluated (nor split at `:`, as
# _describe would).
_ssoenv() {
  \builtin emulate -L zsh
  \builtin local line
  \builtin local -a values shown
  for line in ${(f)"$(\command ssoenv complete --current=${(Q)PREFIX} -- "${(@Q)words[2,CURRENT-1]}" 2>/dev/null)"}; do
    values+=("${line%%$'\t'*}")
    if [[ $line == *$'\t'?* ]]; then
      shown+=("${line%%$'\t'*}  -- ${line#*$'\t'}")
    else
      shown+=("${line%%$'\t'*}")
    fi
  done
  (( ${#values} )) || \builtin return 1
  \builtin compadd -l -d shown -a values
}
# compdef exists once compinit ran. A plugin loaded before compinit, in an interactive shell
# (the only kind that completes), registers at the first prompt after it: a precmd hook that
# keeps $? and removes itself once done.
if (( ${+functions[compdef]} )); then
  \compdef _ssoenv ssoenv
elif [[ -o interactive ]]; then
  __ssoenv_compdef() {
    \builtin local s=$?
    if (( ${+functions[compdef]} )); then
      \compdef _ssoenv ssoenv
      \add-zsh-hook -d precmd __ssoenv_compdef
    fi
    \builtin return s
  }
  \builtin autoload -Uz add-zsh-hook
  \add-zsh-hook precmd __ssoenv_compdef
fi
# Completion: end

# Which plugin is loaded, for `ssoenv doctor`.
\builtin export SSOENV_PLUGIN=zsh

# add-zsh-hook adds each function once, however often this file is sourced; precmd hooks
# keep the user's $? for the prompt.
\builtin autoload -Uz add-zsh-hook
\add-zsh-hook precmd __ssoenv_precmd
\add-zsh-hook chpwd __ssoenv_chpwd
# The directory the shell starts in counts as a cd.
if [[ -z ${__ssoenv_started-} ]]; then
  \builtin typeset -g __ssoenv_started=1
  __ssoenv_cd
fi
