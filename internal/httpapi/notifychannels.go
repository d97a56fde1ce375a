package httpapi

import (
	"io"
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/bangfu/bangfu"
	"github.com/bangfu/bangfu/internal/http/request"
	"github.com/bangfu/bangfu/internal/http/response"
	"github.com/bangfu/bangfu/internal/notify"
)

func (api *API) notifySettings(c echo.Context) error {
	if err := noParams(c); err != nil {
		return err
	}
	s, err := api.Notify.Settings(request.Context(c), request.Actor(c))
	if err != nil {
		return err
	}
	response.SetETag(c, s.Preferences.Version)
	return c.JSON(http.StatusOK, s)
}

func (api *API) putNotifyPreferences(c echo.Context) error {
	version, err := request.IfMatch(c)
	if err != nil {
		return err
	}
	var in notify.PreferencesInput
	if err := request.Bind(c, &in); err != nil {
		return err
	}
	p, err := api.Notify.SavePreferences(request.Context(c), request.Actor(c), version, in)
	if err != nil {
		return err
	}
	response.SetETag(c, p.Version)
	return c.JSON(http.StatusOK, p)
}

func (api *API) putNotifySchool(c echo.Context) error {
	version, err := request.IfMatch(c)
	if err != nil {
		return err
	}
	var in notify.SchoolInput
	if err := request.Bind(c, &in); err != nil {
		return err
	}
	s, err := api.Notify.SaveSchool(request.Context(c), request.Actor(c), version, in)
	if err != nil {
		return err
	}
	response.SetETag(c, s.Version)
	return c.JSON(http.StatusOK, s)
}

func (api *API) addNotifyChannel(c echo.Context) error {
	var in notify.ChannelInput
	if err := request.Bind(c, &in); err != nil {
		return err
	}
	ch, err := api.Notify.AddChannel(request.Context(c), request.Actor(c), in)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusCreated, ch)
}

func (api *API) removeNotifyChannel(c echo.Context) error {
	id, err := request.PathID(c, "id")
	if err != nil {
		return err
	}
	if err := api.Notify.RemoveChannel(request.Context(c), request.Actor(c), id); err != nil {
		return err
	}
	return c.NoContent(http.StatusNoContent)
}

func (api *API) testNotifyChannel(c echo.Context) error {
	id, err := request.PathID(c, "id")
	if err != nil {
		return err
	}
	r, err := api.Notify.TestChannel(request.Context(c), request.Actor(c), id)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, r)
}

func (api *API) listNotifyDeliveries(c echo.Context) error {
	q, err := request.Params(c, "state", "limit", "cursor")
	if err != nil {
		return err
	}
	pg := q.Page()
	state := q.String("state")
	if err := q.Err(); err != nil {
		return err
	}
	l, err := api.Notify.Deliveries(request.Context(c), request.Actor(c), state, pg)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, l)
}

// receiveDevWebhook is the development stand-in for a 企业微信 bot
// (notify.Receiver), mounted only when BANGFU_ENV=dev. It answers 200 with
// the bot's JSON, as the real one does, refusals included.
func (api *API) receiveDevWebhook(c echo.Context) error {
	q, err := request.Params(c, "key")
	if err != nil {
		return err
	}
	key := q.String("key")
	if err := q.Err(); err != nil {
		return err
	}
	body, err := io.ReadAll(io.LimitReader(c.Request().Body, 64<<10))
	if err != nil {
		return bangfu.Errorf(bangfu.EINVALID, "The body could not be read.")
	}
	return c.JSON(http.StatusOK, api.Receiver.Receive(key, c.Request().Header.Get("Idempotency-Key"), body))
}
