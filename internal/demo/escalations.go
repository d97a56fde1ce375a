package demo

import (
	"context"

	"github.com/jackc/pgx/v5"
)

// sweepDays is how far back the demo replays the stall sweep.
const sweepDays = 45

// escalations replays the stall sweep once a day over the last sweepDays
// days, at 10:00, as the running service would have swept: quiet cases
// rise one level at a time (14, 21, 35 days without contact, each level
// after the one before has stood its time), and code 70 after 31 July,
// short referrals and overdue measures are flagged. Each raise is keyed by
// its episode, so a second seed raises nothing twice.
func (d *demo) escalations(ctx context.Context) error {
	for days := sweepDays; days >= 0; days-- {
		w := d.app.SweepWorker()
		w.Clock = fixed(d.day(days, 10))
		if days == 0 && d.now.Before(d.day(0, 10)) {
			w.Clock = fixed(d.now)
		}
		if err := d.app.DB.InTx(ctx, func(tx pgx.Tx) error {
			_, err := w.Sweep(ctx, tx)
			return err
		}); err != nil {
			return err
		}
	}
	return nil
}
