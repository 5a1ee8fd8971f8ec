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
# the check uses builtins only (EPOCHSECONDS from zsh/datetime, `read` of the stamp): no
# process is started. A `.ssoenv` file naming a profile is honoured on cd once `ssoenv allow`
# trusted it. Sourcing this file twice changes nothing.

\builtin zmodload -F zsh/datetime p:EPOCHSECONDS 2>/dev/null || \builtin zmodload zsh/datetime

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

# Dead credentials are removed, so that no tool runs with them.
__ssoenv_expire() {
  \builtin emulate -L zsh
  if [[ -n ${SSOENV_EXPIRATION-} ]] && (( EPOCHSECONDS >= SSOENV_EXPIRATION )); then
    \builtin print -r -u2 -- "ssoenv: the credentials of ${SSOENV_PROFILE-} expired and were removed"
    __ssoenv_apply --unset
  fi
}

__ssoenv_check() {
  \builtin emulate -L zsh
  # The stamp holds "EXPIRATION RENEW_AT ID" of the credentials exported last.
  \builtin local id='' rc _e _r
  if [[ -n ${SSOENV_STAMP-} && -r $SSOENV_STAMP ]]; then
    \builtin read -r _e _r id <"$SSOENV_STAMP" || :
  fi
  # Fresh, and no other shell renewed them: nothing to do.
  if [[ $id == "${SSOENV_ID-}" ]] && (( EPOCHSECONDS < ${SSOENV_RENEW_AT:-0} )); then
    \builtin return 0
  fi
  # After a failed renewal, wait a minute before the next try.
  if (( EPOCHSECONDS < ${__ssoenv_retry:-0} )); then
    __ssoenv_expire
    \builtin return 0
  fi
  # One line about a failure, once per set of credentials; later tries are quiet.
  if [[ ${__ssoenv_warned-} == "${SSOENV_ID-}" ]]; then
    __ssoenv_apply --auto -- "$SSOENV_PROFILE" 2>/dev/null
  else
    __ssoenv_apply --auto -- "$SSOENV_PROFILE"
  fi
  rc=$?
  if (( rc == 0 )); then
    \builtin typeset -g __ssoenv_retry=0
  else
    \builtin typeset -g __ssoenv_warned=${SSOENV_ID-}
    \builtin typeset -g __ssoenv_retry=$(( EPOCHSECONDS + 60 ))
    __ssoenv_expire
  fi
}

# A trusted .ssoenv in this directory or above selects its profile; leaving it clears it.
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
    if [[ $found != "${__ssoenv_dir-}" ]]; then
      \builtin typeset -g __ssoenv_dir=$found
      __ssoenv_apply --auto --from-dir "$found" && \builtin typeset -g __ssoenv_dir_profile=${SSOENV_PROFILE-}
    fi
  elif [[ -n ${__ssoenv_dir-} ]]; then
    \builtin typeset -g __ssoenv_dir=''
    if [[ -n ${SSOENV_PROFILE-} && ${SSOENV_PROFILE-} == "${__ssoenv_dir_profile-}" ]]; then
      __ssoenv_apply --unset
    fi
    \builtin typeset -g __ssoenv_dir_profile=''
  fi
  \builtin return 0
}

__ssoenv_precmd() {
  \builtin local s=$?
  if [[ -n ${SSOENV_PROFILE-} ]]; then
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
  \builtin typeset -g __ssoenv_retry=0
  \builtin return rc
}

ssoenv() {
  case ${1-} in
    use) \builtin shift; __ssoenv_use "$@" ;;
    clear) __ssoenv_apply --unset ;;
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
