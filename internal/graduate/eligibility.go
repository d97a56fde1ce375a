package graduate

import (
	"context"

	"github.com/jackc/pgx/v5"

	"github.com/bangfu/bangfu/internal/postgres"
)

// EligibilityHook is told, inside the transaction of a change, which
// graduates' standing for programmes such as the 宏志助航 roster may have
// changed: a hardship verified, rejected or expired, consent given or
// withdrawn, a graduation year changed. The roster uses it to enqueue its
// rebuild in that same transaction (internal/app wires it), so that this
// package need not know the roster.
type EligibilityHook func(ctx context.Context, tx pgx.Tx, studentIDs ...int64) error

func (h EligibilityHook) call(ctx context.Context, tx pgx.Tx, studentIDs ...int64) error {
	if h == nil || len(studentIDs) == 0 {
		return nil
	}
	return h(ctx, tx, studentIDs...)
}

// Lock reads graduate id's header and locks its row on q's transaction,
// with no record rule: it is for writes a package makes on the graduate's
// file on behalf of someone who reached the graduate through a rule of its
// own (the training base recording a completion on a confirmed place).
// The caller must have checked that rule. A missing graduate is not_found.
func Lock(ctx context.Context, q postgres.Querier, id int64) (Header, error) {
	var h Header
	b := &pgx.Batch{}
	b.Queue(lockSQL, id).QueryRow(func(row pgx.Row) error {
		return row.Scan(&h.StudentID, &h.SchoolID, &h.DepartmentID, &h.CounselorID, &h.Status, &h.GraduationYear, &h.PlanCadence)
	})
	b.Queue(lockActivitySQL, id).QueryRow(func(row pgx.Row) error {
		return row.Scan(&h.LedgerSeq, &h.LedgerHead, &h.FollowupJobID)
	})
	var err error
	if tx, ok := q.(interface {
		SendBatch(context.Context, *pgx.Batch) pgx.BatchResults
	}); ok {
		err = tx.SendBatch(ctx, b).Close()
	} else {
		err = q.QueryRow(ctx, lockSQL, id).Scan(&h.StudentID, &h.SchoolID, &h.DepartmentID, &h.CounselorID, &h.Status, &h.GraduationYear, &h.PlanCadence)
		if err == nil {
			err = q.QueryRow(ctx, lockActivitySQL, id).Scan(&h.LedgerSeq, &h.LedgerHead, &h.FollowupJobID)
		}
	}
	if err != nil {
		return Header{}, postgres.FormatError(err, "graduate")
	}
	return h, nil
}

// consentOrYearChanged reports whether a change of these file fields can
// change the graduate's eligibility.
func consentOrYearChanged(changed []string) bool {
	for _, f := range changed {
		if f == "consent" || f == "graduation_year" {
			return true
		}
	}
	return false
}
