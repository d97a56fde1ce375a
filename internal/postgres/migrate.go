package postgres

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io/fs"
	"log/slog"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"
	"github.com/riverqueue/river/rivermigrate"

	"github.com/bangfu/bangfu/migrations"
)

// migrateLockKey is the advisory lock that serialises migrations between
// processes that start at the same time.
const migrateLockKey = 0x62616e67 // "bang"

// NoTransaction, as the first line of a migration file, runs the file
// outside a transaction, one statement at a time: for statements that
// PostgreSQL refuses in a transaction (CREATE INDEX CONCURRENTLY, which
// builds an index without locking writes). Such a file must be safe to run
// again after a failure part-way, since its completed statements stay:
// precede `CREATE INDEX CONCURRENTLY x` with `DROP INDEX CONCURRENTLY IF
// EXISTS x`, which also removes the invalid index a failed build leaves.
const NoTransaction = "-- bangfu:no-transaction"

// RunnerVersion changes when the migration runner's bookkeeping changes
// (2: checksums), so that test templates built by an older runner are not
// reused.
const RunnerVersion = 2

// Migration is one numbered schema change.
type Migration struct {
	Version int
	Name    string
	SQL     string
	// Checksum is the SHA-256 of the file, kept with the applied version:
	// a file changed after it was applied is refused (add a new one).
	Checksum string
	// InTransaction is false for files that start with NoTransaction.
	InTransaction bool
}

// Migrations returns the embedded migrations in order.
func Migrations() ([]Migration, error) {
	embeddedOnce.Do(func() { embedded, embeddedErr = MigrationsIn(migrations.FS) })
	return embedded, embeddedErr
}

var (
	embeddedOnce sync.Once
	embedded     []Migration
	embeddedErr  error
)

// MigrationsIn returns the migrations of fsys (files named
// <number>_<name>.sql in its root), in order.
func MigrationsIn(fsys fs.FS) ([]Migration, error) {
	entries, err := fs.ReadDir(fsys, ".")
	if err != nil {
		return nil, err
	}
	var out []Migration
	for _, e := range entries {
		name := e.Name()
		if !strings.HasSuffix(name, ".sql") {
			continue
		}
		num, _, ok := strings.Cut(name, "_")
		v, err := strconv.Atoi(num)
		if !ok || err != nil || v < 1 {
			return nil, fmt.Errorf("migration %s: name must start with a positive number and an underscore", name)
		}
		b, err := fs.ReadFile(fsys, name)
		if err != nil {
			return nil, err
		}
		sum := sha256.Sum256(b)
		sql := string(b)
		first, _, _ := strings.Cut(sql, "\n")
		out = append(out, Migration{Version: v, Name: name, SQL: sql, Checksum: hex.EncodeToString(sum[:]),
			InTransaction: strings.TrimSpace(first) != NoTransaction})
	}
	slices.SortFunc(out, func(a, b Migration) int { return a.Version - b.Version })
	for i := 1; i < len(out); i++ {
		if out[i].Version == out[i-1].Version {
			return nil, fmt.Errorf("migrations %s and %s share a version", out[i-1].Name, out[i].Name)
		}
	}
	return out, nil
}

// Migrate brings the application schema and River's schema up to date. It
// is idempotent, and safe when several processes run it at once: they take
// turns under an advisory lock. It refuses to run when an applied file has
// changed since (ErrChanged).
func (db *DB) Migrate(ctx context.Context, log *slog.Logger) error {
	ms, err := Migrations()
	if err != nil {
		return err
	}
	return db.migrate(ctx, log, ms, true)
}

// MigrateOnly applies ms (and not River's migrations), as Migrate does.
func (db *DB) MigrateOnly(ctx context.Context, log *slog.Logger, ms []Migration) error {
	return db.migrate(ctx, log, ms, false)
}

func (db *DB) migrate(ctx context.Context, log *slog.Logger, ms []Migration, river bool) error {
	conn, err := db.Pool.Acquire(ctx)
	if err != nil {
		return err
	}
	defer conn.Release()
	// Wait for the lock between statements, not inside one: a process
	// waiting inside pg_advisory_lock holds a snapshot, which a CREATE INDEX
	// CONCURRENTLY of the process holding the lock waits for — a deadlock.
	for wait := 10 * time.Millisecond; ; wait = min(2*wait, time.Second) {
		var got bool
		if err := conn.QueryRow(ctx, `SELECT pg_try_advisory_lock($1)`, migrateLockKey).Scan(&got); err != nil {
			return fmt.Errorf("take migration lock: %w", err)
		}
		if got {
			break
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("take migration lock: %w", ctx.Err())
		case <-time.After(wait):
		}
	}
	defer func() {
		// Unlock on a fresh context: ctx may be cancelled already.
		_, _ = conn.Exec(context.WithoutCancel(ctx), `SELECT pg_advisory_unlock($1)`, migrateLockKey)
	}()
	if err := applyOurs(ctx, log, conn, ms); err != nil {
		return err
	}
	if !river {
		return nil
	}
	// River's migrations, under the same lock.
	migrator, err := rivermigrate.New(riverpgxv5.New(db.Pool), &rivermigrate.Config{Logger: log})
	if err != nil {
		return err
	}
	res, err := migrator.Migrate(ctx, rivermigrate.DirectionUp, nil)
	if err != nil {
		return fmt.Errorf("river migrations: %w", err)
	}
	for _, v := range res.Versions {
		log.Info("applied river migration", "version", v.Version)
	}
	return nil
}

// applyOurs applies ms on conn, which holds the migration lock.
func applyOurs(ctx context.Context, log *slog.Logger, conn *pgxpool.Conn, ms []Migration) error {
	// The runner's own table, and its checksum column (added after the
	// first releases: rows from before it have none until adopted below).
	if _, err := conn.Exec(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
			version integer PRIMARY KEY,
			name text NOT NULL,
			applied_at timestamptz NOT NULL DEFAULT now());
		ALTER TABLE schema_migrations ADD COLUMN IF NOT EXISTS checksum text`); err != nil {
		return fmt.Errorf("create schema_migrations: %w", err)
	}
	applied, err := appliedChecksums(ctx, conn)
	if err != nil {
		return err
	}
	if err := checkChecksums(ms, applied); err != nil {
		return err
	}
	for _, m := range ms {
		sum, done := applied[m.Version]
		if done {
			if sum == "" {
				// Applied before checksums were kept: adopt the file as it is.
				if _, err := conn.Exec(ctx, `UPDATE schema_migrations SET checksum = $2 WHERE version = $1`, m.Version, m.Checksum); err != nil {
					return err
				}
				log.Info("recorded the checksum of an applied migration", "name", m.Name)
			}
			continue
		}
		record := func(q execer) error {
			_, err := q.Exec(ctx, `INSERT INTO schema_migrations (version, name, checksum) VALUES ($1, $2, $3)`, m.Version, m.Name, m.Checksum)
			return err
		}
		if m.InTransaction {
			err = pgx.BeginFunc(ctx, conn, func(tx pgx.Tx) error {
				if _, err := tx.Exec(ctx, m.SQL); err != nil {
					return err
				}
				return record(tx)
			})
		} else {
			err = runEach(ctx, conn.Conn(), m.SQL)
			if err == nil {
				err = record(conn)
			}
		}
		if err != nil {
			return fmt.Errorf("migration %s: %w", m.Name, err)
		}
		log.Info("applied migration", "name", m.Name, "transaction", m.InTransaction)
	}
	return nil
}

type execer interface {
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
}

// runEach runs the statements of sql one by one, each on its own (a
// multi-statement string would run as one implicit transaction).
func runEach(ctx context.Context, conn *pgx.Conn, sql string) error {
	for _, stmt := range SplitStatements(sql) {
		if _, err := conn.Exec(ctx, stmt); err != nil {
			return fmt.Errorf("%w\nin statement: %.200s", err, stmt)
		}
	}
	return nil
}

func appliedChecksums(ctx context.Context, q Querier) (map[int]string, error) {
	// Read through to_jsonb so that a table from before the checksum
	// column reads as "no checksums yet" rather than failing.
	rows, err := q.Query(ctx, `SELECT version, coalesce(to_jsonb(m)->>'checksum', '') FROM schema_migrations m`)
	if err != nil {
		return nil, err
	}
	applied := map[int]string{}
	var (
		v   int
		sum string
	)
	_, err = pgx.ForEachRow(rows, []any{&v, &sum}, func() error {
		applied[v] = sum
		return nil
	})
	return applied, err
}

// ErrChanged is returned when a migration file differs from the one that
// was applied.
type ErrChanged struct{ Name string }

func (e ErrChanged) Error() string {
	return fmt.Sprintf("migration %s was changed after it was applied: restore it and add the change as a new migration", e.Name)
}

func checkChecksums(ms []Migration, applied map[int]string) error {
	for _, m := range ms {
		if sum, ok := applied[m.Version]; ok && sum != "" && sum != m.Checksum {
			return ErrChanged{m.Name}
		}
	}
	return nil
}

// SchemaCurrent returns nil when every embedded migration and every River
// migration has been applied, unchanged, and an error saying what is wrong
// otherwise: `serve` and `worker` refuse to start, and /readyz is not ready.
func (db *DB) SchemaCurrent(ctx context.Context) error {
	ms, err := Migrations()
	if err != nil {
		return err
	}
	if err := db.SchemaCurrentOnly(ctx, ms); err != nil {
		return err
	}
	migrator, err := rivermigrate.New(riverpgxv5.New(db.Pool), nil)
	if err != nil {
		return err
	}
	res, err := migrator.Validate(ctx, nil)
	if err != nil {
		return fmt.Errorf("check river schema: %w", err)
	}
	if !res.OK {
		return fmt.Errorf("river schema not current: %s", strings.Join(res.Messages, "; "))
	}
	return nil
}

// SchemaCurrentOnly checks ms (and not River's migrations), as
// SchemaCurrent does.
func (db *DB) SchemaCurrentOnly(ctx context.Context, ms []Migration) error {
	applied, err := appliedChecksums(ctx, db.Pool)
	if err != nil {
		return fmt.Errorf("read schema version: %w", err)
	}
	if err := checkChecksums(ms, applied); err != nil {
		return err
	}
	for _, m := range ms {
		if _, ok := applied[m.Version]; !ok {
			return fmt.Errorf("migration %s is not applied: run `bangfu migrate`", m.Name)
		}
	}
	return nil
}

// SplitStatements splits SQL into its statements at the semicolons that
// end them, minding quotes, quoted identifiers, dollar-quoted bodies and
// comments. Empty statements are left out.
func SplitStatements(sql string) []string {
	var (
		out   []string
		start int
	)
	flush := func(end int) {
		if s := strings.TrimSpace(sql[start:end]); s != "" && !onlyComments(s) {
			out = append(out, s)
		}
		start = end + 1
	}
	for i := 0; i < len(sql); i++ {
		switch c := sql[i]; {
		case c == '-' && strings.HasPrefix(sql[i:], "--"):
			if j := strings.IndexByte(sql[i:], '\n'); j >= 0 {
				i += j
			} else {
				i = len(sql)
			}
		case c == '/' && strings.HasPrefix(sql[i:], "/*"):
			if j := strings.Index(sql[i+2:], "*/"); j >= 0 {
				i += j + 3
			} else {
				i = len(sql)
			}
		case c == '\'' || c == '"':
			for i++; i < len(sql); i++ {
				if sql[i] == c {
					if i+1 < len(sql) && sql[i+1] == c {
						i++ // doubled quote
						continue
					}
					break
				}
			}
		case c == '$':
			if tag := dollarTag(sql[i:]); tag != "" {
				if j := strings.Index(sql[i+len(tag):], tag); j >= 0 {
					i += len(tag) + j + len(tag) - 1
				} else {
					i = len(sql)
				}
			}
		case c == ';':
			flush(i)
		}
	}
	if start < len(sql) {
		flush(len(sql))
	}
	return out
}

// dollarTag returns the $tag$ opening s, or "".
func dollarTag(s string) string {
	for j := 1; j < len(s); j++ {
		switch c := s[j]; {
		case c == '$':
			return s[:j+1]
		case c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || (j > 1 && c >= '0' && c <= '9'):
		default:
			return ""
		}
	}
	return ""
}

func onlyComments(s string) bool {
	for _, line := range strings.Split(s, "\n") {
		if l := strings.TrimSpace(line); l != "" && !strings.HasPrefix(l, "--") {
			return false
		}
	}
	return true
}
