package main

import (
	"context"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/bangfu/bangfu"
	"github.com/bangfu/bangfu/internal/app"
	"github.com/bangfu/bangfu/internal/apptest"
	"github.com/bangfu/bangfu/internal/config"
	"github.com/bangfu/bangfu/internal/directory"
	"github.com/bangfu/bangfu/internal/notify"
	"github.com/bangfu/bangfu/internal/pgtest"
)

// TestMain lets a test start this binary as `bangfu <command>`: with
// BANGFU_TEST_MAIN=1 it is the real main.
func TestMain(m *testing.M) {
	if os.Getenv("BANGFU_TEST_MAIN") == "1" {
		main()
		os.Exit(0)
	}
	os.Exit(m.Run())
}

func startProcess(t *testing.T, env map[string]string, args ...string) *exec.Cmd {
	t.Helper()
	cmd := exec.Command(os.Args[0], args...)
	cmd.Env = append(os.Environ(), "BANGFU_TEST_MAIN=1")
	for k, v := range env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	cmd.Stdout, cmd.Stderr = io.Discard, testLog{t}
	require.NoError(t, cmd.Start())
	t.Cleanup(func() {
		if cmd.ProcessState == nil {
			_ = cmd.Process.Kill()
			_ = cmd.Wait()
		}
	})
	return cmd
}

type testLog struct{ t *testing.T }

func (w testLog) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

// TestWorkerKilledMidJob kills a worker process (SIGKILL) while it is
// sending an e-mail, starts another, and checks that the job is rescued,
// completes, and the message arrives exactly once; then SIGTERM stops the
// second worker cleanly.
func TestWorkerKilledMidJob(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	smtpd := apptest.NewSMTPServer(t)
	inFlight, release := make(chan struct{}, 1), make(chan struct{})
	var attempts atomic.Int32
	smtpd.Hold = func() bool {
		if attempts.Add(1) == 1 {
			inFlight <- struct{}{}
			<-release
			return false
		}
		return true
	}
	env := map[string]string{
		"DATABASE_URL": pgtest.NewURL(t), "BANGFU_SMTP_URL": smtpd.URL(),
		"BANGFU_JOB_TIMEOUT": "1s", "BANGFU_JOB_RESCUE_AFTER": "2s", "BANGFU_LOG_LEVEL": "warn", "BANGFU_STATE_DIR": t.TempDir(),
	}

	// Enqueue one e-mail, as a request in `serve` would.
	cfg, err := config.Load(func(k string) (string, bool) { v, ok := env[k]; return v, ok })
	require.NoError(t, err)
	a, err := app.New(ctx, cfg, slog.New(slog.DiscardHandler), app.Options{})
	require.NoError(t, err)
	defer a.Close()
	school, err := a.Directory.CreateSchool(ctx, bangfu.Actor{}, directory.SchoolInput{Code: "4144017777", Name: "重启测试学院"})
	require.NoError(t, err)
	u, err := a.Directory.CreateUser(ctx, bangfu.Actor{}, directory.UserInput{Username: "mail.counselor", Role: bangfu.RoleCounselor,
		SchoolID: &school.ID, Email: "mail@example.edu.cn", Password: apptest.Password})
	require.NoError(t, err)
	_, err = a.Notify.SavePreferences(ctx, u.Actor(), 1, notify.PreferencesInput{EmailMode: notify.EmailEach, QuietStart: "22:00", QuietEnd: "07:30"})
	require.NoError(t, err)
	require.NoError(t, a.DB.InTx(ctx, func(tx pgx.Tx) error {
		_, err := a.Notify.Send(ctx, tx, notify.Message{UserID: u.ID, Kind: "test", Title: "提醒", Body: "请跟进", Key: "once"})
		return err
	}))

	first := startProcess(t, env, "worker")
	select {
	case <-inFlight:
	case <-time.After(60 * time.Second):
		t.Fatal("the first worker never started sending")
	}
	require.NoError(t, first.Process.Kill())
	_ = first.Wait()
	close(release)

	second := startProcess(t, env, "worker")
	require.EventuallyWithT(t, func(c *assert.CollectT) {
		var state string
		var attempt int
		require.NoError(c, a.DB.Pool.QueryRow(ctx, `SELECT state, attempt FROM river_job WHERE kind = 'notification_email'`).Scan(&state, &attempt))
		assert.Equal(c, "completed", state)
		assert.Equal(c, 2, attempt, "the killed attempt, then the rescued one")
	}, 90*time.Second, 100*time.Millisecond)
	require.Len(t, smtpd.Messages(), 1, "delivered exactly once")
	var emailed *time.Time
	require.NoError(t, a.DB.Pool.QueryRow(ctx, `SELECT emailed_at FROM notifications WHERE user_id = $1`, u.ID).Scan(&emailed))
	require.NotNil(t, emailed)

	require.NoError(t, second.Process.Signal(syscall.SIGTERM))
	require.NoError(t, second.Wait(), "SIGTERM stops a worker cleanly (exit 0)")
}
