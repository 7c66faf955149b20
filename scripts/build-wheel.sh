#!/usr/bin/env bash
# Builds t3s3's wheel with maturin (release `dist` profile), installs it into a fresh venv
# and runs it: the pip route a Python developer takes. Prints the wheel's size and the time
# each part took. About 8-10 minutes on 2 cores, most of it the Rust build.
#
#   scripts/build-wheel.sh            the wheel lands in target/wheels/
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"
cd "$repo"
MATURIN_VERSION=1.16.0
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

started=$(date +%s)
python3 -m venv "$work/build"
"$work/build/bin/pip" install --quiet --disable-pip-version-check "maturin==$MATURIN_VERSION"
echo "==> maturin build --profile dist (whole-program LTO; the longest part)"
"$work/build/bin/maturin" build --profile dist --locked --out target/wheels
built=$(date +%s)
wheel=$(ls -t target/wheels/t3s3-*.whl | head -1)
echo "==> $wheel: $(du -h "$wheel" | cut -f1), built in $(( built - started )) s"

python3 -m venv "$work/user"
"$work/user/bin/pip" install --quiet --disable-pip-version-check "$wheel"
installed=$(date +%s)
echo "==> installed into a fresh venv in $(( installed - built )) s"
"$work/user/bin/t3s3" --version
"$work/user/bin/t3s3" policy --bucket t3-chat-documents-wheel-check > /dev/null
echo "==> the wheel's t3s3 runs from the venv's bin/ (on PATH once the venv is active)"
