package httpapi

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/bangfu/bangfu/internal/http/request"
	"github.com/bangfu/bangfu/internal/http/response"
	"github.com/bangfu/bangfu/internal/settings"
)

func (api *API) getSettings(c echo.Context) error {
	if err := noParams(c); err != nil {
		return err
	}
	r, err := api.Settings.Get(request.Context(c), api.DB.Pool)
	if err != nil {
		return err
	}
	response.SetETag(c, r.Version)
	return c.JSON(http.StatusOK, r)
}

func (api *API) putSettings(c echo.Context) error {
	version, err := request.IfMatch(c)
	if err != nil {
		return err
	}
	// Fields the body leaves out take their default; a zero sent stays zero.
	in := settings.Defaults
	if err := request.Bind(c, &in); err != nil {
		return err
	}
	r, err := api.Settings.Put(request.Context(c), request.Actor(c), version, in)
	if err != nil {
		return err
	}
	response.SetETag(c, r.Version)
	return c.JSON(http.StatusOK, r)
}
