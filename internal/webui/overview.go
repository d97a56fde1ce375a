package webui

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/bangfu/bangfu"
	"github.com/bangfu/bangfu/internal/http/request"
	"github.com/bangfu/bangfu/internal/notify"
	"github.com/bangfu/bangfu/internal/report"
)

// The supervisor's home: what waits for them in their school or
// department, each count linking to the page where it is handled.

func init() { homes[bangfu.RoleSupervisor] = (*UI).overview }

type overviewData struct {
	// OpenEscalations are the open (not yet acknowledged) escalations by
	// level.
	OpenEscalations     [3]int
	PendingDestinations int
	PendingHardships    int
	// Summary carries the overdue follow-ups and this year's 去向落实率.
	Summary       report.Summary
	Notifications []notify.Notification
}

func (ui *UI) overview(c echo.Context) error {
	p, err := ui.userPage(c)
	if err != nil {
		return err
	}
	ctx, a := request.Context(c), p.Actor
	d := overviewData{}
	if d.OpenEscalations, err = ui.Escalations.CountOpen(ctx, a); err != nil {
		return err
	}
	if d.PendingDestinations, err = ui.Destinations.CountPending(ctx, a); err != nil {
		return err
	}
	if d.PendingHardships, err = ui.Graduates.CountPendingHardships(ctx, a); err != nil {
		return err
	}
	if d.Summary, err = ui.Reports.Summary(ctx, a, report.Filter{}); err != nil {
		return err
	}
	unread, err := ui.Notify.List(ctx, a, true, bangfu.Page{Limit: 5})
	if err != nil {
		return err
	}
	d.Notifications = unread.Items
	p.Title = p.T("overview.title")
	p.Data = d
	return ui.render(c, http.StatusOK, "overview", p)
}
