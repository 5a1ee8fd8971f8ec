# shellcheck shell=bash
# ssoenv for direnv: `use ssoenv PROFILE` in an .envrc exports PROFILE's credentials while
# you are in that directory. Install it with install.sh (it goes to ~/.config/direnv/lib/),
# or put this line in ~/.config/direnv/direnvrc:
#   eval "$(ssoenv hook direnv)"
#
# The stamp file of the profile is watched: whenever the credentials are renewed (by the
# ssoenv hook of any shell, or any `ssoenv PROFILE` run), direnv reloads and picks them up
# from the cache, with no network call.
use_ssoenv() {
  local profile=${1:-${AWS_PROFILE:-default}} out
  if ! has ssoenv; then
    log_error "ssoenv: the ssoenv program is not on PATH"
    return 1
  fi
  if ! out=$(ssoenv export --shell bash "$profile"); then
    log_error "ssoenv: no credentials for profile '$profile'"
    return 1
  fi
  eval "$out"
  watch_file "$SSOENV_STAMP"
  log_status "ssoenv: profile '$profile' until $AWS_CREDENTIAL_EXPIRATION"
}
