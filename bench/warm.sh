#!/usr/bin/env bash
# Times a warm `ssoenv dev` (credentials cached: config + one cache file, no network) against
# spawning a trivial process, and prints the ratio of medians (issue #12's goal) and of means;
# the same for a role profile and an EKS token. A benchmark, not a test.
#   bench/warm.sh [path/to/ssoenv]     (default: builds and uses target/release/ssoenv)
set -euo pipefail
cd "$(dirname "$0")/.."
command -v hyperfine >/dev/null || {
  echo "bench: needs hyperfine (apt-get install hyperfine)" >&2
  exit 1
}

bin=${1:-}
if [[ -z $bin ]]; then
  cargo build --release --quiet
  bin=$PWD/target/release/ssoenv
fi

# The binary's size (issue #12: at most 2.5 MB), and what the loader maps besides it.
size=$(wc -c <"$bin")
libs=$( (readelf -d "$bin" 2>/dev/null || true) | sed -n 's/.*Shared library: \[\(.*\)\]/\1/p' | tr '\n' ' ')
python3 -c 'import sys; n = int(sys.argv[1]); print(f"binary: {n:,} bytes ({n/1e6:.2f} MB, {n/2**20:.2f} MiB); loads: {sys.argv[2]}")' "$size" "${libs:-?}"

home=$(mktemp -d)
trap 'rm -rf "$home"' EXIT
mkdir -p "$home/.aws/cli/cache"
cat >"$home/.aws/config" <<'CFG'
[default]
region = eu-west-1
s3 =
  max_concurrent_requests = 10

[profile dev]
sso_session = corp
sso_account_id = 111111111111
sso_role_name = ReadOnly
region = eu-west-2

[profile ops]
role_arn = arn:aws:iam::333333333333:role/Ops
source_profile = dev
region = eu-west-1

[sso-session corp]
sso_start_url = https://corp.awsapps.com/start
sso_region = us-east-1
CFG
key=$(printf '%s' '{"accountId":"111111111111","roleName":"ReadOnly","sessionName":"corp"}' | sha1sum | cut -d' ' -f1)
exp=$(date -u -d '+6 hours' +%Y-%m-%dT%H:%M:%SZ 2>/dev/null || date -u -v+6H +%Y-%m-%dT%H:%M:%SZ)
printf '{"ProviderType":"sso","Credentials":{"AccessKeyId":"ASIABENCH","SecretAccessKey":"s3cr3t","SessionToken":"tok","Expiration":"%s","AccountId":"111111111111"}}' "$exp" \
  >"$home/.aws/cli/cache/$key.json"
# The role assumed from dev, cached under the AWS CLI's key for AssumeRole.
key=$(printf '%s' '{"RoleArn": "arn:aws:iam::333333333333:role/Ops"}' | sha1sum | cut -d' ' -f1)
printf '{"Credentials":{"AccessKeyId":"ASIAOPS","SecretAccessKey":"s3cr3t","SessionToken":"tok","Expiration":"%s","AccountId":"333333333333"}}' "$exp" \
  >"$home/.aws/cli/cache/$key.json"

# Unreachable endpoints: a warm run that touched the network would fail loudly.
export HOME=$home AWS_ENDPOINT_URL_SSO=http://127.0.0.1:9 AWS_ENDPOINT_URL_SSO_OIDC=http://127.0.0.1:9
"$bin" dev >/dev/null
"$bin" ops >/dev/null
"$bin" eks-token --cluster prod dev >/dev/null

# Instructions, which unlike time do not move with the machine's load (when valgrind is
# installed): the whole run, the dynamic loader's work included.
if command -v valgrind >/dev/null; then
  refs='s/.*refs: *//p'
  ours=$(valgrind --tool=callgrind --callgrind-out-file=/dev/null "$bin" dev 2>&1 >/dev/null | sed -n "$refs")
  theirs=$(valgrind --tool=callgrind --callgrind-out-file=/dev/null true 2>&1 >/dev/null | sed -n "$refs")
  echo "instructions (callgrind): warm ssoenv dev ${ours}, true ${theirs}"
fi

json=$(mktemp)
# Ten rounds of 30 runs each, alternating which command goes first, pooled: on a machine whose
# load changes (builds beside the benchmark), both commands see the same conditions.
jsons=()
for round in 0 1 2 3 4 5 6 7 8 9; do
  j=$json.$round
  if ((round % 2)); then
    hyperfine --warmup 5 --runs 30 -N --export-json "$j" "true" "$bin dev" >/dev/null
  else
    hyperfine --warmup 5 --runs 30 -N --export-json "$j" "$bin dev" "true" >/dev/null
  fi
  jsons+=("$j")
done
python3 - "${jsons[@]}" <<'PY'
import json, statistics, sys
times = {}
for f in sys.argv[1:]:
    for r in json.load(open(f))["results"]:
        times.setdefault(r["command"], []).extend(r["times"])
(s_cmd,) = [c for c in times if c != "true"]
s, t = times[s_cmd], times["true"]
# The goal is the ratio of medians (outliers from a loaded machine move means); means as well.
sm, tm = statistics.median(s), statistics.median(t)
sa, ta = statistics.fmean(s), statistics.fmean(t)
print(f"warm ssoenv dev: median {sm*1e3:.3f} ms   spawn true: median {tm*1e3:.3f} ms   ratio: {sm/tm:.2f}x"
      f"   (means {sa*1e3:.3f} / {ta*1e3:.3f} ms, {sa/ta:.2f}x; {len(s)} runs each)")
PY
rm -f "${jsons[@]}"

# A role profile (its assumed role cached) and an EKS token (cached), warm, against `true`.
hyperfine --warmup 20 --runs 300 -N --export-json "$json" "$bin ops" "$bin eks-token --cluster prod dev" "true" >&2
python3 - "$json" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))["results"]
o, e, t = r[0]["median"], r[1]["median"], r[2]["median"]
print(f"warm role profile: median {o*1e3:.3f} ms ({o/t:.2f}x true)   warm eks-token: median {e*1e3:.3f} ms ({e/t:.2f}x true)")
PY

# The same warm read through botocore, the SDK the AWS CLI is built on, sharing the CLI's
# role-credential cache as the CLI does (when botocore is installed).
py=$(command -v python3 || true)
if [[ -n $py ]] && "$py" -c 'import botocore' 2>/dev/null; then
  peer=$(mktemp)
  cat >"$peer" <<'PY'
import os, botocore.session
from botocore.credentials import JSONFileCache
s = botocore.session.Session(profile="dev")
p = s.get_component("credential_provider").get_provider("sso")
p.cache = JSONFileCache(os.path.expanduser(os.path.join("~", ".aws", "cli", "cache")))
c = s.get_credentials().get_frozen_credentials()
assert c.access_key == "ASIABENCH", c.access_key
PY
  hyperfine --warmup 3 --runs 30 -N --export-json "$json" "$bin dev" "$py $peer" >&2
  python3 - "$json" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))["results"]
s, b = r[0]["median"], r[1]["median"]
print(f"warm ssoenv dev: median {s*1e3:.3f} ms   botocore, same files: median {b*1e3:.1f} ms   ssoenv is {b/s:.0f}x faster")
PY
  rm -f "$peer"
fi
rm -f "$json"
