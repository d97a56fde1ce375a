package httpapi

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/bangfu/bangfu/internal/destination"
	"github.com/bangfu/bangfu/internal/http/request"
	"github.com/bangfu/bangfu/internal/http/response"
)

func (api *API) getDestination(c echo.Context) error {
	id, err := request.PathID(c, "id")
	if err != nil {
		return err
	}
	return api.writeDestination(c, id)
}

// writeDestination answers a graduate's destination records; the ETag is
// the current record's id.
func (api *API) writeDestination(c echo.Context, id int64) error {
	if err := noParams(c); err != nil {
		return err
	}
	h, err := api.Destinations.Get(request.Context(c), request.Actor(c), id)
	if err != nil {
		return err
	}
	if h.Current != nil {
		response.SetETag(c, int(h.Current.ID))
	}
	return c.JSON(http.StatusOK, h)
}

func (api *API) putDestination(c echo.Context) error {
	id, err := request.PathID(c, "id")
	if err != nil {
		return err
	}
	base, err := request.OptionalIfMatch(c)
	if err != nil {
		return err
	}
	var in destination.Input
	if err := request.Bind(c, &in); err != nil {
		return err
	}
	d, err := api.Destinations.Put(request.Context(c), request.Actor(c), id, toInt64(base), in)
	if err != nil {
		return err
	}
	response.SetETag(c, int(d.ID))
	return c.JSON(http.StatusOK, d)
}

func (api *API) verifyDestination(c echo.Context) error {
	id, err := request.PathID(c, "id")
	if err != nil {
		return err
	}
	if err := noParams(c); err != nil {
		return err
	}
	base, err := request.IfMatch(c)
	if err != nil {
		return err
	}
	d, err := api.Destinations.Verify(request.Context(c), request.Actor(c), id, int64(base))
	if err != nil {
		return err
	}
	response.SetETag(c, int(d.ID))
	return c.JSON(http.StatusOK, d)
}

func toInt64(v *int) *int64 {
	if v == nil {
		return nil
	}
	n := int64(*v)
	return &n
}
