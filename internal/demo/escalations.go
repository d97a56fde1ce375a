package demo

import (
	"context"

	"github.com/jackc/pgx/v5"
)

// escalations runs the stall sweep three times, as three sweeps of the
// running service would: quiet cases rise one level per sweep (14, 21, 35
// days without contact), and code 70 after 31 July, short referrals and
// overdue measures are flagged. Each raise is keyed by its episode, so a
// second seed raises nothing twice.
func (d *demo) escalations(ctx context.Context) error {
	for range 3 {
		if err := d.app.DB.InTx(ctx, func(tx pgx.Tx) error {
			_, err := d.app.SweepWorker().Sweep(ctx, tx)
			return err
		}); err != nil {
			return err
		}
	}
	return nil
}
