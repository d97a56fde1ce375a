// Package session finds out who is asking: from an API access token
// (Authorization: Bearer) or from a browser session kept in cookies. A
// browser session keeps the access and refresh tokens in HttpOnly,
// SameSite=Strict cookies and refreshes itself; a request that rides such a
// session and changes state must also pass the cross-origin check
// (Sec-Fetch-Site / Origin), so that another site cannot use it (CSRF).
package session

import (
	"net/http"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/bangfu/bangfu"
	"github.com/bangfu/bangfu/internal/auth"
	"github.com/bangfu/bangfu/internal/http/request"
)

// Cookie names.
const (
	AccessCookie  = "bangfu_access"
	RefreshCookie = "bangfu_refresh"
)

// Manager authenticates requests and keeps browser sessions.
type Manager struct {
	Tokens *auth.Tokens
	Auth   *auth.Service
	// RefreshTTL is the refresh cookie's lifetime.
	RefreshTTL time.Duration
}

// Authenticate reads a Bearer token, or else the session cookies, and puts
// the actor in the request context. It rejects nothing but malformed
// headers, bad tokens and cross-origin state changes riding a session: the
// policy check decides the rest.
func (m *Manager) Authenticate(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		h := c.Request().Header.Get(echo.HeaderAuthorization)
		var a bangfu.Actor
		switch {
		case h != "":
			scheme, token, ok := strings.Cut(h, " ")
			if !ok || !strings.EqualFold(scheme, "Bearer") {
				return &bangfu.Error{Code: bangfu.EUNAUTHENTICATED, Message: "The Authorization header must be 'Bearer <access token>'."}
			}
			var err error
			if a, err = m.Tokens.Verify(strings.TrimSpace(token)); err != nil {
				return err
			}
		default:
			var ok bool
			if a, ok = m.fromCookies(c); !ok {
				return next(c)
			}
			if err := CheckCrossOrigin(c); err != nil {
				return err
			}
		}
		a.IP = c.RealIP()
		c.SetRequest(c.Request().WithContext(bangfu.WithActor(c.Request().Context(), a)))
		return next(c)
	}
}

// fromCookies verifies the access cookie; when it is missing or expired and
// a refresh cookie is present, it refreshes the session and sets new
// cookies. It returns false when there is no valid session.
func (m *Manager) fromCookies(c echo.Context) (bangfu.Actor, bool) {
	if ck, err := c.Cookie(AccessCookie); err == nil && ck.Value != "" {
		if a, err := m.Tokens.Verify(ck.Value); err == nil {
			return a, true
		}
	}
	ck, err := c.Cookie(RefreshCookie)
	if err != nil || ck.Value == "" {
		return bangfu.Actor{}, false
	}
	sess, err := m.Auth.Refresh(request.Context(c), ck.Value)
	if err != nil {
		Clear(c)
		return bangfu.Actor{}, false
	}
	m.Set(c, sess)
	a, err := m.Tokens.Verify(sess.AccessToken)
	return a, err == nil
}

// Set stores sess in the browser's cookies.
func (m *Manager) Set(c echo.Context, sess auth.Session) {
	secure := c.Scheme() == "https"
	c.SetCookie(&http.Cookie{Name: AccessCookie, Value: sess.AccessToken, Path: "/", HttpOnly: true, Secure: secure,
		SameSite: http.SameSiteStrictMode, MaxAge: sess.ExpiresIn})
	c.SetCookie(&http.Cookie{Name: RefreshCookie, Value: sess.RefreshToken, Path: "/", HttpOnly: true, Secure: secure,
		SameSite: http.SameSiteStrictMode, MaxAge: int(m.RefreshTTL.Seconds())})
}

// Clear removes the session cookies.
func Clear(c echo.Context) {
	for _, name := range []string{AccessCookie, RefreshCookie} {
		c.SetCookie(&http.Cookie{Name: name, Value: "", Path: "/", HttpOnly: true, SameSite: http.SameSiteStrictMode, MaxAge: -1})
	}
}

// RefreshToken returns the browser's refresh token, if any.
func RefreshToken(c echo.Context) string {
	if ck, err := c.Cookie(RefreshCookie); err == nil {
		return ck.Value
	}
	return ""
}

var crossOrigin = http.NewCrossOriginProtection()

// CheckCrossOrigin refuses a state-changing request that a browser says
// came from another origin.
func CheckCrossOrigin(c echo.Context) error {
	if err := crossOrigin.Check(c.Request()); err != nil {
		return bangfu.Errorf(bangfu.EFORBIDDEN, "Cross-origin request refused.")
	}
	return nil
}
