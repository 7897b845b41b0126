#!/usr/bin/env bash
# Threads and RSS of a PostgreSQL-backed node as its tenants become active, for one or more
# builds in the same run (bench/tenants_scale.sh against a private PostgreSQL 15: initdb in
# a temp dir, loopback, run as the `postgres` user when started as root).
# Usage: bench/scale/pg_tenant_threads.sh TENANTS BINARY...   (environment: PORT=18950)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
tenants=${1:?usage: $0 TENANTS BINARY...}
shift
pgbin=${EBUSE_PG_BIN:-/usr/lib/postgresql/15/bin}
pgport=$((${PORT:-18950} + 50))
work=$(mktemp -d)
chmod 755 "$work"
as_pg() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }
cleanup() {
  as_pg "$pgbin/pg_ctl" -D "$work/pgdata" -m immediate stop >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT

mkdir "$work/pgdata" && [ "$(id -u)" = 0 ] && chown postgres: "$work/pgdata"
as_pg "$pgbin/initdb" -D "$work/pgdata" -U ebuse -A trust -E UTF8 >/dev/null
as_pg "$pgbin/pg_ctl" -D "$work/pgdata" -l "$work/pgdata/log" -w -o "-p $pgport -k $work/pgdata \
  -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=$((tenants + 50))" start >/dev/null

n=0
for bin in "$@"; do
  n=$((n + 1))
  as_pg "$pgbin/createdb" -h 127.0.0.1 -p "$pgport" -U ebuse "run$n"
  echo "$bin"
  PG_URL="postgresql://ebuse@127.0.0.1:$pgport/run$n" PORT=${PORT:-18950} \
    "$here/../tenants_scale.sh" "$bin" "$tenants" "$tenants"
done
