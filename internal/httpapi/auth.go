package httpapi

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/bangfu/bangfu/internal/http/request"
	"github.com/bangfu/bangfu/internal/http/response"
)

type loginRequest struct {
	Username string `json:"username"`
	Password string `json:"password"`
}

func (api *API) login(c echo.Context) error {
	var req loginRequest
	if err := request.Bind(c, &req); err != nil {
		return err
	}
	sess, err := api.Auth.Login(request.Context(c), req.Username, req.Password, c.RealIP())
	if err != nil {
		return err
	}
	response.NoStore(c)
	return c.JSON(http.StatusOK, sess)
}

type refreshRequest struct {
	RefreshToken string `json:"refresh_token"`
}

func (api *API) refresh(c echo.Context) error {
	var req refreshRequest
	if err := request.Bind(c, &req); err != nil {
		return err
	}
	sess, err := api.Auth.Refresh(request.Context(c), req.RefreshToken)
	if err != nil {
		return err
	}
	response.NoStore(c)
	return c.JSON(http.StatusOK, sess)
}

func (api *API) logout(c echo.Context) error {
	var req refreshRequest
	if err := request.Bind(c, &req); err != nil {
		return err
	}
	if err := api.Auth.Logout(request.Context(c), request.Actor(c), req.RefreshToken); err != nil {
		return err
	}
	return c.NoContent(http.StatusNoContent)
}

func (api *API) me(c echo.Context) error {
	if err := noParams(c); err != nil {
		return err
	}
	u, err := api.Directory.User(request.Context(c), request.Actor(c).UserID)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, u)
}
