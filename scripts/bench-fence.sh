#!/usr/bin/env bash
# make lint: the bench tooling stays outside the service
# (docs/decisions/0002-bench-tooling-outside-the-service.md). Fails when a
# package other than internal/bench/... and cmd/bangfu-bench — or its
# tests — depends on internal/bench/..., directly or through another package.
set -euo pipefail
cd "$(dirname "$0")/.."
go=${GO:-go}
mod=$($go list -m)
bench="$mod/internal/bench"
# One line per package and dependency: the package's build dependencies
# (transitive) and its tests' direct imports.
bad=$($go list -e -f '{{$p := .ImportPath}}{{range .Deps}}{{$p}} {{.}}
{{end}}{{range .TestImports}}{{$p}} {{.}}
{{end}}{{range .XTestImports}}{{$p}} {{.}}
{{end}}' ./... |
  awk -v bench="$bench" -v cmd="$mod/cmd/bangfu-bench" '
    function inside(p, root) { return p == root || index(p, root "/") == 1 }
    inside($2, bench) && !inside($1, bench) && !inside($1, cmd) { print "  " $1 " -> " $2 }' |
  sort -u)
if [ -n "$bad" ]; then
  echo "only internal/bench/... and cmd/bangfu-bench may import internal/bench/... (docs/decisions/0002):"
  echo "$bad"
  exit 1
fi
