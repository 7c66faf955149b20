#!/usr/bin/env bash
# Type-checks t3s3 for Windows (x86_64-pc-windows-gnu) on this Linux machine, so Unix-only
# code (file modes, say) is caught here rather than by the Windows build in CI and release.
# No Windows toolchain can be fetched here, so std is built from the stable toolchain's
# rust-src (-Zbuild-std, allowed on stable by RUSTC_BOOTSTRAP=1), and aws-lc-sys's C is
# compiled by Debian's MinGW gcc. A check, not a build: nothing is linked or run.
# About 2-3 minutes the first time on 2 cores; the results are kept in target/windows-check.
set -euo pipefail
cd "$(dirname "$0")/.."
if ! command -v x86_64-w64-mingw32-gcc > /dev/null; then
  echo "==> installing Debian's MinGW gcc (x86_64-w64-mingw32-gcc) for aws-lc-sys's C"
  source scripts/lib/apt.sh
  apt_install gcc-mingw-w64-x86-64 cmake nasm
fi
if ! rustup component list --installed 2>/dev/null | grep -q '^rust-src'; then
  rustup component add rust-src
fi
echo "==> cargo check for x86_64-pc-windows-gnu"
RUSTC_BOOTSTRAP=1 cargo check --locked --quiet -Zbuild-std=std,panic_abort \
  --target x86_64-pc-windows-gnu --target-dir target/windows-check
echo "==> t3s3 type-checks for Windows"
