package report

import (
	"context"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/bangfu/bangfu"
	"github.com/bangfu/bangfu/internal/pgtest"
	"github.com/bangfu/bangfu/internal/settings"
)

// BenchmarkProvinceReport counts the province's report on the
// province-scale database (make bench): today's from the files, a day a
// month ago from the destination history, and one period's snapshots of
// every school and the province (in a transaction rolled back).
func BenchmarkProvinceReport(b *testing.B) {
	db := pgtest.BenchDB(b)
	ctx := context.Background()
	// Benchmarks before this one write in transactions they roll back (the
	// digest's spreads the open cases over 10,000 staff): their dead rows
	// clear the visibility map under the rates index, whose index-only scan
	// then reads the heap (0.7 s became 2 s). A deployment has autovacuum;
	// the bench server has it off, so settle the table here.
	if _, err := db.Pool.Exec(ctx, `VACUUM students`); err != nil {
		b.Fatal(err)
	}
	s := &Service{DB: db, Clock: bangfu.SystemClock{}, Settings: &settings.Store{DB: db, Clock: bangfu.SystemClock{}}}
	province := bangfu.Actor{Role: bangfu.RoleProvince}
	today := bangfu.Today(s.Clock)
	monthAgo := today.AddDays(-30)
	var year int
	if err := db.Pool.QueryRow(ctx, `SELECT max(graduation_year) FROM students`).Scan(&year); err != nil {
		b.Fatal(err)
	}
	for _, c := range []struct {
		name string
		f    Filter
	}{{"today", Filter{GraduationYear: year}}, {"a month ago", Filter{GraduationYear: year, AsOf: &monthAgo}}} {
		b.Run("rates "+c.name, func(b *testing.B) {
			q := Queries(province, c.f, today, 14)[0]
			for b.Loop() {
				rows, err := db.Pool.Query(ctx, q.SQL, q.Args...)
				if err != nil {
					b.Fatal(err)
				}
				rows.Close()
				if err := rows.Err(); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run("summary "+c.name, func(b *testing.B) {
			for b.Loop() {
				if _, err := s.Count(ctx, province, c.f); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
	b.Run("snapshot of every school", func(b *testing.B) {
		for b.Loop() {
			err := db.InTx(ctx, func(tx pgx.Tx) error {
				if _, err := s.count(ctx, tx, monthAgo, true); err != nil {
					return err
				}
				return errRollback
			})
			if err != errRollback {
				b.Fatal(err)
			}
		}
	})
}

var errRollback = bangfuError("rolled back")

type bangfuError string

func (e bangfuError) Error() string { return string(e) }
