package webui

import (
	"net/http"
	"net/url"
	"strconv"

	"github.com/labstack/echo/v4"

	"github.com/bangfu/bangfu"
	"github.com/bangfu/bangfu/internal/escalation"
	"github.com/bangfu/bangfu/internal/http/request"
)

// The escalation queue of counselors, supervisors and province: open,
// acknowledged and resolved tabs, filters by kind and level, and forms to
// acknowledge and resolve with a note.

type escalationsData struct {
	Status, Kind string
	Level        int
	Tabs         []tabLink
	Kinds        []string
	Items        []escalationRow
	Next, First  string
	// Query is the list's filters, carried by the action forms so that the
	// list comes back as it was.
	Query escalationQuery
	// Failed names the escalation and action whose form came back with a
	// problem.
	FailedID     int64
	FailedAction string
}

type escalationRow struct {
	escalation.Escalation
	// MayAct: the actor handles this level (escalation.MayAct).
	MayAct bool
}

type tabLink struct {
	Label, Href string
	Current     bool
}

// escalationQuery is the list's filters as the page carries them.
type escalationQuery struct {
	Status, Kind string
	Level        int
}

func (q escalationQuery) values() url.Values {
	v := url.Values{}
	if q.Status != "" {
		v.Set("status", q.Status)
	}
	if q.Kind != "" {
		v.Set("kind", q.Kind)
	}
	if q.Level != 0 {
		v.Set("level", strconv.Itoa(q.Level))
	}
	return v
}

// href is the list with q's filters and, when set, the page after cursor.
func (q escalationQuery) href(cursor string) string {
	v := q.values()
	if cursor != "" {
		v.Set("cursor", cursor)
	}
	if len(v) == 0 {
		return "/escalations"
	}
	return "/escalations?" + v.Encode()
}

func (ui *UI) escalations(c echo.Context) error {
	q, err := request.Params(c, "status", "kind", "level", "cursor")
	if err != nil {
		return err
	}
	eq := escalationQuery{Status: q.String("status"), Kind: q.String("kind"), Level: q.Int("level", 0)}
	pg := q.Page()
	if err := q.Err(); err != nil {
		return err
	}
	p, err := ui.userPage(c)
	if err != nil {
		return err
	}
	if err := ui.fillEscalations(c, p, eq, pg); err != nil {
		return err
	}
	return ui.render(c, http.StatusOK, "escalations", p)
}

// fillEscalations reads one page of the queue with eq's filters into p.
func (ui *UI) fillEscalations(c echo.Context, p *Page, eq escalationQuery, pg bangfu.Page) error {
	if eq.Status == "" {
		eq.Status = "open"
	}
	l, err := ui.Escalations.List(request.Context(c), p.Actor, escalation.Filter{Status: eq.Status, Kind: eq.Kind, Level: eq.Level}, pg)
	if err != nil {
		return err
	}
	d := &escalationsData{Status: eq.Status, Kind: eq.Kind, Level: eq.Level, Kinds: escalation.Kinds, Query: eq}
	for _, s := range escalation.Statuses {
		tq := eq
		tq.Status = s
		d.Tabs = append(d.Tabs, tabLink{Label: p.Name("escalation.status", s), Href: tq.href(""), Current: s == eq.Status})
	}
	for _, e := range l.Items {
		d.Items = append(d.Items, escalationRow{Escalation: e, MayAct: e.Status != "resolved" && escalation.MayAct(p.Actor, e.Level)})
	}
	if l.NextCursor != "" {
		d.Next = eq.href(l.NextCursor)
	}
	if pg.After != 0 {
		d.First = eq.href("")
	}
	p.Title = p.T("esc.title")
	p.Data = d
	return nil
}

// actOnEscalation acknowledges or resolves the escalation of the path with
// the form's note, and returns to the list as it was.
func (ui *UI) actOnEscalation(action string) echo.HandlerFunc {
	return func(c echo.Context) error {
		if err := postForm(c); err != nil {
			return err
		}
		id, err := request.PathID(c, "id")
		if err != nil {
			return err
		}
		level, _ := strconv.Atoi(c.FormValue("level"))
		eq := escalationQuery{Status: c.FormValue("status"), Kind: c.FormValue("kind"), Level: level}
		ctx, a, note := request.Context(c), request.Actor(c), c.FormValue("note")
		if action == "acknowledge" {
			_, err = ui.Escalations.Acknowledge(ctx, a, id, note)
		} else {
			_, err = ui.Escalations.Resolve(ctx, a, id, note)
		}
		if FormProblem(err) {
			p, perr := ui.userPage(c)
			if perr != nil {
				return perr
			}
			if perr := ui.fillEscalations(c, p, eq, bangfu.Page{Limit: bangfu.DefaultPageLimit}); perr != nil {
				return perr
			}
			d := p.Data.(*escalationsData)
			d.FailedID, d.FailedAction = id, action
			return ui.render(c, ui.formFailed(c, p, err), "escalations", p)
		}
		if err != nil {
			return err
		}
		return done(c, "esc.done_"+action, eq.href(""))
	}
}
