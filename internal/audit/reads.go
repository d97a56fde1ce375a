package audit

import (
	"context"
	"errors"
	"log/slog"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/bangfu/bangfu"
	"github.com/bangfu/bangfu/internal/postgres"
)

// Reads records the audit entries of reads in batches: a read hands its
// entry over and returns; a writer appends what has gathered with one COPY
// at least every FlushEvery (through the relaxed pool, see RecordRead).
// When the queue is full a read records its entry itself, so nothing is
// dropped under load.
//
// Nothing is dropped silently either. A batch the database refuses for a
// passing reason (it is away, a lock times out) is tried again, with
// growing pauses, until it is written; meanwhile the queue fills and reads
// record their own entries (and fail if they cannot). A row the database
// can never store (text it refuses, a graduate that does not exist) is
// written in a form it accepts, its detail saying what was wrong, and the
// rest of its batch as it was. Close writes what is queued; if the process
// must stop before that succeeds (after StopTimeout), the log says how many
// entries were not written and LostRows (and its metric) counts them. An entry is otherwise
// lost only if the process dies (SIGKILL, power) before its batch is
// written.
type Reads struct {
	db    *postgres.DB
	log   *slog.Logger
	opts  ReadsOptions
	queue chan item
	flush chan chan struct{}
	stop  chan struct{}
	done  chan struct{}

	lost, retries         atomic.Int64
	lostTotal, retryTotal prometheus.Counter
}

// LostRows returns how many entries could not be written before the
// process stopped (the metric bangfu_audit_read_rows_lost_total; expected 0).
func (r *Reads) LostRows() int64 { return r.lost.Load() }

// Retries returns how many attempts to write a batch failed (the metric
// bangfu_audit_read_write_retries_total).
func (r *Reads) Retries() int64 { return r.retries.Load() }

func (r *Reads) addLost(n int) {
	r.lost.Add(int64(n))
	r.lostTotal.Add(float64(n))
}

// ReadsOptions tune the writer; zero fields take the defaults.
type ReadsOptions struct {
	// MaxBackoff caps the pause between attempts (default 5s).
	MaxBackoff time.Duration
	// StopTimeout is how long Close keeps trying (default 10s).
	StopTimeout time.Duration
}

type item struct {
	actor bangfu.Actor
	at    time.Time
	ev    Event
}

// FlushEvery bounds how long a read's entry waits in the queue.
const FlushEvery = 50 * time.Millisecond

const batchSize = 500

// NewReads starts the batch writer.
func NewReads(db *postgres.DB, log *slog.Logger, opts ...ReadsOptions) *Reads {
	var o ReadsOptions
	if len(opts) > 0 {
		o = opts[0]
	}
	if o.MaxBackoff <= 0 {
		o.MaxBackoff = 5 * time.Second
	}
	if o.StopTimeout <= 0 {
		o.StopTimeout = 10 * time.Second
	}
	r := &Reads{db: db, log: log, opts: o, queue: make(chan item, 4*batchSize), flush: make(chan chan struct{}),
		stop: make(chan struct{}), done: make(chan struct{}),
		lostTotal: prometheus.NewCounter(prometheus.CounterOpts{Name: "bangfu_audit_read_rows_lost_total",
			Help: "Audit entries of reads that could not be written before the process stopped (expected 0)."}),
		retryTotal: prometheus.NewCounter(prometheus.CounterOpts{Name: "bangfu_audit_read_write_retries_total",
			Help: "Failed attempts to write a batch of read audit entries; each batch is tried until written."}),
	}
	go r.run()
	return r
}

// Collectors are the writer's metrics, for the process's registry.
func (r *Reads) Collectors() []prometheus.Collector {
	return []prometheus.Collector{r.lostTotal, r.retryTotal}
}

// Record queues ev (a read by a at time at).
func (r *Reads) Record(ctx context.Context, a bangfu.Actor, at time.Time, ev Event) error {
	select {
	case r.queue <- item{a, at, ev}:
		return nil
	default:
		return RecordRead(ctx, r.db, a, at, ev)
	}
}

// Flush returns once every entry queued before the call is written.
func (r *Reads) Flush() {
	done := make(chan struct{})
	r.flush <- done
	<-done
}

// Close writes what is queued, trying for at most StopTimeout, and stops
// the writer. Record must not be called after Close.
func (r *Reads) Close() {
	close(r.stop)
	close(r.queue)
	<-r.done
}

func (r *Reads) run() {
	defer close(r.done)
	tick := time.NewTicker(FlushEvery)
	defer tick.Stop()
	var batch []item
	write := func() {
		if len(batch) > 0 {
			r.write(batch)
			batch = batch[:0]
		}
	}
	for {
		select {
		case it, ok := <-r.queue:
			if !ok {
				write()
				return
			}
			batch = append(batch, it)
			if len(batch) >= batchSize {
				write()
			}
		case <-tick.C:
			write()
		case done := <-r.flush:
			for drained := false; !drained; {
				select {
				case it, ok := <-r.queue:
					if !ok {
						drained = true
						break
					}
					batch = append(batch, it)
				default:
					drained = true
				}
			}
			write()
			close(done)
		}
	}
}

// write appends batch, trying again after a passing failure until it is
// written — or, once the writer is stopping, until StopTimeout has passed:
// then it counts what is left, with whatever is still queued, as lost.
func (r *Reads) write(batch []item) {
	rest := batch
	pause := 100 * time.Millisecond
	var deadline time.Time
	for attempt := 1; ; attempt++ {
		var err error
		if rest, err = r.writeSome(rest); err == nil {
			if attempt > 1 {
				r.log.Info("audit: read records written after retrying", "count", len(batch), "attempts", attempt)
			}
			return
		}
		r.retries.Add(1)
		r.retryTotal.Inc()
		if attempt == 1 {
			r.log.Warn("audit: could not write read records yet; retrying until written", "count", len(rest), "error", err)
		}
		stopping := isClosed(r.stop)
		if stopping && deadline.IsZero() {
			deadline = time.Now().Add(r.opts.StopTimeout)
		}
		if stopping && time.Now().After(deadline) {
			lost := len(rest)
			for range r.queue { // the queue is closed when stopping
				lost++
			}
			r.addLost(lost)
			r.log.Error("audit: stopping with read records that could not be written: they are lost", "count", lost, "error", err)
			return
		}
		timer := time.NewTimer(pause)
		select {
		case <-timer.C:
		case <-r.stop:
			timer.Stop()
		}
		pause = min(2*pause, r.opts.MaxBackoff)
	}
}

func isClosed(c chan struct{}) bool {
	select {
	case <-c:
		return true
	default:
		return false
	}
}

// writeSome writes items and returns nil, or a passing error with the items
// still to write. A batch with a row the database can never store is
// written row by row, each such row in a form it accepts (see sanitized).
func (r *Reads) writeSome(items []item) ([]item, error) {
	err := r.copy(items, false)
	if err == nil || !isDataError(err) {
		return items, err
	}
	for i, it := range items {
		err := r.copy([]item{it}, false)
		if err != nil && isDataError(err) {
			if err = r.copy([]item{it}, true, pgCode(err)); err != nil && isDataError(err) {
				r.addLost(1)
				r.log.Error("audit: a read record cannot be stored even without its details: it is lost",
					"action", it.ev.Action, "error", err)
				err = nil
			}
		}
		if err != nil {
			return items[i:], err
		}
	}
	return nil, nil
}

// copy appends items with one COPY; sanitized writes each in the form
// sanitized gives, noting code.
func (r *Reads) copy(items []item, sanitize bool, code ...string) error {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_, err := r.db.Relaxed.CopyFrom(ctx, pgx.Identifier{"audit_log"}, columns, pgx.CopyFromSlice(len(items), func(i int) ([]any, error) {
		it := items[i]
		if sanitize {
			return sanitized(it, code[0]), nil
		}
		return Args(it.actor, it.at, it.ev), nil
	}))
	return err
}

// sanitized is a row the database refused (SQLSTATE code) in a form it
// accepts: who, what and when as they were; the ids moved into the detail
// (a missing graduate breaks the foreign key); the free parts (fields,
// reason, detail) left out, and the detail saying so.
func sanitized(it item, code string) []any {
	ev := Event{Action: it.ev.Action, Detail: map[string]any{"unwritable": code}}
	for k, id := range map[string]int64{"actor_id": it.actor.UserID, "student_id": it.ev.StudentID, "school_id": it.ev.SchoolID} {
		if id != 0 {
			ev.Detail[k] = id
		}
	}
	a := bangfu.Actor{Role: it.actor.Role}
	if bangfu.HasControl(it.actor.IP) {
		a.IP = ""
	} else {
		a.IP = it.actor.IP
	}
	args := Args(a, it.at, ev)
	if it.actor.UserID != 0 {
		args[2] = string(it.actor.Role) // Args names a zero user "system"
	}
	return args
}

// isDataError reports whether err is the database refusing the data (a
// data exception, class 22, or an integrity violation, class 23), which
// trying again cannot cure.
func isDataError(err error) bool {
	code := pgCode(err)
	return len(code) == 5 && (code[:2] == "22" || code[:2] == "23")
}

func pgCode(err error) string {
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		return pe.Code
	}
	return ""
}
