#!/usr/bin/env bash
# make test: a working database, then the whole suite with -race. Each test
# creates and drops its own database; leftovers of an interrupted run and
# the shared template are removed at the end.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ -z "${DATABASE_URL:-}" ]; then
  DATABASE_URL=$(scripts/devdb.sh bangfu_test)
fi
export DATABASE_URL
if [ -x scripts/chromium.sh ]; then scripts/chromium.sh; fi

cleanup() {
  command -v psql >/dev/null || return 0
  psql -X -q -w "$DATABASE_URL" -tAc "select datname from pg_database where datname like 'bangfu\_t\_%'" 2>/dev/null |
    while read -r name; do
      [ -n "$name" ] && psql -X -q -w "$DATABASE_URL" -c "DROP DATABASE IF EXISTS \"$name\" WITH (FORCE)" >/dev/null 2>&1 || true
    done
}
cleanup
trap cleanup EXIT
go test -race -count=1 -timeout 20m "${@:-./...}"
