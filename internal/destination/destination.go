// Package destination records where each graduate went (毕业去向), with
// the national codes, the proof behind each record and who entered it, so
// that a fake agreement is hard to pass off (四不准): an internship or
// traineeship certificate is never accepted as proof of employment.
package destination

import (
	"context"
	"slices"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/bangfu/bangfu"
	"github.com/bangfu/bangfu/internal/audit"
	"github.com/bangfu/bangfu/internal/cnid"
	"github.com/bangfu/bangfu/internal/graduate"
	"github.com/bangfu/bangfu/internal/mask"
	"github.com/bangfu/bangfu/internal/policy"
	"github.com/bangfu/bangfu/internal/postgres"
)

// Codes are the national destination codes and their names.
var Codes = map[string]string{
	"10": "签就业协议形式就业", "11": "签劳动合同形式就业", "12": "其他录用形式就业",
	"27": "科研助理、管理助理", "46": "应征义务兵", "50": "国家基层项目", "51": "地方基层项目",
	"75": "自主创业", "76": "自由职业", "80": "升学", "85": "出国、出境",
	"70": "待就业", "71": "不就业拟升学", "72": "其他暂不就业",
}

// Unplaced are the codes that do not count towards 去向落实率.
var Unplaced = []string{"70", "71", "72"}

// ProofKinds are the accepted kinds of proof.
var ProofKinds = []string{
	"employment_agreement", "labor_contract", "employment_certificate", "signed_statement",
	"business_license", "admission_notice", "enlistment_notice", "project_appointment", "other",
}

// proofNeeded says which proof kinds each code accepts; codes not listed
// need none.
var proofNeeded = map[string][]string{
	"10": {"employment_agreement"},
	"11": {"labor_contract"},
	"12": {"signed_statement"},
	"75": {"signed_statement"},
	"76": {"signed_statement"},
	"27": {"employment_agreement", "labor_contract", "employment_certificate"},
	"46": {"enlistment_notice"},
	"50": {"project_appointment"},
	"51": {"project_appointment"},
	"80": {"admission_notice"},
	"85": {"admission_notice", "employment_certificate", "other"},
}

// ProofFor returns the proof kinds code accepts, or nil when it needs no
// proof.
func ProofFor(code string) []string { return slices.Clone(proofNeeded[code]) }

// NeedsEmployer reports whether code (an employment agreement or a labour
// contract) needs the employer and its 统一社会信用代码.
func NeedsEmployer(code string) bool { return code == "10" || code == "11" }

// CodeList returns the codes in the order forms offer them: the
// placements by number, then the unplaced codes 70, 71, 72.
func CodeList() []string {
	out := make([]string, 0, len(Codes))
	for c := range Codes {
		if !slices.Contains(Unplaced, c) {
			out = append(out, c)
		}
	}
	slices.Sort(out)
	return append(out, Unplaced...)
}

// Destination is one record of a graduate's destination.
type Destination struct {
	ID          int64      `json:"id"`
	StudentID   int64      `json:"student_id"`
	Code        string     `json:"code"`
	CodeName    string     `json:"code_name"`
	Employer    string     `json:"employer"`
	CreditCode  string     `json:"credit_code"`
	Position    string     `json:"position"`
	Region      string     `json:"region"`
	ProofKind   string     `json:"proof_kind"`
	ProofRef    string     `json:"proof_ref"`
	Note        string     `json:"note"`
	Status      string     `json:"status"`
	EnteredBy   int64      `json:"entered_by"`
	EnteredRole string     `json:"entered_role"`
	EnteredAt   time.Time  `json:"entered_at"`
	VerifiedBy  *int64     `json:"verified_by"`
	VerifiedAt  *time.Time `json:"verified_at"`
}

// History is the current destination and every earlier record, newest first.
type History struct {
	Current *Destination  `json:"current"`
	History []Destination `json:"history"`
}

// Input is a destination as submitted.
type Input struct {
	Code       string `json:"code"`
	Employer   string `json:"employer"`
	CreditCode string `json:"credit_code"`
	Position   string `json:"position"`
	Region     string `json:"region"`
	ProofKind  string `json:"proof_kind"`
	ProofRef   string `json:"proof_ref"`
	Note       string `json:"note"`
}

// Service records destinations.
type Service struct {
	DB    *postgres.DB
	Clock bangfu.Clock
	// Reads records the audit entries of reads.
	Reads *audit.Reads
	// AfterCaseChange runs in the transaction of a record that places or
	// reopens a case (the follow-up scheduler uses it).
	AfterCaseChange graduate.CaseHook
}

// effect says what a record of code, of status, does to its case: a
// recorded placement places an open case; any record of 70, 71 or 72 —
// whoever entered it — reopens a placed one (the placement fell through).
func effect(code, status string) graduate.DestinationEffect {
	switch {
	case slices.Contains(Unplaced, code):
		return graduate.Reopens
	case status == "recorded" || status == "verified":
		return graduate.Places
	}
	return graduate.Keeps
}

func (s *Service) caseChanged(ctx context.Context, tx pgx.Tx, c graduate.CaseChange) error {
	if s.AfterCaseChange == nil || !c.Moved() {
		return nil
	}
	return s.AfterCaseChange(ctx, tx, c)
}

// Check returns in's problems under the destination rules.
func Check(in *Input) error {
	in.Employer, in.Position, in.Region = strings.TrimSpace(in.Employer), strings.TrimSpace(in.Position), strings.TrimSpace(in.Region)
	in.CreditCode = strings.ToUpper(strings.TrimSpace(in.CreditCode))
	in.ProofRef, in.Note = strings.TrimSpace(in.ProofRef), strings.TrimSpace(in.Note)
	var p bangfu.Problems
	if _, ok := Codes[in.Code]; !ok {
		p.Add("code", "must be a national destination code: 10, 11, 12, 27, 46, 50, 51, 75, 76, 80, 85, 70, 71 or 72")
	}
	lower := strings.ToLower(in.ProofKind)
	switch {
	case strings.Contains(lower, "intern") || strings.Contains(lower, "trainee") || strings.Contains(in.ProofKind, "实习") || strings.Contains(in.ProofKind, "见习"):
		p.Add("proof_kind", "an internship or traineeship certificate is never proof of employment (四不准)")
	case in.ProofKind != "" && !slices.Contains(ProofKinds, in.ProofKind):
		p.Add("proof_kind", "must be one of "+strings.Join(ProofKinds, ", "))
	}
	if kinds, ok := proofNeeded[in.Code]; ok && p["proof_kind"] == "" {
		if !slices.Contains(kinds, in.ProofKind) {
			p.Add("proof_kind", "code "+in.Code+" needs proof of kind "+strings.Join(kinds, " or "))
		}
		if in.ProofRef == "" {
			p.Add("proof_ref", "is required for code "+in.Code+": the proof's number or file reference")
		}
	}
	if NeedsEmployer(in.Code) {
		if in.Employer == "" {
			p.Add("employer", "is required for code "+in.Code)
		}
		if in.CreditCode == "" {
			p.Add("credit_code", "is required for code "+in.Code+": the employer's 统一社会信用代码")
		}
	}
	if in.CreditCode != "" {
		if msg := cnid.CreditCodeProblem(in.CreditCode); msg != "" {
			p.Add("credit_code", msg)
		}
	}
	for field, v := range map[string]string{"employer": in.Employer, "position": in.Position, "region": in.Region, "proof_ref": in.ProofRef} {
		p.Text(field, v, 200, false)
	}
	p.Text("note", in.Note, 1000, false)
	return p.Err()
}

// ChangeDeadline is the last day, in the graduation year, on which a
// destination may change without a supervisor: 31 August.
func ChangeDeadline(graduationYear int) bangfu.Date {
	return bangfu.NewDate(graduationYear, time.August, 31)
}

// Put records a new destination for a graduate, superseding the current
// one (kept as history). base is the current record's id (from If-Match),
// required when there is one. A student may report only their own
// (status reported); staff record (status recorded). A recorded placement
// places an open case; a record of 70, 71 or 72 reopens a placed one.
// After 31 August of the graduation year only a supervisor may change it.
func (s *Service) Put(ctx context.Context, a bangfu.Actor, studentID int64, base *int64, in Input) (Destination, error) {
	verr := Check(&in)
	var id int64
	err := s.DB.InTx(ctx, func(tx pgx.Tx) error {
		h, current, err := lockCurrent(ctx, tx, a, studentID)
		if err != nil {
			return err
		}
		switch {
		case base == nil && current != nil:
			return bangfu.Errorf(bangfu.EPRECONDITIONREQ, "This graduate has a destination record: send If-Match with its ETag.")
		case base != nil && (current == nil || *base != *current):
			return bangfu.Errorf(bangfu.EPRECONDITIONFAILED, "The destination was changed since you read it; reload it and apply your change again.")
		}
		if bangfu.Today(s.Clock).After(ChangeDeadline(h.GraduationYear)) && a.Role != bangfu.RoleSupervisor {
			return bangfu.Errorf(bangfu.EFORBIDDEN, "After 31 August %d only a supervisor may change this graduate's destination.", h.GraduationYear)
		}
		if verr != nil {
			return verr
		}
		status := "recorded"
		if a.Role == bangfu.RoleStudent {
			status = "reported"
		}
		now := s.Clock.Now()
		if current != nil {
			if _, err := tx.Exec(ctx, `UPDATE destinations SET superseded_at = $2 WHERE id = $1`, *current, now); err != nil {
				return err
			}
		}
		if err := tx.QueryRow(ctx, `INSERT INTO destinations (student_id, code, employer, credit_code, position, region,
				proof_kind, proof_ref, note, status, entered_by, entered_role, entered_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13) RETURNING id`,
			studentID, in.Code, in.Employer, in.CreditCode, in.Position, in.Region, in.ProofKind, in.ProofRef, in.Note,
			status, a.UserID, a.Role, now).Scan(&id); err != nil {
			return postgres.FormatError(err, "destination")
		}
		change, err := graduate.SetDestination(ctx, tx, studentID, id, in.Code, effect(in.Code, status), now)
		if err != nil {
			return err
		}
		if err := s.caseChanged(ctx, tx, change); err != nil {
			return err
		}
		return audit.Record(ctx, tx, a, now, audit.Event{Action: audit.DestinationSet, StudentID: studentID, SchoolID: h.SchoolID,
			Fields: []string{"code"}, Detail: map[string]any{"destination_id": id, "code": in.Code, "status": status}})
	})
	if err != nil {
		return Destination{}, err
	}
	return s.one(ctx, s.DB.Pool, id)
}

// lockCurrent checks a may see the graduate, locks their row for tx and
// returns the id of their current destination record, if any.
func lockCurrent(ctx context.Context, tx pgx.Tx, a bangfu.Actor, studentID int64) (graduate.Header, *int64, error) {
	h, err := graduate.Access(ctx, tx, a, studentID, true)
	if err != nil {
		return h, nil, err
	}
	var current *int64
	err = tx.QueryRow(ctx, `SELECT destination_id FROM students WHERE id = $1`, studentID).Scan(&current)
	return h, current, err
}

// Verify marks the current destination verified by a supervisor. base is
// the id of the record the supervisor checked (from If-Match); a record
// that has since been superseded is precondition_failed.
func (s *Service) Verify(ctx context.Context, a bangfu.Actor, studentID int64, base int64) (Destination, error) {
	var id int64
	err := s.DB.InTx(ctx, func(tx pgx.Tx) error {
		h, current, err := lockCurrent(ctx, tx, a, studentID)
		if err != nil {
			return err
		}
		if a.Role != bangfu.RoleSupervisor {
			return bangfu.Errorf(bangfu.EFORBIDDEN, "A supervisor verifies destinations.")
		}
		if current == nil {
			return bangfu.NotFound("destination")
		}
		if base != *current {
			return bangfu.Errorf(bangfu.EPRECONDITIONFAILED, "The destination was changed since you read it; check the new record before verifying.")
		}
		id = *current
		now := s.Clock.Now()
		var code string
		if err := tx.QueryRow(ctx, `UPDATE destinations SET status = 'verified', verified_by = $2, verified_at = $3 WHERE id = $1 RETURNING code`,
			id, a.UserID, now).Scan(&code); err != nil {
			return err
		}
		change, err := graduate.PlaceIfOpen(ctx, tx, studentID, effect(code, "verified"), now)
		if err != nil {
			return err
		}
		if err := s.caseChanged(ctx, tx, change); err != nil {
			return err
		}
		return audit.Record(ctx, tx, a, now, audit.Event{Action: audit.DestinationVerify, StudentID: studentID, SchoolID: h.SchoolID,
			Detail: map[string]any{"destination_id": id}})
	})
	if err != nil {
		return Destination{}, err
	}
	return s.one(ctx, s.DB.Pool, id)
}

const columns = `id, student_id, code, employer, credit_code, position, region, proof_kind, proof_ref, note, status,
	entered_by, entered_role, entered_at, verified_by, verified_at`

func scan(row pgx.CollectableRow) (Destination, error) {
	var d Destination
	err := row.Scan(&d.ID, &d.StudentID, &d.Code, &d.Employer, &d.CreditCode, &d.Position, &d.Region, &d.ProofKind, &d.ProofRef,
		&d.Note, &d.Status, &d.EnteredBy, &d.EnteredRole, &d.EnteredAt, &d.VerifiedBy, &d.VerifiedAt)
	d.CodeName = Codes[d.Code]
	return d, err
}

func (s *Service) one(ctx context.Context, q postgres.Querier, id int64) (Destination, error) {
	rows, _ := q.Query(ctx, `SELECT `+columns+` FROM destinations WHERE id = $1`, id)
	d, err := pgx.CollectExactlyOneRow(rows, scan)
	return d, postgres.FormatError(err, "destination")
}

// Get returns a graduate's current destination and its history, as a may
// see them: a graduate their own records without the notes staff entered;
// province staff without free text (notes, proof references). Staff reads
// are audited.
func (s *Service) Get(ctx context.Context, a bangfu.Actor, studentID int64) (History, error) {
	h, err := graduate.Access(ctx, s.DB.Pool, a, studentID, false)
	if err != nil {
		return History{}, err
	}
	rows, err := s.DB.Pool.Query(ctx, `SELECT `+columns+` FROM destinations WHERE student_id = $1 ORDER BY id DESC`, studentID)
	if err != nil {
		return History{}, err
	}
	all, err := pgx.CollectRows(rows, scan)
	if err != nil {
		return History{}, err
	}
	for i := range all {
		all[i].maskFor(a)
	}
	out := History{History: []Destination{}}
	if len(all) > 0 {
		out.Current = &all[0]
		out.History = all[1:]
	}
	if a.Role != bangfu.RoleStudent {
		if err := s.Reads.Record(ctx, a, s.Clock.Now(), audit.Event{Action: audit.DestinationRead, StudentID: studentID, SchoolID: h.SchoolID}); err != nil {
			return History{}, err
		}
	}
	return out, nil
}

// maskFor hides what a may not read: a staff note from the graduate, free
// text from province staff.
func (d *Destination) maskFor(a bangfu.Actor) {
	switch {
	case a.Role == bangfu.RoleStudent && d.EnteredRole != string(bangfu.RoleStudent):
		d.Note = ""
	case policy.Masked(a):
		d.Note, d.ProofRef = mask.Text(d.Note), mask.Text(d.ProofRef)
	}
}
