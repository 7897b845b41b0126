#!/usr/bin/env bash
# Durable Streams: ebuse against the protocol's reference server (@durable-streams/server,
# file-backed store), one after the other in the same run on fresh data, loopback only.
# Measures (a) appends at 16 connections to one stream and to 16 streams (wrk), (b) a
# catch-up read from offset -1 of MESSAGES small JSON messages written in appends of BATCH
# (the same stored units on both servers: each stores one record per append), (c) long-poll
# wake-up latency (append sent -> parked long-poll answered), and prints figures and ratios.
# The reference is also run without its per-append syncs (REF_NO_FSYNC=1, appends and
# long-polls): the durability of ebuse's commits (WAL, synchronous=NORMAL, no fsync per
# commit). For ebuse alone it also reads MESSAGES one-message appends (as ebu writes them):
# the reference, which syncs every append, would take many minutes to be seeded so.
# Usage: bench/ds/compare.sh [BUILD_DIR]   (default build-release)
# Environment: DURATION=5s per wrk run, MESSAGES=100000, BATCH=100, ROUNDS=200 long-polls,
#   PORT=18960 (ours; the reference gets PORT+1), EBUSE_NPM_CACHE_BENCH (default
#   ~/.cache/ebuse-ds-bench: the reference's npm packages, never put in the source tree).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
build=${1:-$here/../../build-release}
bin=$build/ebuse
duration=${DURATION:-5s}
messages=${MESSAGES:-100000}
batch=${BATCH:-100}
rounds=${ROUNDS:-200}
port=${PORT:-18960}
rport=$((port + 1))
[ -x "$bin" ] || { echo "missing $bin: build with -DCMAKE_BUILD_TYPE=Release first" >&2; exit 1; }
command -v wrk >/dev/null || { echo "wrk is not installed" >&2; exit 1; }
command -v node >/dev/null || { echo "node (>= 20) is not installed" >&2; exit 1; }

cache=${EBUSE_NPM_CACHE_BENCH:-${HOME}/.cache/ebuse-ds-bench}
mkdir -p "$cache"
if [ ! -d "$cache/node_modules" ] || ! cmp -s "$here/package-lock.json" "$cache/package-lock.json"; then
  cp "$here/package.json" "$here/package-lock.json" "$cache/"
  # The store's native parts (lmdb, msgpackr) ship prebuilt: no install scripts needed.
  (cd "$cache" && timeout 600 npm ci --no-audit --no-fund --ignore-scripts)
fi
cp "$here/reference_server.mjs" "$here/nosync_hooks.mjs" "$here/client.mjs" "$cache/"

work=$(mktemp -d)
pid=
cleanup() {
  if [ -n "$pid" ]; then kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT
export LUA_DIR="$here/../http"
ticks=$(getconf CLK_TCK)
cpu_s() { awk -v t="$ticks" '{printf "%.1f", ($14 + $15) / t}' "/proc/$1/stat"; }

start_ours() {
  mkdir -p "$work/ours"
  HOST=127.0.0.1 PORT=$port API_KEY=bench-key DB_PATH="$work/ours/ds.db" DS_ANONYMOUS_TENANT=default \
    RATE_LIMIT=0 LOG_LEVEL=warn "$bin" >"$work/ours.log" 2>&1 &
  pid=$!
  base=http://127.0.0.1:$port
  for _ in $(seq 1 500); do curl -s --max-time 2 -o /dev/null "$base/health" && return 0; sleep 0.02; done
  echo "ebuse did not start:" >&2; cat "$work/ours.log" >&2; return 1
}
start_reference() { # [REF_NO_FSYNC value]
  rm -rf "$work/ref"
  mkdir -p "$work/ref"
  REF_NO_FSYNC=${1:-0} node "$cache/reference_server.mjs" "$work/ref/data" "$rport" >"$work/ref.log" 2>&1 &
  pid=$!
  base=http://127.0.0.1:$rport
  for _ in $(seq 1 500); do grep -q '"url"' "$work/ref.log" && return 0; sleep 0.02; done
  echo "the reference server did not start:" >&2; cat "$work/ref.log" >&2; return 1
}
stop() { kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; pid=; }

declare -A r
field() { sed -n "s/.*[ ]$2=\([^ ]*\).*/\1/p" <<<"$1"; }
wrk_appends() { # name, streams
  local out rps
  for i in $(seq 0 $(($2 - 1))); do
    curl -sf --max-time 10 -o /dev/null -X PUT "$base/v1/stream/bench-append-$2-$i" -H 'Content-Type: application/json'
  done
  out=$(STREAM_PREFIX=/v1/stream/bench-append-$2 STREAMS=$2 \
    timeout 120 wrk -t2 -c16 -d"$duration" --timeout 10s -s "$here/append.lua" "$base" | grep '^RESULT')
  rps=$(awk -v n="$(field "$out" requests)" -v d="$(field "$out" duration_us)" 'BEGIN{printf "%.0f", n/(d/1e6)}')
  r[$1.app$2]=$rps
  r[$1.app$2p99]=$(awk -v u="$(field "$out" p99_us)" 'BEGIN{printf "%.2f", u/1000}')
  r[$1.app$2err]=$(( $(field "$out" errors) + $(field "$out" non2xx) ))
}
measure() { # name
  local n=$1 out cpu0
  cpu0=$(cpu_s "$pid")
  wrk_appends "$n" 1
  wrk_appends "$n" 16
  r[$n.cpu_app]=$(awk -v a="$(cpu_s "$pid")" -v b="$cpu0" 'BEGIN{printf "%.1f", a-b}')
  out=$(timeout 600 node "$cache/client.mjs" seed "$base/v1/stream/bench-read" "$messages" 16 "$batch")
  r[$n.seed]=$(field "$out" rate)
  cpu0=$(cpu_s "$pid")
  out=$(timeout 300 node "$cache/client.mjs" catchup "$base/v1/stream/bench-read" 3)
  r[$n.cpu_read]=$(awk -v a="$(cpu_s "$pid")" -v b="$cpu0" 'BEGIN{printf "%.1f", a-b}')
  r[$n.read_msgs]=$(field "$out" messages)
  r[$n.read_reqs]=$(field "$out" requests)
  r[$n.read_s]=$(field "$out" median_s)
  r[$n.read_rate]=$(field "$out" msgs_per_s)
  r[$n.read_mb]=$(field "$out" mb_per_s)
  if [ "$n" = ours ]; then
    out=$(timeout 600 node "$cache/client.mjs" seed "$base/v1/stream/bench-read1" "$messages" 16 1)
    r[$n.seed1]=$(field "$out" rate)
    out=$(timeout 300 node "$cache/client.mjs" catchup "$base/v1/stream/bench-read1" 3)
    r[$n.read1_rate]=$(field "$out" msgs_per_s)
    r[$n.read1_mb]=$(field "$out" mb_per_s)
    r[$n.read1_reqs]=$(field "$out" requests)
  fi
  out=$(timeout 300 node "$cache/client.mjs" longpoll "$base/v1/stream/bench-poll" "$rounds")
  r[$n.lp50]=$(field "$out" p50_ms)
  r[$n.lp99]=$(field "$out" p99_ms)
  r[$n.lpack]=$(field "$out" ack_p50_ms)
  r[$n.lperr]=$(field "$out" errors)
}

start_ours
measure ours
stop
start_reference
measure ref
stop
# Diagnosis: the reference without its per-append syncs (file fdatasync, LMDB commit sync).
start_reference 1
wrk_appends refnf 1
wrk_appends refnf 16
out=$(timeout 300 node "$cache/client.mjs" longpoll "$base/v1/stream/bench-poll" "$rounds")
r[refnf.lp50]=$(field "$out" p50_ms)
r[refnf.lp99]=$(field "$out" p99_ms)
r[refnf.lpack]=$(field "$out" ack_p50_ms)
stop

ratio() { awk -v a="$1" -v b="$2" 'BEGIN{ if (b > 0) printf "%.2f", a/b; else print "-" }'; }
echo
echo "machine: $(nproc) cores, $(uname -r); wrk -t2 -c16 -d$duration; $messages messages in appends of $batch; $rounds long-poll rounds"
printf '%-44s %14s %14s %8s %s\n' workload ebuse reference ratio target
row() { printf '%-44s %14s %14s %8s %s\n' "$1" "$2" "$3" "$4" "$5"; }
row "append c16, 1 stream (req/s)" "${r[ours.app1]}" "${r[ref.app1]}" "$(ratio "${r[ours.app1]}" "${r[ref.app1]}")" ">= 5"
row "  p99 (ms)" "${r[ours.app1p99]}" "${r[ref.app1p99]}" "" ""
row "append c16, 16 streams (req/s)" "${r[ours.app16]}" "${r[ref.app16]}" "$(ratio "${r[ours.app16]}" "${r[ref.app16]}")" ">= 5"
row "  p99 (ms)" "${r[ours.app16p99]}" "${r[ref.app16p99]}" "" ""
row "  reference without syncs (1; 16 streams)" "" "${r[refnf.app1]}; ${r[refnf.app16]}" \
  "$(ratio "${r[ours.app1]}" "${r[refnf.app1]}"); $(ratio "${r[ours.app16]}" "${r[refnf.app16]}")" ""
row "  errors + non-2xx (both append runs)" "$((r[ours.app1err] + r[ours.app16err]))" "$((r[ref.app1err] + r[ref.app16err]))" "" ""
row "  server CPU over both append runs (s)" "${r[ours.cpu_app]}" "${r[ref.cpu_app]}" "" ""
row "seed: node client c16, appends of $batch (/s)" "${r[ours.seed]}" "${r[ref.seed]}" "$(ratio "${r[ours.seed]}" "${r[ref.seed]}")" ""
row "catch-up $messages msgs (msgs/s, median of 3)" "${r[ours.read_rate]}" "${r[ref.read_rate]}" "$(ratio "${r[ours.read_rate]}" "${r[ref.read_rate]}")" ">= 5"
row "  MB/s" "${r[ours.read_mb]}" "${r[ref.read_mb]}" "" ""
row "  seconds / requests / messages read" "${r[ours.read_s]}/${r[ours.read_reqs]}/${r[ours.read_msgs]}" \
  "${r[ref.read_s]}/${r[ref.read_reqs]}/${r[ref.read_msgs]}" "" ""
row "  server CPU over 3 reads (s)" "${r[ours.cpu_read]}" "${r[ref.cpu_read]}" "" ""
row "ebuse only: seed c16, one message per append (/s)" "${r[ours.seed1]}" "" "" ""
row "ebuse only: catch-up of those (msgs/s; MB/s; requests)" "${r[ours.read1_rate]}; ${r[ours.read1_mb]}; ${r[ours.read1_reqs]}" "" "" ""
row "long-poll wake-up p50 (ms)" "${r[ours.lp50]}" "${r[ref.lp50]}" "$(ratio "${r[ours.lp50]}" "${r[ref.lp50]}")" "<= 0.5"
row "long-poll wake-up p99 (ms)" "${r[ours.lp99]}" "${r[ref.lp99]}" "$(ratio "${r[ours.lp99]}" "${r[ref.lp99]}")" "<= 0.5"
row "  reference without syncs (p50; p99)" "" "${r[refnf.lp50]}; ${r[refnf.lp99]}" \
  "$(ratio "${r[ours.lp50]}" "${r[refnf.lp50]}"); $(ratio "${r[ours.lp99]}" "${r[refnf.lp99]}")" ""
row "  the append's own round trip, p50 (ms)" "${r[ours.lpack]}" "${r[ref.lpack]}; ${r[refnf.lpack]}" "" ""
row "  long-poll errors" "${r[ours.lperr]}" "${r[ref.lperr]}" "" ""
