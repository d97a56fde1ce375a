package partition_test

import (
	"context"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/bangfu/bangfu"
	"github.com/bangfu/bangfu/internal/bench/partition"
	"github.com/bangfu/bangfu/internal/bench/synthetic"
	"github.com/bangfu/bangfu/internal/pgtest"
	"github.com/bangfu/bangfu/internal/sealed"
)

// A small province: the partitioned copy holds exactly the rows of the
// flat one, each in its year's partition, and the flat one holds every
// entry of the copied graduates, moved back by their cohort's years.
func TestPartitionedCopyHoldsTheSameRows(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := pgtest.NewDB(t)
	box, err := sealed.New([]byte("0123456789abcdef0123456789abcdef"))
	require.NoError(t, err)
	var progress strings.Builder
	_, err = synthetic.Generate(ctx, db, box, synthetic.Options{
		Students: 1500, Schools: 3, Seed: 3, Now: time.Date(2026, 7, 15, 10, 0, 0, 0, bangfu.Shanghai), Progress: &progress,
	})
	require.NoError(t, err, progress.String())

	l, err := partition.Build(ctx, db.Pool, partition.Options{Schema: "scratch_part", SchoolEvery: 1, Years: 3})
	require.NoError(t, err)
	require.Equal(t, 2024, l.FirstYear)
	require.Equal(t, 2026, l.LastYear)
	q := func(sql string) int64 {
		t.Helper()
		var n int64
		require.NoError(t, db.Pool.QueryRow(ctx, sql).Scan(&n), sql)
		return n
	}
	entries := q(`SELECT count(*) FROM ledger_entries`)
	require.Positive(t, entries)
	require.Equal(t, entries, l.Rows, "every entry of every school is copied")
	require.Equal(t, entries, q(`SELECT count(*) FROM scratch_part.parted`))
	require.Zero(t, q(`SELECT count(*) FROM (SELECT * FROM scratch_part.flat EXCEPT ALL SELECT * FROM scratch_part.parted) x`))
	require.Zero(t, q(`SELECT count(*) FROM (SELECT * FROM scratch_part.parted EXCEPT ALL SELECT * FROM scratch_part.flat) x`))
	var sum int64
	for y := 2024; y <= 2026; y++ {
		require.Positive(t, l.PartitionRows[y], "every cohort has entries")
		sum += l.PartitionRows[y]
	}
	require.Equal(t, entries, sum)
	require.Zero(t, l.PartitionRows[2027], "next year's partition waits empty")
	require.Zero(t, q(`SELECT count(*) FROM ONLY scratch_part.parted_2025 WHERE graduation_year <> 2025`))
	// The copy is the ledger's content: same chain, times moved by whole years.
	require.Zero(t, q(`SELECT count(*) FROM scratch_part.flat f JOIN ledger_entries l USING (student_id, seq)
		WHERE f.hash <> l.hash OR f.prev_hash <> l.prev_hash OR f.summary <> l.summary
		   OR f.recorded_at <> l.recorded_at + make_interval(years => f.graduation_year - 2026)`))

	res, err := partition.Run(ctx, db.Pool, partition.Options{Schema: "scratch_part", SchoolEvery: 1, Years: 3, Reads: 20, Reviews: 10, Appends: 5}, io.Discard)
	require.NoError(t, err)
	for _, p := range res.Plans {
		switch {
		case strings.Contains(p.Name, "this year"):
			require.Equal(t, []string{"parted_2026"}, p.Scanned, "%s is pruned to its year:\n%s", p.Name, p.Text)
		case strings.Contains(p.Name, "with the year"):
			require.Len(t, p.Scanned, 1, "%s is pruned to its year:\n%s", p.Name, p.Text)
		default:
			require.Len(t, p.Scanned, p.Partitions, "%s reads every partition:\n%s", p.Name, p.Text)
		}
	}
	require.Equal(t, 2024, res.Retention.Year)
	require.Positive(t, res.Retention.Rows)
	require.Zero(t, q(`SELECT count(*) FROM pg_namespace WHERE nspname = 'scratch_part'`), "the scratch schema is dropped")
	require.Equal(t, entries, q(`SELECT count(*) FROM ledger_entries`), "the ledger itself is untouched")
}
