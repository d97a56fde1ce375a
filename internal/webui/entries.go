package webui

import (
	"fmt"
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/bangfu/bangfu"
	"github.com/bangfu/bangfu/internal/http/request"
	"github.com/bangfu/bangfu/internal/ledger"
)

// ledgerForm reads the add-entry form (field names as the API's, under
// prefix: "" for one graduate, "entry." for a group contact).
func ledgerForm(c echo.Context, prefix string) (ledger.Input, bangfu.Problems) {
	var p bangfu.Problems
	v := func(name string) string { return c.FormValue(prefix + name) }
	in := ledger.Input{
		Kind: v("kind"), Channel: v("channel"), Summary: v("summary"), NextStep: v("next_step"),
		NextFollowupOn: strings.TrimSpace(v("next_followup_on")), Visibility: v("visibility"),
		OccurredAt: parseLocalTime(&p, prefix+"occurred_at", v("occurred_at")),
	}
	if in.Kind == "" {
		in.Kind = "contact"
	}
	r := ledger.Referral{Employer: v("referral.employer"), CreditCode: v("referral.credit_code"), Position: v("referral.position"), Outcome: v("referral.outcome")}
	if in.Kind == "referral" || r != (ledger.Referral{}) {
		in.Referral = &r
	}
	return in, p
}

type entryPageData struct {
	formBase
	// Entry is the entry being corrected (correct page only).
	Entry *timelineItem
}

// newEntry is the add-entry form on its own, quick to open on a phone
// from the workbench.
func (ui *UI) newEntry(c echo.Context) error {
	id, p, err := ui.recordPage(c)
	if err != nil {
		return err
	}
	base, err := ui.newFormBase(c, p, id)
	if err != nil {
		return err
	}
	p.Title = p.Tf("file.entry.title_for", base.Student.Name)
	p.Data = entryPageData{formBase: base}
	return ui.render(c, http.StatusOK, "entry_new", p)
}

// appendEntry adds an entry to a graduate's ledger (ledger.Service.Append)
// and returns to the file's timeline.
func (ui *UI) appendEntry(c echo.Context) error {
	if err := postForm(c); err != nil {
		return err
	}
	id, err := request.PathID(c, "id")
	if err != nil {
		return err
	}
	in, fp := ledgerForm(c, "")
	a := request.Actor(c)
	_, err = ui.Ledger.Append(request.Context(c), a, id, in)
	err = mergeProblems(err, fp)
	if FormProblem(err) {
		p, perr := ui.userPage(c)
		if perr != nil {
			return perr
		}
		base, perr := ui.newFormBase(c, p, id)
		if perr != nil {
			return perr
		}
		p.Title = p.Tf("file.entry.title_for", base.Student.Name)
		p.Data = entryPageData{formBase: base}
		status := ui.formFailed(c, p, err)
		return ui.render(c, status, "entry_new", p)
	}
	if err != nil {
		return err
	}
	return done(c, "file.entry.saved", fmt.Sprintf("/students/%d#ledger", id))
}

// correctPage shows one entry and the form that corrects it.
func (ui *UI) correctPage(c echo.Context) error {
	id, err := request.PathID(c, "id")
	if err != nil {
		return err
	}
	seq, err := request.PathInt(c, "seq", "ledger entry")
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
	d, err := ui.correctData(c, p, id, seq)
	if err != nil {
		return err
	}
	p.Title = p.T("file.correct.title")
	p.Data = d
	return ui.render(c, http.StatusOK, "entry_correct", p)
}

func (ui *UI) correctData(c echo.Context, p *Page, id int64, seq int) (entryPageData, error) {
	base, err := ui.newFormBase(c, p, id)
	if err != nil {
		return entryPageData{}, err
	}
	entries, err := ui.allEntries(c, p.Actor, id)
	if err != nil {
		return entryPageData{}, err
	}
	d := entryPageData{formBase: base}
	for _, it := range timeline(entries) {
		if it.Seq == seq {
			d.Entry = &it
		}
	}
	if d.Entry == nil {
		return entryPageData{}, bangfu.NotFound("ledger entry")
	}
	ids := []int64{d.Entry.AuthorID}
	for _, e := range d.Entry.Corrections {
		ids = append(ids, e.AuthorID)
	}
	return d, ui.names(c, &d.formBase, ids)
}

// correct appends a correction of entry seq (ledger.Service.Correct).
func (ui *UI) correct(c echo.Context) error {
	if err := postForm(c); err != nil {
		return err
	}
	id, err := request.PathID(c, "id")
	if err != nil {
		return err
	}
	seq, err := request.PathInt(c, "seq", "ledger entry")
	if err != nil {
		return err
	}
	_, err = ui.Ledger.Correct(request.Context(c), request.Actor(c), id, seq,
		ledger.CorrectionInput{Summary: c.FormValue("summary"), Reason: c.FormValue("reason")})
	if FormProblem(err) {
		p, perr := ui.userPage(c)
		if perr != nil {
			return perr
		}
		d, perr := ui.correctData(c, p, id, seq)
		if perr != nil {
			return perr
		}
		p.Title = p.T("file.correct.title")
		p.Data = d
		status := ui.formFailed(c, p, err)
		return ui.render(c, status, "entry_correct", p)
	}
	if err != nil {
		return err
	}
	return done(c, "file.correct.saved", fmt.Sprintf("/students/%d#entry-%d", id, seq))
}
