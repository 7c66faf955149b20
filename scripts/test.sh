#!/usr/bin/env bash
# Runs every test whose tools are here, against real servers on 127.0.0.1 (no AWS account, no
# network beyond loopback). It installs only inside the checkout (.venv/, .tools/). Tests that
# need a system tool are named as skipped when it is missing, with the command that installs
# it; with T3S3_REQUIRE_SYSTEM_TOOLS=1 (.ci/run) a missing tool is a failure instead.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup-test-env.sh
export AWS_EC2_METADATA_DISABLED=true
# The crate's shape (its layers, no cycle, ...) is checked by `cargo test` (tests/it/shape.rs).
# The project's workflows and its action for users, checked offline.
.venv/bin/check-jsonschema --builtin-schema vendor.github-workflows .github/workflows/*.yml
.venv/bin/check-jsonschema --builtin-schema vendor.github-actions action.yml
.venv/bin/zizmor --offline --quiet .github/workflows/*.yml action.yml

features=()
skipped=()
have() { command -v "$1" > /dev/null 2>&1; }
if have zsh && have fish; then
  features+=(shell-tests)
else
  skipped+=("shells (completions read by zsh and fish): needs zsh and fish")
fi
if have wine && have x86_64-w64-mingw32-gcc && rustup target list --installed 2>/dev/null | grep -qx x86_64-pc-windows-gnu; then
  bash scripts/build-windows.sh
  features+=(wine-tests)
else
  skipped+=("windows (t3s3.exe under Wine): needs wine, MinGW gcc and the x86_64-pc-windows-gnu target")
fi
if [ ${#skipped[@]} -gt 0 ]; then
  for test in "${skipped[@]}"; do echo "SKIPPED $test"; done
  echo "        install them with: scripts/install-system-tools.sh (apt-get and rustup; root or sudo)"
  if [ "${T3S3_REQUIRE_SYSTEM_TOOLS:-}" = 1 ]; then
    echo "error: T3S3_REQUIRE_SYSTEM_TOOLS=1 and ${#skipped[@]} test target(s) lack their tools" >&2
    exit 1
  fi
fi
feature_args=()
[ ${#features[@]} -gt 0 ] && feature_args=(--features "$(IFS=,; echo "${features[*]}")")
cargo test --locked "${feature_args[@]}" "$@"
names=""
for test in "${skipped[@]}"; do names+=" ${test%% *}"; done
echo "==> done; ${#skipped[@]} test target(s) skipped for missing system tools${names:+:$names}"
