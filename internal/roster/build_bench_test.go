package roster_test

import (
	"context"
	crand "crypto/rand"
	"fmt"
	"math/rand/v2"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"

	"github.com/bangfu/bangfu"
	"github.com/bangfu/bangfu/internal/apptest"
	"github.com/bangfu/bangfu/internal/pgtest"
	"github.com/bangfu/bangfu/internal/postgres"
	"github.com/bangfu/bangfu/internal/roster"
	"github.com/bangfu/bangfu/internal/sealed"
)

// BenchmarkBuildProvinceCohort builds one cohort of 2,000 places from a
// province whose 100,000 graduates of the target year (over 160 schools of
// very different sizes) are all eligible: it lapses nobody, puts 100,000
// graduates on the roster, apportions the quotas and nominates 2,000 —
// with the history, the audit rows and the 2,000 delivery jobs, in one
// transaction. The target is under 5 s (docs/performance.md).
//
// It loads its own province into a scratch database (about a minute), so
// it runs only under `make bench` (BANGFU_BENCH_DATABASE_URL set);
// BANGFU_ROSTER_BENCH_GRADUATES changes the province's size.
func BenchmarkBuildProvinceCohort(b *testing.B) {
	if os.Getenv("BANGFU_BENCH_DATABASE_URL") == "" {
		b.Skip("BANGFU_BENCH_DATABASE_URL is not set: run `make bench`")
	}
	graduates := 100_000
	if v, err := strconv.Atoi(os.Getenv("BANGFU_ROSTER_BENCH_GRADUATES")); err == nil && v > 0 {
		graduates = v
	}
	ctx := context.Background()
	db := pgtest.NewDB(b)
	started := time.Now()
	seedProvince(b, ctx, db, graduates, 160)
	b.Logf("loaded %d eligible graduates in %s", graduates, time.Since(started).Round(time.Second))
	if _, err := db.Pool.Exec(ctx, `VACUUM ANALYZE`); err != nil {
		b.Fatal(err)
	}

	key := make([]byte, 32)
	_, _ = crand.Read(key)
	box, err := sealed.New(key)
	if err != nil {
		b.Fatal(err)
	}
	rc, err := river.NewClient(riverpgxv5.New(db.Pool), &river.Config{})
	if err != nil {
		b.Fatal(err)
	}
	clock := apptest.NewClock(apptest.Start)
	s := &roster.Service{DB: db, Box: box, Clock: clock, River: rc}
	base, err := s.CreateBase(ctx, admin, roster.BaseInput{Name: "基地", HostSchool: "华南农业大学"})
	if err != nil {
		b.Fatal(err)
	}
	today := bangfu.Today(clock)
	var total time.Duration
	n := 0
	for b.Loop() {
		b.StopTimer()
		c, err := s.CreateCohort(ctx, admin, roster.CohortInput{BaseID: base.ID, Name: fmt.Sprintf("第%d期", n+1), Mode: "online",
			StartsOn: today.AddDays(30).String(), EndsOn: today.AddDays(40).String(), Capacity: 2000, TargetYear: 2026,
			NominationDeadline: today.AddDays(20).String()})
		if err != nil {
			b.Fatal(err)
		}
		state := roster.Open
		if _, err := s.UpdateCohort(ctx, admin, c.ID, c.Version, roster.CohortPatch{State: &state}); err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		t0 := time.Now()
		res, err := s.Build(ctx, c.ID)
		total += time.Since(t0)
		n++
		if err != nil {
			b.Fatal(err)
		}
		if res.Added != graduates || res.Nominated != min(2000, graduates) {
			b.Fatalf("built %+v from %d graduates", res, graduates)
		}
	}
	b.ReportMetric(float64(graduates), "eligible")
	b.ReportMetric(total.Seconds()/float64(n), "s/build")
}

// seedProvince loads n eligible 2026 graduates over schools schools
// (sizes skewed), each with consent, verified evidence and a plan holding
// a hongzhi_training measure, straight into the tables.
func seedProvince(b *testing.B, ctx context.Context, db *postgres.DB, n, schools int) {
	b.Helper()
	r := rand.New(rand.NewPCG(2026, 12))
	err := db.InTx(ctx, func(tx pgx.Tx) error {
		var author int64
		if err := tx.QueryRow(ctx, `INSERT INTO users (username, display_name, role, password_hash)
			VALUES ('bench.admin', 'bench', 'admin', 'x') RETURNING id`).Scan(&author); err != nil {
			return err
		}
		ids := make([]int64, schools)
		weights := make([]float64, schools)
		sum := 0.0
		for i := range schools {
			if err := tx.QueryRow(ctx, `INSERT INTO schools (code, name) VALUES ($1, $2) RETURNING id`,
				fmt.Sprintf("41%08d", i), fmt.Sprintf("学校%d", i)).Scan(&ids[i]); err != nil {
				return err
			}
			weights[i] = 1 + r.ExpFloat64()*4
			sum += weights[i]
		}
		pick := func() int64 {
			x := r.Float64() * sum
			for i, w := range weights {
				if x -= w; x <= 0 {
					return ids[i]
				}
			}
			return ids[len(ids)-1]
		}
		base := apptest.Start.Add(-200 * 24 * time.Hour)
		at := func() time.Time { return base.Add(time.Duration(r.Int64N(int64(180 * 24 * time.Hour)))) }
		hash := make([]byte, 32)
		if _, err := tx.CopyFrom(ctx, pgx.Identifier{"students"},
			[]string{"school_id", "student_number", "name", "id_number_sealed", "id_number_hash", "id_number_masked", "education_level",
				"graduation_year", "consent", "consent_at", "plan_revision", "created_at", "updated_at"},
			pgx.CopyFromSlice(n, func(i int) ([]any, error) {
				t := at()
				return []any{pick(), fmt.Sprintf("B%07d", i), fmt.Sprintf("学生%d", i), []byte{1}, hash, "440***********0000",
					"zhuanke", 2026, true, t, 1, t, t}, nil
			})); err != nil {
			return err
		}
		// A fresh database numbers them from 1, in the order copied.
		var first int64
		if err := tx.QueryRow(ctx, `SELECT min(id) FROM students`).Scan(&first); err != nil {
			return err
		}
		if _, err := tx.CopyFrom(ctx, pgx.Identifier{"hardships"},
			[]string{"student_id", "category", "evidence_type", "issuing_authority", "status", "verified_by", "verified_at", "created_by", "created_at"},
			pgx.CopyFromSlice(n, func(i int) ([]any, error) {
				t := at()
				return []any{first + int64(i), "dibao", "低保证", "民政局", "verified", author, t, author, t}, nil
			})); err != nil {
			return err
		}
		if _, err := tx.CopyFrom(ctx, pgx.Identifier{"plan_revisions"},
			[]string{"student_id", "revision", "goals", "cadence_days", "author_id", "created_at"},
			pgx.CopyFromSlice(n, func(i int) ([]any, error) {
				return []any{first + int64(i), 1, []string{"就业"}, 14, author, at()}, nil
			})); err != nil {
			return err
		}
		_, err := tx.CopyFrom(ctx, pgx.Identifier{"plan_measures"},
			[]string{"student_id", "revision", "position", "kind", "description", "owner", "status"},
			pgx.CopyFromSlice(n, func(i int) ([]any, error) {
				return []any{first + int64(i), 1, 0, "hongzhi_training", "宏志助航", "本人", "planned"}, nil
			}))
		return err
	})
	if err != nil {
		b.Fatal(err)
	}
}
