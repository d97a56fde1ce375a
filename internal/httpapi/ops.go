package httpapi

import (
	"context"
	"net/http"
	"strconv"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/bangfu/bangfu/internal/http/request"
	"github.com/bangfu/bangfu/internal/postgres"
)

func (api *API) healthz(c echo.Context) error {
	return c.JSON(http.StatusOK, map[string]string{"status": "ok"})
}

// readyz answers 200 when the database is reachable and its schema is the
// one this binary needs, 503 otherwise.
func (api *API) readyz(c echo.Context) error {
	cctx, cancel := context.WithTimeout(request.Context(c), 3*time.Second)
	defer cancel()
	if err := api.DB.Pool.Ping(cctx); err != nil {
		c.Response().Header().Set("Retry-After", strconv.Itoa(int(postgres.RetryAfter.Seconds())))
		api.Logger.Warn("not ready: database unreachable", "error", err)
		return c.JSON(http.StatusServiceUnavailable, map[string]string{"status": "unavailable", "reason": "database unreachable"})
	}
	if err := api.DB.SchemaCurrent(cctx); err != nil {
		api.Logger.Warn("not ready: schema", "error", err)
		return c.JSON(http.StatusServiceUnavailable, map[string]string{"status": "unavailable", "reason": "database schema is not current"})
	}
	if api.DB.HasReplica() {
		// A replica that is down or behind sends reads to the primary; the
		// process serves either way.
		return c.JSON(http.StatusOK, map[string]any{"status": "ready", "replica": api.DB.Replica()})
	}
	return c.JSON(http.StatusOK, map[string]string{"status": "ready"})
}

func (api *API) jwks(c echo.Context) error {
	c.Response().Header().Set("Cache-Control", "public, max-age=300")
	return c.JSON(http.StatusOK, api.Tokens.JWKS())
}

func (api *API) metricsHandler() echo.HandlerFunc {
	return echo.WrapHandler(promhttp.HandlerFor(api.Metrics, promhttp.HandlerOpts{}))
}
