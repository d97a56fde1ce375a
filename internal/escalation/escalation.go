// Package escalation raises stalled cases to the next level — the
// counselor, the school's supervisors, the province — one level at a time,
// and lets each level acknowledge and resolve what reached it. A new
// contact resolves a case's no-contact escalations by itself.
package escalation

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/bangfu/bangfu"
	"github.com/bangfu/bangfu/internal/audit"
	"github.com/bangfu/bangfu/internal/graduate"
	"github.com/bangfu/bangfu/internal/ledger"
	"github.com/bangfu/bangfu/internal/mask"
	"github.com/bangfu/bangfu/internal/notify"
	"github.com/bangfu/bangfu/internal/policy"
	"github.com/bangfu/bangfu/internal/postgres"
)

// Kinds of escalation the sweep raises.
var Kinds = []string{"no_contact", "measure_overdue", "referrals_short", "unplaced_after_july"}

// Statuses of an escalation.
var Statuses = []string{"open", "acknowledged", "resolved"}

// Escalation is a stalled case raised to one level.
type Escalation struct {
	ID              int64      `json:"id"`
	StudentID       int64      `json:"student_id"`
	StudentName     string     `json:"student_name"`
	SchoolID        int64      `json:"school_id"`
	CounselorID     *int64     `json:"counselor_id"`
	Kind            string     `json:"kind"`
	Level           int        `json:"level"`
	Reason          string     `json:"reason"`
	Status          string     `json:"status"`
	RaisedAt        time.Time  `json:"raised_at"`
	AcknowledgedBy  *int64     `json:"acknowledged_by"`
	AcknowledgedAt  *time.Time `json:"acknowledged_at"`
	AcknowledgeNote string     `json:"acknowledge_note"`
	ResolvedBy      *int64     `json:"resolved_by"`
	ResolvedAt      *time.Time `json:"resolved_at"`
	ResolveNote     string     `json:"resolve_note"`
}

// Service lists escalations and records what people do with them.
type Service struct {
	DB    *postgres.DB
	Clock bangfu.Clock
	// Reads records the audit entries of reads.
	Reads *audit.Reads
	// Notify updates an escalation's notifications when it is resolved.
	Notify *notify.Service
}

// notificationKey is the event key of the notifications an escalation sends.
func notificationKey(id int64) string { return fmt.Sprintf("escalation:%d", id) }

// resolved tells, on tx, the notifications of escalations ids that they
// were resolved, and how (note).
func resolved(ctx context.Context, tx pgx.Tx, n *notify.Service, ids []int64, note string) error {
	rs := make([]notify.Resolution, len(ids))
	for i, id := range ids {
		rs[i] = notify.Resolution{Key: notificationKey(id), Note: note}
	}
	_, err := n.Resolve(ctx, tx, "escalation", rs...)
	return err
}

// Filter narrows List.
type Filter struct {
	Kind     string
	Status   string
	Level    int
	SchoolID *int64
}

const columns = `e.id, e.student_id, s.name, e.school_id, s.counselor_id, e.kind, e.level, e.reason, e.status, e.raised_at,
	e.acknowledged_by, e.acknowledged_at, e.acknowledge_note, e.resolved_by, e.resolved_at, e.resolve_note`

func scan(row pgx.CollectableRow) (Escalation, error) {
	var e Escalation
	err := row.Scan(&e.ID, &e.StudentID, &e.StudentName, &e.SchoolID, &e.CounselorID, &e.Kind, &e.Level, &e.Reason, &e.Status,
		&e.RaisedAt, &e.AcknowledgedBy, &e.AcknowledgedAt, &e.AcknowledgeNote, &e.ResolvedBy, &e.ResolvedAt, &e.ResolveNote)
	return e, err
}

// maskFor leaves province staff (policy.Masked) an escalation's metadata
// and the system's own words: the name masked, the notes people wrote
// hidden, and a reason cut before its full-width colon, after which the
// sweep quotes staff text (a plan measure's description).
func (e *Escalation) maskFor(a bangfu.Actor) {
	if !policy.Masked(a) {
		return
	}
	e.StudentName = mask.Name(e.StudentName)
	e.Reason, _, _ = strings.Cut(e.Reason, "：")
	e.AcknowledgeNote, e.ResolveNote = mask.Text(e.AcknowledgeNote), mask.Text(e.ResolveNote)
}

// scopeWhere limits a query over escalations e to the graduates a may
// see. An escalation's school is its graduate's, so a school-wide scope
// filters on it and the query walks (school_id, status, id) in order; a
// narrower scope is the list of its graduates' ids, computed once.
func scopeWhere(a bangfu.Actor) *postgres.Where {
	w := &postgres.Where{}
	switch sc := policy.ScopeOf(a); {
	case sc.All:
	case sc.SchoolID != nil && sc.DepartmentID == nil:
		w.Add("e.school_id = ?", *sc.SchoolID)
	case sc.SchoolID != nil:
		// A department's: the escalations carry their graduate's
		// department (migration 0025, kept by the database), walked in
		// order through escalations_department_idx.
		w.Add("e.school_id = ?", *sc.SchoolID)
		w.Add("e.department_id = ?", *sc.DepartmentID)
	default:
		if sc.SchoolID != nil {
			w.Add("e.school_id = ?", *sc.SchoolID)
		}
		scoped := &postgres.Where{Args: w.Args}
		graduate.AddScope(scoped, a)
		w.Args = scoped.Args
		w.Add("e.student_id = ANY(ARRAY(SELECT s.id FROM students s WHERE " + scoped.String() + "))")
	}
	return w
}

// CountOpen counts the open escalations (not yet acknowledged) of the
// graduates a may see, by level: [0] is level 1.
func (s *Service) CountOpen(ctx context.Context, a bangfu.Actor) ([3]int, error) {
	var out [3]int
	w := scopeWhere(a)
	w.Add("e.status = 'open'")
	rows, err := s.DB.Pool.Query(ctx, `SELECT e.level, count(*) FROM escalations e WHERE `+w.String()+` GROUP BY e.level`, w.Args...)
	if err != nil {
		return out, err
	}
	var level, n int
	_, err = pgx.ForEachRow(rows, []any{&level, &n}, func() error {
		if level >= 1 && level <= 3 {
			out[level-1] = n
		}
		return nil
	})
	return out, err
}

// ListQuery returns the SQL of one page of List (limit+1 rows) and its
// arguments; exported so that benchmarks can issue the same SQL directly.
func ListQuery(a bangfu.Actor, f Filter, pg bangfu.Page) (string, []any) {
	after := pg.After
	if after == 0 {
		after = 1<<63 - 1
	}
	w := scopeWhere(a)
	w.Add("e.id < ?", after)
	if f.Kind != "" {
		w.Add("e.kind = ?", f.Kind)
	}
	if f.Status != "" {
		w.Add("e.status = ?", f.Status)
	}
	if f.Level != 0 {
		w.Add("e.level = ?", f.Level)
	}
	if f.SchoolID != nil {
		w.Add("e.school_id = ?", *f.SchoolID)
	}
	w.Args = append(w.Args, pg.Limit+1)
	return fmt.Sprintf(`SELECT %s FROM escalations e JOIN students s ON s.id = e.student_id
		WHERE %s ORDER BY e.id DESC LIMIT $%d`, columns, w, len(w.Args)), w.Args
}

// List returns the escalations of the graduates a may see, newest first,
// and audits the read. Page.After is an escalation id.
func (s *Service) List(ctx context.Context, a bangfu.Actor, f Filter, pg bangfu.Page) (bangfu.List[Escalation], error) {
	var p bangfu.Problems
	if f.Kind != "" && !slices.Contains(Kinds, f.Kind) {
		p.Add("kind", "must be one of "+strings.Join(Kinds, ", "))
	}
	if f.Status != "" && !slices.Contains(Statuses, f.Status) {
		p.Add("status", "must be one of open, acknowledged, resolved")
	}
	if f.Level != 0 && (f.Level < 1 || f.Level > 3) {
		p.Add("level", "must be 1, 2 or 3")
	}
	if err := p.Err(); err != nil {
		return bangfu.List[Escalation]{}, err
	}
	sql, args := ListQuery(a, f, pg)
	rows, err := s.DB.Pool.Query(ctx, sql, args...)
	if err != nil {
		return bangfu.List[Escalation]{}, err
	}
	items, err := pgx.CollectRows(rows, scan)
	if err != nil {
		return bangfu.List[Escalation]{}, err
	}
	for i := range items {
		items[i].maskFor(a)
	}
	if pg.After == 0 {
		// One entry per list (its first page), like a search of files.
		ev := audit.Event{Action: audit.EscalationList, Detail: map[string]any{"kind": f.Kind, "status": f.Status, "level": f.Level, "results": len(items)}}
		if a.SchoolID != nil {
			ev.SchoolID = *a.SchoolID
		}
		if err := s.Reads.Record(ctx, a, s.Clock.Now(), ev); err != nil {
			return bangfu.List[Escalation]{}, err
		}
	}
	return bangfu.NewList(items, pg.Limit, func(e Escalation) int64 { return e.ID }), nil
}

// MayAct reports whether a handles escalations of level: counselors level
// 1, supervisors levels 1 and 2, province level 3.
func MayAct(a bangfu.Actor, level int) bool {
	switch a.Role {
	case bangfu.RoleCounselor:
		return level == 1
	case bangfu.RoleSupervisor:
		return level <= 2
	case bangfu.RoleProvince:
		return level == 3
	}
	return false
}

// Acknowledge records that a has seen an open escalation and is acting.
func (s *Service) Acknowledge(ctx context.Context, a bangfu.Actor, id int64, note string) (Escalation, error) {
	return s.act(ctx, a, id, note, "acknowledged")
}

// Resolve closes an open or acknowledged escalation, saying why; its
// notifications say so.
func (s *Service) Resolve(ctx context.Context, a bangfu.Actor, id int64, note string) (Escalation, error) {
	return s.act(ctx, a, id, note, "resolved")
}

func (s *Service) act(ctx context.Context, a bangfu.Actor, id int64, note, to string) (Escalation, error) {
	note = strings.TrimSpace(note)
	var p bangfu.Problems
	if to == "resolved" && note == "" {
		p.Add("note", "is required: say how it was resolved")
	}
	p.Text("note", note, 1000, false)
	var out Escalation
	err := s.DB.InTx(ctx, func(tx pgx.Tx) error {
		rows, _ := tx.Query(ctx, `SELECT `+columns+` FROM escalations e JOIN students s ON s.id = e.student_id WHERE e.id = $1 FOR UPDATE OF e`, id)
		e, err := pgx.CollectExactlyOneRow(rows, scan)
		if err != nil {
			return postgres.FormatError(err, "escalation")
		}
		if _, err := graduate.Access(ctx, tx, a, e.StudentID, false); bangfu.ErrorCode(err) == bangfu.ENOTFOUND {
			return bangfu.NotFound("escalation") // another's graduate: indistinguishable from none
		} else if err != nil {
			return err
		}
		if !MayAct(a, e.Level) {
			return bangfu.Errorf(bangfu.EFORBIDDEN, "Level %d escalations are handled by %s.", e.Level, map[int]string{1: "the counselor or a supervisor", 2: "the school's supervisors", 3: "province staff"}[e.Level])
		}
		if err := p.Err(); err != nil {
			return err
		}
		switch {
		case e.Status == "resolved":
			return bangfu.Errorf(bangfu.ECONFLICT, "This escalation is already resolved.")
		case to == "acknowledged" && e.Status == "acknowledged":
			return bangfu.Errorf(bangfu.ECONFLICT, "This escalation is already acknowledged.")
		}
		now := s.Clock.Now()
		if to == "acknowledged" {
			_, err = tx.Exec(ctx, `UPDATE escalations SET status = 'acknowledged', acknowledged_by = $2, acknowledged_at = $3, acknowledge_note = $4 WHERE id = $1`,
				id, a.UserID, now, note)
		} else {
			_, err = tx.Exec(ctx, `UPDATE escalations SET status = 'resolved', resolved_by = $2, resolved_at = $3, resolve_note = $4 WHERE id = $1`,
				id, a.UserID, now, note)
			if err == nil {
				err = resolved(ctx, tx, s.Notify, []int64{id}, note)
			}
		}
		if err != nil {
			return err
		}
		if err := audit.Record(ctx, tx, a, now, audit.Event{Action: audit.EscalationAct, StudentID: e.StudentID, SchoolID: e.SchoolID,
			Reason: note, Detail: map[string]any{"escalation_id": id, "status": to}}); err != nil {
			return err
		}
		rows, _ = tx.Query(ctx, `SELECT `+columns+` FROM escalations e JOIN students s ON s.id = e.student_id WHERE e.id = $1`, id)
		out, err = pgx.CollectExactlyOneRow(rows, scan)
		out.maskFor(a)
		return err
	})
	return out, err
}

// ResolveOnContact is the ledger's hook: a contact resolves the case's
// unresolved no-contact escalations, noting which entry did it, and their
// notifications say so. The resolution goes in the entry's batch; the
// notifications are told after it, only when it resolved something.
func (s *Service) ResolveOnContact(ctx context.Context, tx pgx.Tx, a bangfu.Actor, h graduate.Header, e ledger.Entry, p *ledger.Pending) error {
	if e.Kind != "contact" {
		return nil
	}
	note := fmt.Sprintf("已恢复联系：台账第 %d 条记录", e.Seq)
	var ids []int64
	p.Batch.Queue(`UPDATE escalations SET status = 'resolved', resolved_by = $2, resolved_at = $3, resolve_note = $4
		WHERE student_id = $1 AND kind = 'no_contact' AND status <> 'resolved' RETURNING id`,
		h.StudentID, a.UserID, s.Clock.Now(), note).Query(func(rows pgx.Rows) error {
		var err error
		ids, err = pgx.CollectRows(rows, pgx.RowTo[int64])
		return err
	})
	p.Then(func(ctx context.Context, tx pgx.Tx) error {
		if len(ids) == 0 {
			return nil
		}
		return resolved(ctx, tx, s.Notify, ids, note)
	})
	return nil
}
