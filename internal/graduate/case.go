package graduate

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/bangfu/bangfu"
	"github.com/bangfu/bangfu/internal/postgres"
)

// This file holds the only statements that change a file's case state and
// counters on behalf of other packages: the ledger's head and counts, the
// follow-up state, the plan revision and the destination. Each runs on the
// caller's transaction, which holds the graduate's row lock (Access with
// forUpdate), so that the change commits with the write that causes it.
//
// Every change to what a file shows — its status, its counts, its plan
// revision, its destination, the overdue flag — moves its version (the
// ETag), so that a client holding an older copy cannot overwrite it unseen.
// The follow-up date moves with the write that schedules it.

// LedgerAdvance is what an appended ledger entry changes on its file.
type LedgerAdvance struct {
	StudentID int64
	Seq       int
	Head      []byte
	// Contact and Referral count the entry; a contact's OccurredAt moves
	// the last contact when it is later.
	Contact, Referral bool
	OccurredAt        time.Time
}

// AdvanceSQL advances a file's ledger head and counts; exported so that
// benchmarks can issue the same SQL.
const AdvanceSQL = `UPDATE students SET ledger_seq = $2, ledger_head = $3,
		contacts_count = contacts_count + $4::int, referrals_count = referrals_count + $5::int,
		last_contact_at = CASE WHEN $6 AND (last_contact_at IS NULL OR last_contact_at < $7) THEN $7 ELSE last_contact_at END,
		version = version + 1
	WHERE id = $1`

// QueueLedgerAdvance queues adv on b, a batch the caller sends on the
// transaction of the entry itself (one round trip for entry, head and audit).
func QueueLedgerAdvance(b *pgx.Batch, adv LedgerAdvance) {
	b.Queue(AdvanceSQL, adv.StudentID, adv.Seq, adv.Head, boolInt(adv.Contact), boolInt(adv.Referral), adv.Contact, adv.OccurredAt)
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

// SetFollowup records the graduate's live follow-up: job jobID, scheduled
// at scheduledAt, due on due; the case is no longer overdue.
func SetFollowup(ctx context.Context, q postgres.Querier, studentID, jobID int64, scheduledAt time.Time, due bangfu.Date) error {
	_, err := q.Exec(ctx, `UPDATE students SET followup_job_id = $2, followup_scheduled_at = $3, next_followup_on = $4, overdue = false
		WHERE id = $1`, studentID, jobID, scheduledAt, due.Time())
	return err
}

// ClearFollowup records that the graduate has no follow-up pending.
func ClearFollowup(ctx context.Context, q postgres.Querier, studentID int64) error {
	_, err := q.Exec(ctx, `UPDATE students SET followup_job_id = NULL, next_followup_on = NULL, overdue = false WHERE id = $1`, studentID)
	return err
}

// MarkOverdue records that the graduate's follow-up came due with no contact.
func MarkOverdue(ctx context.Context, q postgres.Querier, studentID int64) error {
	_, err := q.Exec(ctx, `UPDATE students SET overdue = true, version = version + 1 WHERE id = $1 AND NOT overdue`, studentID)
	return err
}

// SetPlanRevision records the graduate's current plan revision.
func SetPlanRevision(ctx context.Context, q postgres.Querier, studentID int64, revision int, at time.Time) error {
	_, err := q.Exec(ctx, `UPDATE students SET plan_revision = $2, updated_at = $3, version = version + 1 WHERE id = $1`, studentID, revision, at)
	return err
}

// SetDestination records the graduate's current destination record; with
// places, an open or active case becomes placed.
func SetDestination(ctx context.Context, q postgres.Querier, studentID, destinationID int64, code string, places bool, at time.Time) error {
	_, err := q.Exec(ctx, `UPDATE students SET destination_id = $2, destination_code = $3, updated_at = $4, version = version + 1,
			status = CASE WHEN $5 AND status IN ('open', 'active') THEN 'placed' ELSE status END
		WHERE id = $1`, studentID, destinationID, code, at, places)
	return err
}

// PlaceIfOpen makes an open or active case placed (its destination was
// verified as a placement), and touches the file either way.
func PlaceIfOpen(ctx context.Context, q postgres.Querier, studentID int64, places bool, at time.Time) error {
	_, err := q.Exec(ctx, `UPDATE students SET status = CASE WHEN $2 AND status IN ('open', 'active') THEN 'placed' ELSE status END,
		updated_at = $3, version = version + 1 WHERE id = $1`, studentID, places, at)
	return err
}
