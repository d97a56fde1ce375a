package app_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"
	"github.com/riverqueue/river/rivertest"
	"github.com/riverqueue/river/rivertype"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/bangfu/bangfu"
	"github.com/bangfu/bangfu/internal/apptest"
	"github.com/bangfu/bangfu/internal/config"
	"github.com/bangfu/bangfu/internal/directory"
	"github.com/bangfu/bangfu/internal/escalation"
	"github.com/bangfu/bangfu/internal/followup"
	"github.com/bangfu/bangfu/internal/graduate"
	"github.com/bangfu/bangfu/internal/ledger"
	"github.com/bangfu/bangfu/internal/notify"
)

// bundle is one test's world: a school with a supervisor and a counselor,
// province staff, and an active case assigned to the counselor.
type bundle struct {
	env                             *apptest.Env
	supervisor, counselor, province directory.User
	student                         graduate.Student
}

func setup(t *testing.T, opts ...apptest.Options) *bundle {
	t.Helper()
	env := apptest.New(t, opts...)
	school := env.MustSchool(t)
	b := &bundle{env: env,
		supervisor: env.MustUser(t, bangfu.RoleSupervisor, &school.ID),
		counselor:  env.MustUser(t, bangfu.RoleCounselor, &school.ID),
		province:   env.MustUser(t, bangfu.RoleProvince, nil),
	}
	b.student = b.newCase(t)
	return b
}

// newCase creates an active case for the counselor.
func (b *bundle) newCase(t *testing.T) graduate.Student {
	t.Helper()
	st := b.env.MustStudent(t, b.counselor)
	active := "active"
	st, err := b.env.App.Graduates.Update(t.Context(), b.counselor.Actor(), st.ID, st.Version, graduate.Patch{Status: &active})
	require.NoError(t, err)
	return st
}

func (b *bundle) contact(t *testing.T, studentID int64, nextFollowup string) ledger.Entry {
	t.Helper()
	e, err := b.env.App.Ledger.Append(t.Context(), b.counselor.Actor(), studentID, ledger.Input{
		Kind: "contact", Channel: "phone", OccurredAt: b.env.Clock.Now(), Summary: "电话联系", NextFollowupOn: nextFollowup,
	})
	require.NoError(t, err)
	return e
}

// work works job with the real worker, in a transaction that commits, as
// a River client would.
func work[T river.JobArgs](t *testing.T, env *apptest.Env, w river.Worker[T], job *rivertype.JobRow) *rivertest.WorkResult {
	t.Helper()
	tx, err := env.App.DB.Pool.Begin(t.Context())
	require.NoError(t, err)
	defer tx.Rollback(context.WithoutCancel(t.Context()))
	res, err := rivertest.NewWorker(t, riverpgxv5.New(nil), &river.Config{}, w).WorkJob(t.Context(), t, tx, job)
	require.NoError(t, err)
	require.NoError(t, tx.Commit(t.Context()))
	return res
}

// runAgain runs a worker on a job row again, whatever its state, as a
// retry after a crash would.
func runAgain(t *testing.T, w river.Worker[followup.DueArgs], row *rivertype.JobRow) {
	t.Helper()
	var args followup.DueArgs
	require.NoError(t, json.Unmarshal(row.EncodedArgs, &args))
	require.NoError(t, w.Work(t.Context(), &river.Job[followup.DueArgs]{JobRow: row, Args: args}))
}

func (b *bundle) sweep(t *testing.T) escalation.Result {
	t.Helper()
	var res escalation.Result
	require.NoError(t, b.env.App.DB.InTx(t.Context(), func(tx pgx.Tx) error {
		var err error
		res, err = b.env.App.SweepWorker().Sweep(t.Context(), tx)
		return err
	}))
	return res
}

func (b *bundle) followupJob(t *testing.T, studentID int64) *rivertype.JobRow {
	t.Helper()
	var id int64
	require.NoError(t, b.env.App.DB.Pool.QueryRow(t.Context(), `SELECT followup_job_id FROM students WHERE id = $1`, studentID).Scan(&id))
	job, err := b.env.App.River.JobGet(t.Context(), id)
	require.NoError(t, err)
	return job
}

func notifications(t *testing.T, env *apptest.Env, u directory.User, kind string) []notify.Notification {
	t.Helper()
	l, err := env.App.Notify.List(t.Context(), u.Actor(), false, bangfu.Page{Limit: 200})
	require.NoError(t, err)
	var out []notify.Notification
	for _, n := range l.Items {
		if n.Kind == kind {
			out = append(out, n)
		}
	}
	return out
}

func TestContactEnqueuesFollowupInItsTransaction(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx := t.Context()
	tx, err := b.env.App.DB.Pool.Begin(ctx)
	require.NoError(t, err)
	defer tx.Rollback(ctx)
	h, err := graduate.Access(ctx, tx, b.counselor.Actor(), b.student.ID, true)
	require.NoError(t, err)
	due := bangfu.NewDate(2026, time.June, 10)
	require.NoError(t, b.env.App.Followups.OnAppend(ctx, tx, b.counselor.Actor(), h, ledger.Entry{Kind: "contact", OccurredAt: b.env.Clock.Now(), NextFollowupOn: &due}))
	job := rivertest.RequireInsertedTx[*riverpgxv5.Driver](ctx, t, tx, followup.DueArgs{StudentID: b.student.ID, DueOn: "2026-06-10"},
		&rivertest.RequireInsertedOpts{ScheduledAt: time.Date(2026, 6, 10, 9, 0, 0, 0, bangfu.Shanghai), State: rivertype.JobStateScheduled})
	require.Equal(t, b.student.ID, job.Args.StudentID, "job arguments carry ids only")
	require.NoError(t, tx.Rollback(ctx))
	rivertest.RequireNotInserted[*riverpgxv5.Driver](ctx, t, riverpgxv5.New(b.env.App.DB.Pool), followup.DueArgs{}, nil)
}

func TestNewerContactSupersedesFollowup(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx := t.Context()
	b.contact(t, b.student.ID, "2026-06-08")
	first := b.followupJob(t, b.student.ID)
	require.Equal(t, rivertype.JobStateScheduled, first.State)

	// No date given and no plan: the default cadence (14 days) applies.
	b.contact(t, b.student.ID, "")
	requireLive(t, b, "2026-06-15")
	old, err := b.env.App.River.JobGet(ctx, first.ID)
	require.NoError(t, err)
	require.Equal(t, rivertype.JobStateCancelled, old.State, "only the newest due date is live")

	// The superseded job, if it ran anyway, does nothing.
	runAgain(t, &followup.DueWorker{DB: b.env.App.DB, Notify: b.env.App.Notify}, first)
	require.Empty(t, notifications(t, b.env, b.counselor, "followup_due"))

	// A plan cadence decides the next date when the contact does not.
	_, err = b.env.App.Plans.Put(ctx, b.counselor.Actor(), b.student.ID, nil, planInput(5))
	require.NoError(t, err)
	b.contact(t, b.student.ID, "")
	requireLive(t, b, "2026-06-06")
	var live int
	require.NoError(t, b.env.App.DB.Pool.QueryRow(ctx, `SELECT count(*) FROM river_job WHERE kind = 'followup_due' AND state = 'scheduled'`).Scan(&live))
	require.Equal(t, 1, live, "one live follow-up per graduate")
}

// requireLive checks the graduate's live follow-up job is due on day, at 09:00 Shanghai.
func requireLive(t *testing.T, b *bundle, day string) {
	t.Helper()
	job := b.followupJob(t, b.student.ID)
	var args followup.DueArgs
	require.NoError(t, json.Unmarshal(job.EncodedArgs, &args))
	require.Equal(t, followup.DueArgs{StudentID: b.student.ID, DueOn: day}, args)
	d, err := time.ParseInLocation(time.DateOnly, day, bangfu.Shanghai)
	require.NoError(t, err)
	require.True(t, job.ScheduledAt.Equal(d.Add(9*time.Hour)), "scheduled at %s", job.ScheduledAt)
	require.Equal(t, rivertype.JobStateScheduled, job.State)
}

func TestFollowupDueRemindsOnce(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.contact(t, b.student.ID, "2026-06-08")
	job := b.followupJob(t, b.student.ID)
	w := &followup.DueWorker{DB: b.env.App.DB, Notify: b.env.App.Notify}

	b.env.Clock.Set(time.Date(2026, 6, 8, 9, 0, 0, 0, bangfu.Shanghai))
	res := work(t, b.env, w, job)
	require.Equal(t, rivertype.JobStateCompleted, res.Job.State)
	reminders := notifications(t, b.env, b.counselor, "followup_due")
	require.Len(t, reminders, 1)
	require.Contains(t, reminders[0].Title, b.student.Name)
	st, err := b.env.App.Graduates.Get(t.Context(), b.counselor.Actor(), b.student.ID)
	require.NoError(t, err)
	require.True(t, st.Overdue, "the file shows overdue")

	// Run twice (a retry after a crash): nothing twice.
	runAgain(t, w, job)
	require.Len(t, notifications(t, b.env, b.counselor, "followup_due"), 1)

	// A contact clears it.
	b.contact(t, b.student.ID, "")
	st, err = b.env.App.Graduates.Get(t.Context(), b.counselor.Actor(), b.student.ID)
	require.NoError(t, err)
	require.False(t, st.Overdue)
}

func TestFollowupAfterContactSinceDoesNothing(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.contact(t, b.student.ID, "2026-06-08")
	job := b.followupJob(t, b.student.ID)
	// A contact is logged on the graduate's row without rescheduling
	// (a group contact through another path would do this).
	_, err := b.env.App.DB.Pool.Exec(t.Context(), `UPDATE students SET last_contact_at = $2 WHERE id = $1`, b.student.ID, b.env.Clock.Now().Add(time.Hour))
	require.NoError(t, err)
	work(t, b.env, &followup.DueWorker{DB: b.env.App.DB, Notify: b.env.App.Notify}, job)
	require.Empty(t, notifications(t, b.env, b.counselor, "followup_due"))
}

// TestStalledCaseEscalatesOneLevelAtATime is the "done when": a
// case with no contact goes reminder → level 1 → level 2 → level 3 as the
// clock moves, the supervisor sees and acknowledges, and a contact
// resolves it.
func TestStalledCaseEscalatesOneLevelAtATime(t *testing.T) {
	t.Parallel()
	b := setup(t)
	env := b.env
	b.newCase(t) // a second case, never contacted; active since Start
	b.contact(t, b.student.ID, "2026-06-08")

	// Day 7: the follow-up comes due: a reminder, no escalation yet.
	env.Clock.Set(time.Date(2026, 6, 8, 9, 0, 0, 0, bangfu.Shanghai))
	work(t, env, &followup.DueWorker{DB: env.App.DB, Notify: env.App.Notify}, b.followupJob(t, b.student.ID))
	require.Len(t, notifications(t, env, b.counselor, "followup_due"), 1)
	require.Zero(t, b.sweep(t).Raised["no_contact"])

	levels := func(id int64) []int {
		rows, err := env.App.DB.Pool.Query(t.Context(), `SELECT level FROM escalations WHERE student_id = $1 AND kind = 'no_contact' ORDER BY level`, id)
		require.NoError(t, err)
		ls, err := pgx.CollectRows(rows, pgx.RowTo[int])
		require.NoError(t, err)
		return ls
	}
	// Day 14, 21, 35: one level each; sweeping again raises nothing twice.
	for _, step := range []struct {
		day    int
		levels []int
		who    directory.User
	}{
		{14, []int{1}, b.counselor},
		{21, []int{1, 2}, b.supervisor},
		{35, []int{1, 2, 3}, b.province},
	} {
		env.Clock.Set(apptest.Start.AddDate(0, 0, step.day).Add(time.Hour))
		b.sweep(t)
		b.sweep(t)
		require.Equal(t, step.levels, levels(b.student.ID), "day %d", step.day)
		require.NotEmpty(t, notifications(t, env, step.who, "escalation"), "day %d: %s is told", step.day, step.who.Role)
	}
	var quietNotes int
	for _, n := range notifications(t, env, b.counselor, "escalation") {
		if strings.Contains(n.Body, "未联系") {
			quietNotes++
		}
	}
	require.Equal(t, 2, quietNotes, "the counselor hears of each quiet case's level 1 once")

	// The supervisor sees and acknowledges the level-2 escalation through the API.
	sup := env.Token(t, b.supervisor)
	r := env.Get(t, "/api/v1/escalations?level=2&status=open", sup)
	require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
	var l struct {
		Items []struct {
			ID        int64 `json:"id"`
			StudentID int64 `json:"student_id"`
		} `json:"items"`
	}
	r.JSON(t, &l)
	require.Len(t, l.Items, 2, "both quiet cases")
	var level2 int64
	for _, it := range l.Items {
		if it.StudentID == b.student.ID {
			level2 = it.ID
		}
	}
	require.Equal(t, http.StatusForbidden, env.Post(t, fmt.Sprintf("/api/v1/escalations/%d/acknowledge", level2), env.Token(t, b.counselor), map[string]string{}).Status,
		"level 2 is the supervisors'")
	r = env.Post(t, fmt.Sprintf("/api/v1/escalations/%d/acknowledge", level2), sup, map[string]string{"note": "已约谈辅导员"})
	require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
	require.Equal(t, "acknowledged", r.Map(t)["status"])
	require.Equal(t, http.StatusConflict, env.Post(t, fmt.Sprintf("/api/v1/escalations/%d/acknowledge", level2), sup, map[string]string{}).Status)

	// A logged contact resolves the case's escalations, saying why.
	r = env.Post(t, fmt.Sprintf("/api/v1/students/%d/ledger", b.student.ID), env.Token(t, b.counselor), map[string]any{
		"kind": "contact", "channel": "home_visit", "occurred_at": env.Clock.Now().Format(time.RFC3339), "summary": "家访，了解近况"})
	require.Equal(t, http.StatusCreated, r.Status, "%s", r.Body)
	var open int
	var note string
	require.NoError(t, env.App.DB.Pool.QueryRow(t.Context(), `SELECT count(*) FILTER (WHERE status <> 'resolved'), max(resolve_note)
		FROM escalations WHERE student_id = $1 AND kind = 'no_contact'`, b.student.ID).Scan(&open, &note))
	require.Zero(t, open)
	require.Contains(t, note, "台账")
	require.Zero(t, b.sweep(t).Raised["no_contact"], "the other case already reached level 3; this one is no longer quiet")
}

func TestSweepFromTwoProcessesAtOnce(t *testing.T) {
	t.Parallel()
	b := setup(t)
	for range 30 {
		b.newCase(t)
	}
	b.env.Clock.Set(apptest.Start.AddDate(0, 0, 15))
	var wg sync.WaitGroup
	for range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			tx, err := b.env.App.DB.Pool.Begin(context.Background())
			if !assertNoError(t, err) {
				return
			}
			defer tx.Rollback(context.Background())
			w := rivertest.NewWorker(t, riverpgxv5.New(nil), &river.Config{}, river.Worker[escalation.SweepArgs](b.env.App.SweepWorker()))
			_, err = w.Work(context.Background(), t, tx, escalation.SweepArgs{}, nil)
			if assertNoError(t, err) {
				assertNoError(t, tx.Commit(context.Background()))
			}
		}()
	}
	wg.Wait()
	var n int
	require.NoError(t, b.env.App.DB.Pool.QueryRow(t.Context(), `SELECT count(*) FROM escalations WHERE kind = 'no_contact'`).Scan(&n))
	require.Equal(t, 31, n, "each quiet case raised once")
	require.Len(t, notifications(t, b.env, b.counselor, "escalation"), 31)
}

func assertNoError(t *testing.T, err error) bool {
	t.Helper()
	if err != nil {
		t.Error(err)
		return false
	}
	return true
}

func TestSweepFlagsAndClearsThem(t *testing.T) {
	t.Parallel()
	b := setup(t)
	env := b.env
	ctx := t.Context()
	c := b.counselor.Actor()
	b.contact(t, b.student.ID, "")
	_, err := env.App.Plans.Put(ctx, c, b.student.ID, nil, planInput(7, "2026-06-20"))
	require.NoError(t, err)
	_, err = env.App.Destinations.Put(ctx, c, b.student.ID, nil, destinationInput("70"))
	require.NoError(t, err)

	env.Clock.Set(time.Date(2026, 8, 1, 10, 0, 0, 0, bangfu.Shanghai))
	b.contact(t, b.student.ID, "") // not stalled: only the other flags
	res := b.sweep(t)
	require.Equal(t, map[string]int{"measure_overdue": 1, "referrals_short": 1, "unplaced_after_july": 1}, res.Raised)
	require.Equal(t, 0, sumRaised(b.sweep(t)), "the second sweep raises nothing")

	// Fix each condition; the next sweep clears the flags.
	for range 3 {
		_, err := env.App.Ledger.Append(ctx, c, b.student.ID, ledger.Input{Kind: "referral", OccurredAt: env.Clock.Now(), Summary: "推荐岗位",
			Referral: &ledger.Referral{Employer: "某公司", Position: "文员"}})
		require.NoError(t, err)
	}
	_, err = env.App.Plans.Put(ctx, c, b.student.ID, intPtr(1), planInput(7, "2026-09-30"))
	require.NoError(t, err)
	hist, err := env.App.Destinations.Get(ctx, c, b.student.ID)
	require.NoError(t, err)
	_, err = env.App.Destinations.Put(ctx, c, b.student.ID, &hist.Current.ID, destinationInput("80"))
	require.NoError(t, err)
	res = b.sweep(t)
	require.Equal(t, 3, res.Cleared)
	var open int
	require.NoError(t, env.App.DB.Pool.QueryRow(ctx, `SELECT count(*) FROM escalations WHERE status <> 'resolved'`).Scan(&open))
	require.Zero(t, open)
}

func sumRaised(r escalation.Result) int {
	n := 0
	for _, v := range r.Raised {
		n += v
	}
	return n
}

func intPtr(v int) *int { return &v }

func TestEvidenceExpiry(t *testing.T) {
	t.Parallel()
	b := setup(t)
	env := b.env
	ctx := t.Context()
	h, err := env.App.Graduates.AddHardship(ctx, b.counselor.Actor(), b.student.ID, graduate.HardshipInput{
		Category: "dibao", EvidenceType: "低保证", IssuingAuthority: "民政局", ValidUntil: "2026-06-25"})
	require.NoError(t, err)
	_, err = env.App.Graduates.VerifyHardship(ctx, b.supervisor.Actor(), b.student.ID, h.ID, graduate.Verification{})
	require.NoError(t, err)
	w := &graduate.ExpiryWorker{DB: env.App.DB, Clock: env.Clock, Settings: env.App.Settings, Notify: env.App.Notify}
	run := func() (int, int) {
		var warned, expired int
		require.NoError(t, env.App.DB.InTx(ctx, func(tx pgx.Tx) error {
			var err error
			warned, expired, err = w.Expire(ctx, tx)
			return err
		}))
		return warned, expired
	}
	w1, e1 := run() // 24 days before: within the 30-day warning
	w2, e2 := run()
	require.Equal(t, []int{1, 0, 0, 0}, []int{w1, e1, w2, e2}, "warned once")
	require.Len(t, notifications(t, env, b.counselor, "evidence_expiring"), 1)

	env.Clock.Set(time.Date(2026, 6, 26, 6, 0, 0, 0, bangfu.Shanghai))
	_, expired := run()
	require.Equal(t, 1, expired)
	st, err := env.App.Graduates.Get(ctx, b.counselor.Actor(), b.student.ID)
	require.NoError(t, err)
	require.Equal(t, "unverified", st.Hardships[0].Status)
	require.Empty(t, st.Categories, "expired evidence no longer counts")
	var audited int
	require.NoError(t, env.App.DB.Pool.QueryRow(ctx, `SELECT count(*) FROM audit_log WHERE action = 'hardship.expire' AND student_id = $1 AND actor_id IS NULL`, b.student.ID).Scan(&audited))
	require.Equal(t, 1, audited)
	_, expired = run()
	require.Zero(t, expired)
}

func TestEmailArrivesExactlyOnce(t *testing.T) {
	t.Parallel()
	smtpd := apptest.NewSMTPServer(t)
	b := setup(t, apptest.Options{Workers: true, Config: func(c *config.Config) { c.SMTPURL = smtpd.URL() }})
	env := b.env
	_, err := env.App.DB.Pool.Exec(t.Context(), `UPDATE users SET email = 'wang@example.edu.cn' WHERE id = $1`, b.counselor.ID)
	require.NoError(t, err)
	emailEach(t, env, b.counselor)
	st := b.student.ID
	require.NoError(t, env.App.DB.InTx(t.Context(), func(tx pgx.Tx) error {
		n, err := env.App.Notify.Send(t.Context(), tx, notify.Message{UserID: b.counselor.ID, Kind: "followup_due", StudentID: st, Title: "跟进提醒：张三", Body: "请联系张三", Key: "k1"},
			notify.Message{UserID: b.counselor.ID, Kind: "followup_due", StudentID: st, Title: "跟进提醒：张三", Body: "请联系张三", Key: "k1"})
		require.Equal(t, 1, n, "one event, one notification")
		return err
	}))
	require.EventuallyWithT(t, func(c *assert.CollectT) {
		var done int
		require.NoError(c, env.App.DB.Pool.QueryRow(context.Background(),
			`SELECT count(*) FROM river_job WHERE kind = 'notification_email' AND state = 'completed'`).Scan(&done))
		assert.Equal(c, 1, done)
	}, 20*time.Second, 20*time.Millisecond)
	msgs := smtpd.Messages()
	require.Len(t, msgs, 1, "exactly once")
	require.Equal(t, []string{"wang@example.edu.cn"}, msgs[0].To)
	m := readMail(t, msgs[0].Data)
	require.Equal(t, "帮扶跟进提醒", m.subject, "the kind of notification")
	require.Contains(t, m.body, fmt.Sprintf("http://localhost:8080/students/%d", st), "and a link to it")
	require.NotContains(t, m.body+m.subject, "张三", "never the graduate's name: it stays in the inbox")
}
