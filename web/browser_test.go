package web_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/require"

	"github.com/bangfu/bangfu"
	"github.com/bangfu/bangfu/internal/apptest"
)

// browser is one headless Chromium shared by the package's tests; each
// test gets its own incognito browser context, so cookies never mix.
var browser context.Context

func TestMain(m *testing.M) {
	path := os.Getenv("BANGFU_CHROMIUM")
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if path != "" {
			break
		}
		path, _ = exec.LookPath(name)
	}
	if path == "" {
		fmt.Fprintln(os.Stderr, "web tests need Chromium: run `make test` (it installs Debian's chromium) or set BANGFU_CHROMIUM")
		os.Exit(1)
	}
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(path), chromedp.NoSandbox, chromedp.Flag("disable-gpu", true),
		chromedp.Flag("disable-quic", true), chromedp.Flag("disable-component-update", true),
		// A browser in China: Chinese is what its user reads.
		chromedp.Flag("lang", "zh-CN"), chromedp.Flag("accept-lang", "zh-CN,zh"))
	alloc, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	b, cancelBrowser := chromedp.NewContext(alloc)
	if err := chromedp.Do(b); err != nil {
		fmt.Fprintln(os.Stderr, "start Chromium:", err)
		os.Exit(1)
	}
	browser = b
	code := m.Run()
	cancelBrowser()
	cancelAlloc()
	os.Exit(code)
}

// tab opens a fresh incognito tab for t.
func tab(t *testing.T) context.Context {
	t.Helper()
	ctx, cancel := chromedp.NewContext(browser, chromedp.WithNewBrowserContext())
	t.Cleanup(cancel)
	ctx, cancelTimeout := context.WithTimeout(ctx, 60*time.Second)
	t.Cleanup(cancelTimeout)
	return ctx
}

func loginWith(base, username, password string) chromedp.Action[chromedp.Void] {
	return chromedp.Steps(
		chromedp.Navigate(base+"/"),
		chromedp.WaitVisible("#login-form"),
		chromedp.SendKeys("#username", username),
		chromedp.SendKeys("#password", password),
		chromedp.Click("#login-submit"),
	)
}

// text reads the text of the first element matching sel.
func text(t *testing.T, ctx context.Context, sel string) string {
	t.Helper()
	s, err := chromedp.Run(ctx, chromedp.Text(sel))
	require.NoError(t, err)
	return strings.TrimSpace(s)
}

func TestLoginPage(t *testing.T) {
	t.Parallel()
	env := apptest.New(t)
	school := env.MustSchool(t)
	u := env.MustUser(t, bangfu.RoleCounselor, &school.ID)
	ctx := tab(t)

	require.NoError(t, chromedp.Do(ctx,
		loginWith(env.URL, u.Username, "wrong password"),
		chromedp.WaitVisible("#login-error"),
	))
	require.Equal(t, "登录", text(t, ctx, "h1"), "the UI speaks Chinese by default")
	require.Equal(t, "用户名或密码错误。", text(t, ctx, "#login-error"), "the problem is shown in the form")
	username, err := chromedp.Run(ctx, chromedp.Value("#username"))
	require.NoError(t, err)
	require.Equal(t, u.Username, username, "what was typed is kept")

	require.NoError(t, chromedp.Do(ctx,
		chromedp.SendKeys("#password", apptest.Password),
		chromedp.Click("#login-submit"),
		chromedp.WaitVisible("#greeting"),
	))
	require.Contains(t, text(t, ctx, "#greeting"), "您好")
	require.Equal(t, "辅导员", text(t, ctx, "#role"))

	require.NoError(t, chromedp.Do(ctx, chromedp.Navigate(env.URL+"/?lang=en"), chromedp.WaitVisible("#greeting")))
	require.Equal(t, "Counselor", text(t, ctx, "#role"), "English on request")
}

func TestJobsUIIsForAdminsOnly(t *testing.T) {
	t.Parallel()
	env := apptest.New(t)
	school := env.MustSchool(t)
	admin := env.MustUser(t, bangfu.RoleAdmin, nil)
	counselor := env.MustUser(t, bangfu.RoleCounselor, &school.ID)

	// Not logged in: the jobs page sends the browser to the login form and back.
	ctx := tab(t)
	require.NoError(t, chromedp.Do(ctx,
		chromedp.Navigate(env.URL+"/admin/jobs"),
		chromedp.WaitVisible("#login-form"),
		chromedp.SendKeys("#username", admin.Username),
		chromedp.SendKeys("#password", apptest.Password),
		chromedp.Click("#login-submit"),
		chromedp.WaitReady("#root > *"),
	))
	title, err := chromedp.Run(ctx, chromedp.Title())
	require.NoError(t, err)
	require.Equal(t, "River", title, "River's UI is served to the admin")
	location, err := chromedp.Run(ctx, chromedp.Location())
	require.NoError(t, err)
	require.True(t, strings.HasPrefix(location, env.URL+"/admin/jobs"), "back where the admin wanted to go: %s", location)
	// The UI's own API answers the admin's session.
	require.NoError(t, chromedp.Do(ctx, chromedp.Navigate(env.URL+"/admin/jobs/api/jobs?state=available&limit=5")))
	require.Contains(t, text(t, ctx, "body"), `"data"`)

	// A counselor is refused.
	other := tab(t)
	require.NoError(t, chromedp.Do(other,
		loginWith(env.URL, counselor.Username, apptest.Password),
		chromedp.WaitVisible("#greeting"),
		chromedp.Navigate(env.URL+"/admin/jobs"),
		chromedp.WaitVisible("#error-heading"),
	))
	require.Equal(t, "无权访问", text(t, other, "#error-heading"))
}

// TestSessionRefusesCrossOriginWrites checks the CSRF defence on cookie
// sessions, including River UI's own API: a state-changing request that a
// browser marks cross-site is refused; the same request from the page's
// own origin passes.
func TestSessionRefusesCrossOriginWrites(t *testing.T) {
	t.Parallel()
	env := apptest.New(t)
	admin := env.MustUser(t, bangfu.RoleAdmin, nil)
	jar, err := cookiejar.New(nil)
	require.NoError(t, err)
	client := &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := client.PostForm(env.URL+"/login", url.Values{"username": {admin.Username}, "password": {apptest.Password}})
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusSeeOther, resp.StatusCode)

	post := func(site string) int {
		req, err := http.NewRequest(http.MethodPost, env.URL+"/admin/jobs/api/jobs/cancel", strings.NewReader(`{"ids":["1"]}`))
		require.NoError(t, err)
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Sec-Fetch-Site", site)
		resp, err := client.Do(req)
		require.NoError(t, err)
		resp.Body.Close()
		return resp.StatusCode
	}
	require.Equal(t, http.StatusForbidden, post("cross-site"))
	require.NotEqual(t, http.StatusForbidden, post("same-origin"))

	req, err := http.NewRequest(http.MethodPost, env.URL+"/logout", nil)
	require.NoError(t, err)
	req.Header.Set("Origin", "https://evil.example")
	resp, err = client.Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusForbidden, resp.StatusCode, "an Origin of another site is refused too")
}
