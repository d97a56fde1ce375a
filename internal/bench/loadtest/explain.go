package loadtest

import (
	"context"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/bangfu/bangfu"
	"github.com/bangfu/bangfu/internal/escalation"
	"github.com/bangfu/bangfu/internal/graduate"
	"github.com/bangfu/bangfu/internal/ledger"
	"github.com/bangfu/bangfu/internal/postgres"
	"github.com/bangfu/bangfu/internal/report"
)

// PlannedQuery is a key query with realistic arguments, for EXPLAIN.
type PlannedQuery struct {
	Name string
	SQL  string
	Args []any
}

// KeyQueries returns the queries behind the measured endpoints and the
// province report, built by the same builders the services use, for the
// actors of the sample: a counselor and their first graduate, a
// school-wide supervisor and (when there is one) a department supervisor,
// and province.
func KeyQueries(s *Sample, now time.Time) []PlannedQuery {
	today := bangfu.DateOf(now)
	counselor := s.Pairs[0].Counselor.Actor
	studentID := s.Pairs[0].StudentID
	var school, dept *bangfu.Actor
	for _, u := range s.Supervisors {
		switch {
		case u.DepartmentID == nil && school == nil:
			school = &u.Actor
		case u.DepartmentID != nil && dept == nil:
			dept = &u.Actor
		}
	}
	province := bangfu.Actor{Role: bangfu.RoleProvince}
	since := now.AddDate(0, 0, -30)
	var qs []PlannedQuery
	add := func(name, sql string, args []any) { qs = append(qs, PlannedQuery{name, sql, args}) }

	cl, err := graduate.CaseloadQuery(counselor, graduate.CaseloadFilter{}, "", 50, today)
	if err != nil {
		panic(err) // no cursor: cannot fail
	}
	add("caseload (counselor, urgency order)", cl.First, cl.Args)
	if cl.Rest != "" {
		add("caseload (counselor, urgency order): past the open cases", cl.Rest, cl.Args)
	}
	sql, args := graduate.ListQuery(counselor, graduate.Filter{}, bangfu.Page{Limit: 50}, today)
	add("caseload list (counselor, order=id)", sql, args)
	add("graduate file", graduate.FileSQL, []any{today.Time(), studentID})
	add("graduate file: hardships", graduate.HardshipsSQL, []any{studentID})
	add("graduate's ledger", ledger.ListSQL, []any{studentID, 0, false, 51})
	for _, sup := range []*bangfu.Actor{school, dept} {
		if sup == nil {
			continue
		}
		kind := "school"
		if sup.DepartmentID != nil {
			kind = "department"
		}
		sql, args = ledger.ReviewQuery(*sup, ledger.ReviewFilter{Kind: "contact", Since: &since}, nil, 50, today)
		add("ledger review ("+kind+" supervisor, contacts in 30 days)", sql, args)
		sql, args = escalation.ListQuery(*sup, escalation.Filter{Status: "open"}, bangfu.Page{Limit: 50})
		add("escalation list ("+kind+" supervisor, open)", sql, args)
		for _, q := range report.Queries(*sup, report.Filter{GraduationYear: now.Year()}, today, 14) {
			add("report "+q.Name+" ("+kind+" supervisor)", q.SQL, q.Args)
		}
	}
	for _, q := range report.Queries(province, report.Filter{GraduationYear: now.Year()}, today, 14) {
		add("report "+q.Name+" (province)", q.SQL, q.Args)
	}
	return qs
}

// Explain prints EXPLAIN (ANALYZE, BUFFERS) of each key query to w.
func Explain(ctx context.Context, db *postgres.DB, qs []PlannedQuery, w io.Writer) error {
	for _, q := range qs {
		rows, err := db.Pool.Query(ctx, "EXPLAIN (ANALYZE, BUFFERS, COSTS OFF) "+q.SQL, q.Args...)
		if err != nil {
			return fmt.Errorf("%s: %w", q.Name, err)
		}
		var lines []string
		for rows.Next() {
			var line string
			if err := rows.Scan(&line); err != nil {
				return err
			}
			lines = append(lines, line)
		}
		if err := rows.Err(); err != nil {
			return fmt.Errorf("%s: %w", q.Name, err)
		}
		fmt.Fprintf(w, "### %s\n\n```\n%s\n```\n\n", q.Name, strings.Join(lines, "\n"))
	}
	return nil
}
