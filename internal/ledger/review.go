package ledger

import (
	"context"
	"encoding/base64"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/bangfu/bangfu"
	"github.com/bangfu/bangfu/internal/audit"
	"github.com/bangfu/bangfu/internal/graduate"
	"github.com/bangfu/bangfu/internal/mask"
	"github.com/bangfu/bangfu/internal/policy"
	"github.com/bangfu/bangfu/internal/postgres"
)

// ReviewFilter narrows a ledger review. Every filter applies within the
// actor's scope. DepartmentID, CounselorID, Category and Overdue select
// entries by their graduate: of a department, assigned to a counselor,
// with a verified, unexpired hardship category, or whose follow-up is
// overdue.
type ReviewFilter struct {
	SchoolID     *int64
	StudentID    *int64
	AuthorID     *int64
	DepartmentID *int64
	CounselorID  *int64
	Category     string
	Overdue      *bool
	Kind         string
	Since        *time.Time // recorded at or after
	Until        *time.Time // recorded before
}

// byGraduate reports whether f selects entries by their graduate's file.
func (f ReviewFilter) byGraduate() bool {
	return f.DepartmentID != nil || f.CounselorID != nil || f.Category != "" || f.Overdue != nil
}

// ReviewCursor continues a review after the entry it names.
type ReviewCursor struct {
	RecordedAt time.Time
	StudentID  int64
	Seq        int
}

// Encode returns the opaque form of c.
func (c ReviewCursor) Encode() string {
	return base64.RawURLEncoding.EncodeToString([]byte(fmt.Sprintf("r%d.%d.%d", c.RecordedAt.UnixMicro(), c.StudentID, c.Seq)))
}

// DecodeReviewCursor reverses Encode.
func DecodeReviewCursor(s string) (*ReviewCursor, bool) {
	if s == "" {
		return nil, true
	}
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil || len(b) < 2 || b[0] != 'r' {
		return nil, false
	}
	parts := strings.Split(string(b[1:]), ".")
	if len(parts) != 3 {
		return nil, false
	}
	us, err1 := strconv.ParseInt(parts[0], 10, 64)
	sid, err2 := strconv.ParseInt(parts[1], 10, 64)
	seq, err3 := strconv.Atoi(parts[2])
	if err1 != nil || err2 != nil || err3 != nil {
		return nil, false
	}
	return &ReviewCursor{RecordedAt: time.UnixMicro(us), StudentID: sid, Seq: seq}, true
}

// ReviewEntry is a ledger entry in a review, with whose ledger it is.
type ReviewEntry struct {
	Entry
	StudentName string `json:"student_name"`
}

// ReviewQuery returns the SQL of one review page (limit+1 rows, newest
// first) and its arguments. Exported so that benchmarks can issue the same
// SQL directly.
//
// The query walks the ledger's own (school_id, recorded_at) index — or its
// recorded_at index for province — in order and stops at the limit. A
// scope narrower than a school (a department, a caseload) is the list of
// its graduates' ids, computed once, that the walk filters by; written as
// a join the planner would instead read every entry of those graduates and
// sort them. Filters on the graduate's file (department, counselor,
// category, overdue) probe each entry's graduate by primary key as the walk
// goes, so that it still stops at the limit. The graduate's name is read
// only for the rows returned. today is the day hardship evidence must be
// valid on for the category filter.
func ReviewQuery(a bangfu.Actor, f ReviewFilter, after *ReviewCursor, limit int, today bangfu.Date) (string, []any) {
	w := &postgres.Where{}
	sc := policy.ScopeOf(a)
	if sc.SchoolID != nil {
		w.Add("l.school_id = ?", *sc.SchoolID)
		if sc.DepartmentID != nil {
			// Entries carry their graduate's department (kept current by
			// MoveDepartment): the walk is (school_id, department_id,
			// recorded_at) in order.
			w.Add("l.department_id = ?", *sc.DepartmentID)
		}
	}
	if f.SchoolID != nil {
		w.Add("l.school_id = ?", *f.SchoolID)
	}
	if f.StudentID != nil {
		w.Add("l.student_id = ?", *f.StudentID)
	}
	if f.AuthorID != nil {
		w.Add("l.author_id = ?", *f.AuthorID)
	}
	if f.Kind != "" {
		w.Add("l.kind = ?", f.Kind)
	}
	if f.Since != nil {
		w.Add("l.recorded_at >= ?", *f.Since)
	}
	if f.Until != nil {
		w.Add("l.recorded_at < ?", *f.Until)
	}
	if after != nil {
		w.Add("(l.recorded_at, l.student_id, l.seq) < (?, ?, ?)", after.RecordedAt, after.StudentID, after.Seq)
	}
	if f.byGraduate() {
		g := &postgres.Where{Args: w.Args}
		g.Add("s.id = l.student_id")
		if f.DepartmentID != nil {
			g.Add("s.department_id = ?", *f.DepartmentID)
		}
		if f.CounselorID != nil {
			g.Add("s.counselor_id = ?", *f.CounselorID)
		}
		if f.Overdue != nil {
			g.Add("EXISTS (SELECT 1 FROM case_activity ca WHERE ca.student_id = s.id AND ca.overdue = ?)", *f.Overdue)
		}
		if f.Category != "" {
			g.Add(`EXISTS (SELECT 1 FROM hardships h WHERE h.student_id = s.id AND h.category = ? AND h.status = 'verified'
				AND (h.valid_until IS NULL OR h.valid_until >= ?::date))`, f.Category, today.Time())
		}
		w.Args = g.Args
		w.Add("EXISTS (SELECT 1 FROM students s WHERE " + g.String() + ")")
	}
	cols := strings.Split(entryColumns, ",")
	for i, c := range cols {
		cols[i] = "l." + strings.TrimSpace(c)
	}
	const order = `ORDER BY l.recorded_at DESC, l.student_id DESC, l.seq DESC`
	inner := w.String()
	from, where := "ledger_entries l", inner
	if !sc.All && sc.SchoolID == nil {
		// Narrower than a school (a caseload, a student): keep the entries
		// of the scope's graduates, computed once.
		scoped := &postgres.Where{Args: w.Args}
		graduate.AddScope(scoped, a)
		w.Args = scoped.Args
		where = inner + " AND l.student_id = ANY(ARRAY(SELECT s.id FROM students s WHERE " + scoped.String() + "))"
	}
	w.Args = append(w.Args, limit+1)
	return fmt.Sprintf(`SELECT %s, %s, (SELECT s.name FROM students s WHERE s.id = l.student_id) FROM %s
		WHERE %s %s LIMIT $%d`, strings.Join(cols, ", "), authorRole, from, where, order, len(w.Args)), w.Args
}

// ReviewPage is one page of a review.
type ReviewPage struct {
	Items      []ReviewEntry `json:"items"`
	NextCursor string        `json:"next_cursor"`
}

// Review lists ledger entries across the graduates a may see, newest
// first: a supervisor reviews their school's (or department's) ledgers, a
// counselor their caseload's, province every school's as metadata (names
// masked, no free text). Each review is audited.
func (s *Service) Review(ctx context.Context, a bangfu.Actor, f ReviewFilter, cursor string, limit int) (ReviewPage, error) {
	var p bangfu.Problems
	after, ok := DecodeReviewCursor(cursor)
	p.Check(ok, "cursor", "is not a cursor returned by this list")
	if f.Kind != "" && !slices.Contains(append(slices.Clone(Kinds), "correction"), f.Kind) {
		p.Add("kind", "must be one of contact, referral, note, outcome, correction")
	}
	if f.Category != "" && !slices.Contains(graduate.Categories, f.Category) {
		p.Add("category", "must be one of "+strings.Join(graduate.Categories, ", "))
	}
	if f.Since != nil && f.Until != nil && !f.Since.Before(*f.Until) {
		p.Add("until", "must be after since")
	}
	if limit < 1 || limit > bangfu.MaxPageLimit {
		p.Add("limit", "must be a whole number from 1 to 200")
	}
	if err := p.Err(); err != nil {
		return ReviewPage{}, err
	}
	sql, args := ReviewQuery(a, f, after, limit, bangfu.Today(s.Clock))
	rows, err := s.DB.Read(ctx).Query(ctx, sql, args...)
	if err != nil {
		return ReviewPage{}, err
	}
	items, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (ReviewEntry, error) {
		var e ReviewEntry
		var role string
		var err error
		e.Entry, err = scanEntry(extraRow{row, []any{&role, &e.StudentName}})
		e.AuthorRole = role
		return e, err
	})
	if err != nil {
		return ReviewPage{}, err
	}
	page := ReviewPage{Items: items}
	if len(items) > limit {
		page.Items = items[:limit]
		last := page.Items[limit-1]
		page.NextCursor = ReviewCursor{RecordedAt: last.RecordedAt, StudentID: last.StudentID, Seq: last.Seq}.Encode()
	}
	for i := range page.Items {
		page.Items[i].maskFor(a)
		if policy.Masked(a) {
			page.Items[i].StudentName = mask.Name(page.Items[i].StudentName)
		}
	}
	if cursor == "" && a.Role != bangfu.RoleStudent {
		// One entry per review (its first page), like a search of files.
		ev := audit.Event{Action: audit.LedgerReview, Detail: map[string]any{"filter": f, "results": len(page.Items)}}
		if a.SchoolID != nil {
			ev.SchoolID = *a.SchoolID
		}
		if err := s.Reads.Record(ctx, a, s.Clock.Now(), ev); err != nil {
			return ReviewPage{}, err
		}
	}
	return page, nil
}

// extraRow scans an entry followed by extra columns into extra.
type extraRow struct {
	pgx.CollectableRow
	extra []any
}

func (r extraRow) Scan(dest ...any) error { return r.CollectableRow.Scan(append(dest, r.extra...)...) }
