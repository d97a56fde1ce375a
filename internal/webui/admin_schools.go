package webui

import (
	"net/http"
	"strconv"

	"github.com/labstack/echo/v4"

	"github.com/bangfu/bangfu"
	"github.com/bangfu/bangfu/internal/directory"
	"github.com/bangfu/bangfu/internal/http/request"
)

// The admin's pages for schools and their departments: lists and the
// forms that create them (directory.Service audits both).

type schoolsData struct {
	Schools     []directory.School
	Next, First string
}

func (ui *UI) schools(c echo.Context) error {
	q, err := request.Params(c, "cursor")
	if err != nil {
		return err
	}
	pg := q.Page()
	if err := q.Err(); err != nil {
		return err
	}
	p, err := ui.userPage(c)
	if err != nil {
		return err
	}
	if err := ui.fillSchools(c, p, pg); err != nil {
		return err
	}
	return ui.render(c, http.StatusOK, "admin_schools", p)
}

func (ui *UI) fillSchools(c echo.Context, p *Page, pg bangfu.Page) error {
	l, err := ui.Directory.ListSchools(request.Context(c), p.Actor, pg)
	if err != nil {
		return err
	}
	d := schoolsData{Schools: l.Items}
	if l.NextCursor != "" {
		d.Next = "/admin/schools?cursor=" + l.NextCursor
	}
	if pg.After != 0 {
		d.First = "/admin/schools"
	}
	p.Title = p.T("admin.schools")
	p.Data = d
	return nil
}

func (ui *UI) createSchool(c echo.Context) error {
	if err := postForm(c); err != nil {
		return err
	}
	in := directory.SchoolInput{Code: c.FormValue("code"), Name: c.FormValue("name"), Region: c.FormValue("region")}
	sc, err := ui.Directory.CreateSchool(request.Context(c), request.Actor(c), in)
	if FormProblem(err) {
		p, perr := ui.userPage(c)
		if perr != nil {
			return perr
		}
		if perr := ui.fillSchools(c, p, bangfu.Page{Limit: bangfu.DefaultPageLimit}); perr != nil {
			return perr
		}
		return ui.render(c, ui.formFailed(c, p, err), "admin_schools", p)
	}
	if err != nil {
		return err
	}
	return done(c, "admin.school_created", "/admin/schools/"+strconv.FormatInt(sc.ID, 10))
}

type schoolData struct {
	School      directory.School
	Departments []directory.Department
}

func (ui *UI) school(c echo.Context) error {
	id, p, err := ui.recordPage(c)
	if err != nil {
		return err
	}
	if err := ui.fillSchool(c, p, id); err != nil {
		return err
	}
	return ui.render(c, http.StatusOK, "admin_school", p)
}

func (ui *UI) fillSchool(c echo.Context, p *Page, id int64) error {
	ctx := request.Context(c)
	sc, err := ui.Directory.School(ctx, id)
	if err != nil {
		return err
	}
	l, err := ui.Directory.ListDepartments(ctx, p.Actor, id, bangfu.Page{Limit: bangfu.MaxPageLimit})
	if err != nil {
		return err
	}
	p.Title = sc.Name
	p.Data = schoolData{School: sc, Departments: l.Items}
	return nil
}

func (ui *UI) createDepartment(c echo.Context) error {
	if err := postForm(c); err != nil {
		return err
	}
	id, err := request.PathID(c, "id")
	if err != nil {
		return err
	}
	_, err = ui.Directory.CreateDepartment(request.Context(c), request.Actor(c), id, c.FormValue("name"))
	if FormProblem(err) {
		p, perr := ui.userPage(c)
		if perr != nil {
			return perr
		}
		if perr := ui.fillSchool(c, p, id); perr != nil {
			return perr
		}
		return ui.render(c, ui.formFailed(c, p, err), "admin_school", p)
	}
	if err != nil {
		return err
	}
	return done(c, "admin.department_created", "/admin/schools/"+strconv.FormatInt(id, 10))
}
