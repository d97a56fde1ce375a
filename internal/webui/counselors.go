package webui

import (
	"net/http"
	"net/url"
	"slices"
	"strconv"

	"github.com/labstack/echo/v4"

	"github.com/bangfu/bangfu"
	"github.com/bangfu/bangfu/internal/directory"
	"github.com/bangfu/bangfu/internal/graduate"
	"github.com/bangfu/bangfu/internal/http/request"
	"github.com/bangfu/bangfu/internal/report"
)

// Caseload per counselor: the process measures a supervisor watches
// (contact timeliness, overdue follow-ups, open escalations — never
// placement rates, 三不得), and reassigning one or many graduates to
// another counselor.

type caseloadData struct {
	Rows []counselorRow
	// Totals are the process measures of the whole scope.
	Totals report.Process
	// From is the caseload shown for reassignment: a counselor's id,
	// "none" for the unassigned files, "" for none shown.
	From     string
	FromName string
	Files    []graduate.Student
	Next     string
	// Targets are the counselors files may be handed to.
	Targets []directory.User
}

type counselorRow struct {
	ID   int64 // 0: the unassigned files
	Name string
	report.Process
}

func (ui *UI) caseloads(c echo.Context) error {
	q, err := request.Params(c, "from", "cursor")
	if err != nil {
		return err
	}
	from := q.String("from")
	pg := q.Page()
	if from != "" && from != "none" {
		if id, err := strconv.ParseInt(from, 10, 64); err != nil || id < 1 {
			q.Problems.Add("from", "must be a whole number")
		}
	}
	if err := q.Err(); err != nil {
		return err
	}
	p, err := ui.userPage(c)
	if err != nil {
		return err
	}
	if err := ui.fillCaseloads(c, p, from, pg); err != nil {
		return err
	}
	return ui.render(c, http.StatusOK, "counselors", p)
}

// fillCaseloads reads the process measures per counselor and, when from
// names a caseload, one page of its files into p.
func (ui *UI) fillCaseloads(c echo.Context, p *Page, from string, pg bangfu.Page) error {
	ctx, a := request.Context(c), p.Actor
	sum, err := ui.Reports.Summary(ctx, a, report.Filter{})
	if err != nil {
		return err
	}
	counselors, err := ui.Directory.Counselors(ctx, a)
	if err != nil {
		return err
	}
	d := &caseloadData{Totals: sum.Process, From: from, Targets: counselors}
	// Every enabled counselor has a row, with or without open cases; a
	// counselor no longer enabled still has one while cases remain.
	seen := map[int64]bool{}
	for _, u := range counselors {
		row := counselorRow{ID: u.ID, Name: u.DisplayName}
		for _, cp := range sum.Counselors {
			if cp.CounselorID == u.ID {
				row.Process = cp.Process
			}
		}
		seen[u.ID] = true
		d.Rows = append(d.Rows, row)
	}
	for _, cp := range sum.Counselors {
		if !seen[cp.CounselorID] {
			name := cp.Name
			if cp.CounselorID == 0 {
				name = p.T("counselors.unassigned")
			}
			d.Rows = append(d.Rows, counselorRow{ID: cp.CounselorID, Name: name, Process: cp.Process})
		}
	}
	if from != "" {
		f := graduate.Filter{Unassigned: from == "none"}
		d.FromName = p.T("counselors.unassigned")
		if !f.Unassigned {
			id, _ := strconv.ParseInt(from, 10, 64)
			f.CounselorID = &id
			d.FromName = from
			for _, r := range d.Rows {
				if r.ID == id {
					d.FromName = r.Name
				}
			}
			d.Targets = slices.DeleteFunc(slices.Clone(counselors), func(u directory.User) bool { return u.ID == id })
		}
		l, err := ui.Graduates.List(ctx, a, f, pg)
		if err != nil {
			return err
		}
		d.Files = l.Items
		if l.NextCursor != "" {
			d.Next = "/counselors?" + url.Values{"from": {from}, "cursor": {l.NextCursor}}.Encode() + "#caseload"
		}
	}
	p.Title = p.T("counselors.title")
	p.Data = d
	return nil
}

// reassign hands the checked graduates over to the chosen counselor.
func (ui *UI) reassign(c echo.Context) error {
	if err := postForm(c); err != nil {
		return err
	}
	form, _ := c.FormParams()
	in := graduate.Reassignment{StudentIDs: []int64{}}
	for _, v := range form["student_ids"] {
		if id, err := strconv.ParseInt(v, 10, 64); err == nil {
			in.StudentIDs = append(in.StudentIDs, id)
		}
	}
	if id, err := strconv.ParseInt(c.FormValue("counselor_id"), 10, 64); err == nil {
		in.CounselorID = &id
	}
	from := c.FormValue("from")
	if from != "none" {
		if _, err := strconv.ParseInt(from, 10, 64); err != nil {
			from = ""
		}
	}
	_, err := ui.Graduates.Reassign(request.Context(c), request.Actor(c), in)
	if FormProblem(err) {
		p, perr := ui.userPage(c)
		if perr != nil {
			return perr
		}
		if perr := ui.fillCaseloads(c, p, from, bangfu.Page{Limit: bangfu.DefaultPageLimit}); perr != nil {
			return perr
		}
		return ui.render(c, ui.formFailed(c, p, err), "counselors", p)
	}
	if err != nil {
		return err
	}
	back := "/counselors"
	if from != "" {
		back += "?" + url.Values{"from": {from}}.Encode() + "#caseload"
	}
	return done(c, "counselors.reassigned", back)
}
