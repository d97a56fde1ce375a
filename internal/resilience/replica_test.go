package resilience_test

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"

	"github.com/bangfu/bangfu/internal/postgres"
)

// TestReadReplica runs a real streaming replica: its own primary
// (initdb on a free port) and a hot standby made with pg_basebackup -R, and
// a `bangfu serve` with BANGFU_DATABASE_READ_URL on it. A report is
// counted on the replica and a write goes to the primary; a user who wrote
// reads their write at once even while the replica's replay is paused
// (their read goes to the primary), while a reader without that write
// reads the replica; a replica held back longer than
// BANGFU_DATABASE_READ_MAX_LAG, and then one stopped, sends every read to
// the primary, and /readyz says so without failing.
func TestReadReplica(t *testing.T) {
	t.Parallel()
	started := time.Now()
	bin := pgBinDir(t)
	dir := newClusterDir(t)
	primary := newPrimary(t, bin, dir)
	ctx := context.Background()
	_, err := primary.conn(t, "postgres").Exec(ctx, `CREATE DATABASE bangfu`)
	require.NoError(t, err)
	dbURL := primary.url("bangfu")
	env := map[string]string{"DATABASE_URL": dbURL, "BANGFU_STATE_DIR": t.TempDir(), "BANGFU_LOG_LEVEL": "warn"}
	migrate := exec.Command(binary, "migrate")
	migrate.Env = []string{"PATH=" + os.Getenv("PATH"), "DATABASE_URL=" + dbURL, "BANGFU_STATE_DIR=" + env["BANGFU_STATE_DIR"]}
	out, err := migrate.CombinedOutput()
	require.NoError(t, err, "bangfu migrate: %s", out)
	w := newWorld(t, dbURL, env, 2)
	token := w.token(t)
	replica := newReplica(t, primary, dir)
	t.Logf("primary and replica up in %s", time.Since(started).Round(time.Millisecond))

	env["BANGFU_DATABASE_READ_URL"] = replica.url("bangfu")
	env["BANGFU_DATABASE_READ_MAX_LAG"] = "3s"
	env["BANGFU_ADDR"] = freeAddr(t)
	env["BANGFU_METRICS_ADDR"] = freeAddr(t)
	srv := start(t, env, "serve", "--no-workers")
	metrics := "http://" + env["BANGFU_METRICS_ADDR"] + "/metrics"
	pconn, rconn := primary.conn(t, "bangfu"), replica.conn(t, "bangfu")
	waitReplayed(t, pconn, rconn)
	waitFor(t, 30*time.Second, "/readyz to see the replica", func() bool { return readyReplica(t, srv) == "ok" })

	st := w.students[0]
	review := fmt.Sprintf("%s/api/v1/ledger?student_id=%d", srv.base, st.ID)
	appendURL := fmt.Sprintf("%s/api/v1/students/%d/ledger", srv.base, st.ID)
	jar, err := cookiejar.New(nil)
	require.NoError(t, err)
	writer := &http.Client{Jar: jar, Timeout: 15 * time.Second} // a browser: keeps cookies
	reader := &http.Client{Timeout: 15 * time.Second}           // another user's client: never wrote

	// A report is counted on the replica.
	before := scrape(t, metrics)
	status, body := send(t, reader, http.MethodGet, srv.base+"/api/v1/reports/summary", token, nil)
	require.Equal(t, http.StatusOK, status, "%s", body)
	after := scrape(t, metrics)
	require.Equal(t, 1.0, after.delta(before, postgres.PoolReplica, "replica"), "the summary was counted on the replica")
	require.Zero(t, after.delta(before, postgres.PoolPrimary, ""), "nothing routed went to the primary")

	// A write goes to the primary (the replica is read-only) and is
	// answered with the primary's WAL position.
	before = after
	status, body, h := sendH(t, writer, http.MethodPost, appendURL, token, entry("复制前的联系"))
	require.Equal(t, http.StatusCreated, status, "%s", body)
	lsn, ok := postgres.ParseLSN(h.Get(postgres.LSNHeader))
	require.True(t, ok, "a write is answered with %s, got %q", postgres.LSNHeader, h.Get(postgres.LSNHeader))
	require.NotZero(t, lsn)
	require.Equal(t, 1, countEntries(t, pconn, "复制前的联系"), "the write is on the primary")
	require.Equal(t, before, scrape(t, metrics), "a write routes no read")

	// Replay held back: the writer reads their own write at once (from the
	// primary); a reader who did not write reads the replica, which has not
	// got it yet.
	waitReplayed(t, pconn, rconn)
	_, err = rconn.Exec(ctx, `SELECT pg_wal_replay_pause()`)
	require.NoError(t, err)
	before = scrape(t, metrics)
	status, body, _ = sendH(t, writer, http.MethodPost, appendURL, token, entry("暂停复制时的联系"))
	require.Equal(t, http.StatusCreated, status, "%s", body)
	status, body = send(t, writer, http.MethodGet, review, token, nil)
	require.Equal(t, http.StatusOK, status, "%s", body)
	require.Contains(t, string(body), "暂停复制时的联系", "the writer sees their write at once")
	status, body = send(t, reader, http.MethodGet, review, token, nil)
	require.Equal(t, http.StatusOK, status, "%s", body)
	require.NotContains(t, string(body), "暂停复制时的联系", "the replica's replay is paused")
	require.Contains(t, string(body), "复制前的联系")
	after = scrape(t, metrics)
	require.Equal(t, 1.0, after.delta(before, postgres.PoolPrimary, "own_write_not_replayed"), "the writer's read went to the primary")
	require.Equal(t, 1.0, after.delta(before, postgres.PoolReplica, "replica"), "the other read went to the replica")
	require.Equal(t, 0, countEntries(t, rconn, "暂停复制时的联系"), "the replica was held back")

	// Held back longer than the allowed lag: /readyz says so (and stays
	// 200), and every read goes to the primary.
	waitFor(t, 30*time.Second, "/readyz to report the replica lagging", func() bool { return readyReplica(t, srv) == "lagging" })
	before = scrape(t, metrics)
	status, body = send(t, reader, http.MethodGet, review, token, nil)
	require.Equal(t, http.StatusOK, status, "%s", body)
	require.Contains(t, string(body), "暂停复制时的联系", "a lagging replica serves no read")
	require.Equal(t, 1.0, scrape(t, metrics).delta(before, postgres.PoolPrimary, "replica_lagging"))

	// Replay resumed: reads return to the replica, which now has the write.
	_, err = rconn.Exec(ctx, `SELECT pg_wal_replay_resume()`)
	require.NoError(t, err)
	waitFor(t, 30*time.Second, "/readyz to see the replica caught up", func() bool { return readyReplica(t, srv) == "ok" })
	before = scrape(t, metrics)
	status, body = send(t, reader, http.MethodGet, review, token, nil)
	require.Equal(t, http.StatusOK, status, "%s", body)
	require.Contains(t, string(body), "暂停复制时的联系")
	require.Equal(t, 1.0, scrape(t, metrics).delta(before, postgres.PoolReplica, "replica"))

	// The replica stopped: reads go to the primary, the process stays ready.
	replica.stop(t)
	waitFor(t, 30*time.Second, "/readyz to report the replica unreachable", func() bool { return readyReplica(t, srv) == "unreachable" })
	before = scrape(t, metrics)
	for _, c := range []*http.Client{reader, writer} {
		status, body = send(t, c, http.MethodGet, review, token, nil)
		require.Equal(t, http.StatusOK, status, "%s", body)
		require.Contains(t, string(body), "暂停复制时的联系")
	}
	status, body = send(t, reader, http.MethodGet, srv.base+"/api/v1/reports/summary?graduation_year=2031", token, nil)
	require.Equal(t, http.StatusOK, status, "%s", body)
	require.Equal(t, 3.0, scrape(t, metrics).delta(before, postgres.PoolPrimary, "replica_unreachable"))
	srv.stop(t)
	t.Logf("TestReadReplica took %s", time.Since(started).Round(time.Millisecond))
}

func entry(summary string) map[string]any {
	return map[string]any{"kind": "contact", "channel": "phone", "occurred_at": time.Now().Add(-time.Minute).Format(time.RFC3339), "summary": summary}
}

func countEntries(t *testing.T, conn *pgx.Conn, summary string) int {
	t.Helper()
	var n int
	require.NoError(t, conn.QueryRow(context.Background(), `SELECT count(*) FROM ledger_entries WHERE summary = $1`, summary).Scan(&n))
	return n
}

// readyReplica is the replica's status in /readyz, which must answer 200.
func readyReplica(t *testing.T, p *proc) string {
	t.Helper()
	resp, err := http.Get(p.base + "/readyz")
	require.NoError(t, err)
	defer resp.Body.Close()
	var r struct {
		Status  string                `json:"status"`
		Replica postgres.ReplicaState `json:"replica"`
	}
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&r))
	require.Equal(t, http.StatusOK, resp.StatusCode, "a replica's state never makes the process unready: %+v", r)
	return r.Replica.Status
}

// routed is bangfu_db_routed_reads_total by "pool reason".
type routed map[string]float64

func scrape(t *testing.T, url string) routed {
	t.Helper()
	resp, err := http.Get(url)
	require.NoError(t, err)
	defer resp.Body.Close()
	out := routed{}
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		line := sc.Text()
		rest, ok := strings.CutPrefix(line, "bangfu_db_routed_reads_total{")
		if !ok {
			continue
		}
		labels, value, _ := strings.Cut(rest, "} ")
		var pool, reason string
		for _, kv := range strings.Split(labels, ",") {
			k, v, _ := strings.Cut(kv, "=")
			v = strings.Trim(v, `"`)
			switch k {
			case "pool":
				pool = v
			case "reason":
				reason = v
			}
		}
		n, err := strconv.ParseFloat(value, 64)
		require.NoError(t, err)
		out[pool+" "+reason] = n
	}
	require.NoError(t, sc.Err())
	return out
}

// delta is how many more reads pool served for reason (any reason when
// empty) in r than in before.
func (r routed) delta(before routed, pool, reason string) float64 {
	var d float64
	for k, v := range r {
		p, why, _ := strings.Cut(k, " ")
		if p == pool && (reason == "" || why == reason) {
			d += v - before[k]
		}
	}
	return d
}

func send(t *testing.T, c *http.Client, method, url, token string, body any) (int, []byte) {
	t.Helper()
	status, b, _ := sendH(t, c, method, url, token, body)
	return status, b
}

func sendH(t *testing.T, c *http.Client, method, url, token string, body any) (int, []byte, http.Header) {
	t.Helper()
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		require.NoError(t, err)
		rd = strings.NewReader(string(b))
	}
	req, err := http.NewRequest(method, url, rd)
	require.NoError(t, err)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := c.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp.StatusCode, b, resp.Header
}
