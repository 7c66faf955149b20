#!/usr/bin/env bash
# Runs every test: installs the emulators if needed, then `cargo test` against real
# servers on 127.0.0.1 (no AWS account, no network beyond loopback).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup-test-env.sh
export AWS_EC2_METADATA_DISABLED=true
# The crate's shape: no import cycle, no command importing another, only bucket/iam/sts
# calling the SDK, no function over 80 lines (issue 7).
python3 scripts/check-shape.py
# The project's workflows and its action for users, checked offline (issue 11).
.venv/bin/check-jsonschema --builtin-schema vendor.github-workflows .github/workflows/*.yml
.venv/bin/check-jsonschema --builtin-schema vendor.github-actions action.yml
.venv/bin/zizmor --offline --quiet .github/workflows/*.yml action.yml
# Unix-only code caught here, not first by the Windows build in CI and release.
bash scripts/check-windows.sh
cargo test --locked "$@"
