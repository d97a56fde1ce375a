// Package apptest boots the production wiring of bangfu on a fresh
// database for one test, with a movable clock, and gives the test an HTTP
// client whose every API response is checked against docs/openapi.yaml.
package apptest

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/bangfu/bangfu"
	"github.com/bangfu/bangfu/internal/app"
	"github.com/bangfu/bangfu/internal/cnid"
	"github.com/bangfu/bangfu/internal/config"
	"github.com/bangfu/bangfu/internal/directory"
	"github.com/bangfu/bangfu/internal/graduate"
	"github.com/bangfu/bangfu/internal/password"
	"github.com/bangfu/bangfu/internal/pgtest"
	"github.com/bangfu/bangfu/internal/roster"
)

// CheapPasswords makes hashing fast in tests; production uses the defaults.
var CheapPasswords = password.Params{Memory: 1024, Time: 1, Threads: 1}

// Start is where every test's clock starts: a Monday in graduation season.
var Start = time.Date(2026, 6, 1, 9, 0, 0, 0, bangfu.Shanghai)

// Env is one test's running bangfu.
type Env struct {
	App    *app.App
	Clock  *Clock
	Server *httptest.Server
	// URL is the server's base URL.
	URL string
	// DatabaseURL is the test's own database.
	DatabaseURL string
	seq         atomic.Int64
	secretsMu   sync.Mutex
	secrets     []string
}

// NeverShow makes every later response fail the test if its body holds
// secret, except the unmask endpoint's, whose purpose is to show it.
func (e *Env) NeverShow(secret string) {
	e.secretsMu.Lock()
	defer e.secretsMu.Unlock()
	e.secrets = append(e.secrets, secret)
}

func (e *Env) checkSecrets(t testing.TB, path string, body []byte) {
	t.Helper()
	if strings.HasSuffix(path, "/unmask") {
		return
	}
	e.secretsMu.Lock()
	defer e.secretsMu.Unlock()
	for _, s := range e.secrets {
		if bytes.Contains(body, []byte(s)) {
			t.Errorf("response to %s shows a secret in clear: %q", path, s)
		}
	}
}

// Options adjust New.
type Options struct {
	// Workers starts River workers in the test's app.
	Workers bool
	// Config, when set, changes the configuration before wiring.
	Config func(*config.Config)
	// Now, when set, is where the clock starts instead of Start (before
	// workers start: their periodic jobs run at start).
	Now time.Time
	// Log, when set, receives every log line at debug level and above,
	// instead of the test's log (which gets warnings and errors): for tests
	// of what is logged.
	Log io.Writer
}

// New returns a running bangfu on a fresh database. Everything stops and is
// dropped when t ends.
func New(t testing.TB, opts ...Options) *Env {
	t.Helper()
	var o Options
	if len(opts) > 0 {
		o = opts[0]
	}
	dbURL := pgtest.NewURL(t)
	// A fresh dev install: its keys are generated in its own state directory.
	stateDir := t.TempDir()
	cfg, err := config.Load(func(k string) (string, bool) {
		switch k {
		case "DATABASE_URL":
			return dbURL, true
		case "BANGFU_STATE_DIR":
			return stateDir, true
		}
		return "", false
	})
	require.NoError(t, err)
	if o.Config != nil {
		o.Config(cfg)
	}
	clock := NewClock(Start)
	if !o.Now.IsZero() {
		clock.Set(o.Now)
	}
	log := slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelWarn}))
	if o.Log != nil {
		log = slog.New(slog.NewTextHandler(o.Log, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	params := CheapPasswords
	a, err := app.New(context.Background(), cfg, log, app.Options{Workers: o.Workers, Clock: clock, PasswordParams: &params})
	require.NoError(t, err)
	t.Cleanup(a.Close)
	srv := httptest.NewServer(a.Router.Handler())
	t.Cleanup(srv.Close)
	if o.Workers {
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan struct{})
		go func() {
			defer close(done)
			_ = a.Serve(ctx, nil)
		}()
		t.Cleanup(func() { cancel(); <-done })
	}
	return &Env{App: a, Clock: clock, Server: srv, URL: srv.URL, DatabaseURL: dbURL}
}

type testWriter struct{ t testing.TB }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

// Unique returns a string unique within the test, for names and codes.
func (e *Env) Unique() int64 { return e.seq.Add(1) }

// MustSchool creates a school.
func (e *Env) MustSchool(t testing.TB) directory.School {
	t.Helper()
	n := e.Unique()
	s, err := e.App.Directory.CreateSchool(context.Background(), bangfu.Actor{}, directory.SchoolInput{
		Code: fmt.Sprintf("41%08d", n), Name: fmt.Sprintf("测试学院%d", n), Region: "广州",
	})
	require.NoError(t, err)
	return s
}

// MustDepartment creates a department of school.
func (e *Env) MustDepartment(t testing.TB, schoolID int64) directory.Department {
	t.Helper()
	d, err := e.App.Directory.CreateDepartment(context.Background(), bangfu.Actor{}, schoolID, fmt.Sprintf("系%d", e.Unique()))
	require.NoError(t, err)
	return d
}

// Password is every test user's password.
const Password = "correct horse battery"

// MustUser creates a user of role in school (nil for province, admin and
// base). A base user works for a new training base.
func (e *Env) MustUser(t testing.TB, role bangfu.Role, schoolID *int64) directory.User {
	t.Helper()
	in := directory.UserInput{Username: fmt.Sprintf("%s%d", role, e.Unique()), Role: role, SchoolID: schoolID, Password: Password}
	if role == bangfu.RoleBase {
		b := e.MustBase(t)
		in.BaseID = &b.ID
	}
	u, err := e.App.Directory.CreateUser(context.Background(), bangfu.Actor{}, in)
	require.NoError(t, err)
	return u
}

// MustDepartmentSupervisor creates a supervisor of one department of
// school.
func (e *Env) MustDepartmentSupervisor(t testing.TB, schoolID, departmentID int64) directory.User {
	t.Helper()
	u, err := e.App.Directory.CreateUser(context.Background(), bangfu.Actor{}, directory.UserInput{
		Username: fmt.Sprintf("dept%d", e.Unique()), Role: bangfu.RoleSupervisor, SchoolID: &schoolID, DepartmentID: &departmentID,
		Password: Password})
	require.NoError(t, err)
	return u
}

// MustBase creates a training base, with in's webhook when given.
func (e *Env) MustBase(t testing.TB, in ...roster.BaseInput) roster.Base {
	t.Helper()
	var input roster.BaseInput
	if len(in) > 0 {
		input = in[0]
	}
	if input.Name == "" {
		input.Name = fmt.Sprintf("宏志助航培训基地%d", e.Unique())
	}
	if input.HostSchool == "" {
		input.HostSchool = "华南农业大学"
	}
	b, err := e.App.Roster.CreateBase(context.Background(), bangfu.Actor{Role: bangfu.RoleAdmin}, input)
	require.NoError(t, err)
	return b
}

// Token returns an access token for u, issued the way login issues it.
func (e *Env) Token(t testing.TB, u directory.User) string {
	t.Helper()
	tok, err := e.App.Tokens.Issue(u.Actor())
	require.NoError(t, err)
	return tok
}

// Response is a completed API call.
type Response struct {
	Status int
	Header http.Header
	Body   []byte
}

// JSON decodes the body into v, failing t if it cannot.
func (r *Response) JSON(t testing.TB, v any) {
	t.Helper()
	require.NoError(t, json.Unmarshal(r.Body, v), "body: %s", r.Body)
}

// Map decodes the body as a JSON object.
func (r *Response) Map(t testing.TB) map[string]any {
	t.Helper()
	var m map[string]any
	r.JSON(t, &m)
	return m
}

// Error decodes the error envelope.
func (r *Response) Error(t testing.TB) (code string, fields map[string]string) {
	t.Helper()
	var body struct {
		Error struct {
			Code   string            `json:"code"`
			Fields map[string]string `json:"fields"`
		} `json:"error"`
	}
	r.JSON(t, &body)
	return body.Error.Code, body.Error.Fields
}

// Call is one request to make.
type Call struct {
	Method, Path string
	Token        string
	// Body is encoded as JSON unless it is a []byte or string (sent as is).
	Body        any
	ContentType string
	Header      map[string]string
	// Unchecked skips the docs/openapi.yaml check, for requests that are
	// off the API on purpose (unknown routes, oversized bodies).
	Unchecked bool
}

// Do performs c against the test server and checks the exchange against
// docs/openapi.yaml.
func (e *Env) Do(t testing.TB, c Call) *Response {
	t.Helper()
	var body []byte
	switch b := c.Body.(type) {
	case nil:
	case []byte:
		body = b
	case string:
		body = []byte(b)
	default:
		var err error
		body, err = json.Marshal(b)
		require.NoError(t, err)
	}
	req, err := http.NewRequest(c.Method, e.URL+c.Path, bytes.NewReader(body))
	require.NoError(t, err)
	if c.Body != nil {
		ct := c.ContentType
		if ct == "" {
			ct = "application/json"
		}
		req.Header.Set("Content-Type", ct)
	}
	if c.Token != "" {
		req.Header.Set("Authorization", "Bearer "+c.Token)
	}
	for k, v := range c.Header {
		req.Header.Set(k, v)
	}
	resp, err := e.Server.Client().Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	respBody, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	if !c.Unchecked {
		checkAgainstSpec(t, req, body, resp, respBody)
	}
	e.checkSecrets(t, c.Path, respBody)
	return &Response{Status: resp.StatusCode, Header: resp.Header, Body: respBody}
}

// Get is Do for a GET.
func (e *Env) Get(t testing.TB, path, token string) *Response {
	t.Helper()
	return e.Do(t, Call{Method: http.MethodGet, Path: path, Token: token})
}

// Post is Do for a POST with a JSON body.
func (e *Env) Post(t testing.TB, path, token string, body any) *Response {
	t.Helper()
	return e.Do(t, Call{Method: http.MethodPost, Path: path, Token: token, Body: body})
}

// ETagVersion returns the version in a response's ETag.
func (r *Response) ETagVersion(t testing.TB) int {
	t.Helper()
	v, err := strconv.Atoi(strings.Trim(r.Header.Get("ETag"), `"`))
	require.NoError(t, err, "ETag %q", r.Header.Get("ETag"))
	return v
}

// IDNumber returns a valid 身份证号, unique within the test.
func (e *Env) IDNumber() string {
	n := e.Unique()
	first := fmt.Sprintf("440106200%d%02d%02d%03d", n%8+1, n%12+1, n%28+1, n%1000)
	return first + string(cnid.ResidentIDCheck(first))
}

// MustStudent creates a graduate's file as by (a counselor, assigned to
// them, or a supervisor, unassigned unless in says otherwise).
func (e *Env) MustStudent(t testing.TB, by directory.User, in ...graduate.Input) graduate.Student {
	t.Helper()
	var input graduate.Input
	if len(in) > 0 {
		input = in[0]
	}
	n := e.Unique()
	if input.StudentNumber == "" {
		input.StudentNumber = fmt.Sprintf("2026%06d", n)
	}
	if input.Name == "" {
		input.Name = fmt.Sprintf("学生%d", n)
	}
	if input.IDNumber == "" {
		input.IDNumber = e.IDNumber()
	}
	if input.EducationLevel == "" {
		input.EducationLevel = "benke"
	}
	if input.GraduationYear == 0 {
		input.GraduationYear = 2026
	}
	st, err := e.App.Graduates.Create(context.Background(), by.Actor(), input)
	require.NoError(t, err)
	return st
}
