package webui

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/bangfu/bangfu"
	"github.com/bangfu/bangfu/internal/directory"
	"github.com/bangfu/bangfu/internal/http/request"
)

// The admin's pages for users: the list with filters (their home page),
// creating a user, and changing one — name, role, school, department,
// disabling and enabling, resetting the password. Every change goes
// through directory.Service, which audits it; a change to a user someone
// else changed meanwhile shows both versions and saves nothing.

func init() { homes[bangfu.RoleAdmin] = (*UI).users }

// schoolDirectory is every school with its departments, for the user
// forms' choices and for naming them in lists.
type schoolDirectory struct {
	Schools     []directory.School
	Departments map[int64][]directory.Department
}

func (sd schoolDirectory) SchoolName(id *int64) string {
	if id == nil {
		return ""
	}
	for _, s := range sd.Schools {
		if s.ID == *id {
			return s.Name
		}
	}
	return strconv.FormatInt(*id, 10)
}

// SchoolNamed is SchoolName for an id as a form sends it.
func (sd schoolDirectory) SchoolNamed(v string) string {
	id, err := strconv.ParseInt(v, 10, 64)
	if err != nil {
		return v
	}
	return sd.SchoolName(&id)
}

func (sd schoolDirectory) DepartmentName(school, id *int64) string {
	if school == nil || id == nil {
		return ""
	}
	for _, d := range sd.Departments[*school] {
		if d.ID == *id {
			return d.Name
		}
	}
	return strconv.FormatInt(*id, 10)
}

// schoolDirectory reads every school and their departments.
func (ui *UI) schoolDirectory(ctx context.Context, a bangfu.Actor) (schoolDirectory, error) {
	var sd schoolDirectory
	pg := bangfu.Page{Limit: bangfu.MaxPageLimit}
	for {
		l, err := ui.Directory.ListSchools(ctx, a, pg)
		if err != nil {
			return sd, err
		}
		sd.Schools = append(sd.Schools, l.Items...)
		if l.NextCursor == "" {
			break
		}
		pg.After = l.Items[len(l.Items)-1].ID
	}
	ids := make([]int64, len(sd.Schools))
	for i, s := range sd.Schools {
		ids[i] = s.ID
	}
	var err error
	sd.Departments, err = ui.Directory.DepartmentsOf(ctx, a, ids)
	return sd, err
}

type usersData struct {
	schoolDirectory
	Users       []directory.User
	Roles       []bangfu.Role
	Next, First string
}

// users is the admin's home: every user, filtered by role and school.
func (ui *UI) users(c echo.Context) error {
	q, err := request.Params(c, "role", "school_id", "cursor")
	if err != nil {
		return err
	}
	f := directory.UserFilter{Role: bangfu.Role(q.String("role")), SchoolID: q.ID("school_id")}
	pg := q.Page()
	if err := q.Err(); err != nil {
		return err
	}
	p, err := ui.userPage(c)
	if err != nil {
		return err
	}
	ctx := request.Context(c)
	l, err := ui.Directory.ListUsers(ctx, f, pg)
	if err != nil {
		return err
	}
	sd, err := ui.schoolDirectory(ctx, p.Actor)
	if err != nil {
		return err
	}
	d := usersData{schoolDirectory: sd, Users: l.Items, Roles: bangfu.Roles}
	keep := url.Values{}
	for _, k := range []string{"role", "school_id"} {
		if v := c.QueryParam(k); v != "" {
			keep.Set(k, v)
		}
	}
	if l.NextCursor != "" {
		next := url.Values{"cursor": {l.NextCursor}}
		for k, v := range keep {
			next[k] = v
		}
		d.Next = "/?" + next.Encode()
	}
	if pg.After != 0 {
		d.First = "/"
		if len(keep) > 0 {
			d.First += "?" + keep.Encode()
		}
	}
	p.Title = p.T("admin.users")
	p.Form = c.QueryParams()
	p.Data = d
	return ui.render(c, http.StatusOK, "admin_users", p)
}

// choiceID reads an optional record id chosen from a list: nil when
// empty; anything else that is not a number names no record (-1), which
// the service refuses, naming the field.
func choiceID(c echo.Context, name string) *int64 {
	v := strings.TrimSpace(c.FormValue(name))
	if v == "" {
		return nil
	}
	id, err := strconv.ParseInt(v, 10, 64)
	if err != nil {
		id = -1
	}
	return &id
}

type userFormData struct {
	schoolDirectory
	Roles []bangfu.Role
	// User is the user being changed (zero when creating); Theirs and
	// Yours the two versions when a save came too late.
	User   directory.User
	Theirs *directory.User
	Yours  url.Values
	// Orig is the profile values the form was made with (hidden "orig."
	// fields), for keeping only the user's changes after a stale save.
	Orig url.Values
}

func (ui *UI) userForm(c echo.Context, p *Page, u directory.User) error {
	sd, err := ui.schoolDirectory(request.Context(c), p.Actor)
	if err != nil {
		return err
	}
	p.Data = &userFormData{schoolDirectory: sd, Roles: bangfu.Roles, User: u}
	return nil
}

func (ui *UI) newUserPage(c echo.Context) error {
	if _, err := request.Params(c); err != nil {
		return err
	}
	p, err := ui.userPage(c)
	if err != nil {
		return err
	}
	if err := ui.userForm(c, p, directory.User{}); err != nil {
		return err
	}
	p.Title = p.T("admin.new_user")
	return ui.render(c, http.StatusOK, "admin_user_new", p)
}

func (ui *UI) createUser(c echo.Context) error {
	if err := postForm(c); err != nil {
		return err
	}
	in := directory.UserInput{
		Username: c.FormValue("username"), DisplayName: c.FormValue("display_name"), Role: bangfu.Role(c.FormValue("role")),
		SchoolID: choiceID(c, "school_id"), DepartmentID: choiceID(c, "department_id"), Email: c.FormValue("email"),
		Password: c.FormValue("password"),
	}
	u, err := ui.Directory.CreateUser(request.Context(c), request.Actor(c), in)
	if FormProblem(err) {
		p, perr := ui.userPage(c)
		if perr != nil {
			return perr
		}
		if perr := ui.userForm(c, p, directory.User{}); perr != nil {
			return perr
		}
		p.Title = p.T("admin.new_user")
		status := ui.formFailed(c, p, err)
		p.Form.Del("password")
		return ui.render(c, status, "admin_user_new", p)
	}
	if err != nil {
		return err
	}
	return done(c, "admin.user_created", "/admin/users/"+strconv.FormatInt(u.ID, 10))
}

// profileFields are the fields of the profile form.
var profileFields = []string{"display_name", "email", "role", "school_id", "department_id"}

// userValues is u as the edit form shows it.
func userValues(u directory.User) url.Values {
	v := url.Values{"display_name": {u.DisplayName}, "email": {u.Email}, "role": {string(u.Role)}}
	if u.SchoolID != nil {
		v.Set("school_id", strconv.FormatInt(*u.SchoolID, 10))
	}
	if u.DepartmentID != nil {
		v.Set("department_id", strconv.FormatInt(*u.DepartmentID, 10))
	}
	return v
}

func (ui *UI) editUserPage(c echo.Context) error {
	id, p, err := ui.recordPage(c)
	if err != nil {
		return err
	}
	u, err := ui.Directory.User(request.Context(c), id)
	if err != nil {
		return err
	}
	if err := ui.userForm(c, p, u); err != nil {
		return err
	}
	p.Title = p.Tf("admin.edit_user", u.Username)
	p.Form = userValues(u)
	p.Data.(*userFormData).Orig = origValues(p.Form, profileFields)
	return ui.render(c, http.StatusOK, "admin_user", p)
}

// changeUser applies one of the edit page's forms: the profile (name,
// e-mail, role, school, department), a new password, or disabling and
// enabling. The form carries the version it was made from.
func (ui *UI) changeUser(what string) echo.HandlerFunc {
	return func(c echo.Context) error {
		if err := postForm(c); err != nil {
			return err
		}
		id, err := request.PathID(c, "id")
		if err != nil {
			return err
		}
		version, err := strconv.Atoi(c.FormValue("version"))
		if err != nil || version < 1 {
			return bangfu.Errorf(bangfu.EPRECONDITIONREQ, "Send If-Match with the ETag of the version you are changing.")
		}
		var patch directory.UserPatch
		flashKey := "admin.user_saved"
		switch what {
		case "profile":
			name, email, role := c.FormValue("display_name"), c.FormValue("email"), bangfu.Role(c.FormValue("role"))
			patch.DisplayName, patch.Email, patch.Role = &name, &email, &role
			patch.SchoolID = nullableID(choiceID(c, "school_id"))
			patch.DepartmentID = nullableID(choiceID(c, "department_id"))
		case "password":
			pw := c.FormValue("password")
			patch.Password = &pw
			flashKey = "admin.password_reset"
		case "disabled":
			disabled := c.FormValue("disabled") == "true"
			patch.Disabled = &disabled
			flashKey = "admin.user_disabled"
			if !disabled {
				flashKey = "admin.user_enabled"
			}
		}
		ctx := request.Context(c)
		_, err = ui.Directory.UpdateUser(ctx, request.Actor(c), id, version, patch)
		if FormProblem(err) {
			p, perr := ui.userPage(c)
			if perr != nil {
				return perr
			}
			cur, perr := ui.Directory.User(ctx, id)
			if perr != nil {
				return perr
			}
			if perr := ui.userForm(c, p, cur); perr != nil {
				return perr
			}
			p.Title = p.Tf("admin.edit_user", cur.Username)
			status := ui.formFailed(c, p, err)
			p.Form.Del("password")
			d := p.Data.(*userFormData)
			now := userValues(cur)
			d.Orig = origValues(now, profileFields)
			switch {
			case what != "profile":
				// Only the profile form keeps what was typed; the others
				// show the user as they are now.
				p.Form = now
			case bangfu.ErrorCode(err) == bangfu.EPRECONDITIONFAILED:
				// Based on the current version, with the user's changes.
				d.Yours = p.Form
				p.Form = mergeStale(d.Yours, now, profileFields)
			default:
				d.Orig = sentOrig(p.Form, profileFields)
			}
			if bangfu.ErrorCode(err) == bangfu.EPRECONDITIONFAILED {
				d.Theirs = &cur
			}
			p.Form.Set("form", what)
			return ui.render(c, status, "admin_user", p)
		}
		if err != nil {
			return err
		}
		return done(c, flashKey, "/admin/users/"+strconv.FormatInt(id, 10))
	}
}

// nullableID is a form's optional id as a change: an empty field clears it.
func nullableID(id *int64) bangfu.Nullable[int64] {
	if id == nil {
		return bangfu.Nullable[int64]{Set: true, Null: true}
	}
	return bangfu.Nullable[int64]{Set: true, Value: *id}
}
