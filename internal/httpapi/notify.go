package httpapi

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/bangfu/bangfu/internal/http/request"
)

func (api *API) listNotifications(c echo.Context) error {
	q, err := request.Params(c, "unread", "limit", "cursor")
	if err != nil {
		return err
	}
	pg := q.Page()
	unread := q.Bool("unread")
	if err := q.Err(); err != nil {
		return err
	}
	l, err := api.Notify.List(request.Context(c), request.Actor(c), unread != nil && *unread, pg)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, l)
}

func (api *API) readNotification(c echo.Context) error {
	id, err := request.PathID(c, "id")
	if err != nil {
		return err
	}
	n, err := api.Notify.MarkRead(request.Context(c), request.Actor(c), id)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, n)
}
