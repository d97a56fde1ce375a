package notify_test

import (
	"bytes"
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"

	"github.com/bangfu/bangfu"
	"github.com/bangfu/bangfu/internal/apptest"
	"github.com/bangfu/bangfu/internal/notify"
)

// urgent is a level-2 escalation's notification for u about graduate st.
func urgent(userID, studentID int64, key string) notify.Message {
	return notify.Message{UserID: userID, Kind: "escalation", StudentID: studentID, Title: "二级升级：李明", Body: "已 21 天未联系", Key: key, Urgent: 1}
}

// TestUrgentWaitsForQuietHours: an urgent escalation raised at 23:00 is
// queued for 07:30, the end of the default quiet hours; run before then
// (a retry, a changed schedule) it waits again; at 07:31 it goes out, once.
// A user without quiet hours gets it at once.
func TestUrgentWaitsForQuietHours(t *testing.T) {
	t.Parallel()
	env := apptest.New(t, apptest.Options{Workers: true, Now: at(future, 23, 0)})
	ctx := t.Context()
	school := env.MustSchool(t)
	supervisor := env.MustUser(t, bangfu.RoleSupervisor, &school.ID)
	owl := env.MustUser(t, bangfu.RoleSupervisor, &school.ID)
	counselor := env.MustUser(t, bangfu.RoleCounselor, &school.ID)
	st := mustStudent(t, env, counselor)
	bot := newFakeBot(t, notify.WeCom, "")
	ch := addChannel(t, env, supervisor, notify.ChannelInput{Kind: notify.WeCom, URL: bot.URL("sleeper")})
	owlCh := addChannel(t, env, owl, notify.ChannelInput{Kind: notify.WeCom, URL: bot.URL("owl")})
	quietNone(t, env, owl)

	send(t, env, urgent(supervisor.ID, st.ID, "escalation:1"), urgent(owl.ID, st.ID, "escalation:1"))
	eventually(t, "the owl's message", func() bool { return len(bot.Messages()) == 1 })
	require.Equal(t, "owl", bot.Messages()[0].Query.Get("key"), "no quiet hours: at once")
	require.Equal(t, "【帮扶紧急提醒】新的二、三级升级事项 1 条，请尽快处理：http://localhost:8080/escalations", bot.Messages()[0].Content)
	eventually(t, "the owl's delivery to be recorded", func() bool { return deliveries(t, env, owlCh.ID)[0].State == "sent" })

	ds := deliveries(t, env, ch.ID)
	require.Len(t, ds, 1)
	var notBefore time.Time
	require.NoError(t, env.App.DB.Pool.QueryRow(ctx, `SELECT not_before FROM notify_deliveries WHERE id = $1`, ds[0].ID).Scan(&notBefore))
	require.True(t, notBefore.Equal(at(future.AddDate(0, 0, 1), 7, 30)), "waits for 07:30: %s", notBefore)
	state, _, scheduled := jobState(t, env, ds[0].JobID)
	require.Equal(t, "scheduled", state)
	require.True(t, scheduled.Equal(notBefore), "River runs it at 07:30")

	// Run early anyway (as an operator's retry would): it waits again.
	env.Clock.Set(at(future, 23, 30))
	_, err := env.App.River.JobRetry(ctx, ds[0].JobID)
	require.NoError(t, err)
	eventually(t, "the early run to wait again", func() bool {
		state, _, scheduled := jobState(t, env, ds[0].JobID)
		return state == "scheduled" && scheduled.After(time.Now().Add(7*time.Hour))
	})
	require.Len(t, bot.Messages(), 1, "nothing at night")
	require.Empty(t, deliveries(t, env, ch.ID)[0].Outcomes, "no attempt was made")

	env.Clock.Set(at(future.AddDate(0, 0, 1), 7, 31))
	_, err = env.App.River.JobRetry(ctx, ds[0].JobID)
	require.NoError(t, err)
	eventually(t, "the morning's message", func() bool { return len(bot.Messages()) == 2 })
	require.Equal(t, "sleeper", bot.Messages()[1].Query.Get("key"))
	eventually(t, "the delivery to be recorded", func() bool { return deliveries(t, env, ch.ID)[0].State == "sent" })
	require.Equal(t, []string{"ok"}, deliveries(t, env, ch.ID)[0].Outcomes)
}

// TestRetriesThenOneDelivery: a bot answering 503 three times and then
// accepting gets the message once; each attempt is recorded with its
// status.
func TestRetriesThenOneDelivery(t *testing.T) {
	t.Parallel()
	env := apptest.New(t, apptest.Options{Workers: true, Now: future})
	school := env.MustSchool(t)
	u := env.MustUser(t, bangfu.RoleSupervisor, &school.ID)
	quietNone(t, env, u)
	bot := newFakeBot(t, notify.WeCom, "")
	bot.Respond = func(n int) (int, string) {
		if n <= 3 {
			return http.StatusServiceUnavailable, "busy"
		}
		return 0, ""
	}
	ch := addChannel(t, env, u, notify.ChannelInput{Kind: notify.WeCom, URL: bot.URL("flaky")})
	send(t, env, urgent(u.ID, 0, "escalation:7"))
	job := deliveries(t, env, ch.ID)[0].JobID
	for retry := 1; retry <= 3; retry++ {
		// Skip the backoff (30 s, 1 min, 2 min), as an operator may.
		eventually(t, "the job to wait for its retry", func() bool { s, n, _ := jobState(t, env, job); return s == "retryable" && n == retry })
		_, err := env.App.River.JobRetry(t.Context(), job)
		require.NoError(t, err)
	}
	eventually(t, "the delivery", func() bool { s, _, _ := jobState(t, env, job); return s == "completed" })
	require.Len(t, bot.Messages(), 1, "delivered once")
	require.Equal(t, 4, bot.Requests())
	d := deliveries(t, env, ch.ID)[0]
	require.Equal(t, "sent", d.State)
	require.Equal(t, []string{"retry", "retry", "retry", "ok"}, d.Outcomes)
	for i := range 3 {
		require.Equal(t, http.StatusServiceUnavailable, *d.Statuses[i])
		require.Equal(t, "HTTP 503", d.Errors[i])
	}
	ch2, err := env.App.Notify.Settings(t.Context(), u.Actor())
	require.NoError(t, err)
	require.False(t, ch2.Channels[0].Broken)
	require.NotNil(t, ch2.Channels[0].LastOKAt)
}

// TestRefusalBreaksTheChannel: a 4xx (a revoked bot) — or, as 企业微信 and
// 钉钉 answer, a 200 whose errcode refuses — fails the delivery after one
// attempt and marks the channel broken; a message already queued for it is
// skipped without a request and no new one is queued (no retry storm); a
// test message that goes through mends it.
func TestRefusalBreaksTheChannel(t *testing.T) {
	t.Parallel()
	for name, refusal := range map[string]struct {
		status int
		body   string
		reason string
	}{
		"HTTP 404":      {http.StatusNotFound, "gone", "HTTP 404"},
		"errcode 93000": {http.StatusOK, `{"errcode":93000,"errmsg":"invalid webhook url"}`, "errcode 93000: invalid webhook url"},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			env := apptest.New(t, apptest.Options{Workers: true, Now: at(future, 23, 0)})
			ctx := t.Context()
			school := env.MustSchool(t)
			u := env.MustUser(t, bangfu.RoleSupervisor, &school.ID)
			bot := newFakeBot(t, notify.WeCom, "")
			var refuse sync.Mutex
			refusing := true
			bot.Respond = func(int) (int, string) {
				refuse.Lock()
				defer refuse.Unlock()
				if refusing {
					return refusal.status, refusal.body
				}
				return 0, ""
			}
			ch := addChannel(t, env, u, notify.ChannelInput{Kind: notify.WeCom, URL: bot.URL("revoked")})
			// Two messages at night, both queued for 07:30.
			send(t, env, urgent(u.ID, 0, "escalation:1"))
			send(t, env, urgent(u.ID, 0, "escalation:2"))
			queued := deliveries(t, env, ch.ID)
			require.Len(t, queued, 2)
			env.Clock.Set(at(future.AddDate(0, 0, 1), 7, 31))

			_, err := env.App.River.JobRetry(ctx, queued[0].JobID)
			require.NoError(t, err)
			eventually(t, "the refusal", func() bool { return deliveries(t, env, ch.ID)[0].State == "failed" })
			d := deliveries(t, env, ch.ID)[0]
			require.Equal(t, []string{"permanent"}, d.Outcomes, "one attempt, no retry")
			eventually(t, "the job to complete", func() bool { s, _, _ := jobState(t, env, d.JobID); return s == "completed" })
			_, attempts, _ := jobState(t, env, d.JobID)
			require.Equal(t, 1, attempts)

			s, err := env.App.Notify.Settings(ctx, u.Actor())
			require.NoError(t, err)
			require.True(t, s.Channels[0].Broken, "the user sees it broken")
			require.Equal(t, refusal.reason, s.Channels[0].BrokenReason)

			_, err = env.App.River.JobRetry(ctx, queued[1].JobID)
			require.NoError(t, err)
			eventually(t, "the queued message to be skipped", func() bool { return deliveries(t, env, ch.ID)[1].State == "skipped" })
			require.Equal(t, "channel broken", deliveries(t, env, ch.ID)[1].Note)
			send(t, env, urgent(u.ID, 0, "escalation:3"))
			require.Len(t, deliveries(t, env, ch.ID), 2, "nothing new is queued for a broken channel")
			require.Equal(t, 1, bot.Requests(), "a broken channel is called once")

			refuse.Lock()
			refusing = false
			refuse.Unlock()
			env.Clock.Advance(time.Minute) // a channel may be tried every 10 s
			r, err := env.App.Notify.TestChannel(ctx, u.Actor(), ch.ID)
			require.NoError(t, err)
			require.True(t, r.Delivered)
			require.False(t, r.Channel.Broken, "a test that goes through mends it")
			require.Len(t, bot.Messages(), 1)
			require.Contains(t, bot.Messages()[0].Content, "测试消息")
		})
	}
}

// TestAnAttemptWithoutOutcomeIsNotRepeated: when the request went out and
// no answer came (the connection dropped), or the process died before the
// outcome was recorded, the delivery is recorded as uncertain and never
// sent again — at most once.
func TestAnAttemptWithoutOutcomeIsNotRepeated(t *testing.T) {
	t.Parallel()
	env := apptest.New(t, apptest.Options{Workers: true, Now: future})
	ctx := t.Context()
	school := env.MustSchool(t)
	u := env.MustUser(t, bangfu.RoleSupervisor, &school.ID)
	quietNone(t, env, u)
	var requests int
	var mu sync.Mutex
	hangup := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		requests++
		mu.Unlock()
		conn, _, err := w.(http.Hijacker).Hijack()
		if err == nil {
			conn.Close() // read the request, answer nothing
		}
	}))
	t.Cleanup(hangup.Close)
	ch := addChannel(t, env, u, notify.ChannelInput{Kind: notify.WeCom, URL: hangup.URL + "/cgi-bin/webhook/send?key=k"})
	send(t, env, urgent(u.ID, 0, "escalation:1"))
	eventually(t, "the attempt", func() bool { return deliveries(t, env, ch.ID)[0].State != "pending" })
	d := deliveries(t, env, ch.ID)[0]
	require.Equal(t, "uncertain", d.State)
	require.Equal(t, []string{"unknown"}, d.Outcomes)
	eventually(t, "the job to complete, not to wait for a retry", func() bool { s, _, _ := jobState(t, env, d.JobID); return s == "completed" })

	// A process that died between sending and recording left an attempt
	// in flight; the retry finds it and does not send.
	bot := newFakeBot(t, notify.WeCom, "")
	v := env.MustUser(t, bangfu.RoleSupervisor, &school.ID)
	quietNone(t, env, v)
	ch2 := addChannel(t, env, v, notify.ChannelInput{Kind: notify.WeCom, URL: bot.URL("k2")})
	require.NoError(t, env.App.DB.InTx(ctx, func(tx pgx.Tx) error {
		// In the delivery's own transaction, before its job can run: an
		// attempt started by a process that then died.
		_, err := env.App.Notify.Send(ctx, tx, urgent(v.ID, 0, "escalation:2"))
		if err != nil {
			return err
		}
		_, err = tx.Exec(ctx, `INSERT INTO notify_attempts (delivery_id, attempt, started_at)
			SELECT id, 1, now() FROM notify_deliveries WHERE channel_id = $1`, ch2.ID)
		return err
	}))
	eventually(t, "the rescued attempt", func() bool { return deliveries(t, env, ch2.ID)[0].State != "pending" })
	d = deliveries(t, env, ch2.ID)[0]
	require.Equal(t, "uncertain", d.State)
	require.Equal(t, []string{"unknown"}, d.Outcomes)
	require.Zero(t, bot.Requests(), "never sent a second time")
	mu.Lock()
	require.Equal(t, 1, requests)
	mu.Unlock()
}

// lockedBuffer is a log sink safe for the logger's and the test's
// goroutines.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// TestWebhookSecretsAreNeverShownOrLogged: a webhook's key and a 钉钉
// secret appear in no API answer, no log line (access log, job errors),
// no recorded attempt and no job error, whether the endpoint fails,
// refuses or cannot be reached.
func TestWebhookSecretsAreNeverShownOrLogged(t *testing.T) {
	t.Parallel()
	logs := &lockedBuffer{}
	env := apptest.New(t, apptest.Options{Workers: true, Now: future, Log: logs})
	ctx := t.Context()
	school := env.MustSchool(t)
	u := env.MustUser(t, bangfu.RoleSupervisor, &school.ID)
	quietNone(t, env, u)
	token := env.Token(t, u)
	const key, secret = "a1b2c3d4-e5f6-4789-abcd-ef0123456789", "SECfedcba9876543210fedcba9876543210"
	env.NeverShow(key)
	env.NeverShow(secret)

	failing := newFakeBot(t, notify.WeCom, "")
	failing.Respond = func(int) (int, string) { return http.StatusBadGateway, "bad gateway " + key }
	refusing := newFakeBot(t, notify.DingTalk, "SECsomethingelse0000000000")
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	closed := "http://" + ln.Addr().String()
	ln.Close()

	var ids []int64
	for i, in := range []map[string]any{
		{"kind": "wecom", "label": "失败的群", "url": failing.URL(key)},
		{"kind": "dingtalk", "label": "签名不符的群", "url": refusing.URL(key), "secret": secret},
		{"kind": "wecom", "label": "无人的群", "url": closed + "/cgi-bin/webhook/send?key=" + key},
	} {
		resp := env.Post(t, "/api/v1/notification-channels", token, in)
		require.Equal(t, http.StatusCreated, resp.Status, "%d: %s", i, resp.Body)
		ids = append(ids, int64(resp.Map(t)["id"].(float64)))
	}
	send(t, env, urgent(u.ID, 0, "escalation:1"))
	eventually(t, "an attempt at every channel", func() bool {
		var n int
		require.NoError(t, env.App.DB.Pool.QueryRow(ctx, `SELECT count(DISTINCT d.id) FROM notify_attempts a JOIN notify_deliveries d ON d.id = a.delivery_id
			WHERE a.outcome IS NOT NULL`).Scan(&n))
		return n == 3
	})
	for _, id := range ids {
		env.Clock.Advance(time.Minute)
		resp := env.Post(t, "/api/v1/notification-channels/"+itoa(id)+"/test", token, nil)
		require.Equal(t, http.StatusOK, resp.Status, "%s", resp.Body)
	}
	env.Get(t, "/api/v1/notification-settings", token)
	admin := env.MustUser(t, bangfu.RoleAdmin, nil)
	env.Get(t, "/api/v1/notification-deliveries", env.Token(t, admin))

	var recorded []string
	rows, err := env.App.DB.Pool.Query(ctx, `SELECT error FROM notify_attempts UNION ALL SELECT note FROM notify_deliveries
		UNION ALL SELECT errors::text FROM river_job WHERE errors IS NOT NULL UNION ALL SELECT broken_reason FROM notify_channels`)
	require.NoError(t, err)
	recorded, err = pgx.CollectRows(rows, pgx.RowTo[string])
	require.NoError(t, err)
	require.NotEmpty(t, strings.Join(recorded, ""), "the failures were recorded")
	for _, text := range append(recorded, logs.String()) {
		require.NotContains(t, text, key)
		require.NotContains(t, text, secret)
	}
	require.Contains(t, logs.String(), "/api/v1/notification-channels", "the access log was captured")
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

// TestUrgentFromTheSweep: a case quiet long enough to reach level 2 tells
// the school's supervisors and its shared group at once.
func TestUrgentFromTheSweep(t *testing.T) {
	t.Parallel()
	env := apptest.New(t, apptest.Options{Now: future.AddDate(0, -2, 0)})
	ctx := context.Background()
	school := env.MustSchool(t)
	counselor := env.MustUser(t, bangfu.RoleCounselor, &school.ID)
	supervisor := env.MustUser(t, bangfu.RoleSupervisor, &school.ID)
	quietNone(t, env, supervisor)
	mine := addChannel(t, env, supervisor, notify.ChannelInput{Kind: notify.WeCom, URL: "http://127.0.0.1:1/cgi-bin/webhook/send?key=s"})
	shared := addChannel(t, env, supervisor, notify.ChannelInput{Scope: notify.ScopeSchool, Kind: notify.WeCom, URL: "http://127.0.0.1:1/cgi-bin/webhook/send?key=school"})
	cmine := addChannel(t, env, counselor, notify.ChannelInput{Kind: notify.WeCom, URL: "http://127.0.0.1:1/cgi-bin/webhook/send?key=c"})
	mustStudent(t, env, counselor)
	for range 10 {
		env.Clock.Advance(7 * 24 * time.Hour)
		require.NoError(t, env.App.DB.InTx(ctx, func(tx pgx.Tx) error {
			_, err := env.App.SweepWorker().Sweep(ctx, tx)
			return err
		}))
		if len(deliveries(t, env, mine.ID)) > 0 {
			break
		}
	}
	var level int
	require.NoError(t, env.App.DB.Pool.QueryRow(ctx, `SELECT max(level) FROM escalations`).Scan(&level))
	require.GreaterOrEqual(t, level, 2)
	require.Len(t, deliveries(t, env, mine.ID), 1, "the supervisor's group")
	require.Len(t, deliveries(t, env, shared.ID), 1, "the school's group")
	require.Empty(t, deliveries(t, env, cmine.ID), "level 1 waits for the counselor's digest")
}
