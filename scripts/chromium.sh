#!/usr/bin/env bash
# Makes sure Debian's Chromium and a CJK font are installed for the UI tests
# (without the font, screenshots show boxes instead of Chinese): installs
# what is missing with apt-get when running as root; otherwise says what to do.
set -euo pipefail
have_browser=
for bin in chromium chromium-browser google-chrome; do
  command -v "$bin" >/dev/null && have_browser=1 && break
done
if [ -n "${BANGFU_CHROMIUM:-}" ]; then have_browser=1; fi
have_font=
if command -v fc-list >/dev/null && fc-list :lang=zh 2>/dev/null | grep -q .; then have_font=1; fi
[ -n "$have_browser" ] && [ -n "$have_font" ] && exit 0

packages=()
[ -n "$have_browser" ] || packages+=(chromium)
[ -n "$have_font" ] || packages+=(fonts-noto-cjk)
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
  echo "chromium: installing ${packages[*]} for the UI tests (one time)…" >&2
  export DEBIAN_FRONTEND=noninteractive
  log=$(mktemp)
  apt-get update -qq >"$log" 2>&1 || echo "chromium: apt-get update failed; trying the install anyway" >&2
  if ! apt-get install -y -qq --no-install-recommends "${packages[@]}" >>"$log" 2>&1; then
    tail -n 20 "$log" >&2
    echo "chromium: apt-get install ${packages[*]} failed" >&2
    exit 1
  fi
  rm -f "$log"
  exit 0
fi
echo "chromium: the UI tests need ${packages[*]}; install them (sudo apt-get install -y ${packages[*]}) or set BANGFU_CHROMIUM to a browser's path" >&2
[ -n "$have_browser" ] || exit 1
