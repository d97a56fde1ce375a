package main

import (
	"context"
	"flag"
	"os"

	"github.com/bangfu/bangfu/internal/bench/partition"
	"github.com/bangfu/bangfu/internal/postgres"
)

// partitionCmd builds, in a scratch schema of the bench database, the
// ledger as one table and partitioned by graduation year, measures both
// and drops the schema (docs/scaling.md).
func partitionCmd(ctx context.Context, args []string) error {
	d := partition.Defaults
	fs := flag.NewFlagSet("bangfu-bench partition", flag.ContinueOnError)
	db := fs.String("db", defaultDB(), "a seeded bench database (BENCH_DATABASE_URL, else DATABASE_URL); only the scratch schema is written")
	o := partition.Options{}
	fs.StringVar(&o.Schema, "schema", d.Schema, "the scratch schema (dropped and created again; dropped at the end unless --keep)")
	fs.IntVar(&o.SchoolEvery, "school-every", d.SchoolEvery, "take the ledgers of the schools whose id is a multiple of this (1: all)")
	fs.IntVar(&o.Years, "years", d.Years, "graduation years to spread the graduates over")
	fs.IntVar(&o.Reads, "reads", d.Reads, "graduates whose ledger is read from each copy")
	fs.IntVar(&o.Reviews, "reviews", d.Reviews, "review pages read from each copy")
	fs.IntVar(&o.Appends, "appends", d.Appends, "appends to each copy")
	fs.BoolVar(&o.Keep, "keep", false, "keep the scratch schema")
	fs.Uint64Var(&o.Seed, "seed", d.Seed, "chooses the sampled graduates and schools")
	if err := fs.Parse(args); err != nil {
		return err
	}
	pg, err := postgres.Open(ctx, *db, 4)
	if err != nil {
		return err
	}
	defer pg.Close()
	_, err = partition.Run(ctx, pg.Pool, o, os.Stdout)
	return err
}
