#!/usr/bin/env bash
# Start-up time, threads and RSS of the server with many configured and few active tenants.
# Usage: bench/tenants_scale.sh [BINARY] [CONFIGURED] [ACTIVE]
# With PG_URL set the tenants are stored there (PostgreSQL), and each active tenant
# also gets a read and a subscription read (bench/scale/pg_tenant_threads.sh).
set -euo pipefail
bin=${1:-build-release/ebuse}
configured=${2:-1000}
active=${3:-50}
port=${PORT:-18777}
work=$(mktemp -d)
trap 'kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; rm -rf "$work"' EXIT

{
  if [ -n "${PG_URL:-}" ]; then
    echo "storage: postgres"
    echo "database_url: \"$PG_URL\""
  else
    echo "data_dir: \"$work/data\""
  fi
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
  if [ -n "${PG_URL:-}" ]; then
    curl -sf "http://127.0.0.1:$port/events?from=0" -H "X-API-Key: key-$i" >/dev/null
    curl -sf "http://127.0.0.1:$port/subscriptions/s/position" -H "X-API-Key: key-$i" >/dev/null
  fi
  if [ "$i" = 1 ]; then echo "after 1 tenant became active: $(status)"; fi
done
echo "after $active tenants became active: $(status)"
