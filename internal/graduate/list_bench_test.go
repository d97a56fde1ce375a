package graduate_test

import (
	"context"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/bangfu/bangfu"
	"github.com/bangfu/bangfu/internal/graduate"
	"github.com/bangfu/bangfu/internal/pgtest"
)

// benchActors picks, from the bench database, the counselor with the
// largest caseload and a supervisor of the largest school.
func benchActors(b *testing.B, ctx context.Context, q interface {
	QueryRow(context.Context, string, ...any) pgx.Row
}) (counselor, supervisor bangfu.Actor) {
	b.Helper()
	var cid, school int64
	if err := q.QueryRow(ctx, `SELECT counselor_id, school_id FROM students WHERE counselor_id IS NOT NULL
		GROUP BY counselor_id, school_id ORDER BY count(*) DESC LIMIT 1`).Scan(&cid, &school); err != nil {
		b.Fatal(err)
	}
	var sid int64
	if err := q.QueryRow(ctx, `SELECT u.id, u.school_id FROM users u WHERE u.role = 'supervisor' AND u.department_id IS NULL
		ORDER BY (SELECT count(*) FROM students s WHERE s.school_id = u.school_id) DESC LIMIT 1`).Scan(&sid, &school); err != nil {
		b.Fatal(err)
	}
	return bangfu.Actor{UserID: cid, Role: bangfu.RoleCounselor},
		bangfu.Actor{UserID: sid, Role: bangfu.RoleSupervisor, SchoolID: &school}
}

func runList(b *testing.B, ctx context.Context, db interface {
	Query(context.Context, string, ...any) (pgx.Rows, error)
}, sql string, args []any) {
	b.Helper()
	b.ReportAllocs()
	for b.Loop() {
		rows, err := db.Query(ctx, sql, args...)
		if err != nil {
			b.Fatal(err)
		}
		n := 0
		for rows.Next() {
			n++
		}
		if err := rows.Err(); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkListQueries runs the list queries of the caseload and search
// screens against the province-scale database.
func BenchmarkListQueries(b *testing.B) {
	db := pgtest.BenchDB(b)
	ctx := context.Background()
	counselor, supervisor := benchActors(b, ctx, db.Pool)
	province := bangfu.Actor{Role: bangfu.RoleProvince}
	today := bangfu.Today(bangfu.SystemClock{})
	page := bangfu.Page{Limit: 50}
	active, yes := "active", true
	for _, c := range []struct {
		name string
		a    bangfu.Actor
		f    graduate.Filter
	}{
		{"counselor caseload", counselor, graduate.Filter{}},
		{"counselor overdue", counselor, graduate.Filter{Overdue: &yes}},
		{"supervisor active cases", supervisor, graduate.Filter{Status: active}},
		{"supervisor category dibao", supervisor, graduate.Filter{Category: "dibao"}},
		{"province name search", province, graduate.Filter{Q: "李"}},
		{"province category orphan", province, graduate.Filter{Category: "orphan"}},
	} {
		b.Run(c.name, func(b *testing.B) {
			sql, args := graduate.ListQuery(c.a, c.f, page, today)
			runList(b, ctx, db.Pool, sql, args)
		})
	}
}
