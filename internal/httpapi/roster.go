package httpapi

import (
	"context"
	"io"
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/bangfu/bangfu"
	"github.com/bangfu/bangfu/internal/http/request"
	"github.com/bangfu/bangfu/internal/http/response"
	"github.com/bangfu/bangfu/internal/roster"
)

// The 宏志助航 training roster: bases and cohorts (admin), rosters and
// exports (each role its part), places and what each role does to them.

func (api *API) createBase(c echo.Context) error {
	var in roster.BaseInput
	if err := request.Bind(c, &in); err != nil {
		return err
	}
	b, err := api.Roster.CreateBase(request.Context(c), request.Actor(c), in)
	if err != nil {
		return err
	}
	response.SetETag(c, b.Version)
	return c.JSON(http.StatusCreated, b)
}

// getVersioned answers the record named by the path's :id with its ETag:
// a read, or an action without a body (confirm, attend, complete a place).
func getVersioned[Out versioned](call func(context.Context, bangfu.Actor, int64) (Out, error)) echo.HandlerFunc {
	return func(c echo.Context) error {
		id, err := request.PathID(c, "id")
		if err != nil {
			return err
		}
		if err := noParams(c); err != nil {
			return err
		}
		out, err := call(request.Context(c), request.Actor(c), id)
		if err != nil {
			return err
		}
		response.SetETag(c, out.ETagVersion())
		return c.JSON(http.StatusOK, out)
	}
}

func (api *API) createCohort(c echo.Context) error {
	var in roster.CohortInput
	if err := request.Bind(c, &in); err != nil {
		return err
	}
	co, err := api.Roster.CreateCohort(request.Context(c), request.Actor(c), in)
	if err != nil {
		return err
	}
	response.SetETag(c, co.Version)
	return c.JSON(http.StatusCreated, co)
}

func (api *API) listCohorts(c echo.Context) error {
	q, err := request.Params(c, "limit", "cursor", "state", "base_id")
	if err != nil {
		return err
	}
	pg := q.Page()
	f := roster.CohortFilter{State: q.String("state"), BaseID: q.ID("base_id")}
	if err := q.Err(); err != nil {
		return err
	}
	l, err := api.Roster.ListCohorts(request.Context(c), request.Actor(c), f, pg)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, l)
}

func (api *API) buildCohort(c echo.Context) error {
	id, err := request.PathID(c, "id")
	if err != nil {
		return err
	}
	if err := noParams(c); err != nil {
		return err
	}
	enqueued, err := api.Roster.RequestBuild(request.Context(c), request.Actor(c), id)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusAccepted, map[string]bool{"enqueued": enqueued})
}

// getRoster answers a's part of a cohort's roster: one page of JSON, or
// with format=csv|xlsx the whole of it as a file.
func (api *API) getRoster(c echo.Context) error {
	id, err := request.PathID(c, "id")
	if err != nil {
		return err
	}
	q, err := request.Params(c, "limit", "cursor", "status", "school_id", "format")
	if err != nil {
		return err
	}
	format := readFormat(q, true)
	pg := q.Page()
	f := roster.RosterFilter{Status: q.String("status"), SchoolID: q.ID("school_id")}
	if err := q.Err(); err != nil {
		return err
	}
	if format != "" {
		if f.Status != "" || f.SchoolID != nil || pg.After != 0 {
			return request.Invalid("format", "exports the whole roster: leave out status, school_id and cursor")
		}
		ctx, done := request.ExportContext(c)
		defer done()
		file, err := api.Roster.Export(ctx, request.Actor(c), id, format)
		if err != nil {
			return err
		}
		return response.Download(c, file, api.Logger)
	}
	ctx, a := request.Context(c), request.Actor(c)
	l, err := api.Roster.Roster(ctx, a, id, f, pg)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, l)
}

func (api *API) getRosterSummary(c echo.Context) error {
	id, err := request.PathID(c, "id")
	if err != nil {
		return err
	}
	if err := noParams(c); err != nil {
		return err
	}
	s, err := api.Roster.Summary(request.Context(c), request.Actor(c), id)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, s)
}

func (api *API) listDeliveries(c echo.Context) error {
	id, err := request.PathID(c, "id")
	if err != nil {
		return err
	}
	q, err := request.Params(c, "limit", "cursor", "state")
	if err != nil {
		return err
	}
	pg := q.Page()
	f := roster.DeliveryFilter{State: q.String("state")}
	if err := q.Err(); err != nil {
		return err
	}
	l, err := api.Roster.Deliveries(request.Context(c), request.Actor(c), id, f, pg)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, l)
}

// declinePlace takes an optional body with the reason.
func (api *API) declinePlace(c echo.Context) error {
	id, err := request.PathID(c, "id")
	if err != nil {
		return err
	}
	if err := noParams(c); err != nil {
		return err
	}
	var in roster.Reason
	if c.Request().ContentLength != 0 {
		if err := request.Bind(c, &in); err != nil {
			return err
		}
	}
	p, err := api.Roster.Decline(request.Context(c), request.Actor(c), id, in)
	if err != nil {
		return err
	}
	response.SetETag(c, p.Version)
	return c.JSON(http.StatusOK, p)
}

func (api *API) withdrawPlace(c echo.Context) error {
	id, err := request.PathID(c, "id")
	if err != nil {
		return err
	}
	if err := noParams(c); err != nil {
		return err
	}
	var in roster.Reason
	if err := request.Bind(c, &in); err != nil {
		return err
	}
	p, err := api.Roster.Withdraw(request.Context(c), request.Actor(c), id, in)
	if err != nil {
		return err
	}
	response.SetETag(c, p.Version)
	return c.JSON(http.StatusOK, p)
}

func (api *API) myRoster(c echo.Context) error {
	if err := noParams(c); err != nil {
		return err
	}
	l, err := api.Roster.MyPlaces(request.Context(c), request.Actor(c))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, l)
}

func (api *API) studentTraining(c echo.Context) error {
	id, err := request.PathID(c, "id")
	if err != nil {
		return err
	}
	if err := noParams(c); err != nil {
		return err
	}
	t, err := api.Roster.Training(request.Context(c), request.Actor(c), id)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, t)
}

// receiveWebhook is the development receiver of a base's deliveries
// (roster.Receiver), mounted only when BANGFU_ENV=dev.
func (api *API) receiveWebhook(c echo.Context) error {
	id, err := request.PathID(c, "id")
	if err != nil {
		return err
	}
	body, err := io.ReadAll(io.LimitReader(c.Request().Body, 1<<20))
	if err != nil {
		return err
	}
	status, err := api.receiver.Receive(request.Context(c), id, c.Request().Header, body)
	if err != nil {
		return err
	}
	return c.NoContent(status)
}

func (api *API) receivedWebhooks(c echo.Context) error {
	id, err := request.PathID(c, "id")
	if err != nil {
		return err
	}
	if err := noParams(c); err != nil {
		return err
	}
	return c.JSON(http.StatusOK, map[string]any{"items": api.receiver.Received(id)})
}
