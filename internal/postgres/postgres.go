// Package postgres is the storage edge: it opens the connection pool, runs
// transactions, applies migrations and turns PostgreSQL errors into the
// domain's error kinds.
package postgres

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"

	"github.com/jackc/pgerrcode"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/bangfu/bangfu"
)

// DB is the application's handle on PostgreSQL.
type DB struct {
	Pool *pgxpool.Pool
	// Relaxed commits without waiting for the WAL flush
	// (synchronous_commit = off). It is for records whose loss in a database
	// crash (at most the last few hundred milliseconds) is acceptable and
	// whose wait is not: the audit entries of reads. Writes users make, and
	// the jobs they cause, always go through Pool.
	Relaxed *pgxpool.Pool

	health *health
	// replica, when set, serves the reads routed by Read.
	replica *replica
	routing *routing
}

// Open connects to url with at most maxConns connections and checks that the
// database answers.
func Open(ctx context.Context, url string, maxConns int32) (*DB, error) {
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		return nil, fmt.Errorf("DATABASE_URL: %w", redactParseError(err))
	}
	if maxConns > 0 {
		cfg.MaxConns = maxConns
	}
	cfg.ConnConfig.RuntimeParams["application_name"] = "bangfu"
	cfg.ConnConfig.RuntimeParams["timezone"] = "UTC"
	// Our queries are short; JIT compilation costs more than it saves.
	cfg.ConnConfig.RuntimeParams["jit"] = "off"
	h := &health{}
	cfg.ConnConfig.DialFunc = h.dialer(cfg.ConnConfig.DialFunc)
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("connect to database: %w", err)
	}
	if err := pool.Ping(ctx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("connect to database %s@%s/%s: %w", cfg.ConnConfig.User, cfg.ConnConfig.Host, cfg.ConnConfig.Database, err)
	}
	rcfg := cfg.Copy()
	rcfg.MaxConns = max(2, cfg.MaxConns/4)
	rcfg.ConnConfig.RuntimeParams["synchronous_commit"] = "off"
	relaxed, err := pgxpool.NewWithConfig(ctx, rcfg)
	if err != nil {
		pool.Close()
		return nil, fmt.Errorf("connect to database: %w", err)
	}
	return &DB{Pool: pool, Relaxed: relaxed, health: h, routing: newRouting()}, nil
}

// redactParseError keeps a password in DATABASE_URL out of error messages.
func redactParseError(err error) error {
	var pe *pgconn.ParseConfigError
	if errors.As(err, &pe) {
		return errors.New("is not a valid PostgreSQL connection string")
	}
	return err
}

// Close closes the pools.
func (db *DB) Close() {
	if db.replica != nil {
		db.replica.close()
	}
	db.Pool.Close()
	db.Relaxed.Close()
}

// InTx runs fn in a transaction and commits it when fn returns nil. The
// commit's own error is returned; any error from fn rolls back.
func (db *DB) InTx(ctx context.Context, fn func(pgx.Tx) error) error {
	return pgx.BeginFunc(ctx, db.Pool, fn)
}

// Querier is what both a pool and a transaction can do.
type Querier interface {
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

type constraintProblem struct{ field, problem string }

var (
	constraintsMu sync.RWMutex
	constraints   = map[string]constraintProblem{}
)

// RegisterConstraint tells FormatError how to explain a violation of the
// named constraint: as a problem with one input field.
func RegisterConstraint(name, field, problem string) {
	constraintsMu.Lock()
	defer constraintsMu.Unlock()
	constraints[name] = constraintProblem{field, problem}
}

// FormatError translates err at the storage edge. pgx.ErrNoRows becomes
// not_found for what; unique violations (23505) become conflict, foreign-key
// (23503) and check (23514) violations invalid, each naming the field
// registered for the constraint; serialization failures and lock timeouts
// become conflict. Other errors are returned unchanged (and so are internal).
func FormatError(err error, what string) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, pgx.ErrNoRows) {
		return bangfu.NotFound(what)
	}
	var pe *pgconn.PgError
	if !errors.As(err, &pe) {
		return err
	}
	constraintsMu.RLock()
	cp, known := constraints[pe.ConstraintName]
	constraintsMu.RUnlock()
	switch pe.Code {
	case pgerrcode.UniqueViolation:
		if known {
			return &bangfu.Error{Code: bangfu.ECONFLICT, Message: "A record with this value already exists.", Fields: map[string]string{cp.field: cp.problem}}
		}
		return bangfu.Errorf(bangfu.ECONFLICT, "The %s conflicts with an existing record.", what)
	case pgerrcode.ForeignKeyViolation, pgerrcode.CheckViolation, pgerrcode.NotNullViolation,
		pgerrcode.StringDataRightTruncationDataException, pgerrcode.InvalidTextRepresentation:
		if known {
			return &bangfu.Error{Code: bangfu.EINVALID, Message: "The request has invalid fields.", Fields: map[string]string{cp.field: cp.problem}}
		}
		return bangfu.Errorf(bangfu.EINVALID, "The %s is not valid (%s).", what, strings.ReplaceAll(pe.ConstraintName, "_", " "))
	case pgerrcode.SerializationFailure, pgerrcode.DeadlockDetected, pgerrcode.LockNotAvailable:
		return bangfu.Errorf(bangfu.ECONFLICT, "The %s was changed by someone else at the same time; try again.", what)
	}
	return err
}
