package graduate

import (
	"context"
	"encoding/base64"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"

	"github.com/bangfu/bangfu"
	"github.com/bangfu/bangfu/internal/audit"
	"github.com/bangfu/bangfu/internal/mask"
	"github.com/bangfu/bangfu/internal/policy"
	"github.com/bangfu/bangfu/internal/postgres"
)

// A caseload is the list a counselor works from: the graduates an actor
// may see, most urgent first, with only what a row of the list shows.
//
// Urgency is, in order: an overdue follow-up (an open or active case whose
// follow-up day has passed, or that the follow-up job marked overdue);
// then the highest level of an unresolved escalation; then cases still
// open or active before placed, closed or transferred ones; then the
// longest time since the last contact (never contacted first); then id.

// Due values of CaseloadFilter.
const (
	DueOverdue = "overdue"
	DueWeek    = "week"
)

// CaseloadFilter narrows Caseload. Every filter is applied inside the
// actor's scope.
type CaseloadFilter struct {
	Q            string // prefix of the name or the student number
	Status       string
	Category     string // a verified, unexpired hardship category
	DepartmentID *int64
	CounselorID  *int64
	SchoolID     *int64
	// Due is DueOverdue (overdue follow-ups) or DueWeek (open or active
	// cases due in the next 7 days, today included, not yet overdue).
	Due string
	// Escalated keeps graduates with an unresolved escalation.
	Escalated bool
}

// Check validates the filter values.
func (f CaseloadFilter) Check() error {
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
	if f.Due != "" && f.Due != DueOverdue && f.Due != DueWeek {
		p.Add("due", "must be overdue or week")
	}
	return p.Err()
}

// CaseloadRow is one graduate as a caseload row shows them; the full file
// is Get's.
type CaseloadRow struct {
	ID             int64        `json:"id"`
	StudentNumber  string       `json:"student_number"`
	Name           string       `json:"name"`
	DepartmentID   *int64       `json:"department_id"`
	CounselorID    *int64       `json:"counselor_id"`
	Status         string       `json:"status"`
	Categories     []string     `json:"categories"`
	NextFollowupOn *bangfu.Date `json:"next_followup_on"`
	// Overdue: the follow-up day has passed without a contact.
	Overdue       bool       `json:"overdue"`
	LastContactAt *time.Time `json:"last_contact_at"`
	// EscalationLevel is the highest level of an unresolved escalation, 0
	// when there is none.
	EscalationLevel int `json:"escalation_level"`
	// Phase is PhaseInSchool or PhaseAfterGraduation for a case in the
	// caseload (PhaseOf), nil otherwise.
	Phase *string `json:"phase"`
}

// caseloadKey is a row's place in urgency order; the cursor carries the
// last row's key.
type caseloadKey struct {
	NotOverdue bool
	Level      int
	Inactive   bool
	Contact    *time.Time // nil: never contacted (sorts first)
	ID         int64
}

func (r CaseloadRow) key() caseloadKey {
	return caseloadKey{NotOverdue: !r.Overdue, Level: r.EscalationLevel, Inactive: r.Status != "open" && r.Status != "active",
		Contact: r.LastContactAt, ID: r.ID}
}

// encode returns the opaque cursor that continues after k.
func (k caseloadKey) encode() string {
	contact := "n"
	if k.Contact != nil {
		contact = strconv.FormatInt(k.Contact.UnixMicro(), 10)
	}
	return base64.RawURLEncoding.EncodeToString(fmt.Appendf(nil, "u%d.%d.%d.%s.%d", b2i(k.NotOverdue), k.Level, b2i(k.Inactive), contact, k.ID))
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

// decodeCaseloadCursor reverses encode.
func decodeCaseloadCursor(c string) (caseloadKey, bool) {
	raw, err := base64.RawURLEncoding.DecodeString(c)
	if err != nil || len(raw) < 2 || raw[0] != 'u' {
		return caseloadKey{}, false
	}
	parts := strings.Split(string(raw[1:]), ".")
	if len(parts) != 5 {
		return caseloadKey{}, false
	}
	var k caseloadKey
	nums := make([]int64, 0, 5)
	for i, s := range parts {
		if i == 3 && s == "n" {
			nums = append(nums, 0)
			continue
		}
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			return caseloadKey{}, false
		}
		nums = append(nums, n)
	}
	if nums[0] > 1 || nums[0] < 0 || nums[1] < 0 || nums[1] > 3 || nums[2] > 1 || nums[2] < 0 || nums[4] < 0 {
		return caseloadKey{}, false
	}
	k.NotOverdue, k.Level, k.Inactive, k.ID = nums[0] == 1, int(nums[1]), nums[2] == 1, nums[4]
	if parts[3] != "n" {
		t := time.UnixMicro(nums[3])
		k.Contact = &t
	}
	return k, true
}

// caseloadBase returns the caseload's rows before paging, as a subquery
// over students s with the urgency columns computed: overdue, level,
// inactive and contact (last contact, -infinity when never). $1 is today.
func caseloadBase(a bangfu.Actor, f CaseloadFilter, today bangfu.Date) *postgres.Where {
	w := &postgres.Where{Args: []any{today.Time()}}
	AddScope(w, a)
	if f.Status != "" {
		w.Add("s.status = ?", f.Status)
	}
	if f.DepartmentID != nil {
		w.Add("s.department_id = ?", *f.DepartmentID)
	}
	if f.CounselorID != nil {
		w.Add("s.counselor_id = ?", *f.CounselorID)
	}
	// One counselor's graduates: their case_activity rows too come by
	// counselor (its copy, migration 0024), from the covering
	// case_activity_counselor_idx, instead of one probe per graduate. Said
	// as an equality of the two columns, the planner knows both are the
	// one counselor, and joins the two range scans by hashing.
	if caseloadCounselor(a, f) != nil {
		w.Add("ca.counselor_id = s.counselor_id")
	}
	if f.SchoolID != nil {
		w.Add("s.school_id = ?", *f.SchoolID)
	}
	if f.Q != "" {
		prefix := likePrefix(f.Q)
		w.Add("(s.name LIKE ? OR s.student_number LIKE ?)", prefix, prefix)
	}
	if f.Category != "" {
		w.Add(`EXISTS (SELECT 1 FROM hardships h WHERE h.student_id = s.id AND h.category = ? AND h.status = 'verified'
			AND (h.valid_until IS NULL OR h.valid_until >= $1::date))`, f.Category)
	}
	return w
}

// caseloadCounselor is the one counselor whose graduates a caseload of a
// with f lists (their own, or the filter's), nil when it spans more.
func caseloadCounselor(a bangfu.Actor, f CaseloadFilter) *int64 {
	if c := policy.ScopeOf(a).CounselorID; c != nil {
		return c
	}
	return f.CounselorID
}

// caseloadInner computes the urgency of each file s in scope from its
// narrow case_activity row ca, which also carries its highest unresolved
// escalation and its verified hardship categories (migration 0021).
const caseloadInner = `SELECT s.id, s.student_number, s.name, s.department_id, s.counselor_id, s.status, ca.next_followup_on,
		ca.last_contact_at, ` + phaseSQL + ` AS phase,
		(s.status IN ('open', 'active') AND (ca.overdue OR coalesce(ca.next_followup_on < $1::date, false))) AS overdue,
		ca.escalation_level AS level,
		s.status NOT IN ('open', 'active') AS inactive,
		coalesce(ca.last_contact_at, '-infinity'::timestamptz) AS contact,
		ca.categories, ca.categories_valid_until
	FROM students s JOIN case_activity ca ON ca.student_id = s.id
	WHERE `

// dueCondition is the condition on the computed columns of c for f.Due
// and f.Escalated.
func dueCondition(w *postgres.Where, f CaseloadFilter) {
	switch f.Due {
	case DueOverdue:
		w.Add("c.overdue")
	case DueWeek:
		w.Add("NOT c.overdue AND NOT c.inactive AND c.next_followup_on BETWEEN $1::date AND $1::date + 6")
	}
	if f.Escalated {
		w.Add("c.level > 0")
	}
}

// CaseloadQuery returns the SQL of one page of Caseload (limit+1 rows)
// after the row whose cursor is after ("" for the first page), and its
// arguments, as up to two statements (see caseloadQuery): Rest, when not
// empty, runs only when First returned fewer than limit+1 rows, with the
// limit argument (the last) lowered by what First returned. Exported so
// that benchmarks can issue the same SQL.
func CaseloadQuery(a bangfu.Actor, f CaseloadFilter, after string, limit int, today bangfu.Date) (CaseloadSQL, error) {
	return caseloadQuery(`c.id, c.student_number, c.name, c.department_id, c.counselor_id, c.status, c.phase,
			ARRAY(SELECT DISTINCT u.category FROM unnest(c.categories, c.categories_valid_until) u(category, valid_until)
				WHERE u.valid_until IS NULL OR u.valid_until >= $1::date ORDER BY 1),
			c.next_followup_on, c.overdue, c.last_contact_at, c.level`, a, f, after, limit, today)
}

// CaseloadSQL is one page of the caseload as up to two statements.
type CaseloadSQL struct {
	First, Rest string
	Args        []any // the last is the limit
}

// caseloadQuery builds a page in two parts, so that a wide scope (a
// school: ~10,000 graduates, ~500 of them in the caseload) need not rank
// every graduate before its first page. Every case in the caseload (open,
// active) and every graduate with an unresolved escalation ranks before
// every other (closed, placed… with no escalation: not overdue, level 0,
// inactive); First ranks the former fully, Rest the latter by their own
// order (last contact, id), and is needed only when a page reaches past
// the former — never for a filter only the former can pass (due,
// escalated), nor before a cursor already past them.
func caseloadQuery(columns string, a bangfu.Actor, f CaseloadFilter, after string, limit int, today bangfu.Date) (CaseloadSQL, error) {
	inner := caseloadBase(a, f, today)
	outer := &postgres.Where{Args: inner.Args}
	dueCondition(outer, f)
	firstNeeded := true
	if after != "" {
		k, ok := decodeCaseloadCursor(after)
		if !ok {
			return CaseloadSQL{}, (bangfu.Problems{"cursor": "is not a cursor returned by this list"}).Err()
		}
		contact := pgtype.Timestamptz{Valid: true, InfinityModifier: pgtype.NegativeInfinity}
		if k.Contact != nil {
			contact = pgtype.Timestamptz{Valid: true, Time: *k.Contact}
		}
		outer.Add("(NOT c.overdue, -c.level, c.inactive, c.contact, c.id) > (?::bool, ?::int, ?::bool, ?::timestamptz, ?::bigint)",
			k.NotOverdue, -k.Level, k.Inactive, contact, k.ID)
		firstNeeded = !(k.NotOverdue && k.Level == 0 && k.Inactive)
	}
	outer.Args = append(outer.Args, limit+1)
	base := caseloadInner + inner.String()
	out := CaseloadSQL{Args: outer.Args}
	switch {
	case firstNeeded && caseloadCounselor(a, f) != nil:
		// A counselor's hundred or so graduates: rank those in the
		// caseload or escalated in one pass over both range scans.
		out.First = fmt.Sprintf(`SELECT %s
		FROM (%s AND (s.status IN ('open', 'active') OR ca.escalation_level > 0)) c
		WHERE %s
		ORDER BY NOT c.overdue, -c.level, c.inactive, c.contact, c.id
		LIMIT $%d`, columns, base, outer, len(outer.Args))
	case firstNeeded:
		out.First = fmt.Sprintf(`SELECT %s
		FROM (%s AND s.status IN ('open', 'active')
		      UNION ALL
		      %s AND s.status NOT IN ('open', 'active')
		        AND s.id IN (SELECT e.student_id FROM escalations e WHERE e.status <> 'resolved')) c
		WHERE %s
		ORDER BY NOT c.overdue, -c.level, c.inactive, c.contact, c.id
		LIMIT $%d`, columns, base, base, outer, len(outer.Args))
	}
	if f.Due == "" && !f.Escalated {
		out.Rest = fmt.Sprintf(`SELECT %s
		FROM (%s AND s.status NOT IN ('open', 'active') AND ca.escalation_level = 0) c
		WHERE %s
		ORDER BY c.contact, c.id
		LIMIT $%d`, columns, base, outer, len(outer.Args))
	}
	return out, nil
}

// run issues q and collects its rows with scan: First, then Rest for what
// First left of the limit.
func (q CaseloadSQL) run(ctx context.Context, db postgres.Querier, scan func(pgx.CollectableRow) (CaseloadRow, error)) ([]CaseloadRow, error) {
	want := q.Args[len(q.Args)-1].(int)
	var items []CaseloadRow
	for _, sql := range []string{q.First, q.Rest} {
		if sql == "" || len(items) >= want {
			continue
		}
		args := slices.Clone(q.Args)
		args[len(args)-1] = want - len(items)
		rows, err := db.Query(ctx, sql, args...)
		if err != nil {
			return nil, err
		}
		got, err := pgx.CollectRows(rows, scan)
		if err != nil {
			return nil, err
		}
		items = append(items, got...)
	}
	return items, nil
}

// Caseload returns one page of the graduates a may see that match f, most
// urgent first (see the order above). after is the cursor of the previous
// page's next_cursor, "" for the first page; a cursor not made by
// Caseload is invalid. Province staff see names and numbers masked. The
// first page of each search is recorded in the audit log.
func (s *Service) Caseload(ctx context.Context, a bangfu.Actor, f CaseloadFilter, after string, limit int) (bangfu.List[CaseloadRow], error) {
	f.Q = strings.TrimSpace(f.Q)
	if f.Q != "" && policy.Masked(a) {
		// As in List: what a role sees masked it cannot search by.
		return bangfu.List[CaseloadRow]{}, (bangfu.Problems{"q": "cannot be used by province staff, who see names and student numbers masked"}).Err()
	}
	if err := f.Check(); err != nil {
		return bangfu.List[CaseloadRow]{}, err
	}
	if limit < 1 || limit > bangfu.MaxPageLimit {
		limit = bangfu.DefaultPageLimit
	}
	q, err := CaseloadQuery(a, f, after, limit, bangfu.Today(s.Clock))
	if err != nil {
		return bangfu.List[CaseloadRow]{}, err
	}
	items, err := q.run(ctx, s.DB.ReadIf(ctx, policy.ScopeOf(a).All), func(row pgx.CollectableRow) (CaseloadRow, error) {
		var r CaseloadRow
		var next *time.Time
		err := row.Scan(&r.ID, &r.StudentNumber, &r.Name, &r.DepartmentID, &r.CounselorID, &r.Status, &r.Phase, &r.Categories,
			&next, &r.Overdue, &r.LastContactAt, &r.EscalationLevel)
		r.NextFollowupOn = bangfu.DatePtr(next)
		return r, err
	})
	if err != nil {
		return bangfu.List[CaseloadRow]{}, err
	}
	l := bangfu.List[CaseloadRow]{Items: items}
	if len(items) > limit {
		l.Items = items[:limit]
		l.NextCursor = l.Items[limit-1].key().encode()
	}
	if l.Items == nil {
		l.Items = []CaseloadRow{}
	}
	if policy.Masked(a) {
		for i := range l.Items {
			l.Items[i].Name = mask.Name(l.Items[i].Name)
			l.Items[i].StudentNumber = mask.Tail(l.Items[i].StudentNumber, 3)
		}
	}
	if a.Role != bangfu.RoleStudent && after == "" {
		// One entry per search (its first page), not per graduate listed.
		ev := audit.Event{Action: audit.StudentList, Detail: map[string]any{"order": "urgency", "q": f.Q, "status": f.Status,
			"category": f.Category, "due": f.Due, "escalated": f.Escalated, "results": len(l.Items)}}
		if a.SchoolID != nil {
			ev.SchoolID = *a.SchoolID
		}
		if err := s.Reads.Record(ctx, a, s.Clock.Now(), ev); err != nil {
			return bangfu.List[CaseloadRow]{}, err
		}
	}
	return l, nil
}

// CaseloadIDs returns the ids of every graduate a may see that matches f,
// in urgency order, refusing more than max (invalid, naming "filter"): a
// group action over "everyone matching this filter" must not silently
// act on part of them.
func (s *Service) CaseloadIDs(ctx context.Context, a bangfu.Actor, f CaseloadFilter, max int) ([]int64, error) {
	f.Q = strings.TrimSpace(f.Q)
	if err := f.Check(); err != nil {
		return nil, err
	}
	q, err := caseloadQuery("c.id", a, f, "", max, bangfu.Today(s.Clock))
	if err != nil {
		return nil, err
	}
	rows, err := q.run(ctx, s.DB.Pool, func(row pgx.CollectableRow) (CaseloadRow, error) {
		var r CaseloadRow
		return r, row.Scan(&r.ID)
	})
	if err != nil {
		return nil, err
	}
	ids := make([]int64, len(rows))
	for i, r := range rows {
		ids[i] = r.ID
	}
	if len(ids) > max {
		return nil, (bangfu.Problems{"filter": fmt.Sprintf("matches more than %d graduates: narrow it", max)}).Err()
	}
	return ids, nil
}

// CaseloadCounts are the counters at the top of a workbench.
type CaseloadCounts struct {
	// Overdue follow-ups, follow-ups due in the next 7 days (today
	// included) and graduates with an unresolved escalation, among the
	// graduates the actor sees; Total is all of them.
	Overdue     int `json:"overdue"`
	DueThisWeek int `json:"due_this_week"`
	Escalated   int `json:"escalated"`
	Total       int `json:"total"`
}

// CaseloadCounts counts a's caseload as Caseload's Due and Escalated
// filters would select it, in one statement.
func (s *Service) CaseloadCounts(ctx context.Context, a bangfu.Actor) (CaseloadCounts, error) {
	w := caseloadBase(a, CaseloadFilter{}, bangfu.Today(s.Clock))
	var n CaseloadCounts
	err := s.DB.Pool.QueryRow(ctx, `SELECT count(*) FILTER (WHERE c.overdue),
			count(*) FILTER (WHERE NOT c.overdue AND NOT c.inactive AND c.next_followup_on BETWEEN $1::date AND $1::date + 6),
			count(*) FILTER (WHERE c.level > 0), count(*)
		FROM (`+caseloadInner+w.String()+`) c`, w.Args...).Scan(&n.Overdue, &n.DueThisWeek, &n.Escalated, &n.Total)
	return n, err
}
