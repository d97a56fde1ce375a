package webui

import (
	"errors"
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/bangfu/bangfu"
	"github.com/bangfu/bangfu/internal/http/response"
	"github.com/bangfu/bangfu/internal/http/session"
)

const flashCookie = "bangfu_flash"

// flash leaves a message (a catalogue key) for the next page the browser
// shows: "saved", after the redirect that follows a form.
func flash(c echo.Context, key string) {
	c.SetCookie(&http.Cookie{Name: flashCookie, Value: key, Path: "/", HttpOnly: true, SameSite: http.SameSiteStrictMode, MaxAge: 60})
}

func takeFlash(c echo.Context) string {
	ck, err := c.Cookie(flashCookie)
	if err != nil || ck.Value == "" {
		return ""
	}
	c.SetCookie(&http.Cookie{Name: flashCookie, Value: "", Path: "/", HttpOnly: true, SameSite: http.SameSiteStrictMode, MaxAge: -1})
	return ck.Value
}

// done ends a form that went through: the message for the next page, and
// a redirect there (303, so that reloading does not post again).
func done(c echo.Context, flashKey, to string) error {
	if flashKey != "" {
		flash(c, flashKey)
	}
	return c.Redirect(http.StatusSeeOther, to)
}

// postForm checks that a form post comes from this site and parses it.
// Every page handler of a POST calls it first.
func postForm(c echo.Context) error {
	if err := session.CheckCrossOrigin(c); err != nil {
		return err
	}
	_, err := c.FormParams()
	if err != nil {
		return bangfu.Errorf(bangfu.EINVALID, "The form could not be read.")
	}
	return nil
}

// FormProblem reports whether err is a problem the user can fix in the
// form they sent — invalid input, a conflict, a stale edit, a missing
// version — rather than one to show as an error page.
func FormProblem(err error) bool {
	var e *bangfu.Error
	if !errors.As(err, &e) {
		return false
	}
	switch e.Code {
	case bangfu.EINVALID, bangfu.ECONFLICT, bangfu.EPRECONDITIONFAILED, bangfu.EPRECONDITIONREQ, bangfu.ETOOMANYREQUESTS, bangfu.ETOOLARGE:
		return true
	}
	return false
}

// formFailed fills p from err, a FormProblem, for showing the form again:
// the problem of each field in the page's language, a message for the
// form, and the user's input; it returns the status to answer with.
func (ui *UI) formFailed(c echo.Context, p *Page, err error) int {
	var e *bangfu.Error
	errors.As(err, &e)
	p.Form, _ = c.FormParams()
	p.Fields = map[string]string{}
	for f, msg := range e.Fields {
		p.Fields[f] = p.Problem(msg)
	}
	switch {
	case e.Code == bangfu.EPRECONDITIONFAILED:
		p.Error = p.T("form.stale")
	case len(e.Fields) > 0:
		p.Error = p.T("form.invalid")
	default:
		p.Error = p.Problem(e.Message)
	}
	return response.Status(e.Code)
}

// Problem returns a problem or message of the domain in the page's language.
func (p *Page) Problem(msg string) string {
	out, _ := p.problems.translate(msg)
	return out
}
