#!/bin/bash
# Finite streams and slow readers, two builds in one run: the time of one GET
# /events/stream of 100 000 events (best of 7, alternating), and how long a new client's
# GET /position takes while 8 clients read a large stream at 100 KB/s each with
# HTTP_THREADS=4. Usage: slow_readers.sh BEFORE_BINARY AFTER_BINARY
set -u
[ $# -eq 2 ] || { echo "usage: $0 BEFORE_BINARY AFTER_BINARY" >&2; exit 2; }
here=$(cd "$(dirname "$0")" && pwd)
key=bench-key
work=$(mktemp -d)
declare -A pid url
cleanup() {
  for p in "${pid[@]}"; do kill "$p" 2>/dev/null && wait "$p" 2>/dev/null; done
  rm -rf "$work"
}
trap cleanup EXIT
start() { # bin port dir
  HOST=127.0.0.1 PORT=$2 API_KEY=$key RATE_LIMIT=0 LOG_LEVEL=warn HTTP_THREADS=4 DB_PATH=$3/bench.db \
    "$1" >"$3/server.log" 2>&1 &
  echo $!
}
wait_up() { for _ in $(seq 1 500); do curl -s -o /dev/null "$1/health" && return 0; sleep 0.01; done; return 1; }
python3 "$here/make_batch.py" $work/batch.json
i=0
for name in before after; do
  bin=$1; [ $name = after ] && bin=$2
  d=$work/$name; mkdir -p $d
  port=$((18870 + i)); i=$((i+1))
  pid[$name]=$(start "$bin" $port $d)
  url[$name]=http://127.0.0.1:$port
  wait_up ${url[$name]}
  for _ in $(seq 1 100); do curl -sf -o /dev/null -X POST "${url[$name]}/events/batch" -H "X-API-Key: $key" --data-binary @$work/batch.json; done
done
echo "load: $(cat /proc/loadavg)"
for round in 1 2 3 4 5 6 7; do
  for name in before after; do
    t=$(curl -s -o /dev/null -w '%{time_total}' -H "X-API-Key: $key" "${url[$name]}/events/stream?from=1&batch_size=5000")
    echo "stream $name $t"
  done
done
for name in before after; do
  # 8 slow readers (100 KB/s each) of the same 100k-event stream, then a new client's /position.
  cpids=""
  for _ in 1 2 3 4 5 6 7 8; do
    curl -s -o /dev/null --limit-rate 100k --max-time 20 -H "X-API-Key: $key" "${url[$name]}/events/stream?from=1&batch_size=1000" & cpids="$cpids $!"
  done
  sleep 2
  t=$(curl -s -o /dev/null -w '%{time_total} %{http_code}' --max-time 10 -H "X-API-Key: $key" "${url[$name]}/position")
  echo "position-with-8-slow-readers $name $t"
  for p in $cpids; do kill $p 2>/dev/null; wait $p 2>/dev/null; done
done
echo "load: $(cat /proc/loadavg)"
