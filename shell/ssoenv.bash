# ssoenv plugin for bash (3.2 and newer). In ~/.bashrc:  eval "$(ssoenv hook bash)"
#
#   ssoenv use PROFILE   export PROFILE's credentials into this shell
#   ssoenv clear         remove everything ssoenv set
#   ssoenv ...           any other subcommand runs the binary
#
# On each prompt it renews the credentials before they expire (SSOENV_REFRESH_MARGIN seconds,
# default 600) and picks up credentials another shell renewed. While they are fresh, the
# check uses builtins only (the clock, the stamp compared with its link by `-ef`): no process
# is started. A renewal never holds up the prompt: it runs in the background, and a later
# prompt takes its credentials (a failure is reported once, retried with backoff, and the
# credentials are removed when they expire). A `.ssoenv` file naming a profile is honoured on
# cd once `ssoenv allow` trusted it. Sourcing this file twice changes nothing.

# The clock, from builtins, as an arithmetic expression __ssoenv_clock that the prompt
# evaluates without a function call: bash 5 has EPOCHSECONDS. bash 4.2 has printf %()T, a
# command: with __ssoenv_tick set the prompt first runs __ssoenv_now. bash 3.2 counts SECONDS
# from one `date` at load.
__ssoenv_tick=''
if [[ -n ${EPOCHSECONDS-} ]]; then
  __ssoenv_clock=EPOCHSECONDS
elif \builtin printf -v __ssoenv_t '%(%s)T' -1 2>/dev/null; then
  __ssoenv_clock=__ssoenv_t __ssoenv_tick=1
else
  __ssoenv_t0=$(\command date +%s)
  __ssoenv_s0=$SECONDS
  __ssoenv_clock='__ssoenv_t0 + SECONDS - __ssoenv_s0'
fi
__ssoenv_now() {
  if [[ -n ${__ssoenv_tick-} ]]; then
    \builtin printf -v __ssoenv_t '%(%s)T' -1
  else
    __ssoenv_t=$((__ssoenv_clock))
  fi
}

# Runs `ssoenv export --shell bash ARGS...` and applies its output only on success. Ctrl-C
# cannot stop the statements half-way (some variables set, others not): SIGINT is ignored
# while they run, then the shell's own INT trap, if any, is put back (`trap -p` in a command
# substitution lists the shell's traps).
__ssoenv_apply() {
  \builtin local __ssoenv_out __ssoenv_rc __ssoenv_int
  __ssoenv_out=$(\command ssoenv export --shell bash "$@")
  __ssoenv_rc=$?
  if [[ $__ssoenv_rc -eq 0 ]]; then
    __ssoenv_int=$(\builtin trap -p INT)
    \builtin trap -- '' INT
    \builtin eval "$__ssoenv_out"
    \builtin trap - INT
    \builtin eval "$__ssoenv_int"
  fi
  return "$__ssoenv_rc"
}

# Dead credentials are removed, so that no tool runs with them, saying what gets new ones.
__ssoenv_expire() {
  if [[ -n ${SSOENV_EXPIRATION-} ]] && ((__ssoenv_t >= SSOENV_EXPIRATION)); then
    \builtin local p
    \builtin printf -v p '%q' "${SSOENV_PROFILE-}"
    if [[ ${__ssoenv_code-} == 3 ]]; then
      \builtin printf 'ssoenv: the credentials of %s expired and were removed; to sign in and get new ones, run: ssoenv login %s && ssoenv use %s\n' "$p" "$p" "$p" >&2
    else
      \builtin printf 'ssoenv: the credentials of %s expired and were removed; to get new ones, run: ssoenv use %s\n' "$p" "$p" >&2
    fi
    __ssoenv_apply --unset
  fi
}

# Past the fresh-prompt check (in __ssoenv_prompt): the stamp is read. It holds "EXPIRATION
# RENEW_AT ID" of the credentials exported last.
__ssoenv_check() {
  \builtin local renew_at='' id=''
  __ssoenv_now
  if [[ -n ${SSOENV_STAMP-} && -r $SSOENV_STAMP ]]; then
    \builtin read -r _ renew_at id <"$SSOENV_STAMP" || :
  fi
  # Fresh, and no other shell renewed them (a stamp without its link): nothing to do.
  if [[ $id == "${SSOENV_ID-}" ]] && ((__ssoenv_t < ${SSOENV_RENEW_AT:-0})); then
    return 0
  fi
  __ssoenv_renew "$renew_at" "$id"
}

# Past the renewal point, or the stamp names other credentials. Nothing here waits for the
# network: `export --background` starts the renewal as a detached process and returns at
# once. Beside the stamp, its record says "running ..." or "failed SINCE CODE RETRY_AT COUNT
# MESSAGE"; a renewal that succeeded shows as a new stamp, taken at the next prompt.
__ssoenv_renew() {
  \builtin local renew_at=$1 id=$2 state='' since='' code='' retry='' msg=''
  case $renew_at in
  '' | *[!0-9]*) renew_at=0 ;;
  *) ;;
  esac
  # Newer credentials in the cache (a renewal, or another shell's export): taken from there
  # by a local export that never asks the network.
  if [[ -n $id && $id != "${SSOENV_ID-}" ]] && ((__ssoenv_t < renew_at)); then
    __ssoenv_apply --background -- "$SSOENV_PROFILE" 2>/dev/null
    [[ ${SSOENV_ID-} == "$id" ]] && return 0
  fi
  if [[ -r $SSOENV_STAMP.renewal ]]; then
    \builtin read -r state since code retry _ msg <"$SSOENV_STAMP.renewal" || :
  fi
  case $since$retry in
  *[!0-9]*) since=0 retry=0 ;;
  *) ;;
  esac
  case $state in
  running)
    # One renewal at a time; a record older than two minutes is left over from a killed one.
    if ((__ssoenv_t < ${since:-0} + 120)); then
      __ssoenv_expire
      return 0
    fi
    ;;
  failed)
    if [[ $since != "${__ssoenv_seen-}" ]]; then
      # The record says when to retry, not the guard against starting twice.
      __ssoenv_seen=$since __ssoenv_code=$code __ssoenv_next=0
      # One line about a failure of these credentials' renewal, once; retries are quiet.
      if [[ ${__ssoenv_warned-} != "${SSOENV_ID-}" ]] &&
        ((since >= ${SSOENV_RENEW_AT:-0} || since >= ${__ssoenv_launched:-since + 1})); then
        __ssoenv_warned=${SSOENV_ID-}
        \builtin printf 'ssoenv: renewing the credentials of %s failed: %s (retrying in the background)\n' "${SSOENV_PROFILE-}" "$msg" >&2
      fi
    fi
    if ((__ssoenv_t < ${retry:-0})); then
      __ssoenv_expire
      return 0
    fi
    ;;
  *) ;;
  esac
  if ((__ssoenv_t < ${__ssoenv_next:-0})); then
    __ssoenv_expire
    return 0
  fi
  __ssoenv_launched=$__ssoenv_t __ssoenv_next=$((__ssoenv_t + 30))
  \command ssoenv export --background -- "$SSOENV_PROFILE" </dev/null >/dev/null 2>&1
  __ssoenv_expire
}

# A trusted .ssoenv in this directory or above selects its profile. Leaving it gives back the
# profile chosen by hand before entering (or none), unless another was chosen inside. With
# an argument (after `ssoenv allow`) the directory's file is read again.
__ssoenv_cd() {
  __ssoenv_pwd=$PWD
  \builtin local d="$PWD" found=''
  while :; do
    if [[ -f $d/.ssoenv ]]; then
      found=${d:-/}
      break
    fi
    [[ -z $d ]] && break
    d=${d%/*}
  done
  if [[ -n $found ]]; then
    if [[ $found != "${__ssoenv_dir-}" || $# -gt 0 ]]; then
      [[ -z ${__ssoenv_dir-} ]] && __ssoenv_before=${SSOENV_PROFILE-}
      __ssoenv_dir=$found
      __ssoenv_apply --auto --from-dir "$found" && __ssoenv_dir_profile=${SSOENV_PROFILE-}
    fi
  elif [[ -n ${__ssoenv_dir-} ]]; then
    __ssoenv_dir=''
    if [[ -n ${SSOENV_PROFILE-} && ${SSOENV_PROFILE-} == "${__ssoenv_dir_profile-}" &&
      ${SSOENV_PROFILE-} != "${__ssoenv_before-}" ]]; then
      if [[ -n ${__ssoenv_before-} ]]; then
        __ssoenv_apply --auto -- "$__ssoenv_before" || __ssoenv_apply --unset
      else
        __ssoenv_apply --unset
      fi
    fi
    __ssoenv_dir_profile='' __ssoenv_before=''
  fi
}

__ssoenv_prompt() {
  \builtin local __ssoenv_status=$?
  if [[ $PWD != "${__ssoenv_pwd-}" ]]; then
    __ssoenv_cd
  fi
  # The fresh-prompt check, builtins only and (bash 3.2, 5) no function call: the stamp is
  # still the file its link `STAMP@ID` names (ssoenv links it while it names these
  # credentials; a new stamp is a new file), and the clock is before the renewal time. Two
  # stat(2), no read.
  if [[ -n ${SSOENV_PROFILE-} ]] && ! {
    [[ ${SSOENV_STAMP-} -ef ${SSOENV_STAMP-}@${SSOENV_ID-} ]] &&
      { [[ -z ${__ssoenv_tick-} ]] || __ssoenv_now; } && ((__ssoenv_clock < ${SSOENV_RENEW_AT:-0}))
  }; then
    __ssoenv_check
  fi
  return "$__ssoenv_status"
}

__ssoenv_use() {
  if [[ $# -eq 0 ]]; then
    \builtin printf 'usage: ssoenv use PROFILE\n' >&2
    return 2
  fi
  __ssoenv_apply "$@"
  \builtin local rc=$?
  # Login required: offer to sign in, then try again.
  if [[ $rc -eq 3 && -t 0 && -t 2 ]]; then
    \builtin local answer=''
    \builtin printf 'ssoenv: sign in now? [Y/n] ' >&2
    \builtin read -r answer || answer=n
    case $answer in
    [nN]*) return 3 ;;
    *) ;;
    esac
    \command ssoenv login "$1" && __ssoenv_apply "$@"
    rc=$?
  fi
  __ssoenv_next=0
  return "$rc"
}

ssoenv() {
  case ${1-} in
  use)
    shift
    __ssoenv_use "$@"
    ;;
  clear)
    __ssoenv_apply --unset
    ;;
  allow)
    # Applies at once: the directory is read again once it is trusted.
    \command ssoenv "$@" && __ssoenv_cd again
    ;;
  doctor)
    # Tells doctor whether the prompt hook is still installed in this shell.
    case " ${PROMPT_COMMAND[*]-} " in
    *__ssoenv_prompt*) SSOENV_HOOK=1 \command ssoenv "$@" ;;
    *) SSOENV_HOOK=0 \command ssoenv "$@" ;;
    esac
    ;;
  *)
    \command ssoenv "$@"
    ;;
  esac
}

# Completion: begin (`ssoenv completions bash` prints this part)
# The words of a command line as typed so far, as the shell will read them, in the array
# __ssoenv_w (the last one is the word under completion), and the quote still open at the
# end (' or " or nothing) in __ssoenv_q. Quotes and backslashes are removed as the shell
# would. COMP_WORDS is no substitute: it also splits at : and =, even inside quotes. A last
# word holding `$` or a backtick fails (status 1): its value is known only by running it,
# and completion never runs anything.
__ssoenv_words() {
  \builtin local s="$1" c v='' i=0 bad=0
  __ssoenv_w=() __ssoenv_q=''
  while ((i < ${#s})); do
    c=${s:i:1}
    i=$((i + 1))
    case $__ssoenv_q in
    "'")
      if [[ $c == "'" ]]; then __ssoenv_q=''; else v+=$c; fi
      ;;
    '"')
      case $c in
      '"') __ssoenv_q='' ;;
      '$' | '`') bad=1 ;;
      \\)
        # Inside "…" a backslash escapes only $ ` " \ (bash manual, Double Quotes).
        case ${s:i:1} in
        '$' | '`' | '"' | \\)
          v+=${s:i:1}
          i=$((i + 1))
          ;;
        *) v+=$c ;;
        esac
        ;;
      *) v+=$c ;;
      esac
      ;;
    *)
      case $c in
      "'" | '"') __ssoenv_q=$c ;;
      '$' | '`') bad=1 ;;
      \\)
        v+=${s:i:1}
        i=$((i + 1))
        ;;
      ' ' | $'\t' | '<' | '>')
        [[ -n $v ]] && __ssoenv_w+=("$v")
        v=''
        bad=0
        ;;
      ';' | '&' | '|' | '(' | ')')
        __ssoenv_w=()
        v=''
        bad=0
        ;;
      *) v+=$c ;;
      esac
      ;;
    esac
  done
  __ssoenv_w+=("$v")
  return "$bad"
}

# COMPREPLY gets what `ssoenv complete` offers for the word being completed ($1: readline's
# word, a completion function's $2): subcommands, options and their values from the binary's
# command tree, and names from the config at TAB time (profiles, sso-sessions, account ids).
# Each is written so that the completed command line holds exactly that value as one word.
# Readline puts a reply in place of its word as it is, after any quote opened just before
# that word, and closes that quote: a reply is the rest of the value, quoted for what is open
# there. `ssoenv complete` prints one `VALUE<TAB>HELP` a line, and no value holds a tab or a
# line break, so a line is a value. Values are data: compared and quoted here, never
# expanded, globbed or evaluated (`compgen -W` would expand them). Bytes, not characters
# (LC_ALL=C): COMP_POINT counts bytes.
__ssoenv_complete_words() {
  \builtin local LC_ALL=C
  \builtin local line="${COMP_LINE:0:COMP_POINT}" word="${1-}" name rest want have open common plain=1
  \builtin local -a rests before
  rests=()
  [[ $line == *"$word" ]] || return 0
  __ssoenv_words "$line" || return 0
  want=${__ssoenv_w[${#__ssoenv_w[@]} - 1]}
  # The words between `ssoenv` and the one under the cursor.
  ((${#__ssoenv_w[@]} >= 2)) || return 0
  before=("${__ssoenv_w[@]:1:${#__ssoenv_w[@]}-2}")
  __ssoenv_words "${line:0:${#line}-${#word}}" || return 0
  have=${__ssoenv_w[${#__ssoenv_w[@]} - 1]}
  open=$__ssoenv_q
  # shellcheck disable=SC2312 # a failing `ssoenv complete` offers nothing, nothing more
  while IFS= \builtin read -r name; do
    name=${name%%$'\t'*}
    [[ -n $name && $name == "$want"* ]] || continue
    rest=${name:${#have}}
    rests+=("$rest")
    [[ -n $rest && $rest != *[!A-Za-z0-9_./+,@%-]* ]] || plain=0
  done <<<"$(\command ssoenv complete --current="$want" -- ${before[@]+"${before[@]}"} 2>/dev/null)"
  # Readline inserts the common start of several replies: outside quotes, when the values
  # have one, they are all quoted alike when one is, so that common start is itself
  # well-formed ('…' with ' as '\''). Without one, only the values that need it are quoted:
  # no lone ' is inserted.
  common=${rests[0]-}
  for name in ${rests[@]+"${rests[@]}"}; do
    while [[ $name != "$common"* ]]; do common=${common%?}; done
  done
  for name in ${rests[@]+"${rests[@]}"}; do
    case $open in
    "'") name=${name//\'/\'\\\'\'} ;;
    '"')
      if [[ $name == *'!'* ]]; then
        # History expansion sees `!` inside "…": close the quotes around a '…' part.
        name="\"'${name//\'/\'\\\'\'}'\""
      else
        name=${name//\\/\\\\}
        name=${name//\"/\\\"}
        name=${name//\$/\\\$}
        name=${name//\`/\\\`}
      fi
      ;;
    *)
      if ((!plain)) && [[ -n $common || -z $name || $name == *[!A-Za-z0-9_./+,@%-]* ]]; then
        name="'${name//\'/\'\\\'\'}'"
      fi
      ;;
    esac
    COMPREPLY+=("$name")
  done
}

__ssoenv_complete() {
  COMPREPLY=()
  __ssoenv_complete_words "${2-}"
}
# Nothing offered (`ssoenv allow DIR`): file names, as readline would.
\builtin complete -F __ssoenv_complete -o bashdefault -o default ssoenv
# Completion: end

# Which plugin is loaded, for `ssoenv doctor`.
export SSOENV_PLUGIN=bash

# Install the prompt hook once, first, so it sees the user's $? and hands it on. Bash 5.1
# also accepts PROMPT_COMMAND as an array.
if [[ $(\builtin declare -p PROMPT_COMMAND 2>/dev/null) == "declare -a"* ]]; then
  case " ${PROMPT_COMMAND[*]} " in
  *" __ssoenv_prompt "*) ;;
  *) PROMPT_COMMAND=(__ssoenv_prompt "${PROMPT_COMMAND[@]}") ;;
  esac
else
  # shellcheck disable=SC2128,SC2178 # this branch handles the string form of PROMPT_COMMAND
  case ";${PROMPT_COMMAND-};" in
  *";__ssoenv_prompt;"*) ;;
  *) PROMPT_COMMAND="__ssoenv_prompt${PROMPT_COMMAND:+;$PROMPT_COMMAND}" ;;
  esac
fi
