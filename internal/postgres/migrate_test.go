package postgres_test

import (
	"context"
	"log/slog"
	"testing"
	"testing/fstest"

	"github.com/stretchr/testify/require"

	"github.com/bangfu/bangfu/internal/pgtest"
	"github.com/bangfu/bangfu/internal/postgres"
)

func files(kv ...string) fstest.MapFS {
	m := fstest.MapFS{}
	for i := 0; i < len(kv); i += 2 {
		m[kv[i]] = &fstest.MapFile{Data: []byte(kv[i+1])}
	}
	return m
}

func open(t *testing.T, url string) *postgres.DB {
	t.Helper()
	db, err := postgres.Open(context.Background(), url, 4)
	require.NoError(t, err)
	t.Cleanup(db.Close)
	return db
}

func migrate(t *testing.T, db *postgres.DB, fsys fstest.MapFS) error {
	t.Helper()
	ms, err := postgres.MigrationsIn(fsys)
	require.NoError(t, err)
	return db.MigrateOnly(t.Context(), slog.New(slog.DiscardHandler), ms)
}

func current(t *testing.T, db *postgres.DB, fsys fstest.MapFS) error {
	t.Helper()
	ms, err := postgres.MigrationsIn(fsys)
	require.NoError(t, err)
	return db.SchemaCurrentOnly(t.Context(), ms)
}

const table = `CREATE TABLE things (id bigint PRIMARY KEY, name text NOT NULL);
INSERT INTO things SELECT g, 'thing ' || g FROM generate_series(1, 1000) g;`

// concurrently cannot run in a transaction: PostgreSQL refuses it there.
const concurrently = postgres.NoTransaction + `
-- Builds without locking writes; safe to run again after a failure.
DROP INDEX CONCURRENTLY IF EXISTS things_name;
CREATE INDEX CONCURRENTLY things_name ON things (name);
`

// TestNoTransactionMigrations: a file marked no-transaction runs outside a
// transaction, statement by statement, so CREATE INDEX CONCURRENTLY works
// and builds a valid index; unmarked files run in a transaction as before,
// where the same statement fails.
func TestNoTransactionMigrations(t *testing.T) {
	t.Parallel()
	db := open(t, pgtest.NewEmptyURL(t))
	fsys := files("0001_things.sql", table, "0002_things_name.sql", concurrently)
	require.NoError(t, migrate(t, db, fsys))
	var valid bool
	require.NoError(t, db.Pool.QueryRow(t.Context(), `SELECT indisvalid FROM pg_index WHERE indexrelid = 'things_name'::regclass`).Scan(&valid))
	require.True(t, valid)
	require.NoError(t, migrate(t, db, fsys), "idempotent")
	require.NoError(t, current(t, db, fsys))

	other := open(t, pgtest.NewEmptyURL(t))
	inTx := files("0001_things.sql", table, "0002_things_name.sql", "CREATE INDEX CONCURRENTLY things_name ON things (name);")
	require.ErrorContains(t, migrate(t, other, inTx), "cannot run inside a transaction block")
	require.Error(t, current(t, other, inTx), "0002 is not applied")
}

// TestChangedMigrationIsRefused: the checksum of every applied file is
// kept; a file changed afterwards stops migrate and makes the schema not
// current (serve and worker refuse to start, /readyz is not ready). A
// database migrated before checksums were kept adopts its files' sums.
func TestChangedMigrationIsRefused(t *testing.T) {
	t.Parallel()
	db := open(t, pgtest.NewEmptyURL(t))
	fsys := files("0001_things.sql", table, "0002_more.sql", `ALTER TABLE things ADD COLUMN note text;`)
	require.NoError(t, migrate(t, db, fsys))

	changed := files("0001_things.sql", table+"\n-- an innocent comment", "0002_more.sql", `ALTER TABLE things ADD COLUMN note text;`)
	err := migrate(t, db, changed)
	require.ErrorContains(t, err, "migration 0001_things.sql was changed after it was applied")
	require.ErrorAs(t, err, new(postgres.ErrChanged))
	require.ErrorContains(t, current(t, db, changed), "0001_things.sql was changed")
	require.NoError(t, current(t, db, fsys))

	// Rows from the runner before checksums: adopted by the next migrate.
	_, err = db.Pool.Exec(t.Context(), `UPDATE schema_migrations SET checksum = NULL`)
	require.NoError(t, err)
	require.NoError(t, current(t, db, changed), "nothing to compare with yet")
	require.NoError(t, migrate(t, db, fsys))
	require.ErrorContains(t, current(t, db, changed), "was changed")

	// Any number of files, applied in numeric order.
	more := files("0001_things.sql", table, "0002_more.sql", `ALTER TABLE things ADD COLUMN note text;`,
		"0010_ten.sql", `ALTER TABLE things ADD COLUMN ten int;`, "0009_nine.sql", `ALTER TABLE things ADD COLUMN nine int;`,
		"0011_eleven.sql", `UPDATE things SET ten = nine;`)
	require.NoError(t, migrate(t, db, more))
	var names []string
	rows, err := db.Pool.Query(t.Context(), `SELECT name FROM schema_migrations ORDER BY applied_at, version`)
	require.NoError(t, err)
	for rows.Next() {
		var n string
		require.NoError(t, rows.Scan(&n))
		names = append(names, n)
	}
	require.Equal(t, []string{"0001_things.sql", "0002_more.sql", "0009_nine.sql", "0010_ten.sql", "0011_eleven.sql"}, names)
}

func TestSplitStatements(t *testing.T) {
	t.Parallel()
	sql := `-- bangfu:no-transaction
-- a comment; with a semicolon
CREATE INDEX CONCURRENTLY a ON t (x);
/* block; comment */ SELECT 'it''s; fine', "odd;name" FROM t;
CREATE FUNCTION f() RETURNS int AS $body$ SELECT 1; $body$ LANGUAGE sql;
DO $$ BEGIN PERFORM 1; END $$;
SELECT 2`
	require.Equal(t, []string{
		"-- bangfu:no-transaction\n-- a comment; with a semicolon\nCREATE INDEX CONCURRENTLY a ON t (x)",
		`/* block; comment */ SELECT 'it''s; fine', "odd;name" FROM t`,
		`CREATE FUNCTION f() RETURNS int AS $body$ SELECT 1; $body$ LANGUAGE sql`,
		`DO $$ BEGIN PERFORM 1; END $$`,
		`SELECT 2`,
	}, postgres.SplitStatements(sql))
}
