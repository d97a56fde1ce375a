package audit_test

import (
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/bangfu/bangfu"
	"github.com/bangfu/bangfu/internal/audit"
	"github.com/bangfu/bangfu/internal/pgtest"
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
