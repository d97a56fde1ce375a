package web_test

import (
	"fmt"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/require"

	"github.com/bangfu/bangfu/internal/apptest"
	"github.com/bangfu/bangfu/internal/demo"
)

// TestScreenshotsRoster takes the pictures of the 宏志助航 roster and of a
// hand-over from the demo data of `make run` — the admin's open cohort
// (two schools' quotas, a waitlist), the base staff's home on a phone, a
// file handed over to the employment service — into BANGFU_SCREENSHOTS
// (docs/screenshots with `make screenshots`) or a temporary directory,
// each page checked with axe-core.
func TestScreenshotsRoster(t *testing.T) {
	t.Parallel()
	env := apptest.New(t)
	ctx := t.Context()
	logins, err := demo.Seed(ctx, env.App)
	require.NoError(t, err)
	pw := map[string]string{}
	for _, l := range logins {
		pw[l.Username] = l.Password
	}
	var cohortID, handedOver int64
	require.NoError(t, env.App.DB.Pool.QueryRow(ctx, `SELECT id FROM cohorts WHERE name = $1`, demo.OpenCohort).Scan(&cohortID))
	require.NoError(t, env.App.DB.Pool.QueryRow(ctx, `SELECT student_id FROM handovers ORDER BY id LIMIT 1`).Scan(&handedOver))

	desk := tab(t, desktop)
	login(t, desk, env.URL, "admin", pw["admin"])
	visit(t, desk, env, "/cohorts", "#cohorts")
	accessible(t, desk)
	visit(t, desk, env, fmt.Sprintf("/cohorts/%d", cohortID), "#roster")
	require.Equal(t, 2, count(t, desk, "#quotas tbody tr"), "two schools share the places")
	require.Positive(t, count(t, desk, `#roster tr[data-status="waitlisted"]`), "with a waitlist")
	accessible(t, desk)
	screenshot(t, desk, "roster-cohort")

	small := tab(t, phone)
	login(t, small, env.URL, "supervisor", pw["supervisor"])
	visit(t, small, env, fmt.Sprintf("/cohorts/%d", cohortID), "#roster")
	accessible(t, small)
	screenshot(t, small, "roster-cohort-phone")

	mobile := tab(t, phone)
	login(t, mobile, env.URL, "base", pw["base"])
	require.NoError(t, chromedp.Do(mobile, chromedp.WaitVisible("#base-home-heading")))
	require.Positive(t, count(t, mobile, "table.roster tbody tr"), "the confirmed trainees")
	accessible(t, mobile)
	screenshot(t, mobile, "roster-base-phone")

	file := tab(t, desktop)
	login(t, file, env.URL, "counselor", pw["counselor"])
	visit(t, file, env, fmt.Sprintf("/students/%d", handedOver), "#handovers")
	require.Contains(t, text(t, file, "#student-status"), "已移交")
	accessible(t, file)
	screenshot(t, file, "handover-file")
}
