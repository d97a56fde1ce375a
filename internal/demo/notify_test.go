package demo_test

import (
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"

	"github.com/bangfu/bangfu"
	"github.com/bangfu/bangfu/internal/apptest"
	"github.com/bangfu/bangfu/internal/config"
	"github.com/bangfu/bangfu/internal/demo"
)

// TestDemoCounselorGetsTheDigest: as in `make run`, the demo counselor's
// 企业微信 group — bangfu's own development stand-in bot — receives the
// day's digest as soon as the digest job runs, and /dev/webhook shows it.
func TestDemoCounselorGetsTheDigest(t *testing.T) {
	t.Parallel()
	// bangfu listens where its configuration says, as `serve` does.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	t.Cleanup(func() { ln.Close() })
	// A clock in the future: River (on the real clock) runs no job early.
	now := time.Date(2099, 6, 1, 10, 0, 0, 0, bangfu.Shanghai)
	env := apptest.New(t, apptest.Options{Workers: true, Now: now, Config: func(c *config.Config) { c.Addr = ln.Addr().String() }})
	srv := &http.Server{Handler: env.App.Router.Handler(), ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() { srv.Close() })

	ctx := t.Context()
	// The digest job's run at start (before the demo school exists) first.
	deadline := time.Now().Add(30 * time.Second)
	for {
		var done int
		require.NoError(t, env.App.DB.Pool.QueryRow(ctx, `SELECT count(*) FROM river_job WHERE kind = 'notify_digest' AND state = 'completed'`).Scan(&done))
		if done > 0 {
			break
		}
		require.True(t, time.Now().Before(deadline), "the digest job never ran at start")
		time.Sleep(20 * time.Millisecond)
	}
	_, err = demo.Seed(ctx, env.App)
	require.NoError(t, err)
	_, err = demo.Seed(ctx, env.App)
	require.NoError(t, err, "seeding twice changes nothing")
	require.NoError(t, env.App.DB.InTx(ctx, func(tx pgx.Tx) error {
		_, err := env.App.Notify.BuildDigests(ctx, tx)
		return err
	}))
	deadline = time.Now().Add(30 * time.Second)
	for len(env.App.Receiver.Received()) == 0 {
		require.True(t, time.Now().Before(deadline), "the demo digest never arrived")
		time.Sleep(20 * time.Millisecond)
	}
	got := env.App.Receiver.Received()
	require.Len(t, got, 1)
	require.True(t, strings.HasPrefix(got[0].Content, "【帮扶每日提醒】今日待跟进 "), got[0].Content)
	require.False(t, got[0].Duplicate)
	for _, name := range []string{"李明", "陈晓燕", "黄志强", "周婷", "吴俊杰", "郑雅琪", "孙磊"} {
		require.NotContains(t, got[0].Content, name)
	}
}
