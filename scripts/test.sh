#!/usr/bin/env bash
# Runs every test: installs the emulators if needed, then `cargo test` against real
# servers on 127.0.0.1 (no AWS account, no network beyond loopback).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup-test-env.sh
export AWS_EC2_METADATA_DISABLED=true
cargo test --locked "$@"
