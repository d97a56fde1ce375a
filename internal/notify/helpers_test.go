package notify_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"

	"github.com/bangfu/bangfu"
	"github.com/bangfu/bangfu/internal/apptest"
	"github.com/bangfu/bangfu/internal/directory"
	"github.com/bangfu/bangfu/internal/graduate"
	"github.com/bangfu/bangfu/internal/notify"
)

// future is where the clocks of tests that run River workers start: a day
// that the real clock has not reached, so that River (which schedules by
// the real clock) never runs a job before the test's clock says it is due.
var future = time.Date(2099, 6, 1, 7, 0, 0, 0, bangfu.Shanghai)

// at is the test's day at hour:minute, Shanghai.
func at(day time.Time, hour, minute int) time.Time {
	d := day.In(bangfu.Shanghai)
	return time.Date(d.Year(), d.Month(), d.Day(), hour, minute, 0, 0, bangfu.Shanghai)
}

// botMessage is what a fake bot received.
type botMessage struct {
	Path           string
	Query          url.Values
	Content        string
	Body           string
	IdempotencyKey string
	// SignatureOK: for 钉钉, the timestamp and sign verified.
	SignatureOK bool
}

// fakeBot is a local stand-in for a 企业微信 group bot or a 钉钉 custom
// robot: it takes the API's text message and answers as the API does.
// A 钉钉 bot checks the 加签 signature as DingTalk documents it
// (timestamp within an hour; sign = base64(HMAC-SHA256(secret,
// timestamp+"\n"+secret))) and answers errcode 310000 when it does not
// verify. Respond, when set, answers request n (1-based) instead.
type fakeBot struct {
	kind, secret string
	srv          *httptest.Server
	mu           sync.Mutex
	requests     int
	received     []botMessage
	Respond      func(n int) (status int, body string)
}

func newFakeBot(t *testing.T, kind, secret string) *fakeBot {
	t.Helper()
	b := &fakeBot{kind: kind, secret: secret}
	b.srv = httptest.NewServer(http.HandlerFunc(b.serve))
	t.Cleanup(b.srv.Close)
	return b
}

func (b *fakeBot) serve(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	b.mu.Lock()
	b.requests++
	n, respond := b.requests, b.Respond
	b.mu.Unlock()
	if respond != nil {
		if status, answer := respond(n); status != 0 {
			w.WriteHeader(status)
			_, _ = io.WriteString(w, answer)
			return
		}
	}
	var msg struct {
		MsgType string `json:"msgtype"`
		Text    struct {
			Content string `json:"content"`
		} `json:"text"`
	}
	if err := json.Unmarshal(body, &msg); err != nil || msg.MsgType != "text" {
		_, _ = io.WriteString(w, `{"errcode":40008,"errmsg":"invalid message type"}`)
		return
	}
	m := botMessage{Path: r.URL.Path, Query: r.URL.Query(), Content: msg.Text.Content, Body: string(body), IdempotencyKey: r.Header.Get("Idempotency-Key")}
	if b.kind == notify.DingTalk {
		ts, err := strconv.ParseInt(m.Query.Get("timestamp"), 10, 64)
		fresh := err == nil && time.Since(time.UnixMilli(ts)).Abs() < time.Hour
		m.SignatureOK = fresh && m.Query.Get("sign") == notify.DingTalkSign(b.secret, ts)
		if !m.SignatureOK {
			_, _ = io.WriteString(w, `{"errcode":310000,"errmsg":"sign not match"}`)
			return
		}
	}
	b.mu.Lock()
	b.received = append(b.received, m)
	b.mu.Unlock()
	_, _ = io.WriteString(w, `{"errcode":0,"errmsg":"ok"}`)
}

// URL is the webhook address of the bot named key.
func (b *fakeBot) URL(key string) string {
	if b.kind == notify.DingTalk {
		return b.srv.URL + "/robot/send?access_token=" + key
	}
	return b.srv.URL + "/cgi-bin/webhook/send?key=" + key
}

// Messages returns what the bot accepted.
func (b *fakeBot) Messages() []botMessage {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]botMessage(nil), b.received...)
}

// Requests counts every request, accepted or not.
func (b *fakeBot) Requests() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.requests
}

// eventually polls cond until it holds or the deadline passes.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// addChannel adds a channel for u and fails the test if it cannot.
func addChannel(t *testing.T, env *apptest.Env, u directory.User, in notify.ChannelInput) notify.Channel {
	t.Helper()
	if in.Label == "" {
		in.Label = fmt.Sprintf("群%d", env.Unique())
	}
	ch, err := env.App.Notify.AddChannel(t.Context(), u.Actor(), in)
	require.NoError(t, err)
	return ch
}

// buildDigests runs the digest build as its job does, in one transaction.
func buildDigests(t *testing.T, env *apptest.Env) notify.DigestResult {
	t.Helper()
	var res notify.DigestResult
	require.NoError(t, env.App.DB.InTx(t.Context(), func(tx pgx.Tx) error {
		var err error
		res, err = env.App.Notify.BuildDigests(t.Context(), tx)
		return err
	}))
	return res
}

// send sends msgs as a service would, in its own transaction.
func send(t *testing.T, env *apptest.Env, msgs ...notify.Message) {
	t.Helper()
	require.NoError(t, env.App.DB.InTx(t.Context(), func(tx pgx.Tx) error {
		_, err := env.App.Notify.Send(t.Context(), tx, msgs...)
		return err
	}))
}

// delivery is a delivery's state, note and attempts' outcomes, read from
// the database.
type delivery struct {
	ID       int64
	State    string
	Note     string
	Outcomes []string
	Statuses []*int
	Errors   []string
	JobID    int64
}

// deliveries returns the deliveries of a channel, oldest first.
func deliveries(t *testing.T, env *apptest.Env, channelID int64) []delivery {
	t.Helper()
	ctx := context.Background()
	rows, err := env.App.DB.Pool.Query(ctx, `SELECT d.id, d.state, d.note,
			coalesce((SELECT j.id FROM river_job j WHERE j.kind = 'notify_deliver' AND (j.args->>'delivery_id')::bigint = d.id), 0)
		FROM notify_deliveries d WHERE d.channel_id = $1 ORDER BY d.id`, channelID)
	require.NoError(t, err)
	var out []delivery
	for rows.Next() {
		var d delivery
		require.NoError(t, rows.Scan(&d.ID, &d.State, &d.Note, &d.JobID))
		out = append(out, d)
	}
	require.NoError(t, rows.Err())
	for i := range out {
		rows, err := env.App.DB.Pool.Query(ctx, `SELECT coalesce(outcome, 'pending'), http_status, error FROM notify_attempts WHERE delivery_id = $1 ORDER BY attempt`, out[i].ID)
		require.NoError(t, err)
		for rows.Next() {
			var o, e string
			var s *int
			require.NoError(t, rows.Scan(&o, &s, &e))
			out[i].Outcomes, out[i].Statuses, out[i].Errors = append(out[i].Outcomes, o), append(out[i].Statuses, s), append(out[i].Errors, e)
		}
		require.NoError(t, rows.Err())
	}
	return out
}

// jobState is the state of River job id and its attempts.
func jobState(t *testing.T, env *apptest.Env, id int64) (string, int, time.Time) {
	t.Helper()
	var state string
	var attempt int
	var scheduled time.Time
	require.NoError(t, env.App.DB.Pool.QueryRow(context.Background(), `SELECT state, attempt, scheduled_at FROM river_job WHERE id = $1`, id).Scan(&state, &attempt, &scheduled))
	return state, attempt, scheduled
}

// quietNone turns u's quiet hours off.
func quietNone(t *testing.T, env *apptest.Env, u directory.User) {
	t.Helper()
	_, err := env.App.Notify.SavePreferences(t.Context(), u.Actor(), 1, notify.PreferencesInput{EmailMode: notify.EmailDigest, QuietStart: "00:00", QuietEnd: "00:00"})
	require.NoError(t, err)
}

// mustStudent creates a graduate of the clock's year for counselor.
func mustStudent(t *testing.T, env *apptest.Env, counselor directory.User) graduate.Student {
	t.Helper()
	return env.MustStudent(t, counselor, graduate.Input{GraduationYear: env.Clock.Now().Year()})
}
