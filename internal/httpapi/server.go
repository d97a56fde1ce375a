// Package httpapi is the HTTP edge of bangfu: the Echo router, its
// middleware, the JSON API under /api/v1 and the operational endpoints.
// Handlers decode input, call a domain service with the acting user and
// encode the result; they hold no business rules.
package httpapi

import (
	"context"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/bangfu/bangfu"
	"github.com/bangfu/bangfu/internal/audit"
	"github.com/bangfu/bangfu/internal/auth"
	"github.com/bangfu/bangfu/internal/config"
	"github.com/bangfu/bangfu/internal/destination"
	"github.com/bangfu/bangfu/internal/directory"
	"github.com/bangfu/bangfu/internal/escalation"
	"github.com/bangfu/bangfu/internal/graduate"
	"github.com/bangfu/bangfu/internal/ledger"
	"github.com/bangfu/bangfu/internal/notify"
	"github.com/bangfu/bangfu/internal/plan"
	"github.com/bangfu/bangfu/internal/policy"
	"github.com/bangfu/bangfu/internal/postgres"
	"github.com/bangfu/bangfu/internal/report"
	"github.com/bangfu/bangfu/internal/settings"
)

// Deps are the services the HTTP layer calls.
type Deps struct {
	Config       *config.Config
	Logger       *slog.Logger
	DB           *postgres.DB
	Clock        bangfu.Clock
	Tokens       *auth.Tokens
	Auth         *auth.Service
	Directory    *directory.Service
	Graduates    *graduate.Service
	Plans        *plan.Service
	Ledger       *ledger.Service
	Destinations *destination.Service
	Audit        *audit.Service
	Settings     *settings.Store
	Notify       *notify.Service
	Escalations  *escalation.Service
	Reports      *report.Service
	// Metrics is the registry /metrics serves; the server adds its own
	// request metrics to it.
	Metrics *prometheus.Registry
	// JobsUI, when set, serves River's UI under /admin/jobs.
	JobsUI http.Handler
}

// Server is the configured router.
type Server struct {
	Deps
	e       *echo.Echo
	log     *slog.Logger
	actions map[string]policy.Action
	metrics *httpMetrics
}

// New builds the router with every route and middleware.
func New(d Deps) *Server {
	s := &Server{Deps: d, e: echo.New(), log: d.Logger, actions: map[string]policy.Action{}}
	e := s.e
	e.HideBanner, e.HidePort = true, true
	e.HTTPErrorHandler = s.handleError
	e.IPExtractor = ipExtractor(d.Config)
	s.metrics = newHTTPMetrics(d.Metrics)

	e.Use(middleware.RequestID())
	e.Use(s.accessLog)
	e.Use(middleware.RecoverWithConfig(middleware.RecoverConfig{
		DisableStackAll: true,
		LogErrorFunc: func(c echo.Context, err error, stack []byte) error {
			s.log.Error("panic", "request_id", requestID(c), "error", err, "stack", string(stack))
			return err
		},
	}))
	e.Use(middleware.SecureWithConfig(middleware.SecureConfig{
		XSSProtection:         "0",
		ContentTypeNosniff:    "nosniff",
		XFrameOptions:         "DENY",
		ReferrerPolicy:        "no-referrer",
		ContentSecurityPolicy: "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'",
	}))
	e.Use(middleware.BodyLimit(d.Config.BodyLimit))
	e.Use(middleware.ContextTimeoutWithConfig(middleware.ContextTimeoutConfig{Timeout: d.Config.RequestTimeout}))
	e.Use(s.authenticate)

	s.routes()
	return s
}

// Handler returns the server as an http.Handler.
func (s *Server) Handler() http.Handler { return s.e }

// Route is a registered route and the action it needs.
type Route struct {
	Method, Path string
	Action       policy.Action
}

// Routes lists every route with its action. Routes Echo knows but that were
// not registered through handle (there should be none) have an empty Action.
func (s *Server) Routes() []Route {
	var out []Route
	for _, r := range s.e.Routes() {
		out = append(out, Route{Method: r.Method, Path: r.Path, Action: s.actions[r.Method+" "+r.Path]})
	}
	return out
}

// handle registers h for method and path behind the policy check for action.
func (s *Server) handle(method, path string, action policy.Action, h echo.HandlerFunc) {
	if !policy.Known(action) {
		panic("route " + method + " " + path + " names unknown action " + string(action))
	}
	s.actions[method+" "+path] = action
	s.e.Add(method, path, h, s.authorize(action))
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

// authenticate reads a Bearer token, or else the browser session cookies,
// and puts the actor in the request context. It rejects nothing but
// malformed headers and cross-origin state changes riding a session:
// authorize decides the rest.
func (s *Server) authenticate(next echo.HandlerFunc) echo.HandlerFunc {
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
			if a, err = s.Tokens.Verify(strings.TrimSpace(token)); err != nil {
				return err
			}
		default:
			var ok bool
			if a, ok = s.sessionFromCookies(c); !ok {
				return next(c)
			}
			if err := checkCrossOrigin(c); err != nil {
				return err
			}
		}
		a.IP = c.RealIP()
		c.SetRequest(c.Request().WithContext(bangfu.WithActor(c.Request().Context(), a)))
		return next(c)
	}
}

// authorize refuses the request unless its actor's role may do action.
// Browsers navigating to a page get the login form or a forbidden page.
func (s *Server) authorize(action policy.Action) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			if action == policy.Public {
				return next(c)
			}
			a, ok := bangfu.ActorFrom(c.Request().Context())
			switch {
			case !ok && wantsHTML(c):
				return s.pageError(c, bangfu.EUNAUTHENTICATED)
			case !ok:
				return &bangfu.Error{Code: bangfu.EUNAUTHENTICATED, Message: "Log in first: this needs an access token."}
			case !policy.Allowed(a.Role, action) && wantsHTML(c):
				return s.pageError(c, bangfu.EFORBIDDEN)
			case !policy.Allowed(a.Role, action):
				return bangfu.Errorf(bangfu.EFORBIDDEN, "Your role (%s) may not do this.", a.Role)
			}
			return next(c)
		}
	}
}

// actor returns the authenticated actor of c. Routes behind authorize
// always have one.
func actor(c echo.Context) bangfu.Actor {
	a, _ := bangfu.ActorFrom(c.Request().Context())
	return a
}

func ctx(c echo.Context) context.Context { return c.Request().Context() }

// accessLog logs one line per request: no bodies, no query strings (they
// may hold names), no headers.
func (s *Server) accessLog(next echo.HandlerFunc) echo.HandlerFunc {
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
		s.metrics.observe(c.Request().Method, route, status, elapsed)
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
		s.log.Log(c.Request().Context(), level, "request", attrs...)
		return nil
	}
}

func pathID(c echo.Context, name string) (int64, error) {
	id, err := strconv.ParseInt(c.Param(name), 10, 64)
	if err != nil || id <= 0 {
		return 0, bangfu.NotFound(strings.TrimSuffix(name, "_id"))
	}
	return id, nil
}

func page(c echo.Context) (bangfu.Page, error) {
	return bangfu.ParsePage(c.QueryParam("limit"), c.QueryParam("cursor"))
}

// withIDAndBody adapts a service call about the record named by the path's
// :id that takes a JSON body: it reads both, calls, and writes the result
// with status.
func withIDAndBody[In, Out any](status int, call func(context.Context, bangfu.Actor, int64, In) (Out, error)) echo.HandlerFunc {
	return func(c echo.Context) error {
		id, err := pathID(c, "id")
		if err != nil {
			return err
		}
		var in In
		if err := bind(c, &in); err != nil {
			return err
		}
		out, err := call(ctx(c), actor(c), id, in)
		if err != nil {
			return err
		}
		return c.JSON(status, out)
	}
}

// versioned is a record whose version is its ETag.
type versioned interface{ ETagVersion() int }

// patchVersioned adapts a versioned update of the record named by the
// path's :id: it reads the id, the version from If-Match (428 without) and
// the JSON body, calls, and answers the new record with its ETag.
func patchVersioned[In any, Out versioned](call func(context.Context, bangfu.Actor, int64, int, In) (Out, error)) echo.HandlerFunc {
	return func(c echo.Context) error {
		id, err := pathID(c, "id")
		if err != nil {
			return err
		}
		version, err := ifMatch(c)
		if err != nil {
			return err
		}
		var in In
		if err := bind(c, &in); err != nil {
			return err
		}
		out, err := call(ctx(c), actor(c), id, version, in)
		if err != nil {
			return err
		}
		setETag(c, out.ETagVersion())
		return c.JSON(http.StatusOK, out)
	}
}
