package demo_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/bangfu/bangfu"
	"github.com/bangfu/bangfu/internal/apptest"
	"github.com/bangfu/bangfu/internal/demo"
	"github.com/bangfu/bangfu/internal/graduate"
)

// TestSeed: the demo lets each user do the day's work (a caseload of every
// urgency, queues waiting for the supervisor, a student with shared and
// internal entries and a plan to acknowledge), loads quickly, and loading
// it twice changes nothing.
func TestSeed(t *testing.T) {
	t.Parallel()
	env := apptest.New(t)
	ctx := t.Context()
	logins, err := demo.Seed(ctx, env.App)
	require.NoError(t, err)
	roles := map[bangfu.Role]int{}
	for _, l := range logins {
		roles[l.Role]++
	}
	require.Equal(t, map[bangfu.Role]int{bangfu.RoleAdmin: 1, bangfu.RoleProvince: 1, bangfu.RoleSupervisor: 2, bangfu.RoleCounselor: 2, bangfu.RoleStudent: 2, bangfu.RoleBase: 1}, roles)

	counts := func() map[string]int {
		out := map[string]int{}
		for _, table := range []string{"users", "students", "hardships", "plan_revisions", "plan_measures", "ledger_entries", "destinations", "escalations", "notifications", "audit_log"} {
			var n int
			require.NoError(t, env.App.DB.Pool.QueryRow(ctx, `SELECT count(*) FROM `+table).Scan(&n))
			out[table] = n
		}
		var jobs int
		require.NoError(t, env.App.DB.Pool.QueryRow(ctx, `SELECT count(*) FROM river_job`).Scan(&jobs))
		out["river_job"] = jobs
		return out
	}
	first := counts()
	_, err = demo.Seed(ctx, env.App)
	require.NoError(t, err)
	second := counts()
	// Logging in the demo users again rewrites nothing but their own rows
	// (EnsureUser); nothing else changes.
	require.Equal(t, first, second, "a second seed changes nothing")

	user := func(name string) bangfu.Actor {
		u, err := env.App.Directory.UserByUsername(ctx, name)
		require.NoError(t, err)
		return u.Actor()
	}
	counselor := user("counselor")
	n, err := env.App.Graduates.CaseloadCounts(ctx, counselor)
	require.NoError(t, err)
	t.Logf("demo counselor's caseload: %+v", n)
	require.GreaterOrEqual(t, n.Total, 28)
	require.Positive(t, n.Overdue)
	require.Positive(t, n.DueThisWeek)
	require.Positive(t, n.Escalated)
	l, err := env.App.Graduates.Caseload(ctx, counselor, graduate.CaseloadFilter{}, "", 100)
	require.NoError(t, err)
	levels := map[int]bool{}
	never := false
	for _, r := range l.Items {
		levels[r.EscalationLevel] = true
		never = never || r.LastContactAt == nil
	}
	require.Equal(t, map[int]bool{0: true, 1: true, 2: true, 3: true}, levels, "open escalations at every level")
	require.True(t, never, "new files not contacted yet")
	require.True(t, l.Items[0].Overdue, "the most urgent first")

	cohort := demo.CurrentCohort(env.Clock.Now())
	years := map[int]int{}
	var unverified, waiting, reported int
	require.NoError(t, env.App.DB.Pool.QueryRow(ctx, `SELECT count(*) FROM hardships WHERE status = 'unverified'`).Scan(&unverified))
	require.NoError(t, env.App.DB.Pool.QueryRow(ctx, `SELECT count(*) FILTER (WHERE d.status = 'recorded'), count(*) FILTER (WHERE d.status = 'reported')
		FROM destinations d JOIN students s ON s.destination_id = d.id`).Scan(&waiting, &reported))
	rows, err := env.App.DB.Pool.Query(ctx, `SELECT graduation_year, count(*) FROM students GROUP BY 1`)
	require.NoError(t, err)
	for rows.Next() {
		var y, c int
		require.NoError(t, rows.Scan(&y, &c))
		years[y] = c
	}
	require.Positive(t, years[cohort], "the cohort now being placed")
	require.Positive(t, years[cohort-1], "last year's cohort")
	require.Positive(t, unverified, "evidence waiting for verification")
	require.Positive(t, reported, "a destination reported by a student waits")
	require.Positive(t, waiting, "a destination recorded by a counselor waits (or code 70-72 records)")

	// The demo student: a shared and an internal entry (he sees only the
	// shared), and a plan revision he has not acknowledged.
	student := user("student")
	all, err := env.App.Ledger.List(ctx, counselor, *student.StudentID, bangfu.Page{Limit: 50})
	require.NoError(t, err)
	mine, err := env.App.Ledger.List(ctx, student, *student.StudentID, bangfu.Page{Limit: 50})
	require.NoError(t, err)
	require.Greater(t, len(all.Items), len(mine.Items))
	require.NotEmpty(t, mine.Items)
	for _, e := range mine.Items {
		require.Equal(t, "shared", e.Visibility)
	}
	pl, err := env.App.Plans.Get(ctx, counselor, *student.StudentID)
	require.NoError(t, err)
	require.Equal(t, 2, pl.Current.Revision)
	require.Nil(t, pl.Current.AcknowledgedAt)
	require.NotNil(t, pl.Revisions[1].AcknowledgedAt)
	v, err := env.App.Ledger.Verify(ctx, counselor, *student.StudentID)
	require.NoError(t, err)
	require.True(t, v.Intact)

	// The department supervisor sees their department only.
	dept, err := env.App.Graduates.CaseloadCounts(ctx, user("dept-supervisor"))
	require.NoError(t, err)
	school, err := env.App.Graduates.CaseloadCounts(ctx, user("supervisor"))
	require.NoError(t, err)
	require.Less(t, dept.Total, school.Total)
}
