#!/usr/bin/env bash
# The cost of safe appends (SPEC §11): POST /events at 64 connections and batches of 100
# at 16, plain, with expected_position and with a unique Idempotency-Key, in one run
# against one Release server. Usage: bench/http/safe.sh [BUILD_DIR]
# (environment: DURATION=8s, PORT=18810)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
build=${1:-$here/../../build-release}
bin=$build/ebuse
duration=${DURATION:-8s}
port=${PORT:-18810}
key=bench-key
[ -x "$bin" ] || { echo "missing $bin: build with -DCMAKE_BUILD_TYPE=Release first" >&2; exit 1; }
command -v wrk >/dev/null || { echo "wrk is not installed (apt-get install wrk)" >&2; exit 1; }
work=$(mktemp -d)
pid=
cleanup() {
  [ -n "$pid" ] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT
export LUA_DIR=$here BENCH_KEY=$key
url=http://127.0.0.1:$port
ticks=$(getconf CLK_TCK)
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }

HOST=127.0.0.1 PORT=$port API_KEY=$key RATE_LIMIT=0 LOG_LEVEL=warn DB_PATH=$work/bench.db \
  "$bin" >"$work/server.log" 2>&1 &
pid=$!
for _ in $(seq 1 500); do curl -s -o /dev/null "$url/health" && break; sleep 0.01; done

run() { # name, connections, mode, batch (0/1)
  local name=$1 conns=$2 mode=$3 batch=$4
  local head c0 out c1 threads=2
  [ "$conns" -lt 2 ] && threads=1
  head=$(curl -s "$url/position" -H "X-API-Key: $key" | tr -dc 0-9)
  c0=$(cpu_ticks "$pid")
  out=$(SAFE_MODE=$mode SAFE_BATCH=$batch SAFE_HEAD=$head \
    wrk -t"$threads" -c"$conns" -d"$duration" -s "$here/safe_append.lua" "$url" | grep '^RESULT')
  c1=$(cpu_ticks "$pid")
  eval "$(sed 's/^RESULT //; s/ /;/g' <<<"$out")"
  local written now
  now=$(curl -s "$url/position" -H "X-API-Key: $key" | tr -dc 0-9)
  written=$((now - head))
  local secs rps cpu_per_req
  secs=$(awk -v d="$duration_us" 'BEGIN{print d/1e6}')
  rps=$(awk -v r="$requests" -v s="$secs" 'BEGIN{printf "%.0f", r/s}')
  # Server CPU time per request (µs): the cost this table compares.
  cpu_per_req=$(awk -v c=$((c1 - c0)) -v t="$ticks" -v r="$requests" \
    'BEGIN{printf "%.1f", 1e6*c/t/r}')
  printf "| %-40s | %8s | %10s | %7.2f | %7.2f | %7s | %6s |\n" "$name" "$rps" \
    "$(awk -v w="$written" -v s="$secs" 'BEGIN{printf "%.0f", w/s}')" \
    "$(awk -v u="$p50_us" 'BEGIN{print u/1000}')" "$(awk -v u="$p99_us" 'BEGIN{print u/1000}')" \
    "$non2xx" "$cpu_per_req"
}

echo
echo "ebuse safe appends: $(nproc) cores, wrk $duration per workload"
echo
echo "| workload                                 |    req/s |   events/s |  p50 ms |  p99 ms | non-2xx | cpu µs/req |"
echo "|---|---|---|---|---|---|---|"
run "POST /events, 1 conn, plain" 1 plain 0
run "POST /events, 1 conn, expected_position" 1 expected 0
run "POST /events, 1 conn, Idempotency-Key" 1 key 0
run "POST /events, 64 conns, plain" 64 plain 0
run "POST /events, 64 conns, expected_position" 64 expected 0
run "POST /events, 64 conns, Idempotency-Key" 64 key 0
run "POST /events/batch (100), 16 conns, plain" 16 plain 1
run "POST /events/batch (100), 16 conns, expected_position" 16 expected 1
run "POST /events/batch (100), 16 conns, Idempotency-Key" 16 key 1
