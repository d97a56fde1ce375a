package loadtest

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"text/tabwriter"
	"time"
)

// ResultVersion changes when the shape of Result changes incompatibly.
const ResultVersion = 1

// Result is everything one `make bench` measured, as written to
// bench/results/<date>.json so that runs can be compared.
type Result struct {
	Version    int       `json:"version"`
	StartedAt  time.Time `json:"started_at"`
	FinishedAt time.Time `json:"finished_at"`
	Settings   Settings  `json:"settings"`
	Machine    Machine   `json:"machine"`
	Dataset    Dataset   `json:"dataset"`
	// HTTP holds one cell per endpoint × concurrency, in the order run.
	HTTP []Cell `json:"http"`
	RSS  RSS    `json:"rss"`
	Jobs *Jobs  `json:"jobs,omitempty"`
	// FloorBuildSeconds is how long building or refreshing the floor's
	// tables took (0: they were current).
	FloorBuildSeconds float64 `json:"floor_build_seconds,omitempty"`
	// SeedSeconds is how long seeding took, when this run seeded.
	SeedSeconds float64 `json:"seed_seconds,omitempty"`
	// Targets are the targets of issue 14, met or missed by this run.
	Targets []TargetResult `json:"targets,omitempty"`
	// GoBenchmarks are the `go test -bench` results of the same run.
	GoBenchmarks []GoBenchmark `json:"go_benchmarks,omitempty"`
}

// Settings are the knobs of a run.
type Settings struct {
	DurationSeconds float64  `json:"duration_seconds"`
	WarmupSeconds   float64  `json:"warmup_seconds"`
	Concurrency     []int    `json:"concurrency"`
	Endpoints       []string `json:"endpoints"`
	Counselors      int      `json:"counselors"`
	Supervisors     int      `json:"supervisors"`
	Pairs           int      `json:"pairs"`
	Seed            uint64   `json:"seed"`
	DBMaxConns      int32    `json:"db_max_conns"`
	// CaseloadPath is the request the caseload endpoint sent.
	CaseloadPath string `json:"caseload_path,omitempty"`
	Followups    int    `json:"followups"`
}

// Machine describes where the run happened.
type Machine struct {
	Hostname          string            `json:"hostname"`
	OS                string            `json:"os"`
	Kernel            string            `json:"kernel,omitempty"`
	CPU               string            `json:"cpu,omitempty"`
	Cores             int               `json:"cores"`
	MemoryBytes       int64             `json:"memory_bytes"`
	GoVersion         string            `json:"go_version"`
	PostgresVersion   string            `json:"postgres_version"`
	PostgresSettings  map[string]string `json:"postgres_settings,omitempty"`
	DatabaseSizeBytes int64             `json:"database_size_bytes"`
}

// Dataset counts what the bench database holds.
type Dataset struct {
	Schools       int            `json:"schools"`
	Departments   int            `json:"departments"`
	Users         map[string]int `json:"users"`
	Graduates     int            `json:"graduates"`
	OpenCases     int            `json:"open_cases"`
	Hardships     int            `json:"hardships"`
	LedgerEntries int            `json:"ledger_entries"`
	Escalations   int            `json:"escalations"`
	// OpenEscalations are escalations not yet resolved.
	OpenEscalations int `json:"open_escalations"`
}

// Cell is one endpoint at one concurrency against the server and the floor.
type Cell struct {
	Endpoint    string `json:"endpoint"`
	Concurrency int    `json:"concurrency"`
	Server      Stats  `json:"server"`
	Floor       Stats  `json:"floor"`
	// Ratio is the server's throughput over the floor's: how much of what
	// the same SQL on a bare net/http server achieves the product keeps.
	Ratio float64 `json:"ratio"`
}

// Memory is a process's memory use in bytes.
type Memory struct {
	// PeakBytes is VmHWM (peak resident set) at the end of the run.
	PeakBytes int64 `json:"peak_bytes"`
	// EndBytes is VmRSS at the end of the run.
	EndBytes int64 `json:"end_bytes"`
	// SampledMaxBytes is the largest VmRSS seen while sampling.
	SampledMaxBytes int64 `json:"sampled_max_bytes"`
}

// RSS is the memory of the two server processes.
type RSS struct {
	Server Memory `json:"server"`
	Floor  Memory `json:"floor"`
}

// Jobs are the in-process job benchmarks.
type Jobs struct {
	Sweep     SweepResult    `json:"sweep"`
	Followups FollowupResult `json:"followups"`
	Report    ReportResult   `json:"report"`
}

// SweepResult is one stall sweep over every open case, rolled back.
type SweepResult struct {
	OpenCases int            `json:"open_cases"`
	Seconds   float64        `json:"seconds"`
	Raised    map[string]int `json:"raised"`
	Cleared   int            `json:"cleared"`
	Notified  int            `json:"notified"`
	// MadeQuiet and Closed are the work set up before the sweep (in the
	// same rolled-back transaction): open cases whose last contact was
	// moved 100 days back, and flagged cases closed.
	MadeQuiet int `json:"made_quiet"`
	Closed    int `json:"closed"`
}

// FollowupResult is scheduling the follow-up of many contacts in one
// transaction, rolled back. Contacts go to Cases distinct open cases,
// round robin when there are fewer open cases than contacts.
type FollowupResult struct {
	Contacts  int     `json:"contacts"`
	Cases     int     `json:"cases"`
	Seconds   float64 `json:"seconds"`
	PerSecond float64 `json:"per_second"`
}

// ReportResult is the province-wide report, counted several times without
// the cache: the whole summary (Runs), and 去向落实率 per school and overall
// alone (RateRuns).
type ReportResult struct {
	Graduates         int       `json:"graduates"`
	Runs              []float64 `json:"runs_seconds"`
	MinSeconds        float64   `json:"min_seconds"`
	MedianSeconds     float64   `json:"median_seconds"`
	RateRuns          []float64 `json:"rate_runs_seconds"`
	RateMedianSeconds float64   `json:"rate_median_seconds"`
}

// GoBenchmark is one line of `go test -bench` output.
type GoBenchmark struct {
	Package    string             `json:"package"`
	Name       string             `json:"name"`
	Iterations int64              `json:"iterations"`
	Metrics    map[string]float64 `json:"metrics"`
}

// WriteFile writes r as indented JSON to path, through a temporary file so
// that a crash never leaves half a result behind.
func (r *Result) WriteFile(path string) error {
	b, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, append(b, '\n'), 0o644); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}

// ReadFile reads a result written by WriteFile.
func ReadFile(path string) (*Result, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var r Result
	if err := json.Unmarshal(b, &r); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if r.Version != ResultVersion {
		return nil, fmt.Errorf("%s: result version %d, want %d", path, r.Version, ResultVersion)
	}
	return &r, nil
}

// TotalErrors counts the failed requests of every cell, server and floor.
func (r *Result) TotalErrors() int {
	n := 0
	for _, c := range r.HTTP {
		n += c.Server.Errors + c.Floor.Errors
	}
	return n
}

// PrintHTTP writes the table of HTTP cells.
func PrintHTTP(w io.Writer, cells []Cell) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "endpoint\tconc\trequests\treq/s\tp50 ms\tp95 ms\tp99 ms\terrors\tfloor req/s\tfloor p95\tfloor err\tratio\ttarget\tmet\t")
	for _, c := range cells {
		target, met := cellTarget(c)
		fmt.Fprintf(tw, "%s\t%d\t%d\t%.1f\t%.2f\t%.2f\t%.2f\t%d\t%.1f\t%.2f\t%d\t%.2f\t%s\t%s\t\n",
			c.Endpoint, c.Concurrency, c.Server.Requests, c.Server.Throughput, c.Server.P50Ms, c.Server.P95Ms, c.Server.P99Ms,
			c.Server.Errors, c.Floor.Throughput, c.Floor.P95Ms, c.Floor.Errors, c.Ratio, target, met)
	}
	tw.Flush()
	for _, c := range cells {
		for _, side := range []struct {
			name string
			s    Stats
		}{{"server", c.Server}, {"floor", c.Floor}} {
			if side.s.Errors == 0 {
				continue
			}
			fmt.Fprintf(w, "  ! %s c=%d %s: %d errors %v\n", c.Endpoint, c.Concurrency, side.name, side.s.Errors, side.s.ErrorsByStatus)
			for _, s := range side.s.ErrorSamples {
				fmt.Fprintf(w, "      %s\n", oneLine(s, 200))
			}
		}
	}
}

// cellTargets are the latency targets (p95 ms at TargetConcurrency) and
// the least ratio to the floor, by endpoint.
var cellTargets = map[string]struct{ p95, ratio float64 }{
	"caseload": {15, 0.6}, "append": {30, 0.5}, "ledger": {20, 0}, "review": {40, 0}, "escalations": {25, 0},
}

// cellTarget returns the target of c, and "met" or "MISSED" ("" when c has
// none).
func cellTarget(c Cell) (string, string) {
	t, ok := cellTargets[c.Endpoint]
	if !ok || c.Concurrency != TargetConcurrency {
		return "", ""
	}
	target := fmt.Sprintf("p95<%gms", t.p95)
	met := c.Server.P95Ms < t.p95 && c.Server.Errors == 0
	if t.ratio > 0 {
		target += fmt.Sprintf(" ≥%.1f×", t.ratio)
		met = met && c.Ratio >= t.ratio
	}
	if met {
		return target, "met"
	}
	return target, "MISSED"
}

// PrintSummary writes the whole result for people: HTTP table, memory and
// jobs.
func (r *Result) PrintSummary(w io.Writer) {
	fmt.Fprintf(w, "\nMachine: %d cores, %s RAM, %s; %s; PostgreSQL %s\n", r.Machine.Cores, mib(r.Machine.MemoryBytes),
		r.Machine.CPU, r.Machine.GoVersion, r.Machine.PostgresVersion)
	d := r.Dataset
	fmt.Fprintf(w, "Dataset: %d graduates (%d open cases), %d schools, %d users %v, %d ledger entries, %d hardships, %d escalations (%d open); database %s\n",
		d.Graduates, d.OpenCases, d.Schools, sum(d.Users), d.Users, d.LedgerEntries, d.Hardships, d.Escalations, d.OpenEscalations, mib(r.Machine.DatabaseSizeBytes))
	fmt.Fprintf(w, "Load: %gs per cell after %gs warm-up; %d counselors, %d supervisors, %d counselor→graduate pairs; pool %d connections each\n\n",
		r.Settings.DurationSeconds, r.Settings.WarmupSeconds, r.Settings.Counselors, r.Settings.Supervisors, r.Settings.Pairs, r.Settings.DBMaxConns)
	if r.Settings.CaseloadPath != "" {
		fmt.Fprintf(w, "Caseload request: GET %s. The report rows are uncached; report-cached is the cached path (a second server). ", r.Settings.CaseloadPath)
	}
	if r.FloorBuildSeconds > 0 {
		fmt.Fprintf(w, "Floor tables built or refreshed in %.0fs.", r.FloorBuildSeconds)
	}
	fmt.Fprintln(w)
	PrintHTTP(w, r.HTTP)
	fmt.Fprintf(w, "\nServer memory: peak RSS (VmHWM) %s, RSS at end %s (largest sampled %s)\n",
		mib(r.RSS.Server.PeakBytes), mib(r.RSS.Server.EndBytes), mib(r.RSS.Server.SampledMaxBytes))
	fmt.Fprintf(w, "Floor memory:  peak RSS (VmHWM) %s, RSS at end %s\n", mib(r.RSS.Floor.PeakBytes), mib(r.RSS.Floor.EndBytes))
	if j := r.Jobs; j != nil {
		fmt.Fprintf(w, "\nJobs (in-process, rolled back):\n")
		fmt.Fprintf(w, "  stall sweep over %d open cases: %.2fs (raised %v, cleared %d, notified %d; set up: %d cases made quiet, %d flagged cases closed)\n",
			j.Sweep.OpenCases, j.Sweep.Seconds, j.Sweep.Raised, j.Sweep.Cleared, j.Sweep.Notified, j.Sweep.MadeQuiet, j.Sweep.Closed)
		fmt.Fprintf(w, "  follow-up scheduling of %d contacts (%d open cases) in one transaction: %.2fs (%.0f/s)\n",
			j.Followups.Contacts, j.Followups.Cases, j.Followups.Seconds, j.Followups.PerSecond)
		fmt.Fprintf(w, "  province 去向落实率, per school and overall (%d graduates): median %.3fs over %d runs %v\n",
			j.Report.Graduates, j.Report.RateMedianSeconds, len(j.Report.RateRuns), j.Report.RateRuns)
		fmt.Fprintf(w, "  province report summary, uncached (adds categories, process, escalations): min %.3fs, median %.3fs over %d runs %v\n",
			j.Report.MinSeconds, j.Report.MedianSeconds, len(j.Report.Runs), j.Report.Runs)
	}
	if len(r.Targets) > 0 {
		fmt.Fprintf(w, "\nTargets (latency at c=%d; the ratio is the server's req/s over its floor's):\n", TargetConcurrency)
		PrintTargets(w, r.Targets)
	}
	if n := r.TotalErrors(); n > 0 {
		fmt.Fprintf(w, "\n!! %d requests failed (see the ! lines above and errors_by_status in the JSON)\n", n)
	}
}

func mib(b int64) string { return fmt.Sprintf("%.1f MiB", float64(b)/(1<<20)) }

func sum(m map[string]int) int {
	n := 0
	for _, v := range m {
		n += v
	}
	return n
}

func oneLine(s string, max int) string {
	s = strings.Join(strings.Fields(s), " ")
	if len(s) > max {
		s = s[:max] + "…"
	}
	return s
}
