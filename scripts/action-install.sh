#!/usr/bin/env bash
# The install step of action.yml: puts t3s3 on the job's PATH in seconds, without Rust.
#
# It downloads the release's plain binary for the runner (what release.yml attaches to a
# v* tag) and checks it against the release's SHA256SUMS; a binary that does not match is
# refused. Only when the release has no binary for this runner (the action used at a branch
# or commit, or an unlisted platform) does it build from source with cargo, and it says so.
#
# Environment (set by action.yml from the workflow's context):
#   T3S3_VERSION    the `version` input: a release tag or git revision (may be empty)
#   T3S3_ACTION_REF the ref the workflow used the action at, e.g. v0.1.0
#   T3S3_REPO       OWNER/NAME of the action's repository
#   T3S3_SOURCE     the action's checkout (built from when there is no release binary)
#   RUNNER_OS, RUNNER_ARCH, RUNNER_TEMP, GITHUB_PATH   set by GitHub Actions
#   T3S3_RELEASES   where releases are downloaded from (default https://github.com/OWNER/NAME/releases/download)
set -euo pipefail

# A release tag or revision names one path segment of a download URL: letters, digits and
# . _ + - only, no "..", so `version: ../../other/release` cannot reach another release.
is_plain_ref() {
  [[ "$1" =~ ^[A-Za-z0-9][A-Za-z0-9._+-]{0,127}$ ]] && [[ "$1" != *..* ]]
}
if [ -n "${T3S3_VERSION:-}" ] && ! is_plain_ref "$T3S3_VERSION"; then
  echo "::error::version '$T3S3_VERSION' is not a release tag or commit (letters, digits, . _ + -; no '..'); refusing it"
  exit 1
fi
tag="${T3S3_VERSION:-${T3S3_ACTION_REF:-}}"
# A branch like feature/x has no release of its own: build from the checkout instead.
is_plain_ref "$tag" || tag=""
releases="${T3S3_RELEASES:-https://github.com/${T3S3_REPO}/releases/download}"
# Downloads go over HTTPS only (no redirect to plain HTTP); the tests serve a release on
# loopback, the one place plain HTTP is allowed.
proto='=https'
case "$releases" in http://127.0.0.1:*) proto='=http,https' ;; esac
case "${RUNNER_OS:-}-${RUNNER_ARCH:-}" in
  Linux-X64) target=x86_64-unknown-linux-gnu ;;
  Linux-ARM64) target=aarch64-unknown-linux-gnu ;;
  macOS-X64) target=x86_64-apple-darwin ;;
  macOS-ARM64) target=aarch64-apple-darwin ;;
  Windows-X64) target=x86_64-pc-windows-msvc ;;
  *) target="" ;;
esac
exe=t3s3
[ "${RUNNER_OS:-}" = Windows ] && exe=t3s3.exe
asset="t3s3-${target}${exe#t3s3}"

sha256() {
  if command -v sha256sum > /dev/null; then sha256sum "$1" | cut -d' ' -f1; else shasum -a 256 "$1" | cut -d' ' -f1; fi
}

root="${RUNNER_TEMP:?}/t3s3"
bin="$root/bin"
mkdir -p "$bin"
if [ -n "$tag" ] && [ -n "$target" ] \
  && curl --proto "$proto" --proto-redir "$proto" -fsSL --retry 3 -o "$bin/SHA256SUMS" "$releases/$tag/SHA256SUMS" \
  && curl --proto "$proto" --proto-redir "$proto" -fsSL --retry 3 -o "$bin/$exe" "$releases/$tag/$asset"; then
  expected=$(awk -v name="$asset" '$2 == name || $2 == "*" name { print $1 }' "$bin/SHA256SUMS")
  actual=$(sha256 "$bin/$exe")
  if [ -z "$expected" ] || [ "$expected" != "$actual" ]; then
    rm -f "$bin/$exe"
    echo "::error::t3s3 $tag: $asset does not match the release's SHA256SUMS (expected ${expected:-no entry}, got $actual); refusing it"
    exit 1
  fi
  chmod +x "$bin/$exe"
  echo "$bin" >> "${GITHUB_PATH:?}"
  echo "t3s3 $tag ($asset, sha256 $actual) installed from $releases"
  exit 0
fi

echo "::notice::no t3s3 release binary for ${tag:-this ref} on ${RUNNER_OS:-?}/${RUNNER_ARCH:-?}; building from source with cargo (several minutes)"
if [ -n "${T3S3_VERSION:-}" ]; then
  cargo install --locked --root "$root" --git "https://github.com/${T3S3_REPO}" --rev "$T3S3_VERSION" t3s3
else
  cargo install --locked --root "$root" --path "${T3S3_SOURCE:?}"
fi
echo "$bin" >> "${GITHUB_PATH:?}"
