package webui

import (
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"

	"github.com/labstack/echo/v4"

	"github.com/bangfu/bangfu"
	"github.com/bangfu/bangfu/internal/http/request"
	"github.com/bangfu/bangfu/internal/http/response"
	"github.com/bangfu/bangfu/internal/roster"
)

// The 宏志助航 training roster's pages: the cohorts each role sees, a
// cohort's roster — the whole of it for admins, a school's part for its
// staff, the confirmed places for base staff — with the actions each may
// take on a place, the exports, and the base staff's home. Every read and
// every change goes through roster.Service, which scopes, shapes and
// audits them as for the API (internal/httpapi/roster.go).

func init() { homes[bangfu.RoleBase] = (*UI).baseHome }

// placeView is a place as a roster row shows it.
type placeView struct{ roster.Place }

// Can reports whether the viewer may take action on the place now
// (roster.Place.Actions, decided by the service).
func (p placeView) Can(action string) bool { return slices.Contains(p.Actions, action) }

// ID returns *v, or 0 for nil: a template passes an optional id on.
func (p *Page) ID(v *int64) int64 {
	if v == nil {
		return 0
	}
	return *v
}

// Str returns *v, or "" for nil: a template compares an optional text.
func (p *Page) Str(v *string) string {
	if v == nil {
		return ""
	}
	return *v
}

func placeViews(items []roster.Place) []placeView {
	out := make([]placeView, len(items))
	for i, p := range items {
		out[i] = placeView{p}
	}
	return out
}

// cohortView is a cohort as the lists show it.
type cohortView struct{ roster.Cohort }

// Held is how many of the cohort's places are taken.
func (c cohortView) Held() int {
	return c.Counts[roster.Nominated] + c.Counts[roster.Confirmed] + c.Counts[roster.Attending] + c.Counts[roster.Completed]
}

// Live reports whether the cohort's roster still changes (open or closed).
func (c cohortView) Live() bool { return c.State == roster.Open || c.State == roster.Closed }

// NextState is the state an admin may move the cohort to ("" when finished).
func (c cohortView) NextState() string {
	switch c.State {
	case roster.Draft:
		return roster.Open
	case roster.Open:
		return roster.Closed
	case roster.Closed:
		return roster.Finished
	}
	return ""
}

func cohortViews(items []roster.Cohort) []cohortView {
	out := make([]cohortView, len(items))
	for i, c := range items {
		out[i] = cohortView{c}
	}
	return out
}

type cohortsData struct {
	Cohorts     []cohortView
	States      []string
	Bases       []roster.Base
	State       string
	BaseID      int64
	Next, First string
}

// cohorts lists the cohorts the actor sees (roster.Service.ListCohorts):
// every one for admins, who filter by base and create them here; those
// past draft for school staff; their base's for base staff.
func (ui *UI) cohorts(c echo.Context) error {
	q, err := request.Params(c, "state", "base_id", "cursor")
	if err != nil {
		return err
	}
	f := roster.CohortFilter{State: q.String("state"), BaseID: q.ID("base_id")}
	pg := q.Page()
	if err := q.Err(); err != nil {
		return err
	}
	p, err := ui.userPage(c)
	if err != nil {
		return err
	}
	ctx := request.Context(c)
	l, err := ui.Roster.ListCohorts(ctx, p.Actor, f, pg)
	if err != nil {
		return err
	}
	d := cohortsData{Cohorts: cohortViews(l.Items), States: roster.CohortStates, State: f.State}
	if f.BaseID != nil {
		d.BaseID = *f.BaseID
	}
	if p.Is(string(bangfu.RoleAdmin)) {
		if d.Bases, err = ui.allBases(c, p.Actor); err != nil {
			return err
		}
	}
	keep := url.Values{}
	if f.State != "" {
		keep.Set("state", f.State)
	}
	if f.BaseID != nil {
		keep.Set("base_id", strconv.FormatInt(*f.BaseID, 10))
	}
	d.Next, d.First = pageLinks("/cohorts", keep, l.NextCursor, pg.After != 0)
	p.Title = p.T("roster.cohorts")
	p.Data = d
	return ui.render(c, http.StatusOK, "cohorts", p)
}

// pageLinks returns the links to a list's next page (after cursor) and,
// when this is a later page, to its first, keeping the filters in keep.
func pageLinks(path string, keep url.Values, cursor string, later bool) (next, first string) {
	with := func(v url.Values) string {
		if len(v) == 0 {
			return path
		}
		return path + "?" + v.Encode()
	}
	if cursor != "" {
		v := url.Values{"cursor": {cursor}}
		for k, vs := range keep {
			v[k] = vs
		}
		next = with(v)
	}
	if later {
		first = with(keep)
	}
	return next, first
}

// allBases reads every training base (admins keep a handful).
func (ui *UI) allBases(c echo.Context, a bangfu.Actor) ([]roster.Base, error) {
	var out []roster.Base
	pg := bangfu.Page{Limit: bangfu.MaxPageLimit}
	for {
		l, err := ui.Roster.ListBases(request.Context(c), a, pg)
		if err != nil {
			return nil, err
		}
		out = append(out, l.Items...)
		if l.NextCursor == "" {
			return out, nil
		}
		pg.After = l.Items[len(l.Items)-1].ID
	}
}

// rosterFilter is a roster's filter as the cohort page carries it.
type rosterFilter struct {
	Status   string
	SchoolID int64
	Cursor   string
}

func (f rosterFilter) values() url.Values {
	v := url.Values{}
	if f.Status != "" {
		v.Set("status", f.Status)
	}
	if f.SchoolID != 0 {
		v.Set("school_id", strconv.FormatInt(f.SchoolID, 10))
	}
	if f.Cursor != "" {
		v.Set("cursor", f.Cursor)
	}
	return v
}

// Query is the filter as a query string, carried by the forms of the page
// so that it comes back as it was.
func (f rosterFilter) Query() string { return f.values().Encode() }

// URL is the cohort page of id with the filter.
func (f rosterFilter) URL(id int64) string {
	u := fmt.Sprintf("/cohorts/%d", id)
	if q := f.Query(); q != "" {
		u += "?" + q
	}
	return u
}

// Any reports whether the roster is filtered.
func (f rosterFilter) Any() bool { return f.Status != "" || f.SchoolID != 0 }

func (f rosterFilter) domain() roster.RosterFilter {
	rf := roster.RosterFilter{Status: f.Status}
	if f.SchoolID != 0 {
		id := f.SchoolID
		rf.SchoolID = &id
	}
	return rf
}

// readRosterFilter reads a roster filter from a query (the page's, or the
// one a form carried back).
func readRosterFilter(v url.Values) (rosterFilter, bangfu.Page, error) {
	f := rosterFilter{Status: v.Get("status"), Cursor: v.Get("cursor")}
	var probs bangfu.Problems
	if s := v.Get("school_id"); s != "" {
		id, err := strconv.ParseInt(s, 10, 64)
		if err != nil || id < 1 {
			probs.Add("school_id", "must be a whole number")
		}
		f.SchoolID = id
	}
	pg, err := bangfu.ParsePage("", f.Cursor)
	for k, msg := range bangfu.FieldsOf(err) {
		probs.Add(k, msg)
	}
	return f, pg, probs.Err()
}

type cohortData struct {
	Cohort   cohortView
	Summary  roster.Summary
	Places   []placeView
	Filter   rosterFilter
	Statuses []string
	Next     string
	First    string
	// FailedPlace names the place whose withdraw form came back with a
	// problem.
	FailedPlace int64
	// Theirs is the cohort as it is now and YoursState the state the
	// admin asked for, when the move came after someone else's change.
	Theirs     *roster.Cohort
	YoursState string
}

// CanExport reports whether the viewer may export the roster: admins the
// whole of it, supervisors their school's part (roster.Service.Export).
func (p *Page) CanExport() bool {
	return p.Actor.Role == bangfu.RoleAdmin || p.Actor.Role == bangfu.RoleSupervisor
}

// cohortPage is a cohort's roster as the actor sees it, filtered by status
// (and school, for admins), with its figures and quotas.
func (ui *UI) cohortPage(c echo.Context) error {
	id, err := request.PathID(c, "id")
	if err != nil {
		return err
	}
	if _, err := request.Params(c, "status", "school_id", "cursor"); err != nil {
		return err
	}
	f, pg, err := readRosterFilter(c.QueryParams())
	if err != nil {
		return err
	}
	p, err := ui.userPage(c)
	if err != nil {
		return err
	}
	if err := ui.fillCohort(c, p, id, f, pg); err != nil {
		return err
	}
	return ui.render(c, http.StatusOK, "cohort", p)
}

// fillCohort reads the cohort page of id into p.
func (ui *UI) fillCohort(c echo.Context, p *Page, id int64, f rosterFilter, pg bangfu.Page) error {
	ctx := request.Context(c)
	co, err := ui.Roster.Cohort(ctx, p.Actor, id)
	if err != nil {
		return err
	}
	sum, err := ui.Roster.Summary(ctx, p.Actor, id)
	if err != nil {
		return err
	}
	pg.Limit = bangfu.DefaultPageLimit
	l, err := ui.Roster.Roster(ctx, p.Actor, id, f.domain(), pg)
	if err != nil {
		return err
	}
	d := &cohortData{Cohort: cohortView{co}, Summary: sum, Places: placeViews(l.Items), Filter: f, Statuses: roster.Statuses}
	keep := f.values()
	keep.Del("cursor")
	d.Next, d.First = pageLinks(fmt.Sprintf("/cohorts/%d", id), keep, l.NextCursor, pg.After != 0)
	p.Title = co.Name
	p.Data = d
	return nil
}

// exportRoster sends the actor's part of a cohort's roster as a CSV or
// XLSX file (roster.Service.Export: admins and supervisors, audited).
func (ui *UI) exportRoster(c echo.Context) error {
	id, err := request.PathID(c, "id")
	if err != nil {
		return err
	}
	q, err := request.Params(c, "format")
	if err != nil {
		return err
	}
	format := fileFormat(q)
	if err := q.Err(); err != nil {
		return err
	}
	ctx, done := request.ExportContext(c)
	defer done()
	file, err := ui.Roster.Export(ctx, request.Actor(c), id, format)
	if err != nil {
		return err
	}
	return response.Download(c, file, ui.Logger)
}

// withdrawPlace takes a graduate off a roster with the reason given
// (roster.Service.Withdraw), from the cohort page or, with from=file, the
// graduate's file; a form that does not go through comes back on the page
// it was sent from, with its problem next to the reason.
func (ui *UI) withdrawPlace(c echo.Context) error {
	if err := postForm(c); err != nil {
		return err
	}
	id, err := request.PathID(c, "id")
	if err != nil {
		return err
	}
	ctx, a := request.Context(c), request.Actor(c)
	fromFile := c.FormValue("from") == "file"
	pl, err := ui.Roster.Withdraw(ctx, a, id, roster.Reason{Reason: c.FormValue("reason")})
	if FormProblem(err) {
		cur, perr := ui.Roster.Place(ctx, a, id)
		if perr != nil {
			return perr
		}
		p, perr := ui.userPage(c)
		if perr != nil {
			return perr
		}
		if fromFile && cur.StudentID != nil {
			d, perr := ui.loadFile(c, p, *cur.StudentID)
			if perr != nil {
				return perr
			}
			p.Title, p.Data = d.Student.Name, d
			d.FailedPlace = id
			return ui.render(c, ui.formFailed(c, p, err), "file", p)
		}
		f, pg := backFilter(c)
		if perr := ui.fillCohort(c, p, cur.CohortID, f, pg); perr != nil {
			return perr
		}
		p.Data.(*cohortData).FailedPlace = id
		return ui.render(c, ui.formFailed(c, p, err), "cohort", p)
	}
	if err != nil {
		return err
	}
	if fromFile && pl.StudentID != nil {
		return done(c, "roster.withdrawn", fmt.Sprintf("/students/%d#training", *pl.StudentID))
	}
	f, _ := backFilter(c)
	return done(c, "roster.withdrawn", f.URL(pl.CohortID)+fmt.Sprintf("#place-%d", id))
}

// backFilter is the roster filter a form carried back in its hidden
// "query" (a filter that does not read is dropped: it only says which
// rows to show again).
func backFilter(c echo.Context) (rosterFilter, bangfu.Page) {
	v, err := url.ParseQuery(c.FormValue("query"))
	if err != nil {
		return rosterFilter{}, bangfu.Page{}
	}
	f, pg, err := readRosterFilter(v)
	if err != nil {
		return rosterFilter{}, bangfu.Page{}
	}
	return f, pg
}

// progressPlace records attendance or completion (base staff:
// roster.Service.Attend, Complete) and goes back to the page the form was
// on ("back", on this site), else to the cohort. A refused change — the
// place moved on meanwhile — comes back on the cohort page with the reason.
func (ui *UI) progressPlace(what string) echo.HandlerFunc {
	return func(c echo.Context) error {
		if err := postForm(c); err != nil {
			return err
		}
		id, err := request.PathID(c, "id")
		if err != nil {
			return err
		}
		ctx, a := request.Context(c), request.Actor(c)
		act, flashKey := ui.Roster.Attend, "roster.attended"
		if what == "complete" {
			act, flashKey = ui.Roster.Complete, "roster.completed"
		}
		pl, err := act(ctx, a, id)
		if FormProblem(err) {
			cur, perr := ui.Roster.Place(ctx, a, id)
			if perr != nil {
				return perr
			}
			p, perr := ui.userPage(c)
			if perr != nil {
				return perr
			}
			if perr := ui.fillCohort(c, p, cur.CohortID, rosterFilter{}, bangfu.Page{}); perr != nil {
				return perr
			}
			return ui.render(c, ui.formFailed(c, p, err), "cohort", p)
		}
		if err != nil {
			return err
		}
		back := safeNext(c.FormValue("back"))
		if back == "" {
			back = fmt.Sprintf("/cohorts/%d", pl.CohortID)
		}
		return done(c, flashKey, back+fmt.Sprintf("#place-%d", id))
	}
}

type baseHomeData struct {
	// Live are the base's cohorts whose roster still changes, each with
	// its first page of places; Others the rest (finished).
	Live   []baseCohort
	Others []cohortView
}

type baseCohort struct {
	Cohort cohortView
	Places []placeView
	// More is the cohort page when it has more places than shown here.
	More string
}

// baseHome is the base staff's home: the confirmed places of their base's
// cohorts that still run, with the forms that record attendance and
// completion.
func (ui *UI) baseHome(c echo.Context) error {
	if _, err := request.Params(c); err != nil {
		return err
	}
	p, err := ui.userPage(c)
	if err != nil {
		return err
	}
	ctx := request.Context(c)
	l, err := ui.Roster.ListCohorts(ctx, p.Actor, roster.CohortFilter{}, bangfu.Page{Limit: bangfu.MaxPageLimit})
	if err != nil {
		return err
	}
	d := baseHomeData{}
	for _, co := range cohortViews(l.Items) {
		if !co.Live() {
			d.Others = append(d.Others, co)
			continue
		}
		rl, err := ui.Roster.Roster(ctx, p.Actor, co.ID, roster.RosterFilter{}, bangfu.Page{Limit: bangfu.DefaultPageLimit})
		if err != nil {
			return err
		}
		bc := baseCohort{Cohort: co, Places: placeViews(rl.Items)}
		if rl.NextCursor != "" {
			bc.More = fmt.Sprintf("/cohorts/%d", co.ID)
		}
		d.Live = append(d.Live, bc)
	}
	p.Title = p.T("roster.base_home")
	p.Data = d
	return ui.render(c, http.StatusOK, "base_home", p)
}
