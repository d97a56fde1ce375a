package roster

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"

	"github.com/bangfu/bangfu"
	"github.com/bangfu/bangfu/internal/postgres"
)

// The headers of a delivery. The signature is HMAC-SHA256, under the
// base's secret, of the timestamp, a dot and the body, in hex:
//
//	X-Bangfu-Signature: sha256=hex(HMAC(secret, timestamp + "." + body))
//
// A receiver recomputes it, compares in constant time, refuses a
// timestamp more than five minutes from its clock, and keeps the
// Idempotency-Key of what it accepted: a retried change carries the same
// key (and a fresh timestamp and signature).
const (
	HeaderTimestamp   = "X-Bangfu-Timestamp"
	HeaderSignature   = "X-Bangfu-Signature"
	HeaderIdempotency = "Idempotency-Key"
	HeaderEvent       = "X-Bangfu-Event"
	// EventType is the one kind of event sent.
	EventType = "roster.place.changed"
	// MaxSkew is how far a delivery's timestamp may be from the receiver's
	// clock.
	MaxSkew = 5 * time.Minute
)

// Sign returns the signature header's value for body sent at timestamp.
func Sign(secret []byte, timestamp string, body []byte) string {
	m := hmac.New(sha256.New, secret)
	m.Write([]byte(timestamp))
	m.Write([]byte{'.'})
	m.Write(body)
	return "sha256=" + hex.EncodeToString(m.Sum(nil))
}

// ErrBadSignature is what Verify returns for a delivery that was not
// signed with the secret.
var ErrBadSignature = errors.New("roster: the signature does not match")

// Verify checks a delivery's signature and timestamp as a receiver does:
// nil when signature is Sign(secret, timestamp, body) and timestamp is
// within MaxSkew of now.
func Verify(secret []byte, timestamp, signature string, body []byte, now time.Time) error {
	ts, err := strconv.ParseInt(timestamp, 10, 64)
	if err != nil {
		return fmt.Errorf("roster: bad timestamp %q", timestamp)
	}
	if d := now.Sub(time.Unix(ts, 0)); d > MaxSkew || d < -MaxSkew {
		return fmt.Errorf("roster: timestamp %s is %s from now", timestamp, d.Round(time.Second))
	}
	if !hmac.Equal([]byte(Sign(secret, timestamp, body)), []byte(signature)) {
		return ErrBadSignature
	}
	return nil
}

// IdempotencyKey is the key of the change recorded as event id: the same
// on every attempt to deliver it.
func IdempotencyKey(eventID int64) string { return fmt.Sprintf("bangfu-roster-%d", eventID) }

// Payload is the JSON body of a delivery: the change, and what the base
// needs to know of the graduate. Personal data goes only with a place the
// base serves (confirmed, attending, completed): name, school, major,
// education level and contacts, of a graduate who consents.
type Payload struct {
	ID         string         `json:"id"`
	Type       string         `json:"type"`
	OccurredAt time.Time      `json:"occurred_at"`
	Cohort     PayloadCohort  `json:"cohort"`
	Place      PayloadPlace   `json:"place"`
	Graduate   *PayloadPerson `json:"graduate"`
}

// PayloadCohort names the cohort of a change.
type PayloadCohort struct {
	ID       int64  `json:"id"`
	Name     string `json:"name"`
	Mode     string `json:"mode"`
	StartsOn string `json:"starts_on"` // 2006-01-02
	EndsOn   string `json:"ends_on"`
}

// PayloadPlace is the change of a place. Sequence grows with every change
// of the roster: it orders the changes of one place, which may arrive out
// of order after retries.
type PayloadPlace struct {
	ID             int64  `json:"id"`
	Status         string `json:"status"`
	PreviousStatus string `json:"previous_status"`
	Sequence       int64  `json:"sequence"`
}

// PayloadPerson is the graduate, for a place the base serves.
type PayloadPerson struct {
	Name           string `json:"name"`
	School         string `json:"school"`
	Major          string `json:"major"`
	EducationLevel string `json:"education_level"`
	Phone          string `json:"phone"`
	Email          string `json:"email"`
}

// DeliverArgs is the roster_deliver job of one change (its event id).
type DeliverArgs struct {
	EventID int64 `json:"event_id"`
}

// Kind is the job's name in River.
func (DeliverArgs) Kind() string { return "roster_deliver" }

// DeliverAttempts is how often a change is tried before its job gives up
// (about three days with DeliverWorker's backoff). The change stays
// pending; saving the base's webhook again sends it anew.
const DeliverAttempts = 80

// InsertOpts retry a delivery until a 2xx, up to DeliverAttempts.
func (DeliverArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{MaxAttempts: DeliverAttempts}
}

// DeliverWorker POSTs one change to its base's webhook.
type DeliverWorker struct {
	river.WorkerDefaults[DeliverArgs]
	Roster *Service
	// Client sends the requests; nil means a client with a 10 s timeout
	// that follows no redirect.
	Client *http.Client
	// Backoff is the wait before retry n (1-based); nil means 10 s
	// doubling up to one hour.
	Backoff func(attempt int) time.Duration
}

// DefaultBackoff waits 10 s before the first retry, doubling up to an hour.
func DefaultBackoff(attempt int) time.Duration {
	d := 10 * time.Second
	for i := 1; i < attempt && d < time.Hour; i++ {
		d *= 2
	}
	return min(d, time.Hour)
}

// NextRetry is when River tries a failed delivery again.
func (w *DeliverWorker) NextRetry(job *river.Job[DeliverArgs]) time.Time {
	b := w.Backoff
	if b == nil {
		b = DefaultBackoff
	}
	return time.Now().Add(b(job.Attempt))
}

// Timeout bounds one attempt (the request and the records around it).
func (w *DeliverWorker) Timeout(*river.Job[DeliverArgs]) time.Duration { return 30 * time.Second }

var defaultClient = &http.Client{
	Timeout:       10 * time.Second,
	CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
}

// Work delivers the change once: a change already delivered or skipped
// is not sent again; a graduate who does not consent (now) is never sent —
// the change is skipped; a base with no webhook leaves it pending. Each
// request is recorded as an attempt (status, latency, error); anything
// but a 2xx is an error, and River retries after NextRetry.
func (w *DeliverWorker) Work(ctx context.Context, job *river.Job[DeliverArgs]) error {
	return w.Roster.deliver(ctx, w.client(), job.Args.EventID)
}

func (w *DeliverWorker) client() *http.Client {
	if w.Client != nil {
		return w.Client
	}
	return defaultClient
}

// delivery is what a delivery needs.
type delivery struct {
	state    string
	attempts int
	baseID   int64
	consent  bool
	payload  Payload
}

func (s *Service) loadDelivery(ctx context.Context, eventID int64) (delivery, error) {
	var d delivery
	var starts, ends time.Time
	var name, school, major, level, phone, email string
	err := s.DB.Pool.QueryRow(ctx, `SELECT d.state, d.attempts, d.base_id, s.consent,
			e.at, e.place_id, e.from_status, e.to_status, c.id, c.name, c.mode, c.starts_on, c.ends_on,
			s.name, sc.name, s.major, s.education_level, s.phone, s.email
		FROM roster_deliveries d
		JOIN roster_events e ON e.id = d.event_id
		JOIN cohorts c ON c.id = e.cohort_id
		JOIN students s ON s.id = e.student_id
		JOIN schools sc ON sc.id = s.school_id
		WHERE d.event_id = $1`, eventID).
		Scan(&d.state, &d.attempts, &d.baseID, &d.consent,
			&d.payload.OccurredAt, &d.payload.Place.ID, &d.payload.Place.PreviousStatus, &d.payload.Place.Status,
			&d.payload.Cohort.ID, &d.payload.Cohort.Name, &d.payload.Cohort.Mode, &starts, &ends,
			&name, &school, &major, &level, &phone, &email)
	if err != nil {
		return delivery{}, postgres.FormatError(err, "delivery")
	}
	d.payload.ID, d.payload.Type, d.payload.Place.Sequence = IdempotencyKey(eventID), EventType, eventID
	d.payload.Cohort.StartsOn, d.payload.Cohort.EndsOn = bangfu.DateFromDB(starts).String(), bangfu.DateFromDB(ends).String()
	if atBase(d.payload.Place.Status) {
		d.payload.Graduate = &PayloadPerson{Name: name, School: school, Major: major, EducationLevel: level, Phone: phone, Email: email}
	}
	return d, nil
}

func (s *Service) deliver(ctx context.Context, client *http.Client, eventID int64) error {
	d, err := s.loadDelivery(ctx, eventID)
	if err != nil {
		return err
	}
	if d.state != "pending" {
		return nil
	}
	if !d.consent {
		_, err := s.DB.Pool.Exec(ctx, `UPDATE roster_deliveries SET state = 'skipped', skip_reason = 'no_consent'
			WHERE event_id = $1 AND state = 'pending'`, eventID)
		return err
	}
	target, secret, err := s.webhook(ctx, s.DB.Pool, d.baseID)
	if err != nil {
		return err
	}
	if target == "" {
		return nil // pending until the base has a webhook (UpdateBase sends it then)
	}
	body, err := json.Marshal(d.payload)
	if err != nil {
		return err
	}
	ts := strconv.FormatInt(s.Clock.Now().Unix(), 10)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, target, bytes.NewReader(body))
	if err != nil {
		// Not err: it would quote the URL, which may carry a token, into
		// River's log.
		return errors.New("roster_deliver: the base's webhook URL is not a URL")
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "bangfu-roster/1")
	req.Header.Set(HeaderTimestamp, ts)
	req.Header.Set(HeaderSignature, Sign([]byte(secret), ts, body))
	req.Header.Set(HeaderIdempotency, d.payload.ID)
	req.Header.Set(HeaderEvent, EventType)

	start := time.Now()
	resp, herr := client.Do(req)
	latency := time.Since(start)
	var status *int
	var problem string
	if herr != nil {
		problem = describeHTTPError(herr)
	} else {
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
		resp.Body.Close()
		status = &resp.StatusCode
		if resp.StatusCode < 200 || resp.StatusCode > 299 {
			problem = fmt.Sprintf("the webhook answered %d %s", resp.StatusCode, http.StatusText(resp.StatusCode))
		}
	}
	ok := problem == ""
	// Recorded whatever the job's context says: the request was made.
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	err = s.DB.InTx(rctx, func(tx pgx.Tx) error {
		var n int
		if err := tx.QueryRow(rctx, `UPDATE roster_deliveries SET attempts = attempts + 1,
				state = CASE WHEN $2 THEN 'delivered' ELSE state END,
				delivered_at = CASE WHEN $2 THEN $3 ELSE delivered_at END
			WHERE event_id = $1 RETURNING attempts`, eventID, ok, s.Clock.Now()).Scan(&n); err != nil {
			return err
		}
		_, err := tx.Exec(rctx, `INSERT INTO roster_delivery_attempts (event_id, attempt, at, status_code, latency_ms, error)
			VALUES ($1, $2, $3, $4, $5, $6)`, eventID, n, s.Clock.Now(), status, int(latency.Milliseconds()), problem)
		return err
	})
	if err != nil {
		return err
	}
	if !ok {
		return errors.New("roster_deliver: " + problem)
	}
	return nil
}

// describeHTTPError says what went wrong with a request without the URL
// (which may carry a token): the kind of failure only.
func describeHTTPError(err error) string {
	var ne interface{ Timeout() bool }
	switch {
	case errors.Is(err, context.DeadlineExceeded) || errors.As(err, &ne) && ne.Timeout():
		return "timed out"
	case strings.Contains(err.Error(), "connection refused"):
		return "connection refused"
	case strings.Contains(err.Error(), "no such host"):
		return "unknown host"
	case strings.Contains(err.Error(), "certificate"):
		return "TLS certificate not accepted"
	}
	return "the request failed"
}

// resend enqueues, on tx, the delivery of every change still pending for
// base id (its webhook was just saved).
func (s *Service) resend(ctx context.Context, tx pgx.Tx, baseID int64) error {
	rows, err := tx.Query(ctx, `SELECT event_id FROM roster_deliveries WHERE base_id = $1 AND state = 'pending' ORDER BY event_id`, baseID)
	if err != nil {
		return err
	}
	ids, err := pgx.CollectRows(rows, pgx.RowTo[int64])
	if err != nil || len(ids) == 0 {
		return err
	}
	jobs := make([]river.InsertManyParams, len(ids))
	for i, id := range ids {
		jobs[i] = river.InsertManyParams{Args: DeliverArgs{EventID: id}}
	}
	_, err = s.River.InsertManyTx(ctx, tx, jobs)
	return err
}

// Delivery is one change sent (or to be sent) to a base, with its
// attempts, for admins.
type Delivery struct {
	EventID     int64      `json:"event_id"`
	PlaceID     int64      `json:"place_id"`
	From        string     `json:"from"`
	To          string     `json:"to"`
	State       string     `json:"state"`
	SkipReason  string     `json:"skip_reason"`
	CreatedAt   time.Time  `json:"created_at"`
	DeliveredAt *time.Time `json:"delivered_at"`
	Attempts    []Attempt  `json:"attempts"`
}

// Attempt is one request of a delivery.
type Attempt struct {
	Attempt    int       `json:"attempt"`
	At         time.Time `json:"at"`
	StatusCode *int      `json:"status_code"`
	LatencyMS  int       `json:"latency_ms"`
	Error      string    `json:"error"`
}

// DeliveryFilter narrows Deliveries.
type DeliveryFilter struct {
	State string
}

// Deliveries returns one page of cohort id's deliveries, newest first,
// each with its attempts (admin).
func (s *Service) Deliveries(ctx context.Context, a bangfu.Actor, id int64, f DeliveryFilter, pg bangfu.Page) (bangfu.List[Delivery], error) {
	if f.State != "" && !oneOf(f.State, []string{"pending", "delivered", "skipped"}) {
		return bangfu.List[Delivery]{}, (bangfu.Problems{"state": "must be one of pending, delivered, skipped"}).Err()
	}
	if _, err := s.Cohort(ctx, a, id); err != nil {
		return bangfu.List[Delivery]{}, err
	}
	after := pg.After
	if after == 0 {
		after = 1<<63 - 1
	}
	rows, err := s.DB.Pool.Query(ctx, `SELECT d.event_id, e.place_id, e.from_status, e.to_status, d.state, d.skip_reason, d.created_at, d.delivered_at
		FROM roster_deliveries d JOIN roster_events e ON e.id = d.event_id
		WHERE d.cohort_id = $1 AND d.event_id < $2 AND ($3 = '' OR d.state = $3)
		ORDER BY d.event_id DESC LIMIT $4`, id, after, f.State, pg.Limit+1)
	if err != nil {
		return bangfu.List[Delivery]{}, err
	}
	items, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (Delivery, error) {
		var d Delivery
		err := row.Scan(&d.EventID, &d.PlaceID, &d.From, &d.To, &d.State, &d.SkipReason, &d.CreatedAt, &d.DeliveredAt)
		d.Attempts = []Attempt{}
		return d, err
	})
	if err != nil {
		return bangfu.List[Delivery]{}, err
	}
	l := bangfu.NewList(items, pg.Limit, func(d Delivery) int64 { return d.EventID })
	ids := make([]int64, len(l.Items))
	index := map[int64]int{}
	for i, d := range l.Items {
		ids[i], index[d.EventID] = d.EventID, i
	}
	rows, err = s.DB.Pool.Query(ctx, `SELECT event_id, attempt, at, status_code, latency_ms, error
		FROM roster_delivery_attempts WHERE event_id = ANY($1) ORDER BY id`, ids)
	if err != nil {
		return bangfu.List[Delivery]{}, err
	}
	var ev int64
	var at Attempt
	_, err = pgx.ForEachRow(rows, []any{&ev, &at.Attempt, &at.At, &at.StatusCode, &at.LatencyMS, &at.Error}, func() error {
		i := index[ev]
		x := at
		if at.StatusCode != nil {
			code := *at.StatusCode
			x.StatusCode = &code
		}
		l.Items[i].Attempts = append(l.Items[i].Attempts, x)
		return nil
	})
	return l, err
}
