# Sourced by install-system-tools.sh: installs Debian packages the tests need,
# as root or with passwordless sudo, refreshing the package lists once if the first try fails.
#
#   source scripts/lib/apt.sh; apt_install zsh fish

apt_install() {
  local sudo=""
  if [ "$(id -u)" -ne 0 ]; then sudo="sudo -n"; fi
  $sudo apt-get install -y -qq "$@" > /dev/null \
    || { $sudo apt-get update -qq && $sudo apt-get install -y -qq "$@" > /dev/null; } \
    || { echo "cannot install $* (needs root or passwordless sudo); install them and run again" >&2; return 1; }
}
