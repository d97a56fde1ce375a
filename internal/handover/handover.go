// Package handover records the hand-over of a graduate who left school
// unplaced to the public employment service (离校未就业毕业生实名信息衔接):
// which agency received them, when, who handed them over, which of their
// data were passed on (with their consent checked), and the agency's
// acknowledgement when it comes. The case leaves the active caseload but
// stays readable; the ledger records the hand-over.
package handover

import (
	"context"
	"errors"
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
	"github.com/bangfu/bangfu/internal/policy"
	"github.com/bangfu/bangfu/internal/postgres"
)

// SharedFields are the graduate's data a hand-over may pass on, by name.
var SharedFields = []string{
	"name", "student_number", "id_number", "phone", "email", "education_level", "major",
	"graduation_year", "intention", "skills", "hardship_categories",
}

var fieldNames = map[string]string{
	"name": "姓名", "student_number": "学号", "id_number": "身份证号", "phone": "电话", "email": "电子邮箱",
	"education_level": "学历层次", "major": "专业", "graduation_year": "毕业年份", "intention": "求职意向",
	"skills": "技能", "hardship_categories": "困难类别",
}

// Handover is one hand-over of a graduate.
type Handover struct {
	ID             int64       `json:"id"`
	StudentID      int64       `json:"student_id"`
	Agency         string      `json:"agency"`
	AgencyRegion   string      `json:"agency_region"`
	HandedOverOn   bangfu.Date `json:"handed_over_on"`
	HandedOverBy   int64       `json:"handed_over_by"`
	HandedOverRole string      `json:"handed_over_role"`
	SharedFields   []string    `json:"shared_fields"`
	// ConsentAt is when the graduate consented to sharing their data, as
	// the file recorded it when they were handed over.
	ConsentAt       time.Time        `json:"consent_at"`
	Note            string           `json:"note"`
	LedgerSeq       int              `json:"ledger_seq"`
	RecordedAt      time.Time        `json:"recorded_at"`
	Acknowledgement *Acknowledgement `json:"acknowledgement"`
}

// Acknowledgement is the receiving agency's confirmation.
type Acknowledgement struct {
	AcknowledgedOn bangfu.Date `json:"acknowledged_on"`
	// AcknowledgedBy names who confirmed at the agency.
	AcknowledgedBy string    `json:"acknowledged_by"`
	Reference      string    `json:"reference"`
	RecordedBy     int64     `json:"recorded_by"`
	RecordedAt     time.Time `json:"recorded_at"`
}

// Input is a hand-over as submitted.
type Input struct {
	Agency       string   `json:"agency"`
	AgencyRegion string   `json:"agency_region"`
	HandedOverOn string   `json:"handed_over_on"`
	SharedFields []string `json:"shared_fields"`
	Note         string   `json:"note"`
}

// AcknowledgementInput is the agency's acknowledgement as submitted.
type AcknowledgementInput struct {
	AcknowledgedOn string `json:"acknowledged_on"`
	AcknowledgedBy string `json:"acknowledged_by"`
	Reference      string `json:"reference"`
}

// Service records hand-overs.
type Service struct {
	DB     *postgres.DB
	Clock  bangfu.Clock
	Ledger *ledger.Service
	// Reads records the audit entries of reads.
	Reads *audit.Reads
	// AfterCaseChange runs in the transaction of a hand-over (the follow-up
	// scheduler cancels the pending follow-up).
	AfterCaseChange graduate.CaseHook
}

// mayWrite reports whether a's role hands graduates over: the graduate's
// counselor or a supervisor (which graduates, Access decides).
func mayWrite(a bangfu.Actor) bool {
	return a.Role == bangfu.RoleCounselor || a.Role == bangfu.RoleSupervisor
}

func (in *Input) check(today bangfu.Date) (*bangfu.Date, error) {
	var p bangfu.Problems
	in.Agency, in.AgencyRegion, in.Note = strings.TrimSpace(in.Agency), strings.TrimSpace(in.AgencyRegion), strings.TrimSpace(in.Note)
	p.Text("agency", in.Agency, 100, true)
	p.Text("agency_region", in.AgencyRegion, 100, false)
	p.Text("note", in.Note, 1000, false)
	on := bangfu.ParseDate(&p, "handed_over_on", in.HandedOverOn)
	switch {
	case in.HandedOverOn == "":
		p.Add("handed_over_on", "is required: the day the graduate was handed over")
	case on != nil && on.After(today):
		p.Add("handed_over_on", "cannot be in the future")
	}
	switch {
	case len(in.SharedFields) == 0:
		p.Add("shared_fields", "is required: which of the graduate's data were passed on")
	case slices.ContainsFunc(in.SharedFields, func(f string) bool { return !slices.Contains(SharedFields, f) }):
		p.Add("shared_fields", "must name fields from: "+strings.Join(SharedFields, ", "))
	}
	in.SharedFields = slices.Compact(slices.Clone(in.SharedFields))
	return on, p.Err()
}

// Create hands the graduate over: it records the hand-over, appends a
// ledger entry shared with the graduate, and takes the case out of the
// caseload (its pending follow-up is cancelled), all in one transaction.
// Only a case in the caseload, after the graduation date, of a graduate who
// consented to sharing their data is handed over (conflict, or invalid
// naming consent, otherwise); a hand-over day before the graduation date is
// invalid.
func (s *Service) Create(ctx context.Context, a bangfu.Actor, studentID int64, in Input) (Handover, error) {
	today := bangfu.Today(s.Clock)
	on, verr := in.check(today)
	var out Handover
	err := s.DB.InTx(ctx, func(tx pgx.Tx) error {
		h, err := graduate.Access(ctx, tx, a, studentID, true)
		if err != nil {
			return err
		}
		if !mayWrite(a) {
			return bangfu.Errorf(bangfu.EFORBIDDEN, "The graduate's counselor or a supervisor hands them over.")
		}
		if !graduate.Followed(h.Status) {
			return bangfu.Errorf(bangfu.ECONFLICT, "Only a case in the caseload (open or active) is handed over; this one is %s.", h.Status)
		}
		left := graduate.GraduationDate(h.GraduationYear).AddDays(1)
		if today.Before(left) {
			return bangfu.Errorf(bangfu.ECONFLICT, "A graduate is handed over once they have left school unplaced: from %d %s %d.",
				left.Time().Day(), left.Time().Month(), left.Time().Year())
		}
		if verr != nil {
			return verr
		}
		if on.Before(left) {
			return (bangfu.Problems{"handed_over_on": fmt.Sprintf("must be on or after %s, when the graduate left school", left)}).Err()
		}
		var consent bool
		var consentAt *time.Time
		if err := tx.QueryRow(ctx, `SELECT consent, consent_at FROM students WHERE id = $1`, studentID).Scan(&consent, &consentAt); err != nil {
			return err
		}
		if !consent {
			return (bangfu.Problems{"consent": "the graduate has not consented to sharing their data: record their consent on the file first"}).Err()
		}
		now := s.Clock.Now()
		if consentAt == nil {
			consentAt = &now
		}
		shared := make([]string, len(in.SharedFields))
		for i, f := range in.SharedFields {
			shared[i] = fieldNames[f]
		}
		summary := fmt.Sprintf("离校未就业实名衔接：于 %s 移交至%s", on, in.Agency)
		if in.AgencyRegion != "" {
			summary += "（" + in.AgencyRegion + "）"
		}
		summary += "。共享信息：" + strings.Join(shared, "、") + "（已核对毕业生同意共享）。"
		e, err := s.Ledger.AppendTx(ctx, tx, a, h, ledger.Input{Kind: "outcome", Channel: "other", OccurredAt: now,
			Summary: summary, NextStep: "由公共就业服务机构继续提供就业服务", Visibility: "shared"})
		if err != nil {
			return err
		}
		var id int64
		if err := tx.QueryRow(ctx, `INSERT INTO handovers (student_id, school_id, agency, agency_region, handed_over_on,
				handed_over_by, handed_over_role, shared_fields, consent_at, note, ledger_seq, recorded_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) RETURNING id`,
			studentID, h.SchoolID, in.Agency, in.AgencyRegion, on.Time(), a.UserID, a.Role, in.SharedFields, *consentAt, in.Note,
			e.Seq, now).Scan(&id); err != nil {
			return postgres.FormatError(err, "hand-over")
		}
		change, err := graduate.SetHandedOver(ctx, tx, studentID, now)
		if err != nil {
			return err
		}
		if s.AfterCaseChange != nil && change.Moved() {
			if err := s.AfterCaseChange(ctx, tx, change); err != nil {
				return err
			}
		}
		if err := audit.Record(ctx, tx, a, now, audit.Event{Action: audit.HandoverCreate, StudentID: studentID, SchoolID: h.SchoolID,
			Fields: in.SharedFields, Detail: map[string]any{"handover_id": id, "agency": in.Agency}}); err != nil {
			return err
		}
		out, err = s.one(ctx, tx, id)
		return err
	})
	return out, err
}

// Acknowledge records the receiving agency's acknowledgement of the
// graduate's latest hand-over, once (conflict after, and for a graduate
// never handed over), with a ledger note shared with the graduate.
func (s *Service) Acknowledge(ctx context.Context, a bangfu.Actor, studentID int64, in AcknowledgementInput) (Handover, error) {
	var p bangfu.Problems
	in.AcknowledgedBy, in.Reference = strings.TrimSpace(in.AcknowledgedBy), strings.TrimSpace(in.Reference)
	p.Text("acknowledged_by", in.AcknowledgedBy, 100, true)
	p.Text("reference", in.Reference, 200, false)
	on := bangfu.ParseDate(&p, "acknowledged_on", in.AcknowledgedOn)
	switch {
	case in.AcknowledgedOn == "":
		p.Add("acknowledged_on", "is required: the day the agency confirmed")
	case on != nil && on.After(bangfu.Today(s.Clock)):
		p.Add("acknowledged_on", "cannot be in the future")
	}
	var out Handover
	err := s.DB.InTx(ctx, func(tx pgx.Tx) error {
		h, err := graduate.Access(ctx, tx, a, studentID, true)
		if err != nil {
			return err
		}
		if !mayWrite(a) {
			return bangfu.Errorf(bangfu.EFORBIDDEN, "The graduate's counselor or a supervisor records the acknowledgement.")
		}
		var id int64
		var handedOverOn time.Time
		var agency string
		var acknowledged *time.Time
		err = tx.QueryRow(ctx, `SELECT id, handed_over_on, agency, acknowledged_on FROM handovers WHERE student_id = $1 ORDER BY id DESC LIMIT 1`,
			studentID).Scan(&id, &handedOverOn, &agency, &acknowledged)
		if errors.Is(err, pgx.ErrNoRows) {
			return bangfu.Errorf(bangfu.ECONFLICT, "This graduate has not been handed over.")
		} else if err != nil {
			return err
		}
		if acknowledged != nil {
			return bangfu.Errorf(bangfu.ECONFLICT, "The agency's acknowledgement is already recorded.")
		}
		if err := p.Err(); err != nil {
			return err
		}
		if on.Before(bangfu.DateFromDB(handedOverOn)) {
			return (bangfu.Problems{"acknowledged_on": "is before the hand-over"}).Err()
		}
		now := s.Clock.Now()
		if _, err := tx.Exec(ctx, `UPDATE handovers SET acknowledged_on = $2, acknowledged_by = $3, acknowledgement_ref = $4,
				acknowledgement_by_user = $5, acknowledgement_at = $6 WHERE id = $1`,
			id, on.Time(), in.AcknowledgedBy, in.Reference, a.UserID, now); err != nil {
			return err
		}
		if _, err := s.Ledger.AppendTx(ctx, tx, a, h, ledger.Input{Kind: "note", OccurredAt: now, Visibility: "shared",
			Summary: fmt.Sprintf("%s已于 %s 确认接收离校未就业实名衔接。", agency, on)}); err != nil {
			return err
		}
		if err := audit.Record(ctx, tx, a, now, audit.Event{Action: audit.HandoverAck, StudentID: studentID, SchoolID: h.SchoolID,
			Detail: map[string]any{"handover_id": id}}); err != nil {
			return err
		}
		out, err = s.one(ctx, tx, id)
		return err
	})
	return out, err
}

// List returns the graduate's hand-overs, newest first, as a may see them:
// province staff without the free text (the note) and without the name of
// the agency's contact. Staff reads are audited.
func (s *Service) List(ctx context.Context, a bangfu.Actor, studentID int64) ([]Handover, error) {
	h, err := graduate.Access(ctx, s.DB.Pool, a, studentID, false)
	if err != nil {
		return nil, err
	}
	rows, err := s.DB.Pool.Query(ctx, `SELECT `+columns+` FROM handovers WHERE student_id = $1 ORDER BY id DESC`, studentID)
	if err != nil {
		return nil, err
	}
	out, err := pgx.CollectRows(rows, scan)
	if err != nil {
		return nil, err
	}
	for i := range out {
		out[i].maskFor(a)
	}
	if a.Role != bangfu.RoleStudent {
		if err := s.Reads.Record(ctx, a, s.Clock.Now(), audit.Event{Action: audit.HandoverRead, StudentID: studentID, SchoolID: h.SchoolID}); err != nil {
			return nil, err
		}
	}
	return out, nil
}

func (h *Handover) maskFor(a bangfu.Actor) {
	if !policy.Masked(a) {
		return
	}
	h.Note = mask.Text(h.Note)
	if h.Acknowledgement != nil {
		h.Acknowledgement.AcknowledgedBy = mask.Text(h.Acknowledgement.AcknowledgedBy)
	}
}

const columns = `id, student_id, agency, agency_region, handed_over_on, handed_over_by, handed_over_role, shared_fields,
	consent_at, note, ledger_seq, recorded_at, acknowledged_on, acknowledged_by, acknowledgement_ref,
	acknowledgement_by_user, acknowledgement_at`

func scan(row pgx.CollectableRow) (Handover, error) {
	var h Handover
	var on time.Time
	var ackOn *time.Time
	var ackBy, ackRef string
	var ackUser *int64
	var ackAt *time.Time
	err := row.Scan(&h.ID, &h.StudentID, &h.Agency, &h.AgencyRegion, &on, &h.HandedOverBy, &h.HandedOverRole, &h.SharedFields,
		&h.ConsentAt, &h.Note, &h.LedgerSeq, &h.RecordedAt, &ackOn, &ackBy, &ackRef, &ackUser, &ackAt)
	h.HandedOverOn = bangfu.DateFromDB(on)
	if ackOn != nil && ackUser != nil && ackAt != nil {
		h.Acknowledgement = &Acknowledgement{AcknowledgedOn: bangfu.DateFromDB(*ackOn), AcknowledgedBy: ackBy, Reference: ackRef,
			RecordedBy: *ackUser, RecordedAt: *ackAt}
	}
	return h, err
}

func (s *Service) one(ctx context.Context, q postgres.Querier, id int64) (Handover, error) {
	rows, _ := q.Query(ctx, `SELECT `+columns+` FROM handovers WHERE id = $1`, id)
	h, err := pgx.CollectExactlyOneRow(rows, scan)
	return h, postgres.FormatError(err, "hand-over")
}
