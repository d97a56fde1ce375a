package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"strings"
	"time"

	"github.com/bangfu/bangfu"
	"github.com/bangfu/bangfu/internal/app"
	"github.com/bangfu/bangfu/internal/bench/synthetic"
	"github.com/bangfu/bangfu/internal/config"
)

// seed loads a synthetic province (internal/bench/synthetic) into the
// empty, migrated database named by --db. The rest of bangfu's
// configuration comes from lookup (the BANGFU_* variables), so ID numbers
// are sealed with the data key a `bangfu serve` on the same environment
// reads them with. It prints the phases, row counts, the shared password
// and sample logins on stdout, and progress on stderr. It refuses when
// BANGFU_ENV=prod, and fails with synthetic.ErrNotEmpty when the database
// already holds graduates.
func seed(ctx context.Context, args []string, lookup config.Lookup, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("bangfu-bench seed", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprint(stderr, `Usage: bangfu-bench seed [--db URL] [--students N] [--schools S] [--seed X] [--now T] [--vacuum=false]

Generates a realistic province — schools, staff, graduates with hardship evidence, plans,
hash-chained ledgers, destinations, escalations and notifications — into an empty,
database migrated by 'bangfu migrate', for benchmarks. The same seed and reference time
give the same data. ID numbers are sealed with BANGFU_DATA_KEY, as bangfu would seal them.
Every generated user's password is printed at the end. Refused when BANGFU_ENV=prod
or when the database already holds graduates.

Flags:
`)
		fs.PrintDefaults()
	}
	db := fs.String("db", dbFrom(lookup), "database URL (BENCH_DATABASE_URL, else DATABASE_URL)")
	students := fs.Int("students", synthetic.DefaultStudents, "number of graduates")
	schools := fs.Int("schools", synthetic.DefaultSchools, "number of schools")
	seed := fs.Uint64("seed", 1, "random seed")
	now := fs.String("now", "", "reference time, RFC 3339 or a date (Shanghai midnight); default: now")
	vacuum := fs.Bool("vacuum", true, "end with VACUUM (ANALYZE), which sets the visibility map; --vacuum=false only ANALYZEs")
	if err := fs.Parse(args); err != nil {
		return err
	}
	cfg, err := config.Load(func(k string) (string, bool) {
		if k == "DATABASE_URL" && *db != "" {
			return *db, true
		}
		return lookup(k)
	})
	if err != nil {
		return err
	}
	if cfg.Env == config.EnvProd {
		return errors.New("seed: refused when BANGFU_ENV=prod (synthetic users share a public password)")
	}
	opts := synthetic.Options{Students: *students, Schools: *schools, Seed: *seed, Progress: stderr, AnalyzeOnly: !*vacuum}
	if *now != "" {
		t, err := time.Parse(time.RFC3339, *now)
		if err != nil {
			t, err = time.ParseInLocation(time.DateOnly, *now, bangfu.Shanghai)
		}
		if err != nil {
			return errors.New("seed: --now must be RFC 3339 (2026-07-15T10:00:00+08:00) or a date (2026-07-15)")
		}
		opts.Now = t
	}
	var level slog.Level
	_ = level.UnmarshalText([]byte(strings.ToUpper(cfg.LogLevel)))
	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: level}))
	if cfg.GeneratedKeys {
		log.Warn("sealing with this machine's development data key: serve this database with the same BANGFU_STATE_DIR (or HOME), or set BANGFU_DATA_KEY here too", "file", cfg.DevKeysPath)
	}
	a, err := app.New(ctx, cfg, log, app.Options{})
	if err != nil {
		return err
	}
	defer a.Close()
	if opts.Now.IsZero() {
		opts.Now = a.Clock.Now()
	}
	fmt.Fprintf(stderr, "seed: %d graduates in %d schools, seed %d, reference time %s\n",
		opts.Students, opts.Schools, opts.Seed, opts.Now.In(bangfu.Shanghai).Format(time.RFC3339))
	st, err := synthetic.Generate(ctx, a.DB, a.Box, opts)
	if err != nil {
		return fmt.Errorf("seed: %w", err)
	}
	fmt.Fprintf(stdout, "Loaded a synthetic province in %.1fs (database size %.1f GB).\n", st.Elapsed.Seconds(), float64(st.DatabaseBytes)/(1<<30))
	fmt.Fprintln(stdout, "Phases:")
	for _, ph := range st.Phases {
		fmt.Fprintf(stdout, "  %-24s %7.1fs", ph.Name, ph.Elapsed.Seconds())
		if ph.Rows > 0 {
			fmt.Fprintf(stdout, " %12d", ph.Rows)
		}
		fmt.Fprintln(stdout)
	}
	fmt.Fprintln(stdout, "Rows:")
	var tables []string
	for t := range st.Rows {
		tables = append(tables, t)
	}
	slices.Sort(tables)
	for _, t := range tables {
		fmt.Fprintf(stdout, "  %-16s %12d\n", t, st.Rows[t])
	}
	fmt.Fprintf(stdout, "Every user's password: %s\nSample logins:\n", synthetic.Password)
	for _, l := range st.Logins {
		fmt.Fprintf(stdout, "  %-11s %-18s %s\n", l.Role, l.Username, l.Note)
	}
	return nil
}
