#!/usr/bin/env bash
# Round trips under real latency (issue 10): figures, not a test. Runs each command through
# bench/latency_proxy.py in front of a local moto, which keeps connections alive and delays
# each request by RTT and each new connection by one RTT more, and prints per command the
# wall time, the depth (wall / RTT: how many round trips it waited for one after another),
# the requests and the connections.
# Usage: scripts/bench-latency.sh [RTT_MS] [BUILD]   (default 100 ms; BUILD release or debug)
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"
cd "$repo"
rtt="${1:-100}"
build="${2:-release}"
bash scripts/setup-test-env.sh --emulator-only >/dev/null
if [ "$build" = release ]; then cargo build --quiet --release --locked; else cargo build --quiet --locked; fi
t3s3="$repo/target/$build/t3s3"
py="$repo/.venv/bin/python"

unset AWS_PROFILE AWS_DEFAULT_PROFILE AWS_SESSION_TOKEN AWS_REGION AWS_DEFAULT_REGION AWS_ENDPOINT_URL
export AWS_EC2_METADATA_DISABLED=true AWS_CONFIG_FILE=/dev/null AWS_SHARED_CREDENTIALS_FILE=/dev/null
export AWS_ACCESS_KEY_ID=AKIAIOSFODNN7EXAMPLE AWS_SECRET_ACCESS_KEY=wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY
free_port() { "$py" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
moto_port=$(free_port)
proxy_port=$(free_port)
.venv/bin/moto_server -H 127.0.0.1 -p "$moto_port" >/dev/null 2>&1 &
moto=$!
"$py" bench/latency_proxy.py "$moto_port" "$proxy_port" "$rtt" &
proxy=$!
work=$(mktemp -d)
trap 'kill $moto $proxy 2>/dev/null; rm -rf "$work"' EXIT
for port in "$moto_port" "$proxy_port"; do
  for _ in $(seq 100); do (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break; sleep 0.1; done
done
cd "$work"
git init -q
mkdir backend
endpoint="http://127.0.0.1:$proxy_port"

# measure LABEL command...: runs it once through the proxy and prints one row.
measure() {
  local label="$1"; shift
  "$py" - "$label" "$rtt" "$proxy_port" "$@" <<'PY'
import json, subprocess, sys, time, urllib.request
label, rtt, port, cmd = sys.argv[1], float(sys.argv[2]), sys.argv[3], sys.argv[4:]
urllib.request.urlopen(urllib.request.Request(f"http://127.0.0.1:{port}/__reset", method="POST")).read()
start = time.perf_counter()
done = subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
wall = time.perf_counter() - start
stats = json.loads(urllib.request.urlopen(f"http://127.0.0.1:{port}/__stats").read())
if done.returncode not in (0, 1):  # doctor exits 1 on moto (root_mfa, by design)
    sys.exit(f"{label} failed ({done.returncode}): {done.stderr.decode()}")
print(f"| {label} | {wall * 1000:.0f} ms | {wall * 1000 / rtt:.1f} | {stats['requests']} | {stats['connections']} |")
PY
}

# moto answers the first request to each of its services slowly (it loads them then):
# one throwaway init first, so the figures show t3s3's round trips, not moto's start-up.
mkdir warm
"$t3s3" --endpoint-url "$endpoint" --region ap-south-1 init --create-user --no-verify --user warmup \
  --bucket t3-chat-documents-warmup --policy-name WarmupPolicy --env-file warm/.env >/dev/null

echo "RTT ${rtt} ms (each new connection one RTT more), $build build"
echo
echo "| command | wall | depth (wall / RTT) | requests | connections |"
echo "|---|---|---|---|---|"
measure "init, fresh (--no-verify)" "$t3s3" --endpoint-url "$endpoint" --region ap-south-1 init --create-user --no-verify --bucket t3-chat-documents-latency
measure "init, converged (--no-verify)" "$t3s3" --endpoint-url "$endpoint" init --no-verify
measure "verify" "$t3s3" verify
measure "doctor" "$t3s3" doctor
measure "rotate-key (with its self-test)" "$t3s3" rotate-key --yes
measure "destroy" "$t3s3" destroy --force --yes
