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
	p, err := ui.userPage(c, a)
	if err != nil {
		return err
	}
	l, err := ui.Notify.List(request.Context(c), a, true, bangfu.Page{Limit: 20})
	if err != nil {
		return err
	}
	p.Title = p.T("title")
	p.Data = homeData{Notifications: l.Items}
	return ui.render(c, http.StatusOK, "home", p)
}

// userPage starts a page for the logged-in actor a.
func (ui *UI) userPage(c echo.Context, a bangfu.Actor) (*Page, error) {
	u, err := ui.Directory.User(request.Context(c), a.UserID)
	if err != nil {
		return nil, err
	}
	p := ui.newPage(c)
	p.User = &u
	return p, nil
}
