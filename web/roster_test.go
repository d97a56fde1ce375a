package web_test

// Browser tests of the 宏志助航 roster's pages: the story (an admin
// adds a base and opens a cohort, the roster fills by quota with a
// waitlist, a graduate declines and the next of their school is promoted,
// another confirms, the base records completion and the graduate's ledger
// and plan show it), the admin's edits made stale by someone else, the
// school staff's part of a roster, and every page refusing other roles.

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
	"github.com/riverqueue/river"
	"github.com/stretchr/testify/require"

	"github.com/bangfu/bangfu"
	"github.com/bangfu/bangfu/internal/apptest"
	"github.com/bangfu/bangfu/internal/directory"
	"github.com/bangfu/bangfu/internal/graduate"
	"github.com/bangfu/bangfu/internal/plan"
	"github.com/bangfu/bangfu/internal/roster"
)

// rosterSchool is a school with its staff and graduates eligible for the
// 2026 cohorts.
type rosterSchool struct {
	school                directory.School
	supervisor, counselor directory.User
	grads                 []graduate.Student
}

// newRosterSchool makes a school whose graduates named names are eligible
// for a cohort of 2026 graduates, one after another (the waitlist's order):
// consent, verified hardship evidence, a plan with a 宏志助航 measure.
func newRosterSchool(t *testing.T, env *apptest.Env, names ...string) *rosterSchool {
	t.Helper()
	ctx := t.Context()
	rs := &rosterSchool{school: env.MustSchool(t)}
	rs.supervisor = env.MustUser(t, bangfu.RoleSupervisor, &rs.school.ID)
	rs.counselor = env.MustUser(t, bangfu.RoleCounselor, &rs.school.ID)
	for _, n := range names {
		st := env.MustStudent(t, rs.counselor, graduate.Input{Name: n, Consent: true, GraduationYear: 2026, Major: "软件技术",
			Phone: fmt.Sprintf("138%08d", env.Unique()), Email: "grad@example.cn"})
		h, err := env.App.Graduates.AddHardship(ctx, rs.counselor.Actor(), st.ID, graduate.HardshipInput{Category: "dibao",
			EvidenceType: "低保证", IssuingAuthority: "民政局"})
		require.NoError(t, err)
		_, err = env.App.Graduates.VerifyHardship(ctx, rs.supervisor.Actor(), st.ID, h.ID, graduate.Verification{Decision: "verified"})
		require.NoError(t, err)
		_, err = env.App.Plans.Put(ctx, rs.counselor.Actor(), st.ID, nil, plan.Input{Goals: []string{"就业"}, CadenceDays: 14,
			Measures: []plan.MeasureInput{{Kind: "hongzhi_training", Description: "参加宏志助航培训", Owner: n}}})
		require.NoError(t, err)
		env.Clock.Advance(time.Second)
		rs.grads = append(rs.grads, st)
	}
	return rs
}

// login gives graduate i of the school their own login.
func (rs *rosterSchool) login(t *testing.T, env *apptest.Env, i int) directory.User {
	t.Helper()
	u, err := env.App.Graduates.CreateAccount(t.Context(), env.App.Directory, rs.counselor.Actor(), rs.grads[i].ID,
		graduate.AccountInput{Username: fmt.Sprintf("grad%d", env.Unique()), Password: apptest.Password})
	require.NoError(t, err)
	return u
}

// pendingJobs returns the jobs of kind waiting to run.
func pendingJobs(t *testing.T, env *apptest.Env, kind string) []int64 {
	t.Helper()
	rows, err := env.App.DB.Pool.Query(t.Context(), `SELECT id FROM river_job WHERE kind = $1 AND state IN ('available', 'scheduled', 'retryable') ORDER BY id`, kind)
	require.NoError(t, err)
	defer rows.Close()
	var ids []int64
	for rows.Next() {
		var id int64
		require.NoError(t, rows.Scan(&id))
		ids = append(ids, id)
	}
	require.NoError(t, rows.Err())
	return ids
}

// buildRosters works every pending roster_build job as River would.
func buildRosters(t *testing.T, env *apptest.Env) {
	t.Helper()
	for _, id := range pendingJobs(t, env, "roster_build") {
		job, err := env.App.River.JobGet(t.Context(), id)
		require.NoError(t, err)
		res := apptest.Work(t, env, river.Worker[roster.BuildArgs](&roster.BuildWorker{Roster: env.App.Roster}), job)
		require.Equal(t, river.EventKindJobCompleted, res.EventKind)
	}
}

// deliverChanges runs the roster_deliver worker once on every delivery job
// still waiting (a failed one stays waiting, as River would retry it).
func deliverChanges(t *testing.T, env *apptest.Env) {
	t.Helper()
	w := &roster.DeliverWorker{Roster: env.App.Roster}
	for _, id := range pendingJobs(t, env, "roster_deliver") {
		job, err := env.App.River.JobGet(t.Context(), id)
		require.NoError(t, err)
		var args roster.DeliverArgs
		require.NoError(t, json.Unmarshal(job.EncodedArgs, &args))
		_ = w.Work(t.Context(), &river.Job[roster.DeliverArgs]{JobRow: job, Args: args}) // a failure is recorded as an attempt
	}
}

// webhookReceiver is a base's endpoint: it answers its first request 500,
// then accepts each change once, by its idempotency key, if its signature
// holds.
type webhookReceiver struct {
	*httptest.Server
	mu       sync.Mutex
	requests int
	accepted map[string]bool
}

func newWebhookReceiver(t *testing.T, env *apptest.Env, secret string) *webhookReceiver {
	r := &webhookReceiver{accepted: map[string]bool{}}
	r.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		body, _ := io.ReadAll(req.Body)
		r.mu.Lock()
		defer r.mu.Unlock()
		r.requests++
		if r.requests == 1 {
			w.WriteHeader(http.StatusInternalServerError)
			return
		}
		if roster.Verify([]byte(secret), req.Header.Get(roster.HeaderTimestamp), req.Header.Get(roster.HeaderSignature), body, env.Clock.Now()) != nil {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		r.accepted[req.Header.Get(roster.HeaderIdempotency)] = true
		w.WriteHeader(http.StatusNoContent)
	}))
	t.Cleanup(r.Close)
	return r
}

func (r *webhookReceiver) count() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.accepted)
}

// acceptDialogs answers every confirm() in ctx with OK, as a user who
// means it.
func acceptDialogs(ctx context.Context) {
	dialogs := chromedp.Events(ctx, page.JavascriptDialogOpening)
	go func() {
		for _, err := range dialogs {
			if err != nil {
				return
			}
			if _, err := chromedp.Call(ctx, page.HandleJavaScriptDialog, page.HandleJavaScriptDialogParams{Accept: true}); err != nil {
				return
			}
		}
	}()
}

// browserClient logs u in with a plain HTTP client (cookies, no
// redirects followed), for what a browser downloads rather than shows.
func browserClient(t *testing.T, env *apptest.Env, u directory.User) *http.Client {
	t.Helper()
	jar, err := cookiejar.New(nil)
	require.NoError(t, err)
	c := &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := c.PostForm(env.URL+"/login", url.Values{"username": {u.Username}, "password": {apptest.Password}})
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusSeeOther, resp.StatusCode)
	return c
}

// placeOf returns the roster place of graduate st in cohort c.
func placeOf(t *testing.T, env *apptest.Env, cohortID, studentID int64) (id int64, status string) {
	t.Helper()
	require.NoError(t, env.App.DB.Pool.QueryRow(t.Context(), `SELECT id, status FROM roster_places WHERE cohort_id = $1 AND student_id = $2`,
		cohortID, studentID).Scan(&id, &status))
	return id, status
}

// TestRosterStory is the story through the pages.
func TestRosterStory(t *testing.T) {
	t.Parallel()
	env := apptest.New(t)
	ctx := t.Context()
	a := newRosterSchool(t, env, "甲一", "甲二", "甲三")
	b := newRosterSchool(t, env, "乙一", "乙二")
	admin := env.MustUser(t, bangfu.RoleAdmin, nil)
	const secret = "a shared secret of the base"
	hook := newWebhookReceiver(t, env, secret)
	today := bangfu.Today(env.Clock)

	// The admin adds the base, with its webhook: the secret is never shown
	// again, and of the address only the host.
	desk := tab(t, desktop)
	acceptDialogs(desk)
	loginAs(t, desk, env, admin)
	require.Contains(t, text(t, desk, "nav.main"), "培训基地")
	visit(t, desk, env, "/admin/bases", "#new-base-form")
	accessible(t, desk)
	require.NoError(t, chromedp.Do(desk,
		chromedp.SendKeys("#name", "华南农业大学宏志助航培训基地"),
		chromedp.SendKeys("#host_school", "华南农业大学"),
		chromedp.SendKeys("#contact-name", "张老师"),
		chromedp.SetValue("#webhook_url", hook.URL+"/hook/token-in-the-path"),
		chromedp.SendKeys("#webhook_secret", secret),
	))
	submit(t, desk, "#create-base")
	require.Equal(t, "已新增培训基地。", text(t, desk, "#flash"))
	require.Contains(t, text(t, desk, "#webhook-state"), "已配置")
	html, err := chromedp.Run(desk, chromedp.OuterHTML("html"))
	require.NoError(t, err)
	require.NotContains(t, html, secret, "the secret is never shown")
	require.NotContains(t, html, "token-in-the-path", "nor the address beyond its host")
	require.Empty(t, value(t, desk, "#webhook_secret"))
	accessible(t, desk)

	// A cohort of 3 places for the class of 2026, from the base's page.
	require.NoError(t, chromedp.Do(desk, press(`a[href^="/cohorts/new?base_id="]`), chromedp.WaitVisible("#cohort-form")))
	accessible(t, desk)
	require.NoError(t, chromedp.Do(desk,
		chromedp.SendKeys("#name", "2026年宏志助航第一期"),
		chromedp.Click("#mode-offline"),
		chromedp.SetValue("#starts_on", today.AddDays(30).String()),
		chromedp.SetValue("#ends_on", today.AddDays(37).String()),
		chromedp.SetValue("#nomination_deadline", today.AddDays(20).String()),
		chromedp.SetValue("#capacity", "3"),
	))
	submit(t, desk, "#save-cohort")
	require.Equal(t, "已创建班次草稿；开放报名后生成名单。", text(t, desk, "#flash"))
	require.Contains(t, text(t, desk, "#cohort-name"), "草稿")
	require.Equal(t, 1, count(t, desk, "#no-places"), "a draft has no roster")
	var cohortID int64
	require.NoError(t, env.App.DB.Pool.QueryRow(ctx, `SELECT id FROM cohorts WHERE name = '2026年宏志助航第一期'`).Scan(&cohortID))
	require.Equal(t, fmt.Sprintf("%s/cohorts/%d", env.URL, cohortID), location(t, desk))
	accessible(t, desk)

	// The admin opens it; its build fills the roster by quota: shares of 3
	// places are 1.8 and 1.2, so A holds 2, B 1, and one of each waits.
	submit(t, desk, "#move-cohort")
	require.Equal(t, "已开放报名，系统正在生成名单。", text(t, desk, "#flash"))
	require.Contains(t, text(t, desk, "#cohort-name"), "报名中")
	buildRosters(t, env)
	open(t, desk, env, fmt.Sprintf("/cohorts/%d", cohortID))
	require.Equal(t, "3", text(t, desk, `#counts [data-status="nominated"]`))
	require.Equal(t, "2", text(t, desk, `#counts [data-status="waitlisted"]`))
	require.Equal(t, "2", text(t, desk, fmt.Sprintf(`#quotas tr[data-school="%d"] .quota`, a.school.ID)))
	require.Equal(t, "1", text(t, desk, fmt.Sprintf(`#quotas tr[data-school="%d"] .quota`, b.school.ID)))
	require.Equal(t, 5, count(t, desk, "#roster tbody tr"))
	require.Equal(t, 2, count(t, desk, `#roster tr[data-status="waitlisted"]`))
	require.Contains(t, text(t, desk, `#roster tr[data-status="waitlisted"]`), "同校候补第 1 位")
	accessible(t, desk)
	screenshot(t, desk, "roster-cohort-admin")
	// The whole roster by school.
	require.NoError(t, chromedp.Do(desk, chromedp.SetValue("#f-school", itoa(a.school.ID))))
	submit(t, desk, "#filter-submit")
	require.Equal(t, 3, count(t, desk, "#roster tbody tr"))
	require.Equal(t, 0, count(t, desk, fmt.Sprintf(`#roster tr[data-school="%d"]`, b.school.ID)))

	// A's first nominee declines on their portal: A's next waiting graduate
	// is promoted, before anyone of B.
	declined, _ := placeOf(t, env, cohortID, a.grads[0].ID)
	grad := tab(t, phone)
	loginAs(t, grad, env, a.login(t, env, 0))
	require.Contains(t, text(t, grad, "#my-places"), "已提名")
	require.Contains(t, text(t, grad, "#my-places"), "华南农业大学宏志助航培训基地")
	require.Contains(t, text(t, grad, fmt.Sprintf("#answer-%d", declined)), today.AddDays(20).Time().Format("2006年1月2日"))
	accessible(t, grad)
	screenshot(t, grad, "roster-portal-nominated")
	require.NoError(t, chromedp.Do(grad,
		press(fmt.Sprintf("#place-%d details.act summary", declined)),
		chromedp.SendKeys(fmt.Sprintf("#decline-%d-reason", declined), "已签约，无法参加"),
	))
	submit(t, grad, fmt.Sprintf("#decline-%d-submit", declined))
	require.Equal(t, "已放弃本期培训。", text(t, grad, "#flash"))
	require.Contains(t, text(t, grad, fmt.Sprintf("#place-%d", declined)), "已放弃")
	require.Equal(t, 0, count(t, grad, fmt.Sprintf("#confirm-%d", declined)), "nothing more to answer")
	accessible(t, grad)
	_, st := placeOf(t, env, cohortID, a.grads[2].ID)
	require.Equal(t, roster.Nominated, st, "the next of the same school is promoted")
	_, st = placeOf(t, env, cohortID, b.grads[1].ID)
	require.Equal(t, roster.Waitlisted, st, "before anyone of another school")

	// B's nominee confirms.
	confirmed, _ := placeOf(t, env, cohortID, b.grads[0].ID)
	other := tab(t, phone)
	loginAs(t, other, env, b.login(t, env, 0))
	submit(t, other, fmt.Sprintf("#confirm-%d-submit", confirmed))
	require.Equal(t, "已确认参加培训。", text(t, other, "#flash"))
	require.Contains(t, text(t, other, fmt.Sprintf("#place-%d", confirmed)), "已确认")
	accessible(t, other)

	// The base receives the changes of the places it holds or held, signed,
	// each once, however often it was tried; the admin sees every attempt.
	deliverChanges(t, env)
	deliverChanges(t, env)
	require.Positive(t, hook.count())
	open(t, desk, env, fmt.Sprintf("/cohorts/%d/deliveries", cohortID))
	require.Equal(t, 0, count(t, desk, `#deliveries tr[data-state="pending"]`), "every change was delivered in the end")
	require.Equal(t, hook.count(), count(t, desk, `#deliveries tr[data-state="delivered"]`))
	attempts := text(t, desk, "#deliveries")
	require.Contains(t, attempts, "HTTP 500", "the failed attempt is shown")
	require.Contains(t, attempts, "接收地址返回 500", "with its problem")
	require.Contains(t, attempts, "HTTP 204")
	require.Contains(t, attempts, "毫秒", "and each attempt's latency")
	accessible(t, desk)
	screenshot(t, desk, "roster-deliveries")

	// On the first day of training the base records attendance, at its
	// end completion.
	env.Clock.Set(today.AddDays(30).Time().Add(9 * time.Hour))
	baseID := baseIDOf(t, env, cohortID)
	staff, err := env.App.Directory.CreateUser(ctx, bangfu.Actor{}, directory.UserInput{Username: "base.staff", Role: bangfu.RoleBase,
		BaseID: &baseID, Password: apptest.Password})
	require.NoError(t, err)
	bs := tab(t, phone)
	acceptDialogs(bs)
	loginAs(t, bs, env, staff)
	require.Equal(t, "学员名单", text(t, bs, "#base-home-heading"), "the base's home is its trainees")
	require.Equal(t, 1, count(t, bs, "table.roster tbody tr"), "only the confirmed place")
	require.Contains(t, text(t, bs, fmt.Sprintf("#place-%d", confirmed)), "乙一")
	accessible(t, bs)
	screenshot(t, bs, "roster-base-home")
	submit(t, bs, fmt.Sprintf("#attend-%d", confirmed))
	require.Equal(t, "已登记参训。", text(t, bs, "#flash"))
	require.Contains(t, text(t, bs, fmt.Sprintf("#place-%d", confirmed)), "参训中")
	submit(t, bs, fmt.Sprintf("#complete-%d", confirmed))
	require.Equal(t, "已登记结业，已记入学员的帮扶台账和帮扶计划。", text(t, bs, "#flash"))
	require.Contains(t, text(t, bs, fmt.Sprintf("#place-%d", confirmed)), "已结业")
	accessible(t, bs)

	// B's counselor sees it on the file: the ledger's outcome entry, the
	// plan's measure done, the training completed.
	file := tab(t, desktop)
	loginAs(t, file, env, b.counselor)
	visit(t, file, env, fmt.Sprintf("/students/%d", b.grads[0].ID), "#training")
	require.Contains(t, text(t, file, "#timeline"), "完成宏志助航培训：2026年宏志助航第一期")
	require.Contains(t, text(t, file, "#plan table.measures"), "宏志助航培训")
	require.Contains(t, text(t, file, "#plan table.measures"), "已完成")
	require.Contains(t, text(t, file, "#training-places"), "已结业")
	accessible(t, file)
}

// baseIDOf returns the base of cohort id.
func baseIDOf(t *testing.T, env *apptest.Env, cohortID int64) int64 {
	t.Helper()
	var id int64
	require.NoError(t, env.App.DB.Pool.QueryRow(t.Context(), `SELECT base_id FROM cohorts WHERE id = $1`, cohortID).Scan(&id))
	return id
}

// openCohort creates and opens a cohort of capacity places for 2026
// graduates at a new base, starting in 30 days, and builds its roster.
func openCohort(t *testing.T, env *apptest.Env, capacity int) roster.Cohort {
	t.Helper()
	admin := bangfu.Actor{Role: bangfu.RoleAdmin}
	today := bangfu.Today(env.Clock)
	c, err := env.App.Roster.CreateCohort(t.Context(), admin, roster.CohortInput{BaseID: env.MustBase(t).ID, Name: "第一期", Mode: "online",
		StartsOn: today.AddDays(30).String(), EndsOn: today.AddDays(37).String(), Capacity: capacity, TargetYear: 2026,
		NominationDeadline: today.AddDays(20).String()})
	require.NoError(t, err)
	open := roster.Open
	c, err = env.App.Roster.UpdateCohort(t.Context(), admin, c.ID, c.Version, roster.CohortPatch{State: &open})
	require.NoError(t, err)
	buildRosters(t, env)
	return c
}

// TestRosterAdminEdits: the admin's edits of a base and a cohort, and a
// cohort's move, each made stale by someone else's change, save nothing
// and show both versions; the form keeps the admin's changes.
func TestRosterAdminEdits(t *testing.T) {
	t.Parallel()
	env := apptest.New(t)
	ctx := t.Context()
	admin := env.MustUser(t, bangfu.RoleAdmin, nil)
	someone := bangfu.Actor{Role: bangfu.RoleAdmin}
	base := env.MustBase(t, roster.BaseInput{Name: "深圳职业技术学院培训基地", HostSchool: "深圳职业技术大学",
		WebhookURL: "https://hooks.example.cn/bangfu?token=secret-token", WebhookSecret: "sixteen chars at least"})
	today := bangfu.Today(env.Clock)
	co, err := env.App.Roster.CreateCohort(ctx, someone, roster.CohortInput{BaseID: base.ID, Name: "第二期", Mode: "offline",
		StartsOn: today.AddDays(30).String(), EndsOn: today.AddDays(40).String(), Capacity: 20, TargetYear: 2026,
		NominationDeadline: today.AddDays(20).String()})
	require.NoError(t, err)

	tb := tab(t, desktop)
	loginAs(t, tb, env, admin)

	// The base: someone renames it while the admin changes its contact.
	visit(t, tb, env, fmt.Sprintf("/admin/bases/%d", base.ID), "#base-form")
	require.Contains(t, text(t, tb, "#webhook-state"), "hooks.example.cn")
	html, err := chromedp.Run(tb, chromedp.OuterHTML("html"))
	require.NoError(t, err)
	require.NotContains(t, html, "secret-token")
	require.NotContains(t, html, "sixteen chars at least")
	accessible(t, tb)
	renamed := "深圳职业技术大学宏志助航培训基地"
	_, err = env.App.Roster.UpdateBase(ctx, someone, base.ID, base.Version, roster.BasePatch{Name: &renamed})
	require.NoError(t, err)
	require.NoError(t, chromedp.Do(tb, chromedp.SendKeys("#contact-name", "李老师"), chromedp.SendKeys("#webhook_secret", "a new secret, long enough")))
	submit(t, tb, "#save-base")
	require.Equal(t, "您编辑期间，有人修改了这条记录。请查看最新内容后再保存。", text(t, tb, "#form-error"))
	require.Contains(t, text(t, tb, "#stale-base"), renamed, "theirs")
	require.Contains(t, text(t, tb, "#stale-base"), "李老师", "and yours")
	require.Equal(t, renamed, value(t, tb, "#name"), "the form is based on the current version")
	require.Equal(t, "李老师", value(t, tb, "#contact-name"), "with the admin's change")
	require.Empty(t, value(t, tb, "#webhook_secret"), "a secret typed is never sent back")
	accessible(t, tb)
	screenshot(t, tb, "roster-base-stale")
	submit(t, tb, "#save-base")
	require.Equal(t, "已保存基地信息。", text(t, tb, "#flash"))
	b, err := env.App.Roster.Base(ctx, someone, base.ID)
	require.NoError(t, err)
	require.Equal(t, renamed, b.Name)
	require.Equal(t, "李老师", b.Contact.Name)
	require.True(t, b.Webhook.Configured, "an empty address keeps the webhook")

	// Removing the webhook.
	require.NoError(t, chromedp.Do(tb, chromedp.Click("#remove_webhook")))
	submit(t, tb, "#save-base")
	require.Contains(t, text(t, tb, "#webhook-state"), "未配置")

	// The cohort: someone moves its start while the admin changes its
	// capacity; a bad number is named next to its field.
	visit(t, tb, env, fmt.Sprintf("/cohorts/%d/edit", co.ID), "#cohort-form")
	accessible(t, tb)
	_, err = env.App.Roster.UpdateCohort(ctx, someone, co.ID, co.Version, roster.CohortPatch{StartsOn: ptr(today.AddDays(25).String())})
	require.NoError(t, err)
	require.NoError(t, chromedp.Do(tb, chromedp.SetValue("#capacity", "30")))
	submit(t, tb, "#save-cohort")
	require.Contains(t, text(t, tb, "#form-error"), "有人修改了这条记录")
	require.Contains(t, text(t, tb, "#stale-cohort"), today.AddDays(25).Time().Format("2006年1月2日"), "theirs")
	require.Contains(t, text(t, tb, "#stale-cohort"), "30", "yours")
	require.Equal(t, today.AddDays(25).String(), value(t, tb, "#starts_on"))
	require.Equal(t, "30", value(t, tb, "#capacity"))
	accessible(t, tb)
	screenshot(t, tb, "roster-cohort-stale")
	require.NoError(t, chromedp.Do(tb, chromedp.SetValue("#capacity", "0"), noValidate("#cohort-form")))
	submit(t, tb, "#save-cohort")
	require.Contains(t, text(t, tb, "#capacity-error"), "1")
	require.Equal(t, "true", attr(t, tb, "#capacity", "aria-invalid"))
	require.NoError(t, chromedp.Do(tb, chromedp.SetValue("#capacity", "30")))
	submit(t, tb, "#save-cohort")
	require.Equal(t, "已保存班次。", text(t, tb, "#flash"))
	got, err := env.App.Roster.Cohort(ctx, someone, co.ID)
	require.NoError(t, err)
	require.Equal(t, 30, got.Capacity)
	require.Equal(t, today.AddDays(25), got.StartsOn, "their change kept")

	// Opening it after someone renamed it: both versions, nothing moved.
	_, err = env.App.Roster.UpdateCohort(ctx, someone, co.ID, got.Version, roster.CohortPatch{Name: ptr("第二期（线下）")})
	require.NoError(t, err)
	submit(t, tb, "#move-cohort")
	require.Contains(t, text(t, tb, "#form-error"), "有人修改了这条记录")
	require.Contains(t, text(t, tb, "#stale-cohort"), "草稿")
	require.Contains(t, text(t, tb, "#stale-cohort"), "报名中")
	accessible(t, tb)
	got, err = env.App.Roster.Cohort(ctx, someone, co.ID)
	require.NoError(t, err)
	require.Equal(t, roster.Draft, got.State)
	submit(t, tb, "#move-cohort")
	require.Contains(t, text(t, tb, "#cohort-name"), "报名中")

	// Once open, the base and the class no longer change: the form shows
	// them as text; the list shows the cohort by state.
	visit(t, tb, env, fmt.Sprintf("/cohorts/%d/edit", co.ID), "#cohort-form")
	require.Equal(t, 0, count(t, tb, "#base_id"))
	require.Equal(t, 0, count(t, tb, "#target_year"))
	visit(t, tb, env, "/cohorts?state=open", "#cohorts")
	require.Contains(t, text(t, tb, "#cohorts"), "第二期（线下）")
	accessible(t, tb)
	visit(t, tb, env, "/cohorts?state=draft", "#no-cohorts")
}

func ptr[T any](v T) *T { return &v }

// TestRosterSchoolStaff: a supervisor sees their school's part of a
// roster and its quota, withdraws a graduate with a reason (required:
// the problem shows next to the field) and exports their part; a counselor
// sees a graduate's training on the file and withdraws from there.
func TestRosterSchoolStaff(t *testing.T) {
	t.Parallel()
	env := apptest.New(t)
	a := newRosterSchool(t, env, "甲一", "甲二", "甲三")
	b := newRosterSchool(t, env, "乙一", "乙二")
	co := openCohort(t, env, 3)

	sup := tab(t, desktop)
	loginAs(t, sup, env, a.supervisor)
	require.Contains(t, text(t, sup, "nav.main"), "宏志助航")
	visit(t, sup, env, "/cohorts", "#cohorts")
	accessible(t, sup)
	require.NoError(t, chromedp.Do(sup, press(fmt.Sprintf(`#cohorts a[href="/cohorts/%d"]`, co.ID)), chromedp.WaitVisible("#roster")))
	require.Equal(t, 3, count(t, sup, "#roster tbody tr"), "the school's part only")
	require.Equal(t, 1, count(t, sup, "#quotas tbody tr"), "its own quota only")
	require.Equal(t, "2", text(t, sup, fmt.Sprintf(`#quotas tr[data-school="%d"] .quota`, a.school.ID)))
	require.Contains(t, text(t, sup, "#roster"), a.grads[0].StudentNumber, "school staff see the student number")
	accessible(t, sup)
	screenshot(t, sup, "roster-cohort-supervisor")

	// Withdrawing without a reason is refused, next to the field.
	pid, _ := placeOf(t, env, co.ID, a.grads[1].ID)
	require.NoError(t, chromedp.Do(sup, press(fmt.Sprintf("#place-%d details.act summary", pid)), noValidate(fmt.Sprintf("#withdraw-%d", pid))))
	submit(t, sup, fmt.Sprintf("#withdraw-%d-submit", pid))
	require.Equal(t, "请修改标出的内容后再提交。", text(t, sup, "#form-error"))
	require.NotEmpty(t, text(t, sup, fmt.Sprintf("#withdraw-%d-error", pid)))
	require.Equal(t, "true", attr(t, sup, fmt.Sprintf("#withdraw-%d-reason", pid), "aria-invalid"))
	accessible(t, sup)
	require.NoError(t, chromedp.Do(sup, chromedp.SendKeys(fmt.Sprintf("#withdraw-%d-reason", pid), "已签约就业，无需培训 "+xss)))
	submit(t, sup, fmt.Sprintf("#withdraw-%d-submit", pid))
	require.Equal(t, "已退出名单；空出的名额已递补。", text(t, sup, "#flash"))
	row := text(t, sup, fmt.Sprintf("#place-%d", pid))
	require.Contains(t, row, "已退出")
	require.Contains(t, row, xss, "the reason is shown as text")
	_, st := placeOf(t, env, co.ID, a.grads[2].ID)
	require.Equal(t, roster.Nominated, st, "the school's next waiting graduate is promoted")

	// The export of the school's part, with Chinese headers.
	c := browserClient(t, env, a.supervisor)
	resp, err := c.Get(fmt.Sprintf("%s/cohorts/%d/export?format=csv", env.URL, co.ID))
	require.NoError(t, err)
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, resp.StatusCode)
	require.Equal(t, "text/csv; charset=utf-8", resp.Header.Get("Content-Type"))
	require.Contains(t, resp.Header.Get("Content-Disposition"), "attachment")
	require.Contains(t, string(body), "姓名")
	require.Contains(t, string(body), "甲三")
	require.NotContains(t, string(body), "乙一", "another school's graduates are not in it")

	// B's counselor: the graduate's training on the file, withdrawn from
	// there with a reason.
	file := tab(t, phone)
	loginAs(t, file, env, b.counselor)
	visit(t, file, env, fmt.Sprintf("/students/%d", b.grads[1].ID), "#training")
	pid, _ = placeOf(t, env, co.ID, b.grads[1].ID)
	require.Contains(t, text(t, file, fmt.Sprintf("#place-%d", pid)), "候补")
	require.Contains(t, text(t, file, "#open-cohorts"), "符合条件")
	accessible(t, file)
	require.NoError(t, chromedp.Do(file, press(fmt.Sprintf("#place-%d details.act summary", pid)),
		chromedp.SendKeys(fmt.Sprintf("#withdraw-%d-reason", pid), "本人已升学")))
	submit(t, file, fmt.Sprintf("#withdraw-%d-submit", pid))
	require.Equal(t, "已退出名单；空出的名额已递补。", text(t, file, "#flash"))
	require.Contains(t, location(t, file), fmt.Sprintf("/students/%d#training", b.grads[1].ID))
	require.Contains(t, text(t, file, fmt.Sprintf("#place-%d", pid)), "已退出")
	require.Contains(t, text(t, file, fmt.Sprintf("#place-%d", pid)), "本人已升学")
	accessible(t, file)
	screenshot(t, file, "roster-file-training-phone")
}

// rosterPageRoles says which roles may use each roster page; every other
// role is refused with the forbidden page.
var rosterPageRoles = map[string][]bangfu.Role{
	"GET /admin/bases":                    {bangfu.RoleAdmin},
	"POST /admin/bases":                   {bangfu.RoleAdmin},
	"GET /admin/bases/1":                  {bangfu.RoleAdmin},
	"POST /admin/bases/1":                 {bangfu.RoleAdmin},
	"GET /cohorts":                        {bangfu.RoleCounselor, bangfu.RoleSupervisor, bangfu.RoleAdmin, bangfu.RoleBase},
	"GET /cohorts/new":                    {bangfu.RoleAdmin},
	"POST /cohorts":                       {bangfu.RoleAdmin},
	"GET /cohorts/1":                      {bangfu.RoleCounselor, bangfu.RoleSupervisor, bangfu.RoleAdmin, bangfu.RoleBase},
	"GET /cohorts/1/edit":                 {bangfu.RoleAdmin},
	"POST /cohorts/1":                     {bangfu.RoleAdmin},
	"POST /cohorts/1/state":               {bangfu.RoleAdmin},
	"GET /cohorts/1/deliveries":           {bangfu.RoleAdmin},
	"POST /places/1/withdraw":             {bangfu.RoleCounselor, bangfu.RoleSupervisor},
	"POST /places/1/attend":               {bangfu.RoleBase},
	"POST /places/1/complete":             {bangfu.RoleBase},
	"POST /places/1/confirm":              {bangfu.RoleStudent},
	"POST /places/1/decline":              {bangfu.RoleStudent},
	"GET /students/1/handover":            {bangfu.RoleCounselor, bangfu.RoleSupervisor},
	"POST /students/1/handover":           {bangfu.RoleCounselor, bangfu.RoleSupervisor},
	"POST /students/1/destination/verify": {bangfu.RoleSupervisor},
}

// TestRosterPagesRefuseWrongRoles: every roster and hand-over page
// answers a browser of another role with the forbidden page (403), and an
// export asked by a role that may not export is refused too.
func TestRosterPagesRefuseWrongRoles(t *testing.T) {
	t.Parallel()
	env := apptest.New(t)
	school := env.MustSchool(t)
	counselor := env.MustUser(t, bangfu.RoleCounselor, &school.ID)
	st := env.MustStudent(t, counselor)
	own, err := env.App.Graduates.CreateAccount(t.Context(), env.App.Directory, counselor.Actor(), st.ID,
		graduate.AccountInput{Username: "refused.student", Password: apptest.Password})
	require.NoError(t, err)
	users := map[bangfu.Role]directory.User{bangfu.RoleStudent: own, bangfu.RoleCounselor: counselor,
		bangfu.RoleSupervisor: env.MustUser(t, bangfu.RoleSupervisor, &school.ID), bangfu.RoleProvince: env.MustUser(t, bangfu.RoleProvince, nil),
		bangfu.RoleAdmin: env.MustUser(t, bangfu.RoleAdmin, nil), bangfu.RoleBase: env.MustUser(t, bangfu.RoleBase, nil)}
	clients := map[bangfu.Role]*http.Client{}
	for role, u := range users {
		clients[role] = browserClient(t, env, u)
	}
	for route, allowed := range rosterPageRoles {
		method, path, _ := strings.Cut(route, " ")
		for _, role := range bangfu.Roles {
			if contains(allowed, role) {
				continue
			}
			req, err := http.NewRequest(method, env.URL+path, strings.NewReader(""))
			require.NoError(t, err)
			req.Header.Set("Accept", "text/html")
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			resp, err := clients[role].Do(req)
			require.NoError(t, err)
			body, err := io.ReadAll(resp.Body)
			resp.Body.Close()
			require.NoError(t, err)
			require.Equal(t, http.StatusForbidden, resp.StatusCode, "%s as %s", route, role)
			require.Contains(t, string(body), `<h1 id="error-heading">无权访问</h1>`, "%s as %s", route, role)
		}
	}
	// A counselor may read a roster but not export it.
	co := openCohort(t, env, 2)
	resp, err := clients[bangfu.RoleCounselor].Get(fmt.Sprintf("%s/cohorts/%d/export?format=csv", env.URL, co.ID))
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusForbidden, resp.StatusCode)

	ctx := tab(t, phone)
	loginAs(t, ctx, env, users[bangfu.RoleBase])
	open(t, ctx, env, "/admin/bases")
	require.Equal(t, "无权访问", text(t, ctx, "#error-heading"))
	accessible(t, ctx)
}
