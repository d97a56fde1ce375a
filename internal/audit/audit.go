// Package audit keeps the append-only record of who read or changed which
// graduate's data, when, from where, and why (for unmasking).
package audit

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/bangfu/bangfu"
	"github.com/bangfu/bangfu/internal/postgres"
)

// Actions recorded in the log.
const (
	StudentRead       = "student.read"
	StudentList       = "student.list"
	StudentCreate     = "student.create"
	StudentUpdate     = "student.update"
	StudentUnmask     = "student.unmask"
	StudentImport     = "student.import"
	StudentAccount    = "student.account"
	StudentReassign   = "student.reassign"
	HardshipAdd       = "hardship.add"
	HardshipVerify    = "hardship.verify"
	HardshipExpire    = "hardship.expire"
	PlanRead          = "plan.read"
	PlanRevise        = "plan.revise"
	PlanAcknowledge   = "plan.acknowledge"
	LedgerRead        = "ledger.read"
	LedgerAppend      = "ledger.append"
	LedgerCorrect     = "ledger.correct"
	LedgerVerify      = "ledger.verify"
	DestinationSet    = "destination.set"
	DestinationVerify = "destination.verify"
	EscalationAct     = "escalation.act"
	EscalationList    = "escalation.list"
	LedgerReview      = "ledger.review"
	ReportRead        = "report.read"
	DestinationRead   = "destination.read"
	HandoverCreate    = "handover.create"
	HandoverRead      = "handover.read"
	HandoverAck       = "handover.acknowledge"
	SettingsChange    = "settings.change"
	UserCreate        = "user.create"
	UserUpdate        = "user.update"
	SchoolCreate      = "school.create"
	DepartmentCreate  = "department.create"
)

// Entry is one line of the log.
type Entry struct {
	ID        int64          `json:"id"`
	At        time.Time      `json:"at"`
	ActorID   *int64         `json:"actor_id"`
	ActorRole string         `json:"actor_role"`
	Action    string         `json:"action"`
	StudentID *int64         `json:"student_id"`
	SchoolID  *int64         `json:"school_id"`
	Fields    []string       `json:"fields"`
	Reason    string         `json:"reason"`
	IP        string         `json:"ip"`
	Detail    map[string]any `json:"detail"`
}

// Event is what a service records.
type Event struct {
	Action    string
	StudentID int64 // 0 when the event concerns no one graduate
	SchoolID  int64 // 0 when it concerns no school
	Fields    []string
	Reason    string
	Detail    map[string]any
}

// Record appends ev by actor a at time at, on q (normally the transaction
// of the change it records, so that both commit or neither does). A zero
// UserID records the system.
func Record(ctx context.Context, q postgres.Querier, a bangfu.Actor, at time.Time, ev Event) error {
	_, err := q.Exec(ctx, InsertSQL, Args(a, at, ev)...)
	return err
}

// InsertSQL appends one event; Args gives its arguments. Together they let
// a caller queue the audit row in a batch with the change it records.
const InsertSQL = `INSERT INTO audit_log (at, actor_id, actor_role, action, student_id, school_id, fields, reason, ip, detail)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`

// Args returns InsertSQL's arguments for ev by a at time at.
func Args(a bangfu.Actor, at time.Time, ev Event) []any {
	role := string(a.Role)
	if a.UserID == 0 {
		role = "system"
	}
	if ev.Fields == nil {
		ev.Fields = []string{}
	}
	return []any{at, nullID(a.UserID), role, ev.Action, nullID(ev.StudentID), nullID(ev.SchoolID), ev.Fields, ev.Reason, a.IP, ev.Detail}
}

// RecordRead appends ev, the record of a read, through db's relaxed pool:
// the reader does not wait for the WAL flush, and a database crash may
// lose the last few hundred milliseconds of read records (never a change's).
func RecordRead(ctx context.Context, db *postgres.DB, a bangfu.Actor, at time.Time, ev Event) error {
	return Record(ctx, db.Relaxed, a, at, ev)
}

// RecordMany appends evs, all by actor a at time at, on q in one COPY
// (normally the transaction of the changes they record).
func RecordMany(ctx context.Context, q interface {
	CopyFrom(ctx context.Context, table pgx.Identifier, columns []string, src pgx.CopyFromSource) (int64, error)
}, a bangfu.Actor, at time.Time, evs []Event) error {
	if len(evs) == 0 {
		return nil
	}
	_, err := q.CopyFrom(ctx, pgx.Identifier{"audit_log"}, columns, pgx.CopyFromSlice(len(evs), func(i int) ([]any, error) {
		return Args(a, at, evs[i]), nil
	}))
	return err
}

var columns = []string{"at", "actor_id", "actor_role", "action", "student_id", "school_id", "fields", "reason", "ip", "detail"}

func nullID(id int64) *int64 {
	if id == 0 {
		return nil
	}
	return &id
}

// Service reads the log.
type Service struct {
	DB *postgres.DB
}

// Filter narrows List.
type Filter struct {
	StudentID *int64
	SchoolID  *int64
}

// List returns log entries, newest first. Admins read all of it;
// supervisors only their school's (another school's graduate is
// not_found); no one else.
func (s *Service) List(ctx context.Context, a bangfu.Actor, f Filter, pg bangfu.Page) (bangfu.List[Entry], error) {
	switch a.Role {
	case bangfu.RoleAdmin:
	case bangfu.RoleSupervisor:
		if a.SchoolID == nil {
			return bangfu.List[Entry]{}, bangfu.Errorf(bangfu.EFORBIDDEN, "You belong to no school.")
		}
		if f.SchoolID != nil && *f.SchoolID != *a.SchoolID {
			return bangfu.List[Entry]{}, bangfu.NotFound("school")
		}
		f.SchoolID = a.SchoolID
		if f.StudentID != nil {
			var school int64
			err := s.DB.Pool.QueryRow(ctx, `SELECT school_id FROM students WHERE id = $1`, *f.StudentID).Scan(&school)
			if err != nil || school != *a.SchoolID {
				return bangfu.List[Entry]{}, bangfu.NotFound("graduate")
			}
		}
	default:
		return bangfu.List[Entry]{}, bangfu.Errorf(bangfu.EFORBIDDEN, "Your role (%s) may not read the audit log.", a.Role)
	}
	after := pg.After
	if after == 0 {
		after = 1<<63 - 1
	}
	rows, err := s.DB.Pool.Query(ctx, `SELECT id, at, actor_id, actor_role, action, student_id, school_id, fields, reason, ip, coalesce(detail, '{}')
		FROM audit_log
		WHERE id < $1 AND ($2::bigint IS NULL OR student_id = $2) AND ($3::bigint IS NULL OR school_id = $3)
		ORDER BY id DESC LIMIT $4`, after, f.StudentID, f.SchoolID, pg.Limit+1)
	if err != nil {
		return bangfu.List[Entry]{}, err
	}
	items, err := pgx.CollectRows(rows, pgx.RowToStructByPos[Entry])
	return bangfu.NewList(items, pg.Limit, func(e Entry) int64 { return e.ID }), err
}
