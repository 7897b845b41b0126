#!/usr/bin/env bash
# PostgreSQL node vs SQLite node, same run: appends in batches of 100 at 16 connections and
# single POSTs at 64; then two PostgreSQL nodes serving different tenants vs one node
# serving both. Starts a private PostgreSQL 15 (initdb in a temp dir, loopback, run as the
# `postgres` user when started as root), the ebuse Release build and wrk.
# Usage: bench/pg/run.sh [BUILD_DIR]   (environment: DURATION=8s, PORT=18900)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
build=${1:-$here/../../build-release}
bin=$build/ebuse
pgbin=${EBUSE_PG_BIN:-/usr/lib/postgresql/15/bin}
duration=${DURATION:-8s}
port=${PORT:-18900}
pgport=$((port + 50))
key=bench-key
[ -x "$bin" ] || { echo "missing $bin: build with -DCMAKE_BUILD_TYPE=Release first" >&2; exit 1; }
command -v wrk >/dev/null || { echo "wrk is not installed (apt-get install wrk)" >&2; exit 1; }
work=$(mktemp -d)
chmod 755 "$work"
pids=()
as_pg() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null && wait "$p" 2>/dev/null; done
  [ -d "$work/pgdata" ] && as_pg "$pgbin/pg_ctl" -D "$work/pgdata" -m immediate stop >/dev/null 2>&1
  rm -rf "$work"
}
trap cleanup EXIT
export LUA_DIR=$here/../http BENCH_KEY=$key

# PostgreSQL: durable commits (fsync on, as in production), on the same machine.
mkdir "$work/pgdata" && [ "$(id -u)" = 0 ] && chown postgres: "$work/pgdata"
as_pg "$pgbin/initdb" -D "$work/pgdata" -U ebuse -A trust -E UTF8 >/dev/null
as_pg "$pgbin/pg_ctl" -D "$work/pgdata" -l "$work/pgdata/log" -w \
  -o "-p $pgport -k $work/pgdata -c listen_addresses=127.0.0.1 -c max_connections=200" start >/dev/null
dburl="postgresql://ebuse@127.0.0.1:$pgport/postgres"

wait_up() {
  for _ in $(seq 1 500); do
    curl -s -o /dev/null "$1" && return 0
    sleep 0.01
  done
  echo "server did not start at $1" >&2; cat "$work"/*.log >&2 || true
  return 1
}
# start NAME PORT [ENV...] [-- ARGS...]: an ebuse node in the background.
start() {
  local name=$1 p=$2 envs=()
  shift 2
  while [ $# -gt 0 ] && [ "$1" != -- ]; do envs+=("$1"); shift; done
  [ $# -gt 0 ] && shift
  env HOST=127.0.0.1 PORT="$p" RATE_LIMIT=0 LOG_LEVEL=warn "${envs[@]}" "$bin" "$@" \
    >"$work/$name.log" 2>&1 &
  pids+=($!)
  wait_up "http://127.0.0.1:$p/health"
}
stop_all() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null && wait "$p" 2>/dev/null || true; done
  pids=()
}
# wrk_rps CONNS LUA URL KEY: requests per second.
wrk_rps() {
  local out
  out=$(BENCH_KEY=$4 wrk -t2 -c"$1" -d"$duration" -s "$LUA_DIR/$2" "$3" | grep '^RESULT')
  eval "$(sed 's/^RESULT //; s/ /;/g' <<<"$out")"
  # shellcheck disable=SC2154
  awk -v r="$requests" -v d="$duration_us" 'BEGIN{printf "%.0f", r/(d/1e6)}'
  [ "$non2xx" = 0 ] || printf " (%s non-2xx)" "$non2xx"
  echo
}
ratio() { awk -v a="$1" -v b="$2" 'BEGIN{printf "%.2f", a/b}'; }

echo
echo "ebuse PostgreSQL vs SQLite: $(nproc) cores, wrk $duration per workload, PostgreSQL 15 on the same machine"
echo
start sqlite "$port" API_KEY=$key DB_PATH="$work/bench.db"
s_batch=$(wrk_rps 16 post_batch.lua "http://127.0.0.1:$port/events/batch" $key)
s_post=$(wrk_rps 64 post_event.lua "http://127.0.0.1:$port/events" $key)
stop_all
start pg "$port" API_KEY=$key STORAGE=postgres DATABASE_URL="$dburl"
p_batch=$(wrk_rps 16 post_batch.lua "http://127.0.0.1:$port/events/batch" $key)
p_post=$(wrk_rps 64 post_event.lua "http://127.0.0.1:$port/events" $key)
stop_all
echo "| workload | SQLite req/s | PostgreSQL req/s | PostgreSQL / SQLite |"
echo "|---|---|---|---|"
echo "| POST /events/batch (100), 16 conns | $s_batch | $p_batch | $(ratio "${p_batch%% *}" "${s_batch%% *}") |"
echo "| POST /events, 64 conns | $s_post | $p_post | $(ratio "${p_post%% *}" "${s_post%% *}") |"

# Two tenants, 32 connections each: one node serving both vs one node each.
cat >"$work/tenants.yaml" <<YAML
storage: postgres
database_url: "$dburl"
tenants:
  - name: ta
    api_key: key-a
  - name: tb
    api_key: key-b
YAML
both() { # PORT_A PORT_B: summed req/s of the two tenants' loads run at once
  local fa="$work/a.out" fb="$work/b.out"
  wrk_rps 32 post_event.lua "http://127.0.0.1:$1/events" key-a >"$fa" &
  local wa=$!
  wrk_rps 32 post_event.lua "http://127.0.0.1:$2/events" key-b >"$fb" &
  local wb=$!
  wait $wa $wb
  awk -v a="$(cut -d' ' -f1 "$fa")" -v b="$(cut -d' ' -f1 "$fb")" 'BEGIN{print a + b}'
}
start one "$port" -- -config "$work/tenants.yaml"
one_rps=$(both "$port" "$port")
stop_all
start n1 "$port" -- -config "$work/tenants.yaml"
start n2 $((port + 1)) -- -config "$work/tenants.yaml"
two_rps=$(both "$port" $((port + 1)))
stop_all
echo
echo "| two tenants, POST /events, 32 conns each | req/s (both) | / one node |"
echo "|---|---|---|"
echo "| one PostgreSQL node serving both | $one_rps | 1.00 |"
echo "| two PostgreSQL nodes, one tenant each | $two_rps | $(ratio "$two_rps" "$one_rps") |"
