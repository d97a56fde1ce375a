#!/usr/bin/env bash
# Prints the path of axe-core's axe.min.js for the accessibility checks of
# the UI tests, installing the pinned version from the npm registry into
# .cache/ the first time (npm itself is installed with apt-get when missing
# and running as root). Messages go to stderr; the path alone to stdout.
set -euo pipefail
cd "$(dirname "$0")/.."
version=4.10.3
dir=.cache/axe-core-$version
file=$dir/node_modules/axe-core/axe.min.js
if [ ! -f "$file" ]; then
  if ! command -v npm >/dev/null; then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
      echo "axe: installing npm with apt-get (one time)…" >&2
      DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends npm >/dev/null 2>&1 ||
        { echo "axe: apt-get install npm failed" >&2; exit 1; }
    else
      echo "axe: the accessibility checks need npm (sudo apt-get install -y npm)" >&2
      exit 1
    fi
  fi
  echo "axe: installing axe-core@$version from the npm registry (one time)…" >&2
  mkdir -p "$dir"
  npm install --prefix "$dir" --no-audit --no-fund --silent "axe-core@$version" >&2 ||
    { echo "axe: npm install axe-core@$version failed" >&2; exit 1; }
fi
echo "$PWD/$file"
