#!/usr/bin/env bash
# Builds t3s3's wheel with maturin (release `dist` profile), installs it into a fresh venv
# and runs it: the pip route a Python developer takes; then the same wheel through
# `uv tool install`, `pipx install` and `uv tool run` (uvx). Prints the wheel's size and the
# time each part took. About 8-10 minutes on 2 cores, most of it the Rust build.
#
#   scripts/build-wheel.sh            the wheel lands in target/wheels/
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"
cd "$repo"
MATURIN_VERSION=1.16.0
UV_VERSION=0.13.9      # `uv tool install` / `uvx`, the routes the README names
PIPX_VERSION=1.18.4
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

started=$(date +%s)
python3 -m venv "$work/build"
"$work/build/bin/pip" install --quiet --disable-pip-version-check "maturin==$MATURIN_VERSION" \
  "uv==$UV_VERSION" "pipx==$PIPX_VERSION"
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

# The same wheel through the tool installers, each in its own throwaway home.
ms() { date +%s%3N; }
t0=$(ms)
UV_TOOL_DIR="$work/uv/tools" UV_TOOL_BIN_DIR="$work/uv/bin" UV_CACHE_DIR="$work/uv/cache" \
  "$work/build/bin/uv" tool install --offline --quiet "$wheel"
echo "==> uv tool install: $(( $(ms) - t0 )) ms; $("$work/uv/bin/t3s3" --version)"
t0=$(ms)
PIPX_HOME="$work/pipx/home" PIPX_BIN_DIR="$work/pipx/bin" "$work/build/bin/pipx" install --quiet "$wheel" > /dev/null
echo "==> pipx install: $(( $(ms) - t0 )) ms; $("$work/pipx/bin/t3s3" --version)"
t0=$(ms)
UV_CACHE_DIR="$work/uv/cache" "$work/build/bin/uv" tool run --offline --quiet --from "$wheel" t3s3 --version
echo "==> uvx (uv tool run) from the wheel: $(( $(ms) - t0 )) ms"
