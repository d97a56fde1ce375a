// Package report computes 去向落实率 — the share of graduates whose
// destination is verified and places them — against the policy targets,
// per school, department, education level, hardship category and
// graduation year, as of any day; the staffing check (at least one
// full-time employment staff member per 500 graduates); the weekly and
// monthly snapshots (周报/月报) that keep what each period said; the
// exports of these figures; and the process measures supervisors watch per
// counselor (contact timeliness, overdue follow-ups, open escalations).
//
// The placement rule follows 四不准 (item 十二): a destination a graduate
// reported, or staff recorded, counts only once a supervisor verified it;
// until then it is shown beside the rate as 待核实, never in it. Placement
// rates are never broken down by counselor: the MoE forbids tying them to
// staff appraisal (三不得).
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
	"github.com/bangfu/bangfu/internal/mask"
	"github.com/bangfu/bangfu/internal/policy"
	"github.com/bangfu/bangfu/internal/postgres"
	"github.com/bangfu/bangfu/internal/settings"
)

// RuleVersion names the rule the figures are counted by; every snapshot
// records it. Version 1 counted any destination record with a placing
// code; version 2 counts only verified ones, and shows the others apart
// (待核实).
const RuleVersion = 2

// Rate is a count of graduates: how many are placed (their current
// destination is verified and is not 70, 71 or 72), how many have a
// placing destination still waiting for verification (待核实, never in the
// rate), and how many were handed over to the public employment service.
type Rate struct {
	Graduates int `json:"graduates"`
	Placed    int `json:"placed"`
	// Pending counts graduates whose current destination has a placing
	// code but is not verified (reported by the graduate or recorded by
	// staff): 待核实. They are not in Placed nor in Rate.
	Pending    int     `json:"pending_verification"`
	HandedOver int     `json:"handed_over"` // handed over to the public employment service, placed since or not
	Rate       float64 `json:"rate"`        // Placed / Graduates
	// Target is the target in force for these graduates on the report
	// date: July's until 31 July of their graduation year, December's after.
	Target      float64 `json:"target"`
	MeetsTarget bool    `json:"meets_target"`
}

// Group is a Rate for one school, department, education level, hardship
// category or graduation year.
type Group struct {
	ID   int64  `json:"id,omitempty"`
	Code string `json:"code,omitempty"`
	Year int    `json:"year,omitempty"`
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
	// Current is the target in force on the report date for the report's
	// graduation year: July's until 31 July, December's after.
	Current float64 `json:"current"`
}

// Figures are the counts of one graduation year as they stood at the end
// of one day: what a summary shows and a snapshot keeps.
type Figures struct {
	GraduationYear int `json:"graduation_year"`
	// AsOf is the day the figures are counted at the end of.
	AsOf        bangfu.Date `json:"as_of"`
	RuleVersion int         `json:"rule_version"`
	Targets     Targets     `json:"targets"`
	Overall     Rate        `json:"overall"`
	BySchool    []Group     `json:"by_school"`
	// ByDepartment is filled within one school.
	ByDepartment []Group `json:"by_department"`
	ByEducation  []Group `json:"by_education"`
	ByCategory   []Group `json:"by_category"`
	// Staffing is the 1:500 check of each school in scope.
	Staffing      []Staffing    `json:"staffing"`
	StaffingCheck StaffingCheck `json:"staffing_check"`
}

// Summary is the report for one graduation year within the actor's scope.
type Summary struct {
	Figures
	// ComputedAt is when the figures were counted; a summary is served for
	// up to CacheTTL after that.
	ComputedAt time.Time `json:"computed_at"`
	Scope      string    `json:"scope"`
	// ByYear is the rate of every graduation year in scope, as of AsOf.
	ByYear []Group `json:"by_year"`
	// Process and Counselors are measured now, whatever AsOf says.
	Process    Process            `json:"process"`
	Counselors []CounselorProcess `json:"counselors"`
}

// Filter chooses the report.
type Filter struct {
	GraduationYear int
	SchoolID       *int64
	// AsOf counts the figures as they stood at the end of that day (today
	// when nil); it may not be later than today.
	AsOf *bangfu.Date
}

// CacheTTL is how long a computed summary is served before it is counted
// again. Reports are read far more often than a minute's changes matter,
// and counting a school takes tens of milliseconds, the province seconds.
const CacheTTL = time.Minute

// Service computes reports and keeps the snapshots and staffing records.
type Service struct {
	DB       *postgres.DB
	Clock    bangfu.Clock
	Settings *settings.Store
	// Reads records the audit entries of reads.
	Reads *audit.Reads
	// NoCache counts every summary afresh (BANGFU_REPORT_CACHE=false: make
	// bench measures the uncached cost through the real server).
	NoCache bool

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

// EndOf is the instant a day's figures are counted at: the midnight
// (Asia/Shanghai) that ends it.
func EndOf(d bangfu.Date) time.Time { return d.AddDays(1).At(0, 0) }

// TargetFor is the target in force on day for graduates of year: July's
// up to 31 July of the year, December's after.
func TargetFor(cfg settings.Settings, year int, day bangfu.Date) float64 {
	if day.After(bangfu.NewDate(year, time.July, 31)) {
		return cfg.TargetDecember
	}
	return cfg.TargetJuly
}

// Queries returns the statements of a report for a, in the order Summary
// runs them. Exported so that benchmarks can issue the same SQL directly.
// today is the day the report is read on; f.AsOf, when before today,
// counts from the destination history instead of the files' current
// state.
//
// Their shapes depend on the scope. The rates are one pass over the
// graduates in scope, grouped at once by graduation year, school,
// department (within a school) and education level. Categories start,
// within a school, from the school's graduates and probe their hardships;
// across the province they aggregate hardships once. The province skips
// the per-counselor breakdown (a thousand rows nobody reads there).
func Queries(a bangfu.Actor, f Filter, today bangfu.Date, stallDays int) []Query {
	sc := policy.ScopeOf(a)
	province := sc.All && f.SchoolID == nil
	school := f.SchoolID
	if school == nil {
		school = sc.SchoolID
	}
	asOf := today
	if f.AsOf != nil && f.AsOf.Before(today) {
		asOf = *f.AsOf
	}
	c := counting{At: EndOf(asOf), Day: asOf, Live: !asOf.Before(today)}
	scope := func(args ...any) *postgres.Where {
		w := &postgres.Where{Args: args}
		addScope(w, a)
		if f.SchoolID != nil {
			w.Add("s.school_id = ?", *f.SchoolID)
		}
		return w
	}
	var qs []Query
	w := scope(c.At)
	qs = append(qs, Query{"rates", c.ratesSQL(w.String()), w.Args})
	w = scope(c.At, f.GraduationYear, c.Day.Time())
	qs = append(qs, Query{"by_category", c.categorySQL(w.String(), province), w.Args})
	if a.Role != bangfu.RoleCounselor {
		w = &postgres.Where{Args: []any{f.GraduationYear, c.At}}
		switch {
		case school != nil:
			w.Add("sc.id = ?", *school)
		case !sc.All:
			w.Add("false")
		}
		qs = append(qs, Query{"staffing", c.staffingSQL(w.String()), w.Args})
	}
	w = scope(today.AddDays(-stallDays).Time())
	if province {
		qs = append(qs, Query{"process", `SELECT count(*), count(*) FILTER (WHERE ca.last_contact_at >= $1), count(*) FILTER (WHERE ca.overdue)
			FROM students s JOIN case_activity ca ON ca.student_id = s.id WHERE s.status IN ('open', 'active') AND ` + w.String(), w.Args})
		qs = append(qs, Query{"escalations", `SELECT 0::bigint, e.level, count(*) FROM escalations e
			WHERE e.status <> 'resolved' GROUP BY e.level`, nil})
		return qs
	}
	qs = append(qs, Query{"counselors", `SELECT coalesce(s.counselor_id, 0), coalesce(u.display_name, '（未分配）'), count(*),
			count(*) FILTER (WHERE ca.last_contact_at >= $1), count(*) FILTER (WHERE ca.overdue)
		FROM students s JOIN case_activity ca ON ca.student_id = s.id LEFT JOIN users u ON u.id = s.counselor_id
		WHERE s.status IN ('open', 'active') AND ` + w.String() + `
		GROUP BY 1, 2 ORDER BY 1`, w.Args})
	w = scope()
	if school != nil {
		w.Add("e.school_id = ?", *school)
	}
	qs = append(qs, Query{"escalations", `SELECT coalesce(s.counselor_id, 0), e.level, count(*)
		FROM escalations e JOIN students s ON s.id = e.student_id
		WHERE e.status <> 'resolved' AND ` + w.String() + ` GROUP BY 1, 2`, w.Args})
	return qs
}

// Summary reports the graduation year f names (this year by default) for
// the graduates a may see, as of the end of f.AsOf (today by default):
// province every school, a supervisor their school or department, a
// counselor their caseload. Summaries are counted at most once per
// CacheTTL for each scope and day (and once at a time: concurrent
// requests for the same scope wait for one count). Every read is audited.
func (s *Service) Summary(ctx context.Context, a bangfu.Actor, f Filter) (Summary, error) {
	today := bangfu.Today(s.Clock)
	if err := check(&f, today); err != nil {
		return Summary{}, err
	}
	sc := policy.ScopeOf(a)
	key := fmt.Sprint(a.Role, "|", ids(sc.StudentID, sc.CounselorID, sc.SchoolID, sc.DepartmentID, f.SchoolID), "|", f.GraduationYear, "|", today, "|", f.AsOf)
	now := s.Clock.Now()
	// Every read is audited, from the cache or not.
	ev := audit.Event{Action: audit.ReportRead, Detail: map[string]any{"graduation_year": f.GraduationYear, "school_id": f.SchoolID, "as_of": f.AsOf}}
	if a.SchoolID != nil {
		ev.SchoolID = *a.SchoolID
	}
	if err := s.Reads.Record(ctx, a, now, ev); err != nil {
		return Summary{}, err
	}
	if s.NoCache {
		return s.Count(ctx, a, f)
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

// check fills in f's defaults (this year; today) and returns its problems.
func check(f *Filter, today bangfu.Date) error {
	if f.GraduationYear == 0 {
		f.GraduationYear = today.Time().Year()
	}
	var p bangfu.Problems
	if f.GraduationYear < 2000 || f.GraduationYear > 2100 {
		p.Add("graduation_year", "must be a year like 2026")
	}
	if f.AsOf != nil {
		switch {
		case f.AsOf.After(today):
			p.Add("as_of", "must not be later than today: figures are counted as they stood, never ahead")
		case f.AsOf.Time().Year() < 2000:
			p.Add("as_of", "must be a date like 2026-07-31")
		case !f.AsOf.Before(today):
			f.AsOf = nil // today: the live figures
		}
	}
	return p.Err()
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
	if err := check(&f, today); err != nil {
		return Summary{}, err
	}
	cfg, err := s.Settings.Get(ctx, s.DB.Pool)
	if err != nil {
		return Summary{}, err
	}
	asOf := today
	if f.AsOf != nil {
		asOf = *f.AsOf
	}
	sum := Summary{ComputedAt: s.Clock.Now(), Scope: scopeName(a), ByYear: []Group{}, Counselors: []CounselorProcess{}}
	sum.Figures = newFigures(cfg.Settings, f.GraduationYear, asOf)
	t := newTally(cfg.Settings, asOf)
	masked := policy.Masked(a)
	counselors := map[int64]int{}
	db := s.DB.Read(ctx) // one pool for the whole summary
	for _, q := range Queries(a, f, today, cfg.StallDays[0]) {
		rows, err := db.Query(ctx, q.SQL, q.Args...)
		if err != nil {
			return Summary{}, fmt.Errorf("report %s: %w", q.Name, err)
		}
		var id int64
		var name string
		var level, n1, n2, n3 int
		switch q.Name {
		case "rates":
			err = t.scanRates(rows)
		case "by_category":
			err = t.scanCategories(rows)
		case "staffing":
			sum.Staffing, err = scanStaffing(rows, f.GraduationYear)
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
		default:
			rows.Close()
		}
		if err != nil {
			return Summary{}, fmt.Errorf("report %s: %w", q.Name, err)
		}
	}
	t.fill(&sum.Figures, 0)
	if policy.ScopeOf(a).All && f.SchoolID == nil {
		// Departments are shown within a school; the province's
		// thousand departments would say nothing.
		sum.ByDepartment = []Group{}
	}
	sum.ByYear = t.years()
	sum.StaffingCheck = checkStaffing(sum.Staffing)
	sum.Process.Timeliness = ratio(sum.Process.ContactedRecently, sum.Process.OpenCases)
	if a.Role == bangfu.RoleCounselor {
		sum.Counselors = []CounselorProcess{}
	}
	return sum, nil
}

// newFigures starts the figures of year as of day, with empty lists.
func newFigures(cfg settings.Settings, year int, day bangfu.Date) Figures {
	return Figures{GraduationYear: year, AsOf: day, RuleVersion: RuleVersion,
		Targets:  Targets{July: cfg.TargetJuly, December: cfg.TargetDecember, Current: TargetFor(cfg, year, day)},
		Overall:  Rate{Target: TargetFor(cfg, year, day)},
		BySchool: []Group{}, ByDepartment: []Group{}, ByEducation: []Group{}, ByCategory: []Group{}, Staffing: []Staffing{}}
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

var educationNames = map[string]string{"zhongzhi": "中职", "zhuanke": "专科", "benke": "本科", "shuoshi": "硕士", "boshi": "博士"}
