#!/usr/bin/env bash
# Benchmarks (figures, not tests) against a local moto:
#   1. wall time of `t3s3 verify` next to a boto3 script doing the same seven steps
#      (bench/verify_boto3.py), median of N runs each;
#   2. wall time and AWS request count of a fresh `t3s3 init` and of a converged re-run.
# Usage: scripts/bench.sh [N]   (default 15). Uses the release build.
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"
cd "$repo"
runs="${1:-15}"
bash scripts/setup-test-env.sh --emulator-only >/dev/null
cargo build --quiet --release --locked
t3s3="$repo/target/release/t3s3"
py="$repo/.venv/bin/python"

source scripts/lib/emulator.sh
start_emulator
cd "$work"

median_ms() { # command... -> median wall time in ms over $runs runs
  "$py" - "$runs" "$@" <<'PY'
import statistics, subprocess, sys, time
runs, cmd = int(sys.argv[1]), sys.argv[2:]
times = []
for _ in range(runs):
    start = time.perf_counter()
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    times.append((time.perf_counter() - start) * 1000)
print(f"{statistics.median(times):.0f} ms (min {min(times):.0f}, max {max(times):.0f}, n={runs})")
PY
}

start=$(date +%s%N)
"$t3s3" --endpoint-url "$endpoint" --region ap-south-1 init --create-user --no-verify --json > fresh.json
fresh_ms=$(( ($(date +%s%N) - start) / 1000000 ))
start=$(date +%s%N)
"$t3s3" --endpoint-url "$endpoint" init --no-verify --json > again.json
again_ms=$(( ($(date +%s%N) - start) / 1000000 ))
requests() { "$py" -c 'import json,sys; r=json.load(open(sys.argv[1]))["requests"]; print(r["total"], "requests,", r["mutating"], "changes")' "$1"; }

echo "t3s3 verify (release):   $(median_ms "$t3s3" verify)"
echo "boto3 same seven steps:  $(median_ms "$py" "$repo/bench/verify_boto3.py" .env)"
echo "t3s3 init, fresh:        ${fresh_ms} ms, $(requests fresh.json) (without the self-test)"
echo "t3s3 init, converged:    ${again_ms} ms, $(requests again.json) (without the self-test)"
