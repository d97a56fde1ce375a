package web_test

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/require"

	"github.com/bangfu/bangfu"
	"github.com/bangfu/bangfu/internal/apptest"
	"github.com/bangfu/bangfu/internal/directory"
	"github.com/bangfu/bangfu/internal/graduate"
	"github.com/bangfu/bangfu/internal/ledger"
	"github.com/bangfu/bangfu/internal/plan"
)

// The counselor's flows of the pages: the workbench, logging a contact on
// a phone, a group contact, an import, two tabs editing one plan, the
// language switch — each page checked with axe-core, and user text always
// shown as text.

const xss = "<script>alert(1)</script>"

// counselorEnv is a school with a counselor and their graduates.
type counselorEnv struct {
	env       *apptest.Env
	school    directory.School
	counselor directory.User
	grads     []graduate.Student
}

func newCounselorEnv(t *testing.T, names ...string) *counselorEnv {
	t.Helper()
	env := apptest.New(t)
	ce := &counselorEnv{env: env, school: env.MustSchool(t)}
	ce.counselor = env.MustUser(t, bangfu.RoleCounselor, &ce.school.ID)
	for _, n := range names {
		ce.grads = append(ce.grads, env.MustStudent(t, ce.counselor, graduate.Input{Name: n}))
	}
	return ce
}

// visit navigates ctx to path and waits for sel.
func visit(t *testing.T, ctx context.Context, env *apptest.Env, path, sel string) {
	t.Helper()
	require.NoError(t, chromedp.Do(ctx, chromedp.Navigate(env.URL+path), chromedp.WaitVisible(sel)), "visit %s", path)
}

// noDialogs fails t if a JavaScript dialog (an alert) opens in ctx.
func noDialogs(t *testing.T, ctx context.Context) {
	t.Helper()
	require.NoError(t, chromedp.Listen(ctx, func(ev any) {
		if d, ok := ev.(*page.EventJavascriptDialogOpening); ok {
			t.Errorf("a script ran: dialog %q", d.Message)
		}
	}))
}

// logContact logs an entry on the add-entry form of graduate id (its own
// page, as a counselor opens it from the workbench) and waits for the
// file's timeline. The student's and supervisor's flows can start from it.
func logContact(t *testing.T, ctx context.Context, env *apptest.Env, id int64, summary string, shared bool) {
	t.Helper()
	visit(t, ctx, env, fmt.Sprintf("/students/%d/ledger/new", id), "#entry-form")
	accessible(t, ctx)
	vis := "#le-vis-internal"
	if shared {
		vis = "#le-vis-shared"
	}
	require.NoError(t, chromedp.Do(ctx,
		chromedp.SendKeys("#le-summary", summary),
		press(vis),
		press("#entry-submit"),
		chromedp.WaitVisible("#timeline"),
	))
}

// sharedWithStudent returns the summaries the graduate's own login reads
// in their ledger (GET /api/v1/me/ledger): the entries shared with them.
func sharedWithStudent(t *testing.T, env *apptest.Env, u directory.User) []string {
	t.Helper()
	r := env.Get(t, "/api/v1/me/ledger", env.Token(t, u))
	require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
	var l struct{ Items []ledger.Entry }
	r.JSON(t, &l)
	var out []string
	for _, e := range l.Items {
		out = append(out, e.Summary)
	}
	return out
}

func TestWorkbench(t *testing.T) {
	t.Parallel()
	ce := newCounselorEnv(t, "张三", "李四", "王五")
	env, ctx := ce.env, t.Context()
	late := ce.grads[1]
	_, err := env.App.Ledger.Append(ctx, ce.counselor.Actor(), late.ID, ledger.Input{Kind: "contact", Channel: "phone", OccurredAt: env.Clock.Now(),
		Summary: xss, NextFollowupOn: bangfu.Today(env.Clock).AddDays(1).String()})
	require.NoError(t, err)
	_, err = env.App.Ledger.Append(ctx, ce.counselor.Actor(), ce.grads[2].ID, ledger.Input{Kind: "contact", Channel: "phone", OccurredAt: env.Clock.Now(),
		Summary: "电话", NextFollowupOn: bangfu.Today(env.Clock).AddDays(5).String()})
	require.NoError(t, err)
	env.Clock.Advance(3 * 24 * time.Hour)

	tb := tab(t, desktop)
	noDialogs(t, tb)
	loginAs(t, tb, env, ce.counselor)
	require.NoError(t, chromedp.Do(tb, chromedp.WaitVisible("#caseload")))
	require.Equal(t, "我的工作台", text(t, tb, "h1"), "the counselor's home is the workbench")
	require.Contains(t, text(t, tb, "#count-overdue"), "1")
	require.Contains(t, text(t, tb, "#count-week"), "1")
	require.Contains(t, text(t, tb, "#count-total"), "3")
	first, err := chromedp.Run(tb, chromedp.AttributeValue("#caseload tbody tr:first-child", "data-id"))
	require.NoError(t, err)
	require.Equal(t, itoa(late.ID), first.Value, "the overdue follow-up first")
	require.Contains(t, text(t, tb, "#caseload tbody tr:first-child"), "已逾期")
	require.Contains(t, text(t, tb, "#caseload tbody tr:nth-child(2)"), "从未联系", "then the graduate never contacted")
	accessible(t, tb)

	// Each count is a link that filters.
	require.NoError(t, chromedp.Do(tb, press("#count-overdue"), chromedp.WaitVisible("#clear-filters")))
	require.Equal(t, 1, count(t, tb, "#caseload tbody tr"))
	require.Equal(t, "true", attr(t, tb, "#count-overdue", "aria-current"))
	accessible(t, tb)
	// Search by name.
	require.NoError(t, chromedp.Do(tb, chromedp.Navigate(env.URL+"/"), chromedp.WaitVisible("#f-q"),
		chromedp.SendKeys("#f-q", "王"), press("#filter-submit"), chromedp.WaitVisible("#clear-filters")))
	require.Equal(t, 1, count(t, tb, "#caseload tbody tr"))
	require.Contains(t, text(t, tb, "#caseload"), "王五")
	// A bad filter is refused, naming it.
	require.NoError(t, chromedp.Do(tb, chromedp.Navigate(env.URL+"/?due=someday"), chromedp.WaitVisible("#error-message")))
	require.Equal(t, "出错了", text(t, tb, "#error-heading"))

	// In English by the switch, on this page and the file.
	require.NoError(t, chromedp.Do(tb, chromedp.Navigate(env.URL+"/"), chromedp.WaitVisible("#caseload"),
		press("#lang-switch"), chromedp.WaitVisible("#caseload")))
	require.Equal(t, "My workbench", text(t, tb, "h1"))
	require.Contains(t, text(t, tb, "#count-overdue"), "overdue follow-ups")
	accessible(t, tb)
	visit(t, tb, env, fmt.Sprintf("/students/%d", late.ID), "#timeline")
	require.Equal(t, "Ledger", text(t, tb, "#ledger-h"))
	require.Equal(t, xss, text(t, tb, "#timeline .summary"), "user text is shown as text")
	accessible(t, tb)
	require.NoError(t, chromedp.Do(tb, press("#lang-switch"), chromedp.WaitVisible("#timeline")))
	require.Equal(t, "帮扶台账", text(t, tb, "#ledger-h"))
}

// TestLogSharedContactOnPhone: from the workbench on a 360-px phone, a
// counselor logs a contact shared with the graduate and sees it on the
// timeline; the graduate's own login sees it, and not an internal one.
func TestLogSharedContactOnPhone(t *testing.T) {
	t.Parallel()
	ce := newCounselorEnv(t, "李明")
	env, st := ce.env, ce.grads[0]
	acc, err := env.App.Graduates.CreateAccount(t.Context(), env.App.Directory, ce.counselor.Actor(), st.ID,
		graduate.AccountInput{Username: "li.ming", Password: apptest.Password})
	require.NoError(t, err)

	ph := tab(t, phone)
	noDialogs(t, ph)
	loginAs(t, ph, env, ce.counselor)
	require.NoError(t, chromedp.Do(ph,
		chromedp.WaitVisible("#caseload"),
		press(fmt.Sprintf(`tr[data-id="%d"] .row-actions a`, st.ID)),
		chromedp.WaitVisible("#entry-form"),
	))
	accessible(t, ph)
	require.NoError(t, chromedp.Do(ph,
		chromedp.SendKeys("#le-summary", "电话联系：下周参加招聘会 "+xss),
		press("#le-vis-shared"),
		press("#entry-submit"),
		chromedp.WaitVisible("#timeline"),
	))
	require.Equal(t, "已记录到帮扶台账。", text(t, ph, "#flash"))
	require.Equal(t, "电话联系：下周参加招聘会 "+xss, text(t, ph, "#entry-1 .summary"), "shown as text")
	require.Equal(t, "学生可见", text(t, ph, "#entry-1 .vis"))
	require.Equal(t, 0, count(t, ph, "#timeline script"))
	accessible(t, ph)
	logContact(t, ph, env, st.ID, "内部：家庭经济困难，需关注", false)
	require.Equal(t, "内部记录", text(t, ph, "#entry-2 .vis"))
	require.Contains(t, text(t, ph, "#ledger-intact"), "2", "the ledger verifies")

	require.Equal(t, []string{"电话联系：下周参加招聘会 " + xss}, sharedWithStudent(t, env, acc),
		"the graduate sees the shared entry and not the internal one")

	// A correction stands beside the entry it corrects.
	require.NoError(t, chromedp.Do(ph, press("#entry-1 .entry-actions a"), chromedp.WaitVisible("#correct-form")))
	require.Equal(t, "电话联系：下周参加招聘会 "+xss, text(t, ph, "#corrected-entry .summary"))
	accessible(t, ph)
	require.NoError(t, chromedp.Do(ph, noValidate("#correct-form"), press("#correct-submit"), chromedp.WaitVisible("#co-reason[aria-invalid=true]")))
	require.Equal(t, "必填", text(t, ph, "#reason-error"), "the problem next to its field")
	require.NoError(t, chromedp.Do(ph,
		chromedp.SetValue("#co-summary", "电话联系：下周二参加招聘会"),
		chromedp.SendKeys("#co-reason", "日期记错"),
		press("#correct-submit"),
		chromedp.WaitVisible("#timeline")))
	require.Equal(t, "电话联系：下周二参加招聘会", text(t, ph, "#entry-1 .correction p"))
	require.Contains(t, text(t, ph, "#entry-1"), "日期记错")
	require.Equal(t, 2, count(t, ph, "#timeline > li"), "the correction is not an entry of its own on the timeline")
	require.Len(t, sharedWithStudent(t, env, acc), 2, "the correction keeps the visibility of what it corrects")
}

func TestGroupContact(t *testing.T) {
	t.Parallel()
	ce := newCounselorEnv(t, "甲一", "乙二", "丙三", "丁四")
	env := ce.env
	tb := tab(t, desktop)
	noDialogs(t, tb)
	loginAs(t, tb, env, ce.counselor)
	visit(t, tb, env, "/contacts/group", "#group-form")
	accessible(t, tb)
	// Nothing picked: the problem is named, nothing logged.
	require.NoError(t, chromedp.Do(tb, chromedp.SendKeys("#ge-summary", "春季双选会"), press("#group-submit"), chromedp.WaitVisible("#student_ids-error")))
	require.Equal(t, "春季双选会", value(t, tb, "#ge-summary"), "what was typed is kept")
	for _, g := range ce.grads[:3] {
		require.NoError(t, chromedp.Do(tb, press(fmt.Sprintf("#pick-%d", g.ID))))
	}
	require.NoError(t, chromedp.Do(tb, chromedp.SetValue("#ge-summary", "参加春季双选会 "+xss), press("#group-submit"), chromedp.WaitVisible("#group-done")))
	require.Equal(t, "已为 3 名毕业生记录集体联系。", text(t, tb, "#group-done"))
	accessible(t, tb)
	groups := map[string]bool{}
	for i, g := range ce.grads {
		l, err := env.App.Ledger.List(t.Context(), ce.counselor.Actor(), g.ID, bangfu.Page{Limit: 10})
		require.NoError(t, err)
		if i == 3 {
			require.Empty(t, l.Items, "not picked")
			continue
		}
		require.Len(t, l.Items, 1)
		require.Equal(t, "job_fair", l.Items[0].Channel)
		groups[l.Items[0].GroupID.String()] = true
	}
	require.Len(t, groups, 1, "one group contact")
	visit(t, tb, env, fmt.Sprintf("/students/%d", ce.grads[0].ID), "#timeline")
	require.Equal(t, "参加春季双选会 "+xss, text(t, tb, "#timeline .summary"))

	// Everyone matching a filter, with select-all left alone.
	visit(t, tb, env, "/contacts/group?q="+"丁", "#group-form")
	require.Equal(t, 1, count(t, tb, "#caseload tbody tr"))
	require.NoError(t, chromedp.Do(tb, press("#who-filter"), chromedp.SendKeys("#ge-summary", "就业宣讲会"),
		chromedp.SetValue("#ge-channel", "briefing"), press("#group-submit"), chromedp.WaitVisible("#group-done")))
	require.Equal(t, "已为 1 名毕业生记录集体联系。", text(t, tb, "#group-done"))
	l, err := env.App.Ledger.List(t.Context(), ce.counselor.Actor(), ce.grads[3].ID, bangfu.Page{Limit: 10})
	require.NoError(t, err)
	require.Len(t, l.Items, 1)
	require.Equal(t, "briefing", l.Items[0].Channel)
}

// TestImportWithABadRow: the dry run names the problem of the bad row in
// Chinese; importing the file commits nothing.
func TestImportWithABadRow(t *testing.T) {
	t.Parallel()
	ce := newCounselorEnv(t)
	env := ce.env
	good := env.IDNumber()
	csv := "学号,姓名,身份证号,学历,毕业年份\n" +
		"I2026001,导入甲," + good + ",专科,2026\n" +
		"I2026002,导入乙,440106200001011234,本科,2026\n"
	path := filepath.Join(t.TempDir(), "名单.csv")
	require.NoError(t, os.WriteFile(path, []byte(csv), 0o644))
	students := func() int {
		var n int
		require.NoError(t, env.App.DB.Pool.QueryRow(t.Context(), `SELECT count(*) FROM students`).Scan(&n))
		return n
	}
	before := students()

	tb := tab(t, desktop)
	loginAs(t, tb, env, ce.counselor)
	visit(t, tb, env, "/import", "#import-form")
	accessible(t, tb)
	require.NoError(t, chromedp.Do(tb, chromedp.SetUploadFiles("#im-file", []string{path}), press("#import-check"), chromedp.WaitVisible("#import-report")))
	require.Equal(t, "2", text(t, tb, "#rep-rows"))
	require.Equal(t, "1", text(t, tb, "#rep-problems"))
	problem := text(t, tb, "#import-problems tbody tr")
	require.Contains(t, problem, "第 3 行")
	require.Contains(t, problem, "身份证号")
	require.NotContains(t, problem, "check", "the problem is named in Chinese")
	accessible(t, tb)
	require.NoError(t, chromedp.Do(tb, chromedp.SetUploadFiles("#im-file", []string{path}), press("#import-commit"), chromedp.WaitVisible("#form-error")))
	require.Contains(t, text(t, tb, "#form-error"), "没有导入任何数据")
	require.Contains(t, text(t, tb, "#import-problems"), "第 3 行")
	accessible(t, tb)
	require.Equal(t, before, students(), "all or nothing: nothing was imported")

	// Without the bad row the same steps import the file.
	require.NoError(t, os.WriteFile(path, []byte(strings.Join(strings.Split(csv, "\n")[:2], "\n")+"\n"), 0o644))
	require.NoError(t, chromedp.Do(tb, chromedp.SetUploadFiles("#im-file", []string{path}), press("#import-commit"), chromedp.WaitVisible("#flash")))
	require.Equal(t, "导入完成。", text(t, tb, "#flash"))
	require.Equal(t, "1", text(t, tb, "#rep-created"))
	require.Equal(t, before+1, students())
}

// TestPlanEditedInTwoTabs: the second save of two tabs that edited the same
// revision is refused; the page shows both versions and keeps the input;
// nothing is overwritten until the user saves again, knowingly.
func TestPlanEditedInTwoTabs(t *testing.T) {
	t.Parallel()
	ce := newCounselorEnv(t, "李明")
	env, st := ce.env, ce.grads[0]
	_, err := env.App.Plans.Put(t.Context(), ce.counselor.Actor(), st.ID, nil, plan.Input{Goals: []string{"落实就业"}, CadenceDays: 7,
		Measures: []plan.MeasureInput{{Kind: "career_guidance", Description: "简历指导", Owner: "王老师"}}})
	require.NoError(t, err)
	edit := fmt.Sprintf("/students/%d/plan/edit", st.ID)
	a, b := tab(t, desktop), tab(t, desktop)
	loginAs(t, a, env, ce.counselor)
	loginAs(t, b, env, ce.counselor)
	visit(t, a, env, edit, "#plan-form")
	visit(t, b, env, edit, "#plan-form")
	accessible(t, a)

	require.NoError(t, chromedp.Do(a, chromedp.SetValue("#pl-goals", "落实就业\n参加宏志助航培训"), press("#plan-submit"), chromedp.WaitVisible("#plan")))
	require.Contains(t, text(t, a, "#plan-revision"), "2")
	// More rows first (saving nothing), then a measure in a new row.
	require.NoError(t, chromedp.Do(b, press("#more-rows"), chromedp.WaitVisible("#measure-3")))
	require.NoError(t, chromedp.Do(b,
		chromedp.SetValue("#pl-goals", "落实就业 "+xss),
		chromedp.SetValue("#m3-kind", "job_referral"), chromedp.SendKeys("#m3-description", "推荐三个岗位"), chromedp.SendKeys("#m3-owner", "王老师"),
		press("#plan-submit"), chromedp.WaitVisible("#conflict")))
	require.Contains(t, text(t, b, "#conflict"), "有人修改了")
	require.Contains(t, text(t, b, "#theirs"), "参加宏志助航培训", "their version")
	require.Contains(t, text(t, b, "#yours"), "落实就业 "+xss, "your version, as text")
	require.Contains(t, text(t, b, "#yours"), "推荐三个岗位")
	require.Equal(t, "落实就业 "+xss, value(t, b, "#pl-goals"), "the input is kept")
	accessible(t, b)
	pl, err := env.App.Plans.Get(t.Context(), ce.counselor.Actor(), st.ID)
	require.NoError(t, err)
	require.Equal(t, 2, pl.Current.Revision, "nothing was overwritten")
	require.Equal(t, []string{"落实就业", "参加宏志助航培训"}, pl.Current.Goals)

	// Saving again, now based on their revision, makes revision 3.
	require.NoError(t, chromedp.Do(b, press("#plan-submit"), chromedp.WaitVisible("#plan")))
	pl, err = env.App.Plans.Get(t.Context(), ce.counselor.Actor(), st.ID)
	require.NoError(t, err)
	require.Equal(t, 3, pl.Current.Revision)
	require.Len(t, pl.Current.Measures, 2)

	// The diff of the last two revisions.
	visit(t, b, env, fmt.Sprintf("/students/%d/plan/diff", st.ID), "#diff")
	require.Contains(t, text(t, b, "#diff"), "推荐三个岗位")
	require.Contains(t, text(t, b, "#diff ins"), "落实就业 "+xss)
	accessible(t, b)
	visit(t, b, env, fmt.Sprintf("/students/%d/plan/revisions/1", st.ID), "#revision")
	require.Contains(t, text(t, b, "#revision"), "简历指导")
	accessible(t, b)
}

// TestFileForms: the file's other forms — unmasking with a reason (shown
// once), hardship evidence, a destination that must follow the proof
// rules, the graduate's login and its password — each with its problems
// next to its fields.
func TestFileForms(t *testing.T) {
	t.Parallel()
	ce := newCounselorEnv(t)
	env := ce.env
	id := env.IDNumber()
	env.NeverShow(id)
	st := env.MustStudent(t, ce.counselor, graduate.Input{Name: "王小明", IDNumber: id})
	file := fmt.Sprintf("/students/%d", st.ID)
	tb := tab(t, phone)
	noDialogs(t, tb)
	loginAs(t, tb, env, ce.counselor)
	visit(t, tb, env, file, "#profile")
	accessible(t, tb)
	require.NotContains(t, text(t, tb, "#id-number"), id)

	// Unmask: the reason is required; the clear value shows once.
	require.NoError(t, chromedp.Do(tb, press("#profile details.unmask summary"), noValidate("#unmask-id_number"), chromedp.SendKeys("#unmask-id_number-reason", "核"),
		press("#unmask-id_number-submit"), chromedp.WaitVisible("#unmask-id_number-error")))
	require.Equal(t, "核", value(t, tb, "#unmask-id_number-reason"))
	require.NoError(t, chromedp.Do(tb, chromedp.SetValue("#unmask-id_number-reason", "核对就业协议身份信息"),
		press("#unmask-id_number-submit"), chromedp.WaitVisible("#clear-value")))
	require.Contains(t, text(t, tb, "#clear-value"), id)
	accessible(t, tb)
	visit(t, tb, env, file, "#profile")
	require.Equal(t, 0, count(t, tb, "#clear-value"), "shown once")
	var reasons int
	require.NoError(t, env.App.DB.Pool.QueryRow(t.Context(), `SELECT count(*) FROM audit_log WHERE action = 'student.unmask' AND reason = '核对就业协议身份信息'`).Scan(&reasons))
	require.Equal(t, 1, reasons, "the reason is audited")

	// Hardship evidence.
	visit(t, tb, env, file+"/hardships/new", "#hardship-form")
	accessible(t, tb)
	require.NoError(t, chromedp.Do(tb, chromedp.SetValue("#hd-category", "dibao"), chromedp.SendKeys("#hd-evidence", "低保证"),
		chromedp.SendKeys("#hd-authority", "广州市民政局"), press("#hardship-submit"), chromedp.WaitVisible("#hardship-list")))
	require.Contains(t, text(t, tb, "#hardship-list"), "待审核")

	// A destination: the form shows the rule of the chosen code only, and
	// refuses 10 without its proof, naming the fields.
	visit(t, tb, env, file+"/destination/edit", "#dest-form")
	require.NoError(t, chromedp.Do(tb, chromedp.SetValue("#dest-code", "10"), chromedp.Evaluate[chromedp.Void](`document.getElementById("dest-code").dispatchEvent(new Event("change", {bubbles: true}))`)))
	require.Equal(t, 1, count(t, tb, `#dest-rules li:not([hidden])`), "only the chosen code's rule")
	require.Contains(t, text(t, tb, `#dest-rules li:not([hidden])`), "就业协议书")
	accessible(t, tb)
	require.NoError(t, chromedp.Do(tb, noValidate("#dest-form"), chromedp.SendKeys("#dest-employer", "广州某科技有限公司"), chromedp.SetValue("#dest-proof", "other"),
		press("#dest-submit"), chromedp.WaitVisible("#proof_kind-error")))
	require.Contains(t, text(t, tb, "#proof_kind-error"), "就业协议书", "the problem names the proof the code needs")
	require.NotEmpty(t, text(t, tb, "#credit_code-error"))
	require.Equal(t, "广州某科技有限公司", value(t, tb, "#dest-employer"))
	accessible(t, tb)
	require.NoError(t, chromedp.Do(tb, chromedp.SetValue("#dest-code", "70"), press("#dest-submit"), chromedp.WaitVisible("#dest-current")))
	require.Contains(t, text(t, tb, "#dest-current"), "待就业")

	// The graduate's login, then a new password for it.
	visit(t, tb, env, file+"/account", "#account-form")
	accessible(t, tb)
	require.NoError(t, chromedp.Do(tb, noValidate("#account-form"), chromedp.SendKeys("#acc-username", "wang.xm"), chromedp.SendKeys("#acc-password", "short"),
		press("#account-submit"), chromedp.WaitVisible("#password-error")))
	require.Equal(t, "wang.xm", value(t, tb, "#acc-username"))
	require.NoError(t, chromedp.Do(tb, chromedp.SendKeys("#acc-password", " and longer"), press("#account-submit"), chromedp.WaitVisible("#reset-form")))
	require.Contains(t, text(t, tb, "#account-name"), "wang.xm")
	require.NoError(t, chromedp.Do(tb, chromedp.SendKeys("#acc-new-password", "a fresh password"), press("#reset-submit"), waitText("#flash", "密码已重设")))
	_, err := env.App.Auth.Login(t.Context(), "wang.xm", "a fresh password", "")
	require.NoError(t, err)
}

// TestNewFile: a counselor opens a file for one graduate (建档).
func TestNewFile(t *testing.T) {
	t.Parallel()
	ce := newCounselorEnv(t)
	env := ce.env
	valid := env.IDNumber()
	wrongCheck := valid[:17] + map[bool]string{true: "1", false: "2"}[valid[17] != '1']
	tb := tab(t, desktop)
	loginAs(t, tb, env, ce.counselor)
	require.NoError(t, chromedp.Do(tb, chromedp.WaitVisible("#new-file"), press("#new-file"), chromedp.WaitVisible("#newfile-form")))
	accessible(t, tb)
	require.NoError(t, chromedp.Do(tb,
		chromedp.SendKeys("#nf-number", "N2026001"), chromedp.SendKeys("#nf-name", xss),
		chromedp.SendKeys("#nf-id", wrongCheck), chromedp.SetValue("#nf-level", "zhuanke"),
		press("#newfile-submit"), chromedp.WaitVisible("#id_number-error")))
	require.Equal(t, xss, value(t, tb, "#nf-name"), "the input is kept")
	accessible(t, tb)
	require.NoError(t, chromedp.Do(tb, chromedp.SetValue("#nf-id", env.IDNumber()), press("#newfile-submit"), chromedp.WaitVisible("#profile")))
	require.Equal(t, "档案已建立。", text(t, tb, "#flash"))
	require.Contains(t, text(t, tb, "#student-name"), xss, "a name is text")
	visit(t, tb, env, "/", "#caseload")
	require.Contains(t, text(t, tb, "#caseload"), xss)
}

// press clicks sel once the page has loaded (its stylesheet applied), so
// that the click lands where a user's would, not where a half-laid-out
// page had it a moment before.
func press(sel string) chromedp.Action[chromedp.Void] {
	return func(ctx context.Context, tg *chromedp.Target) (chromedp.Void, error) {
		if _, err := chromedp.Poll[chromedp.Void](`document.readyState === "complete"`)(ctx, tg); err != nil {
			return chromedp.Void{}, err
		}
		return chromedp.Click(sel)(ctx, tg)
	}
}

// noValidate turns off the browser's own checks of form sel (required,
// minlength…), to see the server's answer to what they would stop.
func noValidate(sel string) chromedp.Action[chromedp.Void] {
	return chromedp.Evaluate[chromedp.Void](fmt.Sprintf(`document.querySelector(%q).noValidate = true`, sel))
}

// waitText waits until the element sel holds text, across the navigation
// a form causes (polling with the tab's deadline).
func waitText(sel, text string) chromedp.Action[chromedp.Void] {
	js := fmt.Sprintf(`document.querySelector(%q)?.textContent ?? ""`, sel)
	return func(ctx context.Context, tg *chromedp.Target) (chromedp.Void, error) {
		for {
			got, err := chromedp.Evaluate[string](js)(ctx, tg)
			if err == nil && strings.Contains(got, text) {
				return chromedp.Void{}, nil
			}
			select {
			case <-ctx.Done():
				return chromedp.Void{}, fmt.Errorf("waiting for %q in %s: %w", text, sel, ctx.Err())
			case <-time.After(50 * time.Millisecond):
			}
		}
	}
}

// value reads the value of the form field sel.
func value(t *testing.T, ctx context.Context, sel string) string {
	t.Helper()
	v, err := chromedp.Run(ctx, chromedp.Value(sel))
	require.NoError(t, err, "read %s", sel)
	return v
}

// attr reads attribute name of the first element matching sel.
func attr(t *testing.T, ctx context.Context, sel, name string) string {
	t.Helper()
	v, err := chromedp.Run(ctx, chromedp.AttributeValue(sel, name))
	require.NoError(t, err, "read %s[%s]", sel, name)
	return v.Value
}
