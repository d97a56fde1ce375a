package loadtest

import (
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func msList(ms ...int) []time.Duration {
	out := make([]time.Duration, len(ms))
	for i, m := range ms {
		out[i] = time.Duration(m) * time.Millisecond
	}
	return out
}

func TestPercentile(t *testing.T) {
	t.Parallel()
	require.Zero(t, Percentile(nil, 50))

	// 1..100 ms: the p-th percentile is p ms by nearest rank.
	var hundred []int
	for i := 1; i <= 100; i++ {
		hundred = append(hundred, i)
	}
	sorted := msList(hundred...)
	for _, p := range []float64{1, 50, 95, 99, 100} {
		require.Equal(t, time.Duration(p)*time.Millisecond, Percentile(sorted, p), "p%v", p)
	}
	require.Equal(t, 1*time.Millisecond, Percentile(sorted, 0.1), "never below the first sample")

	one := msList(7)
	require.Equal(t, 7*time.Millisecond, Percentile(one, 50))
	require.Equal(t, 7*time.Millisecond, Percentile(one, 99))

	// Nearest rank on ten samples: p95 and p99 are both the largest, p50
	// the fifth.
	ten := msList(1, 2, 3, 4, 5, 6, 7, 8, 9, 10)
	require.Equal(t, 5*time.Millisecond, Percentile(ten, 50))
	require.Equal(t, 10*time.Millisecond, Percentile(ten, 95))
	require.Equal(t, 9*time.Millisecond, Percentile(ten, 90))
}

func TestMedian(t *testing.T) {
	t.Parallel()
	require.Zero(t, Median(nil))
	in := []float64{3, 1, 2}
	require.Equal(t, 2.0, Median(in))
	require.Equal(t, []float64{3, 1, 2}, in, "the input is left alone")
	require.Equal(t, 2.5, Median([]float64{4, 1, 3, 2}))
}

func TestSummarize(t *testing.T) {
	t.Parallel()
	// Unsorted latencies, two seconds, one 500 and one lost request.
	s := Summarize(msList(40, 10, 30, 20), 2*time.Second, map[string]int{"500": 1, "transport": 1}, []string{"500: boom"}, 1234)
	require.Equal(t, 4, s.Requests)
	require.Equal(t, 2.0, s.Throughput)
	require.Equal(t, 25.0, s.MeanMs)
	require.Equal(t, 20.0, s.P50Ms)
	require.Equal(t, 40.0, s.P95Ms)
	require.Equal(t, 40.0, s.P99Ms)
	require.Equal(t, 40.0, s.MaxMs)
	require.Equal(t, 2, s.Errors)
	require.Equal(t, map[string]int{"500": 1, "transport": 1}, s.ErrorsByStatus)
	require.Equal(t, int64(1234), s.ResponseBytes)

	empty := Summarize(nil, 0, nil, nil, 0)
	require.Zero(t, empty.Throughput)
	require.Zero(t, empty.Errors)
	require.Nil(t, empty.ErrorsByStatus)

	require.Equal(t, 1.235, ms(1234567*time.Nanosecond), "milliseconds to the microsecond")
}

func TestTallyMerge(t *testing.T) {
	t.Parallel()
	var a, b tally
	a.ok(time.Millisecond, 10)
	for range maxErrorSamples + 2 {
		b.fail(2*time.Millisecond, 503, "busy")
	}
	b.fail(3*time.Millisecond, 0, "connection refused")
	a.merge(&b)
	s := a.stats(time.Second)
	require.Equal(t, maxErrorSamples+4, s.Requests)
	require.Equal(t, maxErrorSamples+3, s.Errors)
	require.Equal(t, map[string]int{"503": maxErrorSamples + 2, "transport": 1}, s.ErrorsByStatus)
	require.Len(t, s.ErrorSamples, maxErrorSamples)
	require.Equal(t, "503: busy", s.ErrorSamples[0])
	require.Equal(t, int64(10), s.ResponseBytes)
}

func TestResultRoundTrip(t *testing.T) {
	t.Parallel()
	r := &Result{
		Version: ResultVersion, StartedAt: time.Date(2026, 11, 27, 3, 0, 0, 0, time.UTC), FinishedAt: time.Date(2026, 11, 27, 3, 9, 0, 0, time.UTC),
		Settings: Settings{DurationSeconds: 10, WarmupSeconds: 2, Concurrency: []int{1, 16, 64}, Endpoints: EndpointNames(), Counselors: 200, Seed: 1, DBMaxConns: 20},
		Machine:  Machine{Cores: 2, MemoryBytes: 4 << 30, GoVersion: "go1.26", PostgresVersion: "17.2", PostgresSettings: map[string]string{"work_mem": "4096kB"}},
		Dataset:  Dataset{Graduates: 1_000_000, OpenCases: 600_000, Users: map[string]int{"counselor": 5000}},
		HTTP: []Cell{{Endpoint: "caseload", Concurrency: 16,
			Server: Summarize(msList(1, 2, 3), time.Second, map[string]int{"500": 1}, []string{"500: x"}, 99),
			Floor:  Summarize(msList(1, 1), time.Second, nil, nil, 50), Ratio: 1.5}},
		RSS: RSS{Server: Memory{PeakBytes: 200 << 20, EndBytes: 120 << 20, SampledMaxBytes: 190 << 20}},
		Jobs: &Jobs{
			Sweep:     SweepResult{OpenCases: 600_000, Seconds: 12.5, Raised: map[string]int{"no_contact": 3}},
			Followups: FollowupResult{Contacts: 100_000, Cases: 78_000, Seconds: 40, PerSecond: 2500},
			Report:    ReportResult{Graduates: 1_000_000, Runs: []float64{1.2, 1.1, 1.3}, MinSeconds: 1.1, MedianSeconds: 1.2},
		},
		GoBenchmarks: []GoBenchmark{{Package: "github.com/bangfu/bangfu/internal/ledger", Name: "BenchmarkHash-2", Iterations: 100, Metrics: map[string]float64{"ns/op": 12.5}}},
	}
	path := filepath.Join(t.TempDir(), "results", "2026-11-27.json")
	require.NoError(t, r.WriteFile(path))
	got, err := ReadFile(path)
	require.NoError(t, err)
	require.Equal(t, r, got)
	require.Equal(t, 1, got.TotalErrors())

	var out strings.Builder
	got.PrintSummary(&out)
	require.Contains(t, out.String(), "caseload")
	require.Contains(t, out.String(), "500: x", "errors are shown, not hidden")
	require.Contains(t, out.String(), "1 requests failed")

	r.Version = ResultVersion + 1
	require.NoError(t, r.WriteFile(path))
	_, err = ReadFile(path)
	require.ErrorContains(t, err, "result version")
}

func TestParseGoBench(t *testing.T) {
	t.Parallel()
	out := `goos: linux
goarch: amd64
pkg: github.com/bangfu/bangfu/internal/ledger
cpu: AMD EPYC
BenchmarkComputeHash-2   	  456789	      2615 ns/op	     928 B/op	      11 allocs/op
BenchmarkAppend/parallel-2         	    1000	   1234567 ns/op	       812.5 appends/s
PASS
ok  	github.com/bangfu/bangfu/internal/ledger	3.1s
pkg: github.com/bangfu/bangfu/internal/report
BenchmarkSummary-2	10	105000000 ns/op
--- FAIL: BenchmarkBroken
BenchmarkOdd-2 notanumber 1 ns/op
`
	got, err := ParseGoBench(strings.NewReader(out))
	require.NoError(t, err)
	require.Equal(t, []GoBenchmark{
		{Package: "github.com/bangfu/bangfu/internal/ledger", Name: "BenchmarkComputeHash-2", Iterations: 456789,
			Metrics: map[string]float64{"ns/op": 2615, "B/op": 928, "allocs/op": 11}},
		{Package: "github.com/bangfu/bangfu/internal/ledger", Name: "BenchmarkAppend/parallel-2", Iterations: 1000,
			Metrics: map[string]float64{"ns/op": 1234567, "appends/s": 812.5}},
		{Package: "github.com/bangfu/bangfu/internal/report", Name: "BenchmarkSummary-2", Iterations: 10,
			Metrics: map[string]float64{"ns/op": 105000000}},
	}, got)
}
