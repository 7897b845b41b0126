#!/usr/bin/env bash
# SPEC §10 fairness: POST throughput at 16 connections and a new client's GET /position
# latency while 2,000 connections trickle their heads and 10,000 idle keep-alive
# connections are held, against the same build without them, in one run.
# Usage: bench/scale/flood.sh [BUILD_DIR] (environment: TRICKLE=2000 IDLE=10000
#        DURATION=10 seconds per load, PORT=18850)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
build=${1:-$here/../../build-release}
bin=$build/ebuse
client=$build/bench/flood_client
trickle=${TRICKLE:-2000}
idle=${IDLE:-10000}
duration=${DURATION:-10}
port=${PORT:-18850}
key=bench-key
for f in "$bin" "$client"; do
  [ -x "$f" ] || { echo "missing $f: build with -DCMAKE_BUILD_TYPE=Release first" >&2; exit 1; }
done
work=$(mktemp -d)
pid=
fpid=
cleanup() {
  for p in $fpid $pid; do kill "$p" 2>/dev/null && wait "$p" 2>/dev/null; done
  rm -rf "$work"
}
trap cleanup EXIT
export LUA_DIR=$here/../http BENCH_KEY=$key
url=http://127.0.0.1:$port

# The flood comes from one address: the per-address cap is lifted for it.
HOST=127.0.0.1 PORT=$port API_KEY=$key RATE_LIMIT=0 LOG_LEVEL=warn DB_PATH=$work/b.db \
  MAX_CONNS_PER_IP=100000 "$bin" >"$work/server.log" 2>&1 &
pid=$!
for _ in $(seq 1 500); do curl -s -o /dev/null "$url/health" && break; sleep 0.01; done

# Sets `rate` and `post_line`.
post_rate() {
  local out
  out=$(wrk -t2 -c16 -d"${duration}s" -s "$LUA_DIR/post_event.lua" "$url/events" | grep '^RESULT')
  eval "$(sed 's/^RESULT //; s/ /;/g' <<<"$out")"
  rate=$(awk -v r="$requests" -v d="$duration_us" 'BEGIN{printf "%.0f", r/(d/1e6)}')
  post_line="$rate req/s (errors $errors, non-2xx $non2xx)"
}

threads() { awk '/^Threads:/{print $2}' "/proc/$pid/status"; }
rss() { awk '/^VmRSS:/{printf "%.0f MiB", $2/1024}' "/proc/$pid/status"; }

post_rate
echo "without flood: POST c16 $post_line; server threads $(threads), RSS $(rss)"
base=$rate

"$client" 127.0.0.1 "$port" "$key" "$trickle" "$idle" $((duration + 8)) >"$work/flood.out" &
fpid=$!
for _ in $(seq 1 600); do grep -q READY "$work/flood.out" && break; sleep 0.1; done
grep READY "$work/flood.out" || { echo "flood did not establish" >&2; exit 1; }
post_rate
echo "with $trickle trickling + $idle idle: POST c16 $post_line; server threads $(threads), RSS $(rss)"
wait "$fpid"
fpid=
grep '^FLOOD' "$work/flood.out"
awk -v a="$base" -v b="$rate" 'BEGIN{printf "POST c16 ratio with/without flood: %.2f\n", b/a}'
