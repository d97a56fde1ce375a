package resilience_test

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"

	"github.com/bangfu/bangfu"
	"github.com/bangfu/bangfu/internal/app"
	"github.com/bangfu/bangfu/internal/apptest"
	"github.com/bangfu/bangfu/internal/cnid"
	"github.com/bangfu/bangfu/internal/config"
	"github.com/bangfu/bangfu/internal/directory"
	"github.com/bangfu/bangfu/internal/graduate"
	"github.com/bangfu/bangfu/internal/password"
	"github.com/bangfu/bangfu/internal/pgtest"
	"github.com/bangfu/bangfu/internal/report"
)

// TestManyProcesses runs bangfu as it is scaled out: two `serve
// --no-workers` and two `worker` processes on one database. A session made
// on one server is good on the other, and a refresh token used on one is
// spent on both; failed logins split over the servers lock the account as
// on one. The periodic jobs (stall sweep, evidence expiry, the report
// snapshots and their catch-up) and the follow-ups due run once, whichever
// worker takes them: one escalation per stalled case, one reminder per
// follow-up and per expiring evidence, one set of snapshots per period. A
// write on one server is seen on the other at once in lists, and in the
// report summary within the minute the product promises (computed_at).
func TestManyProcesses(t *testing.T) {
	t.Parallel()
	started := time.Now()
	const stalled = 8
	dbURL := pgtest.NewURL(t)
	env := map[string]string{"DATABASE_URL": dbURL, "BANGFU_STATE_DIR": t.TempDir(), "BANGFU_LOG_LEVEL": "warn",
		"BANGFU_JOB_WORKERS": "2", "BANGFU_METRICS_ADDR": ""}
	w := newWorld(t, dbURL, env, 2)
	ctx := context.Background()
	school := *w.counselor.SchoolID
	supervisor, err := w.app.Directory.CreateUser(ctx, bangfu.Actor{}, directory.UserInput{Username: "many.supervisor", Role: bangfu.RoleSupervisor,
		SchoolID: &school, Password: "a long password"})
	require.NoError(t, err)
	_, err = w.app.Directory.CreateUser(ctx, bangfu.Actor{}, directory.UserInput{Username: "many.throttled", Role: bangfu.RoleCounselor,
		SchoolID: &school, Password: "a long password"})
	require.NoError(t, err)

	// Cases that went quiet 40 days ago (made on a clock set back): each is
	// stalled for the sweep and has a follow-up long due; each has
	// verified evidence expiring in three days.
	past := wireAt(t, dbURL, env, apptest.NewClock(time.Now().Add(-40*24*time.Hour)))
	year := time.Now().In(bangfu.Shanghai).Year() + 1
	var quiet []int64
	for i := range stalled {
		first := fmt.Sprintf("44010620020202%03d", i)
		st, err := past.Graduates.Create(ctx, w.counselor.Actor(), graduate.Input{StudentNumber: fmt.Sprintf("%d9%05d", year, i), Name: fmt.Sprintf("久未联系%d", i),
			IDNumber: first + string(cnid.ResidentIDCheck(first)), EducationLevel: "benke", GraduationYear: year})
		require.NoError(t, err)
		h, err := w.app.Graduates.AddHardship(ctx, w.counselor.Actor(), st.ID, graduate.HardshipInput{Category: graduate.Categories[0],
			EvidenceType: "低保证明", IssuingAuthority: "区民政局", ValidUntil: bangfu.Today(bangfu.SystemClock{}).AddDays(3).String()})
		require.NoError(t, err)
		_, err = w.app.Graduates.VerifyHardship(ctx, supervisor.Actor(), st.ID, h.ID, graduate.Verification{Decision: "verified"})
		require.NoError(t, err)
		quiet = append(quiet, st.ID)
	}
	// The weekly snapshots stop four weeks ago: the catch-up takes the
	// four weeks since, and the last month.
	lastWeek := report.LastEnded(report.Weekly, time.Now())
	_, err = w.app.Reports.Take(ctx, report.Weekly, lastWeek.AddDays(-28))
	require.NoError(t, err)

	// Two workers start together; then two servers without workers.
	workers := []*proc{start(t, env, "worker"), start(t, env, "worker")}
	var servers []*proc
	for range 2 {
		e := clone(env)
		e["BANGFU_ADDR"] = freeAddr(t)
		servers = append(servers, start(t, e, "serve", "--no-workers"))
	}
	a, b := servers[0], servers[1]
	t.Logf("two servers and two workers up in %s", time.Since(started).Round(time.Millisecond))

	// A session from A works on B; its refresh token, spent on B, is
	// refused on A (and revokes the family on both).
	sess := login(t, a, "chaos.counselor", "a long password", http.StatusOK)
	status, _, _ := call(http.MethodGet, b.base+"/api/v1/students", sess.AccessToken, nil, nil)
	require.Equal(t, http.StatusOK, status, "a token from A on B")
	status, _, body := call(http.MethodPost, b.base+"/api/v1/auth/refresh", "", map[string]string{"refresh_token": sess.RefreshToken}, nil)
	require.Equal(t, http.StatusOK, status, "refresh on B: %s", body)
	var renewed session
	require.NoError(t, json.Unmarshal(body, &renewed))
	status, _, _ = call(http.MethodPost, a.base+"/api/v1/auth/refresh", "", map[string]string{"refresh_token": sess.RefreshToken}, nil)
	require.Equal(t, http.StatusUnauthorized, status, "a refresh token spent on B is spent on A")
	status, _, _ = call(http.MethodPost, a.base+"/api/v1/auth/refresh", "", map[string]string{"refresh_token": renewed.RefreshToken}, nil)
	require.Equal(t, http.StatusUnauthorized, status, "reuse revoked the family everywhere")

	// Five failures, alternating servers, lock the account on both.
	for i := range 5 {
		login(t, servers[i%2], "many.throttled", "wrong password", http.StatusUnauthorized)
	}
	login(t, a, "many.throttled", "a long password", http.StatusTooManyRequests)
	login(t, b, "many.throttled", "a long password", http.StatusTooManyRequests)

	// The report, read on B (and so counted and cached there), then a new
	// graduate created on A.
	token := w.token(t)
	summaryURL := fmt.Sprintf("%s/api/v1/reports/summary?graduation_year=%d", b.base, year)
	before := summary(t, summaryURL, token)
	first := "440106200303030001"[:17]
	status, _, body = call(http.MethodPost, a.base+"/api/v1/students", token, map[string]any{"student_number": fmt.Sprintf("%d800001", year),
		"name": "新建于A", "id_number": first + string(cnid.ResidentIDCheck(first)), "education_level": "benke", "graduation_year": year}, nil)
	require.Equal(t, http.StatusCreated, status, "%s", body)
	wrote := time.Now()
	// Lists keep nothing in memory: B lists it at once.
	status, _, body = call(http.MethodGet, b.base+"/api/v1/students?q=新建于A", token, nil, nil)
	require.Equal(t, http.StatusOK, status)
	require.Contains(t, string(body), "新建于A", "B lists what A wrote at once")
	// The summary on B is either counted after the write or the one cached
	// before it, which says when it was counted and is younger than
	// report.CacheTTL.
	now := summary(t, summaryURL, token)
	if now.Overall.Graduates == before.Overall.Graduates {
		require.True(t, now.ComputedAt.Before(wrote), "a summary without the write was counted before it")
		require.Less(t, time.Since(now.ComputedAt), report.CacheTTL)
	}

	// Every job's effect, once.
	one := func(sql string, args ...any) int {
		var n int
		require.NoError(t, w.app.DB.Pool.QueryRow(ctx, sql, args...).Scan(&n))
		return n
	}
	waitFor(t, 90*time.Second, "the jobs' effects", func() bool {
		return one(`SELECT count(*) FROM escalations WHERE kind = 'no_contact'`) >= stalled &&
			one(`SELECT count(*) FROM notifications WHERE kind = 'followup_due'`) >= stalled &&
			one(`SELECT count(*) FROM notifications WHERE kind = 'evidence_expiring'`) >= stalled &&
			one(`SELECT count(DISTINCT (period, period_start)) FROM report_snapshots`) >= 6
	})
	waitFor(t, 90*time.Second, "the queue to drain", func() bool {
		return one(`SELECT count(*) FROM river_job WHERE state IN ('available', 'running', 'retryable')
			OR (state = 'scheduled' AND scheduled_at <= now())`) == 0
	})
	require.Equal(t, stalled, one(`SELECT count(*) FROM escalations WHERE kind = 'no_contact'`), "one escalation per stalled case")
	require.Equal(t, stalled, one(`SELECT count(DISTINCT student_id) FROM escalations WHERE kind = 'no_contact' AND student_id = ANY($1)`, quiet))
	for _, kind := range []string{"followup_due", "evidence_expiring"} {
		require.Equal(t, stalled, one(`SELECT count(*) FROM notifications WHERE kind = $1`, kind), "one %s per case", kind)
		require.Equal(t, stalled, one(`SELECT count(DISTINCT student_id) FROM notifications WHERE kind = $1 AND student_id = ANY($2)`, kind, quiet))
	}
	require.Equal(t, stalled, one(`SELECT count(*) FROM notifications WHERE kind LIKE 'escalation%'`), "one notice per escalation")
	require.Equal(t, 6, one(`SELECT count(DISTINCT (period, period_start)) FROM report_snapshots`), "five weeks and a month")
	require.Equal(t, 12, one(`SELECT count(*) FROM report_snapshots`), "one set (the school, the province) per period")
	require.Equal(t, 0, one(`SELECT count(*) FROM (SELECT 1 FROM report_snapshots GROUP BY school_id, period, period_start HAVING count(*) > 1) d`))

	// Who worked what: both workers share the load.
	rows, err := w.app.DB.Pool.Query(ctx, `SELECT kind, attempted_by[array_upper(attempted_by, 1)], count(*) FROM river_job
		WHERE state = 'completed' GROUP BY 1, 2 ORDER BY 1, 2`)
	require.NoError(t, err)
	var (
		kind, by string
		n        int
		ran      []string
		byWorker = map[string]int{}
	)
	_, err = pgx.ForEachRow(rows, []any{&kind, &by, &n}, func() error {
		ran = append(ran, fmt.Sprintf("%s×%d@%s", kind, n, by[max(0, len(by)-6):]))
		byWorker[by] += n
		return nil
	})
	require.NoError(t, err)
	t.Logf("jobs completed: %s", strings.Join(ran, ", "))

	// Within the minute it promises, B's summary has A's write.
	waitFor(t, report.CacheTTL+30*time.Second, "B's summary to count A's write", func() bool {
		return summary(t, summaryURL, token).Overall.Graduates == before.Overall.Graduates+1
	})
	t.Logf("B's summary counted A's write %s after it", time.Since(wrote).Round(time.Second))
	for _, p := range append(servers, workers...) {
		p.stop(t)
	}
	t.Logf("TestManyProcesses took %s (jobs by worker: %v)", time.Since(started).Round(time.Millisecond), byWorker)
}

type session struct {
	AccessToken  string `json:"access_token"`
	RefreshToken string `json:"refresh_token"`
}

func login(t *testing.T, p *proc, username, pw string, want int) session {
	t.Helper()
	status, _, body := call(http.MethodPost, p.base+"/api/v1/auth/login", "", map[string]string{"username": username, "password": pw}, nil)
	require.Equal(t, want, status, "login %s on %s: %s", username, p.base, body)
	var s session
	if status == http.StatusOK {
		require.NoError(t, json.Unmarshal(body, &s))
	}
	return s
}

func summary(t *testing.T, url, token string) report.Summary {
	t.Helper()
	status, _, body := call(http.MethodGet, url, token, nil, nil)
	require.Equal(t, http.StatusOK, status, "%s", body)
	var s report.Summary
	require.NoError(t, json.Unmarshal(body, &s))
	return s
}

func clone(m map[string]string) map[string]string {
	out := make(map[string]string, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

// wireAt wires an app on dbURL with env's keys and clock: to make records
// as they would have been made in the past.
func wireAt(t *testing.T, dbURL string, env map[string]string, clock bangfu.Clock) *app.App {
	t.Helper()
	cfg, err := config.Load(func(k string) (string, bool) {
		if k == "DATABASE_URL" {
			return dbURL, true
		}
		v, ok := env[k]
		return v, ok
	})
	require.NoError(t, err)
	cheap := password.Params{Memory: 1024, Time: 1, Threads: 1}
	a, err := app.New(context.Background(), cfg, slog.New(slog.DiscardHandler), app.Options{Clock: clock, PasswordParams: &cheap})
	require.NoError(t, err)
	t.Cleanup(a.Close)
	return a
}
