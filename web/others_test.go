package web_test

// Browser tests of the pages of the student, supervisor, province and
// admin roles, and of the shared escalation queue.

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"

	"github.com/bangfu/bangfu"
	"github.com/bangfu/bangfu/internal/apptest"
	"github.com/bangfu/bangfu/internal/cnid"
	"github.com/bangfu/bangfu/internal/destination"
	"github.com/bangfu/bangfu/internal/directory"
	"github.com/bangfu/bangfu/internal/graduate"
	"github.com/bangfu/bangfu/internal/ledger"
	"github.com/bangfu/bangfu/internal/plan"
)

// world is one school with a person of every role, two quiet cases the
// sweep raised to every level, and a graduate (with a login) who has a
// plan, shared and internal ledger entries and hardship evidence waiting
// for verification; another graduate's destination waits too.
type world struct {
	env                                                    *apptest.Env
	school                                                 directory.School
	dept                                                   directory.Department
	supervisor, counselor, colleague, province, admin, own directory.User
	student, placed                                        graduate.Student
	quiet                                                  []graduate.Student
	hardship                                               graduate.Hardship
}

const (
	sharedSummary   = "已推荐广州云帆科技公司运维岗位，约定周五面试"
	internalSummary = "家庭经济困难，需关注心理状态（内部）"
	xssSummary      = "<script>alert(1)</script>"
)

func newWorld(t *testing.T) *world {
	t.Helper()
	env := apptest.New(t)
	ctx := t.Context()
	w := &world{env: env, school: env.MustSchool(t)}
	w.dept = env.MustDepartment(t, w.school.ID)
	w.supervisor = env.MustUser(t, bangfu.RoleSupervisor, &w.school.ID)
	w.counselor = env.MustUser(t, bangfu.RoleCounselor, &w.school.ID)
	w.colleague = env.MustUser(t, bangfu.RoleCounselor, &w.school.ID)
	w.province = env.MustUser(t, bangfu.RoleProvince, nil)
	w.admin = env.MustUser(t, bangfu.RoleAdmin, nil)

	// Two active cases nobody contacts: after 35 days they are at every
	// level. They graduate next year, so that the summer holidays after this
	// year's graduation do not stretch their thresholds.
	active := "active"
	for _, name := range []string{"赵六", "钱七"} {
		st := env.MustStudent(t, w.counselor, graduate.Input{Name: name, DepartmentID: &w.dept.ID, GraduationYear: 2027})
		_, err := env.App.Graduates.Update(ctx, w.counselor.Actor(), st.ID, st.Version, graduate.Patch{Status: &active})
		require.NoError(t, err)
		w.quiet = append(w.quiet, st)
	}
	for _, day := range []int{14, 21, 35} {
		env.Clock.Set(apptest.Start.AddDate(0, 0, day).Add(time.Hour))
		require.NoError(t, env.App.DB.InTx(ctx, func(tx pgx.Tx) error {
			_, err := env.App.SweepWorker().Sweep(ctx, tx)
			return err
		}))
	}

	c := w.counselor.Actor()
	w.student = env.MustStudent(t, w.counselor, graduate.Input{Name: "李明", DepartmentID: &w.dept.ID})
	var err error
	w.hardship, err = env.App.Graduates.AddHardship(ctx, c, w.student.ID, graduate.HardshipInput{Category: "dibao", EvidenceType: "低保证",
		IssuingAuthority: "广州市民政局", ValidUntil: "2027-06-30"})
	require.NoError(t, err)
	_, err = env.App.Plans.Put(ctx, c, w.student.ID, nil, plan.Input{Goals: []string{"8月底前落实技术支持类岗位"}, CadenceDays: 7,
		Measures: []plan.MeasureInput{
			{Kind: "job_referral", Description: "推荐不少于3个目标岗位", Owner: "王老师", DueOn: "2026-07-31"},
			{Kind: "hongzhi_training", Description: "参加宏志助航培训", Owner: "李明", Status: "in_progress"},
		}})
	require.NoError(t, err)
	now := env.Clock.Now()
	for _, e := range []ledger.Input{
		{Kind: "contact", Channel: "phone", OccurredAt: now.Add(-3 * time.Hour), Summary: sharedSummary, Visibility: "shared", NextStep: "准备面试"},
		{Kind: "note", OccurredAt: now.Add(-2 * time.Hour), Summary: internalSummary, Visibility: "internal"},
		{Kind: "note", OccurredAt: now.Add(-1 * time.Hour), Summary: xssSummary, Visibility: "shared"},
	} {
		_, err := env.App.Ledger.Append(ctx, c, w.student.ID, e)
		require.NoError(t, err)
	}
	w.own, err = env.App.Graduates.CreateAccount(ctx, env.App.Directory, c, w.student.ID, graduate.AccountInput{Username: "li.ming", Password: apptest.Password})
	require.NoError(t, err)

	w.placed = env.MustStudent(t, w.counselor, graduate.Input{Name: "王芳", DepartmentID: &w.dept.ID})
	_, err = env.App.Destinations.Put(ctx, c, w.placed.ID, nil, destination.Input{Code: "80", ProofKind: "admission_notice", ProofRef: "华南理工 2026-0815"})
	require.NoError(t, err)
	return w
}

// submit clicks sel (a submit button) and waits for the page the form
// leads to: the current document is marked first, so that the wait ends
// only in a new one.
func submit(t *testing.T, ctx context.Context, sel string) {
	t.Helper()
	_, err := chromedp.Run(ctx, chromedp.Evaluate[chromedp.Void](`document.documentElement.setAttribute("data-old", "1")`))
	require.NoError(t, err)
	require.NoError(t, chromedp.Do(ctx,
		chromedp.Click(sel, chromedp.NodeVisible),
		chromedp.WaitReady("html:not([data-old]) main"),
	), "submit %s", sel)
}

// open navigates to path and waits for the page.
func open(t *testing.T, ctx context.Context, env *apptest.Env, path string) {
	t.Helper()
	require.NoError(t, chromedp.Do(ctx, chromedp.Navigate(env.URL+path), chromedp.WaitReady("main")))
}

func TestStudentPortal(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	ctx := tab(t, phone)
	loginAs(t, ctx, w.env, w.own)

	require.Equal(t, "我的帮扶", text(t, ctx, "#portal-heading"), "the student's home is the portal")
	require.Contains(t, text(t, ctx, "nav.main"), "我的帮扶")
	require.Contains(t, text(t, ctx, "#my-counselor"), w.counselor.DisplayName)
	require.Contains(t, text(t, ctx, "#plan-goals"), "8月底前落实技术支持类岗位")
	require.Contains(t, text(t, ctx, "#plan-measures"), "岗位推荐", "measures by their names")
	require.Contains(t, text(t, ctx, "#plan-measures"), "进行中", "and their status names")
	require.Contains(t, text(t, ctx, "#plan-measures"), "2026年7月31日", "due dates in Chinese form")
	entries := text(t, ctx, "#shared-entries")
	require.Contains(t, entries, sharedSummary, "a shared entry is shown")
	require.NotContains(t, text(t, ctx, "main"), internalSummary, "an internal entry is not")
	require.Contains(t, entries, xssSummary, "user text is shown as text")
	require.Equal(t, 0, count(t, ctx, "#shared-entries script"))
	accessible(t, ctx)

	// Acknowledging the plan.
	submit(t, ctx, "#acknowledge")
	require.Equal(t, "已确认帮扶计划。", text(t, ctx, "#flash"))
	require.Contains(t, text(t, ctx, "#plan-acknowledged"), "已确认")
	require.Equal(t, 0, count(t, ctx, "#acknowledge-form"))

	// Reporting a destination: a labour contract needs the employer, its
	// credit code and the contract; the problems show next to the fields
	// and what was typed stays.
	require.NoError(t, chromedp.Do(ctx,
		chromedp.SetValue("#code", "11"),
		chromedp.SendKeys("#position", "运维工程师"),
	))
	submit(t, ctx, "#report-submit")
	require.Equal(t, "请修改标出的内容后再提交。", text(t, ctx, "#form-error"))
	require.Equal(t, "去向代码 11 必须填写此项", text(t, ctx, "#employer-error"))
	require.Contains(t, text(t, ctx, "#credit_code-error"), "统一社会信用代码")
	invalid, err := chromedp.Run(ctx, chromedp.AttributeValue("#employer", "aria-invalid"))
	require.NoError(t, err)
	require.Equal(t, "true", invalid.Value)
	position, err := chromedp.Run(ctx, chromedp.Value("#position"))
	require.NoError(t, err)
	require.Equal(t, "运维工程师", position, "the input is kept")
	accessible(t, ctx)

	// An internship certificate is never proof of employment (四不准): the
	// form offers none, and the rules say so.
	require.Contains(t, text(t, ctx, "#four-nots"), "实习或见习证明不能作为就业证明")
	require.Equal(t, 0, count(t, ctx, `#proof_kind option[value*="intern"]`))

	first17 := "91440101000000012"
	require.NoError(t, chromedp.Do(ctx,
		chromedp.SendKeys("#employer", "广州云帆科技有限公司"),
		chromedp.SendKeys("#credit_code", first17+string(cnid.CreditCodeCheck(first17))),
		chromedp.SetValue("#proof_kind", "labor_contract"),
		chromedp.SendKeys("#proof_ref", "HT-2026-0701"),
	))
	submit(t, ctx, "#report-submit")
	require.Equal(t, "已上报，等待就业中心核实。", text(t, ctx, "#flash"))
	require.Contains(t, text(t, ctx, "#current-destination"), "签劳动合同形式就业", "the code by its name")
	require.Equal(t, "本人上报，待核实", text(t, ctx, "#destination-status"))
	accessible(t, ctx)

	// English by the switch.
	require.NoError(t, chromedp.Do(ctx, chromedp.Click("#lang-switch"), chromedp.WaitVisible("#portal-heading")))
	require.Equal(t, "My support", text(t, ctx, "#portal-heading"))
	require.Contains(t, text(t, ctx, "#current-destination"), "Labour contract")
	accessible(t, ctx)
}

// TestSupervisorDailyWork: the overview, acknowledging and resolving an
// escalation, verifying a destination and hardship evidence, the review
// with shared and internal entries, reassigning a graduate, the reports.
func TestSupervisorDailyWork(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	env := w.env
	ctx := tab(t, desktop)
	loginAs(t, ctx, env, w.supervisor)

	require.Equal(t, "工作概览", text(t, ctx, "#overview-heading"), "the supervisor's home is the overview")
	require.Equal(t, "2", text(t, ctx, "#stat-escalations-2 strong"), "two quiet cases wait at level 2")
	require.Equal(t, "1", text(t, ctx, "#stat-destinations strong"))
	require.Equal(t, "1", text(t, ctx, "#stat-hardships strong"))
	accessible(t, ctx)

	// Escalations: from the count to the queue; acknowledge, then resolve.
	require.NoError(t, chromedp.Do(ctx, chromedp.Click("#stat-escalations-2"), chromedp.WaitVisible("#escalations")))
	require.Equal(t, 2, count(t, ctx, "#escalations li.escalation"))
	require.Equal(t, 2, count(t, ctx, `#escalations li[data-level="2"]`), "the level filter applies")
	require.Contains(t, text(t, ctx, "#escalations li:first-child"), "二级（学校）", "each names its level")
	require.Contains(t, text(t, ctx, "#escalations li:first-child"), "长期未联系", "and why")
	href, err := chromedp.Run(ctx, chromedp.AttributeValue(`#escalations li:first-child a.who-link`, "href"))
	require.NoError(t, err)
	require.True(t, strings.HasPrefix(href.Value, "/students/"), "each links to the graduate's file")
	accessible(t, ctx)
	id, err := chromedp.Run(ctx, chromedp.AttributeValue(`#escalations li:first-child`, "data-id"))
	require.NoError(t, err)
	li := fmt.Sprintf(`#escalations li[data-id="%s"]`, id.Value)
	require.NoError(t, chromedp.Do(ctx,
		chromedp.Click(li+" details summary"),
		chromedp.SendKeys(li+" .ack-form textarea", "已安排辅导员本周家访"),
	))
	submit(t, ctx, li+" .ack-form button")
	require.Equal(t, "已受理。", text(t, ctx, "#flash"))
	require.Equal(t, 1, count(t, ctx, "#escalations li.escalation"), "it left the open tab")

	open(t, ctx, env, "/escalations?status=acknowledged")
	require.Equal(t, 1, count(t, ctx, li))
	require.Contains(t, text(t, ctx, li), "已安排辅导员本周家访")
	require.NoError(t, chromedp.Do(ctx, chromedp.Click(li+" details summary")))
	submit(t, ctx, li+" .resolve-form button")
	require.Equal(t, "必填：请说明如何解决", text(t, ctx, li+" .resolve-form .field-error"), "a resolution needs a note, said next to it")
	accessible(t, ctx)
	require.NoError(t, chromedp.Do(ctx, chromedp.SendKeys(li+" .resolve-form textarea", "家访后学生已恢复联系")))
	submit(t, ctx, li+" .resolve-form button")
	require.Equal(t, "已标记为解决。", text(t, ctx, "#flash"))
	open(t, ctx, env, "/escalations?status=resolved&level=2")
	require.Contains(t, text(t, ctx, li), "家访后学生已恢复联系")
	require.Equal(t, 0, count(t, ctx, li+" details"), "a resolved escalation has nothing left to do")
	accessible(t, ctx)

	// Verification: the destination, then the hardship evidence.
	open(t, ctx, env, "/verify")
	require.Contains(t, text(t, ctx, "#pending-destinations"), "王芳")
	require.Contains(t, text(t, ctx, "#pending-destinations"), "升学")
	accessible(t, ctx)
	submit(t, ctx, fmt.Sprintf(`#pending-destinations tr[data-student="%d"] button`, w.placed.ID))
	require.Equal(t, "已核实去向。", text(t, ctx, "#flash"))
	require.Equal(t, 1, count(t, ctx, "#no-destinations"))
	h := fmt.Sprintf(`#pending-hardships li[data-hardship="%d"]`, w.hardship.ID)
	require.NoError(t, chromedp.Do(ctx, chromedp.Click(h+` input[value="rejected"]`)))
	submit(t, ctx, h+" button")
	require.Equal(t, "必填", text(t, ctx, h+" .field-error"), "a rejection needs a reason")
	accessible(t, ctx)
	require.NoError(t, chromedp.Do(ctx, chromedp.Click(h+` input[value="verified"]`)))
	submit(t, ctx, h+" button")
	require.Equal(t, "已记录审核结果。", text(t, ctx, "#flash"))
	require.Equal(t, 1, count(t, ctx, "#no-hardships"))
	var verified string
	require.NoError(t, env.App.DB.Pool.QueryRow(t.Context(), `SELECT status FROM hardships WHERE id = $1`, w.hardship.ID).Scan(&verified))
	require.Equal(t, "verified", verified)

	// The review shows shared and internal entries, marked.
	open(t, ctx, env, "/review")
	table := text(t, ctx, "#review-table")
	require.Contains(t, table, sharedSummary)
	require.Contains(t, table, internalSummary)
	require.Contains(t, table, xssSummary, "user text is shown as text")
	require.Equal(t, 0, count(t, ctx, "#review-table script"))
	require.GreaterOrEqual(t, count(t, ctx, "#review-table tr.shared .badge.ok"), 2)
	require.Equal(t, 1, count(t, ctx, "#review-table tr.internal"))
	accessible(t, ctx)
	require.NoError(t, chromedp.Do(ctx, chromedp.SetValue("#f-kind", "contact")))
	submit(t, ctx, "#review-filters button")
	require.Equal(t, 1, count(t, ctx, "#review-table tbody tr"), "filtered by kind")
	require.Contains(t, location(t, ctx), "kind=contact")

	// Caseloads: process measures only; hand a quiet case to a colleague.
	open(t, ctx, env, "/counselors")
	require.Contains(t, text(t, ctx, "#caseloads"), w.counselor.DisplayName)
	require.NotContains(t, text(t, ctx, "#caseloads"), "落实率", "never a placement rate per counselor")
	accessible(t, ctx)
	open(t, ctx, env, fmt.Sprintf("/counselors?from=%d", w.counselor.ID))
	require.Equal(t, 4, count(t, ctx, "#caseload-files tbody tr"))
	submit(t, ctx, "#reassign-submit")
	require.Contains(t, text(t, ctx, "#form-error"), "请修改")
	require.Equal(t, "必填：请选择接手这些毕业生的辅导员", text(t, ctx, "#counselor_id-error"))
	require.NoError(t, chromedp.Do(ctx,
		chromedp.Click(fmt.Sprintf(`#caseload-files input[value="%d"]`, w.quiet[0].ID)),
		chromedp.SetValue("#counselor_id", itoa(w.colleague.ID)),
	))
	submit(t, ctx, "#reassign-submit")
	require.Equal(t, "已调整负责的辅导员。", text(t, ctx, "#flash"))
	require.Equal(t, 3, count(t, ctx, "#caseload-files tbody tr"), "one graduate left this caseload")
	var counselorID int64
	require.NoError(t, env.App.DB.Pool.QueryRow(t.Context(), `SELECT counselor_id FROM students WHERE id = $1`, w.quiet[0].ID).Scan(&counselorID))
	require.Equal(t, w.colleague.ID, counselorID)
	accessible(t, ctx)

	// Reports: a chart the server draws, and the same figures in a table.
	// (Summaries are counted at most once a minute.)
	env.Clock.Advance(2 * time.Minute)
	open(t, ctx, env, "/reports")
	require.Equal(t, 1, count(t, ctx, "#by-category"), "the evidence verified above counts now")
	require.Equal(t, 1, count(t, ctx, `#by-department svg.chart[role="img"] title`))
	require.Contains(t, text(t, ctx, "#by-department table"), w.dept.Name)
	require.Equal(t, 2, count(t, ctx, "#by-department svg line.target"), "the July and December targets")
	require.Contains(t, text(t, ctx, "#by-category table"), "低保家庭", "categories by their names")
	accessible(t, ctx)
	require.NoError(t, chromedp.Do(ctx, chromedp.SetValue("#f-year", "2025")))
	submit(t, ctx, "#report-filters button")
	require.Contains(t, location(t, ctx), "graduation_year=2025")
	require.Equal(t, 1, count(t, ctx, "#no-graduates"))
}

// TestProvince: the province's home is the statistics per school; its
// review and escalations show names masked.
func TestProvince(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	env := w.env
	ctx := tab(t, phone)
	loginAs(t, ctx, env, w.province)
	require.Equal(t, "去向落实率", text(t, ctx, "#reports-heading"), "the province's home is the reports")
	require.Contains(t, text(t, ctx, "#by-school table"), w.school.Name)
	accessible(t, ctx)
	require.NoError(t, chromedp.Do(ctx, chromedp.Click("#by-school table a"), chromedp.WaitVisible("#school-name")))
	require.Equal(t, w.school.Name, text(t, ctx, "#school-name"))
	require.Contains(t, text(t, ctx, "#by-department table"), w.dept.Name, "a school's departments")
	accessible(t, ctx)

	open(t, ctx, env, "/review")
	table := text(t, ctx, "#review-table")
	require.NotContains(t, table, "李明", "names are masked")
	require.Contains(t, table, "李*")
	accessible(t, ctx)
	open(t, ctx, env, "/escalations?level=3")
	require.Equal(t, 2, count(t, ctx, "#escalations li.escalation"))
	require.NotContains(t, text(t, ctx, "#escalations"), "赵六")
	require.Equal(t, 2, count(t, ctx, "#escalations details"), "province handles level 3")
	accessible(t, ctx)
}

// TestAdminPages: users (create, change, reset, disable, a stale edit),
// schools and departments, rule settings (a stale save), the job queue.
func TestAdminPages(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	env := w.env
	ctx := tab(t, desktop)
	loginAs(t, ctx, env, w.admin)
	require.Equal(t, "用户", text(t, ctx, "main h1"), "the admin's home is the user list")
	require.Contains(t, text(t, ctx, "#users"), w.counselor.Username)
	require.Contains(t, text(t, ctx, "nav.main"), "后台任务")
	accessible(t, ctx)

	require.NoError(t, chromedp.Do(ctx, chromedp.SetValue("#f-role", "province")))
	submit(t, ctx, "#user-filters button")
	require.Equal(t, 1, count(t, ctx, "#users tbody tr"))

	// Creating a user: problems next to the fields, then success.
	open(t, ctx, env, "/admin/users/new")
	require.NoError(t, chromedp.Do(ctx,
		chromedp.SendKeys("#username", "Bad Name"),
		chromedp.SetValue("#role", "counselor"),
		chromedp.SendKeys("#password", "short"),
	))
	submit(t, ctx, "#create-user")
	require.Contains(t, text(t, ctx, "#username-error"), "小写字母")
	require.NotEmpty(t, text(t, ctx, "#school_id-error"), "a counselor needs a school")
	require.NotEmpty(t, text(t, ctx, "#password-error"))
	pw, err := chromedp.Run(ctx, chromedp.Value("#password"))
	require.NoError(t, err)
	require.Empty(t, pw, "a password is never sent back")
	accessible(t, ctx)
	require.NoError(t, chromedp.Do(ctx,
		chromedp.SetValue("#username", "chen.laoshi"),
		chromedp.SendKeys("#display_name", "陈老师"),
		chromedp.SetValue("#school_id", itoa(w.school.ID)),
		chromedp.SetValue("#department_id", itoa(w.dept.ID)),
		chromedp.SendKeys("#password", "a long enough password"),
	))
	submit(t, ctx, "#create-user")
	require.Equal(t, "已创建用户。", text(t, ctx, "#flash"))
	editURL := location(t, ctx)
	accessible(t, ctx)

	// Two tabs edit the same user; the second save shows both versions.
	other := tab(t, desktop)
	loginAs(t, other, env, w.admin)
	require.NoError(t, chromedp.Do(other, chromedp.Navigate(editURL), chromedp.WaitVisible("#profile-form")))
	require.NoError(t, chromedp.Do(ctx, chromedp.SetValue("#role", "supervisor")))
	submit(t, ctx, "#save-user")
	require.Equal(t, "已保存。", text(t, ctx, "#flash"))
	require.NoError(t, chromedp.Do(other, chromedp.SetValue("#display_name", "陈建国")))
	submit(t, other, "#save-user")
	require.Contains(t, text(t, other, "#form-error"), "有人修改了这条记录")
	stale := text(t, other, "#stale-user")
	require.Contains(t, stale, "就业中心负责人", "their version")
	require.Contains(t, stale, "陈建国", "your version")
	name, err := chromedp.Run(other, chromedp.Value("#display_name"))
	require.NoError(t, err)
	require.Equal(t, "陈建国", name, "the input is kept")
	accessible(t, other)
	require.Equal(t, "supervisor", valueOf(t, other, "#role"), "the form is based on the current version")
	u, err := env.App.Directory.UserByUsername(t.Context(), "chen.laoshi")
	require.NoError(t, err)
	require.Equal(t, "陈老师", u.DisplayName, "nothing was overwritten")
	require.Equal(t, bangfu.RoleSupervisor, u.Role)
	submit(t, other, "#save-user")
	require.Equal(t, "已保存。", text(t, other, "#flash"), "saved once the user has seen the other version")
	u, err = env.App.Directory.UserByUsername(t.Context(), "chen.laoshi")
	require.NoError(t, err)
	require.Equal(t, "陈建国", u.DisplayName, "the user's change")
	require.Equal(t, bangfu.RoleSupervisor, u.Role, "and the other's, both kept")
	open(t, ctx, env, "/admin/users/"+itoa(u.ID))

	// Reset the password, then disable the user.
	require.NoError(t, chromedp.Do(ctx, chromedp.SendKeys("#password", "another long password")))
	submit(t, ctx, "#reset-password")
	require.Equal(t, "已重置密码。", text(t, ctx, "#flash"))
	submit(t, ctx, "#toggle-user")
	require.Equal(t, "已停用该用户，其登录已失效。", text(t, ctx, "#flash"))
	require.Equal(t, "已停用", text(t, ctx, "#user-state"))
	var rows int
	require.NoError(t, env.App.DB.Pool.QueryRow(t.Context(), `SELECT count(*) FROM audit_log WHERE actor_id = $1 AND action IN ('user.create', 'user.update')
		AND (detail->>'user_id')::bigint = $2`, w.admin.ID, u.ID).Scan(&rows))
	require.Equal(t, 5, rows, "create, role, name, password, disable: each audited")

	// Schools and departments.
	open(t, ctx, env, "/admin/schools")
	accessible(t, ctx)
	require.NoError(t, chromedp.Do(ctx, chromedp.SendKeys("#code", "4144019876"), chromedp.SendKeys("#name", "岭南职业技术学院")))
	submit(t, ctx, "#create-school")
	require.Equal(t, "已创建学校。", text(t, ctx, "#flash"))
	require.NoError(t, chromedp.Do(ctx, chromedp.SendKeys("#name", "智能制造学院")))
	submit(t, ctx, "#create-department")
	require.Equal(t, "已创建院系。", text(t, ctx, "#flash"))
	require.Contains(t, text(t, ctx, "#departments"), "智能制造学院")
	accessible(t, ctx)

	// Rule settings: a stale save shows both versions and saves nothing.
	open(t, ctx, env, "/admin/settings")
	require.NoError(t, chromedp.Do(other, chromedp.Navigate(env.URL+"/admin/settings"), chromedp.WaitVisible("#settings-form")))
	accessible(t, ctx)
	require.NoError(t, chromedp.Do(ctx, chromedp.SetValue(`input[name="target_july"]`, "0.75")))
	submit(t, ctx, "#save-settings")
	require.Equal(t, "已保存规则设置。", text(t, ctx, "#flash"))
	require.NoError(t, chromedp.Do(other, chromedp.SetValue(`input[name="default_cadence_days"]`, "10")))
	submit(t, other, "#save-settings")
	require.Contains(t, text(t, other, "#stale-settings"), "0.75", "their version")
	require.Equal(t, "10", valueOf(t, other, `input[name="default_cadence_days"]`), "yours, kept")
	accessible(t, other)
	rec, err := env.App.Settings.Get(t.Context(), env.App.DB.Pool)
	require.NoError(t, err)
	require.Equal(t, 14, rec.DefaultCadenceDays, "nothing was overwritten")
	require.InDelta(t, 0.75, rec.TargetJuly, 1e-9)
	require.Equal(t, "0.75", valueOf(t, other, `input[name="target_july"]`), "the form is based on the current version")
	submit(t, other, "#save-settings")
	require.Equal(t, "已保存规则设置。", text(t, other, "#flash"), "saved once the user has seen the other version")
	rec, err = env.App.Settings.Get(t.Context(), env.App.DB.Pool)
	require.NoError(t, err)
	require.Equal(t, 10, rec.DefaultCadenceDays, "the user's change")
	require.InDelta(t, 0.75, rec.TargetJuly, 1e-9, "and the other's, both kept")

	// The job queue is one link away.
	href, err := chromedp.Run(ctx, chromedp.AttributeValue(`nav.main a[href="/admin/jobs"]`, "href"))
	require.NoError(t, err)
	require.Equal(t, "/admin/jobs", href.Value)
}

func valueOf(t *testing.T, ctx context.Context, sel string) string {
	t.Helper()
	v, err := chromedp.Run(ctx, chromedp.Value(sel))
	require.NoError(t, err)
	return v
}

// pageRoles says which roles may use each page of this file's roles; every
// other role is refused with the forbidden page.
var pageRoles = map[string][]bangfu.Role{
	"POST /my/plan/acknowledge":         {bangfu.RoleStudent},
	"POST /my/destination":              {bangfu.RoleStudent},
	"GET /escalations":                  {bangfu.RoleCounselor, bangfu.RoleSupervisor, bangfu.RoleProvince},
	"POST /escalations/1/acknowledge":   {bangfu.RoleCounselor, bangfu.RoleSupervisor, bangfu.RoleProvince},
	"POST /escalations/1/resolve":       {bangfu.RoleCounselor, bangfu.RoleSupervisor, bangfu.RoleProvince},
	"GET /review":                       {bangfu.RoleCounselor, bangfu.RoleSupervisor, bangfu.RoleProvince},
	"GET /counselors":                   {bangfu.RoleSupervisor},
	"POST /counselors/reassign":         {bangfu.RoleSupervisor},
	"GET /verify":                       {bangfu.RoleSupervisor},
	"POST /verify/destinations/1":       {bangfu.RoleSupervisor},
	"POST /verify/hardships/1/1":        {bangfu.RoleSupervisor},
	"GET /reports":                      {bangfu.RoleCounselor, bangfu.RoleSupervisor, bangfu.RoleProvince},
	"GET /admin/users/new":              {bangfu.RoleAdmin},
	"POST /admin/users":                 {bangfu.RoleAdmin},
	"GET /admin/users/1":                {bangfu.RoleAdmin},
	"POST /admin/users/1":               {bangfu.RoleAdmin},
	"POST /admin/users/1/password":      {bangfu.RoleAdmin},
	"POST /admin/users/1/disabled":      {bangfu.RoleAdmin},
	"GET /admin/schools":                {bangfu.RoleAdmin},
	"POST /admin/schools":               {bangfu.RoleAdmin},
	"GET /admin/schools/1":              {bangfu.RoleAdmin},
	"POST /admin/schools/1/departments": {bangfu.RoleAdmin},
	"GET /admin/settings":               {bangfu.RoleAdmin},
	"POST /admin/settings":              {bangfu.RoleAdmin},
}

// TestWrongRoleIsRefused: every page of this file's roles answers a
// browser of another role with the forbidden page (403), before any form
// is read.
func TestWrongRoleIsRefused(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	env := w.env
	users := map[bangfu.Role]directory.User{bangfu.RoleStudent: w.own, bangfu.RoleCounselor: w.counselor,
		bangfu.RoleSupervisor: w.supervisor, bangfu.RoleProvince: w.province, bangfu.RoleAdmin: w.admin,
		bangfu.RoleBase: env.MustUser(t, bangfu.RoleBase, nil)}
	clients := map[bangfu.Role]*http.Client{}
	for role, u := range users {
		jar, err := cookiejar.New(nil)
		require.NoError(t, err)
		c := &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
		resp, err := c.PostForm(env.URL+"/login", url.Values{"username": {u.Username}, "password": {apptest.Password}})
		require.NoError(t, err)
		resp.Body.Close()
		require.Equal(t, http.StatusSeeOther, resp.StatusCode)
		clients[role] = c
	}
	for route, allowed := range pageRoles {
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
			require.Contains(t, string(body), `<h1 id="error-heading">无权访问</h1>`, "%s as %s: the forbidden page", route, role)
		}
	}

	// The same in a browser, with the page checked for accessibility.
	ctx := tab(t, phone)
	loginAs(t, ctx, env, w.counselor)
	open(t, ctx, env, "/verify")
	require.Equal(t, "无权访问", text(t, ctx, "#error-heading"))
	accessible(t, ctx)
}

func contains(roles []bangfu.Role, r bangfu.Role) bool {
	for _, x := range roles {
		if x == r {
			return true
		}
	}
	return false
}
