#!/usr/bin/env bash
# make test: a working database, then the whole suite with -race. Each test
# creates and drops its own database, named under this run's prefix
# (bangfu_t_<run>_); at the end the run drops what is left under its own
# prefix — never another run's databases on the same server.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ -z "${DATABASE_URL:-}" ]; then
  DATABASE_URL=$(scripts/devdb.sh bangfu_test)
fi
export DATABASE_URL
# This run's token: a fresh random part, after the caller's BANGFU_TEST_RUN
# (a name, at most 8 of its letters or digits) when set. Always fresh, so
# that two runs started with the same BANGFU_TEST_RUN still drop only their
# own databases; only [a-z0-9], as pgtest.RunPrefix requires, so that the
# cleanup's LIKE pattern below holds no wildcard.
base=${BANGFU_TEST_RUN:-}
if [[ ! $base =~ ^[a-z0-9]*$ ]]; then
  echo "test: BANGFU_TEST_RUN may hold only lowercase letters and digits, got '$base'" >&2
  exit 2
fi
BANGFU_TEST_RUN=${base:0:8}$(od -An -N4 -tx1 /dev/urandom | tr -d ' \n')
export BANGFU_TEST_RUN
scripts/chromium.sh
# axe-core, pinned, for the accessibility checks of the browser tests.
BANGFU_AXE=${BANGFU_AXE:-$(scripts/axe.sh)}
export BANGFU_AXE

cleanup() {
  command -v psql >/dev/null || return 0
  psql -X -q -w "$DATABASE_URL" -tAc "select datname from pg_database where datname like 'bangfu\_t\_${BANGFU_TEST_RUN}\_%'" 2>/dev/null |
    while read -r name; do
      [ -n "$name" ] && psql -X -q -w "$DATABASE_URL" -c "DROP DATABASE IF EXISTS \"$name\" WITH (FORCE)" >/dev/null 2>&1 || true
    done
}
trap cleanup EXIT

# The whole suite also fuzzes every target for a bounded time (FUZZTIME,
# default 10s each, one fuzzing worker), in a process of its own beside the
# tests rather than after them; the tests run three packages at a time,
# since the slow ones (the browser, crash, outage and multi-process walks)
# mostly wait.
fuzzpid=
if [ $# -eq 0 ]; then
  fuzzlog=$(mktemp)
  FUZZTIME=${FUZZTIME:-10s} FUZZPARALLEL=1 scripts/fuzz.sh >"$fuzzlog" 2>&1 &
  fuzzpid=$!
fi
status=0
go test -race -count=1 -timeout 20m -p 3 "${@:-./...}" || status=$?
if [ -n "$fuzzpid" ]; then
  if wait "$fuzzpid"; then
    tail -n 1 "$fuzzlog"
  else
    cat "$fuzzlog"
    echo "test: bounded fuzzing found a failing input (see above)" >&2
    status=1
  fi
  rm -f "$fuzzlog"
fi
exit "$status"
