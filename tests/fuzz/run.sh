#!/usr/bin/env bash
# Runs every libFuzzer target of BUILD_DIR for SECONDS each over its seed corpus and
# prints one line per target with the executions; any finding fails the run.
# Usage: tests/fuzz/run.sh BUILD_DIR [SECONDS]
# The seeds are read from tests/fuzz/corpus/<target>/ and never modified: new inputs go
# to BUILD_DIR/fuzz-corpus/<target>/, findings to BUILD_DIR/fuzz-findings/.
set -uo pipefail
build=$1
seconds=${2:-20}
here=$(cd "$(dirname "$0")" && pwd)
targets="fuzz_event fuzz_batch fuzz_timestamp fuzz_query fuzz_subscription fuzz_tenants_yaml fuzz_env fuzz_streams fuzz_framer"
mkdir -p "$build/fuzz-findings"
failed=0
for t in $targets; do
  work="$build/fuzz-corpus/$t"
  mkdir -p "$work"
  log="$build/fuzz-findings/$t.log"
  # -max_len bounds inputs (bodies are parsed whole; 64 KiB covers deep nesting);
  # -rss_limit_mb and -timeout turn memory blow-ups and hangs into findings.
  "$build/tests/fuzz/$t" "$work" "$here/corpus/$t" -max_total_time="$seconds" \
    -max_len=65536 -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
    -artifact_prefix="$build/fuzz-findings/$t-" >"$log" 2>&1
  rc=$?
  execs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$')
  cov=$(grep -o 'cov: [0-9]*' "$log" | tail -1)
  echo "$t: rc=$rc execs=${execs:-?} ${cov} corpus=$(ls "$work" | wc -l)"
  if [ "$rc" -ne 0 ]; then
    failed=1
    grep -A30 -m1 'ERROR\|invariant failed\|deadly signal' "$log" | head -40
  fi
done
exit $failed
