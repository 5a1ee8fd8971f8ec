# shellcheck shell=bash
# ssoenv for direnv: `use ssoenv PROFILE` in an .envrc exports PROFILE's credentials while
# you are in that directory. Install it with install.sh (it goes to ~/.config/direnv/lib/),
# or put this line in ~/.config/direnv/direnvrc:
#   eval "$(ssoenv hook direnv)"
#
# direnv re-reads an .envrc only when a file it watches changes, so the profile's stamp file
# and the record of its background renewal are watched: a renewal by any shell's ssoenv hook
# or any `ssoenv PROFILE` run reloads the environment from the cache, with no network call.
# A reload never waits for the network while the cache holds credentials: when renewal is
# due, it starts in the background (`export --background`) and its new stamp reloads again.
# When renewal falls due with nobody else around, a background timer touches the stamp at
# that moment (or at the retry time after a failed renewal), so the next prompt reloads and
# renews. There is one timer per profile: a reload stops the previous one (and its sleep),
# and `ssoenv logout` stops it.
# shellcheck disable=SC2154 # SSOENV_* and AWS_* are set by the eval of ssoenv's output
use_ssoenv() {
  local profile=${1:-${AWS_PROFILE:-default}} out now wait pidfile pid
  local state='' code='' retry='' count='' msg=''
  if ! has ssoenv; then
    log_error "ssoenv: the ssoenv program is not on PATH"
    return 1
  fi
  # Nothing cached that is still valid (the first use, or after expiry): a plain export.
  out=$(ssoenv export --background --shell bash -- "$profile") || out=''
  if [[ -z $out ]] && ! out=$(ssoenv export --shell bash -- "$profile"); then
    log_error "ssoenv: no credentials for profile '$profile'"
    return 1
  fi
  eval "$out"
  watch_file "$SSOENV_STAMP" "$SSOENV_STAMP.renewal"
  log_status "ssoenv: profile '$profile' until $AWS_CREDENTIAL_EXPIRATION"
  if [[ -r $SSOENV_STAMP.renewal ]]; then
    read -r state _ code retry count msg <"$SSOENV_STAMP.renewal" || :
  fi
  [[ $retry =~ ^[0-9]+$ ]] || retry=0
  # A failure is told once, on the first of a row of failed renewals.
  if [[ $state == failed && $count == 1 ]]; then
    log_error "ssoenv: renewing the credentials of '$profile' failed (exit $code): $msg (retrying in the background)"
  fi

  pidfile="$SSOENV_STAMP.direnv-timer"
  if [[ -r $pidfile ]] && read -r pid <"$pidfile" && [[ $pid =~ ^[0-9]+$ ]]; then
    kill "$pid" 2>/dev/null || :
  fi
  rm -f "$pidfile"
  now=$(date +%s)
  wait=$((SSOENV_RENEW_AT - now))
  if ((wait <= 0)) && [[ $state == failed ]]; then
    wait=$((retry - now))
  fi
  if ((wait > 0)); then
    # Detached from direnv's pipes (fd 3 carries its result), so that direnv does not wait.
    # Stopped with TERM, it stops its sleep too.
    (
      trap 'kill "$sleeper" 2>/dev/null; exit 0' TERM
      sleep "$wait" &
      sleeper=$!
      wait "$sleeper" && touch -c "$SSOENV_STAMP"
      read -r pid <"$pidfile" && [[ $pid == "${BASHPID-}" ]] && rm -f "$pidfile"
    ) </dev/null >/dev/null 2>&1 3>&- 4>&- 5>&- &
    echo "$!" >"$pidfile"
  fi
}
