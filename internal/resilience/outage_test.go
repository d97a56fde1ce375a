package resilience_test

import (
	"context"
	"fmt"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"

	"github.com/bangfu/bangfu/internal/apptest"
	"github.com/bangfu/bangfu/internal/ledger"
	"github.com/bangfu/bangfu/internal/notify"
	"github.com/bangfu/bangfu/internal/pgtest"
)

// TestDatabaseOutageUnderLoad: a real `bangfu serve` (with workers) reaches
// PostgreSQL through a proxy the test cuts and restores while writers keep
// appending. The process survives, answers 503 unavailable meanwhile (never
// 500), serves again without a restart, and loses no acknowledged write
// and no job: notifications committed before and during the outage are all
// e-mailed, once each.
func TestDatabaseOutageUnderLoad(t *testing.T) {
	t.Parallel()
	dbURL := pgtest.NewURL(t)
	proxy := pgtest.NewProxy(t, dbURL)
	smtpd := apptest.NewSMTPServer(t)
	env := map[string]string{"DATABASE_URL": proxy.URL, "BANGFU_STATE_DIR": t.TempDir(), "BANGFU_LOG_LEVEL": "warn",
		"BANGFU_ADDR": freeAddr(t), "BANGFU_SMTP_URL": smtpd.URL()}
	w := newWorld(t, dbURL, env, 4)
	token := w.token(t)
	srv := start(t, env, "serve")
	ctx := context.Background()

	notifyN := func(prefix string, n int) {
		t.Helper()
		require.NoError(t, w.app.DB.InTx(ctx, func(tx pgx.Tx) error {
			var msgs []notify.Message
			for i := range n {
				msgs = append(msgs, notify.Message{UserID: w.counselor.ID, Kind: "test", Title: "提醒", Body: prefix, Key: fmt.Sprintf("%s-%d", prefix, i)})
			}
			_, err := w.app.Notify.Send(ctx, tx, msgs...)
			return err
		}))
	}
	notifyN("before", 5)

	var (
		mu       sync.Mutex
		appended []string
		statuses = map[int]int{}
		acked    atomic.Int64
		stop     atomic.Bool
		wg       sync.WaitGroup
	)
	for wr := range 6 {
		wg.Go(func() {
			for i := 0; !stop.Load(); i++ {
				st := w.students[(wr+i)%len(w.students)]
				summary := fmt.Sprintf("联系 %d-%d", wr, i)
				status, h, _ := call(http.MethodPost, fmt.Sprintf("%s/api/v1/students/%d/ledger", srv.base, st.ID), token,
					map[string]any{"kind": "contact", "channel": "phone", "occurred_at": time.Now().Add(-time.Minute).Format(time.RFC3339), "summary": summary}, nil)
				mu.Lock()
				statuses[status]++
				if status == http.StatusCreated {
					appended = append(appended, summary)
					acked.Add(1)
				}
				if status == http.StatusServiceUnavailable && h.Get("Retry-After") == "" {
					statuses[-503]++ // a 503 without Retry-After
				}
				mu.Unlock()
			}
		})
	}
	count := func(status int) int { mu.Lock(); defer mu.Unlock(); return statuses[status] }

	waitFor(t, 60*time.Second, "50 appends before the outage", func() bool { return acked.Load() >= 50 })
	outage := time.Now()
	proxy.Down()
	notifyN("during", 5) // committed while the process cannot reach the database
	waitFor(t, 60*time.Second, "/readyz to notice the outage", func() bool {
		resp, err := http.Get(srv.base + "/readyz")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusServiceUnavailable
	})
	noticed := time.Since(outage)
	waitFor(t, 60*time.Second, "writers to see 503s", func() bool { return count(http.StatusServiceUnavailable) >= 20 })
	before := acked.Load()
	proxy.Up()
	restored := time.Now()
	waitFor(t, 60*time.Second, "a write to succeed after the outage", func() bool { return acked.Load() > before })
	recovered := time.Since(restored)
	waitFor(t, 60*time.Second, "50 more appends after the outage", func() bool { return acked.Load() >= before+50 })
	stop.Store(true)
	wg.Wait()
	t.Logf("statuses %v; /readyz noticed the outage in %s; first write %s after the database came back", statuses, noticed.Round(time.Millisecond), recovered.Round(time.Millisecond))

	require.True(t, srv.alive(), "the process survived the outage")
	for status, n := range statuses {
		require.Contains(t, []int{http.StatusCreated, http.StatusServiceUnavailable}, status, "%d answers with status %d", n, status)
	}

	counts := map[string]int{}
	rows, err := w.app.DB.Pool.Query(ctx, `SELECT summary, count(*) FROM ledger_entries GROUP BY summary`)
	require.NoError(t, err)
	var (
		summary string
		n       int
	)
	_, err = pgx.ForEachRow(rows, []any{&summary, &n}, func() error { counts[summary] = n; return nil })
	require.NoError(t, err)
	for _, s := range appended {
		require.Equal(t, 1, counts[s], "acknowledged append %q", s)
	}
	for _, st := range w.students {
		require.NoError(t, pgx.BeginTxFunc(ctx, w.app.DB.Pool, pgx.TxOptions{IsoLevel: pgx.RepeatableRead}, func(tx pgx.Tx) error {
			v, err := ledger.VerifyChain(ctx, tx, st.ID)
			require.True(t, v.Intact, "graduate %d: %+v", st.ID, v)
			return err
		}))
	}

	// Every notification's e-mail, once, by the same process: the ten are
	// marked sent (after the server accepted each), and the server got ten.
	emailed := func() int {
		var n int
		require.NoError(t, w.app.DB.Pool.QueryRow(ctx, `SELECT count(*) FROM notifications WHERE kind = 'test' AND emailed_at IS NOT NULL`).Scan(&n))
		return n
	}
	waitFor(t, 90*time.Second, "all ten e-mails sent", func() bool { return emailed() >= 10 })
	require.Equal(t, 10, emailed())
	require.Len(t, smtpd.Messages(), 10, "no e-mail sent twice")
	srv.stop(t)
}
