package main

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/bangfu/bangfu"
	"github.com/bangfu/bangfu/internal/app"
	"github.com/bangfu/bangfu/internal/config"
	"github.com/bangfu/bangfu/internal/synthetic"
)

func (p *program) seedSynthetic(ctx context.Context, args []string) error {
	fs := p.flags("seed synthetic [--students N] [--schools S] [--seed X] [--now T] [--vacuum=false]",
		"Generates a realistic province — schools, staff, graduates with hardship evidence, plans,\n"+
			"hash-chained ledgers, destinations, escalations and notifications — into an empty,\n"+
			"migrated database, for benchmarks. The same seed and reference time give the same data.\n"+
			"Every generated user's password is printed at the end. Refused when BANGFU_ENV=prod\n"+
			"or when the database already holds graduates.")
	students := fs.Int("students", synthetic.DefaultStudents, "number of graduates")
	schools := fs.Int("schools", synthetic.DefaultSchools, "number of schools")
	seed := fs.Uint64("seed", 1, "random seed")
	now := fs.String("now", "", "reference time, RFC 3339 or a date (Shanghai midnight); default: now")
	vacuum := fs.Bool("vacuum", true, "end with VACUUM (ANALYZE), which sets the visibility map; --vacuum=false only ANALYZEs")
	if err := fs.Parse(args); err != nil {
		return err
	}
	cfg, log, err := p.config()
	if err != nil {
		return err
	}
	if cfg.Env == config.EnvProd {
		return errors.New("seed synthetic: refused when BANGFU_ENV=prod (synthetic users share a public password)")
	}
	opts := synthetic.Options{Students: *students, Schools: *schools, Seed: *seed, Progress: p.stderr, AnalyzeOnly: !*vacuum}
	if *now != "" {
		t, err := time.Parse(time.RFC3339, *now)
		if err != nil {
			t, err = time.ParseInLocation(time.DateOnly, *now, bangfu.Shanghai)
		}
		if err != nil {
			return fmt.Errorf("seed synthetic: --now must be RFC 3339 (2026-07-15T10:00:00+08:00) or a date (2026-07-15)")
		}
		opts.Now = t
	}
	a, err := app.New(ctx, cfg, log, p.options(false))
	if err != nil {
		return err
	}
	defer a.Close()
	if opts.Now.IsZero() {
		opts.Now = a.Clock.Now()
	}
	fmt.Fprintf(p.stderr, "seed synthetic: %d graduates in %d schools, seed %d, reference time %s\n",
		opts.Students, opts.Schools, opts.Seed, opts.Now.In(bangfu.Shanghai).Format(time.RFC3339))
	st, err := synthetic.Generate(ctx, a.DB, a.Box, opts)
	if err != nil {
		return fmt.Errorf("seed synthetic: %w", err)
	}
	fmt.Fprintf(p.stdout, "Loaded a synthetic province in %.1fs (database size %.1f GB).\n", st.Elapsed.Seconds(), float64(st.DatabaseBytes)/(1<<30))
	fmt.Fprintln(p.stdout, "Phases:")
	for _, ph := range st.Phases {
		fmt.Fprintf(p.stdout, "  %-24s %7.1fs", ph.Name, ph.Elapsed.Seconds())
		if ph.Rows > 0 {
			fmt.Fprintf(p.stdout, " %12d", ph.Rows)
		}
		fmt.Fprintln(p.stdout)
	}
	fmt.Fprintln(p.stdout, "Rows:")
	var tables []string
	for t := range st.Rows {
		tables = append(tables, t)
	}
	slices.Sort(tables)
	for _, t := range tables {
		fmt.Fprintf(p.stdout, "  %-16s %12d\n", t, st.Rows[t])
	}
	fmt.Fprintf(p.stdout, "Every user's password: %s\nSample logins:\n", synthetic.Password)
	for _, l := range st.Logins {
		fmt.Fprintf(p.stdout, "  %-11s %-18s %s\n", l.Role, l.Username, l.Note)
	}
	return nil
}
