#!/usr/bin/env bash
# make bench: province-scale figures anyone can reproduce on one machine.
#   1. the bench database: BENCH_DATABASE_URL, or a local one (devdb.sh
#      bangfu_bench); migrated; seeded by bangfu-bench seed with
#      BENCH_STUDENTS (default 1,000,000) synthetic graduates when it holds
#      none;
#   2. the Go benchmarks of every package (go test -bench);
#   3. the load run (bangfu-bench run): the floor's narrow tables (schema
#      bench_floor, built or refreshed when the data changed), then the real
#      server against the floor at concurrency 1 and 16 (BENCH_CONCURRENCY),
#      its memory, the background jobs, and the targets table; printed and
#      written to bench/results/<date>.json.
# BENCH_DURATION (default 10s) is the measured time of each load cell; see
# `bin/bangfu-bench run --help` for the other BENCH_* knobs.
set -euo pipefail
cd "$(dirname "$0")/.."
started=$SECONDS

heading() { printf '\n==== %s ====\n\n' "$*"; }
fail() { echo "bench: $*" >&2; exit 1; }

heading "1. Bench database"
if [ -n "${BENCH_DATABASE_URL:-}" ]; then
  db=$BENCH_DATABASE_URL
  echo "using BENCH_DATABASE_URL"
else
  db=$(scripts/devdb.sh bangfu_bench) || fail "no local PostgreSQL (set BENCH_DATABASE_URL)"
  echo "using $db"
fi
echo "building bin/bangfu and bin/bangfu-bench…"
go build -o bin/bangfu ./cmd/bangfu || fail "build bin/bangfu failed"
go build -o bin/bangfu-bench ./cmd/bangfu-bench || fail "build bin/bangfu-bench failed"
export BANGFU_ENV=dev BANGFU_LOG_LEVEL=${BANGFU_LOG_LEVEL:-warn}
DATABASE_URL=$db bin/bangfu migrate || fail "migrate failed"
graduates=$(bin/bangfu-bench graduates --db "$db") || fail "cannot count the graduates"
seed_seconds=0
if [ "$graduates" -eq 0 ]; then
  students=${BENCH_STUDENTS:-1000000}
  echo "the bench database holds no graduates: seeding $students synthetic graduates…"
  seed_started=$SECONDS
  # --vacuum: VACUUM ANALYZE afterwards, so that plans and visibility are
  # those of a settled database (autovacuum may be off).
  bin/bangfu-bench seed --db "$db" --students "$students" --vacuum || fail "bangfu-bench seed failed"
  seed_seconds=$((SECONDS - seed_started))
  echo "seeded in ${seed_seconds}s"
  graduates=$(bin/bangfu-bench graduates --db "$db")
else
  echo "the bench database holds $graduates graduates; not seeding (BENCH_STUDENTS applies to an empty one)"
fi
# Earlier runs leave dead rows and pages that are no longer all-visible;
# settle them so that every run measures the same database.
bin/bangfu-bench vacuum --db "$db" || fail "vacuum failed"

heading "2. Go benchmarks (go test -p 1 -run '^\$' -bench . -benchmem ./...)"
testdb=${DATABASE_URL:-}
if [ -z "$testdb" ]; then
  testdb=$(scripts/devdb.sh bangfu_test) || fail "no scratch database for the benchmarks"
fi
# The benchmarks' scratch databases are named under this run's prefix
# (see scripts/test.sh): the cleanup drops those and no other run's.
BANGFU_TEST_RUN=$(od -An -N6 -tx1 /dev/urandom | tr -d ' \n')
export BANGFU_TEST_RUN
cleanup() {
  command -v psql >/dev/null || return 0
  psql -X -q -w "$testdb" -tAc "select datname from pg_database where datname like 'bangfu\_t\_${BANGFU_TEST_RUN}\_%'" 2>/dev/null |
    while read -r name; do
      [ -n "$name" ] && psql -X -q -w "$testdb" -c "DROP DATABASE IF EXISTS \"$name\" WITH (FORCE)" >/dev/null 2>&1 || true
    done
}
gobench=$(mktemp "${TMPDIR:-/tmp}/bangfu-gobench.XXXXXX")
trap 'cleanup; rm -f "$gobench"' EXIT
gobench_started=$SECONDS
DATABASE_URL=$testdb BANGFU_BENCH_DATABASE_URL=$db \
  go test -p 1 -run '^$' -bench . -benchmem -timeout 30m ./... 2>&1 | tee "$gobench" ||
  fail "go test -bench failed"
echo "(Go benchmarks took $((SECONDS - gobench_started))s)"

heading "3. Load run (bangfu-bench run: server vs floor, memory, jobs)"
# Some benchmarks of step 2 write in transactions they roll back (the
# digest's spreads the open cases over 10,000 staff): settle the dead rows
# and the visibility map they leave, as before step 2.
bin/bangfu-bench vacuum --db "$db" || fail "vacuum failed"
status=0
bin/bangfu-bench run --db "$db" --bangfu bin/bangfu --gobench "$gobench" --seed-seconds "$seed_seconds" || status=$?

elapsed=$((SECONDS - started))
printf '\nmake bench took %dm%02ds\n' $((elapsed / 60)) $((elapsed % 60))
[ "$status" -eq 0 ] || fail "the load run failed (exit $status)"
