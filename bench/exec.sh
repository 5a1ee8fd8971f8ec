#!/usr/bin/env bash
# What `ssoenv exec` adds over running the command directly, and what one credential request
# to `ssoenv serve`'s endpoint costs once it holds the credentials in memory (curl's own
# start-up measured beside it and taken off). Credentials cached, no network. A benchmark,
# not a test.   bench/exec.sh [path/to/ssoenv]
set -euo pipefail
cd "$(dirname "$0")/.."
for tool in hyperfine curl; do
  command -v "${tool}" >/dev/null || {
    echo "bench: needs ${tool}" >&2
    exit 1
  }
done
bin=${1:-}
if [[ -z ${bin} ]]; then
  cargo build --release --quiet
  bin=${PWD}/target/release/ssoenv
fi
home=$(mktemp -d)
mkdir -p "${home}/.aws/cli/cache"
printf '[profile dev]\nsso_session = corp\nsso_account_id = 111111111111\nsso_role_name = ReadOnly\n[sso-session corp]\nsso_start_url = https://corp.awsapps.com/start\nsso_region = us-east-1\n' >"${home}/.aws/config"
key=$(printf '%s' '{"accountId":"111111111111","roleName":"ReadOnly","sessionName":"corp"}' | sha1sum | cut -d' ' -f1)
exp=$(date -u -d '+6 hours' +%Y-%m-%dT%H:%M:%SZ 2>/dev/null || date -u -v+6H +%Y-%m-%dT%H:%M:%SZ)
printf '{"ProviderType":"sso","Credentials":{"AccessKeyId":"ASIABENCH","SecretAccessKey":"s","SessionToken":"t","Expiration":"%s","AccountId":"111111111111"}}' "${exp}" \
  >"${home}/.aws/cli/cache/${key}.json"
export HOME=${home} AWS_ENDPOINT_URL_SSO=http://127.0.0.1:9
# The endpoint's variables, and the pid of the server left running.
server='' AWS_CONTAINER_CREDENTIALS_FULL_URI='' AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE=''
served=$(
  "${bin}" serve dev &
  echo "server=$!"
)
eval "${served}"
trap 'kill "${server}" 2>/dev/null; rm -rf "${home}"' EXIT
token=$(cat "${AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE}")
json=$(mktemp)
hyperfine -N -i --warmup 20 --runs 300 --export-json "${json}" \
  "${bin} exec dev -- true" "true" \
  "curl -s -H 'Authorization: ${token}' ${AWS_CONTAINER_CREDENTIALS_FULL_URI}" \
  "curl -s -o /dev/null http://127.0.0.1:9/" >/dev/null 2>&1 || true
python3 - "${json}" <<'PY'
import json, sys
e, t, c, c0 = (v["median"] for v in json.load(open(sys.argv[1]))["results"])
print(f"exec adds {(e - t) * 1e3:.2f} ms over running the command directly ({e*1e3:.2f} vs {t*1e3:.2f} ms)")
print(f"one endpoint request: {(c - c0) * 1e3:.2f} ms beyond curl's own start ({c*1e3:.2f} vs {c0*1e3:.2f} ms)")
PY
rm -f "${json}"
