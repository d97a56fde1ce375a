// Package httpapi is bangfu's JSON API under /api/v1 and its operational
// endpoints (health, readiness, keys, metrics, the job queue's UI). Handlers
// read input with internal/http/request, call a domain service with the
// acting user and encode the result; they hold no business rules.
package httpapi

import (
	"context"
	"log/slog"
	"net/http"

	"github.com/labstack/echo/v4"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/bangfu/bangfu"
	"github.com/bangfu/bangfu/internal/audit"
	"github.com/bangfu/bangfu/internal/auth"
	"github.com/bangfu/bangfu/internal/config"
	"github.com/bangfu/bangfu/internal/destination"
	"github.com/bangfu/bangfu/internal/directory"
	"github.com/bangfu/bangfu/internal/escalation"
	"github.com/bangfu/bangfu/internal/graduate"
	"github.com/bangfu/bangfu/internal/handover"
	"github.com/bangfu/bangfu/internal/http/request"
	"github.com/bangfu/bangfu/internal/http/response"
	"github.com/bangfu/bangfu/internal/http/router"
	"github.com/bangfu/bangfu/internal/ledger"
	"github.com/bangfu/bangfu/internal/notify"
	"github.com/bangfu/bangfu/internal/plan"
	"github.com/bangfu/bangfu/internal/postgres"
	"github.com/bangfu/bangfu/internal/report"
	"github.com/bangfu/bangfu/internal/roster"
	"github.com/bangfu/bangfu/internal/settings"
)

// Deps are the services the API calls.
type Deps struct {
	Config       *config.Config
	Logger       *slog.Logger
	DB           *postgres.DB
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
	Roster       *roster.Service
	Handovers    *handover.Service
	// Metrics is the registry /metrics serves.
	Metrics *prometheus.Registry
	// JobsUI, when set, serves River's UI under /admin/jobs.
	JobsUI http.Handler
	// Receiver, when set (development only), stands in for a 企业微信 bot
	// at POST /dev/webhook/send.
	Receiver *notify.Receiver
}

// API holds the handlers.
type API struct {
	Deps
	r *router.Router
	// receiver is the development webhook receiver (BANGFU_ENV=dev).
	receiver *roster.Receiver
}

// Mount registers every API and operational route on r.
func Mount(r *router.Router, d Deps) {
	(&API{Deps: d, r: r}).routes()
}

// withIDAndBody adapts a service call about the record named by the path's
// :id that takes a JSON body: it reads both, calls, and writes the result
// with status.
func withIDAndBody[In, Out any](status int, call func(context.Context, bangfu.Actor, int64, In) (Out, error)) echo.HandlerFunc {
	return func(c echo.Context) error {
		id, err := request.PathID(c, "id")
		if err != nil {
			return err
		}
		var in In
		if err := request.Bind(c, &in); err != nil {
			return err
		}
		out, err := call(request.Context(c), request.Actor(c), id, in)
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
		id, err := request.PathID(c, "id")
		if err != nil {
			return err
		}
		version, err := request.IfMatch(c)
		if err != nil {
			return err
		}
		var in In
		if err := request.Bind(c, &in); err != nil {
			return err
		}
		out, err := call(request.Context(c), request.Actor(c), id, version, in)
		if err != nil {
			return err
		}
		response.SetETag(c, out.ETagVersion())
		return c.JSON(http.StatusOK, out)
	}
}

// own serves a student's own graduate file through h; an account with no
// file linked has nothing to show (not found).
func own(what string, h func(echo.Context, int64) error) echo.HandlerFunc {
	return func(c echo.Context) error {
		a := request.Actor(c)
		if a.StudentID == nil {
			return bangfu.NotFound(what)
		}
		return h(c, *a.StudentID)
	}
}

// noParams refuses any query parameter.
func noParams(c echo.Context) error {
	_, err := request.Params(c)
	return err
}

// list answers one page of a list: it reads the page (and only the page)
// parameters and calls.
func list[T any](call func(ctx context.Context, a bangfu.Actor, pg bangfu.Page) (bangfu.List[T], error)) echo.HandlerFunc {
	return func(c echo.Context) error {
		q, err := request.Params(c, "limit", "cursor")
		if err != nil {
			return err
		}
		pg := q.Page()
		if err := q.Err(); err != nil {
			return err
		}
		l, err := call(request.Context(c), request.Actor(c), pg)
		if err != nil {
			return err
		}
		return c.JSON(http.StatusOK, l)
	}
}
