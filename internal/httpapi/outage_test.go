package httpapi_test

import (
	"fmt"
	"net/http"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/bangfu/bangfu"
	"github.com/bangfu/bangfu/internal/apptest"
	"github.com/bangfu/bangfu/internal/config"
	"github.com/bangfu/bangfu/internal/pgtest"
)

// TestDatabaseOutageIs503: while the database cannot be reached, reads and
// writes are answered 503 with code unavailable and a Retry-After — an
// answer a client can tell from a bug — and /readyz says not ready; when
// it is back, the same process serves again without a restart.
func TestDatabaseOutageIs503(t *testing.T) {
	t.Parallel()
	var proxy *pgtest.Proxy
	env := apptest.New(t, apptest.Options{Config: func(c *config.Config) {
		proxy = pgtest.NewProxy(t, c.DatabaseURL)
		c.DatabaseURL = proxy.URL
	}})
	school := env.MustSchool(t)
	c := env.MustUser(t, bangfu.RoleCounselor, &school.ID)
	token := env.Token(t, c)
	st := env.MustStudent(t, c)
	file := fmt.Sprintf("/api/v1/students/%d", st.ID)
	require.Equal(t, http.StatusOK, env.Get(t, file, token).Status)

	proxy.Down()
	for _, call := range []apptest.Call{
		{Method: http.MethodGet, Path: file, Token: token},
		{Method: http.MethodGet, Path: "/api/v1/students", Token: token},
		{Method: http.MethodPost, Path: file + "/ledger", Token: token, Body: contact("电话联系", "internal", env.Clock.Now())},
		{Method: http.MethodPost, Path: "/api/v1/auth/login", Body: map[string]string{"username": c.Username, "password": apptest.Password}},
	} {
		call.Unchecked = true
		r := env.Do(t, call)
		require.Equal(t, http.StatusServiceUnavailable, r.Status, "%s %s: %s", call.Method, call.Path, r.Body)
		code, _ := r.Error(t)
		require.Equal(t, bangfu.EUNAVAILABLE, code)
		secs, err := strconv.Atoi(r.Header.Get("Retry-After"))
		require.NoError(t, err, "Retry-After")
		require.Positive(t, secs)
	}
	ready := env.Do(t, apptest.Call{Method: http.MethodGet, Path: "/readyz"})
	require.Equal(t, http.StatusServiceUnavailable, ready.Status)

	proxy.Up()
	require.Eventually(t, func() bool {
		return env.Do(t, apptest.Call{Method: http.MethodGet, Path: file, Token: token, Unchecked: true}).Status == http.StatusOK
	}, 20*time.Second, 20*time.Millisecond, "the process serves again once the database is back")
	r := env.Post(t, file+"/ledger", token, contact("恢复后联系", "internal", env.Clock.Now()))
	require.Equal(t, http.StatusCreated, r.Status, "%s", r.Body)
}
