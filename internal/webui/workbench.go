package webui

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/bangfu/bangfu"
	"github.com/bangfu/bangfu/internal/directory"
	"github.com/bangfu/bangfu/internal/graduate"
	"github.com/bangfu/bangfu/internal/http/request"
)

func init() { homes[bangfu.RoleCounselor] = (*UI).workbench }

type workbenchData struct {
	Filter      caseloadView
	Counts      graduate.CaseloadCounts
	Rows        []caseloadRow
	Next        string // the next page's URL, "" on the last
	Later       bool   // this is not the first page
	Departments []directory.Department
	Categories  []string
	Statuses    []string
}

// workbench is the counselor's home: their caseload, most urgent first
// (graduate.Service.Caseload), with search, filters and keyset paging, and
// the counts of overdue follow-ups, follow-ups due this week and open
// escalations at the top, each a link that filters.
func (ui *UI) workbench(c echo.Context) error {
	q, err := request.Params(c, append(filterParams, "cursor")...)
	if err != nil {
		return err
	}
	v := readCaseloadFilter(q)
	cursor := q.String("cursor")
	if err := q.Err(); err != nil {
		return err
	}
	p, err := ui.userPage(c)
	if err != nil {
		return err
	}
	ctx := request.Context(c)
	l, err := ui.Graduates.Caseload(ctx, p.Actor, v.filter(), cursor, bangfu.DefaultPageLimit)
	if err != nil {
		return err
	}
	counts, err := ui.Graduates.CaseloadCounts(ctx, p.Actor)
	if err != nil {
		return err
	}
	depts, err := ui.departments(c, p.Actor)
	if err != nil {
		return err
	}
	d := workbenchData{Filter: v, Counts: counts, Rows: caseloadRows(l.Items, bangfu.Today(ui.Clock)), Later: cursor != "",
		Departments: depts, Categories: graduate.Categories, Statuses: graduate.Statuses}
	if l.NextCursor != "" {
		d.Next = v.URL("/", l.NextCursor)
	}
	p.Title = p.T("workbench.title")
	p.Data = d
	return ui.render(c, http.StatusOK, "workbench", p)
}
