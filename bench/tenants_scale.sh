#!/usr/bin/env bash
# Start-up time, threads and RSS of the server with many configured and few active tenants.
# Usage: bench/tenants_scale.sh [BINARY] [CONFIGURED] [ACTIVE]
set -euo pipefail
bin=${1:-build-release/ebuse}
configured=${2:-1000}
active=${3:-50}
port=${PORT:-18777}
work=$(mktemp -d)
trap 'kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; rm -rf "$work"' EXIT

{
  echo "data_dir: \"$work/data\""
  echo "tenants:"
  for i in $(seq 1 "$configured"); do
    echo "  - name: \"tenant-$i\""
    echo "    api_key: \"key-$i\""
  done
} >"$work/tenants.yaml"

status() { # threads and RSS (KiB) of the server
  awk '/^Threads:/{t=$2} /^VmRSS:/{r=$2} END{printf "%s threads, %s KiB RSS", t, r}' \
    "/proc/$pid/status"
}

start=$(date +%s%N)
HOST=127.0.0.1 PORT=$port LOG_LEVEL=warn RATE_LIMIT=0 "$bin" -config "$work/tenants.yaml" \
  >"$work/server.log" 2>&1 &
pid=$!
for _ in $(seq 1 500); do
  curl -sf "http://127.0.0.1:$port/health" >/dev/null 2>&1 && break
  sleep 0.01
done
ready=$(date +%s%N)
echo "configured tenants: $configured"
echo "start-up until /health answers: $(( (ready - start) / 1000000 )) ms"
echo "idle: $(status)"

for i in $(seq 1 "$active"); do
  curl -sf -X POST "http://127.0.0.1:$port/events" -H "X-API-Key: key-$i" \
    -d '{"type":"bench","data":{"i":'"$i"'}}' >/dev/null
done
echo "after $active tenants became active: $(status)"
