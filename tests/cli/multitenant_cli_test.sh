#!/usr/bin/env bash
# The real binary in multi-tenant mode: config errors (exit 2), SIGHUP reload, SIGTERM.
# Usage: multitenant_cli_test.sh PATH/TO/ebuse
set -u
bin=$1
work=$(mktemp -d)
pid=
cleanup() {
  [ -n "$pid" ] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT
passed=0
failed=0
check() { # name, then a command that must succeed
  local name=$1
  shift
  if "$@"; then
    passed=$((passed + 1))
  else
    failed=$((failed + 1))
    echo "FAILED: $name"
  fi
}

# -- start-up errors name the problem and exit with 2 --------------------------------
expect_config_error() { # yaml text, expected message fragment
  printf '%s\n' "$1" >"$work/bad.yaml"
  local out rc
  out=$("$bin" -config "$work/bad.yaml" 2>&1)
  rc=$?
  [ "$rc" -eq 2 ] && grep -q -- "$2" <<<"$out"
}
check "no tenants" expect_config_error 'tenants: []' 'no tenants'
check "bad name" expect_config_error $'tenants:\n  - {name: "../x", api_key: k}' 'invalid name'
check "duplicate name" expect_config_error \
  $'tenants:\n  - {name: a, api_key: k}\n  - {name: a, api_key: j}' 'duplicate name'
check "duplicate key" expect_config_error \
  $'tenants:\n  - {name: a, api_key: k}\n  - {name: b, api_key: k}' 'duplicate API key'
check "empty key" expect_config_error $'tenants:\n  - {name: a, api_key: ""}' 'empty api_key'
anonymous_unknown() { # DS_ANONYMOUS_TENANT must name a configured tenant
  printf 'tenants:\n  - {name: a, api_key: k}\n' >"$work/anon.yaml"
  local out rc
  out=$(DS_ANONYMOUS_TENANT=zz "$bin" -config "$work/anon.yaml" 2>&1)
  rc=$?
  [ "$rc" -eq 2 ] && grep -q -- 'DS_ANONYMOUS_TENANT' <<<"$out"
}
check "anonymous tenant unknown" anonymous_unknown
check "bad yaml" expect_config_error 'tenants: [' 'unreadable YAML'
missing_file() {
  local out rc
  out=$("$bin" --config "$work/nope.yaml" 2>&1)
  rc=$?
  [ "$rc" -eq 2 ] && grep -q "cannot read" <<<"$out"
}
check "missing file" missing_file

# -- a running server: SIGHUP adds a tenant, an invalid file changes nothing -----------
cat >"$work/tenants.yaml" <<YAML
data_dir: "$work/data"
tenants:
  - {name: a, api_key: key-a}
YAML
port_file="$work/server.log"
PORT=0 HOST=127.0.0.1 LOG_LEVEL=info "$bin" -config "$work/tenants.yaml" >"$port_file" 2>&1 &
pid=$!
port=
for _ in $(seq 1 500); do
  port=$(grep -o '"port":[0-9]*' "$port_file" | head -1 | cut -d: -f2)
  [ -n "$port" ] && break
  sleep 0.01
done
url="http://127.0.0.1:$port"
status_of() { curl -s -o /dev/null -w '%{http_code}' -H "X-API-Key: $1" "$url/position"; }
check "server started" test -n "$port"
check "data_dir created 0700" test "$(stat -c %a "$work/data")" = 700
check "tenant a served" test "$(status_of key-a)" = 200
check "unknown key refused" test "$(status_of key-b)" = 401

cat >>"$work/tenants.yaml" <<YAML
  - {name: b, api_key: key-b}
YAML
kill -HUP "$pid"
reloaded() {
  for _ in $(seq 1 200); do
    [ "$(status_of key-b)" = 200 ] && return 0
    sleep 0.01
  done
  return 1
}
check "SIGHUP adds tenant b" reloaded
check "tenant a still served" test "$(status_of key-a)" = 200

echo 'tenants: []' >"$work/tenants.yaml"
kill -HUP "$pid"
rejected() {
  for _ in $(seq 1 200); do
    grep -q "reload rejected" "$port_file" && return 0
    sleep 0.01
  done
  return 1
}
check "invalid reload logged" rejected
check "invalid reload keeps b" test "$(status_of key-b)" = 200
check "keys never logged" bash -c "! grep -q 'key-a\|key-b' '$port_file'"

kill -TERM "$pid"
wait "$pid"
rc=$?
pid=
check "SIGTERM exits 0" test "$rc" -eq 0
check "database files 0600" test "$(stat -c %a "$work/data/a.db")" = 600

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
