package followup_test

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"
	"github.com/stretchr/testify/require"

	"github.com/bangfu/bangfu"
	"github.com/bangfu/bangfu/internal/apptest"
	"github.com/bangfu/bangfu/internal/destination"
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
	p := &ledger.Pending{Batch: &pgx.Batch{}}
	require.NoError(t, w.env.App.Followups.OnAppend(ctx, tx, w.counselor.Actor(), h, ledger.Entry{Kind: "contact", OccurredAt: w.env.Clock.Now(), NextFollowupOn: &due}, p))
	require.NotNil(t, p.Followup, "the hook hands the new follow-up to the append's batch")
	require.Equal(t, due, p.Followup.Due)
	var args map[string]any
	var at time.Time
	var state string
	require.NoError(t, tx.QueryRow(ctx, `SELECT args, scheduled_at, state FROM river_job
		WHERE kind = 'followup_due' AND args->>'due_on' = '2026-06-10'`).Scan(&args, &at, &state))
	require.Equal(t, map[string]any{"student_id": float64(w.student.ID), "due_on": "2026-06-10"}, args, "job arguments carry ids only")
	require.True(t, at.Equal(time.Date(2026, 6, 10, 9, 0, 0, 0, bangfu.Shanghai)), "at 09:00 on the day: %s", at)
	require.Equal(t, "scheduled", state)
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
	_, err := w.env.App.River.JobGet(ctx, first.ID)
	require.ErrorIs(t, err, river.ErrNotFound, "only the newest due date is live: the superseded job is withdrawn")

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
	_, err := w.env.App.DB.Pool.Exec(t.Context(), `UPDATE case_activity SET last_contact_at = $2 WHERE student_id = $1`, w.student.ID, w.env.Clock.Now().Add(time.Hour))
	require.NoError(t, err)
	apptest.Work(t, w.env, w.dueWorker(), job)
	require.Empty(t, w.env.Notifications(t, w.counselor, "followup_due"))
}

// liveFollowup returns the graduate's recorded follow-up job and due day,
// or nil when none is recorded.
func liveFollowup(t *testing.T, env *apptest.Env, studentID int64) (*rivertype.JobRow, *bangfu.Date) {
	t.Helper()
	var id *int64
	var due *time.Time
	require.NoError(t, env.App.DB.Pool.QueryRow(t.Context(), `SELECT followup_job_id, next_followup_on FROM case_activity WHERE student_id = $1`, studentID).Scan(&id, &due))
	if id == nil {
		require.Nil(t, due, "no job, no date")
		return nil, nil
	}
	job, err := env.App.River.JobGet(t.Context(), *id)
	require.NoError(t, err)
	return job, bangfu.DatePtr(due)
}

func TestNewOrReopenedFileGetsItsFirstFollowupAtOnce(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	ctx := t.Context()
	st := w.env.MustStudent(t, w.counselor)
	require.NotNil(t, st.NextFollowupOn, "the new file shows its first follow-up")
	require.Equal(t, "2026-06-15", st.NextFollowupOn.String(), "after the default cadence (14 days)")
	requireLive(t, w.env, st.ID, "2026-06-15")

	// Closed: nothing pending. Reopened: a first follow-up again.
	closed, active := "closed", "active"
	st, err := w.env.App.Graduates.Update(ctx, w.counselor.Actor(), st.ID, st.Version, graduate.Patch{Status: &closed})
	require.NoError(t, err)
	require.Nil(t, st.NextFollowupOn)
	w.env.Clock.Set(time.Date(2026, 6, 20, 10, 0, 0, 0, bangfu.Shanghai))
	st, err = w.env.App.Graduates.Update(ctx, w.counselor.Actor(), st.ID, st.Version, graduate.Patch{Status: &active})
	require.NoError(t, err)
	require.Equal(t, "2026-07-04", st.NextFollowupOn.String())
	requireLive(t, w.env, st.ID, "2026-07-04")
}

// TestLeavingTheCaseloadCancelsTheFollowup: closing, transferring or
// placing a case cancels its pending follow-up in the same transaction, so
// that it never turns overdue and reminds anyone.
func TestLeavingTheCaseloadCancelsTheFollowup(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	ctx := t.Context()
	c := w.counselor.Actor()
	leave := map[string]func(st graduate.Student) error{
		"closed": func(st graduate.Student) error {
			s := "closed"
			_, err := w.env.App.Graduates.Update(ctx, c, st.ID, st.Version, graduate.Patch{Status: &s})
			return err
		},
		"transferred": func(st graduate.Student) error {
			s := "transferred"
			_, err := w.env.App.Graduates.Update(ctx, c, st.ID, st.Version, graduate.Patch{Status: &s})
			return err
		},
		"placed": func(st graduate.Student) error {
			_, err := w.env.App.Destinations.Put(ctx, c, st.ID, nil, destination.Input{Code: "80", ProofKind: "admission_notice", ProofRef: "LQ-1"})
			return err
		},
	}
	var jobs []*rivertype.JobRow
	for status, do := range leave {
		st := w.env.MustActiveCase(t, w.counselor)
		w.contact(t, st.ID, "2026-06-08")
		job, _ := liveFollowup(t, w.env, st.ID)
		require.NotNil(t, job)
		st, err := w.env.App.Graduates.Get(ctx, c, st.ID) // the contact moved its version
		require.NoError(t, err)
		require.NoError(t, do(st), status)
		got, err := w.env.App.Graduates.Get(ctx, c, st.ID)
		require.NoError(t, err)
		require.Equal(t, status, got.Status)
		require.Nil(t, got.NextFollowupOn, "%s: no follow-up shown", status)
		none, _ := liveFollowup(t, w.env, st.ID)
		require.Nil(t, none, "%s: no follow-up recorded", status)
		_, err = w.env.App.River.JobGet(ctx, job.ID)
		require.ErrorIs(t, err, river.ErrNotFound, "%s: the pending job is withdrawn", status)
		jobs = append(jobs, job)
	}
	// Even if a withdrawn job ran on its day, nobody would be reminded.
	w.env.Clock.Set(time.Date(2026, 6, 8, 9, 0, 0, 0, bangfu.Shanghai))
	for _, job := range jobs {
		runAgain(t, w.dueWorker(), job)
	}
	require.Empty(t, w.env.Notifications(t, w.counselor, "followup_due"))
}

// TestPlanCadenceAfterAReminder: once a reminder has fired, a plan
// revision with a new cadence schedules the next follow-up; while one is
// pending, a new cadence brings it forward, never later.
func TestPlanCadenceAfterAReminder(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	ctx := t.Context()
	w.contact(t, w.student.ID, "2026-06-08")
	w.env.Clock.Set(time.Date(2026, 6, 8, 9, 0, 0, 0, bangfu.Shanghai))
	apptest.Work(t, w.env, w.dueWorker(), w.env.FollowupJob(t, w.student.ID))
	require.Len(t, w.env.Notifications(t, w.counselor, "followup_due"), 1)

	w.env.Clock.Set(time.Date(2026, 6, 8, 10, 0, 0, 0, bangfu.Shanghai))
	_, err := w.env.App.Plans.Put(ctx, w.counselor.Actor(), w.student.ID, nil, planInput(10))
	require.NoError(t, err)
	requireLive(t, w.env, w.student.ID, "2026-06-11") // the last contact (1 June) + 10 days

	// A shorter cadence brings the pending follow-up forward.
	one := 1
	_, err = w.env.App.Plans.Put(ctx, w.counselor.Actor(), w.student.ID, &one, planInput(8))
	require.NoError(t, err)
	requireLive(t, w.env, w.student.ID, "2026-06-09")
	// The same cadence again, or a longer one, leaves it where it is.
	two := 2
	_, err = w.env.App.Plans.Put(ctx, w.counselor.Actor(), w.student.ID, &two, planInput(30))
	require.NoError(t, err)
	requireLive(t, w.env, w.student.ID, "2026-06-09")
}

// TestUnassignedCaseRemindsTheSupervisors: a case with no counselor (or a
// disabled one) is reminded to the supervisors of its department or
// school, never to nobody.
func TestUnassignedCaseRemindsTheSupervisors(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	env := w.env
	st := env.MustActiveCase(t, w.supervisor) // a supervisor's new file is unassigned
	require.Nil(t, st.CounselorID)
	job := env.FollowupJob(t, st.ID)
	env.Clock.Set(time.Date(2026, 6, 15, 9, 0, 0, 0, bangfu.Shanghai))
	apptest.Work(t, env, w.dueWorker(), job)
	got := env.Notifications(t, w.supervisor, "followup_due")
	require.Len(t, got, 1, "the school's supervisor is reminded")
	require.Equal(t, &st.ID, got[0].StudentID)
	require.Empty(t, env.Notifications(t, w.counselor, "followup_due"))
}

// TestAfterGraduationFollowupsAreMonthly: once the graduation date (30
// June) has passed, an unplaced graduate's case is in its after-graduation
// phase: follow-ups come monthly (the setting), whatever the plan's
// cadence, and none is put off past 31 December of the graduation year.
func TestAfterGraduationFollowupsAreMonthly(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	ctx := t.Context()
	_, err := w.env.App.Plans.Put(ctx, w.counselor.Actor(), w.student.ID, nil, planInput(7))
	require.NoError(t, err)
	phase := func() *string {
		st, err := w.env.App.Graduates.Get(ctx, w.counselor.Actor(), w.student.ID)
		require.NoError(t, err)
		return st.Phase
	}
	require.Equal(t, "in_school", *phase())
	w.contact(t, w.student.ID, "")
	requireLive(t, w.env, w.student.ID, "2026-06-08") // in school: the plan's 7 days

	w.env.Clock.Set(time.Date(2026, 6, 30, 20, 0, 0, 0, bangfu.Shanghai))
	require.Equal(t, "in_school", *phase(), "the graduation date itself is still in school")
	w.env.Clock.Set(time.Date(2026, 7, 1, 10, 0, 0, 0, bangfu.Shanghai))
	require.Equal(t, "after_graduation", *phase())
	w.contact(t, w.student.ID, "")
	requireLive(t, w.env, w.student.ID, "2026-07-31") // monthly: 30 days

	w.env.Clock.Set(time.Date(2026, 12, 10, 10, 0, 0, 0, bangfu.Shanghai))
	w.contact(t, w.student.ID, "")
	requireLive(t, w.env, w.student.ID, "2026-12-31") // not past the year's end

	// A follow-up the counselor names is kept as named.
	w.contact(t, w.student.ID, "2027-01-15")
	requireLive(t, w.env, w.student.ID, "2027-01-15")

	// Placed: no phase.
	_, err = w.env.App.Destinations.Put(ctx, w.supervisor.Actor(), w.student.ID, nil, destination.Input{Code: "80", ProofKind: "admission_notice", ProofRef: "LQ-1"})
	require.NoError(t, err)
	require.Nil(t, phase())
}

// TestReminderAfterTheYearEndAsksForTheHandOver: a follow-up that comes due
// after 31 December of the graduation year reminds the counselor that the
// school's follow-up year has ended.
func TestReminderAfterTheYearEndAsksForTheHandOver(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	w.env.Clock.Set(time.Date(2026, 12, 20, 10, 0, 0, 0, bangfu.Shanghai))
	w.contact(t, w.student.ID, "2027-01-05")
	w.env.Clock.Set(time.Date(2027, 1, 5, 9, 0, 0, 0, bangfu.Shanghai))
	apptest.Work(t, w.env, w.dueWorker(), w.env.FollowupJob(t, w.student.ID))
	got := w.env.Notifications(t, w.counselor, "followup_due")
	require.Len(t, got, 1)
	require.Contains(t, got[0].Body, "离校未就业实名衔接")
}
