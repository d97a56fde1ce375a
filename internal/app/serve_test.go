package app_test

import (
	"context"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/bangfu/bangfu/internal/app"
	"github.com/bangfu/bangfu/internal/config"
	"github.com/bangfu/bangfu/internal/pgtest"
)

func newApp(t *testing.T, workers bool, metricsAddr string) *app.App {
	t.Helper()
	env := map[string]string{"DATABASE_URL": pgtest.NewURL(t), "BANGFU_METRICS_ADDR": metricsAddr, "BANGFU_STATE_DIR": t.TempDir()}
	cfg, err := config.Load(func(k string) (string, bool) { v, ok := env[k]; return v, ok && v != "" })
	require.NoError(t, err)
	a, err := app.New(t.Context(), cfg, slog.New(slog.DiscardHandler), app.Options{Workers: workers})
	require.NoError(t, err)
	t.Cleanup(a.Close)
	return a
}

// taken returns an address something already listens on.
func taken(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	t.Cleanup(func() { ln.Close() })
	return ln.Addr().String()
}

// serve runs a.Serve until ctx ends, and returns its result.
func serve(a *app.App, ctx context.Context, ln net.Listener) <-chan error {
	done := make(chan error, 1)
	go func() { done <- a.Serve(ctx, ln) }()
	return done
}

// TestServeStopsWhenAPartCannotStart: when the metrics address is taken,
// Serve returns the error promptly and leaves nothing running — no HTTP
// listener, no job workers.
func TestServeStopsWhenAPartCannotStart(t *testing.T) {
	t.Parallel()
	t.Run("serve", func(t *testing.T) {
		t.Parallel()
		a := newApp(t, true, taken(t))
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		require.NoError(t, err)
		select {
		case err := <-serve(a, context.Background(), ln):
			require.ErrorContains(t, err, "BANGFU_METRICS_ADDR")
		case <-time.After(20 * time.Second):
			t.Fatal("Serve kept running with its metrics address taken")
		}
		_, err = net.DialTimeout("tcp", ln.Addr().String(), time.Second)
		require.Error(t, err, "the HTTP listener was left open")
		require.Nil(t, a.River.Stopped(), "job workers were started")
	})
	t.Run("worker", func(t *testing.T) {
		t.Parallel()
		a := newApp(t, true, taken(t))
		select {
		case err := <-serve(a, context.Background(), nil):
			require.ErrorContains(t, err, "BANGFU_METRICS_ADDR")
		case <-time.After(20 * time.Second):
			t.Fatal("the worker ignored its metrics address")
		}
		require.Nil(t, a.River.Stopped(), "job workers were started")
	})
}

// TestWorkerServesMetrics: a worker process (no HTTP API) serves /metrics
// and its profiles on BANGFU_METRICS_ADDR, and stops cleanly.
func TestWorkerServesMetrics(t *testing.T) {
	t.Parallel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := ln.Addr().String() // free again for the worker
	require.NoError(t, ln.Close())
	a := newApp(t, true, addr)
	ctx, stop := context.WithCancel(context.Background())
	done := serve(a, ctx, nil)
	var body []byte
	require.Eventually(t, func() bool {
		resp, err := http.Get("http://" + addr + "/metrics")
		if err != nil {
			return false
		}
		defer resp.Body.Close()
		body, _ = io.ReadAll(resp.Body)
		return resp.StatusCode == http.StatusOK
	}, 20*time.Second, 20*time.Millisecond)
	require.True(t, strings.Contains(string(body), "bangfu_db_pool_connections"), "no pool metrics in /metrics")
	// The operator's port also serves the process's profiles.
	resp, err := http.Get("http://" + addr + "/debug/pprof/heap?debug=1")
	require.NoError(t, err)
	heap, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	require.Contains(t, string(heap), "heap profile", "/debug/pprof/heap is not a heap profile")
	stop()
	require.NoError(t, <-done)
	_, err = http.Get("http://" + addr + "/metrics")
	require.Error(t, err, "metrics still served after stopping")
}
