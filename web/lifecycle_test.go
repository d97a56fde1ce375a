package web_test

// Browser tests of a case's whole life on the pages: the after-graduation
// phase and the hand-over on the workbench and the file, the graduate's
// own view on their portal, a resolved escalation in the inbox, and
// destination verification, which needs the record the supervisor saw.

import (
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/require"

	"github.com/bangfu/bangfu"
	"github.com/bangfu/bangfu/internal/apptest"
	"github.com/bangfu/bangfu/internal/destination"
	"github.com/bangfu/bangfu/internal/graduate"
	"github.com/bangfu/bangfu/internal/ledger"
)

// afterGraduation is 2 July 2026, the second day after the class of 2026
// left school.
var afterGraduation = time.Date(2026, 7, 2, 9, 0, 0, 0, bangfu.Shanghai)

// TestHandOverAfterGraduation: after graduation the workbench and the file
// show the case's phase; the counselor hands a graduate over from the
// file — the consent the service checks shows next to its line, the
// problems of the form next to their fields — then records the agency's
// acknowledgement; the case shows as handed over on the workbench and its
// file stays readable.
func TestHandOverAfterGraduation(t *testing.T) {
	t.Parallel()
	env := apptest.New(t)
	ctx := t.Context()
	school := env.MustSchool(t)
	counselor := env.MustUser(t, bangfu.RoleCounselor, &school.ID)
	left := env.MustStudent(t, counselor, graduate.Input{Name: "周离校", GraduationYear: 2026})
	staying := env.MustStudent(t, counselor, graduate.Input{Name: "吴在校", GraduationYear: 2027})
	env.Clock.Set(afterGraduation)

	desk := tab(t, desktop)
	loginAs(t, desk, env, counselor)
	require.NoError(t, chromedp.Do(desk, chromedp.WaitVisible("#caseload")))
	require.Equal(t, "离校后跟踪", text(t, desk, fmt.Sprintf(`#caseload tr[data-id="%d"] [data-phase]`, left.ID)), "the phase by its name")
	require.Equal(t, 0, count(t, desk, fmt.Sprintf(`#caseload tr[data-id="%d"] [data-phase]`, staying.ID)), "still in school: no badge")
	accessible(t, desk)

	// The file shows the phase; a hand-over without the graduate's consent
	// is refused, the problem next to the consent.
	visit(t, desk, env, fmt.Sprintf("/students/%d", left.ID), "#handover")
	require.Contains(t, text(t, desk, "#student-status"), "离校后跟踪")
	accessible(t, desk)
	require.NoError(t, chromedp.Do(desk,
		press("#add-handover summary"),
		chromedp.SendKeys("#ho-agency", "广州市天河区公共就业服务中心"),
		chromedp.Click("#ho-field-name"),
		chromedp.Click("#ho-field-phone"),
	))
	submit(t, desk, "#handover-submit")
	require.Contains(t, location(t, desk), fmt.Sprintf("/students/%d/handover", left.ID), "the form comes back on a page of its own")
	require.Equal(t, "请修改标出的内容后再提交。", text(t, desk, "#form-error"))
	require.NotEmpty(t, text(t, desk, "#consent-error"))
	require.Equal(t, "consent-error", attr(t, desk, "#consent", "aria-describedby"))
	require.Equal(t, "广州市天河区公共就业服务中心", value(t, desk, "#ho-agency"), "the input is kept")
	checked, err := chromedp.Run(desk, chromedp.Evaluate[bool](`document.getElementById("ho-field-phone").checked`))
	require.NoError(t, err)
	require.True(t, checked)
	accessible(t, desk)

	// The graduate consents (recorded on the file); the form's own
	// problems show next to their fields.
	yes := true
	st, err := env.App.Graduates.Get(ctx, counselor.Actor(), left.ID)
	require.NoError(t, err)
	_, err = env.App.Graduates.Update(ctx, counselor.Actor(), left.ID, st.Version, graduate.Patch{Consent: &yes})
	require.NoError(t, err)
	visit(t, desk, env, fmt.Sprintf("/students/%d/handover", left.ID), "#handover-form")
	require.NoError(t, chromedp.Do(desk, noValidate("#handover-form"), chromedp.SetValue("#ho-on", "2026-06-20")))
	submit(t, desk, "#handover-submit")
	require.NotEmpty(t, text(t, desk, "#agency-error"))
	require.NotEmpty(t, text(t, desk, "#shared_fields-error"))
	require.Equal(t, "true", attr(t, desk, "#ho-agency", "aria-invalid"))
	accessible(t, desk)
	require.NoError(t, chromedp.Do(desk,
		chromedp.SendKeys("#ho-agency", "广州市天河区公共就业服务中心"),
		chromedp.SendKeys("#ho-region", "广州市天河区"),
		chromedp.SetValue("#ho-on", "2026-07-02"),
		chromedp.Click("#ho-field-name"),
		chromedp.Click("#ho-field-phone"),
		chromedp.Click("#ho-field-intention"),
		chromedp.SendKeys("#ho-note", "已电话告知本人 "+xss),
	))
	submit(t, desk, "#handover-submit")
	require.Equal(t, "已移交，并记入台账。", text(t, desk, "#flash"))
	require.Equal(t, fmt.Sprintf("%s/students/%d#handover", env.URL, left.ID), location(t, desk))
	require.Contains(t, text(t, desk, "#student-status"), "已移交")
	require.NotContains(t, text(t, desk, "#student-status"), "离校后跟踪", "out of the caseload: no phase")
	require.Contains(t, text(t, desk, "#handed-over"), "广州市天河区公共就业服务中心")
	handovers := text(t, desk, "#handovers")
	require.Contains(t, handovers, "姓名、电话、求职意向", "the data passed on, by name")
	require.Contains(t, handovers, xss, "the note is shown as text")
	require.Contains(t, handovers, "待接收确认")
	require.Contains(t, text(t, desk, "#timeline"), "离校未就业实名衔接", "the ledger records it")
	require.Equal(t, 0, count(t, desk, "#add-handover"), "a handed-over case is not handed over again")
	accessible(t, desk)
	screenshot(t, desk, "handover-file-desktop")

	// The agency's acknowledgement.
	require.NoError(t, chromedp.Do(desk, press("#add-ack summary"), chromedp.SendKeys("#ack-by", "王科长"), chromedp.SendKeys("#ack-ref", "TH-2026-0702")))
	submit(t, desk, "#ack-submit")
	require.Equal(t, "已登记接收确认，并记入台账。", text(t, desk, "#flash"))
	require.Contains(t, text(t, desk, "#handovers"), "已确认接收")
	require.Contains(t, text(t, desk, "#handovers"), "TH-2026-0702")
	require.Equal(t, 0, count(t, desk, "#add-ack"))
	accessible(t, desk)

	// The workbench: handed over by its name, found by its status.
	visit(t, desk, env, "/?status=handed_over", "#caseload")
	require.Equal(t, 1, count(t, desk, "#caseload tbody tr"))
	require.Equal(t, "已移交", text(t, desk, fmt.Sprintf(`#caseload tr[data-id="%d"] [data-status]`, left.ID)))
	accessible(t, desk)

	// On a phone.
	ph := tab(t, phone)
	loginAs(t, ph, env, counselor)
	require.NoError(t, chromedp.Do(ph, chromedp.WaitVisible("#caseload")))
	screenshot(t, ph, "lifecycle-workbench-phone")
	visit(t, ph, env, fmt.Sprintf("/students/%d#handover", left.ID), "#handovers")
	accessible(t, ph)
	screenshot(t, ph, "handover-file-phone")
}

// TestPortalShowsTheGraduatesOwnView: the portal reads the graduate's own
// view of their file — the next follow-up and the counts from the entries
// shared with them only — so an internal entry's next follow-up date never
// appears on it, nor its summary.
func TestPortalShowsTheGraduatesOwnView(t *testing.T) {
	t.Parallel()
	env := apptest.New(t)
	ctx := t.Context()
	school := env.MustSchool(t)
	counselor := env.MustUser(t, bangfu.RoleCounselor, &school.ID)
	st := env.MustStudent(t, counselor, graduate.Input{Name: "郑同学"})
	own, err := env.App.Graduates.CreateAccount(ctx, env.App.Directory, counselor.Actor(), st.ID, graduate.AccountInput{Username: "zheng", Password: apptest.Password})
	require.NoError(t, err)
	now := env.Clock.Now()
	shared := bangfu.DateOf(now).AddDays(10)
	internal := bangfu.DateOf(now).AddDays(3)
	for _, e := range []ledger.Input{
		{Kind: "contact", Channel: "phone", OccurredAt: now.Add(-2 * time.Hour), Summary: "电话沟通求职意向", Visibility: "shared", NextFollowupOn: shared.String()},
		{Kind: "contact", Channel: "wechat", OccurredAt: now.Add(-time.Hour), Summary: "家庭情况复杂，需重点关注（内部）", Visibility: "internal", NextFollowupOn: internal.String()},
	} {
		_, err := env.App.Ledger.Append(ctx, counselor.Actor(), st.ID, e)
		require.NoError(t, err)
	}
	staff, err := env.App.Graduates.Get(ctx, counselor.Actor(), st.ID)
	require.NoError(t, err)
	require.Equal(t, internal, *staff.NextFollowupOn, "the staff's view follows the internal entry")
	require.Equal(t, 2, staff.ContactsCount)

	ctx2 := tab(t, phone)
	loginAs(t, ctx2, env, own)
	require.Equal(t, "2026年6月11日", text(t, ctx2, "#my-next-followup"), "the day the shared entry names")
	require.Equal(t, "联系 1 次，推荐岗位 0 个", text(t, ctx2, "#my-counts"), "counted from the shared entries only")
	main := text(t, ctx2, "main")
	for _, leak := range []string{"2026年6月4日", internal.String(), "6月4日", "家庭情况复杂"} {
		require.NotContains(t, main, leak, "the internal entry's day or text on the portal")
	}
	html, err := chromedp.Run(ctx2, chromedp.OuterHTML("html"))
	require.NoError(t, err)
	require.NotContains(t, html, internal.String(), "not even in the markup")
	accessible(t, ctx2)

	// The destination form: choosing a code shows the proof it needs, and
	// only that.
	require.Equal(t, 14, count(t, ctx2, `#proof-rules li[data-rule]:not([hidden])`), "every rule while nothing is chosen")
	require.NoError(t, chromedp.Do(ctx2, chromedp.SetValue("#code", "11"), chromedp.Evaluate[chromedp.Void](
		`document.getElementById("code").dispatchEvent(new Event("change", {bubbles: true}))`)))
	require.Equal(t, 1, count(t, ctx2, `#proof-rules li[data-rule]:not([hidden])`))
	require.Contains(t, text(t, ctx2, `#proof-rules li[data-rule]:not([hidden])`), "劳动合同")
}

// TestStudentDestinationPath: a graduate's destination form is their
// portal's, whichever address they come by: the file's form page sends
// them there, a report posted to it comes back there, another file's is
// not theirs.
func TestStudentDestinationPath(t *testing.T) {
	t.Parallel()
	env := apptest.New(t)
	ctx := t.Context()
	school := env.MustSchool(t)
	counselor := env.MustUser(t, bangfu.RoleCounselor, &school.ID)
	st := env.MustStudent(t, counselor)
	other := env.MustStudent(t, counselor)
	own, err := env.App.Graduates.CreateAccount(ctx, env.App.Directory, counselor.Actor(), st.ID, graduate.AccountInput{Username: "path.student", Password: apptest.Password})
	require.NoError(t, err)

	b := tab(t, phone)
	loginAs(t, b, env, own)
	visit(t, b, env, fmt.Sprintf("/students/%d/destination/edit", st.ID), "#report-form")
	require.Equal(t, env.URL+"/#destination", location(t, b))
	visit(t, b, env, fmt.Sprintf("/students/%d/destination/edit", other.ID), "#error-heading")
	require.Equal(t, "未找到", text(t, b, "#error-heading"))

	c := browserClient(t, env, own)
	post := func(id int64, form url.Values) (*http.Response, string) {
		req, err := http.NewRequest(http.MethodPost, fmt.Sprintf("%s/students/%d/destination", env.URL, id), strings.NewReader(form.Encode()))
		require.NoError(t, err)
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Accept", "text/html")
		resp, err := c.Do(req)
		require.NoError(t, err)
		body, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		require.NoError(t, err)
		return resp, string(body)
	}
	resp, body := post(st.ID, url.Values{"code": {"11"}})
	require.Equal(t, http.StatusBadRequest, resp.StatusCode)
	require.Contains(t, body, `id="portal-heading"`, "the problems come back on the portal")
	require.Contains(t, body, `id="employer-error"`)
	resp, _ = post(st.ID, url.Values{"code": {"70"}})
	require.Equal(t, http.StatusSeeOther, resp.StatusCode)
	require.Equal(t, "/#destination", resp.Header.Get("Location"), "and a report goes on there")
	resp, _ = post(other.ID, url.Values{"code": {"70"}})
	require.Equal(t, http.StatusNotFound, resp.StatusCode)
	h, err := env.App.Destinations.Get(ctx, counselor.Actor(), other.ID)
	require.NoError(t, err)
	require.Nil(t, h.Current, "nothing reported on another's file")
}

// TestVerifyNeedsTheRecordSeen: a supervisor verifies a destination from
// the file, based on the record they saw; one replaced meanwhile is not
// verified, and the file shows both. The verify queue shows each case's
// status and phase.
func TestVerifyNeedsTheRecordSeen(t *testing.T) {
	t.Parallel()
	env := apptest.New(t)
	ctx := t.Context()
	school := env.MustSchool(t)
	counselor := env.MustUser(t, bangfu.RoleCounselor, &school.ID)
	supervisor := env.MustUser(t, bangfu.RoleSupervisor, &school.ID)
	st := env.MustStudent(t, counselor, graduate.Input{Name: "冯同学"})
	first, err := env.App.Destinations.Put(ctx, counselor.Actor(), st.ID, nil, destination.Input{Code: "70"})
	require.NoError(t, err)
	env.Clock.Set(afterGraduation)

	b := tab(t, desktop)
	loginAs(t, b, env, supervisor)
	visit(t, b, env, "/verify", "#pending-destinations")
	row := fmt.Sprintf(`#pending-destinations tr[data-student="%d"]`, st.ID)
	require.Contains(t, text(t, b, row), "离校后跟踪", "the case's phase")
	accessible(t, b)

	visit(t, b, env, fmt.Sprintf("/students/%d", st.ID), "#verify-form")
	accessible(t, b)
	second, err := env.App.Destinations.Put(ctx, counselor.Actor(), st.ID, &first.ID, destination.Input{Code: "80", ProofKind: "admission_notice", ProofRef: "华南理工 2026-0815"})
	require.NoError(t, err)
	submit(t, b, "#verify-destination")
	require.Equal(t, "您编辑期间，有人修改了这条记录。请查看最新内容后再保存。", text(t, b, "#form-error"))
	stale := text(t, b, "#stale-destination")
	require.Contains(t, stale, "升学", "theirs")
	require.Contains(t, stale, "待就业", "and the one the supervisor saw")
	h, err := env.App.Destinations.Get(ctx, supervisor.Actor(), st.ID)
	require.NoError(t, err)
	require.Equal(t, "recorded", h.Current.Status, "nothing verified")
	accessible(t, b)

	submit(t, b, "#verify-destination")
	require.Equal(t, "已核实去向。", text(t, b, "#flash"))
	require.Equal(t, "已核实", text(t, b, "#dest-status"))
	require.Equal(t, 0, count(t, b, "#verify-form"))
	h, err = env.App.Destinations.Get(ctx, supervisor.Actor(), st.ID)
	require.NoError(t, err)
	require.Equal(t, second.ID, h.Current.ID)
	require.Equal(t, "verified", h.Current.Status)
}

// TestInboxShowsResolved: the notification of an escalation that was
// resolved says so in the inbox and on the home page.
func TestInboxShowsResolved(t *testing.T) {
	t.Parallel()
	env := apptest.New(t)
	ctx := t.Context()
	school := env.MustSchool(t)
	counselor := env.MustUser(t, bangfu.RoleCounselor, &school.ID)
	st := env.MustActiveCase(t, counselor, graduate.Input{GraduationYear: 2027})
	env.Clock.Set(apptest.Start.AddDate(0, 0, 14).Add(time.Hour))
	env.Sweep(t)
	var escID int64
	require.NoError(t, env.App.DB.Pool.QueryRow(ctx, `SELECT id FROM escalations WHERE student_id = $1`, st.ID).Scan(&escID))
	_, err := env.App.Escalations.Resolve(ctx, counselor.Actor(), escID, "已电话联系")
	require.NoError(t, err)

	b := tab(t, phone)
	loginAs(t, b, env, counselor)
	visit(t, b, env, "/notifications", "#notifications")
	item := text(t, b, "#notifications li.resolved")
	require.Contains(t, item, "已解决 · 2026年6月15日")
	require.Contains(t, item, "【已解决】")
	accessible(t, b)
}
