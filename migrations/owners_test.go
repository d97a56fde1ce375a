package migrations_test

import (
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// owners says which package writes each table (docs/architecture.md,
// "Who writes what"). Other packages read a table freely but change it only
// through functions its owner exports, called on their transaction.
var owners = map[string]string{
	"schools":           "internal/directory",
	"departments":       "internal/directory",
	"users":             "internal/directory",
	"refresh_tokens":    "internal/auth",
	"login_throttle":    "internal/auth",
	"students":          "internal/graduate",
	"case_activity":     "internal/graduate",
	"hardships":         "internal/graduate",
	"import_throttle":   "internal/graduate",
	"plan_revisions":    "internal/plan",
	"plan_measures":     "internal/plan",
	"ledger_entries":    "internal/ledger",
	"destinations":      "internal/destination",
	"handovers":         "internal/handover",
	"audit_log":         "internal/audit",
	"escalations":       "internal/escalation",
	"notifications":     "internal/notify",
	"settings":          "internal/settings",
	"schema_migrations": "internal/postgres",

	"training_bases":           "internal/roster",
	"cohorts":                  "internal/roster",
	"roster_build_epochs":      "internal/roster",
	"roster_places":            "internal/roster",
	"roster_events":            "internal/roster",
	"roster_deliveries":        "internal/roster",
	"roster_delivery_attempts": "internal/roster",
	// Notification channels, digests and deliveries (issue 15).
	"notify_preferences": "internal/notify",
	"notify_schools":     "internal/notify",
	"notify_channels":    "internal/notify",
	"notify_digest_runs": "internal/notify",
	"notify_deliveries":  "internal/notify",
	"notify_attempts":    "internal/notify",

	"report_snapshots": "internal/report",
	"school_staffing":  "internal/report",
}

// exempt are trees that write tables for a reason of their own: the
// benchmark data generator loads a synthetic province with COPY.
var exempt = []string{"internal/bench/", "internal/synthetic/", "internal/loadtest/"}

var (
	createTable = regexp.MustCompile(`(?i)CREATE TABLE\s+(?:IF NOT EXISTS\s+)?([a-z_][a-z0-9_]*)`)
	// A write names its table; "FOR [NO KEY] UPDATE" and "DO UPDATE" lock
	// or resolve a conflict and write no other table.
	write = regexp.MustCompile(`(?i)(\bFOR\s+(?:NO\s+KEY\s+)?|\bDO\s+)?\b(?:INSERT\s+INTO|UPDATE|DELETE\s+FROM|TRUNCATE(?:\s+TABLE)?|COPY)\s+([a-z_][a-z0-9_]*)`)
)

// TestEveryTableHasAnOwner: a new table needs a decision about who writes it.
func TestEveryTableHasAnOwner(t *testing.T) {
	files, err := filepath.Glob("*.sql")
	require.NoError(t, err)
	for _, f := range files {
		b, err := os.ReadFile(f)
		require.NoError(t, err)
		for _, m := range createTable.FindAllStringSubmatch(string(b), -1) {
			_, ok := owners[strings.ToLower(m[1])]
			require.True(t, ok, "%s creates table %s, which has no owner in owners_test.go", f, m[1])
		}
	}
}

// TestOnlyTheOwnerWritesATable reads every SQL string in the service's Go
// code (outside tests) and fails when a package writes a table it does not
// own, by SQL or by CopyFrom.
func TestOnlyTheOwnerWritesATable(t *testing.T) {
	root := ".."
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, path)
		rel = filepath.ToSlash(rel)
		if d.IsDir() {
			if path != root && (strings.HasPrefix(d.Name(), ".") || rel == "bin" || rel == "web" || rel == "docs") {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		for _, e := range exempt {
			if strings.HasPrefix(rel, e) {
				return nil
			}
		}
		pkg := filepath.ToSlash(filepath.Dir(rel))
		f, err := parser.ParseFile(token.NewFileSet(), path, nil, parser.SkipObjectResolution)
		require.NoError(t, err)
		ast.Inspect(f, func(n ast.Node) bool {
			switch n := n.(type) {
			case *ast.BasicLit:
				if n.Kind != token.STRING {
					return true
				}
				s, err := strconv.Unquote(n.Value)
				if err != nil {
					return true
				}
				for _, m := range write.FindAllStringSubmatch(s, -1) {
					if m[1] != "" {
						continue
					}
					table := strings.ToLower(m[2])
					owner, known := owners[table]
					require.True(t, known, "%s writes %s, a table with no owner (from %q)", rel, table, m[0])
					require.Equal(t, owner, pkg, "%s writes %s, which only %s may write (from %q)", rel, table, owner, m[0])
				}
			case *ast.CompositeLit:
				// pgx.Identifier{"table"} names a CopyFrom target.
				if sel, ok := n.Type.(*ast.SelectorExpr); ok && sel.Sel.Name == "Identifier" && len(n.Elts) == 1 {
					if lit, ok := n.Elts[0].(*ast.BasicLit); ok {
						table, _ := strconv.Unquote(lit.Value)
						owner, known := owners[table]
						require.True(t, known, "%s copies into %s, a table with no owner", rel, table)
						require.Equal(t, owner, pkg, "%s copies into %s, which only %s may write", rel, table, owner)
					}
				}
			}
			return true
		})
		return nil
	})
	require.NoError(t, err)
}
