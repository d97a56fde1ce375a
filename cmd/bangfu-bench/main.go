// Command bangfu-bench measures bangfu at province scale on one machine;
// `make bench` (scripts/bench.sh) builds and runs it. It holds the bench
// tooling the production binary does not carry (docs/decisions/0002): the
// data generator (internal/bench/synthetic) and the load run
// (internal/bench/loadtest).
//
//	bangfu-bench seed --db URL [flags]  load a synthetic province into an empty, migrated database
//	bangfu-bench run --db URL [flags]   load the server and the floor, time the jobs, write JSON
//	bangfu-bench floor --addr A --db URL  serve the floor (started by run)
//	bangfu-bench graduates --db URL     print how many graduates the database holds
//	bangfu-bench vacuum --db URL        VACUUM ANALYZE: settle the database before measuring
//	bangfu-bench explain --db URL       EXPLAIN ANALYZE the key queries (for docs/performance.md)
//	bangfu-bench partition --db URL     the ledger partitioned by graduation year against one table (docs/scaling.md)
//	bangfu-bench floors [--sql] [--build --db URL]  print the floor's SQL; build its tables
//
// Flags default to BENCH_* environment variables (see `bangfu-bench run --help`).
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/bangfu/bangfu/internal/bench/loadtest"
	"github.com/bangfu/bangfu/internal/config"
	"github.com/bangfu/bangfu/internal/postgres"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:]); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			os.Exit(0)
		}
		var ee exitError
		if errors.As(err, &ee) {
			fmt.Fprintln(os.Stderr, "bangfu-bench:", ee.msg)
			os.Exit(ee.code)
		}
		fmt.Fprintln(os.Stderr, "bangfu-bench:", err)
		os.Exit(1)
	}
}

type exitError struct {
	code int
	msg  string
}

func (e exitError) Error() string { return e.msg }

func usage() {
	fmt.Fprintln(os.Stderr, `bangfu-bench — province-scale figures for bangfu (make bench).

Usage:
  bangfu-bench seed --db URL [flags]     load a synthetic province into an empty, migrated database
  bangfu-bench run --db URL [flags]      measure the server against the floor, time the jobs, write JSON
  bangfu-bench floor --addr A --db URL   serve the floor: narrow tables, hand-written SQL, bare net/http (started by run)
  bangfu-bench graduates --db URL        print how many graduates the database holds
  bangfu-bench explain --db URL          print EXPLAIN ANALYZE of the key queries
  bangfu-bench floors [--sql] [--build --db URL]  print the floor's SQL (Markdown); (re)build its tables
  bangfu-bench vacuum --db URL           VACUUM ANALYZE: settle the database before measuring
  bangfu-bench partition --db URL        the ledger partitioned by graduation year against one table, in a scratch schema`)
}

func run(ctx context.Context, args []string) error {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		usage()
		if len(args) == 0 {
			return errors.New("no command given")
		}
		return flag.ErrHelp
	}
	switch args[0] {
	case "seed":
		return seed(ctx, args[1:], os.LookupEnv, os.Stdout, os.Stderr)
	case "run":
		return runLoad(ctx, args[1:])
	case "floor":
		return floor(ctx, args[1:])
	case "graduates":
		return graduates(ctx, args[1:])
	case "vacuum":
		return vacuum(ctx, args[1:])
	case "explain":
		return explain(ctx, args[1:])
	case "partition":
		return partitionCmd(ctx, args[1:])
	case "floors":
		return floors(ctx, args[1:])
	}
	usage()
	return fmt.Errorf("unknown command %q", args[0])
}

func env(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}

// defaultDB is BENCH_DATABASE_URL, else DATABASE_URL.
func defaultDB() string { return dbFrom(os.LookupEnv) }

// dbFrom is BENCH_DATABASE_URL, else DATABASE_URL, as lookup finds them.
func dbFrom(lookup config.Lookup) string {
	if v, _ := lookup("BENCH_DATABASE_URL"); v != "" {
		return v
	}
	v, _ := lookup("DATABASE_URL")
	return v
}

func runLoad(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("bangfu-bench run", flag.ContinueOnError)
	db := fs.String("db", defaultDB(), "bench database URL (BENCH_DATABASE_URL, else DATABASE_URL); it must hold a dataset")
	bin := fs.String("bangfu", env("BENCH_BANGFU", "bin/bangfu"), "the bangfu binary to serve (BENCH_BANGFU)")
	duration := fs.String("duration", env("BENCH_DURATION", "10s"), "measured time per endpoint × concurrency × target (BENCH_DURATION; 10s or 10)")
	warmup := fs.String("warmup", env("BENCH_WARMUP", "2s"), "unmeasured warm-up before each measurement (BENCH_WARMUP)")
	conc := fs.String("concurrency", env("BENCH_CONCURRENCY", "1,16"), "concurrent clients, comma-separated (BENCH_CONCURRENCY; add 64 for the saturated figures)")
	endpoints := fs.String("endpoints", env("BENCH_ENDPOINTS", ""), "only these endpoints, comma-separated, of "+strings.Join(loadtest.EndpointNames(), ",")+" (BENCH_ENDPOINTS; empty: all; none: skip the HTTP load)")
	counselors := fs.Int("counselors", envInt("BENCH_COUNSELORS", 200), "counselors to act as (BENCH_COUNSELORS)")
	perCounselor := fs.Int("graduates-per-counselor", envInt("BENCH_GRADUATES_PER_COUNSELOR", 20), "open cases of each counselor to act on")
	supervisors := fs.Int("supervisors", envInt("BENCH_SUPERVISORS", 50), "supervisors to act as (BENCH_SUPERVISORS)")
	seed := fs.Uint64("seed", uint64(envInt("BENCH_SEED", 1)), "chooses the users, graduates and request order (BENCH_SEED)")
	password := fs.String("password", env("BENCH_PASSWORD", defaultPassword), "the sampled users' password (BENCH_PASSWORD)")
	jobs := fs.Bool("jobs", env("BENCH_JOBS", "1") != "0", "run the job benchmarks (BENCH_JOBS=0 skips them)")
	followups := fs.Int("followups", envInt("BENCH_FOLLOWUPS", 100000), "contacts whose follow-up the job benchmark schedules (BENCH_FOLLOWUPS)")
	reportRuns := fs.Int("report-runs", envInt("BENCH_REPORT_RUNS", 3), "runs of the province report (BENCH_REPORT_RUNS)")
	out := fs.String("out", env("BENCH_OUT", filepath.Join("bench", "results", time.Now().Format(time.DateOnly)+".json")), "JSON result file (BENCH_OUT)")
	gobench := fs.String("gobench", "", "a file of `go test -bench` output to include in the JSON")
	rebuildFloor := fs.Bool("rebuild-floor", env("BENCH_REBUILD_FLOOR", "") == "1", "rebuild the floor's tables even when current (BENCH_REBUILD_FLOOR=1)")
	seedSeconds := fs.Float64("seed-seconds", 0, "how long seeding took in this run, for the targets (scripts/bench.sh passes it)")
	allowErrors := fs.Bool("allow-errors", env("BENCH_ALLOW_ERRORS", "") == "1", "exit 0 even when requests failed (BENCH_ALLOW_ERRORS=1)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *db == "" {
		return errors.New("--db (or BENCH_DATABASE_URL) is required")
	}
	o := loadtest.Options{
		DatabaseURL: *db, Bangfu: *bin, Password: *password,
		Sizes: loadtest.SampleSizes{Counselors: *counselors, Supervisors: *supervisors, PerCounselor: *perCounselor, Seed: *seed},
		Jobs:  *jobs, Followups: *followups, ReportRuns: *reportRuns,
		Out: *out, GoBench: *gobench, Stdout: os.Stdout, Stderr: os.Stderr, RebuildFloor: *rebuildFloor, SeedSeconds: *seedSeconds,
	}
	var err error
	if o.Duration, err = parseDuration("duration", *duration); err != nil {
		return err
	}
	if o.Warmup, err = parseDuration("warmup", *warmup); err != nil {
		return err
	}
	for _, c := range strings.Split(*conc, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(c))
		if err != nil || n < 1 {
			return fmt.Errorf("--concurrency: %q is not a positive number", c)
		}
		o.Concurrency = append(o.Concurrency, n)
	}
	switch *endpoints {
	case "":
	case "none":
		o.Concurrency = nil
	default:
		o.Endpoints = strings.Split(*endpoints, ",")
	}
	if o.Password == "" {
		return errors.New("--password (or BENCH_PASSWORD) is required: the password of the dataset's users")
	}
	if o.Self, err = os.Executable(); err != nil {
		return err
	}
	if _, err := os.Stat(o.Bangfu); err != nil && o.Concurrency != nil {
		return fmt.Errorf("--bangfu: %w (build it: go build -o bin/bangfu ./cmd/bangfu)", err)
	}
	res, err := loadtest.Run(ctx, o)
	if err != nil {
		return err
	}
	if n := res.TotalErrors(); n > 0 && !*allowErrors {
		return exitError{3, fmt.Sprintf("%d requests failed (figures written; BENCH_ALLOW_ERRORS=1 accepts this)", n)}
	}
	return nil
}

func envInt(name string, def int) int {
	if n, err := strconv.Atoi(os.Getenv(name)); err == nil {
		return n
	}
	return def
}

// parseDuration reads a Go duration ("10s", "1m30s") or plain seconds ("10").
func parseDuration(name, s string) (time.Duration, error) {
	if n, err := strconv.ParseFloat(s, 64); err == nil && n >= 0 {
		return time.Duration(n * float64(time.Second)), nil
	}
	d, err := time.ParseDuration(s)
	if err != nil || d < 0 {
		return 0, fmt.Errorf("--%s: %q is not a duration like 10s", name, s)
	}
	return d, nil
}

func floor(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("bangfu-bench floor", flag.ContinueOnError)
	addr := fs.String("addr", "127.0.0.1:8090", "listen address")
	db := fs.String("db", defaultDB(), "database URL")
	maxConns := fs.Int("max-conns", 20, "connection-pool size (the server's BANGFU_DB_MAX_CONNS)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	return loadtest.ServeFloor(ctx, *addr, *db, int32(*maxConns), log)
}

func graduates(ctx context.Context, args []string) error {
	pg, err := openDB(ctx, "graduates", args, 1)
	if err != nil {
		return err
	}
	defer pg.Close()
	n, err := loadtest.CountGraduates(ctx, pg.Pool)
	if err != nil {
		return err
	}
	fmt.Println(n)
	return nil
}

// vacuum settles the database: a run leaves dead rows and pages that are
// no longer all-visible (appends, audit rows, and the job benchmarks'
// rolled-back updates), and autovacuum may be off or late. Without it each
// run would measure a database the previous runs had worn.
func vacuum(ctx context.Context, args []string) error {
	pg, err := openDB(ctx, "vacuum", args, 1)
	if err != nil {
		return err
	}
	defer pg.Close()
	start := time.Now()
	if _, err := pg.Pool.Exec(ctx, `VACUUM (ANALYZE)`); err != nil {
		return fmt.Errorf("vacuum: %w", err)
	}
	fmt.Printf("VACUUM (ANALYZE) took %.1fs\n", time.Since(start).Seconds())
	return nil
}

func explain(ctx context.Context, args []string) error {
	pg, err := openDB(ctx, "explain", args, 2)
	if err != nil {
		return err
	}
	defer pg.Close()
	sample, err := loadtest.Discover(ctx, pg.Pool, loadtest.SampleSizes{Counselors: 5, Supervisors: 50, PerCounselor: 1, Seed: 1})
	if err != nil {
		return err
	}
	return loadtest.Explain(ctx, pg, loadtest.KeyQueries(sample, time.Now()), os.Stdout)
}

// openDB parses a command's only flag, --db, and opens a pool of conns.
func openDB(ctx context.Context, command string, args []string, conns int32) (*postgres.DB, error) {
	fs := flag.NewFlagSet("bangfu-bench "+command, flag.ContinueOnError)
	db := fs.String("db", defaultDB(), "database URL")
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	return postgres.Open(ctx, *db, conns)
}
