#!/usr/bin/env bash
# Checks every crate in Cargo.lock against the RustSec advisory database, offline: any
# advisory (a vulnerability, an unmaintained or yanked crate that RustSec lists) fails.
#   scripts/audit-deps.sh                 the snapshot in ../shared/reference/rustsec-advisory-db
#   RUSTSEC_DB=/path/to/advisory-db scripts/audit-deps.sh
# Installs cargo-audit (pinned, --locked, into cargo's bin folder) only when it is missing.
set -euo pipefail
cd "$(dirname "$0")/.."
CARGO_AUDIT_VERSION=0.22.2
db="${RUSTSEC_DB:-../shared/reference/rustsec-advisory-db}"
if [ ! -d "$db/crates" ]; then
  echo "error: no RustSec advisory database at $db (set RUSTSEC_DB to a copy of rustsec/advisory-db)" >&2
  exit 2
fi
if ! cargo audit --version 2>/dev/null | grep -q "$CARGO_AUDIT_VERSION"; then
  echo "==> installing cargo-audit $CARGO_AUDIT_VERSION (a Rust build: a few minutes the first time)"
  cargo install --locked --quiet "cargo-audit@$CARGO_AUDIT_VERSION"
fi
echo "==> cargo audit against $db ($(grep -o 'commit [0-9a-f]*' "$db/SNAPSHOT.md" 2>/dev/null | head -1 || echo 'a snapshot'))"
cargo audit --db "$db" --no-fetch --stale --deny warnings
