package auth

import (
	"context"
	"time"

	"github.com/riverqueue/river"

	"github.com/bangfu/bangfu"
	"github.com/bangfu/bangfu/internal/postgres"
)

// PurgeArgs is the periodic job that deletes expired refresh tokens and
// stale login-throttle rows, so that neither table grows without bound.
type PurgeArgs struct{}

// Kind is the job's name in River.
func (PurgeArgs) Kind() string { return "auth_purge" }

// PurgeWorker works PurgeArgs. It is idempotent.
type PurgeWorker struct {
	river.WorkerDefaults[PurgeArgs]
	DB       *postgres.DB
	Clock    bangfu.Clock
	Throttle ThrottlePolicy
}

// Work deletes refresh tokens expired more than a day ago and throttle rows
// whose window and lock have both passed.
func (w *PurgeWorker) Work(ctx context.Context, _ *river.Job[PurgeArgs]) error {
	now := w.Clock.Now()
	if _, err := w.DB.Pool.Exec(ctx, `DELETE FROM refresh_tokens WHERE expires_at < $1`, now.Add(-24*time.Hour)); err != nil {
		return err
	}
	_, err := w.DB.Pool.Exec(ctx, `DELETE FROM login_throttle
		WHERE window_started_at < $1 AND (locked_until IS NULL OR locked_until < $2)`, now.Add(-w.Throttle.Window), now)
	return err
}
