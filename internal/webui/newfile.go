package webui

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/bangfu/bangfu"
	"github.com/bangfu/bangfu/internal/directory"
	"github.com/bangfu/bangfu/internal/graduate"
	"github.com/bangfu/bangfu/internal/http/request"
)

type newFileData struct {
	Departments []directory.Department
	Levels      []string
	// Year is the default graduation year.
	Year int
}

func (ui *UI) newFileData(c echo.Context, p *Page) (newFileData, error) {
	depts, err := ui.departments(c, p.Actor)
	return newFileData{Departments: depts, Levels: graduate.EducationLevels, Year: bangfu.Today(ui.Clock).Time().Year()}, err
}

// newFile is the form that opens a file for one graduate (建档).
func (ui *UI) newFile(c echo.Context) error {
	if _, err := request.Params(c); err != nil {
		return err
	}
	p, err := ui.userPage(c)
	if err != nil {
		return err
	}
	d, err := ui.newFileData(c, p)
	if err != nil {
		return err
	}
	p.Title = p.T("newfile.title")
	p.Data = d
	return ui.render(c, http.StatusOK, "student_new", p)
}

// createFile opens the file (graduate.Service.Create) and goes to it.
func (ui *UI) createFile(c echo.Context) error {
	if err := postForm(c); err != nil {
		return err
	}
	var fp bangfu.Problems
	in := graduate.Input{
		StudentNumber: c.FormValue("student_number"), Name: c.FormValue("name"), IDNumber: c.FormValue("id_number"),
		DepartmentID: formID(&fp, "department_id", c.FormValue("department_id")), Major: c.FormValue("major"),
		EducationLevel: c.FormValue("education_level"), Phone: c.FormValue("phone"), Email: c.FormValue("email"),
		Intention: graduate.Intention{Industry: c.FormValue("intention.industry"), Region: c.FormValue("intention.region"),
			JobType: c.FormValue("intention.job_type")},
		Skills:  strings.FieldsFunc(c.FormValue("skills"), func(r rune) bool { return r == '\n' || r == ',' || r == '，' || r == '、' }),
		Consent: c.FormValue("consent") == "true",
	}
	if y := strings.TrimSpace(c.FormValue("graduation_year")); y != "" {
		if n, err := strconv.Atoi(y); err == nil {
			in.GraduationYear = n
		} else {
			fp.Add("graduation_year", "must be a year like 2026")
		}
	}
	// A form problem the service cannot see (an unreadable year or
	// department) stops the form before anything is written.
	var st graduate.Student
	err := fp.Err()
	if err == nil {
		st, err = ui.Graduates.Create(request.Context(c), request.Actor(c), in)
	}
	if FormProblem(err) {
		p, perr := ui.userPage(c)
		if perr != nil {
			return perr
		}
		d, perr := ui.newFileData(c, p)
		if perr != nil {
			return perr
		}
		p.Title = p.T("newfile.title")
		p.Data = d
		status := ui.formFailed(c, p, err)
		return ui.render(c, status, "student_new", p)
	}
	if err != nil {
		return err
	}
	return done(c, "newfile.created", fmt.Sprintf("/students/%d", st.ID))
}
