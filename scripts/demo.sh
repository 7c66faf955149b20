#!/usr/bin/env bash
# The quick start: runs `t3s3 init` and `t3s3 verify` against a local AWS emulator
# (moto on 127.0.0.1), in a throwaway T3 Chat project folder. No AWS account needed.
# Nothing leaves this machine; the emulator is stopped when the script ends.
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"
cd "$repo"

bash scripts/setup-test-env.sh --emulator-only
echo "==> building t3s3 (debug; the first build takes a few minutes)"
cargo build --locked
t3s3="$repo/target/debug/t3s3"

# Only the emulator's throwaway credentials; never the developer's own AWS settings.
unset AWS_PROFILE AWS_DEFAULT_PROFILE AWS_SESSION_TOKEN AWS_REGION AWS_DEFAULT_REGION AWS_ENDPOINT_URL
export AWS_EC2_METADATA_DISABLED=true
export AWS_CONFIG_FILE=/dev/null AWS_SHARED_CREDENTIALS_FILE=/dev/null
export AWS_ACCESS_KEY_ID=AKIAIOSFODNN7EXAMPLE AWS_SECRET_ACCESS_KEY=wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY

port=$(.venv/bin/python -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
.venv/bin/moto_server -H 127.0.0.1 -p "$port" >/dev/null 2>&1 &
moto=$!
project=$(mktemp -d)
trap 'kill $moto 2>/dev/null; rm -rf "$project"' EXIT
for _ in $(seq 100); do
  (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break
  sleep 0.1
done

mkdir -p "$project/backend"
git -C "$project" init -q
printf '# T3 Chat backend settings\nDATABASE_URL=postgresql://localhost/t3chat\n' > "$project/backend/.env"
cd "$project"

echo "==> emulator on http://127.0.0.1:$port; T3 Chat project in $project"
echo "==> t3s3 init --create-user (the guide's sections 3-6, then its self-test)"
"$t3s3" --endpoint-url "http://127.0.0.1:$port" --region ap-south-1 init --create-user
echo
echo "==> t3s3 init again: everything is already right, so nothing changes"
"$t3s3" --endpoint-url "http://127.0.0.1:$port" init --no-verify
echo
echo "==> backend/.env (secret masked) and .gitignore"
sed 's/^\(AWS_SECRET_ACCESS_KEY=\).*/\1****************************************/' backend/.env
cat .gitignore
echo
echo "==> t3s3 verify --json | summary"
"$t3s3" verify --json | "$repo/.venv/bin/python" -c 'import json,sys; r=json.load(sys.stdin); print("ok:", r["ok"], "steps:", [(s["name"], s["status"]) for s in r["steps"]])'
echo
echo "==> t3s3 verify --backend: the same steps through the backend's own config.py and"
echo "    storage/s3_client.py (a stand-in T3 Chat backend from tests/fixtures/backend)"
echo "    (run as the backend runs: with only backend/.env, not the emulator's admin key)"
cp -R "$repo/tests/fixtures/backend/config.py" "$repo/tests/fixtures/backend/storage" backend/
env -u AWS_ACCESS_KEY_ID -u AWS_SECRET_ACCESS_KEY "$t3s3" verify --backend --python "$repo/.venv/bin/python"
