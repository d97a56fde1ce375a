package web_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/bangfu/bangfu/internal/apptest"
	"github.com/bangfu/bangfu/internal/demo"
)

// TestScreenshotsSupervisor takes the supervisor's ledger review and the
// placement report on a desktop, with the demo data of `make run`, into
// BANGFU_SCREENSHOTS (docs/screenshots with `make
// screenshots`) or a temporary directory.
func TestScreenshotsSupervisor(t *testing.T) {
	t.Parallel()
	env := apptest.New(t)
	ctx := t.Context()
	logins, err := demo.Seed(ctx, env.App)
	require.NoError(t, err)
	var password string
	for _, l := range logins {
		if l.Username == "supervisor" { // the school-wide one
			password = l.Password
		}
	}
	require.NotEmpty(t, password)

	page := tab(t, desktop)
	login(t, page, env.URL, "supervisor", password)
	open(t, page, env, "/review")
	require.Greater(t, count(t, page, "#review-table tbody tr"), 3)
	require.Positive(t, count(t, page, "#review-table tr.internal"), "internal entries are marked")
	screenshot(t, page, "review")
	open(t, page, env, "/reports")
	require.Equal(t, 1, count(t, page, "#by-department svg.chart"))
	screenshot(t, page, "reports")
}
