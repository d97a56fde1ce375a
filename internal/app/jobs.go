package app

import (
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"

	"github.com/bangfu/bangfu/internal/auth"
	"github.com/bangfu/bangfu/internal/escalation"
	"github.com/bangfu/bangfu/internal/followup"
	"github.com/bangfu/bangfu/internal/graduate"
	"github.com/bangfu/bangfu/internal/notify"
	"github.com/bangfu/bangfu/internal/report"
	"github.com/bangfu/bangfu/internal/roster"
)

// Workers returns every job worker, wired to the app's services.
func (a *App) Workers() (*river.Workers, error) {
	w := river.NewWorkers()
	river.AddWorker(w, &auth.PurgeWorker{DB: a.DB, Clock: a.Clock, Throttle: auth.DefaultThrottle})
	river.AddWorker(w, &followup.DueWorker{DB: a.DB, Notify: a.Notify})
	river.AddWorker(w, a.SweepWorker())
	river.AddWorker(w, &graduate.ExpiryWorker{DB: a.DB, Clock: a.Clock, Settings: a.Settings, Notify: a.Notify,
		AfterEligibility: a.Roster.OnEligibilityChange})
	river.AddWorker(w, &roster.BuildWorker{Roster: a.Roster})
	river.AddWorker(w, &roster.RefreshWorker{Roster: a.Roster})
	river.AddWorker(w, &roster.DeliverWorker{Roster: a.Roster})
	river.AddWorker(w, &report.SnapshotsDueWorker{Reports: a.Reports})
	river.AddWorker(w, &report.SnapshotWorker{Reports: a.Reports})
	river.AddWorker(w, &notify.EmailWorker{DB: a.DB, Mailer: a.Notify.Mailer, Notify: a.Notify})
	river.AddWorker(w, &notify.DeliverWorker{Notify: a.Notify})
	river.AddWorker(w, &notify.DigestWorker{Notify: a.Notify})
	return w, nil
}

// SweepWorker is the stall sweep, wired.
func (a *App) SweepWorker() *escalation.SweepWorker {
	return &escalation.SweepWorker{DB: a.DB, Clock: a.Clock, Settings: a.Settings, Notify: a.Notify}
}

// newRiver builds the River client. Every process can insert jobs; with
// workers it also works them, and the elected leader runs the periodic
// jobs, so several processes never run a periodic job twice.
func (a *App) newRiver() (*river.Client[pgx.Tx], error) {
	rc := &river.Config{
		Logger:               a.Log,
		SoftStopTimeout:      a.Config.ShutdownTimeout,
		JobTimeout:           a.Config.JobTimeout,
		RescueStuckJobsAfter: a.Config.JobRescueAfter,
	}
	workers, err := a.Workers()
	if err != nil {
		return nil, err
	}
	// Registered even when not working, so that inserts are checked.
	rc.Workers = workers
	if a.workers {
		rc.Queues = map[string]river.QueueConfig{river.QueueDefault: {MaxWorkers: a.Config.JobWorkers}}
		rc.PeriodicJobs = []*river.PeriodicJob{
			river.NewPeriodicJob(river.PeriodicInterval(6*time.Hour),
				func() (river.JobArgs, *river.InsertOpts) { return auth.PurgeArgs{}, nil },
				&river.PeriodicJobOpts{ID: "auth_purge"}),
			river.NewPeriodicJob(a.Settings.SweepSchedule(),
				func() (river.JobArgs, *river.InsertOpts) { return escalation.SweepArgs{}, nil },
				&river.PeriodicJobOpts{ID: "stall_sweep", RunOnStart: true}),
			river.NewPeriodicJob(graduate.DailyAt{Hour: 6},
				func() (river.JobArgs, *river.InsertOpts) { return graduate.ExpiryArgs{}, nil },
				&river.PeriodicJobOpts{ID: "evidence_expiry", RunOnStart: true}),
			river.NewPeriodicJob(river.PeriodicInterval(roster.RefreshEvery),
				func() (river.JobArgs, *river.InsertOpts) { return roster.RefreshArgs{}, nil },
				&river.PeriodicJobOpts{ID: "roster_refresh", RunOnStart: true}),
			// Every five minutes, and at start: a digest missed while no
			// process ran goes out late the same day (notify.BuildDigests).
			river.NewPeriodicJob(notify.EveryMinutes{N: 5},
				func() (river.JobArgs, *river.InsertOpts) { return notify.DigestArgs{}, nil },
				&river.PeriodicJobOpts{ID: "notify_digest", RunOnStart: true}),
			// At start it catches up the snapshots missed while down.
			river.NewPeriodicJob(report.SnapshotSchedule{},
				func() (river.JobArgs, *river.InsertOpts) { return report.SnapshotsDueArgs{}, nil },
				&river.PeriodicJobOpts{ID: "report_snapshots_due", RunOnStart: true}),
		}
	}
	return river.NewClient(riverpgxv5.New(a.DB.Pool), rc)
}
