#!/usr/bin/env bash
# A/B of server builds on one workload: each round starts every build in turn on a fresh
# file with 100k seeded events and runs the same wrk load, so that the builds share the
# machine's state. Prints req/s, p99 and the server's CPU time per request per round.
# Usage: bench/http/compare.sh ROUNDS CONNS LUA PATH BINARY...
#   e.g. bench/http/compare.sh 3 64 post_event.lua /events old/ebuse build-release/ebuse
# Environment: DURATION=3s, PORT=18900, and any server variables (e.g. STORE_LINGER=0).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
rounds=$1 conns=$2 lua=$3 path=$4
shift 4
duration=${DURATION:-3s}
port=${PORT:-18900}
key=bench-key
work=$(mktemp -d)
pid=
cleanup() {
  [ -n "$pid" ] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT
# The server's CPU time so far (user + system), in clock ticks.
cpu_ticks() {
  awk '{print $14 + $15}' "/proc/$1/stat"
}
export LUA_DIR=$here BENCH_KEY=$key
python3 "$here/make_batch.py" "$work/batch.json"
threads=2
[ "$conns" -lt 2 ] && threads=1
declare -A results
for _ in $(seq 1 "$rounds"); do
  for bin in "$@"; do
    rm -f "$work"/b.db*
    HOST=127.0.0.1 PORT=$port API_KEY=$key RATE_LIMIT=0 LOG_LEVEL=warn DB_PATH=$work/b.db \
      "$bin" >"$work/server.log" 2>&1 &
    pid=$!
    for _ in $(seq 1 500); do
      curl -s -o /dev/null "http://127.0.0.1:$port/health" && break
      sleep 0.01
    done
    for _ in $(seq 1 100); do
      curl -sf -o /dev/null -X POST "http://127.0.0.1:$port/events/batch" \
        -H "X-API-Key: $key" --data-binary @"$work/batch.json"
    done
    cpu0=$(cpu_ticks "$pid")
    out=$(wrk -t"$threads" -c"$conns" -d"$duration" -s "$here/$lua" \
      "http://127.0.0.1:$port$path" | grep '^RESULT')
    cpu1=$(cpu_ticks "$pid")
    kill "$pid" && wait "$pid" 2>/dev/null || true
    pid=
    eval "$(sed 's/^RESULT //; s/ /;/g' <<<"$out")"
    rps=$(awk -v r="$requests" -v d="$duration_us" 'BEGIN{printf "%.0f", r/(d/1e6)}')
    cpu=$(awk -v t="$((cpu1 - cpu0))" -v hz="$(getconf CLK_TCK)" -v r="$requests" \
      'BEGIN{printf "%.0f", t / hz * 1e6 / r}')
    results[$bin]="${results[$bin]:-} ${rps}/s p99=$(awk -v u="$p99_us" 'BEGIN{print u/1000}')ms cpu=${cpu}us/req"
  done
done
for bin in "$@"; do
  echo "$bin:${results[$bin]}"
done
