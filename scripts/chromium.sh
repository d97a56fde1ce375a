#!/usr/bin/env bash
# Makes sure Debian's Chromium is installed for the UI tests: installs it
# with apt-get when missing and running as root; otherwise says what to do.
set -euo pipefail
for bin in chromium chromium-browser google-chrome; do
  command -v "$bin" >/dev/null && exit 0
done
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
  echo "chromium: installing Debian's chromium for the UI tests (one time)…" >&2
  export DEBIAN_FRONTEND=noninteractive
  log=$(mktemp)
  apt-get update -qq >"$log" 2>&1 || echo "chromium: apt-get update failed; trying the install anyway" >&2
  if ! apt-get install -y -qq --no-install-recommends chromium >>"$log" 2>&1; then
    tail -n 20 "$log" >&2
    echo "chromium: apt-get install chromium failed" >&2
    exit 1
  fi
  rm -f "$log"
  exit 0
fi
echo "chromium: the UI tests need Chromium; install it (sudo apt-get install -y chromium) or set BANGFU_CHROMIUM to its path" >&2
exit 1
