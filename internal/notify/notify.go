// Package notify tells people what needs them: an in-app inbox (always),
// and, as each user chooses, e-mail and 企业微信 / 钉钉 group bots — a daily
// digest of counts, urgent escalations at once outside quiet hours, each
// delivery sent by its own retried job and recorded attempt by attempt.
// What leaves the system is counts and links only (text.go).
package notify

import (
	"context"
	"fmt"
	"net/http"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"

	"github.com/bangfu/bangfu"
	"github.com/bangfu/bangfu/internal/postgres"
	"github.com/bangfu/bangfu/internal/sealed"
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
	// ResolvedAt is when what the notification announced was dealt with
	// (an escalation resolved); its title and body say so too.
	ResolvedAt *time.Time `json:"resolved_at"`
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
	// Urgent, when above zero, is how many level-2 or level-3 escalations
	// the message tells of: besides the inbox, they go out at once to the
	// user's channels (and the school's shared one, for a message about a
	// graduate) as a count and a link, or at the end of quiet hours.
	Urgent int
}

// JobInserter inserts River jobs in a transaction.
type JobInserter interface {
	InsertManyTx(ctx context.Context, tx pgx.Tx, params []river.InsertManyParams) ([]*rivertype.JobInsertResult, error)
}

// Service keeps inboxes, channels and their deliveries.
type Service struct {
	DB    *postgres.DB
	Clock bangfu.Clock
	// Email is true when SMTP is configured: e-mail is then a channel.
	Email bool
	River JobInserter
	// Box seals webhook URLs and secrets.
	Box *sealed.Box
	// PublicURL starts the links in what goes out (config.PublicURL); ""
	// sends no link.
	PublicURL string
	// AllowLocal also accepts webhook URLs on loopback addresses
	// (config.WebhookAllowLocal: development and tests, never prod).
	AllowLocal bool
	// HTTP sends webhook requests; nil means a client with a 10 s limit
	// that follows no redirect.
	HTTP *http.Client
	// Mailer sends e-mail deliveries; nil refuses them.
	Mailer Mailer
}

// Send adds msgs to their users' inboxes on tx, skipping any already sent
// for the same key, and in the same transaction enqueues what else they
// cause: the e-mail of each notification for users who chose one e-mail
// per notification, and the deliveries of urgent messages (Message.Urgent).
// It returns how many notifications were added. All of them go to the
// database in one statement, however many there are.
func (s *Service) Send(ctx context.Context, tx pgx.Tx, msgs ...Message) (int, error) {
	if len(msgs) == 0 {
		return 0, nil
	}
	n := len(msgs)
	users, kinds, titles, bodies, keys := make([]int64, n), make([]string, n), make([]string, n), make([]string, n), make([]string, n)
	students := make([]*int64, n)
	for i, m := range msgs {
		users[i], kinds[i], titles[i], bodies[i], keys[i] = m.UserID, m.Kind, m.Title, m.Body, m.Key
		if m.StudentID != 0 {
			id := m.StudentID
			students[i] = &id
		}
	}
	rows, err := tx.Query(ctx, `WITH added AS (
			INSERT INTO notifications (user_id, kind, title, body, student_id, dedupe_key, created_at)
			SELECT u, k, t, b, st, d, $7 FROM unnest($1::bigint[], $2::text[], $3::text[], $4::text[], $5::bigint[], $6::text[]) AS m(u, k, t, b, st, d)
			ON CONFLICT (user_id, dedupe_key) DO NOTHING
			RETURNING id, user_id, dedupe_key, kind, student_id)
		SELECT a.id, a.user_id, a.dedupe_key, a.kind, coalesce(p.email_mode, 'digest'), s.school_id
		FROM added a LEFT JOIN notify_preferences p ON p.user_id = a.user_id LEFT JOIN students s ON s.id = a.student_id
		ORDER BY a.id`, users, kinds, titles, bodies, students, keys, s.Clock.Now())
	if err != nil {
		return 0, err
	}
	added, err := pgx.CollectRows(rows, pgx.RowToStructByPos[sent])
	if err != nil || len(added) == 0 {
		return len(added), err
	}
	var jobs []river.InsertManyParams
	if s.Email {
		for _, a := range added {
			if a.EmailMode == EmailEach && a.Kind != KindDigest {
				jobs = append(jobs, river.InsertManyParams{Args: EmailArgs{NotificationID: a.ID}})
			}
		}
	}
	if len(jobs) > 0 {
		if _, err := s.River.InsertManyTx(ctx, tx, jobs); err != nil {
			return 0, err
		}
	}
	urgent := map[[2]any]int{}
	for _, m := range msgs {
		if m.Urgent > 0 {
			urgent[[2]any{m.UserID, m.Key}] = m.Urgent
		}
	}
	if len(urgent) > 0 {
		if err := s.sendUrgent(ctx, tx, added, urgent); err != nil {
			return 0, err
		}
	}
	return len(added), nil
}

// sent is a notification Send added.
type sent struct {
	ID        int64
	UserID    int64
	Key       string
	Kind      string
	EmailMode string
	SchoolID  *int64 // of the graduate it is about
}

// List returns a's notifications, newest first; unreadOnly leaves out
// read ones. Page.After is a notification id.
func (s *Service) List(ctx context.Context, a bangfu.Actor, unreadOnly bool, pg bangfu.Page) (bangfu.List[Notification], error) {
	after := pg.After
	if after == 0 {
		after = 1<<63 - 1
	}
	rows, err := s.DB.Pool.Query(ctx, `SELECT id, kind, title, body, student_id, created_at, read_at, resolved_at FROM notifications
		WHERE user_id = $1 AND id < $2 AND (NOT $3 OR read_at IS NULL) ORDER BY id DESC LIMIT $4`,
		a.UserID, after, unreadOnly, pg.Limit+1)
	if err != nil {
		return bangfu.List[Notification]{}, err
	}
	items, err := pgx.CollectRows(rows, pgx.RowToStructByPos[Notification])
	return bangfu.NewList(items, pg.Limit, func(n Notification) int64 { return n.ID }), err
}

// Unread counts a's unread notifications.
func (s *Service) Unread(ctx context.Context, a bangfu.Actor) (int, error) {
	var n int
	err := s.DB.Pool.QueryRow(ctx, `SELECT count(*) FROM notifications WHERE user_id = $1 AND read_at IS NULL`, a.UserID).Scan(&n)
	return n, err
}

// MarkRead marks one of a's notifications read. Someone else's is not found.
func (s *Service) MarkRead(ctx context.Context, a bangfu.Actor, id int64) (Notification, error) {
	rows, _ := s.DB.Pool.Query(ctx, `UPDATE notifications SET read_at = coalesce(read_at, $3) WHERE id = $1 AND user_id = $2
		RETURNING id, kind, title, body, student_id, created_at, read_at, resolved_at`, id, a.UserID, s.Clock.Now())
	n, err := pgx.CollectExactlyOneRow(rows, pgx.RowToStructByPos[Notification])
	return n, postgres.FormatError(err, "notification")
}

// Resolution says that the event a key identifies was dealt with, and how.
type Resolution struct {
	Key  string
	Note string
}

// ResolvedPrefix begins the title of a notification whose event was dealt
// with.
const ResolvedPrefix = "【已解决】"

// Resolve says, on tx, in the notifications of kind sent for each
// resolution's key (to whichever users), that their event was dealt with:
// the title begins with ResolvedPrefix, the body ends with when and how,
// and resolved_at is set. Nothing new is sent or e-mailed; a notification
// already resolved is left as it is. It returns how many were changed.
func (s *Service) Resolve(ctx context.Context, tx pgx.Tx, kind string, rs ...Resolution) (int, error) {
	if len(rs) == 0 {
		return 0, nil
	}
	keys, notes := make([]string, len(rs)), make([]string, len(rs))
	now := s.Clock.Now()
	for i, r := range rs {
		keys[i] = r.Key
		notes[i] = fmt.Sprintf("已于 %s 解决：%s", now.In(bangfu.Shanghai).Format("2006-01-02 15:04"), r.Note)
	}
	tag, err := tx.Exec(ctx, `UPDATE notifications n SET resolved_at = $4, title = $5 || n.title, body = n.body || E'\n' || r.note
		FROM unnest($2::text[], $3::text[]) AS r(key, note)
		WHERE n.kind = $1 AND n.dedupe_key = r.key AND n.resolved_at IS NULL`, kind, keys, notes, now, ResolvedPrefix)
	return int(tag.RowsAffected()), err
}
