package webui

import (
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/bangfu/bangfu"
	"github.com/bangfu/bangfu/internal/http/request"
	"github.com/bangfu/bangfu/internal/roster"
)

// The admin's roster pages: training bases (their webhook's URL and
// signing secret are written, never shown), cohorts (created in draft,
// edited, moved draft → open → closed → finished), and the deliveries of a
// cohort's changes to its base. Every change goes through roster.Service,
// which audits it; a change to a record someone else changed meanwhile
// saves nothing and shows both versions, the form keeping the admin's
// changes on top of the current version.

// baseFields are the base form's descriptive fields (the domain's names).
var baseFields = []string{"name", "host_school", "contact.name", "contact.phone", "contact.email"}

func baseValues(b roster.Base) url.Values {
	return url.Values{"name": {b.Name}, "host_school": {b.HostSchool}, "contact.name": {b.Contact.Name},
		"contact.phone": {b.Contact.Phone}, "contact.email": {b.Contact.Email}}
}

func baseContact(c echo.Context) roster.Contact {
	return roster.Contact{Name: c.FormValue("contact.name"), Phone: c.FormValue("contact.phone"), Email: c.FormValue("contact.email")}
}

type basesData struct {
	Bases       []roster.Base
	Next, First string
}

func (ui *UI) bases(c echo.Context) error {
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
	if err := ui.fillBases(c, p, pg); err != nil {
		return err
	}
	return ui.render(c, http.StatusOK, "admin_bases", p)
}

func (ui *UI) fillBases(c echo.Context, p *Page, pg bangfu.Page) error {
	if pg.Limit == 0 {
		pg.Limit = bangfu.DefaultPageLimit
	}
	l, err := ui.Roster.ListBases(request.Context(c), p.Actor, pg)
	if err != nil {
		return err
	}
	d := basesData{Bases: l.Items}
	d.Next, d.First = pageLinks("/admin/bases", nil, l.NextCursor, pg.After != 0)
	p.Title = p.T("roster.bases")
	p.Data = d
	return nil
}

// createBase adds a training base (roster.Service.CreateBase); the secret
// typed is never shown again, not even when the form comes back.
func (ui *UI) createBase(c echo.Context) error {
	if err := postForm(c); err != nil {
		return err
	}
	b, err := ui.Roster.CreateBase(request.Context(c), request.Actor(c), roster.BaseInput{
		Name: c.FormValue("name"), HostSchool: c.FormValue("host_school"), Contact: baseContact(c),
		WebhookURL: c.FormValue("webhook_url"), WebhookSecret: c.FormValue("webhook_secret"),
	})
	if FormProblem(err) {
		p, perr := ui.userPage(c)
		if perr != nil {
			return perr
		}
		if perr := ui.fillBases(c, p, bangfu.Page{}); perr != nil {
			return perr
		}
		status := ui.formFailed(c, p, err)
		p.Form.Del("webhook_secret")
		return ui.render(c, status, "admin_bases", p)
	}
	if err != nil {
		return err
	}
	return done(c, "roster.base_created", fmt.Sprintf("/admin/bases/%d", b.ID))
}

type baseData struct {
	Base    roster.Base
	Cohorts []cohortView
	// Orig is the values the form was made with; Theirs and Yours the two
	// versions after a save that came too late.
	Orig   url.Values
	Theirs *roster.Base
	Yours  url.Values
}

func (ui *UI) basePage(c echo.Context) error {
	id, p, err := ui.recordPage(c)
	if err != nil {
		return err
	}
	d, err := ui.loadBase(c, p, id)
	if err != nil {
		return err
	}
	p.Form = baseValues(d.Base)
	d.Orig = origValues(p.Form, baseFields)
	return ui.render(c, http.StatusOK, "admin_base", p)
}

func (ui *UI) loadBase(c echo.Context, p *Page, id int64) (*baseData, error) {
	ctx := request.Context(c)
	b, err := ui.Roster.Base(ctx, p.Actor, id)
	if err != nil {
		return nil, err
	}
	l, err := ui.Roster.ListCohorts(ctx, p.Actor, roster.CohortFilter{BaseID: &id}, bangfu.Page{Limit: bangfu.MaxPageLimit})
	if err != nil {
		return nil, err
	}
	d := &baseData{Base: b, Cohorts: cohortViews(l.Items)}
	p.Title = b.Name
	p.Data = d
	return d, nil
}

// updateBase saves the base form on the version it was made from
// (roster.Service.UpdateBase). An empty webhook URL or secret leaves it as
// it is; "remove_webhook" removes both.
func (ui *UI) updateBase(c echo.Context) error {
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
	name, host, contact := c.FormValue("name"), c.FormValue("host_school"), baseContact(c)
	patch := roster.BasePatch{Name: &name, HostSchool: &host, Contact: &contact}
	switch {
	case c.FormValue("remove_webhook") == "true":
		patch.WebhookURL = bangfu.Nullable[string]{Set: true, Null: true}
	case strings.TrimSpace(c.FormValue("webhook_url")) != "":
		patch.WebhookURL = bangfu.Nullable[string]{Set: true, Value: c.FormValue("webhook_url")}
	}
	if secret := c.FormValue("webhook_secret"); secret != "" {
		patch.WebhookSecret = &secret
	}
	ctx, a := request.Context(c), request.Actor(c)
	_, err = ui.Roster.UpdateBase(ctx, a, id, version, patch)
	if FormProblem(err) {
		p, perr := ui.userPage(c)
		if perr != nil {
			return perr
		}
		d, perr := ui.loadBase(c, p, id)
		if perr != nil {
			return perr
		}
		status := ui.formFailed(c, p, err)
		p.Form.Del("webhook_secret")
		now := baseValues(d.Base)
		if bangfu.ErrorCode(err) == bangfu.EPRECONDITIONFAILED {
			d.Theirs, d.Yours = &d.Base, p.Form
			merged := mergeStale(p.Form, now, baseFields)
			merged.Set("webhook_url", p.Form.Get("webhook_url"))
			merged.Set("remove_webhook", p.Form.Get("remove_webhook"))
			p.Form = merged
			d.Orig = origValues(now, baseFields)
		} else {
			d.Orig = sentOrig(p.Form, baseFields)
		}
		return ui.render(c, status, "admin_base", p)
	}
	if err != nil {
		return err
	}
	return done(c, "roster.base_saved", fmt.Sprintf("/admin/bases/%d", id))
}

// cohortFields are the cohort form's fields (the domain's names), in the
// order the form shows them.
var cohortFields = []string{"base_id", "name", "mode", "starts_on", "ends_on", "nomination_deadline", "capacity", "target_year"}

func cohortValues(co roster.Cohort) url.Values {
	return url.Values{"base_id": {strconv.FormatInt(co.BaseID, 10)}, "name": {co.Name}, "mode": {co.Mode},
		"starts_on": {co.StartsOn.String()}, "ends_on": {co.EndsOn.String()}, "nomination_deadline": {co.NominationDeadline.String()},
		"capacity": {strconv.Itoa(co.Capacity)}, "target_year": {strconv.Itoa(co.TargetYear)}}
}

// editable says which of a cohort's fields may change in its state
// (roster.CohortPatch): a draft every one; an open cohort all but its base
// and target year; a closed or finished one only its name.
func editable(state string) map[string]bool {
	out := map[string]bool{"name": true}
	switch state {
	case roster.Draft:
		for _, f := range cohortFields {
			out[f] = true
		}
	case roster.Open:
		for _, f := range []string{"mode", "starts_on", "ends_on", "nomination_deadline", "capacity"} {
			out[f] = true
		}
	}
	return out
}

// formNumber reads a whole number typed in a form; anything else is -1,
// outside every range the services accept, so that they name the field.
func formNumber(v string) int {
	n, err := strconv.Atoi(strings.TrimSpace(v))
	if err != nil {
		return -1
	}
	return n
}

type cohortFormData struct {
	Bases  []roster.Base
	Modes  []string
	Cohort *cohortView
	// Editable says which fields the form offers; Orig is the values it
	// was made with; Theirs and Yours the two versions after a save that
	// came too late.
	Editable map[string]bool
	Orig     url.Values
	Theirs   *roster.Cohort
	Yours    url.Values
}

// BaseName names base id among the bases.
func (d *cohortFormData) BaseName(v string) string {
	for _, b := range d.Bases {
		if strconv.FormatInt(b.ID, 10) == v {
			return b.Name
		}
	}
	return v
}

func (ui *UI) newCohortPage(c echo.Context) error {
	q, err := request.Params(c, "base_id")
	if err != nil {
		return err
	}
	baseID := q.ID("base_id")
	if err := q.Err(); err != nil {
		return err
	}
	p, err := ui.userPage(c)
	if err != nil {
		return err
	}
	bases, err := ui.allBases(c, p.Actor)
	if err != nil {
		return err
	}
	p.Title = p.T("roster.new_cohort")
	p.Form = url.Values{"mode": {"online"}, "target_year": {strconv.Itoa(bangfu.Today(ui.Clock).Time().Year())}}
	if baseID != nil {
		p.Form.Set("base_id", strconv.FormatInt(*baseID, 10))
	}
	p.Data = &cohortFormData{Bases: bases, Modes: roster.Modes, Editable: editable(roster.Draft)}
	return ui.render(c, http.StatusOK, "cohort_form", p)
}

// createCohort adds a cohort in draft (roster.Service.CreateCohort).
func (ui *UI) createCohort(c echo.Context) error {
	if err := postForm(c); err != nil {
		return err
	}
	baseID, _ := strconv.ParseInt(c.FormValue("base_id"), 10, 64)
	co, err := ui.Roster.CreateCohort(request.Context(c), request.Actor(c), roster.CohortInput{
		BaseID: baseID, Name: c.FormValue("name"), Mode: c.FormValue("mode"), StartsOn: c.FormValue("starts_on"),
		EndsOn: c.FormValue("ends_on"), NominationDeadline: c.FormValue("nomination_deadline"),
		Capacity: formNumber(c.FormValue("capacity")), TargetYear: formNumber(c.FormValue("target_year")),
	})
	if FormProblem(err) {
		p, perr := ui.userPage(c)
		if perr != nil {
			return perr
		}
		bases, perr := ui.allBases(c, p.Actor)
		if perr != nil {
			return perr
		}
		p.Title = p.T("roster.new_cohort")
		p.Data = &cohortFormData{Bases: bases, Modes: roster.Modes, Editable: editable(roster.Draft)}
		return ui.render(c, ui.formFailed(c, p, err), "cohort_form", p)
	}
	if err != nil {
		return err
	}
	return done(c, "roster.cohort_created", fmt.Sprintf("/cohorts/%d", co.ID))
}

// cohortForm fills p with the edit form of cohort co.
func (ui *UI) cohortForm(c echo.Context, p *Page, co roster.Cohort) (*cohortFormData, error) {
	bases, err := ui.allBases(c, p.Actor)
	if err != nil {
		return nil, err
	}
	v := cohortView{co}
	d := &cohortFormData{Bases: bases, Modes: roster.Modes, Cohort: &v, Editable: editable(co.State)}
	p.Title = p.Tf("roster.edit_cohort", co.Name)
	p.Data = d
	return d, nil
}

func (ui *UI) editCohortPage(c echo.Context) error {
	id, p, err := ui.recordPage(c)
	if err != nil {
		return err
	}
	co, err := ui.Roster.Cohort(request.Context(c), p.Actor, id)
	if err != nil {
		return err
	}
	d, err := ui.cohortForm(c, p, co)
	if err != nil {
		return err
	}
	p.Form = cohortValues(co)
	d.Orig = origValues(p.Form, cohortFields)
	return ui.render(c, http.StatusOK, "cohort_form", p)
}

// cohortPatch is the change the edit form asks for: the fields the admin
// changed from the values the form was made with, and only those — a
// field left as it was is not sent, so that it never counts as a change
// the cohort's state forbids.
func cohortPatch(sent url.Values) roster.CohortPatch {
	var patch roster.CohortPatch
	changed := func(f string) (string, bool) { return changedField(sent, f) }
	str := func(f string, dst **string) {
		if v, ok := changed(f); ok {
			*dst = &v
		}
	}
	num := func(f string, dst **int) {
		if v, ok := changed(f); ok {
			n := formNumber(v)
			*dst = &n
		}
	}
	str("name", &patch.Name)
	str("mode", &patch.Mode)
	str("starts_on", &patch.StartsOn)
	str("ends_on", &patch.EndsOn)
	str("nomination_deadline", &patch.NominationDeadline)
	num("capacity", &patch.Capacity)
	num("target_year", &patch.TargetYear)
	if v, ok := changed("base_id"); ok {
		id, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			id = -1
		}
		patch.BaseID = &id
	}
	return patch
}

// changedField returns the value of field f of a sent form when the form
// offered it and the user changed it from the value it was made with.
func changedField(sent url.Values, f string) (string, bool) {
	if !sent.Has(f) || sent.Get(f) == sent.Get("orig."+f) {
		return "", false
	}
	return sent.Get(f), true
}

// updateCohort saves the edit form on the version it was made from
// (roster.Service.UpdateCohort).
func (ui *UI) updateCohort(c echo.Context) error {
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
	sent, _ := c.FormParams()
	ctx, a := request.Context(c), request.Actor(c)
	_, err = ui.Roster.UpdateCohort(ctx, a, id, version, cohortPatch(sent))
	if FormProblem(err) {
		p, perr := ui.userPage(c)
		if perr != nil {
			return perr
		}
		cur, perr := ui.Roster.Cohort(ctx, a, id)
		if perr != nil {
			return perr
		}
		d, perr := ui.cohortForm(c, p, cur)
		if perr != nil {
			return perr
		}
		status := ui.formFailed(c, p, err)
		now := cohortValues(cur)
		if bangfu.ErrorCode(err) == bangfu.EPRECONDITIONFAILED {
			// Based on the current version, with the admin's changes.
			d.Theirs, d.Yours = &cur, url.Values{}
			merged := url.Values{}
			for _, f := range cohortFields {
				if v, ok := changedField(sent, f); ok {
					d.Yours.Set(f, v)
					merged.Set(f, v)
				} else {
					merged.Set(f, now.Get(f))
				}
			}
			p.Form = merged
			d.Orig = origValues(now, cohortFields)
		} else {
			d.Orig = sentOrig(p.Form, cohortFields)
		}
		return ui.render(c, status, "cohort_form", p)
	}
	if err != nil {
		return err
	}
	return done(c, "roster.cohort_saved", fmt.Sprintf("/cohorts/%d", id))
}

// moveCohort moves a cohort to the next state the form names, on the
// version the admin saw (roster.Service.UpdateCohort): opening enqueues
// its first build, closing withdraws the nominations nobody confirmed and
// the waitlist. A move that does not go through comes back on the cohort
// page with its problem, and, when someone changed the cohort meanwhile,
// both versions.
func (ui *UI) moveCohort(c echo.Context) error {
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
	state := c.FormValue("state")
	ctx, a := request.Context(c), request.Actor(c)
	_, err = ui.Roster.UpdateCohort(ctx, a, id, version, roster.CohortPatch{State: &state})
	if FormProblem(err) {
		p, perr := ui.userPage(c)
		if perr != nil {
			return perr
		}
		if perr := ui.fillCohort(c, p, id, rosterFilter{}, bangfu.Page{}); perr != nil {
			return perr
		}
		status := ui.formFailed(c, p, err)
		if bangfu.ErrorCode(err) == bangfu.EPRECONDITIONFAILED {
			d := p.Data.(*cohortData)
			cur := d.Cohort.Cohort
			d.Theirs, d.YoursState = &cur, state
		}
		return ui.render(c, status, "cohort", p)
	}
	if err != nil {
		return err
	}
	return done(c, "roster.moved."+state, fmt.Sprintf("/cohorts/%d", id))
}

type cohortDeliveriesData struct {
	Cohort      cohortView
	Items       []roster.Delivery
	States      []string
	State       string
	Next, First string
}

// deliveries lists the changes of a cohort sent, or to be sent, to its
// base, newest first, each with its attempts (roster.Service.Deliveries).
func (ui *UI) cohortDeliveries(c echo.Context) error {
	id, err := request.PathID(c, "id")
	if err != nil {
		return err
	}
	q, err := request.Params(c, "state", "cursor")
	if err != nil {
		return err
	}
	f := roster.DeliveryFilter{State: q.String("state")}
	pg := q.Page()
	if err := q.Err(); err != nil {
		return err
	}
	p, err := ui.userPage(c)
	if err != nil {
		return err
	}
	ctx := request.Context(c)
	co, err := ui.Roster.Cohort(ctx, p.Actor, id)
	if err != nil {
		return err
	}
	l, err := ui.Roster.Deliveries(ctx, p.Actor, id, f, pg)
	if err != nil {
		return err
	}
	d := cohortDeliveriesData{Cohort: cohortView{co}, Items: l.Items, States: []string{"pending", "delivered", "skipped"}, State: f.State}
	keep := url.Values{}
	if f.State != "" {
		keep.Set("state", f.State)
	}
	d.Next, d.First = pageLinks(fmt.Sprintf("/cohorts/%d/deliveries", id), keep, l.NextCursor, pg.After != 0)
	p.Title = p.Tf("roster.deliveries_of", co.Name)
	p.Data = d
	return ui.render(c, http.StatusOK, "cohort_deliveries", p)
}
