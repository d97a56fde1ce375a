// Package followup schedules each graduate's next follow-up as a River job
// and, when it comes due with no contact since, reminds the counselor and
// marks the case overdue. Only the newest due date per graduate is live: a
// newer contact withdraws the pending job and schedules the next one in the
// same transaction.
//
// A superseded job is deleted, not cancelled: River's cancel announces
// itself with pg_notify, and a transaction that notifies takes
// PostgreSQL's one notification lock when it commits and holds it through
// the commit's WAL flush — every append would queue behind every other's
// commit. A delete also writes no new version of the job's row (and no
// entries in its seven indexes), and leaves nothing for River's cleaner.
package followup

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"

	"github.com/bangfu/bangfu"
	"github.com/bangfu/bangfu/internal/graduate"
	"github.com/bangfu/bangfu/internal/ledger"
	"github.com/bangfu/bangfu/internal/notify"
	"github.com/bangfu/bangfu/internal/plan"
	"github.com/bangfu/bangfu/internal/postgres"
	"github.com/bangfu/bangfu/internal/settings"
)

// DueArgs is the job that fires on a follow-up's due day at 09:00 Shanghai.
// It carries ids and a date only, never personal data.
type DueArgs struct {
	StudentID int64  `json:"student_id"`
	DueOn     string `json:"due_on"`
}

// Kind is the job's name in River.
func (DueArgs) Kind() string { return "followup_due" }

// InsertOpts make a second insert of the same follow-up (same graduate,
// same day) while one is pending a no-op. Completed and cancelled jobs are
// left out of the unique states on purpose: after a follow-up was
// superseded, the same day may be scheduled again.
func (DueArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{UniqueOpts: river.UniqueOpts{
		ByArgs: true,
		ByState: []rivertype.JobState{
			rivertype.JobStateAvailable, rivertype.JobStatePending, rivertype.JobStateRunning,
			rivertype.JobStateRetryable, rivertype.JobStateScheduled,
		},
	}}
}

// DueHour is when on the due day the reminder fires.
const DueHour = 9

// Jobs is what the scheduler needs of the River client.
type Jobs interface {
	InsertTx(ctx context.Context, tx pgx.Tx, args river.JobArgs, opts *river.InsertOpts) (*rivertype.JobInsertResult, error)
	JobDeleteTx(ctx context.Context, tx pgx.Tx, jobID int64) (*rivertype.JobRow, error)
}

// Scheduler keeps one live follow-up job per graduate.
type Scheduler struct {
	Clock    bangfu.Clock
	Settings *settings.Store
	River    Jobs
}

// OnAppend is the ledger's hook: a contact (or any entry that names a next
// follow-up date) clears the overdue flag and schedules the next follow-up
// — on the date the entry names, else after the plan's cadence, else after
// the default cadence (after graduation: the monthly cadence, see ruleFor).
// It replaces the River job before the entry is sent and records the new
// follow-up in the entry's batch (the statement that advances the head),
// from what the append's lock read (h): no further read of the graduate.
func (s *Scheduler) OnAppend(ctx context.Context, tx pgx.Tx, _ bangfu.Actor, h graduate.Header, e ledger.Entry, p *ledger.Pending) error {
	if e.Kind != "contact" && e.NextFollowupOn == nil {
		return nil
	}
	if !graduate.Followed(h.Status) {
		if h.FollowupJobID == nil {
			return nil
		}
		if err := s.withdraw(ctx, tx, *h.FollowupJobID); err != nil {
			return err
		}
		p.Followup = &graduate.FollowupChange{Clear: true}
		return nil
	}
	due := e.NextFollowupOn
	if due == nil {
		r, err := s.ruleOf(ctx, tx, h.GraduationYear, h.PlanCadence)
		if err != nil {
			return err
		}
		d := r.after(bangfu.DateOf(e.OccurredAt))
		due = &d
	}
	jobID, err := s.replace(ctx, tx, h.StudentID, h.FollowupJobID, *due)
	if err != nil {
		return err
	}
	p.Followup = &graduate.FollowupChange{JobID: jobID, ScheduledAt: s.Clock.Now(), Due: *due}
	return nil
}

// OnRevise is the plan's hook: the cadence applies after the last contact
// when no follow-up is pending (none was scheduled, or its reminder has
// fired), and brings a pending one forward when the new cadence comes
// earlier; it never puts a pending follow-up off.
func (s *Scheduler) OnRevise(ctx context.Context, tx pgx.Tx, _ bangfu.Actor, r plan.Revision) error {
	var jobID *int64
	var last *time.Time
	var next *time.Time
	var status string
	var overdue bool
	if err := tx.QueryRow(ctx, `SELECT ca.followup_job_id, ca.next_followup_on, ca.overdue, ca.last_contact_at, s.status
		FROM students s JOIN case_activity ca ON ca.student_id = s.id WHERE s.id = $1`, r.StudentID).
		Scan(&jobID, &next, &overdue, &last, &status); err != nil {
		return err
	}
	if !graduate.Followed(status) {
		return nil
	}
	from := bangfu.Today(s.Clock)
	if last != nil {
		from = bangfu.DateOf(*last)
	}
	rl, err := s.ruleFor(ctx, tx, r.StudentID) // the new revision's cadence, in school
	if err != nil {
		return err
	}
	due := rl.after(from)
	// A follow-up whose reminder fired (the case is overdue) is no longer
	// pending: its job has run.
	if pending := jobID != nil && !overdue && next != nil; pending && !due.Before(bangfu.DateFromDB(*next)) {
		return nil
	}
	return s.schedule(ctx, tx, r.StudentID, jobID, due)
}

// OnCaseChange is the case hook (graduate and destination run it): a case
// that enters the caseload — a new file, a reopened one, a placement that
// fell through — gets its first follow-up at once, after the cadence; a
// case that leaves it — closed, transferred, placed, handed over — loses
// its pending follow-up, in the same transaction.
func (s *Scheduler) OnCaseChange(ctx context.Context, tx pgx.Tx, c graduate.CaseChange) error {
	var pending *int64
	if err := tx.QueryRow(ctx, `SELECT followup_job_id FROM case_activity WHERE student_id = $1`, c.StudentID).Scan(&pending); err != nil {
		return err
	}
	switch {
	case !graduate.Followed(c.To):
		return s.cancel(ctx, tx, c.StudentID, pending)
	case !graduate.Followed(c.From):
		r, err := s.ruleFor(ctx, tx, c.StudentID)
		if err != nil {
			return err
		}
		return s.schedule(ctx, tx, c.StudentID, pending, r.after(bangfu.Today(s.Clock)))
	}
	return nil
}

// rule is what sets a graduate's follow-up dates when no contact names one.
type rule struct {
	today   bangfu.Date
	cadence int
	// until, after graduation and until 31 December of the graduation
	// year, is the last day a follow-up is put off to.
	until *bangfu.Date
}

// ruleFor reads the graduate's rule: in school, the current plan's cadence,
// else the default cadence; after graduation, the after-graduation
// cadence (monthly), whatever the plan says, up to 31 December.
func (s *Scheduler) ruleFor(ctx context.Context, tx pgx.Tx, studentID int64) (rule, error) {
	var year int
	var planCadence *int
	if err := tx.QueryRow(ctx, `SELECT s.graduation_year, p.cadence_days FROM students s
		LEFT JOIN plan_revisions p ON p.student_id = s.id AND p.revision = s.plan_revision WHERE s.id = $1`, studentID).
		Scan(&year, &planCadence); err != nil {
		return rule{}, err
	}
	return s.ruleOf(ctx, tx, year, planCadence)
}

// ruleOf is ruleFor of a graduate of graduation year whose current plan
// has planCadence (nil: no plan).
func (s *Scheduler) ruleOf(ctx context.Context, tx pgx.Tx, year int, planCadence *int) (rule, error) {
	r := rule{today: bangfu.Today(s.Clock)}
	after := graduate.PhaseOf("open", year, r.today) == graduate.PhaseAfterGraduation
	if !after && planCadence != nil {
		// In school the plan decides: no settings to read (the append's
		// common case).
		r.cadence = *planCadence
		return r, nil
	}
	cfg, err := s.Settings.Get(ctx, tx)
	if err != nil {
		return r, err
	}
	if !after {
		r.cadence = cfg.DefaultCadenceDays
		return r, nil
	}
	r.cadence = cfg.AfterGraduationCadenceDays
	if end := graduate.YearEnd(year); !r.today.After(end) {
		r.until = &end
	}
	return r, nil
}

// after returns the follow-up day a cadence after from: never before
// today, and never past the rule's last day.
func (r rule) after(from bangfu.Date) bangfu.Date {
	d := from.AddDays(r.cadence)
	if r.until != nil && d.After(*r.until) {
		d = *r.until
	}
	if d.Before(r.today) {
		d = r.today
	}
	return d
}

// schedule withdraws the graduate's pending follow-up job, if any, and
// inserts one for due, on tx (which holds the graduate's row lock).
func (s *Scheduler) schedule(ctx context.Context, tx pgx.Tx, studentID int64, pending *int64, due bangfu.Date) error {
	jobID, err := s.replace(ctx, tx, studentID, pending, due)
	if err != nil {
		return err
	}
	return graduate.SetFollowup(ctx, tx, studentID, jobID, s.Clock.Now(), due)
}

// replace withdraws the pending job, if any, and inserts one for due; it
// returns the new job's id, which the caller records.
func (s *Scheduler) replace(ctx context.Context, tx pgx.Tx, studentID int64, pending *int64, due bangfu.Date) (int64, error) {
	if pending != nil {
		if err := s.withdraw(ctx, tx, *pending); err != nil {
			return 0, err
		}
	}
	res, err := s.River.InsertTx(ctx, tx, DueArgs{StudentID: studentID, DueOn: due.String()},
		&river.InsertOpts{ScheduledAt: due.At(DueHour, 0)})
	if err != nil {
		return 0, fmt.Errorf("schedule follow-up: %w", err)
	}
	return res.Job.ID, nil
}

// withdraw deletes a superseded follow-up job. One already gone (worked and
// cleaned) is fine; so is one running now: its worker waits for the row
// lock tx holds and then finds itself superseded (DueWorker.Work).
func (s *Scheduler) withdraw(ctx context.Context, tx pgx.Tx, jobID int64) error {
	_, err := s.River.JobDeleteTx(ctx, tx, jobID)
	if err != nil && !errors.Is(err, river.ErrNotFound) && !errors.Is(err, rivertype.ErrJobRunning) {
		return fmt.Errorf("withdraw superseded follow-up: %w", err)
	}
	return nil
}

// cancel withdraws the graduate's pending follow-up job, if any.
func (s *Scheduler) cancel(ctx context.Context, tx pgx.Tx, studentID int64, pending *int64) error {
	if pending == nil {
		return nil
	}
	if err := s.withdraw(ctx, tx, *pending); err != nil {
		return err
	}
	return graduate.ClearFollowup(ctx, tx, studentID)
}

// DueWorker works DueArgs.
type DueWorker struct {
	river.WorkerDefaults[DueArgs]
	DB     *postgres.DB
	Notify *notify.Service
}

// Work marks the case overdue and reminds whoever answers for it (its
// counselor; for a case without one, its supervisors: graduate.Responsible),
// unless this job was superseded, a contact was logged after it was
// scheduled, or the case has left the caseload. Its writes are idempotent
// (a flag and a notification keyed by the job), so a retry after a crash
// or a second run changes nothing twice.
func (w *DueWorker) Work(ctx context.Context, job *river.Job[DueArgs]) error {
	return w.DB.InTx(ctx, func(tx pgx.Tx) error {
		var live *int64
		var scheduled, lastContact *time.Time
		var counselor *int64
		var name, status string
		var year int
		// Both rows locked (the file's first, as every writer does), so that
		// after waiting for a contact's transaction this reads its result.
		err := tx.QueryRow(ctx, `SELECT ca.followup_job_id, ca.followup_scheduled_at, ca.last_contact_at, s.counselor_id, s.name, s.status, s.graduation_year
			FROM students s JOIN case_activity ca ON ca.student_id = s.id WHERE s.id = $1 FOR UPDATE OF s, ca`, job.Args.StudentID).Scan(&live, &scheduled, &lastContact, &counselor, &name, &status, &year)
		if errors.Is(err, pgx.ErrNoRows) {
			return river.JobCancel(fmt.Errorf("graduate %d not found", job.Args.StudentID))
		} else if err != nil {
			return err
		}
		superseded := live == nil || *live != job.ID
		contacted := lastContact != nil && scheduled != nil && lastContact.After(*scheduled)
		if superseded || contacted || !graduate.Followed(status) {
			return nil
		}
		due, err := time.Parse(time.DateOnly, job.Args.DueOn)
		if err != nil {
			return river.JobCancel(fmt.Errorf("follow-up day %q: %w", job.Args.DueOn, err))
		}
		if err := graduate.MarkOverdue(ctx, tx, job.Args.StudentID); err != nil {
			return err
		}
		rows, err := tx.Query(ctx, `SELECT u.id FROM students s JOIN users u ON `+graduate.Responsible+` WHERE s.id = $1`, job.Args.StudentID)
		if err != nil {
			return err
		}
		users, err := pgx.CollectRows(rows, pgx.RowTo[int64])
		if err != nil {
			return err
		}
		body := "该毕业生的跟进日期已到，且此后尚未记录联系。请尽快联系并在帮扶台账中记录。"
		if counselor == nil || !slices.Contains(users, *counselor) {
			body += "该个案目前没有负责的辅导员：请分配辅导员，或直接跟进。"
		}
		if bangfu.DateFromDB(due).After(graduate.YearEnd(year)) {
			body += fmt.Sprintf("%d 届毕业年度已结束：请为其办理离校未就业实名衔接（移交公共就业服务机构），或结案。", year)
		}
		msgs := make([]notify.Message, len(users))
		for i, u := range users {
			msgs[i] = notify.Message{
				UserID: u, Kind: "followup_due", StudentID: job.Args.StudentID,
				Title: fmt.Sprintf("跟进提醒：%s 今天（%s）需要跟进", name, job.Args.DueOn),
				Body:  body,
				Key:   fmt.Sprintf("followup:%d", job.ID),
			}
		}
		_, err = w.Notify.Send(ctx, tx, msgs...)
		return err
	})
}
