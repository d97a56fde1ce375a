package webui

import (
	"fmt"
	"net/http"
	"strconv"

	"github.com/labstack/echo/v4"

	"github.com/bangfu/bangfu"
	"github.com/bangfu/bangfu/internal/destination"
	"github.com/bangfu/bangfu/internal/graduate"
	"github.com/bangfu/bangfu/internal/handover"
	"github.com/bangfu/bangfu/internal/http/request"
)

// This file holds the file page's smaller forms, each also a page of its
// own, where a form that did not go through is shown again with its
// problems and the user's input: hardship evidence, the destination and
// the graduate's own login.

type formPageData struct {
	formBase
	Destination destination.History
	Account     *graduate.Account
	Handovers   []handover.Handover
}

// formPage renders page name, a form about graduate id, with status; err,
// when set, is the problem of the form just sent.
func (ui *UI) formPage(c echo.Context, id int64, name, title string, err error, fill func(*formPageData) error) error {
	p, perr := ui.userPage(c)
	if perr != nil {
		return perr
	}
	base, perr := ui.newFormBase(c, p, id)
	if perr != nil {
		return perr
	}
	d := &formPageData{formBase: base}
	if fill != nil {
		if perr := fill(d); perr != nil {
			return perr
		}
	}
	p.Title = p.Tf(title, base.Student.Name)
	p.Data = d
	status := http.StatusOK
	if err != nil {
		status = ui.formFailed(c, p, err)
	}
	return ui.render(c, status, name, p)
}

func (ui *UI) hardshipPage(c echo.Context) error {
	id, err := request.PathID(c, "id")
	if err != nil {
		return err
	}
	if _, err := request.Params(c); err != nil {
		return err
	}
	return ui.formPage(c, id, "hardship_new", "file.hardship.title_for", nil, nil)
}

// addHardship records a hardship category with its evidence, unverified
// (graduate.Service.AddHardship).
func (ui *UI) addHardship(c echo.Context) error {
	if err := postForm(c); err != nil {
		return err
	}
	id, err := request.PathID(c, "id")
	if err != nil {
		return err
	}
	_, err = ui.Graduates.AddHardship(request.Context(c), request.Actor(c), id, graduate.HardshipInput{
		Category: c.FormValue("category"), EvidenceType: c.FormValue("evidence_type"), IssuingAuthority: c.FormValue("issuing_authority"),
		CertificateNo: c.FormValue("certificate_no"), ValidUntil: c.FormValue("valid_until"),
	})
	if FormProblem(err) {
		return ui.formPage(c, id, "hardship_new", "file.hardship.title_for", err, nil)
	}
	if err != nil {
		return err
	}
	return done(c, "file.hardship.saved", fmt.Sprintf("/students/%d#hardships", id))
}

func (ui *UI) withDestination(c echo.Context, id int64) func(*formPageData) error {
	return func(d *formPageData) error {
		var err error
		d.Destination, err = ui.Destinations.Get(request.Context(c), request.Actor(c), id)
		if err != nil {
			return err
		}
		if cur := d.Destination.Current; cur != nil {
			return ui.names(c, &d.formBase, []int64{cur.EnteredBy})
		}
		return nil
	}
}

// ownFileOnly answers a graduate who asks for a file's destination page:
// their own is on their portal (its form reports to the same service), any
// other is not theirs to see.
func ownFileOnly(c echo.Context, id int64) error {
	if a := request.Actor(c); a.StudentID == nil || *a.StudentID != id {
		return bangfu.NotFound("graduate file")
	}
	return nil
}

// destinationPage is the destination form of a file. A graduate's own
// destination form is on their portal: they are sent there.
func (ui *UI) destinationPage(c echo.Context) error {
	id, err := request.PathID(c, "id")
	if err != nil {
		return err
	}
	if _, err := request.Params(c); err != nil {
		return err
	}
	if request.Actor(c).Role == bangfu.RoleStudent {
		if err := ownFileOnly(c, id); err != nil {
			return err
		}
		return c.Redirect(http.StatusSeeOther, "/#destination")
	}
	return ui.formPage(c, id, "destination_edit", "file.dest.title_for", nil, ui.withDestination(c, id))
}

// putDestination records a new destination (destination.Service.Put),
// based on the record the user saw (the hidden "base"): a record changed
// in between is not overwritten; the form comes back with the current
// record and the user's input. A graduate's report is the portal's: it
// comes back there and goes on there.
func (ui *UI) putDestination(c echo.Context) error {
	if err := postForm(c); err != nil {
		return err
	}
	id, err := request.PathID(c, "id")
	if err != nil {
		return err
	}
	if request.Actor(c).Role == bangfu.RoleStudent {
		if err := ownFileOnly(c, id); err != nil {
			return err
		}
		return ui.reportDestination(c)
	}
	var base *int64
	if b, err := strconv.ParseInt(c.FormValue("base"), 10, 64); err == nil && b > 0 {
		base = &b
	}
	_, err = ui.Destinations.Put(request.Context(c), request.Actor(c), id, base, destination.Input{
		Code: c.FormValue("code"), Employer: c.FormValue("employer"), CreditCode: c.FormValue("credit_code"),
		Position: c.FormValue("position"), Region: c.FormValue("region"), ProofKind: c.FormValue("proof_kind"),
		ProofRef: c.FormValue("proof_ref"), Note: c.FormValue("note"),
	})
	if FormProblem(err) || bangfu.ErrorCode(err) == bangfu.EFORBIDDEN {
		if bangfu.ErrorCode(err) == bangfu.EFORBIDDEN {
			// After 31 August only a supervisor may change it: say so in
			// the form, with what was typed.
			return ui.formPage(c, id, "destination_edit", "file.dest.title_for", nil, func(d *formPageData) error {
				if err := ui.withDestination(c, id)(d); err != nil {
					return err
				}
				d.DestLocked = true
				return nil
			})
		}
		return ui.formPage(c, id, "destination_edit", "file.dest.title_for", err, ui.withDestination(c, id))
	}
	if err != nil {
		return err
	}
	return done(c, "file.dest.saved", fmt.Sprintf("/students/%d#destination", id))
}

// verifyFileDestination verifies the current destination from the file
// page (a supervisor), if it is still the record they saw (the hidden
// "base", as If-Match for the API); otherwise the file comes back with
// both records and nothing verified.
func (ui *UI) verifyFileDestination(c echo.Context) error {
	if err := postForm(c); err != nil {
		return err
	}
	id, err := request.PathID(c, "id")
	if err != nil {
		return err
	}
	base, err := strconv.ParseInt(c.FormValue("base"), 10, 64)
	if err != nil || base < 1 {
		return bangfu.Errorf(bangfu.EPRECONDITIONREQ, "Send If-Match with the ETag of the version you are changing.")
	}
	ctx, a := request.Context(c), request.Actor(c)
	_, err = ui.Destinations.Verify(ctx, a, id, base)
	if FormProblem(err) {
		p, perr := ui.userPage(c)
		if perr != nil {
			return perr
		}
		d, perr := ui.loadFile(c, p, id)
		if perr != nil {
			return perr
		}
		p.Title, p.Data = d.Student.Name, d
		status := ui.formFailed(c, p, err)
		if bangfu.ErrorCode(err) == bangfu.EPRECONDITIONFAILED {
			st := &staleDestination{Theirs: d.Destination.Current}
			for i := range d.Destination.History {
				if d.Destination.History[i].ID == base {
					st.Yours = &d.Destination.History[i]
				}
			}
			d.StaleDest = st
		}
		return ui.render(c, status, "file", p)
	}
	if err != nil {
		return err
	}
	return done(c, "verify.destination_done", fmt.Sprintf("/students/%d#destination", id))
}

func (ui *UI) withAccount(c echo.Context, id int64) func(*formPageData) error {
	return func(d *formPageData) error {
		var err error
		d.Account, err = ui.Graduates.AccountOf(request.Context(c), request.Actor(c), id)
		return err
	}
}

func (ui *UI) accountPage(c echo.Context) error {
	id, err := request.PathID(c, "id")
	if err != nil {
		return err
	}
	if _, err := request.Params(c); err != nil {
		return err
	}
	return ui.formPage(c, id, "account", "file.account.title_for", nil, ui.withAccount(c, id))
}

// createAccount gives the graduate their own login (graduate.Service.CreateAccount).
func (ui *UI) createAccount(c echo.Context) error {
	if err := postForm(c); err != nil {
		return err
	}
	id, err := request.PathID(c, "id")
	if err != nil {
		return err
	}
	_, err = ui.Graduates.CreateAccount(request.Context(c), ui.Directory, request.Actor(c), id,
		graduate.AccountInput{Username: c.FormValue("username"), Password: c.FormValue("password")})
	if FormProblem(err) {
		return ui.formPage(c, id, "account", "file.account.title_for", err, ui.withAccount(c, id))
	}
	if err != nil {
		return err
	}
	return done(c, "file.account.created", fmt.Sprintf("/students/%d#account", id))
}

// resetPassword sets a new password on the graduate's login
// (graduate.Service.ResetAccountPassword: scoped, audited, sessions ended).
func (ui *UI) resetPassword(c echo.Context) error {
	if err := postForm(c); err != nil {
		return err
	}
	id, err := request.PathID(c, "id")
	if err != nil {
		return err
	}
	err = ui.Graduates.ResetAccountPassword(request.Context(c), ui.Directory, request.Actor(c), id,
		graduate.PasswordInput{Password: c.FormValue("password")})
	if FormProblem(err) {
		return ui.formPage(c, id, "account", "file.account.title_for", err, ui.withAccount(c, id))
	}
	if err != nil {
		return err
	}
	return done(c, "file.account.reset_done", fmt.Sprintf("/students/%d#account", id))
}
