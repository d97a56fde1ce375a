package apptest

import (
	"context"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"
	"github.com/riverqueue/river/rivertest"
	"github.com/riverqueue/river/rivertype"
	"github.com/stretchr/testify/require"

	"github.com/bangfu/bangfu"
	"github.com/bangfu/bangfu/internal/directory"
	"github.com/bangfu/bangfu/internal/escalation"
	"github.com/bangfu/bangfu/internal/graduate"
	"github.com/bangfu/bangfu/internal/notify"
)

// MustActiveCase creates a file as by (see MustStudent) and makes its case
// active.
func (e *Env) MustActiveCase(t testing.TB, by directory.User, in ...graduate.Input) graduate.Student {
	t.Helper()
	st := e.MustStudent(t, by, in...)
	active := "active"
	st, err := e.App.Graduates.Update(context.Background(), by.Actor(), st.ID, st.Version, graduate.Patch{Status: &active})
	require.NoError(t, err)
	return st
}

// Work works job with the real worker w, in a transaction that commits, as
// a River client would.
func Work[T river.JobArgs](t testing.TB, e *Env, w river.Worker[T], job *rivertype.JobRow) *rivertest.WorkResult {
	t.Helper()
	ctx := context.Background()
	tx, err := e.App.DB.Pool.Begin(ctx)
	require.NoError(t, err)
	defer tx.Rollback(ctx)
	res, err := rivertest.NewWorker(t, riverpgxv5.New(nil), &river.Config{}, w).WorkJob(ctx, t, tx, job)
	require.NoError(t, err)
	require.NoError(t, tx.Commit(ctx))
	return res
}

// Sweep runs one stall sweep at the clock's time and commits it.
func (e *Env) Sweep(t testing.TB) escalation.Result {
	t.Helper()
	var res escalation.Result
	require.NoError(t, e.App.DB.InTx(context.Background(), func(tx pgx.Tx) error {
		var err error
		res, err = e.App.SweepWorker().Sweep(context.Background(), tx)
		return err
	}))
	return res
}

// FollowupJob returns the job row of the graduate's recorded follow-up.
func (e *Env) FollowupJob(t testing.TB, studentID int64) *rivertype.JobRow {
	t.Helper()
	var id *int64
	require.NoError(t, e.App.DB.Pool.QueryRow(context.Background(), `SELECT followup_job_id FROM case_activity WHERE student_id = $1`, studentID).Scan(&id))
	require.NotNil(t, id, "graduate %d has no follow-up", studentID)
	job, err := e.App.River.JobGet(context.Background(), *id)
	require.NoError(t, err)
	return job
}

// Notifications returns u's notifications of kind (all kinds when empty),
// newest first.
func (e *Env) Notifications(t testing.TB, u directory.User, kind string) []notify.Notification {
	t.Helper()
	l, err := e.App.Notify.List(context.Background(), u.Actor(), false, bangfu.Page{Limit: 200})
	require.NoError(t, err)
	out := []notify.Notification{}
	for _, n := range l.Items {
		if kind == "" || n.Kind == kind {
			out = append(out, n)
		}
	}
	return out
}
