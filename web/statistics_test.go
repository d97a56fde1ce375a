package web_test

// Browser tests of the statistics (issue 13): the rate with 待核实 apart,
// as of a past day; the weekly and monthly reports and their trend; the
// 1:500 staffing check and its form; the downloads from the supervisor's
// and the province's pages.

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/require"

	"github.com/bangfu/bangfu"
	"github.com/bangfu/bangfu/internal/destination"
	"github.com/bangfu/bangfu/internal/graduate"
	"github.com/bangfu/bangfu/internal/report"
)

// download fetches href with the page's session and returns its status and
// content type.
func download(t *testing.T, ctx context.Context, href string) string {
	t.Helper()
	js := fmt.Sprintf(`fetch(%q).then(r => r.status + " " + r.headers.get("content-type"))`, href)
	out, err := chromedp.Run(ctx, chromedp.Evaluate[string](js, func(p *runtime.EvaluateParams) { yes := true; p.AwaitPromise = &yes }))
	require.NoError(t, err)
	return out
}

// href reads the href of the first element matching sel.
func href(t *testing.T, ctx context.Context, sel string) string {
	t.Helper()
	v, err := chromedp.Run(ctx, chromedp.AttributeValue(sel, "href"))
	require.NoError(t, err)
	return v.Value
}

// weeksOfHistory gives w's school a few weeks of placements, and takes the
// weekly and monthly snapshots of them as the worker would have.
func weeksOfHistory(t *testing.T, w *world) {
	t.Helper()
	env, ctx := w.env, t.Context()
	start := env.Clock.Now()
	env.Clock.Set(time.Date(2026, 4, 27, 10, 0, 0, 0, bangfu.Shanghai))
	var made []graduate.Student
	for i := range 6 {
		made = append(made, env.MustStudent(t, w.counselor, graduate.Input{Name: fmt.Sprintf("毕业生%d", i), DepartmentID: &w.dept.ID,
			EducationLevel: []string{"zhuanke", "benke", "shuoshi"}[i%3]}))
	}
	for week, st := range made[:5] {
		env.Clock.Set(time.Date(2026, 4, 28, 10, 0, 0, 0, bangfu.Shanghai).AddDate(0, 0, 7*week))
		d, err := env.App.Destinations.Put(ctx, w.counselor.Actor(), st.ID, nil, destination.Input{Code: "80", ProofKind: "admission_notice", ProofRef: fmt.Sprintf("LQ-%d", week)})
		require.NoError(t, err)
		if week%2 == 0 {
			_, err = env.App.Destinations.Verify(ctx, w.supervisor.Actor(), st.ID, d.ID)
			require.NoError(t, err)
		}
	}
	for _, monday := range []int{4, 11, 18, 25} {
		env.Clock.Set(time.Date(2026, 5, monday+7, 0, 5, 0, 0, bangfu.Shanghai))
		if monday == 25 {
			env.Clock.Set(time.Date(2026, 6, 1, 0, 5, 0, 0, bangfu.Shanghai))
			_, err := env.App.Reports.Take(ctx, report.Monthly, bangfu.NewDate(2026, time.May, 1))
			require.NoError(t, err)
		}
		_, err := env.App.Reports.Take(ctx, report.Weekly, bangfu.NewDate(2026, time.May, monday))
		require.NoError(t, err)
	}
	env.Clock.Set(start)
}

// TestStatisticsForTheSupervisor: the rate counts verified destinations
// only, with 待核实 beside it; a past day; the weekly reports' trend; one
// report; the staffing form (and a stale save); the downloads.
func TestStatisticsForTheSupervisor(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	weeksOfHistory(t, w)
	env := w.env
	for _, v := range []struct {
		name string
		vp   viewport
	}{{"desktop", desktop}, {"phone", phone}} {
		ctx := tab(t, v.vp)
		loginAs(t, ctx, env, w.supervisor)
		require.Equal(t, "/ledger/export?graduation_year=2026&format=xlsx", href(t, ctx, "#overview-ledger-xlsx"))
		require.Equal(t, "200 application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", download(t, ctx, href(t, ctx, "#overview-ledger-xlsx")),
			"the overview downloads the ledger")
		require.Contains(t, text(t, ctx, "#overview-exports"), "帮扶台账")

		open(t, ctx, env, "/reports")
		// 王芳's 80 (recorded), 毕业生1 and 毕业生3 (recorded): 待核实;
		// 毕业生0, 2, 4 verified.
		require.Equal(t, "3", text(t, ctx, "#stat-pending strong"), "待核实 apart")
		require.Contains(t, text(t, ctx, "#report-stats"), "已核实 3 / 8 人")
		require.Contains(t, text(t, ctx, "#placement-rule"), "尚未核实的去向单列为“待核实”，不计入落实率")
		require.Equal(t, 1, count(t, ctx, "#by-education table"), "by education level")
		require.Equal(t, 1, count(t, ctx, "#by-year table"), "by graduation year")
		require.Contains(t, text(t, ctx, "#by-department thead"), "待核实")
		require.Equal(t, 4, count(t, ctx, "#trend svg circle.point"), "the weekly reports of the last quarter")
		require.Equal(t, 2, count(t, ctx, "#trend svg line.target"))
		require.Contains(t, text(t, ctx, "#staffing"), "尚未填报")
		require.Equal(t, "200 text/csv; charset=utf-8", download(t, ctx, href(t, ctx, "#download-summary a:last-of-type")))
		accessible(t, ctx)
		screenshot(t, ctx, "statistics-reports-"+v.name)

		// As of a past day: from the history.
		require.NoError(t, chromedp.Do(ctx, chromedp.SetValue("#f-as-of", "2026-05-10")))
		submit(t, ctx, "#report-filters button")
		require.Contains(t, location(t, ctx), "as_of=2026-05-10")
		require.Contains(t, text(t, ctx, "#report-as-of"), "2026年5月10日")
		require.Equal(t, "1", text(t, ctx, "#stat-pending strong"), "on 10 May: 毕业生1 waited")
		accessible(t, ctx)

		// The weekly reports, and one of them.
		require.NoError(t, chromedp.Do(ctx, chromedp.Click("#to-snapshots"), chromedp.WaitVisible("#snapshots-heading")))
		require.Equal(t, 4, count(t, ctx, "#snapshot-table tbody tr"))
		require.Equal(t, 4, count(t, ctx, "#trend svg circle.point"))
		accessible(t, ctx)
		screenshot(t, ctx, "statistics-snapshots-"+v.name)
		require.NoError(t, chromedp.Do(ctx, chromedp.Click("#tab-monthly"), chromedp.WaitVisible("#snapshots-heading")))
		require.Equal(t, 1, count(t, ctx, "#snapshot-table tbody tr"))
		require.NoError(t, chromedp.Do(ctx, chromedp.Click("#snapshot-table tbody tr a"), chromedp.WaitVisible("#snapshot-heading")))
		require.Contains(t, text(t, ctx, "#snapshot-heading"), "月报")
		require.Contains(t, text(t, ctx, "#snapshot-taken"), "第 2 版")
		require.Equal(t, 1, count(t, ctx, "#by-department table"))
		require.Equal(t, "200 application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", download(t, ctx, href(t, ctx, "#download-snapshot a")))
		accessible(t, ctx)
		screenshot(t, ctx, "statistics-snapshot-"+v.name)
	}

	// The staffing form: the school's supervisor records its staff; a save
	// based on a version someone else changed saves nothing and says so.
	ctx := tab(t, phone)
	loginAs(t, ctx, env, w.supervisor)
	open(t, ctx, env, "/reports/staffing")
	require.Contains(t, text(t, ctx, "#staffing-table"), "未填报")
	require.NoError(t, chromedp.Do(ctx, chromedp.SendKeys("#staff", "0")))
	submit(t, ctx, "#save-staffing")
	require.Equal(t, "已保存专职人员人数。", text(t, ctx, "#flash"))
	require.Contains(t, text(t, ctx, "#staffing-table"), "低于1:500", "no staff for its graduates: flagged")
	accessible(t, ctx)
	screenshot(t, ctx, "statistics-staffing-phone")
	one := 1
	_, err := env.App.Reports.PutStaffing(t.Context(), w.supervisor.Actor(), w.school.ID, 2026, &[]int{1}[0], report.StaffingInput{Staff: &one})
	require.NoError(t, err)
	require.NoError(t, chromedp.Do(ctx, chromedp.SetValue("#staff", "2")))
	submit(t, ctx, "#save-staffing")
	require.Contains(t, text(t, ctx, "#stale-staffing"), "您填写的人数：2")
	require.Contains(t, text(t, ctx, "#stale-staffing"), "当前记录为 1 人")
	accessible(t, ctx)
	submit(t, ctx, "#save-staffing")
	require.Equal(t, "已保存专职人员人数。", text(t, ctx, "#flash"))
	require.Contains(t, text(t, ctx, "#staffing-table"), "达到1:500")
}

// TestStatisticsForProvinceAndAdmin: the province's home links to every
// school's figures, the staffing flags and the exports; the province's
// weekly reports by school; the admin records a school's staff.
func TestStatisticsForProvinceAndAdmin(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	weeksOfHistory(t, w)
	env := w.env
	other := env.MustSchool(t)
	env.MustStudent(t, env.MustUser(t, bangfu.RoleCounselor, &other.ID))

	ctx := tab(t, desktop)
	loginAs(t, ctx, env, w.province)
	require.Equal(t, "去向落实率", text(t, ctx, "#reports-heading"))
	require.Contains(t, text(t, ctx, "#staffing"), "共 2 所学校：0 所低于 1:500，2 所尚未填报专职人员。")
	require.Equal(t, 2, count(t, ctx, "#staffing-table tbody tr"), "the flagged schools")
	require.Contains(t, text(t, ctx, "#downloads"), "姓名、学号已脱敏")
	require.Equal(t, "200 application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", download(t, ctx, href(t, ctx, "#download-ledger a")))
	accessible(t, ctx)
	screenshot(t, ctx, "statistics-province-desktop")
	open(t, ctx, env, "/reports/snapshots")
	require.Equal(t, 4, count(t, ctx, "#snapshot-table tbody tr"), "the province's weeks")
	require.NoError(t, chromedp.Do(ctx, chromedp.SetValue("#f-school", itoa(w.school.ID))))
	submit(t, ctx, "#snapshot-filters button")
	require.Equal(t, 4, count(t, ctx, "#snapshot-table tbody tr"))
	require.NoError(t, chromedp.Do(ctx, chromedp.SetValue("#f-school", itoa(other.ID))))
	submit(t, ctx, "#snapshot-filters button")
	require.Equal(t, 1, count(t, ctx, "#no-snapshots"), "a school opened since has none")
	accessible(t, ctx)

	ctx = tab(t, phone)
	loginAs(t, ctx, env, w.admin)
	require.NoError(t, chromedp.Do(ctx, chromedp.Click(`nav.main a[href="/reports/staffing"]`), chromedp.WaitVisible("#staffing-page-heading")))
	submit(t, ctx, "#save-staffing")
	require.Equal(t, "必填", text(t, ctx, "#school_id-error"), "an admin chooses the school")
	accessible(t, ctx)
	require.NoError(t, chromedp.Do(ctx, chromedp.Click(fmt.Sprintf(`#staffing-table tr[data-school="%d"] a`, other.ID)), chromedp.WaitVisible("#staffing-form")))
	require.NoError(t, chromedp.Do(ctx, chromedp.SendKeys("#staff", "3")))
	submit(t, ctx, "#save-staffing")
	require.Equal(t, "已保存专职人员人数。", text(t, ctx, "#flash"))
	require.Contains(t, text(t, ctx, fmt.Sprintf(`#staffing-table tr[data-school="%d"]`, other.ID)), "达到1:500")
	accessible(t, ctx)
	screenshot(t, ctx, "statistics-staffing-admin-phone")

	// Refused: a counselor reads no snapshots; an admin no rates.
	ctx = tab(t, phone)
	loginAs(t, ctx, env, w.counselor)
	open(t, ctx, env, "/reports/snapshots")
	require.Equal(t, "无权访问", text(t, ctx, "#error-heading"))
	open(t, ctx, env, "/reports")
	require.Equal(t, 0, count(t, ctx, "#trend"), "no snapshots for a counselor")
	require.Contains(t, text(t, ctx, "#downloads"), "帮扶台账", "a counselor exports their caseload's ledger")
	accessible(t, ctx)
}
