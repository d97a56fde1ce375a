package graduate

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/jackc/pgx/v5"

	"github.com/bangfu/bangfu"
	"github.com/bangfu/bangfu/internal/audit"
	"github.com/bangfu/bangfu/internal/policy"
	"github.com/bangfu/bangfu/internal/postgres"
)

// Filter narrows List. Every filter is applied inside the actor's scope.
type Filter struct {
	Q           string // prefix of the name or the student number (not for masked roles)
	Status      string
	Category    string // a verified, unexpired hardship category
	CounselorID *int64
	SchoolID    *int64
	Overdue     *bool
	// Unassigned keeps the files no counselor is assigned to.
	Unassigned bool
}

// Check validates the filter values.
func (f Filter) Check() error {
	var p bangfu.Problems
	if f.Status != "" && !slices.Contains(Statuses, f.Status) {
		p.Add("status", "must be one of "+strings.Join(Statuses, ", "))
	}
	if f.Category != "" && !slices.Contains(Categories, f.Category) {
		p.Add("category", "must be one of "+strings.Join(Categories, ", "))
	}
	if len([]rune(f.Q)) > 50 {
		p.Add("q", "must be at most 50 characters")
	}
	return p.Err()
}

// AddScope limits a query over students aliased s to what a may see.
func AddScope(w *postgres.Where, a bangfu.Actor) {
	sc := policy.ScopeOf(a)
	switch {
	case sc.None:
		w.Add("false")
	case sc.All:
	case sc.StudentID != nil:
		w.Add("s.id = ?", *sc.StudentID)
	case sc.CounselorID != nil:
		w.Add("s.counselor_id = ?", *sc.CounselorID)
	case sc.SchoolID != nil:
		w.Add("s.school_id = ?", *sc.SchoolID)
		if sc.DepartmentID != nil {
			w.Add("s.department_id = ?", *sc.DepartmentID)
		}
	}
}

// ListQuery returns the SQL of one page of List (limit+1 rows) and its
// arguments. Exported so that benchmarks can issue the same SQL directly.
func ListQuery(a bangfu.Actor, f Filter, pg bangfu.Page, today bangfu.Date) (string, []any) {
	w := &postgres.Where{Args: []any{today.Time()}} // $1: today, for the category columns
	AddScope(w, a)
	w.Add("s.id > ?", pg.After)
	if f.Status != "" {
		w.Add("s.status = ?", f.Status)
	}
	if f.CounselorID != nil {
		w.Add("s.counselor_id = ?", *f.CounselorID)
	}
	if f.SchoolID != nil {
		w.Add("s.school_id = ?", *f.SchoolID)
	}
	if f.Overdue != nil {
		w.Add("ca.overdue = ?", *f.Overdue)
	}
	if f.Unassigned {
		w.Add("s.counselor_id IS NULL")
	}
	if f.Q != "" {
		prefix := likePrefix(f.Q)
		w.Add("(s.name LIKE ? OR s.student_number LIKE ?)", prefix, prefix)
	}
	if f.Category != "" {
		w.Add(`EXISTS (SELECT 1 FROM hardships h WHERE h.student_id = s.id AND h.category = ? AND h.status = 'verified'
			AND (h.valid_until IS NULL OR h.valid_until >= $1::date))`, f.Category)
	}
	w.Args = append(w.Args, pg.Limit+1)
	return fmt.Sprintf(`SELECT %s FROM %s WHERE %s ORDER BY s.id LIMIT $%d`, studentColumns, studentsFrom, w, len(w.Args)), w.Args
}

// List returns the graduates a may see that match f, in id order.
func (s *Service) List(ctx context.Context, a bangfu.Actor, f Filter, pg bangfu.Page) (bangfu.List[Student], error) {
	f.Q = strings.TrimSpace(f.Q)
	if f.Q != "" && policy.Masked(a) {
		// What a role sees masked it cannot search by: prefixes would
		// rebuild a masked number one character at a time.
		return bangfu.List[Student]{}, (bangfu.Problems{"q": "cannot be used by province staff, who see names and student numbers masked"}).Err()
	}
	if err := f.Check(); err != nil {
		return bangfu.List[Student]{}, err
	}
	sql, args := ListQuery(a, f, pg, bangfu.Today(s.Clock))
	rows, err := s.DB.ReadIf(ctx, policy.ScopeOf(a).All).Query(ctx, sql, args...)
	if err != nil {
		return bangfu.List[Student]{}, err
	}
	items, err := pgx.CollectRows(rows, scanStudent)
	if err != nil {
		return bangfu.List[Student]{}, err
	}
	for i := range items {
		items[i].maskFor(a)
	}
	if a.Role != bangfu.RoleStudent && pg.After == 0 {
		// One entry per search (its first page), not per graduate listed.
		ev := audit.Event{Action: audit.StudentList, Detail: map[string]any{"q": f.Q, "status": f.Status, "category": f.Category, "results": len(items)}}
		if a.SchoolID != nil {
			ev.SchoolID = *a.SchoolID
		}
		if err := s.Reads.Record(ctx, a, s.Clock.Now(), ev); err != nil {
			return bangfu.List[Student]{}, err
		}
	}
	return bangfu.NewList(items, pg.Limit, func(st Student) int64 { return st.ID }), nil
}

// likePrefix escapes LIKE's wildcards in q and appends %.
func likePrefix(q string) string {
	return strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(q) + "%"
}
