# shellcheck shell=bash
# ssoenv for direnv: `use ssoenv PROFILE` in an .envrc exports PROFILE's credentials while
# you are in that directory. Install it with install.sh (it goes to ~/.config/direnv/lib/),
# or put this line in ~/.config/direnv/direnvrc:
#   eval "$(ssoenv hook direnv)"
#
# direnv re-reads an .envrc only when a file it watches changes, so the profile's stamp file
# is watched: a renewal by any shell's ssoenv hook or any `ssoenv PROFILE` run reloads the
# environment from the cache, with no network call. And when renewal falls due with nobody
# else around, a background `sleep` touches the stamp at that moment, so the next prompt
# reloads and renews. It is one per profile: a reload replaces it.
# shellcheck disable=SC2154 # SSOENV_* and AWS_* are set by the eval of ssoenv's output
use_ssoenv() {
  local profile=${1:-${AWS_PROFILE:-default}} out wait pidfile pid
  if ! has ssoenv; then
    log_error "ssoenv: the ssoenv program is not on PATH"
    return 1
  fi
  if ! out=$(ssoenv export --shell bash -- "$profile"); then
    log_error "ssoenv: no credentials for profile '$profile'"
    return 1
  fi
  eval "$out"
  watch_file "$SSOENV_STAMP"
  log_status "ssoenv: profile '$profile' until $AWS_CREDENTIAL_EXPIRATION"

  pidfile="$SSOENV_STAMP.direnv-timer"
  if [[ -r $pidfile ]] && read -r pid <"$pidfile" && [[ $pid =~ ^[0-9]+$ ]]; then
    kill "$pid" 2>/dev/null || :
  fi
  wait=$((SSOENV_RENEW_AT - $(date +%s)))
  if ((wait > 0)); then
    # Detached from direnv's pipes (fd 3 carries its result), so that direnv does not wait.
    (sleep "$wait" && touch -c "$SSOENV_STAMP") </dev/null >/dev/null 2>&1 3>&- 4>&- 5>&- &
    echo "$!" >"$pidfile"
  fi
}
