#!/usr/bin/env bash
# guard beside detect-secrets (AWS plugin alone, every plugin) on the corpus of other scanners'
# AWS test samples (tests/fixtures/guard-corpus.json): recall, false positives, time.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup-test-env.sh --emulator-only
cargo build --quiet --locked
.venv/bin/python scripts/guard-corpus/compare.py target/debug/t3s3
