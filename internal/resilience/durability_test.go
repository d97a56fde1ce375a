package resilience_test

import (
	"context"
	"fmt"
	"net/mail"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"

	"github.com/bangfu/bangfu/internal/apptest"
	"github.com/bangfu/bangfu/internal/notify"
	"github.com/bangfu/bangfu/internal/pgtest"
)

// TestWorkerKilledMidRun: a worker process is killed with SIGKILL while
// all its job slots are sending e-mail; a second worker rescues the jobs
// cut off and works the rest. Every notification is e-mailed exactly once
// and every job completes.
func TestWorkerKilledMidRun(t *testing.T) {
	t.Parallel()
	const jobs, slots = 30, 5
	dbURL := pgtest.NewURL(t)
	smtpd := apptest.NewSMTPServer(t)
	var (
		held    atomic.Int32
		release = make(chan struct{})
		once    sync.Once
	)
	smtpd.Hold = func() bool {
		select {
		case <-release:
			return true
		default:
		}
		held.Add(1)
		<-release
		return false // the sender was killed meanwhile: refuse, as a server whose client vanished
	}
	t.Cleanup(func() { once.Do(func() { close(release) }) })
	env := map[string]string{"DATABASE_URL": dbURL, "BANGFU_STATE_DIR": t.TempDir(), "BANGFU_LOG_LEVEL": "warn",
		"BANGFU_SMTP_URL": smtpd.URL(), "BANGFU_JOB_WORKERS": fmt.Sprint(slots),
		"BANGFU_JOB_TIMEOUT": "1s", "BANGFU_JOB_RESCUE_AFTER": "2s"}
	w := newWorld(t, dbURL, env, 0)
	ctx := context.Background()
	require.NoError(t, w.app.DB.InTx(ctx, func(tx pgx.Tx) error {
		var msgs []notify.Message
		for i := range jobs {
			msgs = append(msgs, notify.Message{UserID: w.counselor.ID, Kind: "test", Title: "提醒", Body: fmt.Sprint(i), Key: fmt.Sprint(i)})
		}
		_, err := w.app.Notify.Send(ctx, tx, msgs...)
		return err
	}))

	first := start(t, env, "worker")
	waitFor(t, 60*time.Second, "every job slot of the first worker to be mid-send", func() bool { return held.Load() == slots })
	first.kill9(t)
	once.Do(func() { close(release) })

	started := time.Now()
	second := start(t, env, "worker")
	waitFor(t, 120*time.Second, "every job to complete", func() bool {
		var done int
		require.NoError(t, w.app.DB.Pool.QueryRow(ctx, `SELECT count(*) FROM river_job WHERE kind = 'notification_email' AND state = 'completed'`).Scan(&done))
		return done == jobs
	})
	t.Logf("the second worker finished all %d jobs (%d rescued) in %s", jobs, slots, time.Since(started).Round(100*time.Millisecond))
	ids := map[string]int{}
	for _, m := range smtpd.Messages() {
		msg, err := mail.ReadMessage(strings.NewReader(m.Data))
		require.NoError(t, err)
		ids[msg.Header.Get("Message-ID")]++
	}
	require.Len(t, ids, jobs, "one message per notification")
	for id, n := range ids {
		require.Equal(t, 1, n, "%s delivered %d times", id, n)
	}
	var emailed int
	require.NoError(t, w.app.DB.Pool.QueryRow(ctx, `SELECT count(*) FROM notifications WHERE emailed_at IS NOT NULL`).Scan(&emailed))
	require.Equal(t, jobs, emailed)
	second.stop(t)
}
