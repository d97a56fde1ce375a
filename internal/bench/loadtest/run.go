// Package loadtest measures bangfu at province scale on one machine: it
// starts the real server (`bangfu serve --no-workers`) and a floor server
// (the same SQL on bare net/http, see Floor) as child processes, drives
// the main endpoints at several concurrencies against both, samples the
// server's memory, times the background jobs in-process, and writes the
// figures as JSON (bench/results/<date>.json) for later runs to compare.
// It is bench tooling, run by `bangfu-bench run`; nothing in the service
// imports it (docs/decisions/0002-bench-tooling-outside-the-service.md).
package loadtest

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/bangfu/bangfu"
	"github.com/bangfu/bangfu/internal/app"
	"github.com/bangfu/bangfu/internal/config"
	"github.com/bangfu/bangfu/internal/postgres"
)

// Options configure Run.
type Options struct {
	DatabaseURL string
	// Bangfu is the bangfu binary to serve; Self is this program, which
	// serves the floor with the `floor` command.
	Bangfu, Self string
	Duration     time.Duration
	Warmup       time.Duration
	Concurrency  []int
	// Endpoints limits the run to these endpoints (all when empty).
	Endpoints []string
	Sizes     SampleSizes
	// Password is every sampled user's password.
	Password string
	// Jobs runs the job benchmarks; Followups and ReportRuns size them.
	Jobs       bool
	Followups  int
	ReportRuns int
	// Out is the JSON file to write.
	Out string
	// GoBench, when set, is a file of `go test -bench` output to include.
	GoBench string
	// Stdout gets the results; Stderr progress.
	Stdout, Stderr io.Writer
	// RebuildFloor rebuilds the floor's tables even when they are current.
	RebuildFloor bool
	// SeedSeconds, when positive, is how long seeding the bench database
	// took in this run (scripts/bench.sh seeds an empty one).
	SeedSeconds float64
}

// tokenMaxAge is how old a token may be before a cell starts; access
// tokens live 15 minutes, and no cell lasts 5.
const tokenMaxAge = 10 * time.Minute

// Run measures, prints and writes a Result. It returns the result even
// when requests failed; the caller decides what errors mean.
func Run(ctx context.Context, o Options) (*Result, error) {
	res := &Result{Version: ResultVersion, StartedAt: time.Now().UTC().Truncate(time.Second)}
	progress := func(format string, args ...any) { fmt.Fprintf(o.Stderr, format+"\n", args...) }
	endpoints := Endpoints()
	if len(o.Endpoints) > 0 {
		endpoints = slices.DeleteFunc(endpoints, func(e Endpoint) bool { return !slices.Contains(o.Endpoints, e.Name) })
		if len(endpoints) != len(o.Endpoints) {
			return nil, fmt.Errorf("unknown endpoint in %v; the endpoints are %v", o.Endpoints, EndpointNames())
		}
	}

	// The server's configuration; the floor and the jobs use the same.
	serverAddr, err := FreeAddr()
	if err != nil {
		return nil, err
	}
	// The report is measured uncached (each request counts): the cached
	// path is measured on a second server (ReportCached).
	env := []string{"DATABASE_URL=" + o.DatabaseURL, "BANGFU_ADDR=" + serverAddr, "BANGFU_ENV=dev", "BANGFU_LOG_LEVEL=warn",
		"BANGFU_REPORT_CACHE=false"}
	cfg, err := config.Load(overlay(env))
	if err != nil {
		return nil, err
	}
	res.Settings = Settings{DurationSeconds: o.Duration.Seconds(), WarmupSeconds: o.Warmup.Seconds(), Concurrency: o.Concurrency,
		Counselors: o.Sizes.Counselors, Supervisors: o.Sizes.Supervisors, Seed: o.Sizes.Seed, DBMaxConns: cfg.DBMaxConns}
	for _, e := range endpoints {
		res.Settings.Endpoints = append(res.Settings.Endpoints, e.Name)
	}
	if o.Jobs {
		res.Settings.Followups = o.Followups
	}

	db, err := postgres.Open(ctx, o.DatabaseURL, 4)
	if err != nil {
		return nil, err
	}
	defer db.Close()
	progress("Counting the dataset…")
	if res.Machine, err = DescribeMachine(ctx, db.Pool); err != nil {
		return nil, fmt.Errorf("describe machine: %w", err)
	}
	if res.Dataset, err = CountDataset(ctx, db.Pool); err != nil {
		return nil, fmt.Errorf("count dataset: %w", err)
	}
	sample, err := Discover(ctx, db.Pool, o.Sizes)
	if err != nil {
		return nil, err
	}
	res.Settings.Counselors, res.Settings.Supervisors, res.Settings.Pairs = len(sample.Counselors), len(sample.Supervisors), len(sample.Pairs)
	progress("  %d graduates (%d open cases); acting as %d counselors (%d of their graduates) and %d supervisors",
		res.Dataset.Graduates, res.Dataset.OpenCases, len(sample.Counselors), len(sample.Pairs), len(sample.Supervisors))

	res.SeedSeconds = o.SeedSeconds
	if len(endpoints) > 0 && len(o.Concurrency) > 0 {
		progress("The floor's tables…")
		start := time.Now()
		built, err := BuildFloor(ctx, db, bangfu.Today(bangfu.SystemClock{}), o.RebuildFloor, o.Stderr)
		if err != nil {
			return nil, fmt.Errorf("build the floor: %w", err)
		}
		if built {
			res.FloorBuildSeconds = roundTo(time.Since(start).Seconds(), 1)
		}
		if err := runHTTP(ctx, o, res, env, cfg, sample, endpoints, progress); err != nil {
			return res, err
		}
	}

	if o.Jobs {
		progress("\nJob benchmarks (in-process, rolled back)…")
		log := slog.New(slog.NewTextHandler(o.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
		a, err := app.New(ctx, cfg, log, app.Options{})
		if err != nil {
			return res, err
		}
		province := bangfu.Actor{Role: bangfu.RoleProvince}
		if sample.Province != nil {
			province = sample.Province.Actor
		}
		res.Jobs, err = RunJobs(ctx, a, JobOptions{Followups: o.Followups, ReportRuns: o.ReportRuns, Province: province, Progress: o.Stderr})
		a.Close()
		if err != nil {
			return res, err
		}
	}

	if o.GoBench != "" {
		f, err := os.Open(o.GoBench)
		if err != nil {
			return res, err
		}
		res.GoBenchmarks, err = ParseGoBench(f)
		f.Close()
		if err != nil {
			return res, err
		}
	}
	res.Targets = res.EvaluateTargets()
	res.FinishedAt = time.Now().UTC().Truncate(time.Second)
	if o.Out != "" {
		if err := res.WriteFile(o.Out); err != nil {
			return res, err
		}
	}
	res.PrintSummary(o.Stdout)
	if o.Out != "" {
		fmt.Fprintf(o.Stdout, "\nWritten to %s\n", o.Out)
	}
	return res, nil
}

func runHTTP(ctx context.Context, o Options, res *Result, env []string, cfg *config.Config, sample *Sample,
	endpoints []Endpoint, progress func(string, ...any)) (err error) {
	logDir, err := os.MkdirTemp("", "bangfu-bench-")
	if err != nil {
		return err
	}
	serverLog, err := os.Create(filepath.Join(logDir, "server.log"))
	if err != nil {
		return err
	}
	defer serverLog.Close()
	floorLog, err := os.Create(filepath.Join(logDir, "floor.log"))
	if err != nil {
		return err
	}
	defer floorLog.Close()

	progress("\nStarting the server (%s serve --no-workers) and the floor; logs in %s", o.Bangfu, logDir)
	server, err := Start("server", cfg.Addr, serverLog, env, o.Bangfu, "serve", "--no-workers")
	if err != nil {
		return err
	}
	defer func() {
		if e := server.Stop(30 * time.Second); e != nil && !isSignalExit(e) {
			err = errors.Join(err, fmt.Errorf("server: %w", e))
		}
		reportLog(o.Stdout, "server", serverLog.Name())
	}()
	floorAddr, err := FreeAddr()
	if err != nil {
		return err
	}
	floor, err := Start("floor", floorAddr, floorLog, nil, o.Self, "floor", "--addr", floorAddr, "--db", o.DatabaseURL,
		"--max-conns", strconv.Itoa(int(cfg.DBMaxConns)))
	if err != nil {
		return err
	}
	defer func() {
		if e := floor.Stop(30 * time.Second); e != nil && !isSignalExit(e) {
			err = errors.Join(err, fmt.Errorf("floor: %w", e))
		}
		reportLog(o.Stdout, "floor", floorLog.Name())
	}()
	if err := server.WaitReady(ctx, 60*time.Second); err != nil {
		return err
	}
	if err := floor.WaitReady(ctx, 60*time.Second); err != nil {
		return err
	}
	sampleCtx, stopSampling := context.WithCancel(ctx)
	defer stopSampling()
	go server.SampleEvery(sampleCtx, 250*time.Millisecond)
	go floor.SampleEvery(sampleCtx, 250*time.Millisecond)

	maxConc := slices.Max(o.Concurrency)
	serverT := NewTarget("server", server.Base, false, maxConc)
	floorT := NewTarget("floor", floor.Base, true, maxConc)
	tokens := serverT.UseTokens(o.Password)
	users := sample.users()
	progress("Logging in %d users…", len(users))
	if err := tokens.LoginAll(ctx, users, tokenMaxAge, 4); err != nil {
		return fmt.Errorf("log in (is BENCH_PASSWORD right?): %w", err)
	}
	if sample.UrgencyByDefault, err = DetectCaseloadDefault(ctx, serverT, sample.Counselors[0]); err != nil {
		return err
	}
	res.Settings.CaseloadPath = sample.caseloadPath()
	progress("The caseload is measured as %s", res.Settings.CaseloadPath)

	cells := len(endpoints) * len(o.Concurrency)
	progress("Measuring %d endpoints × %v concurrency × (server, floor), %s each after %s warm-up (about %s)…\n",
		len(endpoints), o.Concurrency, o.Duration, o.Warmup, time.Duration(cells*2)*(o.Duration+o.Warmup))
	var cached *Process
	defer func() {
		if cached != nil {
			_ = cached.Stop(30 * time.Second)
		}
	}()
	for _, ep := range endpoints {
		target := serverT
		if ep.Name == ReportCached {
			if cached, err = startCachedServer(ctx, o, env, logDir); err != nil {
				return err
			}
			target = NewTarget("server (report cache on)", cached.Base, false, maxConc)
			target.tokens = serverT.tokens
		}
		for _, c := range o.Concurrency {
			if err := tokens.LoginAll(ctx, users, tokenMaxAge, 4); err != nil {
				return fmt.Errorf("renew tokens: %w", err)
			}
			seed := o.Sizes.Seed*1000 + uint64(c)
			cell := Cell{Endpoint: ep.Name, Concurrency: c}
			// Both warm up before either is measured, so that neither finds
			// the database's caches colder than the other did.
			onServer := &Load{Target: target, Endpoint: ep, Sample: sample, Password: o.Password, Concurrency: c, Seed: seed}
			onFloor := &Load{Target: floorT, Endpoint: ep, Sample: sample, Password: o.Password, Concurrency: c, Seed: seed}
			if ep.Name == ReportCached {
				// The cached path: every supervisor's summary counted once
				// (cached for report.CacheTTL, longer than a cell) before
				// the warm-up.
				for _, u := range sample.Supervisors {
					if out := target.do(ctx, request{method: http.MethodGet, path: "/api/v1/reports/summary", as: u}); out.err != nil || out.status != http.StatusOK {
						return fmt.Errorf("prime the report cache as %s: %d %v %s", u.Username, out.status, out.err, out.body)
					}
				}
			}
			onServer.Warm(ctx, o.Warmup)
			onFloor.Warm(ctx, o.Warmup)
			cell.Server = onServer.Measure(ctx, o.Duration)
			cell.Floor = onFloor.Measure(ctx, o.Duration)
			if ctx.Err() != nil {
				return ctx.Err()
			}
			if server.Exited() {
				return fmt.Errorf("the server stopped during %s c=%d; see %s", ep.Name, c, serverLog.Name())
			}
			if floor.Exited() {
				return fmt.Errorf("the floor stopped during %s c=%d; see %s", ep.Name, c, floorLog.Name())
			}
			if cell.Floor.Throughput > 0 {
				cell.Ratio = roundTo(cell.Server.Throughput/cell.Floor.Throughput, 3)
			}
			res.HTTP = append(res.HTTP, cell)
			progress("  %-11s c=%-3d server %8.1f req/s  p95 %8.2f ms  errors %d | floor %8.1f req/s  p95 %8.2f ms  errors %d | ratio %.2f",
				ep.Name, c, cell.Server.Throughput, cell.Server.P95Ms, cell.Server.Errors,
				cell.Floor.Throughput, cell.Floor.P95Ms, cell.Floor.Errors, cell.Ratio)
		}
	}
	stopSampling()
	res.RSS = RSS{Server: server.Memory(), Floor: floor.Memory()}
	return nil
}

// startCachedServer starts a second server, with the report cache on, for
// ReportCached.
func startCachedServer(ctx context.Context, o Options, env []string, logDir string) (*Process, error) {
	addr, err := FreeAddr()
	if err != nil {
		return nil, err
	}
	log, err := os.Create(filepath.Join(logDir, "server-cached.log"))
	if err != nil {
		return nil, err
	}
	env = append(slices.Clone(env), "BANGFU_ADDR="+addr, "BANGFU_REPORT_CACHE=true")
	p, err := Start("server (report cache on)", addr, log, env, o.Bangfu, "serve", "--no-workers")
	if err != nil {
		log.Close()
		return nil, err
	}
	go func() {
		<-p.done
		log.Close()
	}()
	return p, p.WaitReady(ctx, 60*time.Second)
}

// isSignalExit reports whether err is the exit of a process stopped by
// our SIGTERM (a graceful stop that exits non-zero is still a stop).
func isSignalExit(err error) bool {
	return err != nil && strings.Contains(err.Error(), "signal: terminated")
}

// reportLog prints what a child process logged (it logs at warn level, so
// a clean run logs next to nothing).
func reportLog(w io.Writer, name, path string) {
	f, err := os.Open(path)
	if err != nil {
		return
	}
	defer f.Close()
	var lines []string
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 0, 64*1024), 1024*1024)
	for sc.Scan() {
		line := sc.Text()
		if strings.Contains(line, "built-in development keys") {
			continue // expected: the synthetic data is sealed with the dev key
		}
		lines = append(lines, line)
	}
	if len(lines) == 0 {
		return
	}
	fmt.Fprintf(w, "\nThe %s logged %d lines (%s); the last ones:\n", name, len(lines), path)
	for _, l := range lines[max(0, len(lines)-10):] {
		fmt.Fprintf(w, "  %s\n", oneLine(l, 300))
	}
}

// overlay returns a lookup of env ("K=V" entries) over the process's
// environment.
func overlay(env []string) config.Lookup {
	m := map[string]string{}
	for _, kv := range env {
		k, v, _ := strings.Cut(kv, "=")
		m[k] = v
	}
	return func(k string) (string, bool) {
		if v, ok := m[k]; ok {
			return v, true
		}
		return os.LookupEnv(k)
	}
}
