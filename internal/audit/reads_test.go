package audit_test

import (
	"context"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/bangfu/bangfu"
	"github.com/bangfu/bangfu/internal/audit"
	"github.com/bangfu/bangfu/internal/pgtest"
	"github.com/bangfu/bangfu/internal/postgres"
)

func TestReadsAreWrittenInBatches(t *testing.T) {
	t.Parallel()
	db := pgtest.NewDB(t)
	ctx := t.Context()
	rows := func() int {
		var n int
		require.NoError(t, db.Pool.QueryRow(ctx, `SELECT count(*) FROM audit_log WHERE action = 'student.list'`).Scan(&n))
		return n
	}
	r := audit.NewReads(db, slog.New(slog.DiscardHandler))
	a := bangfu.Actor{Role: bangfu.RoleProvince, IP: "10.0.0.1"}

	// More than the queue holds, from many readers at once: none is dropped.
	var wg sync.WaitGroup
	for g := range 10 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 300 {
				assert.NoError(t, r.Record(ctx, a, time.Now(), audit.Event{Action: audit.StudentList, Detail: map[string]any{"g": g, "i": i}}))
			}
		}()
	}
	wg.Wait()
	r.Flush()
	require.Equal(t, 3000, rows())

	require.NoError(t, r.Record(ctx, a, time.Now(), audit.Event{Action: audit.StudentList}))
	r.Close()
	require.Equal(t, 3001, rows(), "Close writes what is queued")
	var ip string
	require.NoError(t, db.Pool.QueryRow(ctx, `SELECT ip FROM audit_log LIMIT 1`).Scan(&ip))
	require.Equal(t, "10.0.0.1", ip)
}

func countRows(t *testing.T, db *postgres.DB, action string) int {
	t.Helper()
	var n int
	require.NoError(t, db.Pool.QueryRow(t.Context(), `SELECT count(*) FROM audit_log WHERE action = $1`, action).Scan(&n))
	return n
}

// refuseAuditWrites makes every write to audit_log fail as a lock timeout
// would (a transient error), until the returned function is called.
func refuseAuditWrites(t *testing.T, db *postgres.DB) (allow func()) {
	t.Helper()
	_, err := db.Pool.Exec(t.Context(), `
		CREATE FUNCTION refuse_audit() RETURNS trigger LANGUAGE plpgsql AS $$
		BEGIN RAISE EXCEPTION 'audit_log is busy' USING ERRCODE = 'lock_not_available'; END $$;
		CREATE TRIGGER refuse_audit BEFORE INSERT ON audit_log FOR EACH STATEMENT EXECUTE FUNCTION refuse_audit()`)
	require.NoError(t, err)
	return func() {
		_, err := db.Pool.Exec(context.Background(), `DROP TRIGGER refuse_audit ON audit_log`)
		require.NoError(t, err)
	}
}

// TestOneBadRowKeepsItsBatch: a row the database refuses (text it cannot
// store, a graduate that does not exist) is written in a form it accepts,
// saying what was wrong, and the rest of its batch is written as it was
// (issue 11.12).
func TestOneBadRowKeepsItsBatch(t *testing.T) {
	t.Parallel()
	db := pgtest.NewDB(t)
	r := audit.NewReads(db, slog.New(slog.DiscardHandler))
	a := bangfu.Actor{Role: bangfu.RoleCounselor, IP: "10.0.0.2"}
	for i := range 10 {
		require.NoError(t, r.Record(t.Context(), a, time.Now(), audit.Event{Action: audit.StudentList, Detail: map[string]any{"i": i}}))
	}
	require.NoError(t, r.Record(t.Context(), a, time.Now(), audit.Event{Action: audit.StudentRead, Detail: map[string]any{"q": "a\x00b"}}))
	require.NoError(t, r.Record(t.Context(), a, time.Now(), audit.Event{Action: audit.StudentRead, StudentID: 987654}))
	r.Flush()
	require.Equal(t, 10, countRows(t, db, audit.StudentList), "the good rows of the batch are written")
	require.Equal(t, 2, countRows(t, db, audit.StudentRead), "the bad ones too, in a form the database accepts")
	var codes []string
	rows, err := db.Pool.Query(t.Context(), `SELECT detail->>'unwritable' FROM audit_log WHERE action = $1 ORDER BY id`, audit.StudentRead)
	require.NoError(t, err)
	codes, err = pgx.CollectRows(rows, pgx.RowTo[string])
	require.NoError(t, err)
	require.ElementsMatch(t, []string{"22P05", "23503"}, codes, "each says why it was changed")
	require.Zero(t, r.LostRows())
	r.Close()
}

// TestReadsAreRetriedUntilWritten: while the database refuses the writes,
// the batch waits and is tried again; nothing is dropped.
func TestReadsAreRetriedUntilWritten(t *testing.T) {
	t.Parallel()
	db := pgtest.NewDB(t)
	r := audit.NewReads(db, slog.New(slog.DiscardHandler), audit.ReadsOptions{MaxBackoff: 20 * time.Millisecond})
	defer r.Close()
	allow := refuseAuditWrites(t, db)
	a := bangfu.Actor{Role: bangfu.RoleSupervisor}
	for i := range 5 {
		require.NoError(t, r.Record(t.Context(), a, time.Now(), audit.Event{Action: audit.LedgerReview, Detail: map[string]any{"i": i}}))
	}
	require.Eventually(t, func() bool { return r.Retries() >= 5 }, 10*time.Second, 5*time.Millisecond,
		"the writer keeps trying")
	require.Zero(t, countRows(t, db, audit.LedgerReview))
	allow()
	r.Flush()
	require.Equal(t, 5, countRows(t, db, audit.LedgerReview), "written once the database accepts them")
	require.Zero(t, r.LostRows())
}

// TestStoppingBeforeTheyAreWrittenSaysSo: a process that must stop while
// the database still refuses its read records says how many it could not
// write, and counts them as lost.
func TestStoppingBeforeTheyAreWrittenSaysSo(t *testing.T) {
	t.Parallel()
	db := pgtest.NewDB(t)
	var logs syncBuffer
	r := audit.NewReads(db, slog.New(slog.NewTextHandler(&logs, nil)), audit.ReadsOptions{MaxBackoff: 20 * time.Millisecond, StopTimeout: 200 * time.Millisecond})
	refuseAuditWrites(t, db)
	a := bangfu.Actor{Role: bangfu.RoleSupervisor}
	for i := range 7 {
		require.NoError(t, r.Record(t.Context(), a, time.Now(), audit.Event{Action: audit.ReportRead, Detail: map[string]any{"i": i}}))
	}
	r.Close()
	require.Equal(t, int64(7), r.LostRows())
	require.Contains(t, logs.String(), "count=7")
	require.Contains(t, logs.String(), "lost")
}

type syncBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
