package loadtest

import (
	"context"
	"fmt"
	"io"
	"math"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/bangfu/bangfu"
	"github.com/bangfu/bangfu/internal/app"
	"github.com/bangfu/bangfu/internal/graduate"
	"github.com/bangfu/bangfu/internal/ledger"
	"github.com/bangfu/bangfu/internal/report"
)

// JobOptions say how big the job benchmarks are.
type JobOptions struct {
	// Followups is how many open cases get a contact's follow-up scheduled.
	Followups int
	// ReportRuns is how often the province report runs.
	ReportRuns int
	// Province is who reads the report.
	Province bangfu.Actor
	// Progress, when set, is told what runs.
	Progress io.Writer
}

// RunJobs measures the background work at the database's scale, with the
// app's own wiring, in transactions that roll back so that the data stays
// as it was: the stall sweep over every open case, scheduling the
// follow-ups of many contacts at once, and the province-wide report.
func RunJobs(ctx context.Context, a *app.App, o JobOptions) (*Jobs, error) {
	say := func(format string, args ...any) {
		if o.Progress != nil {
			fmt.Fprintf(o.Progress, format+"\n", args...)
		}
	}
	j := &Jobs{}

	if err := a.DB.Pool.QueryRow(ctx, `SELECT count(*) FROM students WHERE status IN ('open', 'active')`).Scan(&j.Sweep.OpenCases); err != nil {
		return nil, err
	}
	say("  stall sweep over %d open cases (with work set up: some go quiet, some close)…", j.Sweep.OpenCases)
	err := rolledBack(ctx, a, func(tx pgx.Tx) error {
		// Work for the sweep, whatever the last runs left: flags to raise
		// (one open case in 50 of those contacted lately goes quiet for 100
		// days) and flags to clear (one graduate in 100 with an unresolved
		// flag has their case closed).
		now := a.Clock.Now()
		// The sweep decides from case_activity (graduate keeps it in step
		// with students): the set-up writes what a contact 100 days ago
		// and a closing would have left there.
		tag, err := tx.Exec(ctx, `UPDATE case_activity SET last_contact_at = $1::timestamptz - interval '100 days',
				quiet_since = $1::timestamptz - interval '100 days'
			WHERE followed AND last_contact_at > $1::timestamptz - interval '14 days' AND student_id % 50 = 0`, now)
		if err != nil {
			return err
		}
		j.Sweep.MadeQuiet = int(tag.RowsAffected())
		if tag, err = tx.Exec(ctx, `WITH closed AS (UPDATE students SET status = 'closed' WHERE status IN ('open', 'active')
				AND id IN (SELECT student_id FROM escalations WHERE status <> 'resolved' AND student_id % 100 = 0) RETURNING id)
			UPDATE case_activity SET followed = false FROM closed WHERE student_id = closed.id`); err != nil {
			return err
		}
		j.Sweep.Closed = int(tag.RowsAffected())
		start := time.Now()
		res, err := a.SweepWorker().Sweep(ctx, tx)
		j.Sweep.Seconds = time.Since(start).Seconds()
		j.Sweep.Raised, j.Sweep.Cleared, j.Sweep.Notified = res.Raised, res.Cleared, res.Notified
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("stall sweep: %w", err)
	}
	say("    %.2fs: raised %v, cleared %d (set up: %d cases made quiet, %d flagged cases closed)",
		j.Sweep.Seconds, j.Sweep.Raised, j.Sweep.Cleared, j.Sweep.MadeQuiet, j.Sweep.Closed)

	if o.Followups > 0 {
		say("  follow-up scheduling of %d contacts…", o.Followups)
		err = rolledBack(ctx, a, func(tx pgx.Tx) error {
			headers, err := openHeaders(ctx, tx, o.Followups)
			if err != nil {
				return err
			}
			if len(headers) == 0 {
				return nil
			}
			j.Followups.Cases = len(headers)
			now := a.Clock.Now()
			next := bangfu.DateOf(now).AddDays(7)
			start := time.Now()
			// With fewer open cases than contacts, the later contacts go to
			// cases contacted earlier in the run: each cancels the job the
			// earlier one scheduled, as a second contact would.
			for i := range o.Followups {
				h := headers[i%len(headers)]
				actor := bangfu.Actor{UserID: *h.CounselorID, Role: bangfu.RoleCounselor, SchoolID: &h.SchoolID}
				e := ledger.Entry{StudentID: h.StudentID, Kind: "contact", Channel: "phone", OccurredAt: now,
					Summary: "电话联系（压测）", NextFollowupOn: &next, Visibility: "internal", AuthorID: actor.UserID, RecordedAt: now}
				// The hook replaces the job; the append records it in its batch.
				p := &ledger.Pending{Batch: &pgx.Batch{}}
				if err := a.Followups.OnAppend(ctx, tx, actor, h, e, p); err != nil {
					return fmt.Errorf("graduate %d: %w", h.StudentID, err)
				}
				if f := p.Followup; f != nil && !f.Clear {
					if err := graduate.SetFollowup(ctx, tx, h.StudentID, f.JobID, f.ScheduledAt, f.Due); err != nil {
						return fmt.Errorf("graduate %d: %w", h.StudentID, err)
					}
				}
				j.Followups.Contacts++
			}
			j.Followups.Seconds = time.Since(start).Seconds()
			if j.Followups.Seconds > 0 {
				j.Followups.PerSecond = float64(j.Followups.Contacts) / j.Followups.Seconds
			}
			return nil
		})
		if err != nil {
			return nil, fmt.Errorf("follow-ups: %w", err)
		}
	}

	say("  province report, %d runs (uncached)…", o.ReportRuns)
	rate := report.Queries(o.Province, report.Filter{GraduationYear: bangfu.Today(a.Clock).Time().Year()}, bangfu.Today(a.Clock), 14)[0]
	for range o.ReportRuns {
		start := time.Now()
		rows, err := a.DB.Pool.Query(ctx, rate.SQL, rate.Args...)
		if err == nil {
			for rows.Next() {
			}
			err = rows.Err()
		}
		if err != nil {
			return nil, fmt.Errorf("report %s: %w", rate.Name, err)
		}
		j.Report.RateRuns = append(j.Report.RateRuns, roundTo(time.Since(start).Seconds(), 4))

		start = time.Now()
		sum, err := a.Reports.Count(ctx, o.Province, report.Filter{})
		if err != nil {
			return nil, fmt.Errorf("report: %w", err)
		}
		j.Report.Runs = append(j.Report.Runs, roundTo(time.Since(start).Seconds(), 4))
		j.Report.Graduates = sum.Overall.Graduates
	}
	if len(j.Report.Runs) > 0 {
		j.Report.MinSeconds = slices.Min(j.Report.Runs)
		j.Report.MedianSeconds = Median(j.Report.Runs)
		j.Report.RateMedianSeconds = Median(j.Report.RateRuns)
	}
	return j, nil
}

// openHeaders returns the headers of up to n open cases with a counselor,
// in id order, as graduate.Access reads them.
func openHeaders(ctx context.Context, tx pgx.Tx, n int) ([]graduate.Header, error) {
	rows, err := tx.Query(ctx, `SELECT id, school_id, department_id, counselor_id, status, graduation_year FROM students
		WHERE status IN ('open', 'active') AND counselor_id IS NOT NULL ORDER BY id LIMIT $1`, n)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(row pgx.CollectableRow) (graduate.Header, error) {
		var h graduate.Header
		err := row.Scan(&h.StudentID, &h.SchoolID, &h.DepartmentID, &h.CounselorID, &h.Status, &h.GraduationYear)
		return h, err
	})
}

// rolledBack runs fn in a transaction that is always rolled back.
func rolledBack(ctx context.Context, a *app.App, fn func(pgx.Tx) error) error {
	tx, err := a.DB.Pool.Begin(ctx)
	if err != nil {
		return err
	}
	defer tx.Rollback(context.WithoutCancel(ctx))
	return fn(tx)
}

func roundTo(x float64, places int) float64 {
	p := math.Pow(10, float64(places))
	return math.Round(x*p) / p
}
