#!/usr/bin/env bash
# HTTP load test: starts ebuse (Release, fresh data, rate limit off), seeds 100k events,
# runs every workload with wrk, and measures the HTTP and storage ceilings in the same run.
# Usage: bench/http/run.sh [BUILD_DIR]   (environment: DURATION=8s, PORT=18800)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
build=${1:-$here/../../build-release}
bin=$build/ebuse
trivial=$build/bench/trivial_server
sqlref=$build/bench/sqlite_ref
duration=${DURATION:-8s}
port=${PORT:-18800}
key=bench-key
for f in "$bin" "$trivial" "$sqlref"; do
  [ -x "$f" ] || { echo "missing $f: build with -DCMAKE_BUILD_TYPE=Release first" >&2; exit 1; }
done
command -v wrk >/dev/null || { echo "wrk is not installed (apt-get install wrk)" >&2; exit 1; }
work=$(mktemp -d)
pid=
tpid=
cleanup() {
  for p in $pid $tpid; do kill "$p" 2>/dev/null && wait "$p" 2>/dev/null; done
  rm -rf "$work"
}
trap cleanup EXIT
export LUA_DIR=$here BENCH_KEY=$key
url=http://127.0.0.1:$port
ticks=$(getconf CLK_TCK)

cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
rss_kib() { awk '/^VmRSS:/{print $2}' "/proc/$1/status"; }
anon_kib() { awk '/^RssAnon:/{print $2}' "/proc/$1/status"; }
wait_up() {
  for _ in $(seq 1 500); do
    curl -s -o /dev/null "$1" && return 0
    sleep 0.01
  done
  echo "server did not start at $1" >&2; cat "$work"/*.log >&2 || true
  return 1
}

HOST=127.0.0.1 PORT=$port API_KEY=$key RATE_LIMIT=0 LOG_LEVEL=warn DB_PATH=$work/bench.db \
  "$bin" >"$work/server.log" 2>&1 &
pid=$!
wait_up "$url/health"

# 100 000 events of ~200 bytes in batches of 1000.
python3 "$here/make_batch.py" "$work/batch.json"
seed() { # count
  for _ in $(seq 1 $(($1 / 1000))); do
    curl -sf -o /dev/null -X POST "$url/events/batch" -H "X-API-Key: $key" \
      --data-binary @"$work/batch.json"
  done
}
seed 100000

declare -A rows
run() { # name, connections, lua, path, events-per-request
  local name=$1 conns=$2 lua=$3 path=$4 per=$5 threads=2
  [ "$conns" -lt 2 ] && threads=1
  local c0 t0 out
  c0=$(cpu_ticks "$pid")
  t0=$(date +%s%N)
  out=$(wrk -t"$threads" -c"$conns" -d"$duration" -s "$here/$lua" "$url$path" | grep '^RESULT')
  local c1 t1
  c1=$(cpu_ticks "$pid")
  t1=$(date +%s%N)
  eval "$(sed 's/^RESULT //; s/ /;/g' <<<"$out")"
  local secs rps cpu
  secs=$(awk -v d="$duration_us" 'BEGIN{print d/1e6}')
  rps=$(awk -v r="$requests" -v s="$secs" 'BEGIN{printf "%.0f", r/s}')
  cpu=$(awk -v c=$((c1 - c0)) -v t="$ticks" -v ns=$((t1 - t0)) \
    'BEGIN{printf "%.0f%%", 100*c/t/(ns/1e9)}')
  rows[$name]=$rps
  printf "| %-34s | %9s | %10s | %8.2f | %8.2f | %6s | %7s | %5s |\n" "$name" "$rps" \
    "$(awk -v r="$rps" -v p="$per" 'BEGIN{printf "%.0f", r*p}')" \
    "$(awk -v u="$p50_us" 'BEGIN{print u/1000}')" "$(awk -v u="$p99_us" 'BEGIN{print u/1000}')" \
    "$errors" "$non2xx" "$cpu"
}

echo
echo "ebuse HTTP load test: $(nproc) cores, wrk $duration per workload, 100k events seeded"
echo
echo "| workload                           |     req/s |   events/s |  p50 ms |  p99 ms | errors | non-2xx |   cpu |"
echo "|---|---|---|---|---|---|---|---|"
run "POST /events, 1 conn" 1 post_event.lua /events 1
run "POST /events, 64 conns" 64 post_event.lua /events 1
run "POST /events/batch (100), 16 conns" 16 post_batch.lua /events/batch 100
run "GET /events from=1 to=100, 16 conns" 16 get.lua "/events?from=1&to=100" 100
run "GET /events from=1 (10k), 4 conns" 4 get.lua "/events?from=1" 10000
run "GET /position, 16 conns" 16 get.lua /position 0

# Streams of exactly 100 000 events, best of 5.
head=$(curl -s "$url/position" -H "X-API-Key: $key" | tr -dc 0-9)
best=999
for _ in 1 2 3 4 5; do
  t=$(curl -s -o /dev/null -w '%{time_total}' -H "X-API-Key: $key" \
    "$url/events/stream?from=$((head - 99999))&batch_size=5000")
  best=$(awk -v a="$best" -v b="$t" 'BEGIN{print (b<a)?b:a}')
done
echo "| GET /events/stream, 100k events    | ${best}s (best of 5) |"

# Memory over a stream of 1 000 000 events: RSS sampled while it runs.
have=$(curl -s "$url/position" -H "X-API-Key: $key" | tr -dc 0-9)
[ "$have" -lt 1000000 ] && seed $(( (1000000 - have + 999) / 1000 * 1000 ))
# RSS is the whole resident set; RssAnon leaves out mapped files (the binary and its
# libraries): the server's own memory. SQLite maps no database pages (mmap_size=0).
before=$(rss_kib "$pid")
anon_before=$(anon_kib "$pid")
curl -s -o /dev/null -H "X-API-Key: $key" "$url/events/stream?from=1&batch_size=5000" &
cpid=$!
peak=$before
anon_peak=$anon_before
while kill -0 "$cpid" 2>/dev/null; do
  r=$(rss_kib "$pid")
  a=$(anon_kib "$pid")
  [ "$r" -gt "$peak" ] && peak=$r
  [ "$a" -gt "$anon_peak" ] && anon_peak=$a
  sleep 0.02
done
echo "| stream of 1M events: server RSS    | ${before} KiB before, peak ${peak} KiB during |"
echo "| stream of 1M events: RssAnon       | ${anon_before} KiB before, peak ${anon_peak} KiB during |"
echo "| server peak RSS (whole run)        | $(awk '/^VmHWM:/{print $2}' "/proc/$pid/status") KiB |"
kill "$pid" && wait "$pid" 2>/dev/null || true
pid=

# References measured in this run.
# Its own port: the server's may still hold connections in TIME_WAIT.
turl=http://127.0.0.1:$((port + 1))
"$trivial" $((port + 1)) >"$work/trivial.log" 2>&1 &
tpid=$!
wait_up "$turl/position"
tri=$(wrk -t2 -c64 -d"$duration" -s "$here/post_event.lua" "$turl/events" | grep '^RESULT')
eval "$(sed 's/^RESULT //; s/ /;/g' <<<"$tri")"
tri_rps=$(awk -v r="$requests" -v d="$duration_us" 'BEGIN{printf "%.0f", r/(d/1e6)}')
tri=$(wrk -t1 -c1 -d"$duration" -s "$here/post_event.lua" "$turl/events" | grep '^RESULT')
eval "$(sed 's/^RESULT //; s/ /;/g' <<<"$tri")"
tri1_rps=$(awk -v r="$requests" -v d="$duration_us" 'BEGIN{printf "%.0f", r/(d/1e6)}')
kill "$tpid" && wait "$tpid" 2>/dev/null || true
tpid=
eval "$("$sqlref" "$work/ref.db" 2 | sed 's/^RESULT //; s/ /;/g')"

ratio() { awk -v a="$1" -v b="$2" 'BEGIN{printf "%.2f", a/b}'; }
echo
echo "References (same run):"
echo "| reference | rate | ebuse | ratio |"
echo "|---|---|---|---|"
echo "| trivial cpp-httplib responder, POST, 64 conns | $tri_rps req/s | ${rows["POST /events, 64 conns"]} req/s | $(ratio "${rows["POST /events, 64 conns"]}" "$tri_rps") |"
echo "| SQLite, one row per transaction | $single_tx_per_s tx/s | ${rows["POST /events, 1 conn"]} req/s (1 conn) | $(ratio "${rows["POST /events, 1 conn"]}" "$single_tx_per_s") |"
echo "| trivial responder, POST, 1 conn | $tri1_rps req/s | ${rows["POST /events, 1 conn"]} req/s | $(ratio "${rows["POST /events, 1 conn"]}" "$tri1_rps") |"
echo "| SQLite, 100 rows per transaction | $batch100_rows_per_s rows/s | $(( ${rows["POST /events/batch (100), 16 conns"]} * 100 )) events/s | $(ratio $(( ${rows["POST /events/batch (100), 16 conns"]} * 100 )) "$batch100_rows_per_s") |"
echo "| SQLite, 1024 rows per transaction, 64 per INSERT (as the writer groups) | $grouped_rows_per_s rows/s | $(( ${rows["POST /events/batch (100), 16 conns"]} * 100 )) events/s | $(ratio $(( ${rows["POST /events/batch (100), 16 conns"]} * 100 )) "$grouped_rows_per_s") |"
echo "| SQLite, full scan | $scan_rows_per_s rows/s | $(awk -v b="$best" 'BEGIN{printf "%.0f", 100000/b}') events/s (stream) | $(ratio "$(awk -v b="$best" 'BEGIN{printf "%.0f", 100000/b}')" "$scan_rows_per_s") |"
