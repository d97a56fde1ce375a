package webui

import (
	"net/http"
	"net/url"
	"strconv"

	"github.com/labstack/echo/v4"

	"github.com/bangfu/bangfu"
	"github.com/bangfu/bangfu/internal/destination"
	"github.com/bangfu/bangfu/internal/graduate"
	"github.com/bangfu/bangfu/internal/http/request"
)

// The supervisor's verification queues: destinations and hardship
// evidence waiting to be verified, each with the form that verifies it.

type verifyData struct {
	Destinations []destination.Pending
	Hardships    []graduate.PendingHardship
	DNext, HNext string
	// FailedStudent and FailedHardship name the form that came back with a
	// problem.
	FailedStudent  int64
	FailedHardship int64
	// Theirs and Yours are the two versions of a destination that changed
	// while the supervisor was verifying it.
	Theirs, Yours *destination.Destination
}

func (ui *UI) verify(c echo.Context) error {
	q, err := request.Params(c, "dcursor", "hcursor")
	if err != nil {
		return err
	}
	dAfter, hAfter := pageAfter(q, "dcursor"), pageAfter(q, "hcursor")
	if err := q.Err(); err != nil {
		return err
	}
	p, err := ui.userPage(c)
	if err != nil {
		return err
	}
	if err := ui.fillVerify(c, p, dAfter, hAfter); err != nil {
		return err
	}
	return ui.render(c, http.StatusOK, "verify", p)
}

// pageAfter reads the cursor parameter name of one of a page's lists.
func pageAfter(q *request.Query, name string) int64 {
	v := q.String(name)
	if v == "" {
		return 0
	}
	id, ok := bangfu.DecodeCursor(v)
	if !ok {
		q.Problems.Add(name, "is not a cursor returned by this list")
	}
	return id
}

func (ui *UI) fillVerify(c echo.Context, p *Page, dAfter, hAfter int64) error {
	ctx, a := request.Context(c), p.Actor
	dl, err := ui.Destinations.Pending(ctx, a, bangfu.Page{Limit: bangfu.DefaultPageLimit, After: dAfter})
	if err != nil {
		return err
	}
	hl, err := ui.Graduates.PendingHardships(ctx, a, bangfu.Page{Limit: bangfu.DefaultPageLimit, After: hAfter})
	if err != nil {
		return err
	}
	d := &verifyData{Destinations: dl.Items, Hardships: hl.Items}
	link := func(name, cursor, anchor string) string {
		if cursor == "" {
			return ""
		}
		return "/verify?" + url.Values{name: {cursor}}.Encode() + "#" + anchor
	}
	d.DNext, d.HNext = link("dcursor", dl.NextCursor, "destinations"), link("hcursor", hl.NextCursor, "hardships")
	p.Title = p.T("verify.title")
	p.Data = d
	return nil
}

// verifyDestination verifies the current destination of the graduate of
// the path, if it is still the record the supervisor saw (the form's
// base); otherwise the page shows both versions.
func (ui *UI) verifyDestination(c echo.Context) error {
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
		if perr := ui.fillVerify(c, p, 0, 0); perr != nil {
			return perr
		}
		status := ui.formFailed(c, p, err)
		d := p.Data.(*verifyData)
		d.FailedStudent = id
		if bangfu.ErrorCode(err) == bangfu.EPRECONDITIONFAILED {
			h, herr := ui.Destinations.Get(ctx, a, id)
			if herr != nil {
				return herr
			}
			d.Theirs = h.Current
			for i := range h.History {
				if h.History[i].ID == base {
					d.Yours = &h.History[i]
				}
			}
		}
		return ui.render(c, status, "verify", p)
	}
	if err != nil {
		return err
	}
	return done(c, "verify.destination_done", "/verify#destinations")
}

// verifyHardship records the supervisor's decision on hardship evidence.
func (ui *UI) verifyHardship(c echo.Context) error {
	if err := postForm(c); err != nil {
		return err
	}
	id, err := request.PathID(c, "id")
	if err != nil {
		return err
	}
	hid, err := request.PathID(c, "hid")
	if err != nil {
		return err
	}
	v := graduate.Verification{Decision: c.FormValue("decision"), Note: c.FormValue("note")}
	if v.Decision == "" {
		v.Decision = "none" // a choice is required: "" would mean verified
	}
	_, err = ui.Graduates.VerifyHardship(request.Context(c), request.Actor(c), id, hid, v)
	if FormProblem(err) {
		p, perr := ui.userPage(c)
		if perr != nil {
			return perr
		}
		if perr := ui.fillVerify(c, p, 0, 0); perr != nil {
			return perr
		}
		status := ui.formFailed(c, p, err)
		p.Data.(*verifyData).FailedHardship = hid
		return ui.render(c, status, "verify", p)
	}
	if err != nil {
		return err
	}
	return done(c, "verify.hardship_done", "/verify#hardships")
}
