package notify

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"

	"github.com/bangfu/bangfu"
	"github.com/bangfu/bangfu/internal/postgres"
)

// Purposes of a delivery.
const (
	purposeDigest = "digest"
	purposeUrgent = "urgent"
	purposeTest   = "test"
)

// The medium of an e-mail delivery (the others are the channel kinds).
const mediumEmail = "email"

// newDelivery is a delivery to create. Key names the event and the
// channel; a second delivery with the same key is never created.
type newDelivery struct {
	Key       string
	ChannelID *int64
	UserID    *int64
	SchoolID  *int64
	Medium    string
	Purpose   string
	Day       *time.Time
	Subject   string
	Body      string
	NotBefore time.Time
}

type insertedDelivery struct {
	ID        int64
	NotBefore time.Time
}

// insertDeliveries creates ds on tx in one statement, skipping those whose
// key exists, and returns the new ones.
func (s *Service) insertDeliveries(ctx context.Context, tx pgx.Tx, ds []newDelivery) ([]insertedDelivery, error) {
	if len(ds) == 0 {
		return nil, nil
	}
	n := len(ds)
	keys, media, purposes, subjects, bodies := make([]string, n), make([]string, n), make([]string, n), make([]string, n), make([]string, n)
	channels, users, schools := make([]*int64, n), make([]*int64, n), make([]*int64, n)
	days := make([]*time.Time, n)
	notBefore := make([]time.Time, n)
	for i, d := range ds {
		keys[i], media[i], purposes[i], subjects[i], bodies[i] = d.Key, d.Medium, d.Purpose, d.Subject, d.Body
		channels[i], users[i], schools[i], days[i], notBefore[i] = d.ChannelID, d.UserID, d.SchoolID, d.Day, d.NotBefore
	}
	rows, err := tx.Query(ctx, `INSERT INTO notify_deliveries (idempotency_key, channel_id, user_id, school_id, medium, purpose, day, subject, body, not_before, created_at)
		SELECT * , $11::timestamptz FROM unnest($1::text[], $2::bigint[], $3::bigint[], $4::bigint[], $5::text[], $6::text[], $7::date[], $8::text[], $9::text[], $10::timestamptz[])
		ON CONFLICT (idempotency_key) DO NOTHING
		RETURNING id, not_before`, keys, channels, users, schools, media, purposes, days, subjects, bodies, notBefore, s.Clock.Now())
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, pgx.RowToStructByPos[insertedDelivery])
}

// enqueue inserts the job of each delivery on tx, scheduled for its
// NotBefore (the end of quiet hours) when that is later than now.
func (s *Service) enqueue(ctx context.Context, tx pgx.Tx, ds []insertedDelivery) error {
	if len(ds) == 0 {
		return nil
	}
	now := s.Clock.Now()
	jobs := make([]river.InsertManyParams, len(ds))
	for i, d := range ds {
		jobs[i] = river.InsertManyParams{Args: DeliverArgs{DeliveryID: d.ID}}
		if d.NotBefore.After(now) {
			jobs[i].InsertOpts = &river.InsertOpts{ScheduledAt: d.NotBefore}
		}
	}
	_, err := s.River.InsertManyTx(ctx, tx, jobs)
	return err
}

// DeliverArgs is the notify_deliver job of one delivery (its id only).
type DeliverArgs struct {
	DeliveryID int64 `json:"delivery_id"`
}

// Kind is the job's name in River.
func (DeliverArgs) Kind() string { return "notify_deliver" }

// DeliverAttempts is how often a delivery is tried (about an hour with
// DefaultBackoff) before it is recorded as failed.
const DeliverAttempts = 8

// InsertOpts retry a delivery up to DeliverAttempts times.
func (DeliverArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{MaxAttempts: DeliverAttempts}
}

// DeliverWorker sends one delivery: a webhook message or an e-mail.
//
// The guarantee: a delivery is sent at most once. Its attempt is recorded
// (committed) before the request goes out and completed after; a delivery
// that was sent, failed for good or was skipped is never tried again, and
// one whose previous attempt is still in flight — the process died after
// the request may have gone out and before its outcome was recorded, or the
// request went out and no answer came back — is recorded as uncertain and
// not sent again. Only failures known to have left nothing behind are
// retried: a network error before the request was written, a 5xx, 408 or
// 429, a rate limit in the API's answer. A 4xx or an API refusal (errcode)
// fails the delivery and marks the channel broken; its other deliveries are
// skipped until a test message goes through. A delivery that comes due in
// its recipient's quiet hours waits for their end; a digest not sent on its
// day is skipped.
type DeliverWorker struct {
	river.WorkerDefaults[DeliverArgs]
	Notify *Service
	// Backoff is the wait before retry n (1-based); nil means DefaultBackoff.
	Backoff func(attempt int) time.Duration
}

// DefaultBackoff waits 30 s before the first retry, doubling up to 30 min.
func DefaultBackoff(attempt int) time.Duration {
	d := 30 * time.Second
	for i := 1; i < attempt && d < 30*time.Minute; i++ {
		d *= 2
	}
	return min(d, 30*time.Minute)
}

// NextRetry is when River tries a failed delivery again.
func (w *DeliverWorker) NextRetry(job *river.Job[DeliverArgs]) time.Time {
	b := w.Backoff
	if b == nil {
		b = DefaultBackoff
	}
	return time.Now().Add(b(job.Attempt))
}

// Timeout bounds one attempt: the request (10 s) and the records around it.
func (w *DeliverWorker) Timeout(*river.Job[DeliverArgs]) time.Duration { return time.Minute }

// Work makes one attempt at the delivery.
func (w *DeliverWorker) Work(ctx context.Context, job *river.Job[DeliverArgs]) error {
	_, err := w.Notify.attempt(ctx, job.Args.DeliveryID, job.Attempt >= job.MaxAttempts)
	return err
}

// errRetry marks an attempt worth repeating.
var errRetry = errors.New("retry")

// retryError is an attempt's failure that River retries; its text is the
// scrubbed reason (River stores and logs it).
type retryError struct{ reason string }

func (e *retryError) Error() string        { return "delivery failed, will retry: " + e.reason }
func (e *retryError) Is(target error) bool { return target == errRetry }

// pending is what an attempt needs to know of a delivery.
type pending struct {
	state, purpose, medium, subject, body, key string
	day                                        *time.Time
	channelID                                  *int64
	kind                                       *string
	urlSealed, secretSealed                    []byte
	removed, broken                            bool
	email                                      *string
	emailMode                                  string
	quietStart, quietEnd                       string
}

// attempt makes one attempt at delivery id and records it (see
// DeliverWorker for the guarantee). last says it is the final one: a
// failure worth retrying is then recorded as failed. The error is a
// retryError when River should try again, a river.JobSnooze until the end
// of quiet hours, or a storage failure.
func (s *Service) attempt(ctx context.Context, id int64, last bool) (result, error) {
	var d pending
	var n int
	var res result
	// done is set when there is nothing to send: the transaction commits
	// what it recorded and no request goes out.
	var done bool
	err := s.DB.InTx(ctx, func(tx pgx.Tx) error {
		done = false
		err := tx.QueryRow(ctx, `SELECT d.state, d.purpose, d.medium, d.subject, d.body, d.idempotency_key, d.day, d.channel_id,
				c.kind, c.url_sealed, c.secret_sealed, c.removed_at IS NOT NULL, c.broken_at IS NOT NULL,
				u.email, coalesce(p.email_mode, 'digest'),
				to_char(CASE WHEN c.school_id IS NOT NULL THEN coalesce(ns.quiet_start, '22:00') ELSE coalesce(p.quiet_start, '22:00') END, 'HH24:MI'),
				to_char(CASE WHEN c.school_id IS NOT NULL THEN coalesce(ns.quiet_end, '07:30') ELSE coalesce(p.quiet_end, '07:30') END, 'HH24:MI')
			FROM notify_deliveries d
			LEFT JOIN notify_channels c ON c.id = d.channel_id
			LEFT JOIN users u ON u.id = d.user_id
			LEFT JOIN notify_preferences p ON p.user_id = d.user_id
			LEFT JOIN notify_schools ns ON ns.school_id = c.school_id
			WHERE d.id = $1 FOR UPDATE OF d`, id).Scan(&d.state, &d.purpose, &d.medium, &d.subject, &d.body, &d.key, &d.day, &d.channelID,
			&d.kind, &d.urlSealed, &d.secretSealed, &d.removed, &d.broken, &d.email, &d.emailMode, &d.quietStart, &d.quietEnd)
		if errors.Is(err, pgx.ErrNoRows) {
			return river.JobCancel(fmt.Errorf("delivery %d does not exist", id))
		} else if err != nil {
			return err
		}
		if d.state != "pending" {
			done = true
			return nil
		}
		now := s.Clock.Now()
		var outcome *string
		err = tx.QueryRow(ctx, `SELECT attempt, outcome FROM notify_attempts WHERE delivery_id = $1 ORDER BY attempt DESC LIMIT 1`, id).Scan(&n, &outcome)
		if err != nil && !errors.Is(err, pgx.ErrNoRows) {
			return err
		}
		if n > 0 && outcome == nil {
			// The previous attempt never recorded its outcome: its process
			// stopped, perhaps after the request went out. Not again.
			if _, err := tx.Exec(ctx, `UPDATE notify_attempts SET outcome = 'unknown', finished_at = $3,
				error = 'the process stopped during the attempt' WHERE delivery_id = $1 AND attempt = $2`, id, n, now); err != nil {
				return err
			}
			done = true
			return finish(ctx, tx, id, "uncertain", now, "the outcome of an attempt is unknown: not sent again")
		}
		if why := s.skip(d, now); why != "" {
			done = true
			return finish(ctx, tx, id, "skipped", now, why)
		}
		if d.purpose != purposeTest {
			if end, quiet := quietFrom(d.quietStart, d.quietEnd).Until(now); quiet {
				return river.JobSnooze(max(end.Sub(now), time.Second))
			}
		}
		n++
		_, err = tx.Exec(ctx, `INSERT INTO notify_attempts (delivery_id, attempt, started_at) VALUES ($1, $2, $3)`, id, n, now)
		return err
	})
	if err != nil || done {
		return result{}, err
	}

	started := time.Now()
	res = s.send(ctx, d)
	latency := time.Since(started)

	err = s.DB.InTx(ctx, func(tx pgx.Tx) error {
		now := s.Clock.Now()
		var status *int
		if res.status != 0 {
			status = &res.status
		}
		if _, err := tx.Exec(ctx, `UPDATE notify_attempts SET finished_at = $3, outcome = $4, http_status = $5, latency_ms = $6, error = $7
			WHERE delivery_id = $1 AND attempt = $2`, id, n, now, res.outcome, status, latency.Milliseconds(), res.err); err != nil {
			return err
		}
		switch {
		case res.outcome == outcomeOK:
			if err := finish(ctx, tx, id, "sent", now, ""); err != nil {
				return err
			}
		case res.outcome == outcomeUnknown:
			if err := finish(ctx, tx, id, "uncertain", now, "the request went out and no answer came back: not sent again"); err != nil {
				return err
			}
		case res.outcome == outcomePermanent:
			if err := finish(ctx, tx, id, "failed", now, res.err); err != nil {
				return err
			}
		case last:
			if err := finish(ctx, tx, id, "failed", now, fmt.Sprintf("gave up after %d attempts", n)); err != nil {
				return err
			}
		}
		if d.channelID == nil {
			return nil
		}
		switch {
		case res.outcome == outcomeOK:
			_, err := tx.Exec(ctx, `UPDATE notify_channels SET last_ok_at = $2, broken_at = NULL, broken_reason = '' WHERE id = $1 AND removed_at IS NULL`, *d.channelID, now)
			return err
		case res.broken:
			_, err := tx.Exec(ctx, `UPDATE notify_channels SET broken_at = $2, broken_reason = $3 WHERE id = $1 AND removed_at IS NULL`, *d.channelID, now, res.err)
			return err
		}
		return nil
	})
	if err != nil {
		return res, err
	}
	if res.outcome == outcomeRetry && !last {
		return res, &retryError{reason: res.err}
	}
	return res, nil
}

// finish ends delivery id in state.
func finish(ctx context.Context, tx pgx.Tx, id int64, state string, at time.Time, note string) error {
	_, err := tx.Exec(ctx, `UPDATE notify_deliveries SET state = $2, done_at = $3, note = $4 WHERE id = $1`, id, state, at, note)
	return err
}

// skip says why d is not to be sent now, or "".
func (s *Service) skip(d pending, now time.Time) string {
	if d.purpose == purposeDigest && d.day != nil && bangfu.DateFromDB(*d.day) != bangfu.DateOf(now) {
		return "the digest's day is over"
	}
	if d.medium == mediumEmail {
		switch {
		case !s.Email || s.Mailer == nil:
			return "e-mail is not configured"
		case d.email == nil || *d.email == "":
			return "the user has no e-mail address"
		case d.emailMode == EmailOff:
			return "the user turned e-mail off"
		}
		return ""
	}
	switch {
	case d.removed:
		return "channel removed"
	case d.broken && d.purpose != purposeTest:
		return "channel broken"
	}
	return ""
}

// send makes the request of d: a webhook message or an e-mail.
func (s *Service) send(ctx context.Context, d pending) result {
	if d.medium == mediumEmail {
		err := s.Mailer.Send(ctx, Mail{To: *d.email, Subject: d.subject, Body: d.body + "\n\n— bangfu 帮扶", Key: d.key})
		var cancel *rivertype.JobCancelError
		switch {
		case err == nil:
			return result{outcome: outcomeOK}
		case errors.As(err, &cancel):
			return result{outcome: outcomePermanent, err: err.Error()}
		default:
			return result{outcome: outcomeRetry, err: err.Error()}
		}
	}
	target, err := s.Box.Open(fieldURL, d.urlSealed)
	if err != nil {
		return result{outcome: outcomePermanent, err: "the channel's address cannot be read (data key)"}
	}
	secret, err := s.Box.Open(fieldSecret, d.secretSealed)
	if err != nil {
		return result{outcome: outcomePermanent, err: "the channel's secret cannot be read (data key)"}
	}
	client := s.HTTP
	if client == nil {
		client = webhookClient
	}
	return postWebhook(ctx, client, *d.kind, target, secret, d.key, d.body, s.AllowLocal)
}

// Delivery is one message to one channel, as admins see it: whom and
// where to, why, and what each attempt came to — not the message.
type Delivery struct {
	ID             int64      `json:"id"`
	IdempotencyKey string     `json:"idempotency_key"`
	Medium         string     `json:"medium"`
	Purpose        string     `json:"purpose"`
	State          string     `json:"state"`
	Recipient      string     `json:"recipient"`
	ChannelID      *int64     `json:"channel_id"`
	Host           string     `json:"host"`
	CreatedAt      time.Time  `json:"created_at"`
	NotBefore      time.Time  `json:"not_before"`
	DoneAt         *time.Time `json:"done_at"`
	Note           string     `json:"note"`
	Attempts       []Attempt  `json:"attempts"`
}

// Attempt is one try at a delivery. Outcome is ok, retry, permanent or
// unknown; pending while in flight.
type Attempt struct {
	Attempt    int        `json:"attempt"`
	StartedAt  time.Time  `json:"started_at"`
	FinishedAt *time.Time `json:"finished_at"`
	Outcome    string     `json:"outcome"`
	HTTPStatus *int       `json:"http_status"`
	LatencyMS  *int       `json:"latency_ms"`
	Error      string     `json:"error"`
}

// DeliveryStates are the states a delivery list may be filtered by.
var DeliveryStates = []string{"pending", "sent", "failed", "uncertain", "skipped"}

// Deliveries lists deliveries newest first, with their attempts, for
// admins; state "" lists all. Page.After is a delivery id.
func (s *Service) Deliveries(ctx context.Context, a bangfu.Actor, state string, pg bangfu.Page) (bangfu.List[Delivery], error) {
	if a.Role != bangfu.RoleAdmin {
		return bangfu.List[Delivery]{}, bangfu.Errorf(bangfu.EFORBIDDEN, "Only admins see deliveries.")
	}
	if state != "" {
		ok := false
		for _, st := range DeliveryStates {
			ok = ok || st == state
		}
		if !ok {
			return bangfu.List[Delivery]{}, (bangfu.Problems{"state": "must be pending, sent, failed, uncertain or skipped"}).Err()
		}
	}
	after := pg.After
	if after == 0 {
		after = 1<<63 - 1
	}
	rows, err := s.DB.Pool.Query(ctx, `SELECT d.id, d.idempotency_key, d.medium, d.purpose, d.state,
			coalesce(u.display_name, sc.name, ''), d.channel_id, coalesce(c.host, ''), d.created_at, d.not_before, d.done_at, d.note
		FROM notify_deliveries d
		LEFT JOIN notify_channels c ON c.id = d.channel_id
		LEFT JOIN users u ON u.id = coalesce(d.user_id, c.user_id)
		LEFT JOIN schools sc ON sc.id = coalesce(d.school_id, c.school_id)
		WHERE d.id < $1 AND ($2 = '' OR d.state = $2)
		ORDER BY d.id DESC LIMIT $3`, after, state, pg.Limit+1)
	if err != nil {
		return bangfu.List[Delivery]{}, err
	}
	items, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (Delivery, error) {
		var d Delivery
		err := row.Scan(&d.ID, &d.IdempotencyKey, &d.Medium, &d.Purpose, &d.State, &d.Recipient, &d.ChannelID, &d.Host,
			&d.CreatedAt, &d.NotBefore, &d.DoneAt, &d.Note)
		d.Attempts = []Attempt{}
		return d, err
	})
	if err != nil {
		return bangfu.List[Delivery]{}, err
	}
	list := bangfu.NewList(items, pg.Limit, func(d Delivery) int64 { return d.ID })
	if len(list.Items) == 0 {
		return list, nil
	}
	ids := make([]int64, len(list.Items))
	at := map[int64]int{}
	for i, d := range list.Items {
		ids[i], at[d.ID] = d.ID, i
	}
	rows, err = s.DB.Pool.Query(ctx, `SELECT delivery_id, attempt, started_at, finished_at, coalesce(outcome, 'pending'), http_status, latency_ms, error
		FROM notify_attempts WHERE delivery_id = ANY($1) ORDER BY delivery_id, attempt`, ids)
	if err != nil {
		return list, err
	}
	var did int64
	var t Attempt
	_, err = pgx.ForEachRow(rows, []any{&did, &t.Attempt, &t.StartedAt, &t.FinishedAt, &t.Outcome, &t.HTTPStatus, &t.LatencyMS, &t.Error}, func() error {
		i := at[did]
		list.Items[i].Attempts = append(list.Items[i].Attempts, t)
		t = Attempt{}
		return nil
	})
	return list, postgres.FormatError(err, "deliveries")
}
