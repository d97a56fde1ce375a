package notify_test

import (
	"context"
	"crypto/rand"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"

	"github.com/bangfu/bangfu"
	"github.com/bangfu/bangfu/internal/notify"
	"github.com/bangfu/bangfu/internal/pgtest"
	"github.com/bangfu/bangfu/internal/sealed"
)

type fixedClock struct{ t time.Time }

func (c fixedClock) Now() time.Time { return c.t }

// BenchmarkDigest builds the day's digest of every staff member of the
// bench province (`make bench` loads it; BANGFU_BENCH_DATABASE_URL): the
// counts of every school, one inbox notification per member with something
// to say and, as if every counselor had a 企业微信 group, a delivery and its
// River job each. Each run is a transaction rolled back, so the database
// stays as it was. Issue 15 asks for 10,000 staff in under 10 s.
func BenchmarkDigest(b *testing.B) {
	db := pgtest.BenchDB(b)
	ctx := context.Background()
	key := make([]byte, 32)
	_, _ = rand.Read(key)
	box, err := sealed.New(key)
	if err != nil {
		b.Fatal(err)
	}
	rc, err := river.NewClient(riverpgxv5.New(db.Pool), &river.Config{})
	if err != nil {
		b.Fatal(err)
	}
	// 08:00 of the day the province was seeded for: the data are dated
	// from it (their follow-ups, escalations, evidence).
	var ref time.Time
	if err := db.Pool.QueryRow(ctx, `SELECT max(recorded_at) FROM ledger_entries`).Scan(&ref); err != nil {
		b.Fatal(err)
	}
	day := bangfu.DateOf(ref).AddDays(1)
	s := &notify.Service{DB: db, Clock: fixedClock{day.At(8, 0)}, River: rc, Box: box, PublicURL: "https://bangfu.example.edu.cn"}
	url := box.Seal("notify_channels.url", "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=bench")
	run := func(b *testing.B, staff int) {
		var res notify.DigestResult
		var total int
		for b.Loop() {
			b.StopTimer()
			tx, err := db.Pool.Begin(ctx)
			if err != nil {
				b.Fatal(err)
			}
			if staff > 0 {
				topUp(b, ctx, tx, staff)
			}
			if err := tx.QueryRow(ctx, `SELECT count(*) FROM users WHERE role IN ('counselor', 'supervisor', 'province') AND NOT disabled`).Scan(&total); err != nil {
				b.Fatal(err)
			}
			if _, err := tx.Exec(ctx, `INSERT INTO notify_channels (user_id, kind, label, url_sealed, host, created_by, created_at)
				SELECT id, 'wecom', '辅导员群', $1, 'qyapi.weixin.qq.com', id, now() FROM users WHERE role = 'counselor'`, url); err != nil {
				b.Fatal(err)
			}
			b.StartTimer()
			res, err = s.BuildDigests(ctx, tx)
			b.StopTimer()
			if err != nil {
				b.Fatal(err)
			}
			if err := tx.Rollback(ctx); err != nil {
				b.Fatal(err)
			}
			b.StartTimer()
		}
		b.ReportMetric(float64(total), "staff")
		b.ReportMetric(float64(res.Users), "digests")
		b.ReportMetric(float64(res.Deliveries), "deliveries")
	}
	b.Run("province", func(b *testing.B) { run(b, 0) })
	// The figure: 10,000 staff. The province has a counselor per
	// hundred open cases; here counselors are added to each school and the
	// open cases spread over all of them, up to 10,000 staff in all.
	b.Run("10000 staff", func(b *testing.B) { run(b, 10000) })
}

// topUp adds counselors, spread over the schools, until the province has
// staff members, and shares each school's open cases among its counselors.
func topUp(b *testing.B, ctx context.Context, tx pgx.Tx, staff int) {
	b.Helper()
	if _, err := tx.Exec(ctx, `INSERT INTO users (username, display_name, role, school_id, password_hash)
		SELECT 'bench-digest-' || g, '辅导员', 'counselor', sc.ids[1 + g % cardinality(sc.ids)], 'x'
		FROM generate_series(1, greatest(0, $1 - (SELECT count(*) FROM users WHERE role IN ('counselor', 'supervisor', 'province')))) g,
		     (SELECT array_agg(id ORDER BY id) AS ids FROM schools) sc`, staff); err != nil {
		b.Fatal(err)
	}
	if _, err := tx.Exec(ctx, `UPDATE students s SET counselor_id = c.id
		FROM (SELECT id, school_id, row_number() OVER (PARTITION BY school_id ORDER BY id) AS n, count(*) OVER (PARTITION BY school_id) AS of
		      FROM users WHERE role = 'counselor') c
		WHERE c.school_id = s.school_id AND c.n = 1 + s.id % c.of AND s.status IN ('open', 'active')`); err != nil {
		b.Fatal(err)
	}
}
