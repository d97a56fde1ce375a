#!/usr/bin/env bash
# make fuzz: runs every Go fuzz target of the module (func FuzzXxx in a
# _test.go file) for FUZZTIME each (default 20s), one after another. The
# seed corpora under each package's testdata/fuzz/ also run in every plain
# `go test`; this walks past them. A failure writes the input that broke the
# target to testdata/fuzz/<target>/: commit it with the fix.
set -euo pipefail
cd "$(dirname "$0")/.."
FUZZTIME=${FUZZTIME:-20s}
# FUZZPARALLEL caps the fuzzing workers (default: one per core).
parallel=()
[ -n "${FUZZPARALLEL:-}" ] && parallel=(-parallel="$FUZZPARALLEL")
targets=$(git ls-files '*_test.go' | xargs grep -l '^func Fuzz' | while read -r f; do
  grep -o '^func Fuzz[A-Za-z0-9_]*' "$f" | sed "s|^func |./$(dirname "$f") |"
done | sort -u)
[ -n "$targets" ] || { echo "fuzz: no fuzz targets found" >&2; exit 1; }
log=$(mktemp)
trap 'rm -f "$log"' EXIT
n=0
start=$(date +%s)
while read -r pkg fn; do
  echo "fuzz: $fn in $pkg for $FUZZTIME"
  before=$(ls "$pkg/testdata/fuzz/$fn" 2>/dev/null | wc -l)
  if ! go test -run='^$' -fuzz="^${fn}\$" -fuzztime="$FUZZTIME" -fuzzminimizetime=5s "${parallel[@]}" "$pkg" >"$log" 2>&1; then
    after=$(ls "$pkg/testdata/fuzz/$fn" 2>/dev/null | wc -l)
    tail -n 20 "$log"
    # Go's fuzzing can end its run with "context deadline exceeded" and no
    # failing input (golang/go#75804): not a finding. Anything else is.
    if [ "$after" -gt "$before" ] || ! grep -q 'context deadline exceeded' "$log"; then
      echo "fuzz: $fn in $pkg failed" >&2
      exit 1
    fi
    echo "fuzz: (no failing input was written: Go's fuzztime deadline race, golang/go#75804; not a finding)"
  else
    tail -n 1 "$log"
  fi
  n=$((n + 1))
done <<<"$targets"
echo "fuzz: $n targets passed in $(( $(date +%s) - start ))s"
