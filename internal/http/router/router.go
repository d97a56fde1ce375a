// Package router is the one HTTP router of a bangfu process: Echo with its
// middleware, and a registry in which every route names the policy action it
// needs. The JSON API (internal/httpapi) and the pages (internal/webui)
// mount their routes on it; the wiring (internal/app) builds it. A route
// cannot be registered without an action, and Routes lists each with its
// action so that a test can check every route against the policy.
package router

import (
	"errors"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/bangfu/bangfu"
	"github.com/bangfu/bangfu/internal/config"
	"github.com/bangfu/bangfu/internal/http/response"
	"github.com/bangfu/bangfu/internal/http/session"
	"github.com/bangfu/bangfu/internal/policy"
)

// Kind says who a route answers: programs (JSON) or browsers (pages).
type Kind int

// Route kinds.
const (
	// API routes answer JSON, errors in the envelope.
	API Kind = iota
	// Page routes answer HTML to a browser: a request without a session
	// goes to the login form and back, a refused or failed one gets an
	// error page. A client that does not accept HTML gets JSON as for API.
	Page
)

// Route is a registered route and the action it needs.
type Route struct {
	Method, Path string
	Action       policy.Action
	Kind         Kind
}

// PageErrors renders errors for browsers; the pages package provides it.
type PageErrors interface {
	// Login sends the browser to the login form, to come back to next.
	Login(c echo.Context, next string) error
	// Error renders p as a page.
	Error(c echo.Context, p response.Problem) error
}

// Router is the process's router.
type Router struct {
	e      *echo.Echo
	log    *slog.Logger
	routes map[string]Route
	// Pages renders errors of page routes; until it is set they are JSON.
	Pages PageErrors
	// Classify, when set, translates an error of the storage edge before it
	// is described (the wiring sets postgres.DB.Classify, which turns an
	// unreachable database into unavailable).
	Classify func(error) error
	metrics  *httpMetrics
}

// New builds the router with its middleware, outermost first: request ID,
// access log and metrics, recover, secure headers (a strict
// Content-Security-Policy: no inline script), body limit, request timeout,
// authentication.
func New(cfg *config.Config, log *slog.Logger, sessions *session.Manager, reg *prometheus.Registry) *Router {
	r := &Router{e: echo.New(), log: log, routes: map[string]Route{}, metrics: newHTTPMetrics(reg)}
	e := r.e
	e.HideBanner, e.HidePort = true, true
	e.HTTPErrorHandler = r.handleError
	e.IPExtractor = ipExtractor(cfg)

	e.Use(middleware.RequestID())
	e.Use(r.accessLog)
	e.Use(middleware.RecoverWithConfig(middleware.RecoverConfig{
		DisableStackAll: true,
		LogErrorFunc: func(c echo.Context, err error, stack []byte) error {
			r.log.Error("panic", "request_id", requestID(c), "error", err, "stack", string(stack))
			return err
		},
	}))
	e.Use(middleware.SecureWithConfig(middleware.SecureConfig{
		XSSProtection:         "0",
		ContentTypeNosniff:    "nosniff",
		XFrameOptions:         "DENY",
		ReferrerPolicy:        "same-origin",
		ContentSecurityPolicy: "default-src 'self'; script-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'; object-src 'none'",
	}))
	e.Use(middleware.BodyLimit(cfg.BodyLimit))
	e.Use(middleware.ContextTimeoutWithConfig(middleware.ContextTimeoutConfig{Timeout: cfg.RequestTimeout}))
	e.Use(sessions.Authenticate)
	return r
}

// Handler returns the router as an http.Handler.
func (r *Router) Handler() http.Handler { return r.e }

// Handle registers an API route: h answers method and path behind the
// policy check for action.
func (r *Router) Handle(method, path string, action policy.Action, h echo.HandlerFunc) {
	r.add(Route{Method: method, Path: path, Action: action, Kind: API}, h)
}

// Page registers a page route; see Page.
func (r *Router) Page(method, path string, action policy.Action, h echo.HandlerFunc) {
	r.add(Route{Method: method, Path: path, Action: action, Kind: Page}, h)
}

func (r *Router) add(rt Route, h echo.HandlerFunc) {
	if !policy.Known(rt.Action) {
		panic("route " + rt.Method + " " + rt.Path + " names unknown action " + string(rt.Action))
	}
	key := rt.Method + " " + rt.Path
	if _, dup := r.routes[key]; dup {
		panic("route " + key + " registered twice")
	}
	r.routes[key] = rt
	r.e.Add(rt.Method, rt.Path, h, r.authorize(rt))
}

// Routes lists every route Echo knows with its action. A route Echo knows
// that was not registered through Handle or Page (there should be none)
// has an empty Action.
func (r *Router) Routes() []Route {
	var out []Route
	for _, er := range r.e.Routes() {
		rt, ok := r.routes[er.Method+" "+er.Path]
		if !ok {
			rt = Route{Method: er.Method, Path: er.Path}
		}
		out = append(out, rt)
	}
	return out
}

// authorize refuses the request unless its actor's role may do the route's
// action. Browsers on a page route go to the login form when they have no
// session, and get a forbidden page when refused.
func (r *Router) authorize(rt Route) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			if rt.Action == policy.Public {
				return next(c)
			}
			a, ok := bangfu.ActorFrom(c.Request().Context())
			switch {
			case !ok && r.forBrowser(c):
				return r.Pages.Login(c, c.Request().URL.RequestURI())
			case !ok:
				return &bangfu.Error{Code: bangfu.EUNAUTHENTICATED, Message: "Log in first: this needs an access token."}
			case !policy.Allowed(a.Role, rt.Action):
				return bangfu.Errorf(bangfu.EFORBIDDEN, "Your role (%s) may not do this.", a.Role)
			}
			return next(c)
		}
	}
}

// forBrowser reports whether c is a browser on a page route (or on no
// route at all) that pages can answer.
func (r *Router) forBrowser(c echo.Context) bool {
	if r.Pages == nil || !WantsHTML(c) {
		return false
	}
	rt, ok := r.routes[c.Request().Method+" "+c.Path()]
	return !ok || rt.Kind == Page
}

// WantsHTML reports whether the client is a browser navigating to a page.
func WantsHTML(c echo.Context) bool {
	return strings.Contains(c.Request().Header.Get("Accept"), "text/html")
}

// handleError is Echo's error handler: the JSON envelope for programs, an
// error page for browsers on page routes. Unexpected errors are logged
// with the request ID; clients see only "internal".
func (r *Router) handleError(err error, c echo.Context) {
	if c.Response().Committed {
		return
	}
	if r.Classify != nil {
		err = r.Classify(err)
	}
	p := response.Describe(err)
	switch {
	case p.Unexpected:
		r.log.Error("request failed", "request_id", requestID(c), "route", c.Path(), "error", err)
	case p.Detail.Code == bangfu.EUNAVAILABLE:
		r.log.Warn("request failed: unavailable", "request_id", requestID(c), "route", c.Path(), "error", errors.Unwrap(err))
	}
	var werr error
	if r.forBrowser(c) {
		werr = r.Pages.Error(c, p)
	} else {
		werr = response.WriteError(c, p)
	}
	if werr != nil {
		r.log.Debug("write error response", "error", werr)
	}
}

// LoginURL is where a browser without a session is sent to come back to next.
func LoginURL(next string) string {
	if next == "" || next == "/" {
		return "/login"
	}
	return "/login?next=" + url.QueryEscape(next)
}

func ipExtractor(c *config.Config) echo.IPExtractor {
	if len(c.TrustedProxies) == 0 {
		return echo.ExtractIPDirect()
	}
	opts := []echo.TrustOption{echo.TrustLoopback(false), echo.TrustLinkLocal(false), echo.TrustPrivateNet(false)}
	for _, n := range c.TrustedProxies {
		opts = append(opts, echo.TrustIPRange(n))
	}
	return echo.ExtractIPFromXFFHeader(opts...)
}

// accessLog logs one line per request: no bodies, no query strings (they
// may hold names), no headers.
func (r *Router) accessLog(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		start := time.Now()
		err := next(c)
		if err != nil {
			c.Error(err)
		}
		route := c.Path()
		if route == "" {
			route = "unmatched"
		}
		status := c.Response().Status
		elapsed := time.Since(start)
		r.metrics.observe(c.Request().Method, route, status, elapsed)
		attrs := []any{
			"request_id", requestID(c), "method", c.Request().Method, "route", route,
			"status", status, "duration_ms", float64(elapsed.Microseconds()) / 1000, "ip", c.RealIP(),
		}
		if a, ok := bangfu.ActorFrom(c.Request().Context()); ok {
			attrs = append(attrs, "user_id", a.UserID)
		}
		level := slog.LevelInfo
		if status >= 500 {
			level = slog.LevelError
		}
		r.log.Log(c.Request().Context(), level, "request", attrs...)
		return nil
	}
}

func requestID(c echo.Context) string {
	return c.Response().Header().Get(echo.HeaderXRequestID)
}
