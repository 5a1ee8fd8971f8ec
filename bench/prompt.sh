#!/usr/bin/env bash
# Times the plugins' fresh-prompt check (credentials current, nothing to do: the case of
# almost every prompt) inside each shell: N calls of the prompt hook, minus N turns of an
# empty loop, in microseconds per prompt, with each shell's ratio to bash. The shells take
# turns for ROUNDS rounds; each shell's best round is its figure (what other work on the
# machine did not slow down), its median round beside it. A benchmark, not a test.
#   bench/prompt.sh [N [PLUGIN_DIR [ROUNDS]]]   N calls (default 2000) of the plugins in
#                                               PLUGIN_DIR (default: this checkout's shell/),
#                                               ROUNDS rounds (default 5)
# Needs GNU date (%N), bash, zsh and fish; nushell when `nu` is on PATH. PowerShell is not
# timed. No ssoenv runs: the one on PATH here fails loudly if a fresh prompt starts it.
set -euo pipefail
cd "$(dirname "$0")/.."
n=${1:-2000}
plugins=$(cd "${2:-shell}" && pwd)
rounds=${3:-5}

home=$(mktemp -d)
trap 'rm -rf "$home"' EXIT
mkdir -p "$home/bin"
printf '#!/bin/sh\necho "bench: the fresh-prompt check started ssoenv" >&2\nexit 1\n' >"$home/bin/ssoenv"
chmod +x "$home/bin/ssoenv"
now=$(date +%s)
id=0123456789abcdef
printf '%s %s %s\n' $((now + 3600)) $((now + 3000)) "$id" >"$home/stamp"
# The stamp's link, as ssoenv makes it (plugins without the link's check ignore it).
ln "$home/stamp" "$home/stamp@$id"
export HOME=$home PATH=$home/bin:$PATH LC_ALL=C
export SSOENV_PROFILE=dev SSOENV_ID=$id SSOENV_STAMP=$home/stamp
export SSOENV_EXPIRATION=$((now + 3600)) SSOENV_RENEW_AT=$((now + 3000))
cd "$home"

# Each shell prints three clock readings in nanoseconds: before the empty loop, between the
# loops, after the loop of prompt hooks (called once before, so that loading is not timed).
# shellcheck disable=SC2016 # the scripts are for the shells started here, not for this one
bash_script='source "$1/ssoenv.bash"; __ssoenv_prompt
a=$(date +%s%N); for ((i = 0; i < $2; i++)); do :; done
b=$(date +%s%N); for ((i = 0; i < $2; i++)); do __ssoenv_prompt; done
c=$(date +%s%N); echo "$a $b $c"'
# shellcheck disable=SC2016
zsh_script='source "$1/ssoenv.zsh"; __ssoenv_precmd
a=$(date +%s%N); for ((i = 0; i < $2; i++)); do :; done
b=$(date +%s%N); for ((i = 0; i < $2; i++)); do __ssoenv_precmd; done
c=$(date +%s%N); echo "$a $b $c"'
# shellcheck disable=SC2016
fish_script='source $argv[1]/fish/functions/ssoenv.fish; source $argv[1]/fish/conf.d/ssoenv.fish
__ssoenv_prompt
set -l turns (seq $argv[2])
set -l a (date +%s%N); for i in $turns; end
set -l b (date +%s%N); for i in $turns; __ssoenv_prompt; end
set -l c (date +%s%N); echo $a $b $c'

# One round of one shell: microseconds per prompt.
round() {
  local sh=$1 out a b c
  case $sh in
  bash) out=$(bash --norc --noprofile -c "$bash_script" bash "$plugins" "$n") ;;
  zsh) out=$(zsh -f -c "$zsh_script" zsh "$plugins" "$n") ;;
  fish) out=$(fish --no-config -c "$fish_script" "$plugins" "$n") ;;
  nu)
    # nushell: `source` takes a path known when parsing; the script is written out first.
    printf '%s\n' "source '$plugins/ssoenv.nu'" \
      "let a = (timeit { for i in 1..$n { } })" \
      "let b = (timeit { for i in 1..$n { __ssoenv_check } })" \
      "print \$'0 (\$a / 1ns | into int) (\$a / 1ns + \$b / 1ns | into int)'" >"$home/bench.nu"
    out=$(nu --no-config-file "$home/bench.nu")
    ;;
  *) ;;
  esac
  read -r a b c <<<"$out"
  awk -v a="$a" -v b="$b" -v c="$c" -v n="$n" 'BEGIN { printf "%.1f\n", ((c - b) - (b - a)) / n / 1000 }'
}

declare -A all=() us=() median=()
shells=(bash zsh fish)
command -v nu >/dev/null 2>&1 && shells+=(nu)
for ((r = 0; r < rounds; r++)); do
  for sh in "${shells[@]}"; do
    all[$sh]+="$(round "$sh") "
  done
done
# The best and the median round of a list of figures.
best_median() {
  awk -v s="$1" 'BEGIN {
    n = split(s, v, " ")
    for (i = 2; i <= n; i++) for (j = i; j > 1 && v[j] + 0 < v[j - 1] + 0; j--) { t = v[j]; v[j] = v[j - 1]; v[j - 1] = t }
    print v[1], v[int((n + 1) / 2)]
  }'
}
for sh in "${shells[@]}"; do
  figures=$(best_median "${all[$sh]}")
  read -r best mid <<<"$figures"
  us[$sh]=$best median[$sh]=$mid
done

printf '%-6s %12s %10s %10s\n' shell 'us/prompt' 'vs bash' 'median'
for sh in "${shells[@]}"; do
  ratio=$(awk -v x="${us[$sh]}" -v y="${us[bash]}" 'BEGIN { printf "%.2f", x / y }')
  printf '%-6s %12s %9sx %10s\n' "$sh" "${us[$sh]}" "$ratio" "${median[$sh]}"
done
