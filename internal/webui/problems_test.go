package webui

import (
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestEveryProblemIsTranslated reads the problems the service's code names
// (p.Add(field, msg), p.Check(ok, field, msg), request.Invalid(field, msg),
// Problems{field: msg}, the messages of the …Problem validators, and the
// messages of errors: bangfu.Errorf(code, msg…), &bangfu.Error{Message}) and
// fails for any that the Chinese problems catalogue cannot translate, so a
// new validation message cannot reach a page in English.
func TestEveryProblemIsTranslated(t *testing.T) {
	t.Parallel()
	zh, err := loadProblems("zh-CN")
	require.NoError(t, err)
	probes := problemProbes(t, filepath.Join("..", ".."))
	require.Greater(t, len(probes), 50, "the scan found the problems")
	var missing []string
	for _, p := range probes {
		if _, ok := zh.translate(p); !ok {
			missing = append(missing, p)
		}
	}
	slices.Sort(missing)
	require.Empty(t, slices.Compact(missing), "problems missing from web/messages/problems.zh-CN.json ({} stands for a varying part)")
}

func TestTranslateProblem(t *testing.T) {
	t.Parallel()
	zh, err := loadProblems("zh-CN")
	require.NoError(t, err)
	got, ok := zh.translate("must be at most 50 characters")
	require.True(t, ok)
	require.Equal(t, "不能超过 50 个字", got)
	got, ok = zh.translate("something nobody wrote")
	require.False(t, ok)
	require.Equal(t, "something nobody wrote", got, "unknown problems are shown as they are")
}

var verb = regexp.MustCompile(`%[-+# 0-9.]*[a-zA-Z]`)

// problemProbes returns a sample of each problem message found in the Go
// code under root (tests and bench tooling aside): literal parts as
// written, varying parts as "7" or "x".
func problemProbes(t *testing.T, root string) []string {
	var out []string
	var probe func(e ast.Expr) (string, bool)
	probe = func(e ast.Expr) (string, bool) {
		switch e := e.(type) {
		case *ast.BasicLit:
			if e.Kind != token.STRING {
				return "7", true
			}
			s, err := strconv.Unquote(e.Value)
			return s, err == nil
		case *ast.BinaryExpr:
			if e.Op != token.ADD {
				return "", false
			}
			l, lok := probe(e.X)
			r, rok := probe(e.Y)
			if !lok && !rok {
				return "", false
			}
			if !lok {
				l = "x"
			}
			if !rok {
				r = "x"
			}
			return l + r, true
		case *ast.CallExpr:
			if sel, ok := e.Fun.(*ast.SelectorExpr); ok && sel.Sel.Name == "Sprintf" && len(e.Args) > 0 {
				if f, ok := probe(e.Args[0]); ok {
					return verb.ReplaceAllStringFunc(f, func(v string) string {
						if strings.HasSuffix(v, "d") {
							return "7"
						}
						return "x"
					}), true
				}
			}
			if sel, ok := e.Fun.(*ast.SelectorExpr); ok && sel.Sel.Name == "Join" {
				return "a, b", true
			}
		}
		return "", false
	}
	add := func(e ast.Expr) {
		if s, ok := probe(e); ok && s != "" {
			out = append(out, s)
		}
	}
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if path != root && (strings.HasPrefix(d.Name(), ".") || d.Name() == "bench" || d.Name() == "testdata") {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		f, err := parser.ParseFile(token.NewFileSet(), path, nil, parser.SkipObjectResolution)
		require.NoError(t, err)
		ast.Inspect(f, func(n ast.Node) bool {
			switch n := n.(type) {
			case *ast.CallExpr:
				var name string
				switch fun := n.Fun.(type) {
				case *ast.SelectorExpr:
					name = fun.Sel.Name
				case *ast.Ident:
					name = fun.Name
				}
				switch {
				case (name == "Add" || name == "Invalid") && len(n.Args) == 2:
					add(n.Args[1])
				case name == "Check" && len(n.Args) == 3:
					add(n.Args[2])
				case strings.HasSuffix(name, "Problem") && len(n.Args) == 1:
					// a package's own helper that makes a problem of a message
					add(n.Args[0])
				case name == "Errorf" && len(n.Args) >= 2:
					if sel, ok := n.Args[0].(*ast.SelectorExpr); ok && strings.HasPrefix(sel.Sel.Name, "E") {
						add(&ast.CallExpr{Fun: &ast.SelectorExpr{X: ast.NewIdent("fmt"), Sel: ast.NewIdent("Sprintf")}, Args: n.Args[1:]})
					}
				}
			case *ast.CompositeLit:
				name := ""
				switch ty := n.Type.(type) {
				case *ast.Ident:
					name = ty.Name
				case *ast.SelectorExpr:
					name = ty.Sel.Name
				}
				if name == "Error" {
					for _, el := range n.Elts {
						if kv, ok := el.(*ast.KeyValueExpr); ok {
							if k, ok := kv.Key.(*ast.Ident); ok && k.Name == "Message" {
								add(kv.Value)
							}
						}
					}
				}
				if name == "Problems" {
					for _, el := range n.Elts {
						if kv, ok := el.(*ast.KeyValueExpr); ok {
							add(kv.Value)
						}
					}
				}
			case *ast.FuncDecl:
				if strings.HasSuffix(n.Name.Name, "Problem") || n.Name.Name == "CheckStrength" {
					ast.Inspect(n.Body, func(m ast.Node) bool {
						if r, ok := m.(*ast.ReturnStmt); ok {
							for _, res := range r.Results {
								add(res)
							}
						}
						return true
					})
				}
			}
			return true
		})
		return nil
	})
	require.NoError(t, err)
	return out
}
