#!/usr/bin/env bash
# How ssoenv scales with the config file: a warm export, `list`, TAB completion of a profile
# (`complete`) and `status` with 10, 1,000, 3,000 and 10,000 profiles, each as a ratio to the
# 10-profile case (the median of ratios paired in rounds); and the peak memory of `status` at
# 10,000. A benchmark, not a test.
#   bench/config-size.sh [path/to/ssoenv]   (default: builds and uses target/release/ssoenv)
set -euo pipefail
cd "$(dirname "$0")/.."
command -v hyperfine >/dev/null || {
  echo "bench: needs hyperfine (apt-get install hyperfine)" >&2
  exit 1
}

bin=${1:-}
if [[ -z ${bin} ]]; then
  cargo build --release --quiet
  bin=${PWD}/target/release/ssoenv
fi

work=$(mktemp -d)
trap 'rm -rf "${work}"' EXIT
exp=$(date -u -d '+6 hours' +%Y-%m-%dT%H:%M:%SZ 2>/dev/null || date -u -v+6H +%Y-%m-%dT%H:%M:%SZ)

# A home with N profiles of one session, as `configure populate` writes them, and the
# credentials of the middle one cached.
make_home() {
  local n=$1 home=${work}/$1
  mkdir -p "${home}/.aws/cli/cache"
  {
    printf '[sso-session corp]\nsso_start_url = https://corp.awsapps.com/start\nsso_region = us-east-1\n'
    for ((i = 0; i < n; i++)); do
      printf '\n[profile p%d]\nsso_session = corp\nsso_account_id = %012d\nsso_role_name = ReadOnly\nregion = eu-west-1\nssoenv_generated = corp\n' "${i}" "${i}"
    done
  } >"${home}/.aws/config"
  local mid=$((n / 2))
  local key
  key=$(printf '{"accountId":"%012d","roleName":"ReadOnly","sessionName":"corp"}' "${mid}" | sha1sum | cut -d' ' -f1)
  printf '{"ProviderType":"sso","Credentials":{"AccessKeyId":"ASIABENCH","SecretAccessKey":"s","SessionToken":"t","Expiration":"%s","AccountId":"%012d"}}' "${exp}" "${mid}" \
    >"${home}/.aws/cli/cache/${key}.json"
  echo "${mid}"
}

sizes=(10 1000 3000 10000)
declare -A mid
for n in "${sizes[@]}"; do
  mid[${n}]=$(make_home "${n}")
done
# A config file is indexed once it has been left alone for 2 s (an edit within the same tick
# of the file system's clock could not be told apart before that): the warm state is after.
sleep 3
for n in "${sizes[@]}"; do
  HOME=${work}/${n} "${bin}" "p${mid[${n}]}" >/dev/null
done

# Each size is timed by its own hyperfine with HOME set in its environment, so the clock
# sees ssoenv alone (no `env` in between). The sizes take turns over several rounds, and each
# ratio is the median over the rounds of the ratio within a round: a burst of load on this
# shared machine moves one round, not the figure.
rounds=5
for what in export list complete status; do
  for ((r = 0; r < rounds; r++)); do
    for n in "${sizes[@]}"; do
      case ${what} in
      export) args="p${mid[${n}]}" ;;
      list) args=list ;;
      # What a TAB after `ssoenv ` asks: subcommands and every profile with its role.
      complete) args="complete --current p --" ;;
      status) args=status ;;
      *) exit 1 ;;
      esac
      HOME=${work}/${n} AWS_ENDPOINT_URL_SSO=http://127.0.0.1:9 \
        hyperfine -N --warmup 3 --runs 20 --export-json "${work}/${what}.${r}.${n}.json" \
        "${bin} ${args}" >/dev/null 2>&1
    done
  done
  python3 - "${work}" "${what}" "${rounds}" "${sizes[@]}" <<'PY'
import json, statistics, sys
work, what, rounds, sizes = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4:]
med = {n: [json.load(open(f"{work}/{what}.{r}.{n}.json"))["results"][0]["median"] for r in range(rounds)] for n in sizes}
cells = []
for n in sizes:
    t = statistics.median(med[n])
    ratio = statistics.median(med[n][r] / med[sizes[0]][r] for r in range(rounds))
    cells.append(f"{n:>6} profiles {t*1e3:7.2f} ms ({ratio:4.1f}x)")
print(f"{what:<7}" + " | ".join(cells))
PY
done

if [[ -x /usr/bin/time ]]; then
  kib=$({ HOME=${work}/10000 /usr/bin/time -f %M "${bin}" status >/dev/null; } 2>&1 | tail -1)
  # To a tenth: whole MiB rounded down would hide most of a MiB next to a goal of 16.
  mib=$(awk -v k="${kib}" 'BEGIN { printf "%.1f", k / 1024 }')
  echo "status at 10000 profiles: peak memory ${mib} MiB"
fi
