package webui

import (
	"errors"
	"net/http"
	"net/url"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/bangfu/bangfu"
	"github.com/bangfu/bangfu/internal/http/request"
	"github.com/bangfu/bangfu/internal/http/response"
	"github.com/bangfu/bangfu/internal/http/session"
)

type loginForm struct {
	Username string
	Next     string
}

// loginPage shows the login form, or sends a logged-in user on.
func (ui *UI) loginPage(c echo.Context) error {
	next := safeNext(c.QueryParam("next"))
	if _, ok := bangfu.ActorFrom(request.Context(c)); ok {
		if next == "" {
			next = "/"
		}
		return c.Redirect(http.StatusSeeOther, next)
	}
	p := ui.newPage(c)
	p.Title = p.T("login.heading")
	p.Data = loginForm{Next: next}
	return ui.render(c, http.StatusOK, "login", p)
}

// login handles the login form: on success it sets the session cookies and
// goes to next; otherwise it shows the form again with the problem and
// what was typed (not the password).
func (ui *UI) login(c echo.Context) error {
	if err := session.CheckCrossOrigin(c); err != nil {
		return err
	}
	p := ui.newPage(c)
	p.Title = p.T("login.heading")
	form := loginForm{Username: strings.TrimSpace(c.FormValue("username")), Next: safeNext(c.FormValue("next"))}
	p.Data = form
	sess, err := ui.Auth.Login(request.Context(c), form.Username, c.FormValue("password"), c.RealIP())
	if err != nil {
		var e *bangfu.Error
		if !errors.As(err, &e) {
			return err
		}
		switch e.Code {
		case bangfu.EINVALID:
			p.Fields = map[string]string{}
			for f := range e.Fields {
				p.Fields[f] = p.T("field.required")
			}
		case bangfu.ETOOMANYREQUESTS:
			p.Error = p.T("login.locked")
		default:
			p.Error = p.T("login.failed")
		}
		return ui.render(c, response.Status(e.Code), "login", p)
	}
	ui.Sessions.Set(c, sess)
	next := form.Next
	if next == "" {
		next = "/"
	}
	return c.Redirect(http.StatusSeeOther, next)
}

// logout ends the session (revoking its refresh token) and returns to the
// login form.
func (ui *UI) logout(c echo.Context) error {
	if err := session.CheckCrossOrigin(c); err != nil {
		return err
	}
	if tok := session.RefreshToken(c); tok != "" {
		if a, ok := bangfu.ActorFrom(request.Context(c)); ok {
			if err := ui.Auth.Logout(request.Context(c), a, tok); err != nil {
				return err
			}
		}
	}
	session.Clear(c)
	return c.Redirect(http.StatusSeeOther, "/login")
}

// safeNext keeps a post-login redirect on this site.
func safeNext(next string) string {
	u, err := url.Parse(next)
	if err != nil || next == "" || u.IsAbs() || u.Host != "" || !strings.HasPrefix(u.Path, "/") || strings.HasPrefix(next, "//") ||
		strings.HasPrefix(u.Path, "/login") || strings.Contains(next, "\\") {
		return ""
	}
	return u.RequestURI()
}
