package web_test

import (
	"fmt"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/require"

	"github.com/bangfu/bangfu/internal/apptest"
	"github.com/bangfu/bangfu/internal/demo"
)

// TestScreenshots takes the counselor's pictures of the README from the demo
// data, logged in as the demo counselor: `make screenshots` runs every test
// named …Screenshots… with BANGFU_SCREENSHOTS=docs/screenshots; the suite
// runs them too (into a temporary directory), so they cannot rot.
func TestScreenshots(t *testing.T) {
	t.Parallel()
	env := apptest.New(t)
	logins, err := demo.Seed(t.Context(), env.App)
	require.NoError(t, err)
	pw := map[string]string{}
	for _, l := range logins {
		pw[l.Username] = l.Password
	}
	student, err := env.App.Directory.UserByUsername(t.Context(), "student")
	require.NoError(t, err)
	file := fmt.Sprintf("%s/students/%d", env.URL, *student.StudentID)

	desk := tab(t, desktop)
	login(t, desk, env.URL, "counselor", pw["counselor"])
	require.NoError(t, chromedp.Do(desk, chromedp.WaitVisible("#caseload")))
	accessible(t, desk)
	screenshot(t, desk, "counselor-workbench")
	require.NoError(t, chromedp.Do(desk, chromedp.Navigate(file), chromedp.WaitVisible("#timeline")))
	accessible(t, desk)
	screenshot(t, desk, "graduate-file-desktop")

	mobile := tab(t, phone)
	login(t, mobile, env.URL, "counselor", pw["counselor"])
	require.NoError(t, chromedp.Do(mobile, chromedp.WaitVisible("#caseload")))
	accessible(t, mobile)
	require.NoError(t, chromedp.Do(mobile, chromedp.Navigate(file), chromedp.WaitVisible("#timeline")))
	accessible(t, mobile)
	screenshot(t, mobile, "graduate-file-phone")
	require.NoError(t, chromedp.Do(mobile, chromedp.Navigate(file+"/ledger/new"), chromedp.WaitVisible("#entry-form")))
	accessible(t, mobile)
	screenshot(t, mobile, "log-contact-phone")
}
