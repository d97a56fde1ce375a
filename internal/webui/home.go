package webui

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/bangfu/bangfu"
	"github.com/bangfu/bangfu/internal/http/request"
	"github.com/bangfu/bangfu/internal/notify"
)

// homes holds each role's home page (the first item of its navigation);
// the file of each role's pages registers it in an init function. A role
// without one gets the generic start page.
var homes = map[bangfu.Role]func(*UI, echo.Context) error{}

// home is the page at /: the login form without a session, else the
// actor's role's home page.
func (ui *UI) home(c echo.Context) error {
	a, ok := bangfu.ActorFrom(request.Context(c))
	if !ok {
		return ui.Login(c, "")
	}
	if h, ok := homes[a.Role]; ok {
		return h(ui, c)
	}
	return ui.start(c)
}

type startData struct {
	Notifications []notify.Notification
}

// start greets the user and shows their unread notifications.
func (ui *UI) start(c echo.Context) error {
	p, err := ui.userPage(c)
	if err != nil {
		return err
	}
	l, err := ui.Notify.List(request.Context(c), p.Actor, true, bangfu.Page{Limit: 20})
	if err != nil {
		return err
	}
	p.Title = p.T("brand.full")
	p.Data = startData{Notifications: l.Items}
	return ui.render(c, http.StatusOK, "home", p)
}
