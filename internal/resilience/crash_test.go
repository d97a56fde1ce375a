package resilience_test

import (
	"context"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"

	"github.com/bangfu/bangfu/internal/ledger"
	"github.com/bangfu/bangfu/internal/pgtest"
)

// acked records what bangfu acknowledged.
type acked struct {
	mu sync.Mutex
	// entries are the summaries of ledger appends answered 201.
	entries []string
	// edits maps graduate → version → the major its PATCH (answered 200
	// with that ETag) wrote.
	edits map[int64]map[int][]string
	// tried maps graduate → every major a PATCH sent, answered or not.
	tried map[int64]map[string]bool
	n     atomic.Int64
	// odd counts answers that are neither success, a stale version, nor a
	// lost connection.
	odd atomic.Int64
}

func newAcked() *acked {
	return &acked{edits: map[int64]map[int][]string{}, tried: map[int64]map[string]bool{}}
}

// TestKillDuringWrites: concurrent ledger appends and If-Match edits go to
// a real `bangfu serve`, which is killed with SIGKILL mid-stream and
// started again on the same database. Every acknowledged append is present
// exactly once, every chain verifies, no acknowledged edit was lost or
// shared its version with another, and every case has exactly one live
// follow-up job.
func TestKillDuringWrites(t *testing.T) {
	t.Parallel()
	dbURL := pgtest.NewURL(t)
	env := map[string]string{"DATABASE_URL": dbURL, "BANGFU_STATE_DIR": t.TempDir(), "BANGFU_LOG_LEVEL": "warn",
		"BANGFU_ADDR": freeAddr(t), "BANGFU_METRICS_ADDR": ""}
	w := newWorld(t, dbURL, env, 6)
	token := w.token(t)
	first := start(t, env, "serve")

	const writers = 16
	got := newAcked()
	var wg sync.WaitGroup
	for wr := range writers {
		wg.Go(func() {
			for i := 0; ; i++ {
				st := w.students[(wr+i)%len(w.students)]
				file := fmt.Sprintf("%s/api/v1/students/%d", first.base, st.ID)
				if i%3 == 2 {
					if !edit(got, file, token, st.ID, fmt.Sprintf("专业-%d-%d", wr, i)) {
						return
					}
					continue
				}
				summary := fmt.Sprintf("联系 %d-%d", wr, i)
				status, _, _ := call(http.MethodPost, file+"/ledger", token, map[string]any{"kind": "contact", "channel": "phone",
					"occurred_at": time.Now().Add(-time.Minute).Format(time.RFC3339), "summary": summary}, nil)
				switch status {
				case http.StatusCreated:
					got.mu.Lock()
					got.entries = append(got.entries, summary)
					got.mu.Unlock()
					got.n.Add(1)
				case 0:
					return // the server is gone
				default:
					t.Errorf("append answered %d", status)
					return
				}
			}
		})
	}
	waitFor(t, 60*time.Second, "300 acknowledged writes", func() bool { return got.n.Load() >= 300 })
	first.kill9(t)
	wg.Wait()
	t.Logf("killed after %d acknowledged writes (%d appends) from %d writers", got.n.Load(), len(got.entries), writers)
	require.Zero(t, got.odd.Load(), "edits answered with neither 200 nor 412")

	restart := time.Now()
	second := start(t, env, "serve")
	t.Logf("restarted and ready in %s", time.Since(restart).Round(time.Millisecond))
	ctx := context.Background()
	db := w.app.DB

	// Every acknowledged append, exactly once.
	counts := map[string]int{}
	rows, err := db.Pool.Query(ctx, `SELECT summary, count(*) FROM ledger_entries GROUP BY summary`)
	require.NoError(t, err)
	var (
		summary string
		n       int
	)
	_, err = pgx.ForEachRow(rows, []any{&summary, &n}, func() error { counts[summary] = n; return nil })
	require.NoError(t, err)
	for _, s := range got.entries {
		require.Equal(t, 1, counts[s], "acknowledged append %q", s)
	}
	for s, n := range counts {
		require.Equal(t, 1, n, "append %q is stored %d times", s, n)
	}

	for _, st := range w.students {
		// The chain verifies, read directly and through the restarted server.
		require.NoError(t, pgx.BeginTxFunc(ctx, db.Pool, pgx.TxOptions{IsoLevel: pgx.RepeatableRead}, func(tx pgx.Tx) error {
			v, err := ledger.VerifyChain(ctx, tx, st.ID)
			require.True(t, v.Intact, "graduate %d: %+v", st.ID, v)
			return err
		}))
		status, _, body := call(http.MethodGet, fmt.Sprintf("%s/api/v1/students/%d/ledger/verify", second.base, st.ID), token, nil, nil)
		require.Equal(t, http.StatusOK, status)
		require.Contains(t, string(body), `"intact":true`)

		// No acknowledged edit lost; none shared its version.
		var version int
		var major string
		require.NoError(t, db.Pool.QueryRow(ctx, `SELECT s.version + ca.version, s.major FROM students s JOIN case_activity ca ON ca.student_id = s.id WHERE s.id = $1`, st.ID).Scan(&version, &major))
		last := 0
		for v, majors := range got.edits[st.ID] {
			require.Len(t, majors, 1, "graduate %d version %d was acknowledged to %v", st.ID, v, majors)
			last = max(last, v)
		}
		require.GreaterOrEqual(t, version, last, "graduate %d lost an acknowledged edit", st.ID)
		if version == last && last > 0 {
			require.Equal(t, got.edits[st.ID][last][0], major, "graduate %d", st.ID)
		} else if version > 1 && major != "" {
			require.True(t, got.tried[st.ID][major], "graduate %d holds %q, which nobody sent", st.ID, major)
		}

		// One live follow-up, the one the file names.
		var live []int64
		rows, err := db.Pool.Query(ctx, `SELECT id FROM river_job WHERE kind = 'followup_due' AND (args->>'student_id')::bigint = $1
			AND state IN ('available', 'scheduled', 'retryable', 'pending', 'running')`, st.ID)
		require.NoError(t, err)
		live, err = pgx.CollectRows(rows, pgx.RowTo[int64])
		require.NoError(t, err)
		var named *int64
		require.NoError(t, db.Pool.QueryRow(ctx, `SELECT followup_job_id FROM case_activity WHERE student_id = $1`, st.ID).Scan(&named))
		require.Len(t, live, 1, "graduate %d live follow-ups", st.ID)
		require.NotNil(t, named)
		require.Equal(t, live[0], *named, "graduate %d", st.ID)
	}
	second.stop(t)
}

// edit PATCHes a graduate's major with the version it reads; it returns
// false when the server is gone.
func edit(got *acked, file, token string, id int64, major string) bool {
	status, h, _ := call(http.MethodGet, file, token, nil, nil)
	if status == 0 {
		return false
	}
	got.mu.Lock()
	if got.tried[id] == nil {
		got.tried[id] = map[string]bool{}
	}
	got.tried[id][major] = true
	got.mu.Unlock()
	status, h, _ = call(http.MethodPatch, file, token, map[string]any{"major": major}, map[string]string{"If-Match": h.Get("ETag")})
	switch status {
	case http.StatusOK:
		v, err := strconv.Atoi(strings.Trim(h.Get("ETag"), `"`))
		if err != nil {
			return false
		}
		got.mu.Lock()
		if got.edits[id] == nil {
			got.edits[id] = map[int][]string{}
		}
		got.edits[id][v] = append(got.edits[id][v], major)
		got.mu.Unlock()
		got.n.Add(1)
	case http.StatusPreconditionFailed:
	case 0:
		return false
	default:
		got.odd.Add(1)
	}
	return true
}
