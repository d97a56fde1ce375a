// Package notify tells people what needs them: an in-app inbox and, when
// SMTP is configured, one e-mail per notification, sent by its own retried
// job.
package notify

import (
	"context"
	"errors"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"

	"github.com/bangfu/bangfu"
	"github.com/bangfu/bangfu/internal/postgres"
)

// Notification is one message in a user's inbox.
type Notification struct {
	ID        int64      `json:"id"`
	Kind      string     `json:"kind"`
	Title     string     `json:"title"`
	Body      string     `json:"body"`
	StudentID *int64     `json:"student_id"`
	CreatedAt time.Time  `json:"created_at"`
	ReadAt    *time.Time `json:"read_at"`
}

// Message is a notification to send. Key identifies the event: the same
// user is never notified twice for one key, so jobs that run twice notify
// once.
type Message struct {
	UserID    int64
	Kind      string
	Title     string
	Body      string
	StudentID int64
	Key       string
}

// JobInserter inserts River jobs in a transaction.
type JobInserter interface {
	InsertManyTx(ctx context.Context, tx pgx.Tx, params []river.InsertManyParams) ([]*rivertype.JobInsertResult, error)
}

// Service keeps inboxes.
type Service struct {
	DB    *postgres.DB
	Clock bangfu.Clock
	// Email, when true, enqueues an e-mail job for each new notification.
	Email bool
	River JobInserter
}

// Send adds msgs to their users' inboxes on tx, skipping any already sent
// for the same key, and enqueues their e-mails in the same transaction.
func (s *Service) Send(ctx context.Context, tx pgx.Tx, msgs ...Message) error {
	if len(msgs) == 0 {
		return nil
	}
	now := s.Clock.Now()
	var jobs []river.InsertManyParams
	for _, m := range msgs {
		var student *int64
		if m.StudentID != 0 {
			student = &m.StudentID
		}
		var id int64
		err := tx.QueryRow(ctx, `INSERT INTO notifications (user_id, kind, title, body, student_id, dedupe_key, created_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (user_id, dedupe_key) DO NOTHING RETURNING id`,
			m.UserID, m.Kind, m.Title, m.Body, student, m.Key, now).Scan(&id)
		if errors.Is(err, pgx.ErrNoRows) {
			continue
		} else if err != nil {
			return err
		}
		if s.Email {
			jobs = append(jobs, river.InsertManyParams{Args: EmailArgs{NotificationID: id}})
		}
	}
	if len(jobs) == 0 {
		return nil
	}
	_, err := s.River.InsertManyTx(ctx, tx, jobs)
	return err
}

// List returns a's notifications, newest first; unreadOnly leaves out
// read ones. Page.After is a notification id.
func (s *Service) List(ctx context.Context, a bangfu.Actor, unreadOnly bool, pg bangfu.Page) (bangfu.List[Notification], error) {
	after := pg.After
	if after == 0 {
		after = 1<<63 - 1
	}
	rows, err := s.DB.Pool.Query(ctx, `SELECT id, kind, title, body, student_id, created_at, read_at FROM notifications
		WHERE user_id = $1 AND id < $2 AND (NOT $3 OR read_at IS NULL) ORDER BY id DESC LIMIT $4`,
		a.UserID, after, unreadOnly, pg.Limit+1)
	if err != nil {
		return bangfu.List[Notification]{}, err
	}
	items, err := pgx.CollectRows(rows, pgx.RowToStructByPos[Notification])
	return bangfu.NewList(items, pg.Limit, func(n Notification) int64 { return n.ID }), err
}

// MarkRead marks one of a's notifications read. Someone else's is not found.
func (s *Service) MarkRead(ctx context.Context, a bangfu.Actor, id int64) (Notification, error) {
	rows, _ := s.DB.Pool.Query(ctx, `UPDATE notifications SET read_at = coalesce(read_at, $3) WHERE id = $1 AND user_id = $2
		RETURNING id, kind, title, body, student_id, created_at, read_at`, id, a.UserID, s.Clock.Now())
	n, err := pgx.CollectExactlyOneRow(rows, pgx.RowToStructByPos[Notification])
	return n, postgres.FormatError(err, "notification")
}

// SendInsert runs insert, an INSERT INTO notifications … ON CONFLICT
// (user_id, dedupe_key) DO NOTHING RETURNING id statement that notifies
// many users at once, and enqueues the e-mails of the rows it added, on tx.
// It returns how many notifications were added.
func (s *Service) SendInsert(ctx context.Context, tx pgx.Tx, insert string, args ...any) (int, error) {
	rows, err := tx.Query(ctx, insert, args...)
	if err != nil {
		return 0, err
	}
	ids, err := pgx.CollectRows(rows, pgx.RowTo[int64])
	if err != nil || len(ids) == 0 || !s.Email {
		return len(ids), err
	}
	jobs := make([]river.InsertManyParams, len(ids))
	for i, id := range ids {
		jobs[i] = river.InsertManyParams{Args: EmailArgs{NotificationID: id}}
	}
	_, err = s.River.InsertManyTx(ctx, tx, jobs)
	return len(ids), err
}
