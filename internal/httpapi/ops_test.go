package httpapi_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/bangfu/bangfu"
	"github.com/bangfu/bangfu/internal/apptest"
	"github.com/bangfu/bangfu/internal/auth"
)

func TestHealthAndReadiness(t *testing.T) {
	t.Parallel()
	env := apptest.New(t)
	require.Equal(t, http.StatusOK, env.Get(t, "/healthz", "").Status)
	require.Equal(t, http.StatusOK, env.Get(t, "/readyz", "").Status)

	// A schema behind the binary is not ready.
	_, err := env.App.DB.Pool.Exec(t.Context(), `DELETE FROM schema_migrations WHERE version = (SELECT max(version) FROM schema_migrations)`)
	require.NoError(t, err)
	r := env.Get(t, "/readyz", "")
	require.Equal(t, http.StatusServiceUnavailable, r.Status)
	require.Equal(t, "database schema is not current", r.Map(t)["reason"])
}

// TestChangedMigrationIsNotReady: a database whose applied migration
// differs from the binary's file (its checksum) is not ready.
func TestChangedMigrationIsNotReady(t *testing.T) {
	t.Parallel()
	env := apptest.New(t)
	require.Equal(t, http.StatusOK, env.Get(t, "/readyz", "").Status)
	_, err := env.App.DB.Pool.Exec(t.Context(), `UPDATE schema_migrations SET checksum = md5(checksum) WHERE version = 1`)
	require.NoError(t, err)
	r := env.Get(t, "/readyz", "")
	require.Equal(t, http.StatusServiceUnavailable, r.Status)
	require.Equal(t, "database schema is not current", r.Map(t)["reason"])
	require.ErrorContains(t, env.App.DB.SchemaCurrent(t.Context()), "0001_identity.sql was changed after it was applied")
}

func TestMetricsAreForAdmins(t *testing.T) {
	t.Parallel()
	env := apptest.New(t)
	school := env.MustSchool(t)
	require.Equal(t, http.StatusUnauthorized, env.Get(t, "/metrics", "").Status)
	require.Equal(t, http.StatusForbidden, env.Get(t, "/metrics", env.Token(t, env.MustUser(t, bangfu.RoleSupervisor, &school.ID))).Status)

	admin := env.Token(t, env.MustUser(t, bangfu.RoleAdmin, nil))
	env.Get(t, "/api/v1/me", admin)
	_, err := env.App.River.Insert(t.Context(), auth.PurgeArgs{}, nil)
	require.NoError(t, err)
	r := env.Get(t, "/metrics", admin)
	require.Equal(t, http.StatusOK, r.Status)
	body := string(r.Body)
	require.Contains(t, body, `bangfu_http_requests_total{method="GET",route="/api/v1/me",status="200"} 1`)
	require.Contains(t, body, "bangfu_http_request_duration_seconds_bucket")
	require.Contains(t, body, "bangfu_db_pool_max_connections 20")
	require.Contains(t, body, "bangfu_audit_read_rows_lost_total 0", "read audits lost (expected 0)")
	require.Contains(t, body, `bangfu_river_jobs{kind="auth_purge",state="available"} 1`)
}

func TestErrorsHideInternals(t *testing.T) {
	t.Parallel()
	env := apptest.New(t)
	r := env.Do(t, apptest.Call{Method: http.MethodGet, Path: "/api/v1/no-such-route", Unchecked: true})
	require.Equal(t, http.StatusNotFound, r.Status)
	code, _ := r.Error(t)
	require.Equal(t, "not_found", code)

	r = env.Do(t, apptest.Call{Method: http.MethodPost, Path: "/api/v1/auth/login", Body: strings.Repeat("x", 13<<20), Unchecked: true})
	require.Equal(t, http.StatusRequestEntityTooLarge, r.Status)
	code, _ = r.Error(t)
	require.Equal(t, "too_large", code)

	r = env.Do(t, apptest.Call{Method: http.MethodPost, Path: "/api/v1/auth/login", Body: `{"username":"a","password":"b"}`, ContentType: "text/plain"})
	require.Equal(t, http.StatusBadRequest, r.Status)
	_, fields := r.Error(t)
	require.Contains(t, fields["body"], "application/json")

	r = env.Get(t, "/api/v1/me", "")
	require.Equal(t, "nosniff", r.Header.Get("X-Content-Type-Options"))
	require.Equal(t, "DENY", r.Header.Get("X-Frame-Options"))
	require.NotEmpty(t, r.Header.Get("X-Request-Id"))
}
