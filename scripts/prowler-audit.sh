#!/usr/bin/env bash
# Audits what a default `t3s3 init` (and `t3s3 ci-role`) creates with prowler's S3 and IAM
# checks, the open-source auditor security reviewers run, against moto on 127.0.0.1, and
# prints the FAILs on t3s3's own resources apart from the account-wide ones. Not part of
# the test command: prowler's first install takes a few minutes, a run about 40 s.
#
#   scripts/prowler-audit.sh [EXTRA INIT FLAGS...]     e.g. --versioning
#   T3S3_BIN=path/to/t3s3 T3S3_INIT_FLAGS= scripts/prowler-audit.sh    audit another build
#
# init gets --require-tls by default: on AWS the endpoint is HTTPS and init adds the TLS-only
# statement by itself; moto speaks plain HTTP, where init leaves it out unless asked.
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"
cd "$repo"
started=$(date +%s)
prowler_lock=scripts/python/prowler.lock   # prowler 5.46.0 and its dependencies, with hashes
prowler_want=$(sha256sum "$prowler_lock" | cut -d' ' -f1)

bash scripts/setup-test-env.sh --emulator-only
if [ "$(cat .venv-prowler/t3s3-lock.sha256 2>/dev/null)" != "$prowler_want" ]; then
  echo "==> building .venv-prowler/ from $prowler_lock (a few minutes the first time)"
  rm -rf .venv-prowler
  python3 -m venv .venv-prowler
  .venv-prowler/bin/pip install --quiet --disable-pip-version-check --require-hashes --no-deps -r "$prowler_lock"
  echo "$prowler_want" > .venv-prowler/t3s3-lock.sha256
fi
if [ -z "${T3S3_BIN:-}" ]; then
  echo "==> building t3s3 (debug)"
  cargo build --quiet --locked
  T3S3_BIN="$repo/target/debug/t3s3"
fi

source scripts/lib/emulator.sh
start_emulator

cd "$work"
echo "==> t3s3 init ${T3S3_INIT_FLAGS---require-tls} $*"
# shellcheck disable=SC2086
"$T3S3_BIN" --endpoint-url "$endpoint" --region ap-south-1 init --create-user --no-verify ${T3S3_INIT_FLAGS---require-tls} "$@" > init.txt
if "$T3S3_BIN" ci-role --help >/dev/null 2>&1; then
  echo "==> t3s3 ci-role --repo acme/t3-chat"
  "$T3S3_BIN" --endpoint-url "$endpoint" --region ap-south-1 ci-role --repo acme/t3-chat > ci-role.txt
fi
echo "==> prowler aws --service s3 iam (against $endpoint)"
AWS_ENDPOINT_URL="$endpoint" "$repo/.venv-prowler/bin/prowler" aws -f ap-south-1 --service s3 iam \
  --output-formats json-ocsf -o "$work/out" --no-banner > prowler.txt 2>&1 || true
"$repo/.venv/bin/python" - "$work/out" <<'PY'
import glob, json, sys
(path,) = glob.glob(sys.argv[1] + "/*.ocsf.json")
findings = json.load(open(path))
ours = ("t3-chat-documents-", ":user/t3_chat", ":group/t3-chat-s3", ":policy/T3ChatS3Policy", ":role/T3ChatCI", "oidc-provider/token.actions")
def uid(f):
    return (f.get("resources") or [{}])[0].get("uid", "")
mine = [f for f in findings if any(o in uid(f) for o in ours)]
fails = sorted((f["metadata"]["event_code"], uid(f)) for f in mine if f["status_code"] == "FAIL")
passes = sorted({f["metadata"]["event_code"] for f in mine if f["status_code"] == "PASS"})
others = sorted({f["metadata"]["event_code"] for f in findings if f["status_code"] == "FAIL" and f not in mine})
print(f"\nFAIL on t3s3's resources: {len(fails)}")
for check, resource in fails:
    print(f"  {check:<48} {resource}")
print(f"PASS on t3s3's resources: {len(passes)} checks")
print(f"FAIL account-wide, not t3s3's to change: {len(others)} ({', '.join(others)})")
PY
echo "==> done in $(( $(date +%s) - started )) s"
