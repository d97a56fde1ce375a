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
BANGFU_TEST_RUN=${BANGFU_TEST_RUN:-$(od -An -N6 -tx1 /dev/urandom | tr -d ' \n')}
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
go test -race -count=1 -timeout 20m "${@:-./...}"
