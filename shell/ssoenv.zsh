# ssoenv plugin for zsh. In ~/.zshrc:  eval "$(ssoenv hook zsh)"
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

zmodload -F zsh/datetime p:EPOCHSECONDS 2>/dev/null || zmodload zsh/datetime

# Runs `ssoenv export --shell zsh ARGS...` and applies its output only on success.
__ssoenv_apply() {
  emulate -L zsh
  local out rc
  out=$(command ssoenv export --shell zsh "$@")
  rc=$?
  if (( rc == 0 )); then
    eval "$out"
  fi
  return rc
}

# Dead credentials are removed, so that no tool runs with them.
__ssoenv_expire() {
  emulate -L zsh
  if [[ -n ${SSOENV_EXPIRATION-} ]] && (( EPOCHSECONDS >= SSOENV_EXPIRATION )); then
    print -r -u2 -- "ssoenv: the credentials of ${SSOENV_PROFILE-} expired and were removed"
    __ssoenv_apply --unset
  fi
}

__ssoenv_check() {
  emulate -L zsh
  # The stamp holds "EXPIRATION RENEW_AT ID" of the credentials exported last.
  local id='' rc _e _r
  if [[ -n ${SSOENV_STAMP-} && -r $SSOENV_STAMP ]]; then
    read -r _e _r id <"$SSOENV_STAMP" || :
  fi
  # Fresh, and no other shell renewed them: nothing to do.
  if [[ $id == "${SSOENV_ID-}" ]] && (( EPOCHSECONDS < ${SSOENV_RENEW_AT:-0} )); then
    return 0
  fi
  # After a failed renewal, wait a minute before the next try.
  if (( EPOCHSECONDS < ${__ssoenv_retry:-0} )); then
    __ssoenv_expire
    return 0
  fi
  # One line about a failure, once per set of credentials; later tries are quiet.
  if [[ ${__ssoenv_warned-} == "${SSOENV_ID-}" ]]; then
    __ssoenv_apply --auto "$SSOENV_PROFILE" 2>/dev/null
  else
    __ssoenv_apply --auto "$SSOENV_PROFILE"
  fi
  rc=$?
  if (( rc == 0 )); then
    typeset -g __ssoenv_retry=0
  else
    typeset -g __ssoenv_warned=${SSOENV_ID-}
    typeset -g __ssoenv_retry=$(( EPOCHSECONDS + 60 ))
    __ssoenv_expire
  fi
}

# A trusted .ssoenv in this directory or above selects its profile; leaving it clears it.
__ssoenv_cd() {
  emulate -L zsh
  local d=$PWD found=''
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
      typeset -g __ssoenv_dir=$found
      __ssoenv_apply --auto --from-dir "$found" && typeset -g __ssoenv_dir_profile=${SSOENV_PROFILE-}
    fi
  elif [[ -n ${__ssoenv_dir-} ]]; then
    typeset -g __ssoenv_dir=''
    if [[ -n ${SSOENV_PROFILE-} && ${SSOENV_PROFILE-} == "${__ssoenv_dir_profile-}" ]]; then
      __ssoenv_apply --unset
    fi
    typeset -g __ssoenv_dir_profile=''
  fi
  return 0
}

__ssoenv_precmd() {
  local s=$?
  if [[ -n ${SSOENV_PROFILE-} ]]; then
    __ssoenv_check
  fi
  return s
}

__ssoenv_chpwd() {
  local s=$?
  __ssoenv_cd
  return s
}

__ssoenv_use() {
  emulate -L zsh
  if (( $# == 0 )); then
    print -r -u2 -- 'usage: ssoenv use PROFILE'
    return 2
  fi
  __ssoenv_apply "$@"
  local rc=$?
  # Login required: offer to sign in, then try again.
  if (( rc == 3 )) && [[ -t 0 && -t 2 ]]; then
    local answer=''
    print -n -u2 -- 'ssoenv: sign in now? [Y/n] '
    read -r answer || answer=n
    [[ $answer == [nN]* ]] && return 3
    command ssoenv login "$1" && __ssoenv_apply "$@"
    rc=$?
  fi
  typeset -g __ssoenv_retry=0
  return rc
}

ssoenv() {
  case ${1-} in
    use) shift; __ssoenv_use "$@" ;;
    clear) __ssoenv_apply --unset ;;
    *) command ssoenv "$@" ;;
  esac
}

# Profile names complete after `use` and the commands that take a profile.
__ssoenv_complete() {
  local -a profiles
  profiles=(${(f)"$(command ssoenv list 2>/dev/null)"})
  if (( CURRENT == 2 )); then
    compadd -- use clear export list login logout status hook allow deny completions $profiles
  elif (( CURRENT == 3 )) && [[ ${words[2]} == (use|export|login|status) ]]; then
    compadd -- $profiles
  fi
}
if (( ${+functions[compdef]} )); then
  compdef __ssoenv_complete ssoenv
fi

# add-zsh-hook adds each function once, however often this file is sourced; precmd hooks
# keep the user's $? for the prompt.
autoload -Uz add-zsh-hook
add-zsh-hook precmd __ssoenv_precmd
add-zsh-hook chpwd __ssoenv_chpwd
# The directory the shell starts in counts as a cd.
if [[ -z ${__ssoenv_started-} ]]; then
  typeset -g __ssoenv_started=1
  __ssoenv_cd
fi
