package graduate

import (
	"context"
	"slices"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/bangfu/bangfu"
	"github.com/bangfu/bangfu/internal/audit"
	"github.com/bangfu/bangfu/internal/postgres"
)

// Categories are the hardship codes (docs/domain.md).
var Categories = []string{
	"poverty_alleviated", // 脱贫家庭
	"dibao",              // 低保家庭
	"zero_employment",    // 零就业家庭
	"disabled",           // 残疾
	"tekun",              // 特困供养
	"orphan",             // 孤儿
	"disabled_parent",    // 残疾人子女
	"other_certified",    // 学校认定其他困难
}

// Hardship is one hardship category of a graduate with its evidence. Only
// verified, unexpired ones count for eligibility and statistics.
type Hardship struct {
	ID               int64        `json:"id"`
	StudentID        int64        `json:"student_id"`
	Category         string       `json:"category"`
	EvidenceType     string       `json:"evidence_type"`
	IssuingAuthority string       `json:"issuing_authority"`
	CertificateNo    string       `json:"certificate_no"`
	ValidUntil       *bangfu.Date `json:"valid_until"`
	Status           string       `json:"status"`
	Counts           bool         `json:"counts"`
	VerifiedBy       *int64       `json:"verified_by"`
	VerifiedAt       *time.Time   `json:"verified_at"`
	VerificationNote string       `json:"verification_note"`
	CreatedBy        int64        `json:"created_by"`
	CreatedAt        time.Time    `json:"created_at"`
}

// HardshipInput adds a hardship category with evidence.
type HardshipInput struct {
	Category         string `json:"category"`
	EvidenceType     string `json:"evidence_type"`
	IssuingAuthority string `json:"issuing_authority"`
	CertificateNo    string `json:"certificate_no"`
	ValidUntil       string `json:"valid_until"`
}

func (s *Service) hardships(ctx context.Context, q postgres.Querier, studentID int64) ([]Hardship, error) {
	rows, err := q.Query(ctx, HardshipsSQL, studentID)
	if err != nil {
		return nil, err
	}
	today := bangfu.Today(s.Clock).Time()
	return pgx.CollectRows(rows, func(row pgx.CollectableRow) (Hardship, error) {
		var h Hardship
		var hasCert bool
		var until *time.Time
		err := row.Scan(&h.ID, &h.StudentID, &h.Category, &h.EvidenceType, &h.IssuingAuthority, &hasCert,
			&until, &h.Status, &h.VerifiedBy, &h.VerifiedAt, &h.VerificationNote, &h.CreatedBy, &h.CreatedAt)
		if hasCert {
			h.CertificateNo = Masked
		}
		h.ValidUntil = bangfu.DatePtr(until)
		h.Counts = h.Status == "verified" && (until == nil || !until.Before(today))
		return h, err
	})
}

// AddHardship records a hardship category with its evidence, unverified.
func (s *Service) AddHardship(ctx context.Context, a bangfu.Actor, studentID int64, in HardshipInput) (Hardship, error) {
	in.EvidenceType = strings.TrimSpace(in.EvidenceType)
	in.IssuingAuthority = strings.TrimSpace(in.IssuingAuthority)
	in.CertificateNo = strings.TrimSpace(in.CertificateNo)
	var p bangfu.Problems
	if !slices.Contains(Categories, in.Category) {
		p.Add("category", "must be one of "+strings.Join(Categories, ", "))
	}
	p.Text("evidence_type", in.EvidenceType, 100, true)
	p.Text("issuing_authority", in.IssuingAuthority, 100, true)
	p.Text("certificate_no", in.CertificateNo, 64, false)
	validUntil := bangfu.ParseDate(&p, "valid_until", in.ValidUntil)
	if validUntil != nil && validUntil.Before(bangfu.Today(s.Clock)) {
		p.Add("valid_until", "is already past: this evidence has expired")
	}
	var id int64
	err := s.DB.InTx(ctx, func(tx pgx.Tx) error {
		h, err := Access(ctx, tx, a, studentID, true)
		if err != nil {
			return err
		}
		if err := p.Err(); err != nil {
			return err
		}
		if err := tx.QueryRow(ctx, `INSERT INTO hardships (student_id, category, evidence_type, issuing_authority,
				certificate_no_sealed, valid_until, created_by, created_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id`,
			studentID, in.Category, in.EvidenceType, in.IssuingAuthority, s.sealOptional(FieldCertificateNo, in.CertificateNo),
			validUntil.TimePtr(), a.UserID, s.Clock.Now()).Scan(&id); err != nil {
			return postgres.FormatError(err, "hardship")
		}
		return audit.Record(ctx, tx, a, s.Clock.Now(), audit.Event{Action: audit.HardshipAdd, StudentID: studentID, SchoolID: h.SchoolID,
			Fields: []string{"category"}, Detail: map[string]any{"hardship_id": id, "category": in.Category}})
	})
	if err != nil {
		return Hardship{}, err
	}
	return s.hardship(ctx, a, studentID, id)
}

func (s *Service) hardship(ctx context.Context, a bangfu.Actor, studentID, id int64) (Hardship, error) {
	all, err := s.hardships(ctx, s.DB.Pool, studentID)
	if err != nil {
		return Hardship{}, err
	}
	for _, h := range all {
		if h.ID == id {
			st := Student{Hardships: []Hardship{h}}
			st.maskFor(a)
			return st.Hardships[0], nil
		}
	}
	return Hardship{}, bangfu.NotFound("hardship")
}

// Verification is a supervisor's decision on evidence.
type Verification struct {
	Decision string `json:"decision"`
	Note     string `json:"note"`
}

// VerifyHardship records a supervisor's decision (verified or rejected) on
// a hardship's evidence. Expired evidence cannot be verified.
func (s *Service) VerifyHardship(ctx context.Context, a bangfu.Actor, studentID, id int64, v Verification) (Hardship, error) {
	var p bangfu.Problems
	if v.Decision == "" {
		v.Decision = "verified"
	}
	p.Check(v.Decision == "verified" || v.Decision == "rejected", "decision", "must be verified or rejected")
	v.Note = strings.TrimSpace(v.Note)
	p.Text("note", v.Note, 500, v.Decision == "rejected")
	err := s.DB.InTx(ctx, func(tx pgx.Tx) error {
		h, err := Access(ctx, tx, a, studentID, true)
		if err != nil {
			return err
		}
		var until *time.Time
		if err := tx.QueryRow(ctx, `SELECT valid_until FROM hardships WHERE id = $1 AND student_id = $2 FOR UPDATE`, id, studentID).
			Scan(&until); err != nil {
			return postgres.FormatError(err, "hardship")
		}
		if v.Decision == "verified" && until != nil && until.Before(bangfu.Today(s.Clock).Time()) {
			p.Add("decision", "the evidence expired on "+until.Format(time.DateOnly)+": add new evidence instead")
		}
		if err := p.Err(); err != nil {
			return err
		}
		now := s.Clock.Now()
		if _, err := tx.Exec(ctx, `UPDATE hardships SET status = $2, verified_by = $3, verified_at = $4, verification_note = $5 WHERE id = $1`,
			id, v.Decision, a.UserID, now, v.Note); err != nil {
			return err
		}
		if err := audit.Record(ctx, tx, a, now, audit.Event{Action: audit.HardshipVerify, StudentID: studentID, SchoolID: h.SchoolID,
			Detail: map[string]any{"hardship_id": id, "decision": v.Decision}}); err != nil {
			return err
		}
		return s.AfterEligibility.call(ctx, tx, studentID)
	})
	if err != nil {
		return Hardship{}, err
	}
	return s.hardship(ctx, a, studentID, id)
}
