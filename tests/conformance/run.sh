#!/bin/sh
# Runs the Durable Streams server conformance suite against URL, e.g.
#   tests/conformance/run.sh http://127.0.0.1:8080 [vitest options]
# The server must map requests without a key to a tenant (DS_ANONYMOUS_TENANT) and run
# with DS_LONGPOLL_TIMEOUT below ~4 s (tell this script with DS_LONGPOLL_TIMEOUT_MS,
# default 2000). The npm packages are installed once into EBUSE_NPM_CACHE
# (default ~/.cache/ebuse-conformance), never into the source tree. DS_SUBSCRIPTIONS=1 also
# runs the suite's 6 tests of the reserved subscription APIs (not served by ebuse).
set -eu
url=${1:?usage: run.sh URL [vitest options]}
shift
here=$(cd "$(dirname "$0")" && pwd)
cache=${EBUSE_NPM_CACHE:-${HOME}/.cache/ebuse-conformance}
mkdir -p "$cache"
if [ ! -d "$cache/node_modules" ] || ! cmp -s "$here/package-lock.json" "$cache/package-lock.json"; then
  cp "$here/package.json" "$here/package-lock.json" "$cache/"
  (cd "$cache" && npm ci --no-audit --no-fund --ignore-scripts)
fi
cp "$here/ds.test.mjs" "$here/vitest.config.mjs" "$cache/"
cd "$cache"
DS_URL="$url" DS_LONGPOLL_TIMEOUT_MS="${DS_LONGPOLL_TIMEOUT_MS:-2000}" \
  exec npx --no-install vitest run --config vitest.config.mjs "$@"
