package followup_test

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"
	"github.com/riverqueue/river/rivertest"
	"github.com/riverqueue/river/rivertype"
	"github.com/stretchr/testify/require"

	"github.com/bangfu/bangfu"
	"github.com/bangfu/bangfu/internal/apptest"
	"github.com/bangfu/bangfu/internal/directory"
	"github.com/bangfu/bangfu/internal/followup"
	"github.com/bangfu/bangfu/internal/graduate"
	"github.com/bangfu/bangfu/internal/ledger"
	"github.com/bangfu/bangfu/internal/plan"
)

// world is one test's school: a supervisor, a counselor and an active case
// assigned to the counselor.
type world struct {
	env                   *apptest.Env
	supervisor, counselor directory.User
	student               graduate.Student
}

func newWorld(t *testing.T) *world {
	t.Helper()
	env := apptest.New(t)
	school := env.MustSchool(t)
	w := &world{env: env,
		supervisor: env.MustUser(t, bangfu.RoleSupervisor, &school.ID),
		counselor:  env.MustUser(t, bangfu.RoleCounselor, &school.ID),
	}
	w.student = env.MustActiveCase(t, w.counselor)
	return w
}

func (w *world) contact(t *testing.T, studentID int64, nextFollowup string) ledger.Entry {
	t.Helper()
	e, err := w.env.App.Ledger.Append(t.Context(), w.counselor.Actor(), studentID, ledger.Input{
		Kind: "contact", Channel: "phone", OccurredAt: w.env.Clock.Now(), Summary: "电话联系", NextFollowupOn: nextFollowup,
	})
	require.NoError(t, err)
	return e
}

func (w *world) dueWorker() *followup.DueWorker {
	return &followup.DueWorker{DB: w.env.App.DB, Notify: w.env.App.Notify}
}

// runAgain runs a worker on a job row again, whatever its state, as a
// retry after a crash would.
func runAgain(t *testing.T, w river.Worker[followup.DueArgs], row *rivertype.JobRow) {
	t.Helper()
	var args followup.DueArgs
	require.NoError(t, json.Unmarshal(row.EncodedArgs, &args))
	require.NoError(t, w.Work(t.Context(), &river.Job[followup.DueArgs]{JobRow: row, Args: args}))
}

// requireLive checks the graduate's live follow-up job is due on day, at 09:00 Shanghai.
func requireLive(t *testing.T, env *apptest.Env, studentID int64, day string) {
	t.Helper()
	job := env.FollowupJob(t, studentID)
	var args followup.DueArgs
	require.NoError(t, json.Unmarshal(job.EncodedArgs, &args))
	require.Equal(t, followup.DueArgs{StudentID: studentID, DueOn: day}, args)
	d, err := time.ParseInLocation(time.DateOnly, day, bangfu.Shanghai)
	require.NoError(t, err)
	require.True(t, job.ScheduledAt.Equal(d.Add(9*time.Hour)), "scheduled at %s", job.ScheduledAt)
	require.Equal(t, rivertype.JobStateScheduled, job.State)
}

func planInput(cadence int) plan.Input {
	return plan.Input{Goals: []string{"落实就业"}, CadenceDays: cadence}
}

func TestContactEnqueuesFollowupInItsTransaction(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	ctx := t.Context()
	tx, err := w.env.App.DB.Pool.Begin(ctx)
	require.NoError(t, err)
	defer tx.Rollback(ctx)
	h, err := graduate.Access(ctx, tx, w.counselor.Actor(), w.student.ID, true)
	require.NoError(t, err)
	due := bangfu.NewDate(2026, time.June, 10)
	require.NoError(t, w.env.App.Followups.OnAppend(ctx, tx, w.counselor.Actor(), h, ledger.Entry{Kind: "contact", OccurredAt: w.env.Clock.Now(), NextFollowupOn: &due}))
	job := rivertest.RequireInsertedTx[*riverpgxv5.Driver](ctx, t, tx, followup.DueArgs{StudentID: w.student.ID, DueOn: "2026-06-10"},
		&rivertest.RequireInsertedOpts{ScheduledAt: time.Date(2026, 6, 10, 9, 0, 0, 0, bangfu.Shanghai), State: rivertype.JobStateScheduled})
	require.Equal(t, w.student.ID, job.Args.StudentID, "job arguments carry ids only")
	require.NoError(t, tx.Rollback(ctx))
	var n int
	require.NoError(t, w.env.App.DB.Pool.QueryRow(ctx, `SELECT count(*) FROM river_job WHERE kind = 'followup_due' AND args->>'due_on' = '2026-06-10'`).Scan(&n))
	require.Zero(t, n, "rolled back with the contact")
}

func TestNewerContactSupersedesFollowup(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	ctx := t.Context()
	w.contact(t, w.student.ID, "2026-06-08")
	first := w.env.FollowupJob(t, w.student.ID)
	require.Equal(t, rivertype.JobStateScheduled, first.State)

	// No date given and no plan: the default cadence (14 days) applies.
	w.contact(t, w.student.ID, "")
	requireLive(t, w.env, w.student.ID, "2026-06-15")
	old, err := w.env.App.River.JobGet(ctx, first.ID)
	require.NoError(t, err)
	require.Equal(t, rivertype.JobStateCancelled, old.State, "only the newest due date is live")

	// The superseded job, if it ran anyway, does nothing.
	runAgain(t, w.dueWorker(), first)
	require.Empty(t, w.env.Notifications(t, w.counselor, "followup_due"))

	// A plan cadence decides the next date when the contact does not.
	_, err = w.env.App.Plans.Put(ctx, w.counselor.Actor(), w.student.ID, nil, planInput(5))
	require.NoError(t, err)
	w.contact(t, w.student.ID, "")
	requireLive(t, w.env, w.student.ID, "2026-06-06")
	var live int
	require.NoError(t, w.env.App.DB.Pool.QueryRow(ctx, `SELECT count(*) FROM river_job WHERE kind = 'followup_due' AND state = 'scheduled'`).Scan(&live))
	require.Equal(t, 1, live, "one live follow-up per graduate")
}

func TestFollowupDueRemindsOnce(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	w.contact(t, w.student.ID, "2026-06-08")
	job := w.env.FollowupJob(t, w.student.ID)

	w.env.Clock.Set(time.Date(2026, 6, 8, 9, 0, 0, 0, bangfu.Shanghai))
	res := apptest.Work(t, w.env, w.dueWorker(), job)
	require.Equal(t, rivertype.JobStateCompleted, res.Job.State)
	reminders := w.env.Notifications(t, w.counselor, "followup_due")
	require.Len(t, reminders, 1)
	require.Contains(t, reminders[0].Title, w.student.Name)
	st, err := w.env.App.Graduates.Get(t.Context(), w.counselor.Actor(), w.student.ID)
	require.NoError(t, err)
	require.True(t, st.Overdue, "the file shows overdue")

	// Run twice (a retry after a crash): nothing twice.
	runAgain(t, w.dueWorker(), job)
	require.Len(t, w.env.Notifications(t, w.counselor, "followup_due"), 1)

	// A contact clears it.
	w.contact(t, w.student.ID, "")
	st, err = w.env.App.Graduates.Get(t.Context(), w.counselor.Actor(), w.student.ID)
	require.NoError(t, err)
	require.False(t, st.Overdue)
}

func TestFollowupAfterContactSinceDoesNothing(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	w.contact(t, w.student.ID, "2026-06-08")
	job := w.env.FollowupJob(t, w.student.ID)
	// A contact is logged on the graduate's row without rescheduling
	// (a group contact through another path would do this).
	_, err := w.env.App.DB.Pool.Exec(t.Context(), `UPDATE students SET last_contact_at = $2 WHERE id = $1`, w.student.ID, w.env.Clock.Now().Add(time.Hour))
	require.NoError(t, err)
	apptest.Work(t, w.env, w.dueWorker(), job)
	require.Empty(t, w.env.Notifications(t, w.counselor, "followup_due"))
}
