package report_test

import (
	"context"
	"io"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/bangfu/bangfu"
	"github.com/bangfu/bangfu/internal/app"
	"github.com/bangfu/bangfu/internal/apptest"
	"github.com/bangfu/bangfu/internal/config"
	"github.com/bangfu/bangfu/internal/report"
)

func TestPeriods(t *testing.T) {
	t.Parallel()
	at := func(s string) time.Time {
		v, err := time.ParseInLocation("2006-01-02 15:04", s, bangfu.Shanghai)
		require.NoError(t, err)
		return v
	}
	for _, tc := range []struct {
		now             string
		weekly, monthly string
	}{
		{"2026-06-01 00:00", "2026-05-25", "2026-05-01"}, // Monday the 1st: both end at midnight
		{"2026-05-31 23:59", "2026-05-18", "2026-04-01"},
		{"2026-06-07 12:00", "2026-05-25", "2026-05-01"},
		{"2026-01-05 00:00", "2025-12-29", "2025-12-01"},
	} {
		require.Equal(t, tc.weekly, report.LastEnded(report.Weekly, at(tc.now)).String(), tc.now)
		require.Equal(t, tc.monthly, report.LastEnded(report.Monthly, at(tc.now)).String(), tc.now)
	}
	require.Equal(t, at("2026-06-01 00:00"), report.SnapshotSchedule{}.Next(at("2026-05-30 08:00")), "the 1st")
	require.Equal(t, at("2026-06-08 00:00"), report.SnapshotSchedule{}.Next(at("2026-06-01 00:00")), "then Monday")
	start, end, err := report.PeriodBounds(report.Monthly, bangfu.NewDate(2026, time.February, 1))
	require.NoError(t, err)
	require.Equal(t, "2026-02-01..2026-02-28", start.String()+".."+end.String())
	_, _, err = report.PeriodBounds(report.Weekly, bangfu.NewDate(2026, time.June, 2))
	require.Equal(t, map[string]string{"period_start": "a week starts on a Monday"}, bangfu.FieldsOf(err))
}

// TestSnapshotReadsTheSameAfterCorrection: May's 月报 says what May said,
// after a destination of May is corrected in June; the table refuses to
// change it.
func TestSnapshotReadsTheSameAfterCorrection(t *testing.T) {
	t.Parallel()
	env := apptest.New(t)
	ctx := t.Context()
	env.Clock.Set(time.Date(2026, 5, 4, 9, 0, 0, 0, bangfu.Shanghai))
	school := env.MustSchool(t)
	supervisor := env.MustUser(t, bangfu.RoleSupervisor, &school.ID)
	counselor := env.MustUser(t, bangfu.RoleCounselor, &school.ID)
	province := env.MustUser(t, bangfu.RoleProvince, nil)
	a, b, c := env.MustActiveCase(t, counselor), env.MustActiveCase(t, counselor), env.MustActiveCase(t, counselor)
	env.Clock.Advance(24 * time.Hour)
	verified(t, env, counselor, supervisor, a, studying)
	put(t, env, counselor, b, studying)
	put(t, env, counselor, c, waiting)

	env.Clock.Set(time.Date(2026, 6, 1, 0, 10, 0, 0, bangfu.Shanghai))
	n, err := env.App.Reports.Take(ctx, report.Monthly, bangfu.NewDate(2026, time.May, 1))
	require.NoError(t, err)
	require.Equal(t, 2, n, "the school's and the province's")
	list, err := env.App.Reports.Snapshots(ctx, supervisor.Actor(), report.SnapshotFilter{Period: report.Monthly}, bangfu.Page{Limit: 10})
	require.NoError(t, err)
	require.Len(t, list.Items, 1)
	head := list.Items[0]
	require.Equal(t, "2026-05-31", head.PeriodEnd.String())
	require.Equal(t, report.RuleVersion, head.RuleVersion)
	require.False(t, head.Late)
	require.Equal(t, report.Rate{Graduates: 3, Placed: 1, Pending: 1, Rate: 1.0 / 3, Target: 0.7}, head.Overall)
	may, err := env.App.Reports.Snapshot(ctx, supervisor.Actor(), head.ID)
	require.NoError(t, err)
	require.NotNil(t, may.Figures.Process, "taken on time: the process measures of the moment")

	// June: a's placement falls through, b's is verified.
	env.Clock.Set(time.Date(2026, 6, 2, 10, 0, 0, 0, bangfu.Shanghai))
	put(t, env, supervisor, a, waiting)
	var current int64
	require.NoError(t, env.App.DB.Pool.QueryRow(ctx, `SELECT destination_id FROM students WHERE id = $1`, b.ID).Scan(&current))
	_, err = env.App.Destinations.Verify(ctx, supervisor.Actor(), b.ID, current)
	require.NoError(t, err)
	live, err := env.App.Reports.Count(ctx, supervisor.Actor(), report.Filter{})
	require.NoError(t, err)
	require.Equal(t, report.Rate{Graduates: 3, Placed: 1, Rate: 1.0 / 3, Target: 0.7}, live.Overall, "today's figures moved")

	again, err := env.App.Reports.Snapshot(ctx, supervisor.Actor(), head.ID)
	require.NoError(t, err)
	require.Equal(t, may, again, "May's snapshot reads the same")
	n, err = env.App.Reports.Take(ctx, report.Monthly, bangfu.NewDate(2026, time.May, 1))
	require.NoError(t, err)
	require.Zero(t, n, "taken once")
	_, err = env.App.DB.Pool.Exec(ctx, `UPDATE report_snapshots SET figures = '{}' WHERE id = $1`, head.ID)
	require.ErrorContains(t, err, "append-only")
	_, err = env.App.DB.Pool.Exec(ctx, `DELETE FROM report_snapshots WHERE id = $1`, head.ID)
	require.ErrorContains(t, err, "append-only")

	// Scope: the province reads every school's and its own; another
	// school's supervisor reads none of them.
	other := env.MustSchool(t)
	stranger := env.MustUser(t, bangfu.RoleSupervisor, &other.ID)
	_, err = env.App.Reports.Snapshot(ctx, stranger.Actor(), head.ID)
	require.Equal(t, bangfu.ENOTFOUND, bangfu.ErrorCode(err))
	_, err = env.App.Reports.Snapshots(ctx, stranger.Actor(), report.SnapshotFilter{SchoolID: &school.ID}, bangfu.Page{Limit: 10})
	require.Equal(t, bangfu.ENOTFOUND, bangfu.ErrorCode(err))
	prov, err := env.App.Reports.Snapshots(ctx, province.Actor(), report.SnapshotFilter{Period: report.Monthly}, bangfu.Page{Limit: 10})
	require.NoError(t, err)
	require.Len(t, prov.Items, 1)
	require.Nil(t, prov.Items[0].SchoolID, "the province's own")
	_, err = env.App.Reports.Snapshot(ctx, supervisor.Actor(), prov.Items[0].ID)
	require.Equal(t, bangfu.ENOTFOUND, bangfu.ErrorCode(err), "a supervisor reads their school's, not the province's")
	whole, err := env.App.Reports.Snapshot(ctx, province.Actor(), prov.Items[0].ID)
	require.NoError(t, err)
	require.Len(t, whole.Figures.BySchool, 1, "the schools that existed when it was taken")
	require.Equal(t, head.Overall, whole.Figures.BySchool[0].Rate)
}

// TestSnapshotsAreTakenOncePerPeriod: takers of one period at once, a
// rerun, and two worker processes with their River clients store one
// snapshot per school and period.
func TestSnapshotsAreTakenOncePerPeriod(t *testing.T) {
	t.Parallel()
	env := apptest.New(t, apptest.Options{Workers: true})
	ctx := t.Context()
	for range 3 {
		school := env.MustSchool(t)
		env.MustStudent(t, env.MustUser(t, bangfu.RoleCounselor, &school.ID))
	}
	// Started at Monday 1 June: the first worker caught up the week and
	// the month that had ended.
	waitSnapshots(t, env, 2*4)

	// Two takers of another period at once.
	var wg sync.WaitGroup
	stored := make([]int, 2)
	for i := range stored {
		wg.Go(func() {
			n, err := env.App.Reports.Take(context.Background(), report.Weekly, bangfu.NewDate(2026, time.May, 18))
			assert.NoError(t, err)
			stored[i] = n
		})
	}
	wg.Wait()
	require.ElementsMatch(t, []int{4, 0}, stored, "one of them took it")

	// A second worker process on the same database, with its own River
	// client: enqueuing the same periods again, by either, adds nothing.
	second, stop := startWorker(t, env)
	defer stop()
	for _, c := range []*river.Client[pgx.Tx]{env.App.River, second.River} {
		res, err := c.Insert(ctx, report.SnapshotArgs{Period: report.Weekly, Start: "2026-05-25"}, nil)
		require.NoError(t, err)
		require.True(t, res.UniqueSkippedAsDuplicate, "River keeps one job per period")
		_, err = c.Insert(ctx, report.SnapshotsDueArgs{}, nil)
		require.NoError(t, err)
	}
	waitJobs(t, env)
	var rows, periods int
	require.NoError(t, env.App.DB.Pool.QueryRow(ctx, `SELECT count(*), count(DISTINCT (period, period_start)) FROM report_snapshots`).Scan(&rows, &periods))
	require.Equal(t, 3, periods)
	require.Equal(t, 3*4, rows, "one per school and period, and the province's")
}

// TestCatchUpAfterDowntime: a worker that starts again after weeks down
// takes the snapshots of the periods it missed — from the history, marked
// late, without process measures — and a month's when it has ended.
func TestCatchUpAfterDowntime(t *testing.T) {
	t.Parallel()
	env := apptest.New(t)
	ctx := t.Context()
	school := env.MustSchool(t)
	supervisor := env.MustUser(t, bangfu.RoleSupervisor, &school.ID)
	counselor := env.MustUser(t, bangfu.RoleCounselor, &school.ID)
	st := env.MustActiveCase(t, counselor)

	_, stop := startWorker(t, env) // Monday 1 June 09:00
	waitSnapshots(t, env, 2*2)
	stop()
	// Down for four weeks; meanwhile a destination is recorded (8 June)
	// and verified (16 June).
	env.Clock.Set(time.Date(2026, 6, 8, 10, 0, 0, 0, bangfu.Shanghai))
	d := put(t, env, counselor, st, studying)
	env.Clock.Set(time.Date(2026, 6, 16, 10, 0, 0, 0, bangfu.Shanghai))
	_, err := env.App.Destinations.Verify(ctx, supervisor.Actor(), st.ID, d.ID)
	require.NoError(t, err)
	env.Clock.Set(time.Date(2026, 6, 29, 8, 0, 0, 0, bangfu.Shanghai))
	_, stop = startWorker(t, env)
	waitSnapshots(t, env, 2*(2+4))
	stop()

	weeks, err := env.App.Reports.Snapshots(ctx, supervisor.Actor(), report.SnapshotFilter{Period: report.Weekly}, bangfu.Page{Limit: 10})
	require.NoError(t, err)
	var starts []string
	var placed, pending []int
	for _, w := range weeks.Items {
		starts = append(starts, w.PeriodStart.String())
		placed = append(placed, w.Overall.Placed)
		pending = append(pending, w.Overall.Pending)
	}
	require.Equal(t, []string{"2026-05-25", "2026-06-01", "2026-06-08", "2026-06-15", "2026-06-22"}, starts, "every week missed")
	require.Equal(t, []int{0, 0, 0, 1, 1}, placed, "each week as it stood at its end")
	require.Equal(t, []int{0, 0, 1, 0, 0}, pending)
	require.False(t, weeks.Items[0].Late)
	require.True(t, weeks.Items[1].Late, "caught up after the downtime")
	late, err := env.App.Reports.Snapshot(ctx, supervisor.Actor(), weeks.Items[1].ID)
	require.NoError(t, err)
	require.Nil(t, late.Figures.Process, "process measures exist only as they are now")

	// June's month ends on the 1st of July.
	env.Clock.Set(time.Date(2026, 7, 1, 0, 5, 0, 0, bangfu.Shanghai))
	_, stop = startWorker(t, env)
	waitSnapshots(t, env, 2*(2+4+1))
	stop()
	months, err := env.App.Reports.Snapshots(ctx, supervisor.Actor(), report.SnapshotFilter{Period: report.Monthly}, bangfu.Page{Limit: 10})
	require.NoError(t, err)
	require.Len(t, months.Items, 2)
	require.Equal(t, "2026-06-01", months.Items[1].PeriodStart.String())
	require.Equal(t, 1, months.Items[1].Overall.Placed)
	require.False(t, months.Items[1].Late)
}

// startWorker starts a worker process of bangfu (River working jobs,
// periodic jobs when elected leader) on env's database and clock; stop
// stops it as SIGTERM would.
func startWorker(t *testing.T, env *apptest.Env) (*app.App, func()) {
	t.Helper()
	dir := t.TempDir()
	cfg, err := config.Load(func(k string) (string, bool) {
		switch k {
		case "DATABASE_URL":
			return env.DatabaseURL, true
		case "BANGFU_STATE_DIR":
			return dir, true
		}
		return "", false
	})
	require.NoError(t, err)
	a, err := app.New(context.Background(), cfg, slog.New(slog.NewTextHandler(io.Discard, nil)),
		app.Options{Workers: true, Clock: env.Clock, PasswordParams: &apptest.CheapPasswords})
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = a.Serve(ctx, nil)
	}()
	var once sync.Once
	stop := func() {
		once.Do(func() {
			cancel()
			<-done
			a.Close()
		})
	}
	t.Cleanup(stop)
	return a, stop
}

// waitSnapshots waits until n snapshots are stored and no snapshot job is
// left to run.
func waitSnapshots(t *testing.T, env *apptest.Env, n int) {
	t.Helper()
	require.EventuallyWithT(t, func(c *assert.CollectT) {
		var rows int
		require.NoError(c, env.App.DB.Pool.QueryRow(context.Background(), `SELECT count(*) FROM report_snapshots`).Scan(&rows))
		assert.Equal(c, n, rows)
	}, 60*time.Second, 50*time.Millisecond)
	waitJobs(t, env)
}

// waitJobs waits until no snapshot job is waiting or running.
func waitJobs(t *testing.T, env *apptest.Env) {
	t.Helper()
	require.EventuallyWithT(t, func(c *assert.CollectT) {
		var left int
		require.NoError(c, env.App.DB.Pool.QueryRow(context.Background(), `SELECT count(*) FROM river_job
			WHERE kind IN ('report_snapshot', 'report_snapshots_due') AND state NOT IN ('completed', 'cancelled', 'discarded')`).Scan(&left))
		assert.Zero(c, left)
	}, 60*time.Second, 50*time.Millisecond)
}
