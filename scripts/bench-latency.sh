#!/usr/bin/env bash
# Round trips under real latency: figures, not a test. Runs t3s3's commands
# through bench/latency_proxy.py in front of a local moto (connections kept alive, each
# request delayed by RTT and each new connection by one RTT more), once with no delay and
# once at RTT, and prints per command the wall time, the depth (round trips waited for one
# after another), the requests and the connections. See bench/latency.py.
# Usage: scripts/bench-latency.sh [RTT_MS] [BUILD]   (default 100 ms; BUILD release or debug)
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"
cd "$repo"
rtt="${1:-100}"
build="${2:-release}"
bash scripts/setup-test-env.sh --emulator-only >/dev/null
if [ "$build" = release ]; then cargo build --quiet --release --locked; else cargo build --quiet --locked; fi

unset AWS_PROFILE AWS_DEFAULT_PROFILE AWS_SESSION_TOKEN AWS_REGION AWS_DEFAULT_REGION AWS_ENDPOINT_URL
export AWS_EC2_METADATA_DISABLED=true AWS_CONFIG_FILE=/dev/null AWS_SHARED_CREDENTIALS_FILE=/dev/null
export AWS_ACCESS_KEY_ID=AKIAIOSFODNN7EXAMPLE AWS_SECRET_ACCESS_KEY=wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY
exec .venv/bin/python bench/latency.py "${CARGO_TARGET_DIR:-$repo/target}/$build/t3s3" "$rtt"
