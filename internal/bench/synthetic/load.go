package synthetic

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"runtime"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgerrcode"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgtype"

	"github.com/bangfu/bangfu/internal/postgres"
	"github.com/bangfu/bangfu/internal/settings"
)

// loaded are the tables that get many rows; their secondary indexes and
// foreign keys are dropped during the load and recreated after it.
var loaded = []string{"students", "hardships", "plan_revisions", "plan_measures", "ledger_entries", "destinations",
	"escalations", "notifications", "audit_log", "case_activity"}

// identities are the tables whose ids the generator assigns.
var identities = []string{"schools", "departments", "users", "students", "hardships", "destinations", "escalations",
	"notifications", "audit_log"}

type loader struct {
	db    *postgres.DB
	g     *gen
	out   io.Writer
	start time.Time
	stats Stats
	tx    pgx.Tx
}

type ddl struct{ Table, Name, Def string }

func (l *loader) run(ctx context.Context) error {
	conn, err := l.db.Pool.Acquire(ctx)
	if err != nil {
		return err
	}
	defer conn.Release()
	tx, err := conn.Begin(ctx)
	if err != nil {
		return err
	}
	defer tx.Rollback(context.WithoutCancel(ctx))
	l.tx = tx
	g := l.g

	phase := l.phase("prepare")
	var exists bool
	if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM students)`).Scan(&exists); err != nil {
		var pe *pgconn.PgError
		if errors.As(err, &pe) && pe.Code == pgerrcode.UndefinedTable {
			return errors.New("the database has no bangfu schema: run `bangfu migrate` first")
		}
		return err
	}
	if exists {
		return ErrNotEmpty
	}
	for _, q := range []string{
		// Two loads at once take turns; the second finds graduates.
		`LOCK TABLE students IN SHARE ROW EXCLUSIVE MODE`,
		`SET LOCAL synchronous_commit = off`,
		`SET LOCAL maintenance_work_mem = '512MB'`,
		`SET LOCAL work_mem = '256MB'`,
	} {
		if _, err := tx.Exec(ctx, q); err != nil {
			return err
		}
	}
	if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM students)`).Scan(&exists); err != nil {
		return err
	} else if exists {
		return ErrNotEmpty
	}
	bases := map[string]*int64{
		"schools": &g.ids.schools, "departments": &g.ids.departments, "users": &g.ids.users, "students": &g.ids.students,
		"hardships": &g.ids.hardships, "destinations": &g.ids.destinations, "escalations": &g.ids.escalations,
		"notifications": &g.ids.notifications, "audit_log": &g.ids.audit,
	}
	for _, t := range identities {
		if err := tx.QueryRow(ctx, `SELECT nextval(pg_get_serial_sequence($1, 'id'))`, t).Scan(bases[t]); err != nil {
			return err
		}
	}
	rules, err := (&settings.Store{DB: l.db}).Get(ctx, tx)
	if err != nil {
		return err
	}
	g.rules = rules.Settings
	if err := g.prepare(); err != nil {
		return err
	}
	l.logf("province drawn: %d schools, %d graduates (%d cases), %d users", len(g.schools), len(g.students), len(g.cases), len(g.users))
	indexes, fks, err := l.dropSecondary(ctx)
	if err != nil {
		return err
	}
	phase.done(0)

	steps := []struct {
		name string
		fn   func(context.Context) error
	}{
		{"schools", l.copySchools},
		{"users", l.copyUsers},
		{"ledger_entries", l.copyLedger},
		{"students", l.copyStudents},
		{"hardships", l.copyHardships},
		{"plans", l.copyPlans},
		{"destinations", l.copyDestinations},
		{"escalations", l.copyEscalations},
		{"audit_log", l.copyAudit},
		{"case_activity", l.fillCaseActivity},
	}
	for _, s := range steps {
		if err := s.fn(ctx); err != nil {
			return fmt.Errorf("load %s: %w", s.name, err)
		}
	}

	phase = l.phase("indexes")
	for _, ix := range indexes {
		t := time.Now()
		if _, err := tx.Exec(ctx, ix.Def); err != nil {
			return fmt.Errorf("recreate index %s: %w", ix.Name, err)
		}
		l.logf("  index %s (%.1fs)", ix.Name, time.Since(t).Seconds())
	}
	l.logf("recreated %d indexes", len(indexes))
	phase.done(0)
	// The foreign keys' checks are joins the planner plans for tables it
	// has no statistics of yet: without them it probes the primary key of
	// ledger_entries once per entry for the corrections' key instead of
	// reading the few corrections through their partial index (19 s of
	// 63 s at a million graduates). The other checks' plans do not change
	// with statistics. The ANALYZE after the commit gathers them again.
	phase = l.phase("analyze ledger_entries")
	if _, err := tx.Exec(ctx, `ANALYZE ledger_entries`); err != nil {
		return err
	}
	phase.done(0)
	phase = l.phase("foreign keys")
	for _, fk := range fks {
		t := time.Now()
		if _, err := tx.Exec(ctx, fmt.Sprintf(`ALTER TABLE %s ADD CONSTRAINT %s %s`,
			pgx.Identifier{fk.Table}.Sanitize(), pgx.Identifier{fk.Name}.Sanitize(), fk.Def)); err != nil {
			return fmt.Errorf("recreate constraint %s: %w", fk.Name, err)
		}
		l.logf("  constraint %s (%.1fs)", fk.Name, time.Since(t).Seconds())
	}
	l.logf("recreated and validated %d foreign keys", len(fks))
	phase.done(0)

	phase = l.phase("commit")
	for _, t := range identities {
		last := *bases[t] + l.stats.Rows[t] - 1
		if _, err := tx.Exec(ctx, `SELECT setval(pg_get_serial_sequence($1, 'id'), $2)`, t, max(last, *bases[t])); err != nil {
			return err
		}
	}
	if err := tx.Commit(ctx); err != nil {
		return err
	}
	phase.done(0)

	tables := l.tables()
	// VACUUM as well as ANALYZE: the visibility map and hint bits are set
	// once here rather than by the first benchmark's reads (index-only
	// scans need the map, and autovacuum may be off or slow to start).
	if l.g.opts.AnalyzeOnly {
		phase = l.phase("analyze")
		_, err = conn.Exec(ctx, `ANALYZE `+tables)
	} else {
		phase = l.phase("vacuum analyze")
		_, err = conn.Exec(ctx, `VACUUM (ANALYZE) `+tables)
	}
	if err != nil {
		return err
	}
	phase.done(0)
	if err := conn.QueryRow(ctx, `SELECT pg_database_size(current_database())`).Scan(&l.stats.DatabaseBytes); err != nil {
		return err
	}
	l.stats.Logins = g.sampleLogins()
	return nil
}

// tables are the tables the load writes, for ANALYZE and VACUUM.
func (l *loader) tables() string {
	tables := pgx.Identifier{"schools"}.Sanitize()
	for _, t := range append([]string{"departments", "users"}, loaded...) {
		tables += ", " + pgx.Identifier{t}.Sanitize()
	}
	return tables
}

// dropSecondary drops the loaded tables' indexes that back no constraint,
// and their foreign keys, and returns the statements that recreate them
// exactly as the migrations defined them.
func (l *loader) dropSecondary(ctx context.Context) (indexes, fks []ddl, err error) {
	rows, err := l.tx.Query(ctx, `SELECT i.tablename, i.indexname, i.indexdef FROM pg_indexes i
		WHERE i.schemaname = current_schema() AND i.tablename = ANY($1)
		  AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conname = i.indexname AND c.connamespace = current_schema()::regnamespace)
		ORDER BY i.tablename, i.indexname`, loaded)
	if err != nil {
		return nil, nil, err
	}
	if indexes, err = pgx.CollectRows(rows, pgx.RowToStructByPos[ddl]); err != nil {
		return nil, nil, err
	}
	rows, err = l.tx.Query(ctx, `SELECT t.relname, c.conname, pg_get_constraintdef(c.oid) FROM pg_constraint c
		JOIN pg_class t ON t.oid = c.conrelid
		WHERE c.contype = 'f' AND t.relnamespace = current_schema()::regnamespace AND t.relname = ANY($1)
		ORDER BY t.relname, c.conname`, loaded)
	if err != nil {
		return nil, nil, err
	}
	if fks, err = pgx.CollectRows(rows, pgx.RowToStructByPos[ddl]); err != nil {
		return nil, nil, err
	}
	for _, fk := range fks {
		if _, err := l.tx.Exec(ctx, fmt.Sprintf(`ALTER TABLE %s DROP CONSTRAINT %s`,
			pgx.Identifier{fk.Table}.Sanitize(), pgx.Identifier{fk.Name}.Sanitize())); err != nil {
			return nil, nil, err
		}
	}
	for _, ix := range indexes {
		if _, err := l.tx.Exec(ctx, `DROP INDEX `+pgx.Identifier{ix.Name}.Sanitize()); err != nil {
			return nil, nil, err
		}
	}
	l.logf("dropped %d secondary indexes and %d foreign keys of the loaded tables for the load", len(indexes), len(fks))
	return indexes, fks, nil
}

type phaseTimer struct {
	l     *loader
	name  string
	start time.Time
}

func (l *loader) phase(name string) *phaseTimer {
	l.logf("%s …", name)
	return &phaseTimer{l: l, name: name, start: time.Now()}
}

func (p *phaseTimer) done(rows int64) {
	d := time.Since(p.start)
	p.l.stats.Phases = append(p.l.stats.Phases, Phase{Name: p.name, Rows: rows, Elapsed: d})
	if rows > 0 {
		p.l.logf("%s: %d rows in %.1fs (%.0f rows/s)", p.name, rows, d.Seconds(), float64(rows)/d.Seconds())
	} else {
		p.l.logf("%s: %.1fs", p.name, d.Seconds())
	}
}

// copyRows copies n rows into table, making each as COPY takes it.
func (l *loader) copyRows(ctx context.Context, table string, cols []string, n int, row func(k int) []any) error {
	copied, err := l.tx.CopyFrom(ctx, pgx.Identifier{table}, cols, pgx.CopyFromSlice(n, func(k int) ([]any, error) { return row(k), nil }))
	l.stats.Rows[table] += copied
	return err
}

// copyChunks copies into table the rows that gen makes for each chunk of
// graduates. Workers make chunks ahead of the COPY and encode them in
// COPY's binary format, so that the one connection only sends bytes; the
// COPY takes the chunks in order, and at most a few wait in memory at a
// time.
func (l *loader) copyChunks(ctx context.Context, table string, cols []string, gen func(c int, rows [][]any) [][]any) error {
	phase := l.phase(table)
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	quoted := make([]string, len(cols))
	for k, c := range cols {
		quoted[k] = pgx.Identifier{c}.Sanitize()
	}
	target := fmt.Sprintf("%s (%s)", pgx.Identifier{table}.Sanitize(), strings.Join(quoted, ", "))
	sd, err := l.tx.Conn().Prepare(ctx, "", "SELECT "+strings.Join(quoted, ", ")+" FROM "+pgx.Identifier{table}.Sanitize())
	if err != nil {
		return err
	}
	oids := make([]uint32, len(sd.Fields))
	for k, f := range sd.Fields {
		oids[k] = f.DataTypeOID
	}
	workers := max(2, runtime.GOMAXPROCS(0))
	queue := make(chan chan encoded, 4*workers)
	sem := make(chan struct{}, workers)
	go func() {
		defer close(queue)
		for c := range l.g.chunks() {
			select {
			case sem <- struct{}{}:
			case <-ctx.Done():
				return
			}
			ch := make(chan encoded, 1)
			go func() {
				defer func() { <-sem }()
				ch <- encodeRows(oids, gen(c, nil))
			}()
			select {
			case queue <- ch:
			case <-ctx.Done():
				return
			}
		}
	}()
	src := &chunkReader{ctx: ctx, queue: queue, l: l, table: table, last: time.Now(), buf: copyHeader}
	tag, err := l.tx.Conn().PgConn().CopyFrom(ctx, src, "COPY "+target+" FROM STDIN BINARY")
	n := tag.RowsAffected()
	l.stats.Rows[table] += n
	if err != nil {
		return err
	}
	phase.done(n)
	return nil
}

// copyHeader starts COPY's binary format: the signature, no flags, no
// header extension. copyTrailer ends it.
var copyHeader, copyTrailer = []byte("PGCOPY\n\377\r\n\000\000\000\000\000\000\000\000\000"), []byte{0xff, 0xff}

// encoded is a chunk's rows in COPY's binary format.
type encoded struct {
	data []byte
	rows int
	err  error
}

// typeMaps are the workers' encoders: a pgtype.Map is not safe for
// concurrent use, and it caches its encode plans.
var typeMaps = sync.Pool{New: func() any { return pgtype.NewMap() }}

// encodeRows writes rows in COPY's binary format, as pgx's CopyFrom does
// (each value with its column's type's binary encoding, NULL for nil).
func encodeRows(oids []uint32, rows [][]any) encoded {
	m := typeMaps.Get().(*pgtype.Map)
	defer typeMaps.Put(m)
	var buf []byte
	for _, row := range rows {
		if len(row) != len(oids) {
			return encoded{err: fmt.Errorf("expected %d values, got %d", len(oids), len(row))}
		}
		buf = binary.BigEndian.AppendUint16(buf, uint16(len(row)))
		for k, v := range row {
			at := len(buf)
			buf = append(buf, 0xff, 0xff, 0xff, 0xff) // -1: NULL
			out, err := m.Encode(oids[k], pgtype.BinaryFormatCode, v, buf)
			if err != nil {
				return encoded{err: fmt.Errorf("column %d: %w", k+1, err)}
			}
			if out != nil {
				buf = out
				binary.BigEndian.PutUint32(buf[at:], uint32(len(buf)-at-4))
			}
		}
	}
	return encoded{data: buf, rows: len(rows)}
}

// chunkReader is the COPY's data: the header, the chunks as the queue
// delivers them, the trailer.
type chunkReader struct {
	ctx   context.Context
	queue chan chan encoded
	buf   []byte
	done  bool
	n     int64
	l     *loader
	table string
	last  time.Time
}

func (r *chunkReader) Read(p []byte) (int, error) {
	for len(r.buf) == 0 {
		if r.done {
			return 0, io.EOF
		}
		ch, ok := <-r.queue
		if !ok {
			if err := r.ctx.Err(); err != nil {
				return 0, err
			}
			r.buf, r.done = copyTrailer, true
			break
		}
		var e encoded
		select {
		case e = <-ch:
		case <-r.ctx.Done():
			return 0, r.ctx.Err()
		}
		if e.err != nil {
			return 0, e.err
		}
		r.buf = e.data
		r.n += int64(e.rows)
		if time.Since(r.last) > 5*time.Second {
			r.last = time.Now()
			r.l.logf("  %s: %d rows", r.table, r.n)
		}
	}
	n := copy(p, r.buf)
	r.buf = r.buf[n:]
	return n, nil
}
