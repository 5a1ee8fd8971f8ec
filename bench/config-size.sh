#!/usr/bin/env bash
# How ssoenv scales with the config file: a warm export, `list` (run on every TAB) and
# `status` with 10, 1,000, 3,000 and 10,000 profiles, each as a ratio to the 10-profile case
# in the same run; and the peak memory of `status` at 10,000. A benchmark, not a test.
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

json=${work}/r.json
for what in export list status; do
  cmds=()
  for n in "${sizes[@]}"; do
    case ${what} in
    export) args="p${mid[${n}]}" ;;
    list) args=list ;;
    status) args=status ;;
    *) exit 1 ;;
    esac
    cmds+=("env HOME=${work}/${n} AWS_ENDPOINT_URL_SSO=http://127.0.0.1:9 ${bin} ${args}")
  done
  # `env` sets each case's HOME without a shell; its own exec is the same in every case.
  hyperfine -N --warmup 5 --runs 40 --export-json "${json}" "${cmds[@]}" >/dev/null 2>&1
  python3 - "${json}" "${what}" "${sizes[@]}" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))["results"]
what, sizes = sys.argv[2], sys.argv[3:]
base = r[0]["median"]
cells = [f"{n:>6} profiles {x['median']*1e3:7.2f} ms ({x['median']/base:4.1f}x)" for n, x in zip(sizes, r)]
print(f"{what:<7}" + " | ".join(cells))
PY
done

if [[ -x /usr/bin/time ]]; then
  kib=$({ HOME=${work}/10000 /usr/bin/time -f %M "${bin}" status >/dev/null; } 2>&1 | tail -1)
  echo "status at 10000 profiles: peak memory $((kib / 1024)) MiB"
fi
