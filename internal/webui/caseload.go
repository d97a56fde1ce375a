package webui

import (
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/bangfu/bangfu"
	"github.com/bangfu/bangfu/internal/directory"
	"github.com/bangfu/bangfu/internal/graduate"
	"github.com/bangfu/bangfu/internal/http/request"
	"github.com/bangfu/bangfu/internal/policy"
)

// This file holds what the counselor's pages share: the caseload filter
// as the workbench and the group contact read it from the query, the
// caseload rows as a list shows them, and small helpers for forms.

// caseloadView is a caseload filter as the page shows it (and links keep it).
type caseloadView struct {
	Q, Status, Category, Due string
	DepartmentID             *int64
	Escalated                bool
}

// filterParams are the query parameters of a caseload filter.
var filterParams = []string{"q", "status", "category", "department_id", "due", "escalated"}

// readCaseloadFilter reads the caseload filter from q (see filterParams).
func readCaseloadFilter(q *request.Query) caseloadView {
	v := caseloadView{Q: q.String("q"), Status: q.String("status"), Category: q.String("category"), Due: q.String("due"),
		DepartmentID: q.ID("department_id")}
	if e := q.Bool("escalated"); e != nil {
		v.Escalated = *e
	}
	return v
}

// filter is the domain filter of v.
func (v caseloadView) filter() graduate.CaseloadFilter {
	return graduate.CaseloadFilter{Q: v.Q, Status: v.Status, Category: v.Category, DepartmentID: v.DepartmentID, Due: v.Due, Escalated: v.Escalated}
}

// Values returns v as query or form values (empty ones left out).
func (v caseloadView) Values() url.Values {
	q := url.Values{}
	for k, s := range map[string]string{"q": v.Q, "status": v.Status, "category": v.Category, "due": v.Due} {
		if s != "" {
			q.Set(k, s)
		}
	}
	if v.DepartmentID != nil {
		q.Set("department_id", strconv.FormatInt(*v.DepartmentID, 10))
	}
	if v.Escalated {
		q.Set("escalated", "true")
	}
	return q
}

// URL returns path with v and, when not empty, cursor as its query.
func (v caseloadView) URL(path, cursor string) string {
	q := v.Values()
	if cursor != "" {
		q.Set("cursor", cursor)
	}
	if len(q) == 0 {
		return path
	}
	return path + "?" + q.Encode()
}

// Any reports whether any filter is set.
func (v caseloadView) Any() bool { return len(v.Values()) > 0 }

// Dept reports whether department id is the one filtered on.
func (v caseloadView) Dept(id int64) bool { return v.DepartmentID != nil && *v.DepartmentID == id }

// caseloadRow is a caseload row with what its cells show.
type caseloadRow struct {
	graduate.CaseloadRow
	// DaysSince is the days since the last contact (Never without one).
	DaysSince int
	Never     bool
	// DueSoon: the follow-up is due within 7 days and not yet overdue.
	DueSoon bool
}

func caseloadRows(rows []graduate.CaseloadRow, today bangfu.Date) []caseloadRow {
	out := make([]caseloadRow, len(rows))
	for i, r := range rows {
		out[i] = caseloadRow{CaseloadRow: r, Never: r.LastContactAt == nil}
		if r.LastContactAt != nil {
			out[i].DaysSince = bangfu.DateOf(*r.LastContactAt).DaysUntil(today)
		}
		if d := r.NextFollowupOn; d != nil && !r.Overdue {
			out[i].DueSoon = !d.Before(today) && d.Before(today.AddDays(7))
		}
	}
	return out
}

// departments lists the departments of a's school (none for actors of no
// school), for filters and forms.
func (ui *UI) departments(c echo.Context, a bangfu.Actor) ([]directory.Department, error) {
	if a.SchoolID == nil {
		return nil, nil
	}
	l, err := ui.Directory.ListDepartments(request.Context(c), a, *a.SchoolID, bangfu.Page{Limit: bangfu.MaxPageLimit})
	return l.Items, err
}

// CanAct reports whether the logged-in user's role may do action (the
// policy table), to show only the forms they may send.
func (p *Page) CanAct(action string) bool { return policy.Allowed(p.Actor.Role, policy.Action(action)) }

// localTimeLayout is the value of an <input type="datetime-local">.
const localTimeLayout = "2006-01-02T15:04"

// LocalTime formats t for an <input type="datetime-local">, in Asia/Shanghai.
func LocalTime(t time.Time) string { return t.In(bangfu.Shanghai).Format(localTimeLayout) }

// parseLocalTime reads an <input type="datetime-local"> value as a moment
// in Asia/Shanghai. Empty is the zero time (the service says it is
// required); anything else unreadable is a problem of field.
func parseLocalTime(p *bangfu.Problems, field, v string) time.Time {
	v = strings.TrimSpace(v)
	if v == "" {
		return time.Time{}
	}
	for _, layout := range []string{localTimeLayout, "2006-01-02T15:04:05", time.DateOnly} {
		if t, err := time.ParseInLocation(layout, v, bangfu.Shanghai); err == nil {
			return t
		}
	}
	p.Add(field, "must be a date and time like 2026-07-31T09:30")
	return time.Time{}
}

// formID reads an optional record id from a form field: empty is nil,
// anything else that is not a positive number is a problem of field.
func formID(p *bangfu.Problems, field, v string) *int64 {
	v = strings.TrimSpace(v)
	if v == "" {
		return nil
	}
	id, err := strconv.ParseInt(v, 10, 64)
	if err != nil || id < 1 {
		p.Add(field, "must be chosen from the list")
		return nil
	}
	return &id
}

// mergeProblems returns err with the form's own problems added (a service
// validates the domain; the page reads the form first).
func mergeProblems(err error, p bangfu.Problems) error {
	if len(p) == 0 {
		return err
	}
	fields := map[string]string{}
	for k, v := range bangfu.FieldsOf(err) {
		fields[k] = v
	}
	for k, v := range p {
		if _, ok := fields[k]; !ok {
			fields[k] = v
		}
	}
	if err != nil && !FormProblem(err) {
		return err
	}
	return (bangfu.Problems(fields)).Err()
}
