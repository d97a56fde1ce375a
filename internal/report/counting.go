package report

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/bangfu/bangfu"
	"github.com/bangfu/bangfu/internal/graduate"
	"github.com/bangfu/bangfu/internal/settings"
)

// counting says when figures are counted: at the end of Day (At, the
// midnight that ends it). Live counts today's figures from the files'
// current state (students.destination_code and destination_verified);
// otherwise they come from the history, where every destination record
// says when it was entered, verified and superseded. Both apply the same
// rule; TestLiveAndHistoryAgree holds them to it.
//
// Statement parameters: $1 is always At.
type counting struct {
	At   time.Time
	Day  bangfu.Date
	Live bool
}

// unplaced are the destination codes that never count as placed.
const unplaced = `('70', '71', '72')`

// from is the graduates (s) with, for a past day, the destination record
// (d) that was current then.
func (c counting) from() string {
	if c.Live {
		return `students s`
	}
	return `students s LEFT JOIN destinations d ON d.student_id = s.id AND d.entered_at < $1
		AND (d.superseded_at IS NULL OR d.superseded_at >= $1)`
}

// placed is true for a graduate counted as placed: their current
// destination is verified and its code is not 70, 71 or 72. placed and
// pending test verification first: PostgreSQL evaluates a FILTER's AND in
// the order written, so each graduate's code is compared with the list
// once, not twice (a third of the CPU of the province's rates).
func (c counting) placed() string {
	if c.Live {
		return `s.destination_verified AND s.destination_code NOT IN ` + unplaced
	}
	return `d.verified_at < $1 AND d.code NOT IN ` + unplaced
}

// pending is true for a graduate whose current destination would place
// them but is not verified (yet): 待核实.
func (c counting) pending() string {
	if c.Live {
		return `NOT s.destination_verified AND s.destination_code NOT IN ` + unplaced
	}
	return `(d.verified_at IS NULL OR d.verified_at >= $1) AND d.code NOT IN ` + unplaced
}

// counts are the aggregate columns of every rate statement.
func (c counting) counts() string {
	return `count(*), count(*) FILTER (WHERE ` + c.placed() + `), count(*) FILTER (WHERE ` + c.pending() + `),
		count(*) FILTER (WHERE s.handed_over_at < $1)`
}

// rateSets group the graduates by year; by year and school, department or
// education level; and by year, school and education level.
var rateSets = []string{"(f.graduation_year)", "(f.graduation_year, f.school_id)", "(f.graduation_year, f.education_level)",
	"(f.graduation_year, f.school_id, f.department_id)", "(f.graduation_year, f.school_id, f.education_level)"}

// ratesSQL counts the graduates matching cond (files that existed at At)
// in one pass, by their finest group (year, school, department, education
// level: a few thousand rows for a province), then adds those up by
// rateSets. Grouping the graduates by the sets directly would sort a
// million rows; this reads them once into a hash table. Its rows:
// grouping bits (school, department, education level: a bit set is a
// column rolled up), year, school id and name, department id and name,
// education level, then the counts.
func (c counting) ratesSQL(cond string) string {
	return `SELECT r.g, r.graduation_year, coalesce(r.school_id, 0), coalesce(sc.name, ''),
			coalesce(r.department_id, 0), coalesce(dp.name, '（未分院系）'), coalesce(r.education_level, ''), r.n, r.placed, r.pending, r.handed_over
		FROM (SELECT GROUPING(f.school_id, f.department_id, f.education_level), f.graduation_year, f.school_id, f.department_id, f.education_level,
		             sum(f.n)::int, sum(f.placed)::int, sum(f.pending)::int, sum(f.handed_over)::int
		      FROM (SELECT s.graduation_year, s.school_id, s.department_id, s.education_level, ` + c.counts() + `
		            FROM ` + c.from() + `
		            WHERE s.created_at < $1 AND ` + cond + `
		            GROUP BY 1, 2, 3, 4) f(graduation_year, school_id, department_id, education_level, n, placed, pending, handed_over)
		      GROUP BY GROUPING SETS (` + strings.Join(rateSets, ", ") + `)) r(g, graduation_year, school_id, department_id, education_level, n, placed, pending, handed_over)
		LEFT JOIN schools sc ON sc.id = r.school_id
		LEFT JOIN departments dp ON dp.id = r.department_id
		ORDER BY 1, 2, 3, 5, 7`
}

// hardshipAt is true for a hardship h that counted on Day ($3): verified
// by then (and not rejected since), its evidence valid on that day. The
// expiry job marks expired evidence unverified but keeps when it was
// verified, so an expired category still counts for the days it was
// valid.
const hardshipAt = `h.verified_at < $1 AND h.status <> 'rejected' AND (h.valid_until IS NULL OR h.valid_until >= $3::date)`

// categorySQL groups the graduates of year $2 matching cond by hardship
// category, and by school and category. Its rows: grouping bit (school),
// year, school id, category, then the counts. Parameters: $1 At, $2 year,
// $3 Day.
func (c counting) categorySQL(cond string, province bool) string {
	from := c.from() + ` CROSS JOIN LATERAL (SELECT DISTINCT h.category FROM hardships h WHERE h.student_id = s.id AND ` + hardshipAt + `) c`
	if province {
		from = `(SELECT DISTINCT h.student_id, h.category FROM hardships h WHERE ` + hardshipAt + `) c
			JOIN ` + strings.Replace(c.from(), "students s", "students s ON s.id = c.student_id", 1)
	}
	return `SELECT GROUPING(s.school_id), s.graduation_year, coalesce(s.school_id, 0), c.category, ` + c.counts() + `
		FROM ` + from + `
		WHERE s.graduation_year = $2 AND s.created_at < $1 AND ` + cond + `
		GROUP BY GROUPING SETS ((s.graduation_year, c.category), (s.graduation_year, s.school_id, c.category)) ORDER BY 1, 3, 4`
}

// staffingSQL reads, for each school matching cond (on sc), its staff
// recorded for year $1 and its graduates of that year whose files existed
// at $2.
func (c counting) staffingSQL(cond string) string {
	return `SELECT sc.id, sc.name, st.staff, coalesce(g.n, 0)
		FROM schools sc
		LEFT JOIN school_staffing st ON st.school_id = sc.id AND st.year = $1
		LEFT JOIN (SELECT s.school_id, count(*) AS n FROM students s
		           WHERE s.graduation_year = $1 AND s.created_at < $2 GROUP BY s.school_id) g ON g.school_id = sc.id
		WHERE ` + cond + ` ORDER BY sc.id`
}

// addScope limits s to the graduates a sees (graduate.AddScope).
var addScope = graduate.AddScope

// counts of a group.
type counts struct{ n, placed, pending, handed int }

// The grouping bits of a rates row: a set bit is a column rolled up.
const (
	bitSchool = 4
	bitDept   = 2
	bitLevel  = 1
)

type rateRow struct {
	bits       int
	year       int
	school     int64
	schoolName string
	dept       int64
	deptName   string
	level      string
	counts
}

type categoryRow struct {
	bySchool bool
	year     int
	school   int64
	category string
	counts
}

// tally holds the rows of the rate statements and builds Figures from
// them, for the whole scope or one school of it.
type tally struct {
	cfg        settings.Settings
	day        bangfu.Date
	rates      []rateRow
	categories []categoryRow
}

func newTally(cfg settings.Settings, day bangfu.Date) *tally { return &tally{cfg: cfg, day: day} }

func (t *tally) scanRates(rows pgx.Rows) error {
	var r rateRow
	_, err := pgx.ForEachRow(rows, []any{&r.bits, &r.year, &r.school, &r.schoolName, &r.dept, &r.deptName, &r.level,
		&r.n, &r.placed, &r.pending, &r.handed}, func() error {
		t.rates = append(t.rates, r)
		return nil
	})
	return err
}

func (t *tally) scanCategories(rows pgx.Rows) error {
	var r categoryRow
	var bits int
	_, err := pgx.ForEachRow(rows, []any{&bits, &r.year, &r.school, &r.category, &r.n, &r.placed, &r.pending, &r.handed}, func() error {
		r.bySchool = bits == 0
		t.categories = append(t.categories, r)
		return nil
	})
	return err
}

// rate turns counts of graduates of year into a Rate against the target
// in force on the tally's day.
func (t *tally) rate(c counts, year int) Rate {
	r := Rate{Graduates: c.n, Placed: c.placed, Pending: c.pending, HandedOver: c.handed, Target: TargetFor(t.cfg, year, t.day)}
	r.Rate = ratio(c.placed, c.n)
	r.MeetsTarget = c.n > 0 && r.Rate >= r.Target
	return r
}

// fill sets f's rates of f.GraduationYear: for the whole scope (school 0)
// or for one school.
func (t *tally) fill(f *Figures, school int64) {
	y := f.GraduationYear
	for _, r := range t.rates {
		if r.year != y || (school != 0 && r.school != school && r.bits&bitSchool == 0) {
			continue
		}
		switch {
		case r.bits == bitSchool|bitDept|bitLevel && school == 0:
			f.Overall = t.rate(r.counts, y)
		case r.bits == bitDept|bitLevel && school == 0:
			f.BySchool = append(f.BySchool, Group{ID: r.school, Name: r.schoolName, Rate: t.rate(r.counts, y)})
		case r.bits == bitDept|bitLevel:
			f.Overall = t.rate(r.counts, y)
		case r.bits == bitLevel:
			f.ByDepartment = append(f.ByDepartment, Group{ID: r.dept, Name: r.deptName, Rate: t.rate(r.counts, y)})
		case r.bits == bitSchool|bitDept && school == 0, r.bits == bitDept && school != 0:
			f.ByEducation = append(f.ByEducation, Group{Code: r.level, Name: educationNames[r.level], Rate: t.rate(r.counts, y)})
		}
	}
	if f.Overall.Graduates == 0 {
		f.Overall = t.rate(counts{}, y)
	}
	slices.SortFunc(f.ByEducation, func(a, b Group) int { return cmp.Compare(educationOrder[a.Code], educationOrder[b.Code]) })
	for _, r := range t.categories {
		if r.year == y && (school == 0) == !r.bySchool && (school == 0 || r.school == school) {
			f.ByCategory = append(f.ByCategory, Group{Code: r.category, Name: categoryNames[r.category], Rate: t.rate(r.counts, y)})
		}
	}
}

// years returns the rate of every graduation year, oldest first.
func (t *tally) years() []Group {
	out := []Group{}
	for _, r := range t.rates {
		if r.bits == bitSchool|bitDept|bitLevel {
			out = append(out, Group{Year: r.year, Name: fmt.Sprintf("%d届", r.year), Rate: t.rate(r.counts, r.year)})
		}
	}
	slices.SortFunc(out, func(a, b Group) int { return cmp.Compare(a.Year, b.Year) })
	return out
}

var educationOrder = map[string]int{"zhongzhi": 1, "zhuanke": 2, "benke": 3, "shuoshi": 4, "boshi": 5}
