package postgres

import (
	"fmt"
	"strings"
)

// Where builds the WHERE clause of a query from fixed fragments; values go
// in as numbered parameters, never into the SQL text.
type Where struct {
	conds []string
	Args  []any
}

// Add appends cond, whose ? placeholders take args in order.
func (w *Where) Add(cond string, args ...any) {
	for _, a := range args {
		w.Args = append(w.Args, a)
		cond = strings.Replace(cond, "?", fmt.Sprintf("$%d", len(w.Args)), 1)
	}
	w.conds = append(w.conds, cond)
}

// String returns the conditions joined by AND ("true" when there are none).
func (w *Where) String() string {
	if len(w.conds) == 0 {
		return "true"
	}
	return strings.Join(w.conds, " AND ")
}
