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
PROWLER_VERSION=5.46.0

bash scripts/setup-test-env.sh --emulator-only
if ! .venv-prowler/bin/prowler --version 2>/dev/null | grep -q "$PROWLER_VERSION"; then
  echo "==> installing prowler $PROWLER_VERSION into .venv-prowler/ (a few minutes the first time)"
  python3 -m venv .venv-prowler
  .venv-prowler/bin/pip install --quiet --disable-pip-version-check "prowler==$PROWLER_VERSION"
fi
if [ -z "${T3S3_BIN:-}" ]; then
  echo "==> building t3s3 (debug)"
  cargo build --quiet --locked
  T3S3_BIN="$repo/target/debug/t3s3"
fi

unset AWS_PROFILE AWS_DEFAULT_PROFILE AWS_SESSION_TOKEN AWS_REGION AWS_DEFAULT_REGION AWS_ENDPOINT_URL
export AWS_EC2_METADATA_DISABLED=true AWS_CONFIG_FILE=/dev/null AWS_SHARED_CREDENTIALS_FILE=/dev/null
export AWS_ACCESS_KEY_ID=AKIAIOSFODNN7EXAMPLE AWS_SECRET_ACCESS_KEY=wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY
port=$(.venv/bin/python -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
.venv/bin/moto_server -H 127.0.0.1 -p "$port" >/dev/null 2>&1 &
moto=$!
work=$(mktemp -d)
trap 'kill $moto 2>/dev/null; rm -rf "$work"' EXIT
for _ in $(seq 100); do
  (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break
  sleep 0.1
done
endpoint="http://127.0.0.1:$port"

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
