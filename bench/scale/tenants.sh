#!/usr/bin/env bash
# SPEC §10 scale: TENANTS configured tenants, every one receiving appends and reads within
# a minute; reports requests by status, the server's peak threads and RSS, open
# descriptors, the open-tenant budget's figures and any EMFILE.
# Usage: bench/scale/tenants.sh [BUILD_DIR] (environment: TENANTS=10000 THREADS=32
#        ROUNDS=1, PORT=18860, and any server settings)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
build=${1:-$here/../../build-release}
bin=$build/ebuse
client=$build/bench/tenants_client
tenants=${TENANTS:-10000}
threads=${THREADS:-32}
rounds=${ROUNDS:-1}
port=${PORT:-18860}
for f in "$bin" "$client"; do
  [ -x "$f" ] || { echo "missing $f: build with -DCMAKE_BUILD_TYPE=Release first" >&2; exit 1; }
done
work=$(mktemp -d)
pid=
spid=
cleanup() {
  # A waited-for process killed by the signal returns non-zero: not an error here.
  for p in $spid $pid; do kill "$p" 2>/dev/null && wait "$p" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT
{
  echo "data_dir: \"$work/data\""
  echo "tenants:"
  for i in $(seq 1 "$tenants"); do
    printf '  - name: "t%d"\n    api_key: "key-%d"\n' "$i" "$i"
  done
} >"$work/tenants.yaml"

HOST=127.0.0.1 PORT=$port LOG_LEVEL=${LOG_LEVEL:-warn} RATE_LIMIT=0 MAX_CONNS_PER_IP=100000 \
  ADMIN_API_KEY=bench-admin \
  "$bin" -config "$work/tenants.yaml" >"$work/server.log" 2>&1 &
pid=$!
for _ in $(seq 1 1000); do curl -s -o /dev/null "http://127.0.0.1:$port/health" && break; sleep 0.01; done

# Peak threads, RSS and descriptors, sampled every 200 ms while the load runs.
(
  peak_t=0 peak_r=0 peak_f=0
  while kill -0 "$pid" 2>/dev/null; do
    t=$(awk '/^Threads:/{print $2}' "/proc/$pid/status" 2>/dev/null || echo 0)
    r=$(awk '/^VmRSS:/{print $2}' "/proc/$pid/status" 2>/dev/null || echo 0)
    f=$(ls "/proc/$pid/fd" 2>/dev/null | wc -l)
    [ "$t" -gt "$peak_t" ] && peak_t=$t
    [ "$r" -gt "$peak_r" ] && peak_r=$r
    [ "$f" -gt "$peak_f" ] && peak_f=$f
    echo "$peak_t $peak_r $peak_f" >"$work/peak"
    sleep 0.2
  done
) &
spid=$!

"$client" 127.0.0.1 "$port" "$tenants" "$threads" "$rounds" | tee "$work/client.out"
sleep 0.5
curl -s -H 'X-API-Key: bench-admin' "http://127.0.0.1:$port/metrics/prometheus" \
  | grep -E '^ebuse_(tenants_(open|active|open_budget)|tenant_(budget|idle)_[a-z_]+|tenant_spawns_total) ' || true
read -r pt pr pf <"$work/peak"
echo "server peak: $pt threads, $((pr / 1024)) MiB RSS, $pf descriptors"
echo "EMFILE / too many open files in the log: $(grep -ci 'too many open files\|emfile' "$work/server.log" || true)"
grep -m3 -i 'error' "$work/server.log" || true
