#!/usr/bin/env bash
# Builds t3s3.exe for x86_64-pc-windows-gnu (Debian's MinGW links it) into target/windows,
# and, beside it, the bcryptprimitives.dll stand-in Wine 8 lacks (scripts/windows/). Needs
# `rustup target add x86_64-pc-windows-gnu` and MinGW gcc (scripts/install-system-tools.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
out=target/windows/x86_64-pc-windows-gnu/debug
cargo build --locked --quiet --target x86_64-pc-windows-gnu --target-dir target/windows
if [ ! -f "$out/bcryptprimitives.dll" ] || [ scripts/windows/bcryptprimitives.c -nt "$out/bcryptprimitives.dll" ]; then
  x86_64-w64-mingw32-gcc -shared -O2 -o "$out/bcryptprimitives.dll" scripts/windows/bcryptprimitives.c -ladvapi32
fi
echo "==> $out/t3s3.exe"
