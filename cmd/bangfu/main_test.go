package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/bangfu/bangfu/internal/pgtest"
)

// runMain runs the command in-process, as `bangfu args...` with env.
func runMain(t *testing.T, ctx context.Context, env map[string]string, stdin string, args ...string) (string, error) {
	t.Helper()
	var out, errOut bytes.Buffer
	p := &program{
		stdin: strings.NewReader(stdin), stdout: &out, stderr: &errOut,
		lookup: func(k string) (string, bool) { v, ok := env[k]; return v, ok },
	}
	err := p.run(ctx, args)
	t.Logf("bangfu %s: stderr:\n%s", strings.Join(args, " "), errOut.String())
	return out.String(), err
}

func TestHelp(t *testing.T) {
	t.Parallel()
	var errOut bytes.Buffer
	p := &program{stdout: &bytes.Buffer{}, stderr: &errOut, lookup: func(string) (string, bool) { return "", false }}
	require.ErrorIs(t, p.run(context.Background(), []string{"--help"}), flag.ErrHelp)
	for _, c := range commands() {
		require.Contains(t, errOut.String(), c.name)
	}
	errOut.Reset()
	require.ErrorIs(t, p.run(context.Background(), []string{"serve", "--help"}), flag.ErrHelp)
	require.Contains(t, errOut.String(), "--no-workers")
	require.ErrorContains(t, p.run(context.Background(), []string{"frobnicate"}), `unknown command "frobnicate"`)
	// The synthetic-province generator is bench tooling, not in this binary.
	require.ErrorContains(t, p.run(context.Background(), []string{"seed", "synthetic", "--students", "10"}), "bangfu-bench seed")
}

func TestBadConfigStopsStartup(t *testing.T) {
	t.Parallel()
	_, err := runMain(t, context.Background(), map[string]string{"DATABASE_URL": "postgres://x@127.0.0.1:1/x", "BANGFU_ADDR": "nope"}, "", "serve")
	require.EqualError(t, err, `BANGFU_ADDR: must be host:port or :port, got "nope"`)
}

// TestEndToEnd boots the production wiring as `make run` does: migrate
// (twice at once), seed the demo (twice), serve on port 0; then the demo
// admin logs in over HTTP and builds a school with a counselor, and the
// server shuts down gracefully.
func TestEndToEnd(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	env := map[string]string{"DATABASE_URL": pgtest.NewEmptyURL(t), "BANGFU_ADDR": "127.0.0.1:0", "BANGFU_LOG_LEVEL": "warn", "BANGFU_STATE_DIR": t.TempDir()}

	var wg sync.WaitGroup
	errs := make([]error, 2)
	for i := range errs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, errs[i] = runMain(t, ctx, env, "", "migrate")
		}()
	}
	wg.Wait()
	require.NoError(t, errors.Join(errs...), "concurrent migrations")

	var logins string
	for range 2 {
		out, err := runMain(t, ctx, env, "", "seed", "demo")
		require.NoError(t, err)
		require.Contains(t, out, "bangfu-demo-admin")
		logins = out
	}
	require.Equal(t, 9, strings.Count(logins, "bangfu-demo-"), "the demo logins (two supervisors, counselors and students; the base):\n%s", logins)

	out, err := runMain(t, ctx, env, "a strong password\n", "user", "create", "--username", "ops.admin", "--role", "admin", "--password-stdin")
	require.NoError(t, err)
	require.Contains(t, out, "created user ops.admin")
	_, err = runMain(t, ctx, env, "short\n", "user", "create", "--username", "weak", "--role", "admin", "--password-stdin")
	require.ErrorContains(t, err, "password must be at least 10 characters")

	serveCtx, stop := context.WithCancel(ctx)
	addrc := make(chan net.Addr, 1)
	done := make(chan error, 1)
	go func() {
		p := &program{stdin: strings.NewReader(""), stdout: &bytes.Buffer{}, stderr: &bytes.Buffer{},
			lookup: func(k string) (string, bool) { v, ok := env[k]; return v, ok },
			ready:  func(a net.Addr) { addrc <- a }}
		done <- p.run(serveCtx, []string{"serve"})
	}()
	var base string
	select {
	case a := <-addrc:
		base = "http://" + a.String()
	case err := <-done:
		t.Fatalf("serve stopped before listening: %v", err)
	}

	call := func(method, path, token string, body any) (int, map[string]any) {
		b, _ := json.Marshal(body)
		req, err := http.NewRequest(method, base+path, bytes.NewReader(b))
		require.NoError(t, err)
		req.Header.Set("Content-Type", "application/json")
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		defer resp.Body.Close()
		var m map[string]any
		_ = json.NewDecoder(resp.Body).Decode(&m)
		return resp.StatusCode, m
	}

	status, _ := call(http.MethodGet, "/readyz", "", nil)
	require.Equal(t, http.StatusOK, status)
	status, session := call(http.MethodPost, "/api/v1/auth/login", "", map[string]string{"username": "admin", "password": "bangfu-demo-admin"})
	require.Equal(t, http.StatusOK, status, "%v", session)
	token := session["access_token"].(string)
	status, school := call(http.MethodPost, "/api/v1/schools", token, map[string]string{"code": "4144019999", "name": "端到端学院"})
	require.Equal(t, http.StatusCreated, status, "%v", school)
	status, user := call(http.MethodPost, "/api/v1/users", token, map[string]any{
		"username": "e2e.counselor", "role": "counselor", "school_id": school["id"], "password": "counselor password",
	})
	require.Equal(t, http.StatusCreated, status, "%v", user)
	status, _ = call(http.MethodPost, "/api/v1/auth/login", "", map[string]string{"username": "e2e.counselor", "password": "counselor password"})
	require.Equal(t, http.StatusOK, status)

	// The demo counselor has a caseload — seeded twice, each graduate once —
	// with a graduate followed after graduation and one handed over; the
	// demo student sees their own plan.
	_, session = call(http.MethodPost, "/api/v1/auth/login", "", map[string]string{"username": "counselor", "password": "bangfu-demo-counselor"})
	counselorToken := session["access_token"].(string)
	status, list := call(http.MethodGet, "/api/v1/students", counselorToken, nil)
	require.Equal(t, http.StatusOK, status)
	require.GreaterOrEqual(t, len(list["items"].([]any)), 28, "about thirty graduates in the demo counselor's caseload")
	var afterGraduation, handedOver float64
	for _, it := range list["items"].([]any) {
		st := it.(map[string]any)
		if st["status"] == "handed_over" {
			handedOver = st["id"].(float64)
		}
		if st["phase"] == "after_graduation" {
			afterGraduation = st["id"].(float64)
		}
	}
	require.NotZero(t, afterGraduation, "a case followed after graduation")
	require.NotZero(t, handedOver, "a graduate handed over")
	status, handovers := call(http.MethodGet, fmt.Sprintf("/api/v1/students/%d/handover", int64(handedOver)), counselorToken, nil)
	require.Equal(t, http.StatusOK, status, "%v", handovers)
	require.Len(t, handovers["items"], 1)
	require.NotNil(t, handovers["items"].([]any)[0].(map[string]any)["acknowledgement"])
	_, session = call(http.MethodPost, "/api/v1/auth/login", "", map[string]string{"username": "student", "password": "bangfu-demo-student"})
	status, myPlan := call(http.MethodGet, "/api/v1/me/plan", session["access_token"].(string), nil)
	require.Equal(t, http.StatusOK, status, "%v", myPlan)

	stop()
	require.NoError(t, <-done, "graceful shutdown exits cleanly")
	_, err = http.Get(base + "/healthz")
	require.Error(t, err, fmt.Sprintf("%s still answers after shutdown", base))
}
