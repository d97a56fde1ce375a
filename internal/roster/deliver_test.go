package roster_test

import (
	"context"
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"
	"github.com/riverqueue/river/rivertest"
	"github.com/riverqueue/river/rivertype"
	"github.com/stretchr/testify/require"

	"github.com/bangfu/bangfu"
	"github.com/bangfu/bangfu/internal/apptest"
	"github.com/bangfu/bangfu/internal/graduate"
	"github.com/bangfu/bangfu/internal/roster"
)

const secret = "s3cret-shared-with-the-base"

// attemptJob works a delivery job once, as River would on an attempt, and
// returns the job row after it and the worker's error.
func attemptJob(t *testing.T, env *apptest.Env, job *rivertype.JobRow) (*rivertype.JobRow, error) {
	t.Helper()
	ctx := context.Background()
	tx, err := env.App.DB.Pool.Begin(ctx)
	require.NoError(t, err)
	defer tx.Rollback(ctx)
	w := &roster.DeliverWorker{Roster: env.App.Roster}
	res, werr := rivertest.NewWorker(t, riverpgxv5.New(nil), &river.Config{}, river.Worker[roster.DeliverArgs](w)).WorkJob(ctx, t, tx, job)
	require.NotNil(t, res)
	require.NoError(t, tx.Commit(ctx))
	return res.Job, werr
}

func deliveryJobs(t *testing.T, env *apptest.Env) map[int64]*rivertype.JobRow {
	t.Helper()
	out := map[int64]*rivertype.JobRow{}
	for _, j := range pendingJobs(t, env, "roster_deliver") {
		var a roster.DeliverArgs
		require.NoError(t, json.Unmarshal(j.EncodedArgs, &a))
		out[a.EventID] = j
	}
	return out
}

type attemptRow struct {
	Attempt int
	Status  *int
	Error   string
}

func attempts(t *testing.T, env *apptest.Env, eventID int64) (state string, out []attemptRow) {
	t.Helper()
	ctx := context.Background()
	require.NoError(t, env.App.DB.Pool.QueryRow(ctx, `SELECT state FROM roster_deliveries WHERE event_id = $1`, eventID).Scan(&state))
	rows, err := env.App.DB.Pool.Query(ctx, `SELECT attempt, status_code, error FROM roster_delivery_attempts WHERE event_id = $1 ORDER BY id`, eventID)
	require.NoError(t, err)
	out, err = pgx.CollectRows(rows, pgx.RowToStructByPos[attemptRow])
	require.NoError(t, err)
	return state, out
}

// TestDeliveryRetriesUntilAcceptedOnce: a base whose endpoint fails three
// times, then succeeds, receives the change once by its idempotency key,
// signed with its secret; every attempt is recorded; a later run of the
// job sends nothing again.
func TestDeliveryRetriesUntilAcceptedOnce(t *testing.T) {
	t.Parallel()
	env := apptest.New(t)
	ctx := t.Context()
	rcv := newReceiver(t, env.Clock, secret)
	rcv.failFirst = 3
	a := newSchool(t, env)
	grad := eligible(t, env, a)
	b := env.MustBase(t, roster.BaseInput{WebhookURL: rcv.URL + "/bangfu", WebhookSecret: secret})
	c := newCohort(t, env, b.ID, 1, true)
	build(t, env, c.ID)
	jobs := deliveryJobs(t, env)
	require.Len(t, jobs, 1, "one change the base hears of: the nomination")
	var eventID int64
	var job *rivertype.JobRow
	for id, j := range jobs {
		eventID, job = id, j
	}
	for i := 1; i <= 3; i++ {
		var err error
		job, err = attemptJob(t, env, job)
		require.Error(t, err, "attempt %d fails", i)
		require.Equal(t, rivertype.JobStateRetryable, job.State, "River retries it")
	}
	job, err := attemptJob(t, env, job)
	require.NoError(t, err)
	require.Equal(t, rivertype.JobStateCompleted, job.State)

	reqs, accepted := rcv.snapshot()
	require.Len(t, reqs, 4)
	key := roster.IdempotencyKey(eventID)
	for _, r := range reqs {
		require.Equal(t, key, r.key, "every attempt carries the same idempotency key")
		require.True(t, r.signatureOK, "every attempt is signed with the base's secret")
	}
	require.Len(t, accepted, 1, "the change arrived once")
	var p roster.Payload
	require.NoError(t, json.Unmarshal(accepted[key], &p))
	require.Equal(t, roster.Nominated, p.Place.Status)
	require.Nil(t, p.Graduate, "a nomination carries no personal data")
	require.Equal(t, c.ID, p.Cohort.ID)

	state, tries := attempts(t, env, eventID)
	require.Equal(t, "delivered", state)
	require.Len(t, tries, 4)
	for i, tr := range tries[:3] {
		require.Equal(t, i+1, tr.Attempt)
		require.Equal(t, http.StatusInternalServerError, *tr.Status)
		require.Contains(t, tr.Error, "500")
	}
	require.Equal(t, http.StatusNoContent, *tries[3].Status)
	require.Empty(t, tries[3].Error)

	// A duplicate job (a retry after a crash) sends nothing.
	dup, err := env.App.River.Insert(ctx, roster.DeliverArgs{EventID: eventID}, nil)
	require.NoError(t, err)
	_, err = attemptJob(t, env, dup.Job)
	require.NoError(t, err)
	reqs, _ = rcv.snapshot()
	require.Len(t, reqs, 4, "a delivered change is not sent again")

	// Confirmed: the base now needs the graduate's name and contacts, and
	// nothing more.
	acct := account(t, env, a, grad)
	_, err = env.App.Roster.Confirm(ctx, acct.Actor(), places(t, env, c.ID)[grad.ID].ID)
	require.NoError(t, err)
	for _, j := range deliveryJobs(t, env) {
		_, err := attemptJob(t, env, j)
		require.NoError(t, err)
	}
	_, accepted = rcv.snapshot()
	require.Len(t, accepted, 2)
	var confirmed roster.Payload
	for k, body := range accepted {
		if k != key {
			require.NoError(t, json.Unmarshal(body, &confirmed))
			f, err := env.App.Graduates.Get(ctx, a.counselor.Actor(), grad.ID)
			require.NoError(t, err)
			require.NotContains(t, string(body), strings.Trim(f.IDNumber, "*"), "no ID number")
			require.NotContains(t, string(body), "CERT-", "no hardship evidence")
			require.NotContains(t, string(body), "dibao", "no hardship category")
		}
	}
	require.Equal(t, roster.Confirmed, confirmed.Place.Status)
	require.Equal(t, roster.Nominated, confirmed.Place.PreviousStatus)
	require.NotNil(t, confirmed.Graduate)
	require.Equal(t, grad.Name, confirmed.Graduate.Name)
	require.Equal(t, a.Name, confirmed.Graduate.School)
	require.Equal(t, grad.Phone, confirmed.Graduate.Phone)
}

// TestWrongSecretIsDetected: a receiver holding another secret refuses
// the signature; the attempt is recorded and the change stays pending.
func TestWrongSecretIsDetected(t *testing.T) {
	t.Parallel()
	env := apptest.New(t)
	rcv := newReceiver(t, env.Clock, "not-the-secret-the-base-holds")
	a := newSchool(t, env)
	eligible(t, env, a)
	b := env.MustBase(t, roster.BaseInput{WebhookURL: rcv.URL, WebhookSecret: secret})
	c := newCohort(t, env, b.ID, 1, true)
	build(t, env, c.ID)
	for id, j := range deliveryJobs(t, env) {
		_, err := attemptJob(t, env, j)
		require.Error(t, err)
		state, tries := attempts(t, env, id)
		require.Equal(t, "pending", state)
		require.Equal(t, http.StatusUnauthorized, *tries[0].Status)
	}
	reqs, accepted := rcv.snapshot()
	require.Len(t, reqs, 1)
	require.False(t, reqs[0].signatureOK)
	require.Empty(t, accepted)
	ts := strconv.FormatInt(env.Clock.Now().Unix(), 10)
	signed := roster.Sign([]byte(secret), ts, []byte("{}"))
	require.NoError(t, roster.Verify([]byte(secret), ts, signed, []byte("{}"), env.Clock.Now()))
	require.ErrorIs(t, roster.Verify([]byte("not-the-secret-the-base-holds"), ts, signed, []byte("{}"), env.Clock.Now()), roster.ErrBadSignature)
	require.Error(t, roster.Verify([]byte(secret), ts, signed, []byte("{}"), env.Clock.Now().Add(10*time.Minute)), "a replay later is refused")
}

// TestNoConsentIsNeverSent: a graduate who withdrew consent after
// confirming is never sent to the base: the change is skipped, no request
// made, and their name is hidden from the base's view.
func TestNoConsentIsNeverSent(t *testing.T) {
	t.Parallel()
	env := apptest.New(t)
	ctx := t.Context()
	rcv := newReceiver(t, env.Clock, secret)
	a := newSchool(t, env)
	grad := eligible(t, env, a)
	b := env.MustBase(t, roster.BaseInput{WebhookURL: rcv.URL, WebhookSecret: secret})
	staff := baseStaff(t, env, b.ID)
	c := newCohort(t, env, b.ID, 1, true)
	build(t, env, c.ID)
	acct := account(t, env, a, grad)
	_, err := env.App.Roster.Confirm(ctx, acct.Actor(), places(t, env, c.ID)[grad.ID].ID)
	require.NoError(t, err)
	f, err := env.App.Graduates.Get(ctx, a.counselor.Actor(), grad.ID)
	require.NoError(t, err)
	no := false
	_, err = env.App.Graduates.Update(ctx, a.counselor.Actor(), grad.ID, f.Version, graduate.Patch{Consent: &no})
	require.NoError(t, err)
	jobs := deliveryJobs(t, env)
	require.Len(t, jobs, 2, "the nomination and the confirmation")
	for id, j := range jobs {
		_, err := attemptJob(t, env, j)
		require.NoError(t, err)
		state, tries := attempts(t, env, id)
		require.Equal(t, "skipped", state)
		require.Empty(t, tries)
	}
	reqs, _ := rcv.snapshot()
	require.Empty(t, reqs, "nothing about a graduate without consent reaches the base")

	l, err := env.App.Roster.Roster(ctx, staff.Actor(), c.ID, roster.RosterFilter{}, bangfu.Page{Limit: 50})
	require.NoError(t, err)
	require.Len(t, l.Items, 1)
	require.Equal(t, roster.NoConsent, l.Items[0].Name)
	require.Empty(t, l.Items[0].Phone)

	d, err := env.App.Roster.Deliveries(ctx, admin, c.ID, roster.DeliveryFilter{}, bangfu.Page{Limit: 50})
	require.NoError(t, err)
	require.Len(t, d.Items, 2)
	for _, x := range d.Items {
		require.Equal(t, "no_consent", x.SkipReason)
	}
}

// TestWebhookIsSealed: the URL and secret are stored sealed, never
// returned; saving a webhook re-sends what was pending.
func TestWebhookIsSealed(t *testing.T) {
	t.Parallel()
	env := apptest.New(t)
	ctx := t.Context()
	a := newSchool(t, env)
	eligible(t, env, a)
	b := env.MustBase(t)
	require.False(t, b.Webhook.Configured)
	c := newCohort(t, env, b.ID, 1, true)
	build(t, env, c.ID)
	for _, j := range deliveryJobs(t, env) {
		_, err := attemptJob(t, env, j) // no webhook: stays pending
		require.NoError(t, err)
	}
	require.Empty(t, deliveryJobs(t, env))

	rcv := newReceiver(t, env.Clock, secret)
	target := rcv.URL + "/hook?token=abc123"
	b, err := env.App.Roster.UpdateBase(ctx, admin, b.ID, b.Version, roster.BasePatch{
		WebhookURL: bangfu.Nullable[string]{Set: true, Value: target}, WebhookSecret: ptr(secret)})
	require.NoError(t, err)
	require.True(t, b.Webhook.Configured)
	require.Equal(t, strings.TrimPrefix(rcv.URL, "http://"), b.Webhook.Host)
	out, err := json.Marshal(b)
	require.NoError(t, err)
	require.NotContains(t, string(out), "abc123")
	require.NotContains(t, string(out), secret)
	var sealedURL, sealedSecret []byte
	require.NoError(t, env.App.DB.Pool.QueryRow(ctx, `SELECT webhook_url_sealed, webhook_secret_sealed FROM training_bases WHERE id = $1`, b.ID).
		Scan(&sealedURL, &sealedSecret))
	require.NotContains(t, string(sealedURL), "abc123")
	require.NotContains(t, string(sealedSecret), secret)

	jobs := deliveryJobs(t, env)
	require.Len(t, jobs, 1, "the pending change is sent now")
	for _, j := range jobs {
		_, err := attemptJob(t, env, j)
		require.NoError(t, err)
	}
	_, accepted := rcv.snapshot()
	require.Len(t, accepted, 1)

	_, err = env.App.Roster.UpdateBase(ctx, admin, b.ID, b.Version, roster.BasePatch{WebhookURL: bangfu.Nullable[string]{Set: true, Value: "ftp://x"}})
	require.Equal(t, "must be an https:// URL", bangfu.FieldsOf(err)["webhook_url"])
	_, err = env.App.Roster.UpdateBase(ctx, admin, b.ID, b.Version, roster.BasePatch{WebhookSecret: ptr("short")})
	require.Equal(t, "must be at least 16 characters", bangfu.FieldsOf(err)["webhook_secret"])
	b2, err := env.App.Roster.UpdateBase(ctx, admin, b.ID, b.Version, roster.BasePatch{WebhookURL: bangfu.Nullable[string]{Set: true, Null: true}})
	require.NoError(t, err)
	require.False(t, b2.Webhook.Configured)
}

func ptr[T any](v T) *T { return &v }
