package roster

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"

	"github.com/bangfu/bangfu"
)

// enqueueBuilds enqueues, on tx, the build of each of the cohorts ids
// that takes nominations today, for the epoch it reads (FOR SHARE, so
// that a build claiming the next epoch waits for tx: see BuildWorker).
func (s *Service) enqueueBuilds(ctx context.Context, tx pgx.Tx, ids []int64) error {
	return s.enqueueWhere(ctx, tx, `c.id = ANY($2)`, ids)
}

// enqueueWhere enqueues the builds of the open cohorts before their
// deadline that match cond ($2 is arg).
func (s *Service) enqueueWhere(ctx context.Context, tx pgx.Tx, cond string, arg any) error {
	rows, err := tx.Query(ctx, `SELECT e.cohort_id, e.epoch FROM roster_build_epochs e JOIN cohorts c ON c.id = e.cohort_id
		WHERE c.state = 'open' AND c.nomination_deadline >= $1 AND `+cond+`
		ORDER BY e.cohort_id FOR SHARE OF e`, s.today().Time(), arg)
	if err != nil {
		return err
	}
	var jobs []river.InsertManyParams
	var a BuildArgs
	if _, err := pgx.ForEachRow(rows, []any{&a.CohortID, &a.Epoch}, func() error {
		jobs = append(jobs, river.InsertManyParams{Args: a})
		return nil
	}); err != nil {
		return err
	}
	if len(jobs) == 0 {
		return nil
	}
	_, err = s.River.InsertManyTx(ctx, tx, jobs)
	return err
}

// OnEligibilityChange is the hook of the packages whose changes can make
// graduates eligible or not (graduate.EligibilityHook, plan.AfterRevise):
// on tx, the transaction of that change, it enqueues the build of every
// cohort taking nominations that the graduates studentIDs may enter
// (their graduation year is its target) or hold a place in.
func (s *Service) OnEligibilityChange(ctx context.Context, tx pgx.Tx, studentIDs ...int64) error {
	if len(studentIDs) == 0 {
		return nil
	}
	return s.enqueueWhere(ctx, tx, `(c.target_year IN (SELECT graduation_year FROM students WHERE id = ANY($2))
		OR c.id IN (SELECT cohort_id FROM roster_places WHERE student_id = ANY($2)))`, studentIDs)
}

// RequestBuild enqueues cohort id's build now (admin), when the cohort is
// open and before its deadline; it reports whether a build was enqueued.
func (s *Service) RequestBuild(ctx context.Context, _ bangfu.Actor, id int64) (bool, error) {
	var enqueued bool
	err := s.DB.InTx(ctx, func(tx pgx.Tx) error {
		c, err := s.cohort(ctx, tx, id)
		if err != nil {
			return err
		}
		if !c.nominating(s.today()) {
			return bangfu.Errorf(bangfu.ECONFLICT, "Cohort %d takes no nominations now (it is %s, nomination deadline %s).", id, c.State, c.NominationDeadline)
		}
		enqueued = true
		return s.enqueueBuilds(ctx, tx, []int64{id})
	})
	return enqueued, err
}

// RefreshArgs is the periodic job that rebuilds every cohort taking
// nominations, so that a roster follows eligibility until its deadline
// even when no change enqueued a build (evidence that expires before a
// cohort starts, for one).
type RefreshArgs struct{}

// Kind is the job's name in River.
func (RefreshArgs) Kind() string { return "roster_refresh" }

// RefreshEvery is how often the periodic refresh runs.
const RefreshEvery = time.Hour

// RefreshWorker enqueues the builds.
type RefreshWorker struct {
	river.WorkerDefaults[RefreshArgs]
	Roster *Service
}

// Work enqueues the build of every cohort taking nominations.
func (w *RefreshWorker) Work(ctx context.Context, _ *river.Job[RefreshArgs]) error {
	return w.Roster.DB.InTx(ctx, func(tx pgx.Tx) error {
		return w.Roster.enqueueWhere(ctx, tx, `$2::bool`, true)
	})
}
