#!/usr/bin/env bash
# make run: a working database, the schema, demo data, then `bangfu serve`.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ -z "${DATABASE_URL:-}" ]; then
  DATABASE_URL=$(scripts/devdb.sh bangfu)
fi
export DATABASE_URL BANGFU_ENV=${BANGFU_ENV:-dev}
go build -o bin/bangfu ./cmd/bangfu
bin/bangfu migrate
bin/bangfu seed demo
addr=${BANGFU_ADDR:-:8080}
echo
echo "bangfu: open http://localhost:${addr##*:}/ and log in with a demo login above."
echo "        API: http://localhost:${addr##*:}/api/v1 (docs/openapi.yaml) · ready: /readyz · Ctrl-C stops."
echo
exec bin/bangfu serve
