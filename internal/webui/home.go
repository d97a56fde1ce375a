package webui

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/bangfu/bangfu"
	"github.com/bangfu/bangfu/internal/http/request"
	"github.com/bangfu/bangfu/internal/notify"
)

type homeData struct {
	Notifications []notify.Notification
}

// home is each role's start page; without a session, the login form.
func (ui *UI) home(c echo.Context) error {
	a, ok := bangfu.ActorFrom(request.Context(c))
	if !ok {
		return ui.Login(c, "")
	}
	p, err := ui.userPage(c)
	if err != nil {
		return err
	}
	l, err := ui.Notify.List(request.Context(c), a, true, bangfu.Page{Limit: 20})
	if err != nil {
		return err
	}
	p.Title = p.T("brand.full")
	p.Data = homeData{Notifications: l.Items}
	return ui.render(c, http.StatusOK, "home", p)
}
