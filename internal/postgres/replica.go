package postgres

import (
	"context"
	"fmt"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/prometheus/client_golang/prometheus"
)

// The read replica (docs/decisions/0005-read-replica.md).
//
// A process with BANGFU_DATABASE_READ_URL has a second pool on a streaming
// replica. The read-heavy views ask DB.Read for a pool: the replica when it
// is reachable, not more than the allowed lag behind, and has replayed the
// reader's own last write; the primary otherwise. The reader's last write
// travels with the reader, never in a process's memory: after every request
// that may have written, the server sends the primary's WAL position in the
// LSNCookie cookie (and the LSNHeader header), and a later request — to any
// server — carries it back.

const (
	// LSNCookie carries, from one request to the next, the primary's WAL
	// position after the client's last write.
	LSNCookie = "bangfu_lsn"
	// LSNHeader is the same position for API clients that keep no cookies:
	// answered after a write, and accepted on a request.
	LSNHeader = "Bangfu-Lsn"
	// probeEvery is how often a process checks the replica.
	probeEvery = time.Second
)

// Pool names in the routing metric.
const (
	PoolPrimary = "primary"
	PoolReplica = "replica"
)

// Reasons a routed read went where it did.
const (
	reasonNoReplica   = "no_replica"
	reasonReplica     = "replica"
	reasonDown        = "replica_unreachable"
	reasonLagging     = "replica_lagging"
	reasonOwnWrite    = "own_write_not_replayed"
	reasonUnconfirmed = "replica_unconfirmed"
)

// LSN is a WAL position.
type LSN uint64

// ParseLSN reads PostgreSQL's text form of a WAL position (16/B374D848).
func ParseLSN(s string) (LSN, bool) {
	var hi, lo uint32
	if n, err := fmt.Sscanf(s, "%X/%X", &hi, &lo); err != nil || n != 2 || len(s) > 17 {
		return 0, false
	}
	return LSN(uint64(hi)<<32 | uint64(lo)), true
}

func (l LSN) String() string { return fmt.Sprintf("%X/%X", uint32(l>>32), uint32(l)) }

type minLSNKey struct{}

// WithMinLSN returns ctx in which a routed read uses the replica only once
// it has replayed lsn.
func WithMinLSN(ctx context.Context, lsn LSN) context.Context {
	return context.WithValue(ctx, minLSNKey{}, lsn)
}

func minLSN(ctx context.Context) (LSN, bool) {
	l, ok := ctx.Value(minLSNKey{}).(LSN)
	return l, ok
}

// replica is the read pool and what the process last learnt of it.
type replica struct {
	pool   *pgxpool.Pool
	maxLag time.Duration
	health *health
	stop   context.CancelFunc
	done   chan struct{}

	mu      sync.Mutex
	up      bool
	lagging bool
	replay  LSN
	// samples are the primary's positions over the last maxLag and a bit.
	samples []lsnSample
	checked time.Time
}

type lsnSample struct {
	at  time.Time
	lsn LSN
}

// ReplicaState is what /readyz tells of the replica.
type ReplicaState struct {
	// Status is ok, lagging or unreachable; empty when there is no replica.
	Status string `json:"status,omitempty"`
	// Replayed is the last WAL position the replica reported replaying.
	Replayed string `json:"replayed,omitempty"`
}

// AttachReplica opens the read pool on url (a streaming replica of the
// primary) and starts watching it. The replica need not answer yet: until
// it does, reads go to the primary.
func (db *DB) AttachReplica(ctx context.Context, url string, maxConns int32, maxLag time.Duration) error {
	r, err := openReplica(ctx, url, maxConns, maxLag)
	if err != nil {
		return err
	}
	db.replica = r
	r.watch(db.Pool)
	return nil
}

// openReplica connects the read pool; an unreachable replica does not stop
// the process (reads go to the primary until it answers).
func openReplica(ctx context.Context, url string, maxConns int32, maxLag time.Duration) (*replica, error) {
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		return nil, fmt.Errorf("BANGFU_DATABASE_READ_URL: %w", redactParseError(err))
	}
	if maxConns > 0 {
		cfg.MaxConns = maxConns
	}
	cfg.ConnConfig.RuntimeParams["application_name"] = "bangfu"
	cfg.ConnConfig.RuntimeParams["timezone"] = "UTC"
	cfg.ConnConfig.RuntimeParams["jit"] = "off"
	// A connection must not outlive a replica promoted or replaced.
	cfg.ConnConfig.RuntimeParams["default_transaction_read_only"] = "on"
	r := &replica{maxLag: maxLag, health: &health{}, done: make(chan struct{})}
	cfg.ConnConfig.DialFunc = r.health.dialer(cfg.ConnConfig.DialFunc)
	cfg.ConnConfig.ConnectTimeout = 3 * time.Second
	if r.pool, err = pgxpool.NewWithConfig(ctx, cfg); err != nil {
		return nil, fmt.Errorf("connect to the read replica: %w", err)
	}
	return r, nil
}

// watch probes the replica every second until stopped.
func (r *replica) watch(primary *pgxpool.Pool) {
	ctx, cancel := context.WithCancel(context.Background())
	r.stop = cancel
	go func() {
		defer close(r.done)
		t := time.NewTicker(probeEvery)
		defer t.Stop()
		for {
			r.probe(ctx, primary)
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			}
		}
	}()
}

// probe records the primary's position and the replica's replay position.
// The replica is lagging when it has not replayed what the primary had
// written maxLag ago: what it serves is then older than promised.
func (r *replica) probe(ctx context.Context, primary *pgxpool.Pool) {
	now := time.Now()
	pctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	var primaryLSN LSN
	pok := primary.QueryRow(pctx, `SELECT (pg_current_wal_lsn() - '0/0'::pg_lsn)::bigint`).Scan(&primaryLSN) == nil
	replay, err := r.replayed(pctx)
	r.mu.Lock()
	defer r.mu.Unlock()
	if pok {
		r.samples = append(r.samples, lsnSample{now, primaryLSN})
	}
	// Keep the newest sample at least maxLag old and every later one.
	for len(r.samples) > 1 && now.Sub(r.samples[1].at) >= r.maxLag {
		r.samples = r.samples[1:]
	}
	r.checked = now
	r.up = err == nil
	if err != nil {
		return
	}
	r.replay = replay
	r.lagging = len(r.samples) > 0 && now.Sub(r.samples[0].at) >= r.maxLag && replay < r.samples[0].lsn
}

// replayed asks the replica how far it has replayed. A server that is not
// in recovery (a promoted replica, or the primary named twice) has all it
// wrote.
func (r *replica) replayed(ctx context.Context) (LSN, error) {
	var l LSN
	err := r.pool.QueryRow(ctx, `SELECT (CASE WHEN pg_is_in_recovery() THEN pg_last_wal_replay_lsn() ELSE pg_current_wal_lsn() END
		- '0/0'::pg_lsn)::bigint`).Scan(&l)
	return l, err
}

func (r *replica) close() {
	if r.stop != nil {
		r.stop()
		<-r.done
	}
	r.pool.Close()
}

// routing counts routed reads by the pool that served them and why.
type routing struct {
	reads *prometheus.CounterVec
}

func newRouting() *routing {
	return &routing{reads: prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "bangfu_db_routed_reads_total",
		Help: "Reads that may use the read replica, by the pool that served them and why.",
	}, []string{"pool", "reason"})}
}

// Collectors exports the routing counter (bangfu_db_routed_reads_total).
func (db *DB) Collectors() []prometheus.Collector {
	return []prometheus.Collector{db.routing.reads}
}

// HasReplica reports whether a read replica is configured.
func (db *DB) HasReplica() bool { return db.replica != nil }

// Read returns the pool a read-only view runs on: the replica when one is
// configured, reachable, at most the allowed lag behind and — when ctx
// carries the reader's last write (WithMinLSN) — has replayed it; the
// primary otherwise. Use it only for statements that write nothing,
// outside a transaction that writes.
func (db *DB) Read(ctx context.Context) *pgxpool.Pool {
	pool, reason := db.route(ctx)
	db.routing.reads.WithLabelValues(poolName(pool == db.Pool), reason).Inc()
	return pool
}

// ReadIf is Read when routed, the primary (uncounted) otherwise: for views
// that use the replica for some readers only.
func (db *DB) ReadIf(ctx context.Context, routed bool) *pgxpool.Pool {
	if !routed {
		return db.Pool
	}
	return db.Read(ctx)
}

func poolName(primary bool) string {
	if primary {
		return PoolPrimary
	}
	return PoolReplica
}

func (db *DB) route(ctx context.Context) (*pgxpool.Pool, string) {
	r := db.replica
	if r == nil {
		return db.Pool, reasonNoReplica
	}
	r.mu.Lock()
	up, lagging, replay := r.up, r.lagging, r.replay
	r.mu.Unlock()
	switch {
	case !up || r.health.down.Load():
		return db.Pool, reasonDown
	case lagging:
		return db.Pool, reasonLagging
	}
	want, ok := minLSN(ctx)
	if !ok || replay >= want {
		return r.pool, reasonReplica
	}
	// The last probe is older than the reader's write: ask again.
	qctx, cancel := context.WithTimeout(ctx, time.Second)
	defer cancel()
	now, err := r.replayed(qctx)
	switch {
	case err != nil:
		return db.Pool, reasonUnconfirmed
	case now < want:
		return db.Pool, reasonOwnWrite
	}
	return r.pool, reasonReplica
}

// Replica reports the replica's state as the process last saw it.
func (db *DB) Replica() ReplicaState {
	r := db.replica
	if r == nil {
		return ReplicaState{}
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	switch {
	case !r.up || r.health.down.Load():
		return ReplicaState{Status: "unreachable"}
	case r.lagging:
		return ReplicaState{Status: "lagging", Replayed: r.replay.String()}
	}
	return ReplicaState{Status: "ok", Replayed: r.replay.String()}
}

// ReadYourWrites wraps the HTTP handler of a process with a replica. A
// request carrying a WAL position (LSNCookie or LSNHeader) reads from the
// replica only once it has replayed it; a request that may have written
// (any method but GET, HEAD and OPTIONS) is answered with the primary's
// position after it, taken when the answer starts — after the handler's
// transaction committed. Without a replica it returns next unchanged.
func (db *DB) ReadYourWrites(next http.Handler) http.Handler {
	if db.replica == nil {
		return next
	}
	cookieAge := int((2*db.replica.maxLag + 5*time.Second).Seconds())
	return http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		if l, ok := requestLSN(req); ok {
			req = req.WithContext(WithMinLSN(req.Context(), l))
		}
		switch req.Method {
		case http.MethodGet, http.MethodHead, http.MethodOptions:
			next.ServeHTTP(w, req)
			return
		}
		lw := &lsnWriter{ResponseWriter: w, db: db, req: req, age: cookieAge}
		next.ServeHTTP(lw, req)
	})
}

func requestLSN(req *http.Request) (LSN, bool) {
	if h := req.Header.Get(LSNHeader); h != "" {
		return ParseLSN(h)
	}
	if c, err := req.Cookie(LSNCookie); err == nil {
		return ParseLSN(c.Value)
	}
	return 0, false
}

// lsnWriter adds the primary's WAL position to the answer of a write.
type lsnWriter struct {
	http.ResponseWriter
	db      *DB
	req     *http.Request
	age     int
	written atomic.Bool
}

func (w *lsnWriter) WriteHeader(status int) {
	// A refused request (4xx) or a failed one (5xx) committed nothing the
	// reader must see: no position, and no query for it.
	if w.written.CompareAndSwap(false, true) && status < http.StatusBadRequest {
		w.stamp()
	}
	w.ResponseWriter.WriteHeader(status)
}

func (w *lsnWriter) Write(b []byte) (int, error) {
	if w.written.CompareAndSwap(false, true) {
		w.stamp()
	}
	return w.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController reach the connection (flushes,
// deadlines of streamed downloads).
func (w *lsnWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

func (w *lsnWriter) Flush() {
	if f, ok := w.ResponseWriter.(http.Flusher); ok {
		if w.written.CompareAndSwap(false, true) {
			w.stamp()
		}
		f.Flush()
	}
}

func (w *lsnWriter) stamp() {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(w.req.Context()), time.Second)
	defer cancel()
	var l LSN
	if err := w.db.Pool.QueryRow(ctx, `SELECT (pg_current_wal_lsn() - '0/0'::pg_lsn)::bigint`).Scan(&l); err != nil {
		// The primary is gone: the next reads will not find the replica
		// ahead of a write that could not have committed since.
		return
	}
	h := w.ResponseWriter.Header()
	h.Set(LSNHeader, l.String())
	secure := w.req.TLS != nil || w.req.Header.Get("X-Forwarded-Proto") == "https"
	h.Add("Set-Cookie", (&http.Cookie{Name: LSNCookie, Value: l.String(), Path: "/", MaxAge: w.age, HttpOnly: true,
		Secure: secure, SameSite: http.SameSiteLaxMode}).String())
}
