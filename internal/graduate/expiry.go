package graduate

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"

	"github.com/bangfu/bangfu"
	"github.com/bangfu/bangfu/internal/audit"
	"github.com/bangfu/bangfu/internal/notify"
	"github.com/bangfu/bangfu/internal/postgres"
	"github.com/bangfu/bangfu/internal/settings"
)

// ExpiryArgs is the daily evidence-expiry job.
type ExpiryArgs struct{}

// Kind is the job's name in River.
func (ExpiryArgs) Kind() string { return "evidence_expiry" }

// ExpiryWorker warns counselors before hardship evidence expires and marks
// it unverified on the day it does.
type ExpiryWorker struct {
	river.WorkerDefaults[ExpiryArgs]
	DB       *postgres.DB
	Clock    bangfu.Clock
	Settings *settings.Store
	Notify   *notify.Service
	// AfterEligibility is told which graduates' evidence expired, in the
	// transaction that marks it.
	AfterEligibility EligibilityHook
}

// Work runs Expire in one transaction.
func (w *ExpiryWorker) Work(ctx context.Context, _ *river.Job[ExpiryArgs]) error {
	return w.DB.InTx(ctx, func(tx pgx.Tx) error {
		_, _, err := w.Expire(ctx, tx)
		return err
	})
}

// Expire warns once about each verified evidence that expires within the
// warning period and marks expired evidence unverified, recording each in
// the audit log. Running it twice changes nothing twice.
func (w *ExpiryWorker) Expire(ctx context.Context, tx pgx.Tx) (warned, expired int, err error) {
	cfg, err := w.Settings.Get(ctx, tx)
	if err != nil {
		return 0, 0, err
	}
	today := bangfu.Today(w.Clock)
	now := w.Clock.Now()
	rows, err := tx.Query(ctx, `SELECT s.counselor_id, s.id, s.name, h.id, h.evidence_type, h.valid_until
		FROM hardships h JOIN students s ON s.id = h.student_id
		WHERE h.status = 'verified' AND h.valid_until BETWEEN $1 AND $2 AND s.counselor_id IS NOT NULL`,
		today.Time(), today.AddDays(cfg.EvidenceWarningDays).Time())
	if err != nil {
		return 0, 0, err
	}
	var msgs []notify.Message
	var counselor, student, hardship int64
	var name, evidence string
	var until time.Time
	if _, err := pgx.ForEachRow(rows, []any{&counselor, &student, &name, &hardship, &evidence, &until}, func() error {
		day := until.Format(time.DateOnly)
		msgs = append(msgs, notify.Message{
			UserID: counselor, Kind: "evidence_expiring", StudentID: student,
			Title: fmt.Sprintf("困难认定材料即将到期：%s", name),
			Body:  fmt.Sprintf("%s 的困难认定证明（%s）将于 %s 到期，请提醒其重新提交并复核。", name, evidence, day),
			Key:   fmt.Sprintf("evidence-expiring:%d:%s", hardship, day),
		})
		return nil
	}); err != nil {
		return 0, 0, err
	}
	if warned, err = w.Notify.Send(ctx, tx, msgs...); err != nil {
		return 0, 0, err
	}
	rows, err = tx.Query(ctx, `UPDATE hardships h SET status = 'unverified', verification_note = '材料已于 ' || h.valid_until || ' 过期，需重新认定'
		FROM students s WHERE s.id = h.student_id AND h.status = 'verified' AND h.valid_until < $1
		RETURNING h.id, h.student_id, s.school_id`, today.Time())
	if err != nil {
		return 0, 0, err
	}
	var events []audit.Event
	var students []int64
	var hid, sid, school int64
	if _, err := pgx.ForEachRow(rows, []any{&hid, &sid, &school}, func() error {
		events = append(events, audit.Event{Action: audit.HardshipExpire, StudentID: sid, SchoolID: school, Detail: map[string]any{"hardship_id": hid}})
		students = append(students, sid)
		return nil
	}); err != nil {
		return 0, 0, err
	}
	if err := audit.RecordMany(ctx, tx, bangfu.Actor{}, now, events); err != nil {
		return 0, 0, err
	}
	if err := w.AfterEligibility.call(ctx, tx, students...); err != nil {
		return 0, 0, err
	}
	return warned, len(events), nil
}

// DailyAt is a River schedule that fires every day at hour:00 Shanghai.
type DailyAt struct{ Hour int }

// Next returns the next hour:00 after current.
func (d DailyAt) Next(current time.Time) time.Time {
	c := current.In(bangfu.Shanghai)
	next := time.Date(c.Year(), c.Month(), c.Day(), d.Hour, 0, 0, 0, bangfu.Shanghai)
	if !next.After(current) {
		next = next.AddDate(0, 0, 1)
	}
	return next
}
