package httpapi

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/bangfu/bangfu/internal/http/request"
	"github.com/bangfu/bangfu/internal/http/response"
	"github.com/bangfu/bangfu/internal/plan"
)

func (api *API) getPlan(c echo.Context) error {
	id, err := request.PathID(c, "id")
	if err != nil {
		return err
	}
	return api.writePlan(c, id)
}

func (api *API) writePlan(c echo.Context, studentID int64) error {
	if err := noParams(c); err != nil {
		return err
	}
	pl, err := api.Plans.Get(request.Context(c), request.Actor(c), studentID)
	if err != nil {
		return err
	}
	response.SetETag(c, pl.Current.Revision)
	return c.JSON(http.StatusOK, pl)
}

func (api *API) getPlanRevision(c echo.Context) error {
	id, err := request.PathID(c, "id")
	if err != nil {
		return err
	}
	n, err := request.PathInt(c, "n", "plan revision")
	if err != nil {
		return err
	}
	if err := noParams(c); err != nil {
		return err
	}
	r, err := api.Plans.Revision(request.Context(c), request.Actor(c), id, n)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, r)
}

func (api *API) putPlan(c echo.Context) error {
	id, err := request.PathID(c, "id")
	if err != nil {
		return err
	}
	base, err := request.OptionalIfMatch(c)
	if err != nil {
		return err
	}
	var in plan.Input
	if err := request.Bind(c, &in); err != nil {
		return err
	}
	r, err := api.Plans.Put(request.Context(c), request.Actor(c), id, base, in)
	if err != nil {
		return err
	}
	response.SetETag(c, r.Revision)
	return c.JSON(http.StatusOK, r)
}

type acknowledgeRequest struct {
	Revision int `json:"revision"`
}

func (api *API) acknowledgePlan(c echo.Context) error {
	id, err := request.PathID(c, "id")
	if err != nil {
		return err
	}
	var req acknowledgeRequest
	if err := request.Bind(c, &req); err != nil {
		return err
	}
	r, err := api.Plans.Acknowledge(request.Context(c), request.Actor(c), id, req.Revision)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, r)
}
