#!/usr/bin/env bash
# The quick start: runs `t3s3 init` and `t3s3 verify` against a local AWS emulator
# (moto on 127.0.0.1), in a throwaway T3 Chat project folder. No AWS account needed.
# Nothing leaves this machine; the emulator is stopped when the script ends.
#
#   scripts/demo.sh          the whole tour, then everything is removed
#   scripts/demo.sh --keep   then keeps the emulator and the project, printing what to export
#                            to try doctor, rotate-key, ci-role and destroy by hand (Ctrl-C ends)
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"
cd "$repo"

bash scripts/setup-test-env.sh --emulator-only
echo "==> building t3s3 (debug; the first build takes a few minutes)"
cargo build --locked
t3s3="$repo/target/debug/t3s3"

source scripts/lib/emulator.sh
start_emulator
project="$work"

mkdir -p "$project/backend"
git -C "$project" init -q
printf '# T3 Chat backend settings\nDATABASE_URL=postgresql://localhost/t3chat\n' > "$project/backend/.env"
cd "$project"

echo "==> emulator on $endpoint; a throwaway T3 Chat project in $project"
echo "==> t3s3 --endpoint-url $endpoint --region ap-south-1 init --create-user"
echo "    (the guide's steps 3-6, then its self-test)"
"$t3s3" --endpoint-url "$endpoint" --region ap-south-1 init --create-user
echo
echo "==> t3s3 --endpoint-url $endpoint init --no-verify   (again: everything is right, nothing changes)"
"$t3s3" --endpoint-url "$endpoint" init --no-verify
echo
echo "==> backend/.env (secret masked) and .gitignore"
sed 's/^\(AWS_SECRET_ACCESS_KEY=\).*/\1****************************************/' backend/.env
cat .gitignore
echo
echo "==> t3s3 verify --quiet   (the one-line verdict; --json gives every step for CI)"
"$t3s3" verify --quiet
echo
echo "==> t3s3 verify --backend: the same steps through the backend's own config.py and"
echo "    storage/s3_client.py (a stand-in T3 Chat backend from tests/fixtures/backend)"
echo "    (run as the backend runs: with only backend/.env, not the emulator's admin key)"
cp -R "$repo/tests/fixtures/backend/config.py" "$repo/tests/fixtures/backend/storage" backend/
env -u AWS_ACCESS_KEY_ID -u AWS_SECRET_ACCESS_KEY "$t3s3" verify --backend --python "$repo/.venv/bin/python"

if [ "${1:-}" = "--keep" ]; then
  trap 'kill $moto 2>/dev/null' EXIT
  echo
  echo "==> kept: the emulator on $endpoint and the project in $project"
  echo "    In another shell:"
  echo "      cd $project"
  echo "      export AWS_EC2_METADATA_DISABLED=true AWS_CONFIG_FILE=/dev/null AWS_SHARED_CREDENTIALS_FILE=/dev/null"
  echo "      export AWS_ACCESS_KEY_ID=AKIAIOSFODNN7EXAMPLE AWS_SECRET_ACCESS_KEY=wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
  echo "      $t3s3 --endpoint-url $endpoint doctor"
  echo "      $t3s3 --endpoint-url $endpoint rotate-key"
  echo "      $t3s3 --endpoint-url $endpoint ci-role --repo acme/t3-chat"
  echo "      $t3s3 --endpoint-url $endpoint destroy --force --yes"
  echo "    (those keys are the emulator's admin; the backend's own key is in backend/.env)"
  echo "    Ctrl-C stops the emulator; the project folder stays for you to delete."
  wait "$moto"
fi
