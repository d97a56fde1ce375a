package postgres

import (
	"context"
	"errors"
	"io"
	"net"
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/bangfu/bangfu"
)

// RetryAfter is what a client is told to wait when the database is
// unavailable: /readyz notices an outage within about a second and a half,
// and a restarted server accepts connections within seconds.
const RetryAfter = 5 * time.Second

// health remembers whether the last attempt to open a connection to the
// database failed, so that a request that merely ran out of time waiting
// for a connection during an outage is told so.
type health struct {
	down atomic.Bool
}

// dialer wraps a pgx dial function to keep h current.
func (h *health) dialer(dial pgconn.DialFunc) pgconn.DialFunc {
	return func(ctx context.Context, network, addr string) (net.Conn, error) {
		conn, err := dial(ctx, network, addr)
		switch {
		case err == nil:
			h.down.Store(false)
		case ctx.Err() == nil || errors.Is(err, syscall.ECONNREFUSED):
			h.down.Store(true)
		}
		return conn, err
	}
}

// Classify translates, at the storage edge, an error that means the
// database cannot be reached — connection refused or reset, a connection
// lost mid-query, the server shutting down or not yet accepting
// (SQLSTATE class 08, 57P01, 57P02, 57P03, 53300), or a wait for a
// connection that ran out while connecting failed — into an unavailable
// *bangfu.Error that tells the client when to retry. Any other error is
// returned unchanged.
func (db *DB) Classify(err error) error {
	if err == nil || bangfu.ErrorCode(err) != bangfu.EINTERNAL {
		return err
	}
	if Unreachable(err) || (db.health != nil && db.health.down.Load() && errors.Is(err, context.DeadlineExceeded)) {
		return &bangfu.Error{Code: bangfu.EUNAVAILABLE, Message: "The database is unavailable; try again shortly.",
			RetryAfterSeconds: int(RetryAfter.Seconds()), Cause: err}
	}
	return err
}

// Unreachable reports whether err says the database could not be reached
// or was lost; see Classify.
func Unreachable(err error) bool {
	var (
		ce *pgconn.ConnectError
		pe *pgconn.PgError
		ne net.Error
	)
	switch {
	case errors.As(err, &ce):
		return true
	case errors.As(err, &pe):
		return strings.HasPrefix(pe.Code, "08") || pe.Code == "57P01" || pe.Code == "57P02" || pe.Code == "57P03" || pe.Code == "53300"
	case errors.Is(err, syscall.ECONNREFUSED), errors.Is(err, syscall.ECONNRESET), errors.Is(err, syscall.EPIPE),
		errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, net.ErrClosed):
		return true
	case errors.As(err, &ne):
		return !errors.Is(err, context.DeadlineExceeded) && !errors.Is(err, context.Canceled)
	}
	// A connection pgx closed after such a failure is reported as closed.
	return strings.Contains(err.Error(), "conn closed") || strings.Contains(err.Error(), "closed pool")
}
