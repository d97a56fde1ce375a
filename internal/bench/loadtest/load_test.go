package loadtest

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"runtime"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/bangfu/bangfu"
	"github.com/bangfu/bangfu/internal/apptest"
	"github.com/bangfu/bangfu/internal/graduate"
	"github.com/bangfu/bangfu/internal/ledger"
)

// world is a small dataset: one school with a supervisor, two counselors
// with a few graduates each (some contacted), and province staff.
func world(t *testing.T) *apptest.Env {
	t.Helper()
	env := apptest.New(t)
	env.Clock.Set(time.Now()) // the load sends real times
	school := env.MustSchool(t)
	env.MustUser(t, bangfu.RoleSupervisor, &school.ID)
	env.MustUser(t, bangfu.RoleProvince, nil)
	for range 2 {
		c := env.MustUser(t, bangfu.RoleCounselor, &school.ID)
		for i := range 4 {
			st := env.MustStudent(t, c, graduate.Input{GraduationYear: env.Clock.Now().In(bangfu.Shanghai).Year()})
			if i%2 == 0 {
				_, err := env.App.Ledger.Append(t.Context(), c.Actor(), st.ID, ledger.Input{
					Kind: "contact", Channel: "phone", OccurredAt: env.Clock.Now().Add(-time.Hour), Summary: "电话联系"})
				require.NoError(t, err)
			}
		}
	}
	return env
}

// TestServerAndFloor sends every endpoint's requests to the real server
// and to the floor on the same database: every request must succeed on
// both, and the floor's lists must hold what the server's hold.
func TestServerAndFloor(t *testing.T) {
	t.Parallel()
	env := world(t)
	ctx := t.Context()
	sample, err := Discover(ctx, env.App.DB.Pool, SampleSizes{Counselors: 5, Supervisors: 5, PerCounselor: 3, Seed: 1})
	require.NoError(t, err)
	require.Len(t, sample.Counselors, 2)
	require.Len(t, sample.Pairs, 6, "three open cases of each counselor")
	require.Len(t, sample.Supervisors, 1)
	require.NotNil(t, sample.Province)
	again, err := Discover(ctx, env.App.DB.Pool, SampleSizes{Counselors: 5, Supervisors: 5, PerCounselor: 3, Seed: 1})
	require.NoError(t, err)
	require.Equal(t, sample.Pairs[0].StudentID, again.Pairs[0].StudentID, "the same seed picks the same sample")

	floorSrv := httptest.NewServer((&Floor{DB: env.App.DB, Clock: env.Clock, StallDays: DefaultStallDays}).Handler())
	t.Cleanup(floorSrv.Close)
	server := NewTarget("server", env.URL, false, 2)
	floor := NewTarget("floor", floorSrv.URL, true, 2)
	tokens := server.UseTokens(apptest.Password)
	require.NoError(t, tokens.LoginAll(ctx, sample.users(), tokenMaxAge, 2))

	for _, ep := range Endpoints() {
		for _, target := range []*Target{server, floor} {
			l := &Load{Target: target, Endpoint: ep, Sample: sample, Password: apptest.Password, Concurrency: 2, Seed: 1}
			s := l.Run(ctx, 20*time.Millisecond, 150*time.Millisecond)
			require.Positive(t, s.Requests, "%s on the %s", ep.Name, target.Name)
			require.Zero(t, s.Errors, "%s on the %s: %v %v", ep.Name, target.Name, s.ErrorsByStatus, s.ErrorSamples)
			require.Positive(t, s.P50Ms)
		}
	}

	// The same question gets as many rows from both.
	count := func(target *Target, r request) int {
		resp, err := target.send(ctx, r)
		require.NoError(t, err)
		defer resp.Body.Close()
		require.Equal(t, http.StatusOK, resp.StatusCode, "%s %s on the %s", r.method, r.path, target.Name)
		var body struct {
			Items []json.RawMessage `json:"items"`
		}
		require.NoError(t, json.NewDecoder(resp.Body).Decode(&body))
		return len(body.Items)
	}
	p := sample.Pairs[0]
	for _, r := range []request{
		{method: http.MethodGet, path: "/api/v1/students?limit=50", as: p.Counselor},
		{method: http.MethodGet, path: fmt.Sprintf("/api/v1/students/%d/ledger", p.StudentID), as: p.Counselor},
		{method: http.MethodGet, path: "/api/v1/ledger?kind=contact&limit=50", as: sample.Supervisors[0]},
		{method: http.MethodGet, path: "/api/v1/escalations?status=open", as: sample.Supervisors[0]},
	} {
		n := count(server, r)
		require.Equal(t, n, count(floor, r), "%s", r.path)
	}
	require.Equal(t, 4, count(server, request{method: http.MethodGet, path: "/api/v1/students?limit=50", as: p.Counselor}))
}

// TestJobsRollBack runs the job benchmarks on a small dataset and checks
// that they leave the data as it was.
func TestJobsRollBack(t *testing.T) {
	t.Parallel()
	env := world(t)
	ctx := t.Context()
	// Every case went quiet 40 days ago: the sweep has work.
	_, err := env.App.DB.Pool.Exec(ctx, `UPDATE students SET created_at = created_at - interval '40 days',
		last_contact_at = last_contact_at - interval '40 days'`)
	require.NoError(t, err)
	_, err = env.App.DB.Pool.Exec(ctx, `UPDATE case_activity SET quiet_since = quiet_since - interval '40 days',
		last_contact_at = last_contact_at - interval '40 days'`)
	require.NoError(t, err)
	snapshot := func() [3]int {
		var s [3]int
		require.NoError(t, env.App.DB.Pool.QueryRow(ctx, `SELECT (SELECT count(*) FROM river_job), (SELECT count(*) FROM escalations),
			(SELECT count(*) FROM case_activity WHERE next_followup_on IS NOT NULL)`).Scan(&s[0], &s[1], &s[2]))
		return s
	}
	before := snapshot()
	j, err := RunJobs(ctx, env.App, JobOptions{Followups: 12, ReportRuns: 2, Province: bangfu.Actor{Role: bangfu.RoleProvince}})
	require.NoError(t, err)
	require.Equal(t, before, snapshot(), "the jobs roll back")

	require.Equal(t, 8, j.Sweep.OpenCases)
	require.Positive(t, j.Sweep.Raised["no_contact"], "%v", j.Sweep.Raised)
	require.Equal(t, 12, j.Followups.Contacts, "more contacts than open cases: some cases twice")
	require.Equal(t, 8, j.Followups.Cases)
	require.Positive(t, j.Followups.PerSecond)
	require.Len(t, j.Report.Runs, 2)
	require.Equal(t, 8, j.Report.Graduates)
	require.LessOrEqual(t, j.Report.MinSeconds, j.Report.MedianSeconds)
}

func TestReadMemory(t *testing.T) {
	t.Parallel()
	if runtime.GOOS != "linux" {
		t.Skip("reads /proc")
	}
	m, err := ReadMemory(os.Getpid())
	require.NoError(t, err)
	require.Positive(t, m.EndBytes)
	require.GreaterOrEqual(t, m.PeakBytes, m.EndBytes)
}
