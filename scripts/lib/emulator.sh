# Sourced by demo.sh, bench.sh and prowler-audit.sh: a moto server on a free 127.0.0.1 port,
# with only the emulator's throwaway credentials in the environment (never the developer's
# own AWS settings), stopped when the script exits.
#
#   source scripts/lib/emulator.sh; start_emulator
#   -> $endpoint (http://127.0.0.1:PORT), $moto (its pid), $work (a temp folder removed at exit)

start_emulator() {
  unset AWS_PROFILE AWS_DEFAULT_PROFILE AWS_SESSION_TOKEN AWS_REGION AWS_DEFAULT_REGION AWS_ENDPOINT_URL
  export AWS_EC2_METADATA_DISABLED=true AWS_CONFIG_FILE=/dev/null AWS_SHARED_CREDENTIALS_FILE=/dev/null
  export AWS_ACCESS_KEY_ID=AKIAIOSFODNN7EXAMPLE AWS_SECRET_ACCESS_KEY=wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY
  local port
  port=$("$repo/.venv/bin/python" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
  "$repo/.venv/bin/moto_server" -H 127.0.0.1 -p "$port" >/dev/null 2>&1 &
  moto=$!
  work=$(mktemp -d)
  # shellcheck disable=SC2064  # the values are fixed now, on purpose
  trap "kill $moto 2>/dev/null; rm -rf '$work'" EXIT
  local _
  for _ in $(seq 100); do
    (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break
    sleep 0.1
  done
  endpoint="http://127.0.0.1:$port"
}
