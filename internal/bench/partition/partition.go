// Package partition measures, on a seeded bench province, what partitioning
// the ledger by graduation year would change (docs/scaling.md): it builds,
// in a scratch schema of the bench database, a copy of ledger_entries as it
// is (one table) next to a copy partitioned by graduation year, and times
// the graduate's ledger read, the append (entry and head), the supervisor's
// review and the retention of an old year (DETACH and DROP against
// DELETE), and shows with EXPLAIN that the partitions are pruned.
//
// It is bench tooling (`bangfu-bench partition`): it never touches the
// application's tables except to read them, and it drops only its own
// schema.
//
// The seeded province has a single graduation year, and a province keeps
// five. The copy therefore spreads the graduates it copies over Years
// cohorts (by id, so the split is the same on every run) and moves each
// cohort's entries back in time by whole years, so that the newest entries
// of a school are in the newest cohort as they would be. The copy is a
// province of Years cohorts with the sampled schools' graduates divided
// among them — the same rows, not more.
package partition

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// Options say what to copy and how much to measure.
type Options struct {
	// Schema is the scratch schema; it is dropped and created again.
	Schema string
	// SchoolEvery copies the entries of the schools whose id is a multiple
	// of it (1: every school).
	SchoolEvery int
	// Years is how many graduation years (cohorts) the copy holds.
	Years int
	// Reads, Appends and Reviews are the measured operations of each kind
	// per table.
	Reads, Appends, Reviews int
	// Keep leaves the schema in place at the end (for EXPLAIN by hand).
	Keep bool
	// Seed chooses the sampled graduates and schools.
	Seed uint64
}

// Defaults for Options.
var Defaults = Options{Schema: "bench_partition", SchoolEvery: 5, Years: 5, Reads: 2000, Appends: 400, Reviews: 1000, Seed: 1}

func (o *Options) fill() {
	d := Defaults
	if o.Schema == "" {
		o.Schema = d.Schema
	}
	if o.SchoolEvery < 1 {
		o.SchoolEvery = d.SchoolEvery
	}
	if o.Years < 2 {
		o.Years = d.Years
	}
	if o.Reads < 1 {
		o.Reads = d.Reads
	}
	if o.Appends < 1 {
		o.Appends = d.Appends
	}
	if o.Reviews < 1 {
		o.Reviews = d.Reviews
	}
}

var schemaName = regexp.MustCompile(`^[a-z_][a-z0-9_]{0,40}$`)

// Layout is what Build made.
type Layout struct {
	Schema         string
	FirstYear      int // the oldest cohort
	LastYear       int // the newest cohort (the seeded graduates' own year)
	Graduates      int64
	Rows           int64
	FlatBytes      int64 // pg_total_relation_size of the flat copy
	PartitionBytes map[int]int64
	PartitionRows  map[int]int64
	Elapsed        time.Duration
}

// ledgerColumns are the columns of ledger_entries the copies hold (as
// migrations 0002 and 0004 made them), then the graduate's cohort year.
const ledgerColumns = `student_id, seq, kind, channel, occurred_at, summary, next_step, next_followup_on, visibility,
	referral, corrects_seq, correction_reason, group_id, author_id, recorded_at, prev_hash, hash, school_id`

const tableColumns = `(
	student_id        bigint NOT NULL,
	seq               integer NOT NULL,
	kind              text NOT NULL,
	channel           text NOT NULL DEFAULT '',
	occurred_at       timestamptz NOT NULL,
	summary           text NOT NULL,
	next_step         text NOT NULL DEFAULT '',
	next_followup_on  date,
	visibility        text NOT NULL,
	referral          jsonb,
	corrects_seq      integer,
	correction_reason text NOT NULL DEFAULT '',
	group_id          uuid,
	author_id         bigint NOT NULL,
	recorded_at       timestamptz NOT NULL,
	prev_hash         bytea NOT NULL,
	hash              bytea NOT NULL,
	school_id         bigint NOT NULL,
	graduation_year   integer NOT NULL
)`

// indexes are the ledger's own secondary indexes (migrations 0004, 0005),
// built on both copies.
var indexes = []string{
	`CREATE INDEX %[1]s_school_idx ON %[2]s (school_id, recorded_at DESC, student_id DESC, seq DESC)`,
	`CREATE INDEX %[1]s_recorded_idx ON %[2]s (recorded_at DESC, student_id DESC, seq DESC)`,
	`CREATE INDEX %[1]s_author_idx ON %[2]s (author_id, recorded_at DESC, student_id DESC, seq DESC)`,
	`CREATE INDEX %[1]s_corrects_idx ON %[2]s (student_id, corrects_seq) WHERE corrects_seq IS NOT NULL`,
}

func exec(ctx context.Context, pool *pgxpool.Pool, sqls ...string) error {
	for _, s := range sqls {
		if _, err := pool.Exec(ctx, s); err != nil {
			return fmt.Errorf("%s: %w", firstLine(s), err)
		}
	}
	return nil
}

func firstLine(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.IndexByte(s, '\n'); i > 0 {
		s = s[:i]
	}
	return s
}

// Build drops and creates o.Schema and fills it: graduates (the copied
// graduates with their cohort year), flat (the ledger as it is, plus the
// year) and parted (the same rows partitioned by year, one partition per
// cohort and one for the next year), each with the ledger's indexes and a
// head table of its own for appends (flat_heads, parted_heads), vacuumed
// and analysed.
func Build(ctx context.Context, pool *pgxpool.Pool, o Options) (Layout, error) {
	o.fill()
	if !schemaName.MatchString(o.Schema) || o.Schema == "public" {
		return Layout{}, fmt.Errorf("schema %q: a lower-case scratch name other than public", o.Schema)
	}
	start := time.Now()
	var last *int
	if err := pool.QueryRow(ctx, `SELECT max(graduation_year) FROM public.students`).Scan(&last); err != nil {
		return Layout{}, err
	}
	if last == nil {
		return Layout{}, errors.New("the database holds no graduates: seed it first (bangfu-bench seed)")
	}
	l := Layout{Schema: o.Schema, FirstYear: *last - o.Years + 1, LastYear: *last, PartitionBytes: map[int]int64{}, PartitionRows: map[int]int64{}}
	s := o.Schema
	stmts := []string{
		`DROP SCHEMA IF EXISTS ` + s + ` CASCADE`,
		`CREATE SCHEMA ` + s,
		// Cohort year by id: graduates spread evenly over the years.
		fmt.Sprintf(`CREATE TABLE %s.graduates AS
			SELECT id AS student_id, school_id, (%d - id %% %d)::int AS graduation_year, ledger_seq, ledger_head
			FROM public.students WHERE school_id %% %d = 0 AND ledger_seq > 0`, s, *last, o.Years, o.SchoolEvery),
		fmt.Sprintf(`ALTER TABLE %s.graduates ADD PRIMARY KEY (student_id)`, s),
		fmt.Sprintf(`CREATE TABLE %s.flat %s`, s, tableColumns),
		fmt.Sprintf(`INSERT INTO %[1]s.flat
			SELECT l.student_id, l.seq, l.kind, l.channel, l.occurred_at + shift, l.summary, l.next_step,
				(l.next_followup_on + shift)::date, l.visibility, l.referral, l.corrects_seq, l.correction_reason,
				l.group_id, l.author_id, l.recorded_at + shift, l.prev_hash, l.hash, l.school_id, g.graduation_year
			FROM %[1]s.graduates g
			CROSS JOIN LATERAL (SELECT make_interval(years => g.graduation_year - %[2]d) AS shift) sh
			JOIN public.ledger_entries l ON l.student_id = g.student_id`, s, *last),
		fmt.Sprintf(`CREATE TABLE %s.parted %s PARTITION BY RANGE (graduation_year)`, s, tableColumns),
	}
	for y := l.FirstYear; y <= l.LastYear+1; y++ {
		stmts = append(stmts, fmt.Sprintf(`CREATE TABLE %[1]s.parted_%[2]d PARTITION OF %[1]s.parted FOR VALUES FROM (%[2]d) TO (%[3]d)`, s, y, y+1))
	}
	stmts = append(stmts, fmt.Sprintf(`INSERT INTO %[1]s.parted SELECT * FROM %[1]s.flat`, s),
		// The partition key must be in every unique index of a partitioned
		// table: the primary key becomes (student_id, seq, graduation_year),
		// which is as unique as (student_id, seq) since a graduate's entries
		// all carry the graduate's one year.
		fmt.Sprintf(`ALTER TABLE %s.flat ADD PRIMARY KEY (student_id, seq)`, s),
		fmt.Sprintf(`ALTER TABLE %s.parted ADD PRIMARY KEY (student_id, seq, graduation_year)`, s))
	for _, ix := range indexes {
		stmts = append(stmts, fmt.Sprintf(ix, "flat", s+".flat"), fmt.Sprintf(ix, "parted", s+".parted"))
	}
	for _, t := range []string{"flat", "parted"} {
		stmts = append(stmts, fmt.Sprintf(`CREATE TABLE %[1]s.%[2]s_heads AS SELECT student_id, graduation_year, school_id, ledger_seq, ledger_head FROM %[1]s.graduates`, s, t),
			fmt.Sprintf(`ALTER TABLE %s.%s_heads ADD PRIMARY KEY (student_id)`, s, t))
	}
	if err := exec(ctx, pool, stmts...); err != nil {
		return l, err
	}
	// VACUUM cannot run in a transaction: one statement each.
	for _, t := range []string{"graduates", "flat", "parted", "flat_heads", "parted_heads"} {
		if err := exec(ctx, pool, `VACUUM (ANALYZE) `+s+`.`+t); err != nil {
			return l, err
		}
	}
	if err := pool.QueryRow(ctx, fmt.Sprintf(`SELECT (SELECT count(*) FROM %[1]s.graduates), (SELECT count(*) FROM %[1]s.flat),
		pg_total_relation_size('%[1]s.flat')`, s)).Scan(&l.Graduates, &l.Rows, &l.FlatBytes); err != nil {
		return l, err
	}
	rows, err := pool.Query(ctx, fmt.Sprintf(`SELECT graduation_year, count(*) FROM %s.parted GROUP BY 1`, s))
	if err != nil {
		return l, err
	}
	for rows.Next() {
		var y int
		var n int64
		if err := rows.Scan(&y, &n); err != nil {
			return l, err
		}
		l.PartitionRows[y] = n
	}
	if err := rows.Err(); err != nil {
		return l, err
	}
	for y := l.FirstYear; y <= l.LastYear+1; y++ {
		var b int64
		if err := pool.QueryRow(ctx, fmt.Sprintf(`SELECT pg_total_relation_size('%s.parted_%d')`, s, y)).Scan(&b); err != nil {
			return l, err
		}
		l.PartitionBytes[y] = b
	}
	l.Elapsed = time.Since(start)
	return l, nil
}

// Drop removes the scratch schema.
func Drop(ctx context.Context, pool *pgxpool.Pool, schema string) error {
	if !schemaName.MatchString(schema) || schema == "public" {
		return fmt.Errorf("schema %q: not a scratch schema", schema)
	}
	return exec(ctx, pool, `DROP SCHEMA IF EXISTS `+schema+` CASCADE`)
}

// Timing summarises the latencies of one operation.
type Timing struct {
	Name   string
	N      int
	Median time.Duration
	P95    time.Duration
	Mean   time.Duration
	// WALMin and WALMedian are the WAL bytes the server wrote during one
	// operation (appends only): the minimum is the one least likely to
	// include other sessions' writes.
	WALMin, WALMedian int64
}

func summarise(name string, ds []time.Duration) Timing {
	t := Timing{Name: name, N: len(ds)}
	if len(ds) == 0 {
		return t
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	var sum time.Duration
	for _, d := range s {
		sum += d
	}
	t.Median, t.P95, t.Mean = s[len(s)/2], s[min(len(s)-1, len(s)*95/100)], sum/time.Duration(len(s))
	return t
}

// Retention is the cost of removing the oldest cohort's entries.
type Retention struct {
	Year             int
	Rows             int64
	DeleteTime       time.Duration
	DeleteWAL        int64
	VacuumTime       time.Duration
	VacuumWAL        int64
	FlatBytesAfter   int64 // the flat copy after DELETE and VACUUM: the space stays with the table
	DetachTime       time.Duration
	DropTime         time.Duration
	DetachDropWAL    int64
	PartedBytesAfter int64
}

// Plan is the EXPLAIN of one statement on the partitioned copy.
type Plan struct {
	Name       string
	Scanned    []string // partitions the plan reads
	Partitions int      // partitions the table has
	Text       string
}

// Result is everything Run measured.
type Result struct {
	Layout    Layout
	Timings   []Timing
	Plans     []Plan
	Retention Retention
}

// statements on one copy; %s is the table.
const (
	readSQL = `SELECT ` + ledgerColumns + ` FROM %s WHERE student_id = $1 AND seq > 0 %s ORDER BY seq LIMIT 51`
	// The review's first page of a school, newest first (ledger.ReviewQuery's shape).
	reviewSQL = `SELECT ` + ledgerColumns + ` FROM %s WHERE school_id = $1 %s ORDER BY recorded_at DESC, student_id DESC, seq DESC LIMIT 51`
	lockSQL   = `SELECT ledger_seq, ledger_head FROM %s_heads WHERE student_id = $1 FOR UPDATE`
	insertSQL = `INSERT INTO %s (` + ledgerColumns + `, graduation_year)
		VALUES ($1, $2, 'contact', 'phone', $3, '电话联系，了解求职进展', '', NULL, 'internal', NULL, NULL, '', NULL, $4, $3, $5, $6, $7, $8)`
	advanceSQL = `UPDATE %s_heads SET ledger_seq = $2, ledger_head = $3 WHERE student_id = $1`
)

// variant is one statement measured: its name, SQL and arguments for a
// sampled graduate (or school).
type variant struct {
	name string
	sql  string
	args func(g graduate) []any
	// generic runs it on a connection with plan_cache_mode =
	// force_generic_plan: planned once, pruned when the executor starts.
	generic bool
}

type graduate struct {
	id, school int64
	year       int
	author     int64
}

// Run builds the copies, measures, and (unless o.Keep) drops the schema.
// Progress lines go to w.
func Run(ctx context.Context, pool *pgxpool.Pool, o Options, w io.Writer) (Result, error) {
	o.fill()
	var res Result
	fmt.Fprintf(w, "building %s: the entries of every %d. school, %d graduation years …\n", o.Schema, o.SchoolEvery, o.Years)
	l, err := Build(ctx, pool, o)
	res.Layout = l
	if err != nil {
		return res, err
	}
	if !o.Keep {
		defer func() {
			if err := Drop(context.WithoutCancel(ctx), pool, o.Schema); err != nil {
				fmt.Fprintln(w, "dropping the scratch schema:", err)
			}
		}()
	}
	fmt.Fprintf(w, "built in %.1fs: %d graduates, %d entries; flat %s\n", l.Elapsed.Seconds(), l.Graduates, l.Rows, mb(l.FlatBytes))
	var total int64
	for y := l.FirstYear; y <= l.LastYear+1; y++ {
		total += l.PartitionBytes[y]
		fmt.Fprintf(w, "  parted_%d  %8d entries  %s\n", y, l.PartitionRows[y], mb(l.PartitionBytes[y]))
	}
	fmt.Fprintf(w, "  parted total %s\n", mb(total))

	s := o.Schema
	rng := rand.New(rand.NewPCG(o.Seed, 14))
	grads, schools, err := sample(ctx, pool, s, o.Reads, rng)
	if err != nil {
		return res, err
	}
	flat, parted := s+".flat", s+".parted"
	byYear := "AND graduation_year = $2"
	reads := []variant{
		{"read: flat", fmt.Sprintf(readSQL, flat, ""), func(g graduate) []any { return []any{g.id} }, false},
		{"read: parted, with the year", fmt.Sprintf(readSQL, parted, byYear), func(g graduate) []any { return []any{g.id, g.year} }, false},
		{"read: parted, without the year", fmt.Sprintf(readSQL, parted, ""), func(g graduate) []any { return []any{g.id} }, false},
		{"read: parted, with the year, generic", fmt.Sprintf(readSQL, parted, byYear), func(g graduate) []any { return []any{g.id, g.year} }, true},
	}
	timings, err := measure(ctx, pool, reads, grads)
	if err != nil {
		return res, err
	}
	res.Timings = append(res.Timings, timings...)

	reviewers := make([]graduate, o.Reviews)
	for i := range reviewers {
		reviewers[i] = graduate{school: schools[rng.IntN(len(schools))], year: l.LastYear}
	}
	reviews := []variant{
		{"review: flat", fmt.Sprintf(reviewSQL, flat, ""), func(g graduate) []any { return []any{g.school} }, false},
		{"review: parted, every year", fmt.Sprintf(reviewSQL, parted, ""), func(g graduate) []any { return []any{g.school} }, false},
		{"review: flat, this year", fmt.Sprintf(reviewSQL, flat, byYear), func(g graduate) []any { return []any{g.school, g.year} }, false},
		{"review: parted, this year", fmt.Sprintf(reviewSQL, parted, byYear), func(g graduate) []any { return []any{g.school, g.year} }, false},
		{"review: parted, this year, generic", fmt.Sprintf(reviewSQL, parted, byYear), func(g graduate) []any { return []any{g.school, g.year} }, true},
	}
	timings, err = measure(ctx, pool, reviews, reviewers)
	if err != nil {
		return res, err
	}
	res.Timings = append(res.Timings, timings...)

	timings, err = appends(ctx, pool, s, grads[:min(len(grads), o.Appends)])
	if err != nil {
		return res, err
	}
	res.Timings = append(res.Timings, timings...)
	fmt.Fprintln(w, "\nlatency (warm cache; each operation alternates between the tables, same graduates and schools):")
	fmt.Fprintf(w, "  %-38s %6s %9s %9s %9s\n", "operation", "n", "median", "p95", "mean")
	for _, t := range res.Timings {
		fmt.Fprintf(w, "  %-38s %6d %9s %9s %9s", t.Name, t.N, ms(t.Median), ms(t.P95), ms(t.Mean))
		if t.WALMedian > 0 {
			fmt.Fprintf(w, "   WAL per append: min %d B, median %d B", t.WALMin, t.WALMedian)
		}
		fmt.Fprintln(w)
	}

	g := grads[0]
	plans := []struct{ name, sql string }{
		{"read with the year", fmt.Sprintf(`SELECT * FROM %s WHERE student_id = %d AND seq > 0 AND graduation_year = %d ORDER BY seq LIMIT 51`, parted, g.id, g.year)},
		{"read without the year", fmt.Sprintf(`SELECT * FROM %s WHERE student_id = %d AND seq > 0 ORDER BY seq LIMIT 51`, parted, g.id)},
		{"review of a school, this year", fmt.Sprintf(`SELECT * FROM %s WHERE school_id = %d AND graduation_year = %d ORDER BY recorded_at DESC, student_id DESC, seq DESC LIMIT 51`, parted, g.school, l.LastYear)},
		{"review of a school, every year", fmt.Sprintf(`SELECT * FROM %s WHERE school_id = %d ORDER BY recorded_at DESC, student_id DESC, seq DESC LIMIT 51`, parted, g.school)},
	}
	for _, p := range plans {
		plan, err := explain(ctx, pool, p.name, `EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF, SUMMARY OFF) `+p.sql, l.LastYear-l.FirstYear+2)
		if err != nil {
			return res, err
		}
		res.Plans = append(res.Plans, plan)
	}
	// A prepared statement run often gets a generic plan, which cannot
	// prune while planning; it prunes when the executor starts instead
	// ("Subplans Removed").
	generic, err := genericPlan(ctx, pool, parted, g, l.LastYear-l.FirstYear+2)
	if err != nil {
		return res, err
	}
	res.Plans = append(res.Plans, generic)
	fmt.Fprintln(w, "\npartition pruning (EXPLAIN ANALYZE on the partitioned copy):")
	for _, p := range res.Plans {
		fmt.Fprintf(w, "  %-40s reads %d of %d partitions %v\n", p.Name, len(p.Scanned), p.Partitions, p.Scanned)
	}
	fmt.Fprintf(w, "\n%s\n", indent(res.Plans[0].Text))
	fmt.Fprintf(w, "%s\n", indent(res.Plans[len(res.Plans)-1].Text))

	ret, err := retention(ctx, pool, s, l.FirstYear)
	res.Retention = ret
	if err != nil {
		return res, err
	}
	fmt.Fprintf(w, "retention of %d (%d entries):\n", ret.Year, ret.Rows)
	fmt.Fprintf(w, "  flat:   DELETE %s (WAL %s), then VACUUM %s (WAL %s); the table stays %s\n",
		secs(ret.DeleteTime), mb(ret.DeleteWAL), secs(ret.VacuumTime), mb(ret.VacuumWAL), mb(ret.FlatBytesAfter))
	fmt.Fprintf(w, "  parted: DETACH PARTITION … CONCURRENTLY %s, DROP TABLE %s (WAL %s); the table is %s\n",
		secs(ret.DetachTime), secs(ret.DropTime), mb(ret.DetachDropWAL), mb(ret.PartedBytesAfter))
	fmt.Fprintln(w, "  (WAL is the server's, measured around each step: other sessions' writes are counted too)")
	return res, nil
}

// sample draws n graduates of the copy (with an author of their school
// for appends) and the copied schools.
func sample(ctx context.Context, pool *pgxpool.Pool, s string, n int, rng *rand.Rand) ([]graduate, []int64, error) {
	rows, err := pool.Query(ctx, fmt.Sprintf(`SELECT g.student_id, g.school_id, g.graduation_year,
			(SELECT l.author_id FROM %[1]s.flat l WHERE l.student_id = g.student_id ORDER BY seq LIMIT 1)
		FROM %[1]s.graduates g`, s))
	if err != nil {
		return nil, nil, err
	}
	all, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (graduate, error) {
		var g graduate
		return g, r.Scan(&g.id, &g.school, &g.year, &g.author)
	})
	if err != nil {
		return nil, nil, err
	}
	if len(all) == 0 {
		return nil, nil, errors.New("the copy holds no graduate with a ledger")
	}
	rng.Shuffle(len(all), func(i, j int) { all[i], all[j] = all[j], all[i] })
	var schools []int64
	for _, g := range all {
		if !slices.Contains(schools, g.school) {
			schools = append(schools, g.school)
		}
	}
	return all[:min(n, len(all))], schools, nil
}

// measure runs each variant once per graduate, unmeasured, to warm the
// cache, then again measured, the variants alternating so that noise from
// other sessions falls on all of them alike.
func measure(ctx context.Context, pool *pgxpool.Pool, vs []variant, gs []graduate) ([]Timing, error) {
	conn, err := pool.Acquire(ctx)
	if err != nil {
		return nil, err
	}
	defer conn.Release()
	gconn, err := pool.Acquire(ctx)
	if err != nil {
		return nil, err
	}
	defer func() {
		_, _ = gconn.Exec(context.WithoutCancel(ctx), `RESET plan_cache_mode`)
		gconn.Release()
	}()
	if _, err := gconn.Exec(ctx, `SET plan_cache_mode = force_generic_plan`); err != nil {
		return nil, err
	}
	run := func(generic bool, sql string, args []any) (time.Duration, error) {
		c := conn
		if generic {
			c = gconn
		}
		start := time.Now()
		rows, err := c.Query(ctx, sql, args...)
		if err != nil {
			return 0, err
		}
		for rows.Next() {
		}
		rows.Close()
		return time.Since(start), rows.Err()
	}
	ds := make([][]time.Duration, len(vs))
	for pass := 0; pass < 2; pass++ {
		for i, g := range gs {
			for k := range vs {
				v := vs[(k+i)%len(vs)]
				d, err := run(v.generic, v.sql, v.args(g))
				if err != nil {
					return nil, fmt.Errorf("%s: %w", v.name, err)
				}
				if pass == 1 {
					ds[(k+i)%len(vs)] = append(ds[(k+i)%len(vs)], d)
				}
			}
		}
	}
	out := make([]Timing, len(vs))
	for i, v := range vs {
		out[i] = summarise(v.name, ds[i])
	}
	return out, nil
}

// appends times an append on each copy, as the ledger does it: lock the
// head, insert the entry and advance the head in one round trip, commit
// (synchronous_commit as the server has it).
func appends(ctx context.Context, pool *pgxpool.Pool, s string, gs []graduate) ([]Timing, error) {
	conn, err := pool.Acquire(ctx)
	if err != nil {
		return nil, err
	}
	defer conn.Release()
	tables := []string{"flat", "parted"}
	ds := make([][]time.Duration, len(tables))
	now := time.Now().Truncate(time.Microsecond)
	wal := make([][]int64, len(tables))
	for i, g := range gs {
		for k := range tables {
			t := tables[(k+i)%len(tables)]
			var from string
			if err := conn.QueryRow(ctx, `SELECT pg_current_wal_insert_lsn()::text`).Scan(&from); err != nil {
				return nil, err
			}
			start := time.Now()
			err := pgx.BeginFunc(ctx, conn, func(tx pgx.Tx) error {
				var seq int
				var head []byte
				if err := tx.QueryRow(ctx, fmt.Sprintf(lockSQL, s+"."+t), g.id).Scan(&seq, &head); err != nil {
					return err
				}
				h := sha256.Sum256(append(head, byte(seq)))
				b := &pgx.Batch{}
				b.Queue(fmt.Sprintf(insertSQL, s+"."+t), g.id, seq+1, now, g.author, head, h[:], g.school, g.year)
				b.Queue(fmt.Sprintf(advanceSQL, s+"."+t), g.id, seq+1, h[:])
				return tx.SendBatch(ctx, b).Close()
			})
			if err != nil {
				return nil, fmt.Errorf("append to %s: %w", t, err)
			}
			ds[(k+i)%len(tables)] = append(ds[(k+i)%len(tables)], time.Since(start))
			var bytes int64
			if err := conn.QueryRow(ctx, `SELECT pg_wal_lsn_diff(pg_current_wal_insert_lsn(), $1::pg_lsn)::bigint`, from).Scan(&bytes); err != nil {
				return nil, err
			}
			wal[(k+i)%len(tables)] = append(wal[(k+i)%len(tables)], bytes)
		}
	}
	out := []Timing{summarise("append: flat", ds[0]), summarise("append: parted", ds[1])}
	for i := range out {
		slices.Sort(wal[i])
		out[i].WALMin, out[i].WALMedian = wal[i][0], wal[i][len(wal[i])/2]
	}
	return out, nil
}

var partitionRef = regexp.MustCompile(`\bparted_(\d{4})\b`)

func explain(ctx context.Context, pool *pgxpool.Pool, name, sql string, partitions int) (Plan, error) {
	rows, err := pool.Query(ctx, sql)
	if err != nil {
		return Plan{}, fmt.Errorf("explain %s: %w", name, err)
	}
	lines, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return Plan{}, fmt.Errorf("explain %s: %w", name, err)
	}
	return plan(name, strings.Join(lines, "\n"), partitions), nil
}

func plan(name, text string, partitions int) Plan {
	p := Plan{Name: name, Text: text, Partitions: partitions}
	for _, m := range partitionRef.FindAllStringSubmatch(text, -1) {
		if !slices.Contains(p.Scanned, m[0]) {
			p.Scanned = append(p.Scanned, m[0])
		}
	}
	slices.Sort(p.Scanned)
	return p
}

// genericPlan explains the graduate's read as a prepared statement forced
// onto its generic plan, on a connection of its own.
func genericPlan(ctx context.Context, pool *pgxpool.Pool, parted string, g graduate, partitions int) (Plan, error) {
	conn, err := pool.Acquire(ctx)
	if err != nil {
		return Plan{}, err
	}
	defer conn.Release()
	const name = "read with the year, generic plan"
	var lines []string
	err = pgx.BeginFunc(ctx, conn, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `SET LOCAL plan_cache_mode = force_generic_plan`); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, fmt.Sprintf(`PREPARE bench_partition_read (bigint, int) AS
			SELECT * FROM %s WHERE student_id = $1 AND seq > 0 AND graduation_year = $2 ORDER BY seq LIMIT 51`, parted)); err != nil {
			return err
		}
		rows, err := tx.Query(ctx, fmt.Sprintf(`EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF, SUMMARY OFF) EXECUTE bench_partition_read (%d, %d)`, g.id, g.year))
		if err != nil {
			return err
		}
		if lines, err = pgx.CollectRows(rows, pgx.RowTo[string]); err != nil {
			return err
		}
		_, err = tx.Exec(ctx, `DEALLOCATE bench_partition_read`)
		return err
	})
	if err != nil {
		return Plan{}, fmt.Errorf("explain %s: %w", name, err)
	}
	return plan(name, strings.Join(lines, "\n"), partitions), nil
}

// retention removes the oldest cohort's entries from each copy: DELETE
// (and the VACUUM that must follow to reuse the space) from the flat one,
// DETACH … CONCURRENTLY and DROP of its partition from the other.
func retention(ctx context.Context, pool *pgxpool.Pool, s string, year int) (Retention, error) {
	r := Retention{Year: year}
	conn, err := pool.Acquire(ctx)
	if err != nil {
		return r, err
	}
	defer conn.Release()
	lsn := func() (string, error) {
		var l string
		return l, conn.QueryRow(ctx, `SELECT pg_current_wal_insert_lsn()::text`).Scan(&l)
	}
	since := func(from string) (int64, error) {
		var n int64
		return n, conn.QueryRow(ctx, `SELECT pg_wal_lsn_diff(pg_current_wal_insert_lsn(), $1::pg_lsn)::bigint`, from).Scan(&n)
	}
	step := func(sql string) (time.Duration, int64, error) {
		from, err := lsn()
		if err != nil {
			return 0, 0, err
		}
		start := time.Now()
		if _, err := conn.Exec(ctx, sql); err != nil {
			return 0, 0, fmt.Errorf("%s: %w", firstLine(sql), err)
		}
		d := time.Since(start)
		wal, err := since(from)
		return d, wal, err
	}
	if err := conn.QueryRow(ctx, fmt.Sprintf(`SELECT count(*) FROM %s.parted_%d`, s, year)).Scan(&r.Rows); err != nil {
		return r, err
	}
	if r.DeleteTime, r.DeleteWAL, err = step(fmt.Sprintf(`DELETE FROM %s.flat WHERE graduation_year = %d`, s, year)); err != nil {
		return r, err
	}
	if r.VacuumTime, r.VacuumWAL, err = step(fmt.Sprintf(`VACUUM %s.flat`, s)); err != nil {
		return r, err
	}
	from, err := lsn()
	if err != nil {
		return r, err
	}
	if r.DetachTime, _, err = step(fmt.Sprintf(`ALTER TABLE %[1]s.parted DETACH PARTITION %[1]s.parted_%[2]d CONCURRENTLY`, s, year)); err != nil {
		return r, err
	}
	if r.DropTime, _, err = step(fmt.Sprintf(`DROP TABLE %s.parted_%d`, s, year)); err != nil {
		return r, err
	}
	if r.DetachDropWAL, err = since(from); err != nil {
		return r, err
	}
	err = conn.QueryRow(ctx, fmt.Sprintf(`SELECT pg_total_relation_size('%[1]s.flat'),
		(SELECT sum(pg_total_relation_size(inhrelid)) FROM pg_inherits WHERE inhparent = '%[1]s.parted'::regclass)::bigint`, s)).
		Scan(&r.FlatBytesAfter, &r.PartedBytesAfter)
	return r, err
}

func ms(d time.Duration) string { return fmt.Sprintf("%.3fms", float64(d.Microseconds())/1000) }

func secs(d time.Duration) string { return fmt.Sprintf("%.2fs", d.Seconds()) }

func mb(b int64) string { return fmt.Sprintf("%.1f MB", float64(b)/(1<<20)) }

func indent(s string) string { return "    " + strings.ReplaceAll(s, "\n", "\n    ") }
