#!/usr/bin/env bash
# Starts the ebuse binary on a loopback port with the settings the Durable Streams
# conformance suite needs (requests without a key served by the tenant "default", 2 s
# long-polls, no rate limit), runs the suite against it (run.sh), and stops it.
# Usage: tests/conformance/serve_and_run.sh PATH/TO/ebuse [vitest options]
set -euo pipefail
bin=${1:?usage: serve_and_run.sh PATH/TO/ebuse [vitest options]}
shift
here=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d)
pid=
cleanup() {
  if [ -n "$pid" ]; then
    kill "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  fi
  rm -rf "$work"
}
trap cleanup EXIT
HOST=127.0.0.1 PORT=0 API_KEY=conformance-key DB_PATH="$work/ds.db" \
  DS_ANONYMOUS_TENANT=default DS_LONGPOLL_TIMEOUT=2s RATE_LIMIT=0 LOG_LEVEL=info \
  "$bin" >"$work/server.log" 2>&1 &
pid=$!
port=
for _ in $(seq 1 200); do
  port=$(grep -o '"port":[0-9]*' "$work/server.log" | head -n 1 | cut -d: -f2 || true)
  [ -n "$port" ] && break
  kill -0 "$pid" 2>/dev/null || break
  sleep 0.1
done
if [ -z "$port" ]; then
  echo "the server did not start:" >&2
  cat "$work/server.log" >&2
  exit 1
fi
DS_LONGPOLL_TIMEOUT_MS=2000 "$here/run.sh" "http://127.0.0.1:$port" "$@"
