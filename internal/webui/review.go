package webui

import (
	"net/http"
	"net/url"
	"slices"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/bangfu/bangfu"
	"github.com/bangfu/bangfu/internal/directory"
	"github.com/bangfu/bangfu/internal/graduate"
	"github.com/bangfu/bangfu/internal/http/request"
	"github.com/bangfu/bangfu/internal/ledger"
)

// The ledger review: every entry of the graduates the actor sees, newest
// first — a supervisor their school's or department's, province every
// school's with names masked, a counselor their caseload's — with filters
// and paging.

type reviewData struct {
	Items []ledger.ReviewEntry
	// Authors names the authors the page knows (the school's counselors and
	// the reader).
	Authors     map[int64]string
	Next, First string
	// Choices for the filters; empty when the filter does not apply to the
	// reader (departments for a department's supervisor, schools outside
	// province).
	Departments []directory.Department
	Counselors  []directory.User
	Schools     []directory.School
	Categories  []string
	Kinds       []string
}

// reviewParams are the filters the page and its pager links carry.
var reviewParams = []string{"school_id", "department_id", "counselor_id", "category", "kind", "since", "until", "overdue"}

func (ui *UI) review(c echo.Context) error {
	q, err := request.Params(c, append(slices.Clone(reviewParams), "cursor")...)
	if err != nil {
		return err
	}
	f := ledger.ReviewFilter{
		SchoolID: q.ID("school_id"), DepartmentID: q.ID("department_id"), CounselorID: q.ID("counselor_id"),
		Category: q.String("category"), Kind: q.String("kind"), Since: q.Time("since"), Until: q.Time("until"),
	}
	if v := q.Bool("overdue"); v != nil && *v {
		f.Overdue = v
	}
	if err := q.Err(); err != nil {
		return err
	}
	if f.Until != nil {
		// The form's end date is inclusive: entries recorded on it count.
		end := f.Until.Add(24 * time.Hour)
		f.Until = &end
	}
	cursor := c.QueryParam("cursor")
	p, err := ui.userPage(c)
	if err != nil {
		return err
	}
	ctx, a := request.Context(c), p.Actor
	page, err := ui.Ledger.Review(ctx, a, f, cursor, bangfu.DefaultPageLimit)
	if err != nil {
		return err
	}
	d := reviewData{Items: page.Items, Authors: map[int64]string{a.UserID: p.User.DisplayName},
		Categories: graduate.Categories, Kinds: append(slices.Clone(ledger.Kinds), "correction")}
	switch a.Role {
	case bangfu.RoleProvince:
		l, err := ui.Directory.ListSchools(ctx, a, bangfu.Page{Limit: bangfu.MaxPageLimit})
		if err != nil {
			return err
		}
		d.Schools = l.Items
	case bangfu.RoleSupervisor:
		if a.DepartmentID == nil && a.SchoolID != nil {
			l, err := ui.Directory.ListDepartments(ctx, a, *a.SchoolID, bangfu.Page{Limit: bangfu.MaxPageLimit})
			if err != nil {
				return err
			}
			d.Departments = l.Items
		}
		if d.Counselors, err = ui.Directory.Counselors(ctx, a); err != nil {
			return err
		}
		for _, u := range d.Counselors {
			d.Authors[u.ID] = u.DisplayName
		}
	}
	keep := url.Values{}
	for _, name := range reviewParams {
		if v := c.QueryParam(name); v != "" {
			keep.Set(name, v)
		}
	}
	if page.NextCursor != "" {
		next := url.Values{"cursor": {page.NextCursor}}
		for k, v := range keep {
			next[k] = v
		}
		d.Next = "/review?" + next.Encode()
	}
	if cursor != "" {
		d.First = "/review"
		if len(keep) > 0 {
			d.First += "?" + keep.Encode()
		}
	}
	p.Title = p.T("review.title")
	p.Form = c.QueryParams() // the filters as chosen
	p.Data = d
	return ui.render(c, http.StatusOK, "review", p)
}

// Int returns *v, or 0 for nil: a template shows an optional number.
func (p *Page) Int(v *int) int {
	if v == nil {
		return 0
	}
	return *v
}
