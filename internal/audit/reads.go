package audit

import (
	"context"
	"log/slog"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/bangfu/bangfu"
	"github.com/bangfu/bangfu/internal/postgres"
)

// Reads records the audit entries of reads in batches: a read hands its
// entry over and returns; a writer appends what has gathered with one COPY
// at least every FlushEvery (through the relaxed pool, see RecordRead).
// When the queue is full a read records its entry itself, so nothing is
// dropped under load. Close writes what is queued. An entry is lost only
// if the process dies (SIGKILL, power) before its batch is written.
type Reads struct {
	db    *postgres.DB
	log   *slog.Logger
	queue chan item
	flush chan chan struct{}
	done  chan struct{}
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
func NewReads(db *postgres.DB, log *slog.Logger) *Reads {
	r := &Reads{db: db, log: log, queue: make(chan item, 4*batchSize), flush: make(chan chan struct{}), done: make(chan struct{})}
	go r.run()
	return r
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

// Close writes what is queued and stops the writer. Record must not be
// called after Close.
func (r *Reads) Close() {
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

// write appends a batch, retrying a few times: the entries are not worth
// less for the database being briefly away.
func (r *Reads) write(batch []item) {
	rows := pgx.CopyFromSlice(len(batch), func(i int) ([]any, error) {
		return Args(batch[i].actor, batch[i].at, batch[i].ev), nil
	})
	var err error
	for attempt := range 3 {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		_, err = r.db.Relaxed.CopyFrom(ctx, pgx.Identifier{"audit_log"}, columns, rows)
		cancel()
		if err == nil {
			return
		}
		time.Sleep(time.Duration(attempt+1) * 200 * time.Millisecond)
		rows = pgx.CopyFromSlice(len(batch), func(i int) ([]any, error) {
			return Args(batch[i].actor, batch[i].at, batch[i].ev), nil
		})
	}
	r.log.Error("audit: could not write read records", "count", len(batch), "error", err)
}
