package graduate

import (
	"context"
	"errors"
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
// The ledger's head and counts and the follow-up state live in the narrow
// case_activity row (one per graduate), not in students: an append
// updates that row once, and the wide students row (and its indexes) not
// at all. The case's status, which the stall sweep needs beside them, is
// copied there by syncCase whenever it changes.
//
// Every change to what a file shows — its status, its counts, its plan
// revision, its destination, the overdue flag — moves its version (the
// ETag: students.version + case_activity.version), so that a client
// holding an older copy cannot overwrite it unseen. The follow-up date
// moves with the write that schedules it.

// LedgerAdvance is what an appended ledger entry changes on its file.
type LedgerAdvance struct {
	StudentID int64
	Seq       int
	Head      []byte
	// Contact and Referral count the entry; a contact's OccurredAt moves
	// the last contact when it is later.
	Contact, Referral bool
	OccurredAt        time.Time
	// Followup, when not nil, is the follow-up the entry scheduled (or,
	// with Clear, cancelled), recorded by the same statement.
	Followup *FollowupChange
}

// FollowupChange is a new live follow-up: job JobID, scheduled at
// ScheduledAt, due on Due (the case is no longer overdue); or, with Clear,
// none.
type FollowupChange struct {
	Clear       bool
	JobID       int64
	ScheduledAt time.Time
	Due         bangfu.Date
}

// AdvanceFollowupSQL advances a file's ledger head and counts ($1
// graduate, $2 seq, $3 head, $4 and $5 1 for a contact or a referral, $6
// whether a contact, $7 when it occurred) on case_activity, and records
// the follow-up: $8 is 0 to leave it, 1 to record job $9 scheduled at $10
// due on $11 (not overdue), 2 to clear it.
const AdvanceFollowupSQL = `UPDATE case_activity SET ledger_seq = $2, ledger_head = $3,
		contacts_count = contacts_count + $4::int, referrals_count = referrals_count + $5::int,
		last_contact_at = CASE WHEN $6 AND (last_contact_at IS NULL OR last_contact_at < $7) THEN $7 ELSE last_contact_at END,
		quiet_since = CASE WHEN $6 AND (last_contact_at IS NULL OR last_contact_at < $7) THEN $7 ELSE quiet_since END,
		followup_job_id = CASE $8::int WHEN 1 THEN $9::bigint WHEN 2 THEN NULL ELSE followup_job_id END,
		followup_scheduled_at = CASE $8::int WHEN 1 THEN $10::timestamptz ELSE followup_scheduled_at END,
		next_followup_on = CASE $8::int WHEN 1 THEN $11::date WHEN 2 THEN NULL ELSE next_followup_on END,
		overdue = CASE WHEN $8::int = 0 THEN overdue ELSE false END,
		version = version + 1
	WHERE student_id = $1`

// QueueLedgerAdvance queues adv on b, a batch the caller sends on the
// transaction of the entry itself (one round trip for entry, head,
// follow-up and audit).
func QueueLedgerAdvance(b *pgx.Batch, adv LedgerAdvance) {
	mode, job, at, due := 0, int64(0), time.Time{}, time.Time{}
	if f := adv.Followup; f != nil {
		mode = 1
		if f.Clear {
			mode = 2
		} else {
			job, at, due = f.JobID, f.ScheduledAt, f.Due.Time()
		}
	}
	b.Queue(AdvanceFollowupSQL, adv.StudentID, adv.Seq, adv.Head, boolInt(adv.Contact), boolInt(adv.Referral), adv.Contact, adv.OccurredAt,
		mode, job, at, due)
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
	_, err := q.Exec(ctx, `UPDATE case_activity SET followup_job_id = $2, followup_scheduled_at = $3, next_followup_on = $4, overdue = false
		WHERE student_id = $1`, studentID, jobID, scheduledAt, due.Time())
	return err
}

// ClearFollowup records that the graduate has no follow-up pending.
func ClearFollowup(ctx context.Context, q postgres.Querier, studentID int64) error {
	_, err := q.Exec(ctx, `UPDATE case_activity SET followup_job_id = NULL, next_followup_on = NULL, overdue = false WHERE student_id = $1`, studentID)
	return err
}

// MarkOverdue records that the graduate's follow-up came due with no contact.
func MarkOverdue(ctx context.Context, q postgres.Querier, studentID int64) error {
	_, err := q.Exec(ctx, `UPDATE case_activity SET overdue = true, version = version + 1 WHERE student_id = $1 AND NOT overdue`, studentID)
	return err
}

// syncCase copies what the stall sweep needs of the file into its
// case_activity row — whether the case is in the caseload (status open or
// active), the start of its quiet spell, the graduation year, whether it
// has no placing destination — after a write of students that may have
// changed its status, activation, graduation year or destination. A row
// already current is not written.
func syncCase(ctx context.Context, q postgres.Querier, studentID int64) error {
	_, err := q.Exec(ctx, `UPDATE case_activity ca SET followed = n.followed, quiet_since = n.quiet_since,
			graduation_year = n.graduation_year, unplaced = n.unplaced, activated_at = n.activated_at
		FROM (SELECT s.status IN ('open', 'active') AS followed, coalesce(c.last_contact_at, s.activated_at, s.created_at) AS quiet_since,
		             s.graduation_year, (s.destination_code IS NULL OR s.destination_code IN ('70', '71', '72')) AS unplaced, s.activated_at
		      FROM students s JOIN case_activity c ON c.student_id = s.id WHERE s.id = $1) n
		WHERE ca.student_id = $1
		  AND (ca.followed, ca.quiet_since, ca.graduation_year, ca.unplaced, ca.activated_at)
		      IS DISTINCT FROM (n.followed, n.quiet_since, n.graduation_year, n.unplaced, n.activated_at)`,
		studentID)
	return err
}

// SetPlanRevision records the graduate's current plan revision.
func SetPlanRevision(ctx context.Context, q postgres.Querier, studentID int64, revision int, at time.Time) error {
	_, err := q.Exec(ctx, `WITH c AS (UPDATE case_activity SET plan_revision = $2 WHERE student_id = $1)
		UPDATE students SET plan_revision = $2, updated_at = $3, version = version + 1 WHERE id = $1`, studentID, revision, at)
	return err
}

// DestinationEffect is what a new or verified destination record does to
// its case.
type DestinationEffect int

const (
	// Keeps leaves the case as it is.
	Keeps DestinationEffect = iota
	// Places makes an open or active case placed.
	Places
	// Reopens makes a placed case active again: the placement fell through.
	Reopens
)

// SetDestination records the graduate's current destination record (not
// yet verified) and applies effect to the case. It returns the case's move
// (From == To when the status stayed); the caller runs its case hook on a
// move.
func SetDestination(ctx context.Context, tx pgx.Tx, studentID, destinationID int64, code string, effect DestinationEffect, at time.Time) (CaseChange, error) {
	c := CaseChange{StudentID: studentID}
	err := tx.QueryRow(ctx, `UPDATE students s SET destination_id = $2, destination_code = $3, destination_verified = false,
			updated_at = $4, version = s.version + 1,
			status = CASE WHEN $5 = 1 AND s.status IN ('open', 'active') THEN 'placed'
			              WHEN $5 = 2 AND s.status = 'placed' THEN 'active' ELSE s.status END,
			activated_at = CASE WHEN $5 = 2 AND s.status = 'placed' THEN coalesce(s.activated_at, $4) ELSE s.activated_at END
		FROM (SELECT status FROM students WHERE id = $1) o
		WHERE s.id = $1 RETURNING o.status, s.status`, studentID, destinationID, code, at, int(effect)).Scan(&c.From, &c.To)
	if err == nil {
		err = syncCase(ctx, tx, studentID)
	}
	return c, err
}

// PlaceIfOpen records that the graduate's current destination is verified
// (the report counts it as placed from now on, docs/domain.md), applies
// effect to the case (Places makes an open or active case placed) and
// touches the file. It returns the case's move, like SetDestination.
func PlaceIfOpen(ctx context.Context, tx pgx.Tx, studentID int64, effect DestinationEffect, at time.Time) (CaseChange, error) {
	c := CaseChange{StudentID: studentID}
	err := tx.QueryRow(ctx, `UPDATE students s SET status = CASE WHEN $2 = 1 AND s.status IN ('open', 'active') THEN 'placed' ELSE s.status END,
			destination_verified = true, updated_at = $3, version = s.version + 1
		FROM (SELECT status FROM students WHERE id = $1) o
		WHERE s.id = $1 RETURNING o.status, s.status`, studentID, int(effect), at).Scan(&c.From, &c.To)
	if err == nil && c.Moved() {
		err = syncCase(ctx, tx, studentID)
	}
	return c, err
}

// SetHandedOver records that the graduate, whose case is in the caseload,
// was handed over to the public employment service at at: the case leaves
// the caseload. It returns the case's move; the caller runs its case hook.
func SetHandedOver(ctx context.Context, tx pgx.Tx, studentID int64, at time.Time) (CaseChange, error) {
	c := CaseChange{StudentID: studentID}
	err := tx.QueryRow(ctx, `UPDATE students s SET status = 'handed_over', handed_over_at = $2, updated_at = $2, version = s.version + 1
		FROM (SELECT status FROM students WHERE id = $1) o
		WHERE s.id = $1 AND s.status IN ('open', 'active') RETURNING o.status, s.status`, studentID, at).Scan(&c.From, &c.To)
	if errors.Is(err, pgx.ErrNoRows) {
		return c, bangfu.Errorf(bangfu.ECONFLICT, "Only a case in the caseload (open or active) is handed over.")
	}
	if err == nil {
		err = syncCase(ctx, tx, studentID)
	}
	return c, err
}

// CaseChange is a case moving between statuses, on the transaction of the
// write that moves it. From is "" for a new file.
type CaseChange struct {
	StudentID int64
	From, To  string
}

// Moved reports whether the status changed.
func (c CaseChange) Moved() bool { return c.From != c.To }

// CaseHook runs in the transaction of every case change (the follow-up
// scheduler uses it: a case that opens gets its first follow-up, a case
// that leaves the caseload loses its pending one).
type CaseHook func(ctx context.Context, tx pgx.Tx, c CaseChange) error

// Followed reports whether a case of this status is in the active
// caseload: followed up, and escalated when it stalls.
func Followed(status string) bool { return status == "open" || status == "active" }

// The phases of a case in the caseload.
const (
	// PhaseInSchool runs until the graduation date.
	PhaseInSchool = "in_school"
	// PhaseAfterGraduation follows a graduate who left school unplaced:
	// monthly follow-ups (a setting) up to 31 December of the graduation
	// year, stall thresholds stretched alike, until they are placed or
	// handed over to the public employment service.
	PhaseAfterGraduation = "after_graduation"
)

// GraduationDate is the day a graduation year's graduates leave school,
// 30 June; from the next day an unplaced case is after graduation.
func GraduationDate(year int) bangfu.Date { return bangfu.NewDate(year, time.June, 30) }

// YearEnd is 31 December of the graduation year, the end of the year in
// which the school follows its graduates (and of the 90% target).
func YearEnd(year int) bangfu.Date { return bangfu.NewDate(year, time.December, 31) }

// PhaseOf returns the phase, on day today, of a case of status whose
// graduate graduates in year; "" for a case out of the caseload.
func PhaseOf(status string, year int, today bangfu.Date) string {
	switch {
	case !Followed(status):
		return ""
	case today.After(GraduationDate(year)):
		return PhaseAfterGraduation
	}
	return PhaseInSchool
}

// AfterGraduationSQL is the SQL condition that a graduate s has left
// school by the date in the parameter day (like "$1"): PhaseOf's rule.
func AfterGraduationSQL(day string) string {
	return day + `::date > ` + graduationDateSQL
}

// AfterGraduationOfSQL is AfterGraduationSQL for a graduation year in the
// SQL expression year (case_activity's copy, for the stall sweep).
func AfterGraduationOfSQL(day, year string) string {
	return day + `::date > make_date(` + year + `, 6, 30)`
}

// graduationDateSQL is GraduationDate of a graduate s, in SQL.
const graduationDateSQL = `make_date(s.graduation_year, 6, 30)`

// phaseSQL is PhaseOf of a graduate s on the day $1, in SQL (NULL for a
// case out of the caseload).
const phaseSQL = `CASE WHEN s.status IN ('open', 'active') THEN CASE WHEN $1::date > ` + graduationDateSQL + `
		THEN '` + PhaseAfterGraduation + `' ELSE '` + PhaseInSchool + `' END END`

// Responsible is a join condition between students s and users u that
// holds for the users who answer for the case: its counselor; or, when it
// has none or theirs is disabled, the enabled supervisors of its department
// and the school-wide supervisors of its school. A case is never nobody's.
const Responsible = `NOT u.disabled AND (u.id = s.counselor_id OR (u.role = 'supervisor' AND u.school_id = s.school_id
	AND (u.department_id IS NULL OR u.department_id = s.department_id)
	AND NOT EXISTS (SELECT 1 FROM users c WHERE c.id = s.counselor_id AND NOT c.disabled)))`
