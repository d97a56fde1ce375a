// Package pgtest gives each test its own PostgreSQL database, cloned from a
// migrated template, and drops it when the test ends. Tests that use it can
// run in parallel and see only their own data.
//
// DATABASE_URL names a server and a role that may create databases; `make
// test` sets it up. Without it, tests fail with a message saying so.
package pgtest

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/bangfu/bangfu/internal/postgres"
)

// Prefix starts the name of every database this package creates.
const Prefix = "bangfu_t_"

// RunPrefix starts the name of every database this run of the suite
// creates: Prefix, then BANGFU_TEST_RUN (which `make test` sets to a fresh
// token) or "dev". `make test` drops only the databases under its own run
// prefix, so two runs on one server never drop each other's databases.
func RunPrefix() string {
	run := os.Getenv("BANGFU_TEST_RUN")
	if run == "" || strings.Trim(run, "abcdefghijklmnopqrstuvwxyz0123456789") != "" || len(run) > 16 {
		run = "dev"
	}
	return Prefix + run + "_"
}

var (
	templateOnce sync.Once
	templateName string
	templateErr  error
)

// AdminURL returns DATABASE_URL or fails the test.
func AdminURL(tb testing.TB) string {
	tb.Helper()
	u := os.Getenv("DATABASE_URL")
	if u == "" {
		tb.Fatal("DATABASE_URL is not set: run the suite with `make test`, which finds or starts PostgreSQL")
	}
	return u
}

// NewURL creates a fresh, migrated database for tb and returns its URL. The
// database is dropped when tb ends.
func NewURL(tb testing.TB) string {
	tb.Helper()
	admin := AdminURL(tb)
	templateOnce.Do(func() { templateName, templateErr = ensureTemplate(admin) })
	if templateErr != nil {
		tb.Fatalf("build template database: %v", templateErr)
	}
	return create(tb, admin, "TEMPLATE "+templateName)
}

// NewEmptyURL creates a fresh database with no schema at all, for tests of
// migrations, and returns its URL. It is dropped when tb ends.
func NewEmptyURL(tb testing.TB) string {
	tb.Helper()
	return create(tb, AdminURL(tb), "")
}

func create(tb testing.TB, admin, options string) string {
	tb.Helper()
	name := RunPrefix() + randomHex(8)
	ctx := context.Background()
	conn := mustConnect(tb, admin)
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, fmt.Sprintf(`CREATE DATABASE %s %s`, name, options)); err != nil {
		tb.Fatalf("create test database: %v", err)
	}
	tb.Cleanup(func() {
		conn := mustConnect(tb, admin)
		defer conn.Close(ctx)
		if _, err := conn.Exec(ctx, fmt.Sprintf(`DROP DATABASE IF EXISTS %s WITH (FORCE)`, name)); err != nil {
			tb.Errorf("drop test database: %v", err)
		}
	})
	return withDatabase(tb, admin, name)
}

// NewDB returns an open *postgres.DB on a fresh database for tb; see NewURL.
func NewDB(tb testing.TB) *postgres.DB {
	tb.Helper()
	url := NewURL(tb)
	db, err := postgres.Open(context.Background(), url, 20)
	if err != nil {
		tb.Fatalf("open test database: %v", err)
	}
	// Registered after NewURL's cleanup, so it runs first: the pool is closed
	// before the database is dropped.
	tb.Cleanup(db.Close)
	return db
}

func withDatabase(tb testing.TB, url, name string) string {
	cfg, err := pgx.ParseConfig(url)
	if err != nil {
		tb.Fatalf("DATABASE_URL: %v", err)
	}
	return replaceDatabase(url, cfg.Database, name)
}

func mustConnect(tb testing.TB, url string) *pgx.Conn {
	tb.Helper()
	conn, err := pgx.Connect(context.Background(), url)
	if err != nil {
		tb.Fatalf("connect to DATABASE_URL: %v", err)
	}
	return conn
}

// ensureTemplate builds, once per schema, a database with every migration
// applied. Test binaries of several packages run at once; an advisory lock
// makes them build it once between them.
func ensureTemplate(admin string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	h := sha256.New()
	ms, err := postgres.Migrations()
	if err != nil {
		return "", err
	}
	fmt.Fprintf(h, "runner %d\x00", postgres.RunnerVersion)
	for _, m := range ms {
		io.WriteString(h, m.Name+"\x00"+m.SQL+"\x00")
	}
	name := RunPrefix() + "tmpl_" + hex.EncodeToString(h.Sum(nil))[:12]

	conn, err := pgx.Connect(ctx, admin)
	if err != nil {
		return "", err
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, `SELECT pg_advisory_lock(4242)`); err != nil {
		return "", err
	}
	defer conn.Exec(context.Background(), `SELECT pg_advisory_unlock(4242)`)

	var exists bool
	if err := conn.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)`, name).Scan(&exists); err != nil {
		return "", err
	}
	if exists {
		return name, nil
	}
	building := name + "_new"
	if _, err := conn.Exec(ctx, fmt.Sprintf(`DROP DATABASE IF EXISTS %s WITH (FORCE)`, building)); err != nil {
		return "", err
	}
	if _, err := conn.Exec(ctx, fmt.Sprintf(`CREATE DATABASE %s`, building)); err != nil {
		return "", err
	}
	cfg, err := pgx.ParseConfig(admin)
	if err != nil {
		return "", err
	}
	db, err := postgres.Open(ctx, replaceDatabase(admin, cfg.Database, building), 4)
	if err != nil {
		return "", err
	}
	err = db.Migrate(ctx, slog.New(slog.DiscardHandler))
	db.Close()
	if err != nil {
		return "", err
	}
	if _, err := conn.Exec(ctx, fmt.Sprintf(`ALTER DATABASE %s RENAME TO %s`, building, name)); err != nil {
		return "", err
	}
	return name, nil
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
