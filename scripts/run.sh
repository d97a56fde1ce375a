#!/usr/bin/env bash
# make run: a working database, the schema, demo data, then `bangfu serve`.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ -z "${DATABASE_URL:-}" ]; then
  DATABASE_URL=$(scripts/devdb.sh bangfu)
fi
# It prints demo passwords: listen on this machine only, unless told otherwise.
export DATABASE_URL BANGFU_ENV=${BANGFU_ENV:-dev} BANGFU_ADDR=${BANGFU_ADDR:-127.0.0.1:8080}
go build -o bin/bangfu ./cmd/bangfu
bin/bangfu migrate
bin/bangfu seed demo
addr=$BANGFU_ADDR
echo
echo "bangfu: open http://localhost:${addr##*:}/ and log in with a demo login above."
echo "        API: http://localhost:${addr##*:}/api/v1 (docs/openapi.yaml) · ready: /readyz · Ctrl-C stops."
echo "        The demo counselor's 企业微信 group is a stand-in bot inside bangfu: its daily digest is at /dev/webhook."
echo
exec bin/bangfu serve
