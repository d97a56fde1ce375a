package webui

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/bangfu/bangfu"
	"github.com/bangfu/bangfu/internal/http/request"
	"github.com/bangfu/bangfu/internal/report"
)

// The staffing check (1:500, item 二十二): each school's full-time
// employment guidance staff against its graduates of the year,
// postgraduates included, and the form with which an admin or the
// school's supervisor records the staff. The form carries the version of
// the record it was made from; a save after someone else's shows both and
// saves nothing.

type staffingData struct {
	List report.StaffingList
	// Editable says whether the user records staff: an admin for any
	// school, a school's supervisor for theirs.
	Editable bool
	// SchoolID is the school the form records (0: the admin chooses).
	SchoolID int64
	Version  int
	// Stale: the save was refused because the record changed; Theirs is
	// the number recorded now.
	Stale  bool
	Theirs string
}

func (ui *UI) staffingPage(c echo.Context) error {
	q, err := request.Params(c, "year", "school_id")
	if err != nil {
		return err
	}
	year, school := q.Int("year", 0), q.ID("school_id")
	if err := q.Err(); err != nil {
		return err
	}
	p, err := ui.userPage(c)
	if err != nil {
		return err
	}
	var id int64
	if school != nil {
		id = *school
	}
	if err := ui.fillStaffing(c, p, year, id); err != nil {
		return err
	}
	return ui.render(c, http.StatusOK, "staffing", p)
}

// fillStaffing reads the check of year and, for the form, the record of
// school (the supervisor's own school when they record it).
func (ui *UI) fillStaffing(c echo.Context, p *Page, year int, school int64) error {
	ctx, a := request.Context(c), p.Actor
	l, err := ui.Reports.StaffingOf(ctx, a, year)
	if err != nil {
		return err
	}
	d := &staffingData{List: l}
	switch {
	case a.Role == bangfu.RoleAdmin:
		d.Editable, d.SchoolID = true, school
	case a.Role == bangfu.RoleSupervisor && a.DepartmentID == nil && a.SchoolID != nil:
		d.Editable, d.SchoolID = true, *a.SchoolID
	}
	if p.Form == nil {
		p.Form = url.Values{}
	}
	p.Form.Set("year", strconv.Itoa(l.Year))
	if d.Editable && d.SchoolID != 0 {
		rec, err := ui.Reports.StaffingRecordOf(ctx, a, d.SchoolID, l.Year)
		switch {
		case err == nil:
			d.Version = rec.Version
			if p.Form.Get("staff") == "" {
				p.Form.Set("staff", strconv.Itoa(rec.Staff))
			}
			d.Theirs = strconv.Itoa(rec.Staff)
		case bangfu.ErrorCode(err) != bangfu.ENOTFOUND:
			return err
		}
		p.Form.Set("school_id", strconv.FormatInt(d.SchoolID, 10))
	}
	p.Title = p.T("staffing.title")
	p.Data = d
	return nil
}

// saveStaffing records the staff the form sends.
func (ui *UI) saveStaffing(c echo.Context) error {
	if err := postForm(c); err != nil {
		return err
	}
	a := request.Actor(c)
	school, _ := strconv.ParseInt(c.FormValue("school_id"), 10, 64)
	year, _ := strconv.Atoi(c.FormValue("year"))
	if a.Role == bangfu.RoleSupervisor && a.SchoolID != nil {
		school = *a.SchoolID
	}
	in := report.StaffingInput{}
	if v, err := strconv.Atoi(strings.TrimSpace(c.FormValue("staff"))); err == nil {
		in.Staff = &v
	} else if strings.TrimSpace(c.FormValue("staff")) != "" {
		bad := -1 // not a whole number: outside the range, named by the service
		in.Staff = &bad
	}
	var base *int
	if v, err := strconv.Atoi(c.FormValue("version")); err == nil && v > 0 {
		base = &v
	}
	if school == 0 {
		p, err := ui.userPage(c)
		if err != nil {
			return err
		}
		p.Form, _ = c.FormParams()
		p.Fields = map[string]string{"school_id": p.Problem("is required")}
		p.Error = p.T("form.invalid")
		if err := ui.fillStaffing(c, p, year, 0); err != nil {
			return err
		}
		return ui.render(c, http.StatusBadRequest, "staffing", p)
	}
	_, err := ui.Reports.PutStaffing(request.Context(c), a, school, year, base, in)
	if FormProblem(err) {
		p, perr := ui.userPage(c)
		if perr != nil {
			return perr
		}
		status := ui.formFailed(c, p, err)
		stale := bangfu.ErrorCode(err) == bangfu.EPRECONDITIONFAILED || bangfu.ErrorCode(err) == bangfu.EPRECONDITIONREQ
		if stale {
			p.Error = p.T("form.stale")
		}
		if perr := ui.fillStaffing(c, p, year, school); perr != nil {
			return perr
		}
		p.Data.(*staffingData).Stale = stale
		return ui.render(c, status, "staffing", p)
	}
	if err != nil {
		return err
	}
	return done(c, "staffing.saved", "/reports/staffing?"+url.Values{"year": {strconv.Itoa(year)}}.Encode())
}
