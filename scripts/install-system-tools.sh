#!/usr/bin/env bash
# Installs the system tools some tests need, outside the checkout (the one script that does):
#   zsh, fish                     tests/it/shells.rs reads the completion scripts with them
#   wine64, MinGW gcc, cmake, nasm  tests/it/windows.rs builds t3s3.exe and runs it under Wine
#   rustup target x86_64-pc-windows-gnu
# Debian/Ubuntu packages, as root or with passwordless sudo. `.ci/run` runs it on a fresh
# machine; on your own, run it once if you want those tests (scripts/test.sh names them as
# skipped otherwise).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib/apt.sh
missing=()
command -v zsh > /dev/null || missing+=(zsh)
command -v fish > /dev/null || missing+=(fish)
command -v wine > /dev/null || missing+=(wine64 wine)
command -v x86_64-w64-mingw32-gcc > /dev/null || missing+=(gcc-mingw-w64-x86-64)
command -v cmake > /dev/null || missing+=(cmake)
command -v nasm > /dev/null || missing+=(nasm)
if [ ${#missing[@]} -gt 0 ]; then
  echo "==> installing ${missing[*]} from the system's packages"
  apt_install "${missing[@]}"
fi
if ! rustup target list --installed 2>/dev/null | grep -qx x86_64-pc-windows-gnu; then
  echo "==> rustup target add x86_64-pc-windows-gnu"
  rustup target add x86_64-pc-windows-gnu
fi
echo "==> system tools ready: zsh, fish, $(wine --version 2>/dev/null), MinGW, the Windows target"
