package webui

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/bangfu/bangfu"
	"github.com/bangfu/bangfu/internal/http/request"
	"github.com/bangfu/bangfu/internal/plan"
	"github.com/bangfu/bangfu/internal/settings"
)

// The plan's pages: a revision, a diff of two, and the editor. The editor
// is one form that works without script: goals one per line, a row per
// measure and a few empty rows ("more rows" sends the form back with more,
// saving nothing). It carries the revision it was based on; when someone
// revised the plan in between, the save is refused by the service (412)
// and the page shows both versions and keeps the user's input.

// measureRow is one row of the editor.
type measureRow struct {
	Index                                   int
	Kind, Description, Owner, DueOn, Status string
}

func (r measureRow) empty() bool {
	return r.Kind == "" && strings.TrimSpace(r.Description) == "" && strings.TrimSpace(r.Owner) == "" && r.DueOn == ""
}

// emptyRows is how many blank measure rows the editor offers, and "more
// rows" adds.
const emptyRows = 2

// maxRows bounds the rows one form may carry (the service allows 50 measures).
const maxRows = 60

type planEditData struct {
	formBase
	// Base is the revision the form is based on (0: the graduate has no plan).
	Base     int
	Goals    string
	Rows     []measureRow
	Cadence  string
	Note     string
	Kinds    []string
	Statuses []string
	// Conflict: someone revised the plan while the user edited it.
	Theirs *plan.Revision
	Yours  *plan.Revision
}

// planEdit shows the editor with the current revision (or an empty plan).
func (ui *UI) planEdit(c echo.Context) error {
	id, p, err := ui.recordPage(c)
	if err != nil {
		return err
	}
	base, err := ui.newFormBase(c, p, id)
	if err != nil {
		return err
	}
	d := planEditData{formBase: base, Kinds: plan.MeasureKinds, Statuses: plan.MeasureStatuses,
		Cadence: strconv.Itoa(settings.Defaults.DefaultCadenceDays)}
	pl, err := ui.Plans.Get(request.Context(c), p.Actor, id)
	switch {
	case err == nil:
		cur := pl.Current
		d.Base, d.Goals, d.Cadence, d.Note = cur.Revision, strings.Join(cur.Goals, "\n"), strconv.Itoa(cur.CadenceDays), ""
		for i, m := range cur.Measures {
			d.Rows = append(d.Rows, measureRow{Index: i, Kind: m.Kind, Description: m.Description, Owner: m.Owner,
				DueOn: p.ISODate(m.DueOn), Status: m.Status})
		}
	case bangfu.ErrorCode(err) != bangfu.ENOTFOUND:
		return err
	}
	d.Rows = addEmptyRows(d.Rows, emptyRows)
	p.Title = p.Tf("file.plan.edit_for", base.Student.Name)
	p.Data = d
	return ui.render(c, http.StatusOK, "plan_edit", p)
}

func addEmptyRows(rows []measureRow, n int) []measureRow {
	for range n {
		if len(rows) >= maxRows {
			break
		}
		rows = append(rows, measureRow{Index: len(rows), Status: "planned"})
	}
	return rows
}

// planForm reads the editor: its rows as sent, and the plan input made of
// the goals and the non-empty rows, with index mapping each input measure
// to its row.
func planForm(c echo.Context) (rows []measureRow, in plan.Input, index []int, fp bangfu.Problems) {
	n, _ := strconv.Atoi(c.FormValue("rows"))
	n = min(max(n, 0), maxRows)
	for i := range n {
		f := func(name string) string { return c.FormValue(fmt.Sprintf("measures.%d.%s", i, name)) }
		rows = append(rows, measureRow{Index: i, Kind: f("kind"), Description: f("description"), Owner: f("owner"), DueOn: f("due_on"), Status: f("status")})
	}
	for _, g := range strings.Split(strings.ReplaceAll(c.FormValue("goals"), "\r\n", "\n"), "\n") {
		if g = strings.TrimSpace(g); g != "" {
			in.Goals = append(in.Goals, g)
		}
	}
	for _, r := range rows {
		if r.empty() {
			continue
		}
		index = append(index, r.Index)
		in.Measures = append(in.Measures, plan.MeasureInput{Kind: r.Kind, Description: r.Description, Owner: r.Owner, DueOn: r.DueOn, Status: r.Status})
	}
	in.Note = c.FormValue("note")
	cadence := strings.TrimSpace(c.FormValue("cadence_days"))
	if v, err := strconv.Atoi(cadence); err == nil {
		in.CadenceDays = v
	} else {
		fp.Add("cadence_days", "must be a number of days from 1 to 90")
	}
	return rows, in, index, fp
}

// savePlan makes a new revision (plan.Service.Put) from the editor, or
// with action "more" shows the editor again with more empty rows.
func (ui *UI) savePlan(c echo.Context) error {
	if err := postForm(c); err != nil {
		return err
	}
	id, err := request.PathID(c, "id")
	if err != nil {
		return err
	}
	rows, in, index, fp := planForm(c)
	var base *int
	if b, err := strconv.Atoi(c.FormValue("base")); err == nil && b > 0 {
		base = &b
	}
	p, err := ui.userPage(c)
	if err != nil {
		return err
	}
	show := func(status int, d planEditData) error {
		fb, err := ui.newFormBase(c, p, id)
		if err != nil {
			return err
		}
		d.formBase, d.Kinds, d.Statuses = fb, plan.MeasureKinds, plan.MeasureStatuses
		d.Goals, d.Cadence, d.Note = c.FormValue("goals"), c.FormValue("cadence_days"), c.FormValue("note")
		if d.Theirs != nil {
			if err := ui.names(c, &d.formBase, []int64{d.Theirs.AuthorID}); err != nil {
				return err
			}
		}
		p.Title = p.Tf("file.plan.edit_for", fb.Student.Name)
		p.Data = d
		return ui.render(c, status, "plan_edit", p)
	}
	d := planEditData{Rows: rows}
	if base != nil {
		d.Base = *base
	}
	if c.FormValue("action") == "more" {
		d.Rows = addEmptyRows(rows, emptyRows+1)
		p.Form, _ = c.FormParams()
		return show(http.StatusOK, d)
	}
	_, err = ui.Plans.Put(request.Context(c), p.Actor, id, base, in)
	if len(fp) > 0 && (err == nil || bangfu.ErrorCode(err) == bangfu.EINVALID) {
		err = mergeProblems(err, fp)
	}
	if !FormProblem(err) {
		if err != nil {
			return err
		}
		return done(c, "file.plan.saved", fmt.Sprintf("/students/%d#plan", id))
	}
	status := ui.formFailed(c, p, err)
	// The service names measures by their place among the rows it got;
	// the form names them by row.
	fields := map[string]string{}
	for k, v := range p.Fields {
		var i int
		var rest string
		if n, _ := fmt.Sscanf(k, "measures.%d.%s", &i, &rest); n == 2 && i >= 0 && i < len(index) {
			k = fmt.Sprintf("measures.%d.%s", index[i], rest)
		}
		if strings.HasPrefix(k, "goals.") {
			k = "goals"
		}
		fields[k] = v
	}
	p.Fields = fields
	switch bangfu.ErrorCode(err) {
	case bangfu.EPRECONDITIONFAILED, bangfu.EPRECONDITIONREQ:
		// Someone revised the plan: show theirs and yours; the form is now
		// based on theirs and keeps the user's input.
		pl, gerr := ui.Plans.Get(request.Context(c), p.Actor, id)
		if gerr != nil {
			return gerr
		}
		p.Error = p.T("form.stale")
		theirs := pl.Current
		yours := plan.Revision{Goals: in.Goals, CadenceDays: in.CadenceDays, Note: strings.TrimSpace(in.Note)}
		for _, m := range in.Measures {
			var ignore bangfu.Problems
			due := bangfu.ParseDate(&ignore, "", m.DueOn)
			yours.Measures = append(yours.Measures, plan.Measure{Kind: m.Kind, Description: strings.TrimSpace(m.Description),
				Owner: strings.TrimSpace(m.Owner), DueOn: due, Status: m.Status})
		}
		d.Base, d.Theirs, d.Yours = theirs.Revision, &theirs, &yours
	}
	return show(status, d)
}

type revisionData struct {
	formBase
	Plan     plan.Plan
	Revision plan.Revision
}

// planRevision shows one revision of the plan.
func (ui *UI) planRevision(c echo.Context) error {
	id, err := request.PathID(c, "id")
	if err != nil {
		return err
	}
	n, err := request.PathInt(c, "n", "plan revision")
	if err != nil {
		return err
	}
	if _, err := request.Params(c); err != nil {
		return err
	}
	p, err := ui.userPage(c)
	if err != nil {
		return err
	}
	base, err := ui.newFormBase(c, p, id)
	if err != nil {
		return err
	}
	ctx := request.Context(c)
	r, err := ui.Plans.Revision(ctx, p.Actor, id, n)
	if err != nil {
		return err
	}
	pl, err := ui.Plans.Get(ctx, p.Actor, id)
	if err != nil {
		return err
	}
	d := revisionData{formBase: base, Plan: pl, Revision: r}
	if err := ui.names(c, &d.formBase, []int64{r.AuthorID}); err != nil {
		return err
	}
	p.Title = p.Tf("file.plan.revision_of", n, base.Student.Name)
	p.Data = d
	return ui.render(c, http.StatusOK, "plan_revision", p)
}

type diffData struct {
	formBase
	Plan     plan.Plan
	From, To plan.Revision
	Diff     plan.Diff
}

// planDiff shows what changed from one revision to another (?from=&to=;
// by default the previous revision to the current one).
func (ui *UI) planDiff(c echo.Context) error {
	id, err := request.PathID(c, "id")
	if err != nil {
		return err
	}
	q, err := request.Params(c, "from", "to")
	if err != nil {
		return err
	}
	from, to := q.Int("from", 0), q.Int("to", 0)
	if err := q.Err(); err != nil {
		return err
	}
	p, err := ui.userPage(c)
	if err != nil {
		return err
	}
	base, err := ui.newFormBase(c, p, id)
	if err != nil {
		return err
	}
	ctx := request.Context(c)
	pl, err := ui.Plans.Get(ctx, p.Actor, id)
	if err != nil {
		return err
	}
	if to == 0 {
		to = pl.Current.Revision
	}
	if from == 0 {
		from = max(to-1, 1)
	}
	var probs bangfu.Problems
	probs.Check(from >= 1 && from <= pl.Current.Revision, "from", "is not a revision of this plan")
	probs.Check(to >= 1 && to <= pl.Current.Revision, "to", "is not a revision of this plan")
	if err := probs.Err(); err != nil {
		return err
	}
	d := diffData{formBase: base, Plan: pl}
	if d.From, err = ui.Plans.Revision(ctx, p.Actor, id, from); err != nil {
		return err
	}
	if d.To, err = ui.Plans.Revision(ctx, p.Actor, id, to); err != nil {
		return err
	}
	d.Diff = plan.Compare(d.From, d.To)
	if err := ui.names(c, &d.formBase, []int64{d.From.AuthorID, d.To.AuthorID}); err != nil {
		return err
	}
	p.Title = p.Tf("file.plan.diff_title", from, to)
	p.Data = d
	return ui.render(c, http.StatusOK, "plan_diff", p)
}
