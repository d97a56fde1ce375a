#!/usr/bin/env bash
# make fuzz: runs every Go fuzz target of the module (func FuzzXxx in a
# _test.go file) for FUZZTIME each (default 20s), one after another. The
# seed corpora under each package's testdata/fuzz/ also run in every plain
# `go test`; this walks past them. A failure writes the input that broke the
# target to testdata/fuzz/<target>/: commit it with the fix.
set -euo pipefail
cd "$(dirname "$0")/.."
FUZZTIME=${FUZZTIME:-20s}
targets=$(git ls-files '*_test.go' | xargs grep -l '^func Fuzz' | while read -r f; do
  grep -o '^func Fuzz[A-Za-z0-9_]*' "$f" | sed "s|^func |./$(dirname "$f") |"
done | sort -u)
[ -n "$targets" ] || { echo "fuzz: no fuzz targets found" >&2; exit 1; }
n=0
start=$(date +%s)
while read -r pkg fn; do
  echo "fuzz: $fn in $pkg for $FUZZTIME"
  go test -run='^$' -fuzz="^${fn}\$" -fuzztime="$FUZZTIME" "$pkg"
  n=$((n + 1))
done <<<"$targets"
echo "fuzz: $n targets passed in $(( $(date +%s) - start ))s"
