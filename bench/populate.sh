#!/usr/bin/env bash
# `configure populate` for 1,000 accounts x 3 roles against the project's mock with 50 ms of
# latency on every listing call, as over a real link: the wall time, and how it compares to
# the requests made one after another (1,010 x 50 ms). A benchmark, not a test.
#   bench/populate.sh [accounts] [latency-ms]
set -euo pipefail
cd "$(dirname "$0")/.."
accounts=${1:-1000}
latency=${2:-50}
cargo build --release --quiet --bin ssoenv --example mock
bin=${PWD}/target/release/ssoenv
work=$(mktemp -d)
port=$((20000 + RANDOM % 20000))
./target/release/examples/mock --port "${port}" --accounts "${accounts}" --roles 3 \
  --page-size 100 --latency "${latency}" --quiet &
mock=$!
trap 'kill "${mock}" 2>/dev/null; rm -rf "${work}"' EXIT
export HOME=${work} AWS_ENDPOINT_URL_SSO=http://127.0.0.1:${port} AWS_ENDPOINT_URL_SSO_OIDC=http://127.0.0.1:${port}
mkdir -p "${HOME}/.aws"
printf '[sso-session demo]\nsso_start_url = https://demo.awsapps.com/start\nsso_region = us-east-1\n' >"${HOME}/.aws/config"
sleep 0.3
"${bin}" login --sso-session demo --use-device-code --no-browser >/dev/null 2>&1
start=$(date +%s.%N)
"${bin}" configure populate --sso-session demo >/dev/null 2>"${work}/err"
end=$(date +%s.%N)
python3 - "${start}" "${end}" "${accounts}" "${latency}" "${work}/err" <<'PY'
import sys
start, end, n, lat = float(sys.argv[1]), float(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
calls = n + (n + 99) // 100
serial = calls * lat / 1000
took = end - start
print(open(sys.argv[5]).read().strip().splitlines()[-1])
print(f"populate {n} accounts x 3 roles at {lat} ms latency: {took:.2f} s "
      f"(one after another would be about {serial:.1f} s: {serial/took:.1f}x)")
PY
