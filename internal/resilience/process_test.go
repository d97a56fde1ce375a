package resilience_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/bangfu/bangfu"
	"github.com/bangfu/bangfu/internal/app"
	"github.com/bangfu/bangfu/internal/cnid"
	"github.com/bangfu/bangfu/internal/config"
	"github.com/bangfu/bangfu/internal/directory"
	"github.com/bangfu/bangfu/internal/graduate"
	"github.com/bangfu/bangfu/internal/notify"
	"github.com/bangfu/bangfu/internal/password"
)

// binary is bangfu built from this tree by TestMain.
var binary string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "bangfu-resilience-")
	if err != nil {
		panic(err)
	}
	binary = filepath.Join(dir, "bangfu")
	build := exec.Command("go", "build", "-o", binary, "github.com/bangfu/bangfu/cmd/bangfu")
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "resilience: build bangfu:", err)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// proc is a running bangfu process.
type proc struct {
	cmd  *exec.Cmd
	base string // http://addr, for serve
	log  *lockedBuffer
	done chan error
}

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

// freeAddr returns a loopback address nothing listens on.
func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := ln.Addr().String()
	require.NoError(t, ln.Close())
	return addr
}

// start runs `bangfu args...` with env; a serve process is returned once
// /readyz answers 200. Its log is shown if the test fails.
func start(t *testing.T, env map[string]string, args ...string) *proc {
	t.Helper()
	p := &proc{log: &lockedBuffer{}, done: make(chan error, 1)}
	p.cmd = exec.Command(binary, args...)
	p.cmd.Env = []string{"PATH=" + os.Getenv("PATH")}
	for k, v := range env {
		p.cmd.Env = append(p.cmd.Env, k+"="+v)
	}
	p.cmd.Stdout, p.cmd.Stderr = p.log, p.log
	require.NoError(t, p.cmd.Start())
	go func() { p.done <- p.cmd.Wait() }()
	t.Cleanup(func() {
		if p.cmd.ProcessState == nil {
			_ = p.cmd.Process.Kill()
			<-p.done
		}
		if t.Failed() {
			t.Logf("bangfu %s (pid %d) log:\n%s", strings.Join(args, " "), p.cmd.Process.Pid, p.log.String())
		}
	})
	if args[0] == "serve" {
		p.base = "http://" + env["BANGFU_ADDR"]
		waitFor(t, 60*time.Second, "bangfu serve to be ready", func() bool {
			select {
			case err := <-p.done:
				p.done <- err
				t.Fatalf("bangfu serve exited: %v\n%s", err, p.log.String())
			default:
			}
			resp, err := http.Get(p.base + "/readyz")
			if err != nil {
				return false
			}
			resp.Body.Close()
			return resp.StatusCode == http.StatusOK
		})
	}
	return p
}

// kill9 kills the process with SIGKILL: no shutdown, no flush.
func (p *proc) kill9(t *testing.T) {
	t.Helper()
	require.NoError(t, p.cmd.Process.Signal(syscall.SIGKILL))
	err := <-p.done
	p.done <- err
}

// stop sends SIGTERM and requires a clean exit.
func (p *proc) stop(t *testing.T) {
	t.Helper()
	require.NoError(t, p.cmd.Process.Signal(syscall.SIGTERM))
	select {
	case err := <-p.done:
		p.done <- err
		require.NoError(t, err, "SIGTERM stops bangfu cleanly")
	case <-time.After(60 * time.Second):
		t.Fatal("bangfu did not stop within 60s of SIGTERM")
	}
}

// alive reports whether the process is still running.
func (p *proc) alive() bool {
	select {
	case err := <-p.done:
		p.done <- err
		return false
	default:
		return true
	}
}

// waitFor polls cond until it holds, failing t after limit.
func waitFor(t *testing.T, limit time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(limit)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", limit, what)
		}
		time.Sleep(20 * time.Millisecond) // a poll interval, not synchronisation
	}
}

// world is the data a test's processes work on, made in-process through
// the same configuration (and so the same keys) as the processes.
type world struct {
	app       *app.App
	env       map[string]string
	counselor directory.User
	students  []graduate.Student
}

// newWorld wires an app on dbURL with env and makes a school, a counselor
// and n active graduates of theirs.
func newWorld(t *testing.T, dbURL string, env map[string]string, n int) *world {
	t.Helper()
	ctx := context.Background()
	lookup := func(k string) (string, bool) {
		if k == "DATABASE_URL" {
			return dbURL, true
		}
		v, ok := env[k]
		return v, ok
	}
	cfg, err := config.Load(lookup)
	require.NoError(t, err)
	cheap := password.Params{Memory: 1024, Time: 1, Threads: 1}
	a, err := app.New(ctx, cfg, slog.New(slog.DiscardHandler), app.Options{PasswordParams: &cheap})
	require.NoError(t, err)
	t.Cleanup(a.Close)
	w := &world{app: a, env: env}
	school, err := a.Directory.CreateSchool(ctx, bangfu.Actor{}, directory.SchoolInput{Code: "4144016666", Name: "韧性测试学院"})
	require.NoError(t, err)
	w.counselor, err = a.Directory.CreateUser(ctx, bangfu.Actor{}, directory.UserInput{Username: "chaos.counselor", Role: bangfu.RoleCounselor,
		SchoolID: &school.ID, Email: "chaos@example.edu.cn", Password: "a long password"})
	require.NoError(t, err)
	// The tests count e-mails: one per notification, as the counselor chose.
	_, err = a.Notify.SavePreferences(ctx, w.counselor.Actor(), 1, notify.PreferencesInput{EmailMode: notify.EmailEach, QuietStart: "22:00", QuietEnd: "07:30"})
	require.NoError(t, err)
	// These processes run on the real clock: graduates of next year are in
	// school whatever the date, so that the stall sweep a process runs at
	// start flags none of them (and e-mails nobody) during a test.
	active := "active"
	year := time.Now().In(bangfu.Shanghai).Year() + 1
	for i := range n {
		first := fmt.Sprintf("44010620010101%03d", i)
		st, err := a.Graduates.Create(ctx, w.counselor.Actor(), graduate.Input{StudentNumber: fmt.Sprintf("%d%06d", year, i), Name: fmt.Sprintf("学生%d", i),
			IDNumber: first + string(cnid.ResidentIDCheck(first)), EducationLevel: "benke", GraduationYear: year})
		require.NoError(t, err)
		st, err = a.Graduates.Update(ctx, w.counselor.Actor(), st.ID, st.Version, graduate.Patch{Status: &active})
		require.NoError(t, err)
		w.students = append(w.students, st)
	}
	return w
}

// token is an access token for the counselor, signed with the keys the
// processes use.
func (w *world) token(t *testing.T) string {
	t.Helper()
	tok, err := w.app.Tokens.Issue(w.counselor.Actor())
	require.NoError(t, err)
	return tok
}

// client is what the load generators call bangfu with.
var client = &http.Client{Timeout: 15 * time.Second}

// call sends a JSON request; a transport error (the process is gone) is
// returned as status 0.
func call(method, url, token string, body any, header map[string]string) (int, http.Header, []byte) {
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, url, rd)
	if err != nil {
		return 0, nil, nil
	}
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := client.Do(req)
	if err != nil {
		return 0, nil, nil
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header, b
}
