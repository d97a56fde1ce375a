// Package report computes 去向落实率 — the share of graduates with a
// destination — against the policy targets, per school, department and
// hardship category, together with the process measures supervisors
// watch per counselor (contact timeliness, overdue follow-ups, open
// escalations). Placement rates are never broken down by counselor: the
// MoE forbids tying them to staff appraisal (三不得).
package report

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"golang.org/x/sync/singleflight"

	"github.com/bangfu/bangfu"
	"github.com/bangfu/bangfu/internal/audit"
	"github.com/bangfu/bangfu/internal/graduate"
	"github.com/bangfu/bangfu/internal/mask"
	"github.com/bangfu/bangfu/internal/policy"
	"github.com/bangfu/bangfu/internal/postgres"
	"github.com/bangfu/bangfu/internal/settings"
)

// Rate is a count of graduates and how many have a destination.
type Rate struct {
	Graduates  int     `json:"graduates"`
	Placed     int     `json:"placed"`
	HandedOver int     `json:"handed_over"` // handed over to the public employment service, placed since or not
	Rate       float64 `json:"rate"`
	// MeetsTarget compares Rate with the target in force on the report date.
	MeetsTarget bool `json:"meets_target"`
}

// Group is a Rate for one school, department or hardship category.
type Group struct {
	ID   int64  `json:"id,omitempty"`
	Code string `json:"code,omitempty"`
	Name string `json:"name"`
	Rate
}

// Process is what supervisors watch instead of placement per counselor.
type Process struct {
	OpenCases int `json:"open_cases"`
	// ContactedRecently counts open cases contacted within the first stall
	// threshold (14 days by default).
	ContactedRecently int     `json:"contacted_recently"`
	Timeliness        float64 `json:"timeliness"`
	OverdueFollowups  int     `json:"overdue_followups"`
	OpenEscalations   [3]int  `json:"open_escalations"`
}

// CounselorProcess is one counselor's process measures.
type CounselorProcess struct {
	CounselorID int64  `json:"counselor_id"`
	Name        string `json:"name"`
	Process
}

// Targets are the rates required by 31 July and 31 December.
type Targets struct {
	July     float64 `json:"july"`
	December float64 `json:"december"`
	// Current is the target in force on the report date: July's until 31
	// July, December's after.
	Current float64 `json:"current"`
}

// Summary is the report for one graduation year within the actor's scope.
type Summary struct {
	GraduationYear int         `json:"graduation_year"`
	AsOf           bangfu.Date `json:"as_of"`
	// ComputedAt is when the figures were counted; a summary is served for
	// up to CacheTTL after that.
	ComputedAt   time.Time          `json:"computed_at"`
	Scope        string             `json:"scope"`
	Targets      Targets            `json:"targets"`
	Overall      Rate               `json:"overall"`
	BySchool     []Group            `json:"by_school"`
	ByDepartment []Group            `json:"by_department"`
	ByCategory   []Group            `json:"by_category"`
	Process      Process            `json:"process"`
	Counselors   []CounselorProcess `json:"counselors"`
}

// Filter chooses the report.
type Filter struct {
	GraduationYear int
	SchoolID       *int64
}

// CacheTTL is how long a computed summary is served before it is counted
// again. Reports are read far more often than a minute's changes matter,
// and counting a school takes tens of milliseconds, the province seconds.
const CacheTTL = time.Minute

// Service computes reports.
type Service struct {
	DB       *postgres.DB
	Clock    bangfu.Clock
	Settings *settings.Store
	// Reads records the audit entries of reads.
	Reads *audit.Reads

	mu       sync.Mutex
	cache    map[string]cached
	counting singleflight.Group
}

type cached struct {
	sum Summary
	at  time.Time
}

// Query is one statement of a report with its arguments.
type Query struct {
	Name string
	SQL  string
	Args []any
}

// placedExpr counts a graduate as placed when their current destination
// exists and is not 70 (待就业), 71 (不就业拟升学) or 72 (其他暂不就业).
const placedExpr = `s.destination_code IS NOT NULL AND s.destination_code NOT IN ('70', '71', '72')`

// handedOverExpr counts a graduate who was handed over to the public
// employment service.
const handedOverExpr = `s.handed_over_at IS NOT NULL`

// Queries returns the statements of a report for a, in the order Summary
// runs them. Exported so that benchmarks can issue the same SQL directly.
//
// Their shapes depend on the scope. Within a school they start from the
// school's graduates (an index range) and probe hardships and escalations
// per graduate; across the province they aggregate each table once and
// skip the per-counselor breakdown (a thousand rows nobody reads there).
func Queries(a bangfu.Actor, f Filter, today bangfu.Date, stallDays int) []Query {
	scope := func(args ...any) (*postgres.Where, string) {
		w := &postgres.Where{Args: args}
		graduate.AddScope(w, a)
		if f.SchoolID != nil {
			w.Add("s.school_id = ?", *f.SchoolID)
		}
		return w, w.String()
	}
	sc := policy.ScopeOf(a)
	province := sc.All && f.SchoolID == nil
	school := f.SchoolID
	if school == nil {
		school = sc.SchoolID
	}
	var qs []Query
	w, cond := scope(f.GraduationYear)
	qs = append(qs, Query{"by_school", `SELECT g.school_id, sc.code, sc.name, g.n, g.placed, g.handed_over
		FROM (SELECT s.school_id, count(*) AS n, count(*) FILTER (WHERE ` + placedExpr + `) AS placed,
		             count(*) FILTER (WHERE ` + handedOverExpr + `) AS handed_over
		      FROM students s WHERE s.graduation_year = $1 AND ` + cond + ` GROUP BY s.school_id) g
		JOIN schools sc ON sc.id = g.school_id ORDER BY g.school_id`, w.Args})
	if school != nil {
		w, cond = scope(f.GraduationYear, *school)
		qs = append(qs, Query{"by_department", `SELECT coalesce(g.department_id, 0), coalesce(d.name, '（未分院系）'), g.n, g.placed, g.handed_over
			FROM (SELECT s.department_id, count(*) AS n, count(*) FILTER (WHERE ` + placedExpr + `) AS placed,
			             count(*) FILTER (WHERE ` + handedOverExpr + `) AS handed_over
			      FROM students s WHERE s.graduation_year = $1 AND s.school_id = $2 AND ` + cond + ` GROUP BY s.department_id) g
			LEFT JOIN departments d ON d.id = g.department_id ORDER BY 1`, w.Args})
	}
	w, cond = scope(f.GraduationYear, today.Time())
	if province {
		qs = append(qs, Query{"by_category", `SELECT h.category, count(*), count(*) FILTER (WHERE ` + placedExpr + `),
			       count(*) FILTER (WHERE ` + handedOverExpr + `)
			FROM (SELECT DISTINCT student_id, category FROM hardships
			      WHERE status = 'verified' AND (valid_until IS NULL OR valid_until >= $2)) h
			JOIN students s ON s.id = h.student_id
			WHERE s.graduation_year = $1 AND ` + cond + ` GROUP BY h.category ORDER BY h.category`, w.Args})
	} else {
		qs = append(qs, Query{"by_category", `SELECT c.category, count(*), count(*) FILTER (WHERE ` + placedExpr + `),
			       count(*) FILTER (WHERE ` + handedOverExpr + `)
			FROM students s CROSS JOIN LATERAL (
			     SELECT DISTINCT h.category FROM hardships h
			     WHERE h.student_id = s.id AND h.status = 'verified' AND (h.valid_until IS NULL OR h.valid_until >= $2)) c
			WHERE s.graduation_year = $1 AND ` + cond + ` GROUP BY c.category ORDER BY c.category`, w.Args})
	}
	w, cond = scope(today.AddDays(-stallDays).Time())
	if province {
		qs = append(qs, Query{"process", `SELECT count(*), count(*) FILTER (WHERE s.last_contact_at >= $1), count(*) FILTER (WHERE s.overdue)
			FROM students s WHERE s.status IN ('open', 'active') AND ` + cond, w.Args})
		qs = append(qs, Query{"escalations", `SELECT 0::bigint, e.level, count(*) FROM escalations e
			WHERE e.status <> 'resolved' GROUP BY e.level`, nil})
		return qs
	}
	qs = append(qs, Query{"counselors", `SELECT coalesce(s.counselor_id, 0), coalesce(u.display_name, '（未分配）'), count(*),
			count(*) FILTER (WHERE s.last_contact_at >= $1), count(*) FILTER (WHERE s.overdue)
		FROM students s LEFT JOIN users u ON u.id = s.counselor_id
		WHERE s.status IN ('open', 'active') AND ` + cond + `
		GROUP BY 1, 2 ORDER BY 1`, w.Args})
	w, cond = scope()
	if school != nil {
		w.Add("e.school_id = ?", *school)
		cond = w.String()
	}
	qs = append(qs, Query{"escalations", `SELECT coalesce(s.counselor_id, 0), e.level, count(*)
		FROM escalations e JOIN students s ON s.id = e.student_id
		WHERE e.status <> 'resolved' AND ` + cond + ` GROUP BY 1, 2`, w.Args})
	return qs
}

// Summary reports the graduation year f names (this year by default) for
// the graduates a may see: province every school, a supervisor their
// school or department, a counselor their caseload. Summaries are counted
// at most once per CacheTTL for each scope (and once at a time: concurrent
// requests for the same scope wait for one count).
func (s *Service) Summary(ctx context.Context, a bangfu.Actor, f Filter) (Summary, error) {
	today := bangfu.Today(s.Clock)
	if f.GraduationYear == 0 {
		f.GraduationYear = today.Time().Year()
	}
	if f.GraduationYear < 2000 || f.GraduationYear > 2100 {
		return Summary{}, (bangfu.Problems{"graduation_year": "must be a year like 2026"}).Err()
	}
	sc := policy.ScopeOf(a)
	key := fmt.Sprint(a.Role, "|", ids(sc.StudentID, sc.CounselorID, sc.SchoolID, sc.DepartmentID, f.SchoolID), "|", f.GraduationYear, "|", today)
	now := s.Clock.Now()
	// Every read is audited, from the cache or not.
	ev := audit.Event{Action: audit.ReportRead, Detail: map[string]any{"graduation_year": f.GraduationYear, "school_id": f.SchoolID}}
	if a.SchoolID != nil {
		ev.SchoolID = *a.SchoolID
	}
	if err := s.Reads.Record(ctx, a, now, ev); err != nil {
		return Summary{}, err
	}
	s.mu.Lock()
	c, ok := s.cache[key]
	s.mu.Unlock()
	if ok && now.Sub(c.at) < CacheTTL {
		return c.sum, nil
	}
	v, err, _ := s.counting.Do(key, func() (any, error) {
		sum, err := s.Count(context.WithoutCancel(ctx), a, f)
		if err != nil {
			return nil, err
		}
		s.mu.Lock()
		defer s.mu.Unlock()
		if s.cache == nil || len(s.cache) > 10000 {
			s.cache = map[string]cached{}
		}
		s.cache[key] = cached{sum, sum.ComputedAt}
		return sum, nil
	})
	if err != nil {
		return Summary{}, err
	}
	return v.(Summary), nil
}

func ids(ps ...*int64) string {
	var b strings.Builder
	for _, p := range ps {
		if p != nil {
			fmt.Fprint(&b, *p)
		}
		b.WriteByte(',')
	}
	return b.String()
}

// Count computes a summary now, bypassing the cache (benchmarks time it).
func (s *Service) Count(ctx context.Context, a bangfu.Actor, f Filter) (Summary, error) {
	today := bangfu.Today(s.Clock)
	if f.GraduationYear == 0 {
		f.GraduationYear = today.Time().Year()
	}
	cfg, err := s.Settings.Get(ctx, s.DB.Pool)
	if err != nil {
		return Summary{}, err
	}
	sum := Summary{GraduationYear: f.GraduationYear, AsOf: today, ComputedAt: s.Clock.Now(), Scope: scopeName(a),
		Targets:  Targets{July: cfg.TargetJuly, December: cfg.TargetDecember, Current: cfg.TargetJuly},
		BySchool: []Group{}, ByDepartment: []Group{}, ByCategory: []Group{}, Counselors: []CounselorProcess{}}
	if today.After(bangfu.NewDate(f.GraduationYear, time.July, 31)) {
		sum.Targets.Current = cfg.TargetDecember
	}
	rate := func(graduates, placed, handedOver int) Rate {
		r := Rate{Graduates: graduates, Placed: placed, HandedOver: handedOver}
		if graduates > 0 {
			r.Rate = float64(placed) / float64(graduates)
		}
		r.MeetsTarget = graduates > 0 && r.Rate >= sum.Targets.Current
		return r
	}
	masked := policy.Masked(a)
	counselors := map[int64]int{}
	for _, q := range Queries(a, f, today, cfg.StallDays[0]) {
		rows, err := s.DB.Pool.Query(ctx, q.SQL, q.Args...)
		if err != nil {
			return Summary{}, fmt.Errorf("report %s: %w", q.Name, err)
		}
		var id int64
		var code, name string
		var level, n1, n2, n3 int
		switch q.Name {
		case "by_school":
			_, err = pgx.ForEachRow(rows, []any{&id, &code, &name, &n1, &n2, &n3}, func() error {
				sum.BySchool = append(sum.BySchool, Group{ID: id, Code: code, Name: name, Rate: rate(n1, n2, n3)})
				sum.Overall.Graduates += n1
				sum.Overall.Placed += n2
				sum.Overall.HandedOver += n3
				return nil
			})
		case "by_department":
			_, err = pgx.ForEachRow(rows, []any{&id, &name, &n1, &n2, &n3}, func() error {
				sum.ByDepartment = append(sum.ByDepartment, Group{ID: id, Name: name, Rate: rate(n1, n2, n3)})
				return nil
			})
		case "by_category":
			_, err = pgx.ForEachRow(rows, []any{&code, &n1, &n2, &n3}, func() error {
				sum.ByCategory = append(sum.ByCategory, Group{Code: code, Name: categoryNames[code], Rate: rate(n1, n2, n3)})
				return nil
			})
		case "counselors":
			_, err = pgx.ForEachRow(rows, []any{&id, &name, &n1, &n2, &n3}, func() error {
				if masked {
					name = mask.Name(name)
				}
				counselors[id] = len(sum.Counselors)
				sum.Counselors = append(sum.Counselors, CounselorProcess{CounselorID: id, Name: name,
					Process: Process{OpenCases: n1, ContactedRecently: n2, Timeliness: ratio(n2, n1), OverdueFollowups: n3}})
				sum.Process.OpenCases += n1
				sum.Process.ContactedRecently += n2
				sum.Process.OverdueFollowups += n3
				return nil
			})
		case "process":
			_, err = pgx.ForEachRow(rows, []any{&n1, &n2, &n3}, func() error {
				sum.Process.OpenCases, sum.Process.ContactedRecently, sum.Process.OverdueFollowups = n1, n2, n3
				return nil
			})
		case "escalations":
			_, err = pgx.ForEachRow(rows, []any{&id, &level, &n1}, func() error {
				sum.Process.OpenEscalations[level-1] += n1
				if i, ok := counselors[id]; ok {
					sum.Counselors[i].OpenEscalations[level-1] += n1
				}
				return nil
			})
		}
		if err != nil {
			return Summary{}, fmt.Errorf("report %s: %w", q.Name, err)
		}
	}
	sum.Overall = rate(sum.Overall.Graduates, sum.Overall.Placed, sum.Overall.HandedOver)
	sum.Process.Timeliness = ratio(sum.Process.ContactedRecently, sum.Process.OpenCases)
	if a.Role == bangfu.RoleCounselor {
		sum.Counselors = []CounselorProcess{}
	}
	return sum, nil
}

func ratio(n, d int) float64 {
	if d == 0 {
		return 0
	}
	return float64(n) / float64(d)
}

func scopeName(a bangfu.Actor) string {
	sc := policy.ScopeOf(a)
	switch {
	case sc.All:
		return "province"
	case sc.DepartmentID != nil:
		return "department"
	case sc.SchoolID != nil:
		return "school"
	case sc.CounselorID != nil:
		return "caseload"
	}
	return "none"
}

var categoryNames = map[string]string{
	"poverty_alleviated": "脱贫家庭", "dibao": "低保家庭", "zero_employment": "零就业家庭", "disabled": "残疾",
	"tekun": "特困供养", "orphan": "孤儿", "disabled_parent": "残疾人子女", "other_certified": "学校认定其他困难",
}
