package loadtest

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/bangfu/bangfu"
	"github.com/bangfu/bangfu/internal/apptest"
	"github.com/bangfu/bangfu/internal/bench/synthetic"
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

// province loads a small synthetic province (bangfu-bench seed's data)
// into a fresh app's database, and builds the floor's tables from it.
func province(t *testing.T) (*apptest.Env, *Floor) {
	t.Helper()
	env := apptest.New(t)
	env.Clock.Set(time.Now()) // the load sends real times
	ctx := t.Context()
	_, err := synthetic.Generate(ctx, env.App.DB, env.App.Box, synthetic.Options{Students: 1200, Schools: 2, Seed: 5,
		Now: env.Clock.Now(), AnalyzeOnly: true})
	require.NoError(t, err)
	built, err := BuildFloor(ctx, env.App.DB, bangfu.Today(env.Clock), false, nil)
	require.NoError(t, err)
	require.True(t, built)
	built, err = BuildFloor(ctx, env.App.DB, bangfu.Today(env.Clock), false, nil)
	require.NoError(t, err)
	require.False(t, built, "current: not built again")
	floor, err := NewFloor(ctx, env.App.DB, env.Clock)
	require.NoError(t, err)
	return env, floor
}

// TestServerAndFloor sends every endpoint's requests to the real server
// and to the floor on the same small province: every request succeeds on
// both, and the floor answers each question with the same rows and fields
// as the server, for the same actors.
func TestServerAndFloor(t *testing.T) {
	t.Parallel()
	env, f := province(t)
	ctx := t.Context()
	sizes := SampleSizes{Counselors: 6, Supervisors: 8, PerCounselor: 3, Seed: 1}
	sample, err := Discover(ctx, env.App.DB.Pool, sizes)
	require.NoError(t, err)
	require.NotEmpty(t, sample.Counselors)
	require.NotEmpty(t, sample.Supervisors)
	again, err := Discover(ctx, env.App.DB.Pool, sizes)
	require.NoError(t, err)
	require.Equal(t, sample.Pairs[0].StudentID, again.Pairs[0].StudentID, "the same seed picks the same sample")

	floorSrv := httptest.NewServer(f.Handler())
	t.Cleanup(floorSrv.Close)
	server := NewTarget("server", env.URL, false, 2)
	floor := NewTarget("floor", floorSrv.URL, true, 2)
	tokens := server.UseTokens(synthetic.Password)
	require.NoError(t, tokens.LoginAll(ctx, sample.users(), tokenMaxAge, 2))
	sample.UrgencyByDefault, err = DetectCaseloadDefault(ctx, server, sample.Counselors[0])
	require.NoError(t, err)

	// The same questions get the same answers, before any load writes.
	get := func(target *Target, r request) any {
		resp, err := target.send(ctx, r)
		require.NoError(t, err)
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		require.Equal(t, http.StatusOK, resp.StatusCode, "%s %s on the %s: %s", r.method, r.path, target.Name, b)
		var v any
		require.NoError(t, json.Unmarshal(b, &v))
		return normalize(v)
	}
	// rows counts the items the servers agreed on, by path.
	rows := map[string]int{}
	same := func(r request, drop ...string) {
		t.Helper()
		want, got := get(server, r), get(floor, r)
		for _, v := range []any{want, got} {
			dropKeys(v, drop...)
		}
		require.Equal(t, want, got, "%s as %s %d", r.path, r.as.Role, r.as.UserID)
		if m, ok := want.(map[string]any); ok {
			key, _, _ := strings.Cut(r.path, "?")
			if items, ok := m["items"].([]any); ok {
				rows[key] += len(items)
			}
		}
	}
	since := env.Clock.Now().AddDate(0, 0, -30).UTC().Truncate(time.Second).Format(time.RFC3339)
	for _, c := range sample.Counselors {
		same(request{method: http.MethodGet, path: sample.caseloadPath(), as: c}, "next_cursor")
	}
	for _, p := range sample.Pairs[:min(len(sample.Pairs), 8)] {
		same(request{method: http.MethodGet, path: fmt.Sprintf("/api/v1/students/%d", p.StudentID), as: p.Counselor})
		same(request{method: http.MethodGet, path: fmt.Sprintf("/api/v1/students/%d/ledger", p.StudentID), as: p.Counselor}, "next_cursor")
	}
	for _, s := range sample.Supervisors {
		same(request{method: http.MethodGet, path: "/api/v1/ledger?kind=contact&limit=50&since=" + since, as: s},
			"next_cursor", "corrected_by")
		same(request{method: http.MethodGet, path: "/api/v1/escalations?status=open", as: s}, "next_cursor")
		// The report: the figures, not the labels of education levels or
		// the server's bookkeeping.
		same(request{method: http.MethodGet, path: "/api/v1/reports/summary", as: s}, "computed_at", "scope", "by_education",
			"by_school", "staffing", "staffing_check", "rule_version", "name")
	}

	// The questions had answers to compare.
	t.Logf("rows compared: %v", rows)
	require.Greater(t, rows["/api/v1/students"], 20, "caseload rows")
	require.Positive(t, rows["/api/v1/ledger"], "review rows")
	require.Positive(t, rows["/api/v1/escalations"], "escalations")

	for _, ep := range Endpoints() {
		for _, target := range []*Target{server, floor} {
			l := &Load{Target: target, Endpoint: ep, Sample: sample, Password: synthetic.Password, Concurrency: 2, Seed: 1}
			s := l.Run(ctx, 20*time.Millisecond, 150*time.Millisecond)
			require.Positive(t, s.Requests, "%s on the %s", ep.Name, target.Name)
			require.Zero(t, s.Errors, "%s on the %s: %v %v", ep.Name, target.Name, s.ErrorsByStatus, s.ErrorSamples)
			require.Positive(t, s.P50Ms)
		}
	}

	// The floor's appends chained: each entry's prev_hash is the hash of
	// the one before it, in the floor's ledger as in the server's.
	for _, target := range []*Target{server, floor} {
		p := sample.Pairs[0]
		items := get(target, request{method: http.MethodGet, path: fmt.Sprintf("/api/v1/students/%d/ledger?limit=200", p.StudentID),
			as: p.Counselor}).(map[string]any)["items"].([]any)
		require.NotEmpty(t, items)
		for i := 1; i < len(items); i++ {
			prev, e := items[i-1].(map[string]any), items[i].(map[string]any)
			require.Equal(t, prev["seq"].(float64)+1, e["seq"], "%s", target.Name)
			require.Equal(t, prev["hash"], e["prev_hash"], "%s: entry %v", target.Name, e["seq"])
		}
	}

	// A refresh after the load's writes drops the floor's own appends and
	// takes the server's: the floor answers as the server does again.
	built, err := BuildFloor(ctx, env.App.DB, bangfu.Today(env.Clock), false, nil)
	require.NoError(t, err)
	require.True(t, built, "the server's appends made the floor stale")
	for _, p := range sample.Pairs[:min(len(sample.Pairs), 4)] {
		same(request{method: http.MethodGet, path: fmt.Sprintf("/api/v1/students/%d/ledger?limit=200", p.StudentID), as: p.Counselor},
			"next_cursor")
	}
}

// normalize makes decoded JSON comparable between the servers: times as
// UTC instants, and a null field the same as an absent one.
func normalize(v any) any {
	switch v := v.(type) {
	case map[string]any:
		for k, x := range v {
			if x == nil {
				delete(v, k)
				continue
			}
			v[k] = normalize(x)
		}
	case []any:
		for i := range v {
			v[i] = normalize(v[i])
		}
	case string:
		if t, err := time.Parse(time.RFC3339Nano, v); err == nil {
			return t.UTC().Format(time.RFC3339Nano)
		}
	}
	return v
}

// dropKeys deletes keys from every object in v.
func dropKeys(v any, keys ...string) {
	switch v := v.(type) {
	case map[string]any:
		for _, k := range keys {
			delete(v, k)
		}
		for _, x := range v {
			dropKeys(x, keys...)
		}
	case []any:
		for _, x := range v {
			dropKeys(x, keys...)
		}
	}
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

// TestFloorSQLIsDocumented: docs/performance.md shows the floor's tables
// and statements as `bangfu-bench floors --sql` prints them.
func TestFloorSQLIsDocumented(t *testing.T) {
	t.Parallel()
	doc, err := os.ReadFile("../../../docs/performance.md")
	require.NoError(t, err)
	var b strings.Builder
	PrintFloorSQL(&b)
	require.True(t, strings.Contains(string(doc), strings.TrimSpace(b.String())),
		"docs/performance.md is out of date: paste `bin/bangfu-bench floors --sql` into its section \"The floors\"")
}
