#!/usr/bin/env bash
# Installs what the tests and the local demo need, inside this checkout:
#   .venv/         Python venv from scripts/python/requirements.lock: moto[server] (the S3, IAM
#                  and STS emulator), boto3, python-dotenv, pydantic-settings, pre-commit,
#                  check-jsonschema, zizmor, parliament, detect-secrets and ruff, every
#                  dependency pinned with its hashes (pip --require-hashes --no-deps)
#   .tools/bin/    s3s-fs, an S3 server that verifies header and presigned SigV4 signatures
# Nothing outside the checkout: the system tools some tests need (zsh, fish, Wine, MinGW)
# come from scripts/install-system-tools.sh, which only .ci/run (or you) runs.
# Safe to run again: the venv is kept while it was built from the lock as it is now (its
# sha256 is stored in .venv/t3s3-lock.sha256) and rebuilt from nothing when the lock changed.
# --emulator-only installs just the venv (what scripts/demo.sh needs).
set -euo pipefail
cd "$(dirname "$0")/.."

S3S_FS_VERSION=0.14.1   # later versions need a newer rustc than the pinned toolchain
lock=scripts/python/requirements.lock
want=$(sha256sum "$lock" | cut -d' ' -f1)

if [ "$(cat .venv/t3s3-lock.sha256 2>/dev/null)" != "$want" ] || ! .venv/bin/python -c '' 2>/dev/null; then
  echo "==> building .venv from $lock (sha256 ${want:0:12})"
  rm -rf .venv
  python3 -m venv .venv
  .venv/bin/pip install --quiet --disable-pip-version-check --require-hashes --no-deps -r "$lock"
  .venv/bin/pip check --disable-pip-version-check > /dev/null
  echo "$want" > .venv/t3s3-lock.sha256
fi

if [ "${1:-}" = "--emulator-only" ]; then
  exit 0
fi

if ! .tools/bin/s3s-fs --version 2>/dev/null | grep -q "$S3S_FS_VERSION"; then
  echo "==> installing s3s-fs $S3S_FS_VERSION into .tools/"
  echo "    (a Rust build: 3-5 minutes the first time on 2 cores)"
  cargo install --locked "s3s-fs@$S3S_FS_VERSION" --features binary --root .tools
fi

echo "==> test tools ready: moto $(.venv/bin/python -c "import moto; print(moto.__version__)"), $(.tools/bin/s3s-fs --version)"
