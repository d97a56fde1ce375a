package main

import (
	"context"
	"flag"
	"os"

	"github.com/bangfu/bangfu"
	"github.com/bangfu/bangfu/internal/bench/loadtest"
	"github.com/bangfu/bangfu/internal/postgres"
)

// floors prints the floor's statements (--sql, the default) as Markdown
// for docs/performance.md, or (re)builds its tables in the bench database
// (--build; --force rebuilds even when they are current).
func floors(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("bangfu-bench floors", flag.ContinueOnError)
	sql := fs.Bool("sql", false, "print every floor's SQL as Markdown (the default without --build)")
	build := fs.Bool("build", false, "build the floor's tables (schema bench_floor) unless they are current")
	force := fs.Bool("force", false, "with --build: rebuild even when current")
	db := fs.String("db", defaultDB(), "database URL (for --build)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *build {
		pg, err := postgres.Open(ctx, *db, 2)
		if err != nil {
			return err
		}
		defer pg.Close()
		if _, err := loadtest.BuildFloor(ctx, pg, bangfu.Today(bangfu.SystemClock{}), *force, os.Stderr); err != nil {
			return err
		}
	}
	if *sql || !*build {
		loadtest.PrintFloorSQL(os.Stdout)
	}
	return nil
}
