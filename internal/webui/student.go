package webui

import (
	"context"
	"net/http"
	"strconv"

	"github.com/labstack/echo/v4"

	"github.com/bangfu/bangfu"
	"github.com/bangfu/bangfu/internal/destination"
	"github.com/bangfu/bangfu/internal/graduate"
	"github.com/bangfu/bangfu/internal/http/request"
	"github.com/bangfu/bangfu/internal/ledger"
	"github.com/bangfu/bangfu/internal/notify"
	"github.com/bangfu/bangfu/internal/plan"
	"github.com/bangfu/bangfu/internal/roster"
)

// The student portal: the graduate's own plan (and acknowledging it),
// their counselor and next follow-up, the ledger entries shared with them,
// and their destination with a form to report a new one.

func init() { homes[bangfu.RoleStudent] = (*UI).portal }

// ownView is what the portal shows of the graduate's own file,
// destination and training places. It is the one place the portal reads
// them, and it reads them as the graduate's own views — those of GET
// /me/file, /me/destination and /me/roster: the file's counts and next
// follow-up come from the ledger entries shared with the graduate only
// (graduate.OwnFile), the destination records carry no staff notes. Never
// the staff's view of the file (graduate.Service.Get), whose next
// follow-up an internal entry may have set.
type ownView struct {
	File        graduate.OwnFile
	Destination destination.History
	Places      []placeView
}

func (ui *UI) ownView(ctx context.Context, a bangfu.Actor, id int64) (ownView, error) {
	var v ownView
	var err error
	if v.File, err = ui.Graduates.OwnFile(ctx, a, id); err != nil {
		return v, err
	}
	if v.Destination, err = ui.Destinations.Get(ctx, a, id); err != nil {
		return v, err
	}
	places, err := ui.Roster.MyPlaces(ctx, a)
	v.Places = placeViews(places.Items)
	return v, err
}

type portalData struct {
	// Linked is false for a student account with no file (nothing to show).
	Linked bool
	ownView
	Plan    *plan.Plan
	Entries []timelineItem
	// Report is the form for reporting a new destination.
	Report        destinationForm
	Notifications []notify.Notification
	// Theirs and Yours are the two versions of a stale destination report.
	Theirs *destination.Destination
	Yours  *destination.Input
	// FailedPlace names the place whose answer came back with a problem.
	FailedPlace int64
}

// destinationForm describes the destination form: the codes by group and
// the proof kinds (the proof each code needs is the "destrules" list the
// form shares with the staff's).
type destinationForm struct {
	// Base is the id of the current record the report replaces (0: none).
	Base       int64
	Codes      []destCodeGroup
	ProofKinds []string
	// Open is false after the change deadline, when only a supervisor may
	// change the destination.
	Open     bool
	Deadline bangfu.Date
}

func newDestinationForm(base *destination.Destination, graduationYear int, today bangfu.Date) destinationForm {
	f := destinationForm{Codes: destCodeGroups, ProofKinds: destination.ProofKinds,
		Deadline: destination.ChangeDeadline(graduationYear)}
	f.Open = !today.After(f.Deadline)
	if base != nil {
		f.Base = base.ID
	}
	return f
}

// portal is the student's home page.
func (ui *UI) portal(c echo.Context) error {
	p, err := ui.userPage(c)
	if err != nil {
		return err
	}
	if err := ui.fillPortal(c, p); err != nil {
		return err
	}
	return ui.render(c, http.StatusOK, "student", p)
}

// fillPortal reads everything the portal shows into p.
func (ui *UI) fillPortal(c echo.Context, p *Page) error {
	ctx, a := request.Context(c), p.Actor
	p.Title = p.T("portal.title")
	d := portalData{}
	p.Data = &d
	if a.StudentID == nil {
		return nil
	}
	id := *a.StudentID
	d.Linked = true
	var err error
	if d.ownView, err = ui.ownView(ctx, a, id); err != nil {
		return err
	}
	switch pl, err := ui.Plans.Get(ctx, a, id); {
	case bangfu.ErrorCode(err) == bangfu.ENOTFOUND:
	case err != nil:
		return err
	default:
		d.Plan = &pl
	}
	var entries []ledger.Entry
	pg := bangfu.Page{Limit: bangfu.MaxPageLimit}
	for range 10 { // at most 2,000 entries shared with one graduate
		l, err := ui.Ledger.List(ctx, a, id, pg)
		if err != nil {
			return err
		}
		entries = append(entries, l.Items...)
		if l.NextCursor == "" {
			break
		}
		pg.After = int64(l.Items[len(l.Items)-1].Seq)
	}
	d.Entries = timeline(entries)
	d.Report = newDestinationForm(d.Destination.Current, d.File.GraduationYear, bangfu.Today(ui.Clock))
	unread, err := ui.Notify.List(ctx, a, true, bangfu.Page{Limit: 5})
	if err != nil {
		return err
	}
	d.Notifications = unread.Items
	return nil
}

// answerPlace records the graduate's answer to a nomination: confirm
// (roster.Service.Confirm) or decline, with an optional reason
// (roster.Service.Decline); the next graduate of their school waiting is
// nominated in the same transaction. An answer that does not go through —
// after the deadline, say — comes back on the portal with its problem.
func (ui *UI) answerPlace(answer string) echo.HandlerFunc {
	return func(c echo.Context) error {
		if err := postForm(c); err != nil {
			return err
		}
		id, err := request.PathID(c, "id")
		if err != nil {
			return err
		}
		ctx, a := request.Context(c), request.Actor(c)
		flashKey := "roster.confirmed_mine"
		if answer == "decline" {
			flashKey = "roster.declined_mine"
			_, err = ui.Roster.Decline(ctx, a, id, roster.Reason{Reason: c.FormValue("reason")})
		} else {
			_, err = ui.Roster.Confirm(ctx, a, id)
		}
		if FormProblem(err) {
			p, perr := ui.userPage(c)
			if perr != nil {
				return perr
			}
			if perr := ui.fillPortal(c, p); perr != nil {
				return perr
			}
			status := ui.formFailed(c, p, err)
			p.Data.(*portalData).FailedPlace = id
			return ui.render(c, status, "student", p)
		}
		if err != nil {
			return err
		}
		return done(c, flashKey, "/#training")
	}
}

// acknowledgePlan records that the student read the plan revision the
// form names.
func (ui *UI) acknowledgePlan(c echo.Context) error {
	if err := postForm(c); err != nil {
		return err
	}
	a := request.Actor(c)
	if a.StudentID == nil {
		return bangfu.NotFound("plan")
	}
	revision, _ := strconv.Atoi(c.FormValue("revision"))
	_, err := ui.Plans.Acknowledge(request.Context(c), a, *a.StudentID, revision)
	if FormProblem(err) {
		p, perr := ui.userPage(c)
		if perr != nil {
			return perr
		}
		if perr := ui.fillPortal(c, p); perr != nil {
			return perr
		}
		status := ui.formFailed(c, p, err)
		p.Form = nil // the plan form has nothing to keep; the destination form stays empty
		return ui.render(c, status, "student", p)
	}
	if err != nil {
		return err
	}
	return done(c, "portal.acknowledged", "/#plan")
}

// destinationInput reads the destination form.
func destinationInput(c echo.Context) destination.Input {
	return destination.Input{
		Code: c.FormValue("code"), Employer: c.FormValue("employer"), CreditCode: c.FormValue("credit_code"),
		Position: c.FormValue("position"), Region: c.FormValue("region"), ProofKind: c.FormValue("proof_kind"),
		ProofRef: c.FormValue("proof_ref"), Note: c.FormValue("note"),
	}
}

// reportDestination records the destination the student reports, replacing
// the record they saw (the form's base). When someone changed it meanwhile
// the form comes back with both versions.
func (ui *UI) reportDestination(c echo.Context) error {
	if err := postForm(c); err != nil {
		return err
	}
	a := request.Actor(c)
	if a.StudentID == nil {
		return bangfu.NotFound("graduate file")
	}
	var base *int64
	if v, err := strconv.ParseInt(c.FormValue("base"), 10, 64); err == nil && v > 0 {
		base = &v
	}
	in := destinationInput(c)
	_, err := ui.Destinations.Put(request.Context(c), a, *a.StudentID, base, in)
	if FormProblem(err) {
		p, perr := ui.userPage(c)
		if perr != nil {
			return perr
		}
		if perr := ui.fillPortal(c, p); perr != nil {
			return perr
		}
		status := ui.formFailed(c, p, err)
		if code := bangfu.ErrorCode(err); code == bangfu.EPRECONDITIONFAILED || code == bangfu.EPRECONDITIONREQ {
			d := p.Data.(*portalData)
			d.Theirs, d.Yours = d.Destination.Current, &in
			p.Error = p.T("form.stale")
		}
		return ui.render(c, status, "student", p)
	}
	if err != nil {
		return err
	}
	return done(c, "portal.reported", "/#destination")
}
