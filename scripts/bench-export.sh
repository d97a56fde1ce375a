#!/usr/bin/env bash
# The export figures of docs/performance.md: the real server exporting the
# 帮扶台账 (and the province's figures) of a bench database, one export per
# fresh process, with the time the client waited and the server's peak
# resident memory (VmHWM) afterwards.
#
#   scripts/bench-export.sh [DATABASE_URL] [query]
#
# DATABASE_URL defaults to BENCH_DATABASE_URL, else the local bangfu_bench
# database (seed it with `make bench` or `bin/bangfu-bench seed`); query
# (default empty: every graduate) is added to /api/v1/ledger/export. The
# exports are read as province-1 (password bangfu-synthetic), who sees
# every school. Files go to a temporary directory and are removed.
set -euo pipefail
cd "$(dirname "$0")/.."
db=${1:-${BENCH_DATABASE_URL:-}}
if [ -z "$db" ]; then
  db=$(scripts/devdb.sh bangfu_bench)
fi
query=${2:-}
go build -o bin/bangfu ./cmd/bangfu
export BANGFU_ENV=dev BANGFU_LOG_LEVEL=warn
out=$(mktemp -d "${TMPDIR:-/tmp}/bangfu-export.XXXXXX")
pid=
cleanup() {
  [ -n "$pid" ] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null || true
  rm -rf "$out"
}
trap cleanup EXIT

port=$(( 20000 + RANDOM % 20000 ))
base="http://127.0.0.1:$port"
psql -X -q -w "$db" -tAc "SELECT 'graduates: ' || (SELECT count(*) FROM students) || ', ledger entries: ' || (SELECT count(*) FROM ledger_entries)"

# run starts a fresh server, fetches path, and prints seconds, bytes and
# the server's peak RSS.
run() {
  local label=$1 path=$2
  DATABASE_URL=$db BANGFU_ADDR=127.0.0.1:$port BANGFU_REQUEST_TIMEOUT=30s bin/bangfu serve --no-workers 2>"$out/server.log" &
  pid=$!
  for _ in $(seq 1 100); do
    curl -fs "$base/readyz" >/dev/null 2>&1 && break
    sleep 0.2
  done
  local token
  token=$(curl -fs "$base/api/v1/auth/login" -H 'Content-Type: application/json' \
    -d '{"username":"province-1","password":"bangfu-synthetic"}' | sed -E 's/.*"access_token":"([^"]+)".*/\1/')
  local rest
  rest=$(grep VmRSS "/proc/$pid/status" | awk '{print $2}')
  local res
  res=$(curl -fs -o "$out/file" -w '%{time_total} %{size_download} %{http_code}' -H "Authorization: Bearer $token" "$base$path")
  local hwm
  hwm=$(grep VmHWM "/proc/$pid/status" | awk '{print $2}')
  read -r secs bytes code <<<"$res"
  printf '%-34s %s  %6.1f s  %8.1f MB  peak RSS %6.1f MiB (at rest %5.1f MiB)\n' "$label" "$code" "$secs" \
    "$(echo "$bytes / 1000000" | bc -l)" "$(echo "$hwm / 1024" | bc -l)" "$(echo "$rest / 1024" | bc -l)"
  kill "$pid"
  wait "$pid" 2>/dev/null || true
  pid=
}

sep=""
[ -n "$query" ] && sep="&"
run "ledger export, xlsx (two sheets)" "/api/v1/ledger/export?${query}${sep}format=xlsx"
run "ledger export, csv (graduates)" "/api/v1/ledger/export?${query}${sep}format=csv"
run "summary export, xlsx" "/api/v1/reports/summary?format=xlsx"
