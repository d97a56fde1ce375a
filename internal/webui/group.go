package webui

import (
	"net/http"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/bangfu/bangfu"
	"github.com/bangfu/bangfu/internal/directory"
	"github.com/bangfu/bangfu/internal/graduate"
	"github.com/bangfu/bangfu/internal/http/request"
	"github.com/bangfu/bangfu/internal/ledger"
)

// maxGroup is the most graduates one group contact is logged for
// (ledger.Service.AppendGroup refuses more).
const maxGroup = 500

type groupData struct {
	Filter      caseloadView
	Rows        []caseloadRow
	More        bool // more graduates match than the list shows
	Departments []directory.Department
	Categories  []string
	Statuses    []string
	Channels    []string
	Now, Today  string
	// Logged is how many graduates the last group contact was logged for.
	Logged int
}

func (ui *UI) groupData(c echo.Context, p *Page, v caseloadView) (groupData, error) {
	l, err := ui.Graduates.Caseload(request.Context(c), p.Actor, v.filter(), "", bangfu.MaxPageLimit)
	if err != nil {
		return groupData{}, err
	}
	depts, err := ui.departments(c, p.Actor)
	if err != nil {
		return groupData{}, err
	}
	return groupData{Filter: v, Rows: caseloadRows(l.Items, bangfu.Today(ui.Clock)), More: l.NextCursor != "",
		Departments: depts, Categories: graduate.Categories, Statuses: graduate.Statuses,
		Channels: []string{"job_fair", "briefing", "meeting", "other"},
		Now:      LocalTime(ui.Clock.Now()), Today: bangfu.Today(ui.Clock).String()}, nil
}

// group is the group contact page: pick graduates from the caseload (or
// take everyone matching the filter) and log one job fair or briefing for
// all of them.
func (ui *UI) group(c echo.Context) error {
	q, err := request.Params(c, append(filterParams, "logged")...)
	if err != nil {
		return err
	}
	v := readCaseloadFilter(q)
	logged := q.Int("logged", 0)
	if err := q.Err(); err != nil {
		return err
	}
	p, err := ui.userPage(c)
	if err != nil {
		return err
	}
	d, err := ui.groupData(c, p, v)
	if err != nil {
		return err
	}
	d.Logged = max(logged, 0)
	p.Title = p.T("group.title")
	p.Data = d
	return ui.render(c, http.StatusOK, "group", p)
}

// groupAppend logs the contact for the chosen graduates, all or none
// (ledger.Service.AppendGroup).
func (ui *UI) groupAppend(c echo.Context) error {
	if err := postForm(c); err != nil {
		return err
	}
	form, _ := c.FormParams()
	var fp bangfu.Problems
	v := caseloadView{Q: form.Get("q"), Status: form.Get("status"), Category: form.Get("category"), Due: form.Get("due"),
		DepartmentID: formID(&fp, "department_id", form.Get("department_id")), Escalated: form.Get("escalated") == "true"}
	in, ep := ledgerForm(c, "entry.")
	for k, msg := range ep {
		fp.Add(k, msg)
	}
	ctx := request.Context(c)
	a := request.Actor(c)
	var ids []int64
	if form.Get("who") == "filter" {
		var err error
		if ids, err = ui.Graduates.CaseloadIDs(ctx, a, v.filter(), maxGroup); err != nil && !FormProblem(err) {
			return err
		} else if err != nil {
			for k, msg := range bangfu.FieldsOf(err) {
				fp.Add(k, msg)
			}
		}
	} else {
		for _, s := range form["student_ids"] {
			id, err := strconv.ParseInt(s, 10, 64)
			if err != nil {
				fp.Add("student_ids", "lists something that is not a graduate")
				continue
			}
			ids = append(ids, id)
		}
	}
	var err error
	if len(fp) == 0 {
		var out []ledger.Entry
		out, err = ui.Ledger.AppendGroup(ctx, a, ledger.GroupInput{StudentIDs: ids, Entry: in})
		if err == nil {
			q := v.Values()
			q.Set("logged", strconv.Itoa(len(out)))
			return done(c, "", "/contacts/group?"+q.Encode())
		}
	} else {
		err = fp.Err()
	}
	if !FormProblem(err) {
		return err
	}
	p, perr := ui.userPage(c)
	if perr != nil {
		return perr
	}
	d, perr := ui.groupData(c, p, v)
	if perr != nil {
		return perr
	}
	p.Title = p.T("group.title")
	p.Data = d
	status := ui.formFailed(c, p, err)
	for k, msg := range p.Fields {
		// A graduate the actor may not see is named by its place in the
		// list: the form shows it with the list's problem.
		if strings.HasPrefix(k, "student_ids.") && p.Fields["student_ids"] == "" {
			p.Fields["student_ids"] = msg
		}
	}
	return ui.render(c, status, "group", p)
}
