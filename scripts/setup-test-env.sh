#!/usr/bin/env bash
# Installs what the tests and the local demo need, inside this checkout:
#   .venv/         Python venv with a pinned moto[server] (S3, IAM and STS emulator) and boto3
#   .tools/bin/    s3s-fs, an S3 server that verifies header and presigned SigV4 signatures
# Nothing outside the checkout: the system tools some tests need (zsh, fish, Wine, MinGW)
# come from scripts/install-system-tools.sh, which only .ci/run (or you) runs.
# Safe to run again: it skips what is already installed at the pinned version.
# --emulator-only installs just moto (what scripts/demo.sh needs).
set -euo pipefail
cd "$(dirname "$0")/.."

MOTO_VERSION=5.2.5
BOTO3_VERSION=1.44.8
DOTENV_VERSION=1.2.4
PYDANTIC_VERSION=2.14.4              # the stand-in backend (tests/fixtures/backend) reads its .env with
PYDANTIC_SETTINGS_VERSION=2.16.3     # pydantic-settings, as a FastAPI app does
PRE_COMMIT_VERSION=4.7.0             # runs `t3s3 guard` as a hook in tests/guard.rs
CHECK_JSONSCHEMA_VERSION=0.39.0      # validate .github/workflows and action.yml (offline schemas)
ZIZMOR_VERSION=1.32.0                # GitHub Actions security lint, run with --offline
S3S_FS_VERSION=0.14.1   # later versions need a newer rustc than the pinned toolchain

if ! .venv/bin/python -c "import moto, dotenv, pydantic_settings, pre_commit, check_jsonschema, sys; sys.exit(moto.__version__ != '$MOTO_VERSION' or pydantic_settings.__version__ != '$PYDANTIC_SETTINGS_VERSION')" 2>/dev/null; then
  echo "==> creating .venv with moto[server]==$MOTO_VERSION"
  python3 -m venv .venv
  .venv/bin/pip install --quiet --disable-pip-version-check "moto[server]==$MOTO_VERSION" "boto3==$BOTO3_VERSION" "python-dotenv==$DOTENV_VERSION" \
    "pydantic==$PYDANTIC_VERSION" "pydantic-settings==$PYDANTIC_SETTINGS_VERSION" "pre-commit==$PRE_COMMIT_VERSION" \
    "check-jsonschema==$CHECK_JSONSCHEMA_VERSION" "zizmor==$ZIZMOR_VERSION"
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
