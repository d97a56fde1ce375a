package web_test

import (
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"

	"github.com/bangfu/bangfu"
	"github.com/bangfu/bangfu/internal/apptest"
	"github.com/bangfu/bangfu/internal/notify"
)

func TestLoginPage(t *testing.T) {
	t.Parallel()
	env := apptest.New(t)
	school := env.MustSchool(t)
	u := env.MustUser(t, bangfu.RoleCounselor, &school.ID)
	ctx := tab(t, phone)

	require.NoError(t, chromedp.Do(ctx,
		chromedp.Navigate(env.URL+"/"),
		chromedp.WaitVisible("#login-form"),
		chromedp.SendKeys("#username", u.Username),
		chromedp.SendKeys("#password", "wrong password"),
		chromedp.Click("#login-submit"),
		chromedp.WaitVisible("#login-error"),
	))
	require.Equal(t, "登录", text(t, ctx, "h1"), "the UI speaks Chinese by default")
	require.Equal(t, "用户名或密码错误。", text(t, ctx, "#login-error"), "the problem is shown in the form")
	username, err := chromedp.Run(ctx, chromedp.Value("#username"))
	require.NoError(t, err)
	require.Equal(t, u.Username, username, "what was typed is kept")
	accessible(t, ctx)

	require.NoError(t, chromedp.Do(ctx,
		chromedp.SendKeys("#password", apptest.Password),
		chromedp.Click("#login-submit"),
		chromedp.WaitVisible("#logout"),
	))
	require.Contains(t, text(t, ctx, "nav.main"), "工作台", "a counselor's navigation")

	require.NoError(t, chromedp.Do(ctx, chromedp.Click("#lang-switch"), chromedp.WaitVisible("#logout")))
	require.Equal(t, "Log out", text(t, ctx, "#logout"), "English by the switch on every page")
	require.NoError(t, chromedp.Do(ctx, chromedp.Navigate(env.URL+"/notifications"), chromedp.WaitVisible("#logout")))
	require.Equal(t, "Log out", text(t, ctx, "#logout"), "and the choice is remembered")
	require.NoError(t, chromedp.Do(ctx, chromedp.Click("#lang-switch"), chromedp.WaitVisible("#logout")))
	require.Equal(t, "退出登录", text(t, ctx, "#logout"))
}

// TestExpiredSessionReturnsToThePage: a browser whose session is gone is
// sent to the login form and, once logged in, back to the page it was on.
func TestExpiredSessionReturnsToThePage(t *testing.T) {
	t.Parallel()
	env := apptest.New(t)
	school := env.MustSchool(t)
	u := env.MustUser(t, bangfu.RoleCounselor, &school.ID)
	ctx := tab(t, desktop)
	require.NoError(t, chromedp.Do(ctx,
		chromedp.Navigate(env.URL+"/notifications?unread=true"),
		chromedp.WaitVisible("#login-form"),
		chromedp.SendKeys("#username", u.Username),
		chromedp.SendKeys("#password", apptest.Password),
		chromedp.Click("#login-submit"),
		chromedp.WaitVisible("#logout"),
	))
	require.Equal(t, env.URL+"/notifications?unread=true", location(t, ctx))
}

func TestJobsUIIsForAdminsOnly(t *testing.T) {
	t.Parallel()
	env := apptest.New(t)
	school := env.MustSchool(t)
	admin := env.MustUser(t, bangfu.RoleAdmin, nil)
	counselor := env.MustUser(t, bangfu.RoleCounselor, &school.ID)

	// Not logged in: the jobs page sends the browser to the login form and back.
	ctx := tab(t, desktop)
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
	require.True(t, strings.HasPrefix(location(t, ctx), env.URL+"/admin/jobs"), "back where the admin wanted to go")
	// The UI's own API answers the admin's session.
	require.NoError(t, chromedp.Do(ctx, chromedp.Navigate(env.URL+"/admin/jobs/api/jobs?state=available&limit=5")))
	require.Contains(t, text(t, ctx, "body"), `"data"`)

	// A counselor is refused.
	other := tab(t, desktop)
	loginAs(t, other, env, counselor)
	require.NoError(t, chromedp.Do(other, chromedp.Navigate(env.URL+"/admin/jobs"), chromedp.WaitVisible("#error-heading")))
	require.Equal(t, "无权访问", text(t, other, "#error-heading"))
	accessible(t, other)
}

// TestInbox: the unread count in the header, a notification that links to
// its case, marking it read.
func TestInbox(t *testing.T) {
	t.Parallel()
	env := apptest.New(t)
	school := env.MustSchool(t)
	counselor := env.MustUser(t, bangfu.RoleCounselor, &school.ID)
	st := env.MustStudent(t, counselor)
	require.NoError(t, env.App.DB.InTx(t.Context(), func(tx pgx.Tx) error {
		_, err := env.App.Notify.Send(t.Context(), tx,
			notify.Message{UserID: counselor.ID, Kind: "followup_due", StudentID: st.ID, Title: "跟进提醒：<script>alert(1)</script>", Body: "请联系", Key: "a"},
			notify.Message{UserID: counselor.ID, Kind: "escalation", Title: "省级升级", Body: "请查看", Key: "b"})
		return err
	}))

	ctx := tab(t, phone)
	loginAs(t, ctx, env, counselor)
	require.Equal(t, "2", text(t, ctx, "#unread-count"))
	require.NoError(t, chromedp.Do(ctx, chromedp.Click("#inbox-link"), chromedp.WaitVisible("#notifications")))
	require.Equal(t, 2, count(t, ctx, "#notifications li.unread"))
	require.Contains(t, text(t, ctx, "#notifications"), "跟进提醒：<script>alert(1)</script>", "user text is shown as text")
	href, err := chromedp.Run(ctx, chromedp.AttributeValue(`#notifications li:last-child a[href^="/students/"]`, "href"))
	require.NoError(t, err)
	require.Equal(t, "/students/"+itoa(st.ID), href.Value, "a notification links to the case it is about")
	accessible(t, ctx)

	require.NoError(t, chromedp.Do(ctx,
		chromedp.Click(`#notifications li:last-child button[type=submit]`),
		chromedp.WaitVisible("#flash"),
	))
	require.Equal(t, "已标为已读。", text(t, ctx, "#flash"))
	require.Equal(t, 1, count(t, ctx, "#notifications li.unread"))
	require.Equal(t, "1", text(t, ctx, "#unread-count"))
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

	// A login form posted from another site is refused as well (login CSRF).
	req, err = http.NewRequest(http.MethodPost, env.URL+"/login", strings.NewReader(url.Values{"username": {admin.Username}, "password": {apptest.Password}}.Encode()))
	require.NoError(t, err)
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Sec-Fetch-Site", "cross-site")
	resp, err = http.DefaultClient.Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusForbidden, resp.StatusCode)
}
