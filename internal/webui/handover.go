package webui

import (
	"fmt"

	"github.com/labstack/echo/v4"

	"github.com/bangfu/bangfu/internal/handover"
	"github.com/bangfu/bangfu/internal/http/request"
)

// The hand-over of a graduate who left school unplaced to the public
// employment service (离校未就业实名衔接), and the agency's acknowledgement:
// forms on the file page, and a page of their own where a form that did
// not go through comes back with its problems (handover.Service checks the
// case, the day and the graduate's consent).

func (ui *UI) withHandovers(c echo.Context, id int64) func(*formPageData) error {
	return func(d *formPageData) error {
		d.OwnPage = true
		var err error
		if d.Handovers, err = ui.Handovers.List(request.Context(c), request.Actor(c), id); err != nil {
			return err
		}
		var ids []int64
		for _, h := range d.Handovers {
			ids = append(ids, h.HandedOverBy)
			if h.Acknowledgement != nil {
				ids = append(ids, h.Acknowledgement.RecordedBy)
			}
		}
		return ui.names(c, &d.formBase, ids)
	}
}

func (ui *UI) handoverPage(c echo.Context) error {
	id, err := request.PathID(c, "id")
	if err != nil {
		return err
	}
	if _, err := request.Params(c); err != nil {
		return err
	}
	return ui.formPage(c, id, "handover", "handover.title_for", nil, ui.withHandovers(c, id))
}

// createHandover hands the graduate over (handover.Service.Create): the
// agency, its region, the day, which data were passed on, a note.
func (ui *UI) createHandover(c echo.Context) error {
	if err := postForm(c); err != nil {
		return err
	}
	id, err := request.PathID(c, "id")
	if err != nil {
		return err
	}
	form, _ := c.FormParams()
	_, err = ui.Handovers.Create(request.Context(c), request.Actor(c), id, handover.Input{
		Agency: c.FormValue("agency"), AgencyRegion: c.FormValue("agency_region"), HandedOverOn: c.FormValue("handed_over_on"),
		SharedFields: form["shared_fields"], Note: c.FormValue("note"),
	})
	if FormProblem(err) {
		return ui.formPage(c, id, "handover", "handover.title_for", err, ui.withHandovers(c, id))
	}
	if err != nil {
		return err
	}
	return done(c, "handover.created", fmt.Sprintf("/students/%d#handover", id))
}

// acknowledgeHandover records the agency's acknowledgement of the latest
// hand-over (handover.Service.Acknowledge).
func (ui *UI) acknowledgeHandover(c echo.Context) error {
	if err := postForm(c); err != nil {
		return err
	}
	id, err := request.PathID(c, "id")
	if err != nil {
		return err
	}
	_, err = ui.Handovers.Acknowledge(request.Context(c), request.Actor(c), id, handover.AcknowledgementInput{
		AcknowledgedOn: c.FormValue("acknowledged_on"), AcknowledgedBy: c.FormValue("acknowledged_by"), Reference: c.FormValue("reference"),
	})
	if FormProblem(err) {
		return ui.formPage(c, id, "handover", "handover.title_for", err, ui.withHandovers(c, id))
	}
	if err != nil {
		return err
	}
	return done(c, "handover.acknowledged", fmt.Sprintf("/students/%d#handover", id))
}
