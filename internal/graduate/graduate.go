// Package graduate keeps each disadvantaged graduate's file (一人一档): who
// they are, their hardship categories with evidence, their intention and
// the counselor responsible. It also decides, for every other package,
// whether an actor may see a given graduate (Access).
package graduate

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/jackc/pgx/v5"

	"github.com/bangfu/bangfu"
	"github.com/bangfu/bangfu/internal/audit"
	"github.com/bangfu/bangfu/internal/cnid"
	"github.com/bangfu/bangfu/internal/mask"
	"github.com/bangfu/bangfu/internal/policy"
	"github.com/bangfu/bangfu/internal/postgres"
	"github.com/bangfu/bangfu/internal/sealed"
)

func init() {
	postgres.RegisterConstraint("students_school_number_key", "student_number", "is already used by another graduate of this school")
	postgres.RegisterConstraint("students_department_fkey", "department_id", "is not a department of the graduate's school")
	postgres.RegisterConstraint("students_counselor_id_fkey", "counselor_id", "is not a known user")
	postgres.RegisterConstraint("students_number_format", "student_number", "must be 1-32 letters, digits or '-'")
	postgres.RegisterConstraint("users_student_key", "student_id", "already has an account")
}

// Sealed field names, also the AES-GCM associated data.
const (
	FieldIDNumber       = "id_number"
	FieldAccommodations = "accommodations"
	FieldCertificateNo  = "certificate_no"
)

// Education levels.
var EducationLevels = []string{"zhongzhi", "zhuanke", "benke", "shuoshi", "boshi"}

// Statuses of a case, and the moves a change of the file may make between
// them (docs/architecture.md draws them all). A case becomes placed, or
// active again after a placement fell through, only through a destination
// record (SetDestination), and handed over only through a hand-over record
// (SetHandedOver).
var (
	Statuses    = []string{"open", "active", "placed", "closed", "transferred", "handed_over"}
	transitions = map[string][]string{
		"open":        {"active", "closed", "transferred"},
		"active":      {"closed", "transferred"},
		"placed":      {"closed", "transferred"},
		"closed":      {"active"},
		"transferred": {},
		// A hand-over that did not hold is reopened; one that did is closed.
		"handed_over": {"active", "closed"},
	}
)

// Intention is what work the graduate wants.
type Intention struct {
	Industry string `json:"industry"`
	Region   string `json:"region"`
	JobType  string `json:"job_type"`
}

// Student is a graduate's file as shown to the actor who asked: the ID
// number always masked, and for province staff the name, student number,
// contacts, the counselor's name and the verification notes masked too.
type Student struct {
	ID             int64        `json:"id"`
	SchoolID       int64        `json:"school_id"`
	DepartmentID   *int64       `json:"department_id"`
	StudentNumber  string       `json:"student_number"`
	Name           string       `json:"name"`
	IDNumber       string       `json:"id_number"`
	Major          string       `json:"major"`
	EducationLevel string       `json:"education_level"`
	GraduationYear int          `json:"graduation_year"`
	Phone          string       `json:"phone"`
	Email          string       `json:"email"`
	Intention      Intention    `json:"intention"`
	Skills         []string     `json:"skills"`
	Certificates   []string     `json:"certificates"`
	Accommodations string       `json:"accommodations"`
	CounselorID    *int64       `json:"counselor_id"`
	CounselorName  *string      `json:"counselor_name"`
	Status         string       `json:"status"`
	Phase          *string      `json:"phase"` // PhaseInSchool or PhaseAfterGraduation in the caseload, else nil
	NextFollowupOn *bangfu.Date `json:"next_followup_on"`
	Overdue        bool         `json:"overdue"`
	Consent        bool         `json:"consent"`
	ConsentAt      *time.Time   `json:"consent_at"`
	Version        int          `json:"version"`
	CreatedAt      time.Time    `json:"created_at"`
	UpdatedAt      time.Time    `json:"updated_at"`
	Counts
	Categories []string   `json:"categories"`
	Hardships  []Hardship `json:"hardships,omitempty"`

	hasAccommodations bool
}

// Counts summarise the ledger, plan and destination for lists.
type Counts struct {
	ContactsCount   int        `json:"contacts_count"`
	ReferralsCount  int        `json:"referrals_count"`
	LastContactAt   *time.Time `json:"last_contact_at"`
	PlanRevision    int        `json:"plan_revision"`
	DestinationCode *string    `json:"destination_code"`
}

// Masked is how a hidden sensitive value is shown.
const Masked = mask.Hidden

// Service keeps graduate files.
type Service struct {
	DB    *postgres.DB
	Box   *sealed.Box
	Clock bangfu.Clock
	// Reads records the audit entries of reads.
	Reads *audit.Reads
	// Imports caps the imports this process runs at once (nil: no cap).
	Imports *ImportGate
	// AfterEligibility runs in the transaction of a change that can change
	// a graduate's eligibility for the training roster.
	AfterEligibility EligibilityHook
	// AfterCaseChange runs in the transaction of each new file and each
	// change of a file's status (the follow-up scheduler uses it).
	AfterCaseChange CaseHook
	// AfterMove runs in the transaction of each change of a file's
	// department (the ledger files the graduate's entries under it).
	AfterMove MoveHook
}

// MoveHook runs in the transaction of a change of a graduate's department.
type MoveHook func(ctx context.Context, tx pgx.Tx, studentID int64, departmentID *int64) error

func (s *Service) moved(ctx context.Context, tx pgx.Tx, studentID int64, departmentID *int64) error {
	if s.AfterMove == nil {
		return nil
	}
	return s.AfterMove(ctx, tx, studentID, departmentID)
}

// Header is what other packages need to know about a graduate to apply the
// record rules.
type Header struct {
	policy.Record
	Status         string
	GraduationYear int
	// The ledger's head, the live follow-up job and the current plan's
	// cadence (nil without a plan), read with the lock (Access with
	// forUpdate, Lock) so that an append needs no further read.
	LedgerSeq     int
	LedgerHead    []byte
	FollowupJobID *int64
	PlanCadence   *int
}

// Access returns the header of graduate id if a may see it, and not_found
// otherwise (also for another school's graduate: existence is not
// revealed). With forUpdate — for a write — it locks the row, on q's
// transaction, so that writes about one graduate take turns, and refuses
// (forbidden) actors whose view is masked: province staff read only.
func Access(ctx context.Context, q postgres.Querier, a bangfu.Actor, id int64, forUpdate bool) (Header, error) {
	var h Header
	var err error
	if forUpdate {
		h, err = Lock(ctx, q, id)
	} else {
		err = q.QueryRow(ctx, readSQL, id).Scan(&h.StudentID, &h.SchoolID, &h.DepartmentID, &h.CounselorID, &h.Status, &h.GraduationYear)
		err = postgres.FormatError(err, "graduate")
	}
	if err != nil {
		return Header{}, err
	}
	if !policy.Sees(a, h.Record) {
		return Header{}, bangfu.NotFound("graduate")
	}
	if forUpdate && policy.Masked(a) {
		return Header{}, bangfu.Errorf(bangfu.EFORBIDDEN, "Province staff read cases; they do not change them.")
	}
	return h, nil
}

// lockSQL locks the file and reads its header; lockActivitySQL, sent
// after it in the same batch, reads the ledger head and live follow-up
// with a snapshot taken once the lock is held (so always the last
// writer's). One statement could not: a row lock waited for re-reads only
// the locked row, and would pair it with the case_activity row as it was
// before the previous writer committed.
const (
	lockSQL = `SELECT s.id, s.school_id, s.department_id, s.counselor_id, s.status, s.graduation_year,
		(SELECT p.cadence_days FROM plan_revisions p WHERE p.student_id = s.id AND p.revision = s.plan_revision)
	FROM students s WHERE s.id = $1 FOR UPDATE`
	lockActivitySQL = `SELECT ledger_seq, ledger_head, followup_job_id FROM case_activity WHERE student_id = $1`
)

const readSQL = `SELECT id, school_id, department_id, counselor_id, status, graduation_year FROM students WHERE id = $1`

// QueueAccess queues Access's read (without the lock) of graduate id on b,
// so that a read can send it in one round trip with its own statements:
// when the batch is sent, *h holds the header, and the batch fails with
// not_found when a may not see the graduate (the caller then discards
// what the other statements read).
func QueueAccess(b *pgx.Batch, a bangfu.Actor, id int64, h *Header) {
	b.Queue(readSQL, id).QueryRow(func(row pgx.Row) error {
		if err := row.Scan(&h.StudentID, &h.SchoolID, &h.DepartmentID, &h.CounselorID, &h.Status, &h.GraduationYear); err != nil {
			return postgres.FormatError(err, "graduate")
		}
		if !policy.Sees(a, h.Record) {
			return bangfu.NotFound("graduate")
		}
		return nil
	})
}

// FileSQL reads one file ($1: today, $2: the graduate's id) and
// HardshipsSQL its hardships ($1: the graduate's id); exported so that
// benchmarks can issue the same SQL directly.
const (
	FileSQL      = `SELECT ` + studentColumns + ` FROM ` + studentsFrom + ` WHERE s.id = $2`
	HardshipsSQL = `SELECT id, student_id, category, evidence_type, issuing_authority, certificate_no_sealed IS NOT NULL,
			valid_until, status, verified_by, verified_at, verification_note, created_by, created_at
		FROM hardships WHERE student_id = $1 ORDER BY id`
)

// studentsFrom joins each file s to its case_activity row ca, which
// studentColumns read.
const studentsFrom = `students s JOIN case_activity ca ON ca.student_id = s.id`

const studentColumns = `s.id, s.school_id, s.department_id, s.student_number, s.name, s.id_number_masked, s.major,
	s.education_level, s.graduation_year, s.phone, s.email, s.intention_industry, s.intention_region, s.intention_job_type,
	s.skills, s.certificates, s.accommodations_sealed IS NOT NULL, s.counselor_id,
	(SELECT u.display_name FROM users u WHERE u.id = s.counselor_id), s.status, ca.next_followup_on, ca.overdue, s.consent, s.consent_at,
	s.version + ca.version, s.created_at, s.updated_at, ca.contacts_count, ca.referrals_count, ca.last_contact_at, s.plan_revision,
	s.destination_code,
	ARRAY(SELECT DISTINCT h.category FROM hardships h WHERE h.student_id = s.id AND h.status = 'verified'
		AND (h.valid_until IS NULL OR h.valid_until >= $1::date) ORDER BY h.category),
	` + phaseSQL

func scanStudent(row pgx.CollectableRow) (Student, error) {
	var s Student
	var next *time.Time
	err := row.Scan(&s.ID, &s.SchoolID, &s.DepartmentID, &s.StudentNumber, &s.Name, &s.IDNumber, &s.Major,
		&s.EducationLevel, &s.GraduationYear, &s.Phone, &s.Email, &s.Intention.Industry, &s.Intention.Region, &s.Intention.JobType,
		&s.Skills, &s.Certificates, &s.hasAccommodations, &s.CounselorID, &s.CounselorName, &s.Status, &next, &s.Overdue, &s.Consent, &s.ConsentAt,
		&s.Version, &s.CreatedAt, &s.UpdatedAt, &s.ContactsCount, &s.ReferralsCount, &s.LastContactAt, &s.PlanRevision,
		&s.DestinationCode, &s.Categories, &s.Phase)
	s.NextFollowupOn = bangfu.DatePtr(next)
	return s, err
}

// ETagVersion is the version clients send back in If-Match.
func (s Student) ETagVersion() int { return s.Version }

// maskFor hides what a may not see in clear.
func (s *Student) maskFor(a bangfu.Actor) {
	if s.hasAccommodations {
		s.Accommodations = Masked
	}
	if policy.Masked(a) {
		s.Name = mask.Name(s.Name)
		s.StudentNumber = mask.Tail(s.StudentNumber, 3)
		s.Phone = mask.Tail(s.Phone, 4)
		if s.Email != "" {
			s.Email = Masked
		}
		if s.CounselorName != nil {
			name := mask.Name(*s.CounselorName)
			s.CounselorName = &name
		}
		for i := range s.Hardships {
			s.Hardships[i].CertificateNo = ""
			s.Hardships[i].IssuingAuthority = Masked
			s.Hardships[i].VerificationNote = mask.Text(s.Hardships[i].VerificationNote)
		}
	}
}

// Input creates a graduate's file.
type Input struct {
	StudentNumber  string    `json:"student_number"`
	Name           string    `json:"name"`
	IDNumber       string    `json:"id_number"`
	SchoolID       *int64    `json:"school_id"`
	DepartmentID   *int64    `json:"department_id"`
	Major          string    `json:"major"`
	EducationLevel string    `json:"education_level"`
	GraduationYear int       `json:"graduation_year"`
	Phone          string    `json:"phone"`
	Email          string    `json:"email"`
	Intention      Intention `json:"intention"`
	Skills         []string  `json:"skills"`
	Certificates   []string  `json:"certificates"`
	Accommodations string    `json:"accommodations"`
	CounselorID    *int64    `json:"counselor_id"`
	Consent        bool      `json:"consent"`
}

func (in *Input) normalize() {
	in.StudentNumber = strings.TrimSpace(in.StudentNumber)
	in.Name = strings.TrimSpace(in.Name)
	in.IDNumber = cnid.NormalizeResidentID(in.IDNumber)
	in.Major = strings.TrimSpace(in.Major)
	in.Phone = strings.TrimSpace(in.Phone)
	in.Email = strings.TrimSpace(in.Email)
	in.Accommodations = strings.TrimSpace(in.Accommodations)
	in.Skills = cleanList(in.Skills)
	in.Certificates = cleanList(in.Certificates)
}

func cleanList(l []string) []string {
	out := []string{}
	for _, s := range l {
		if s = strings.TrimSpace(s); s != "" && !slices.Contains(out, s) {
			out = append(out, s)
		}
	}
	return out
}

// check records in's problems. The ID number is checked only when
// checkID: an update that leaves it alone cannot see it in clear.
func (in *Input) check(p *bangfu.Problems, thisYear int, checkID bool) {
	in.checkFields(p, thisYear, func(field string) bool { return field != "id_number" || checkID })
}

// checkFields records the problems of the fields touched names (by their
// JSON name): a change is checked, never the fields it leaves alone, which
// may have been valid when written and no longer be (an old cohort's
// graduation year).
func (in *Input) checkFields(p *bangfu.Problems, thisYear int, touched func(field string) bool) {
	if touched("student_number") {
		switch {
		case in.StudentNumber == "":
			p.Add("student_number", "is required")
		case !validStudentNumber(in.StudentNumber):
			p.Add("student_number", "must be 1-32 letters, digits or '-'")
		}
	}
	if touched("name") {
		p.Text("name", in.Name, 50, true)
	}
	if touched("id_number") {
		switch {
		case in.IDNumber == "":
			p.Add("id_number", "is required")
		case cnid.ResidentIDProblem(in.IDNumber) != "":
			p.Add("id_number", cnid.ResidentIDProblem(in.IDNumber))
		}
	}
	if touched("major") {
		p.Text("major", in.Major, 100, false)
	}
	if touched("education_level") && !slices.Contains(EducationLevels, in.EducationLevel) {
		p.Add("education_level", "must be one of "+strings.Join(EducationLevels, ", "))
	}
	if touched("graduation_year") && (in.GraduationYear < thisYear-5 || in.GraduationYear > thisYear+5) {
		p.Add("graduation_year", fmt.Sprintf("must be a year from %d to %d", thisYear-5, thisYear+5))
	}
	if touched("phone") {
		checkPhone(p, in.Phone)
	}
	if touched("email") {
		p.Email("email", in.Email)
	}
	if touched("intention") {
		p.Text("intention.industry", in.Intention.Industry, 100, false)
		p.Text("intention.region", in.Intention.Region, 100, false)
		p.Text("intention.job_type", in.Intention.JobType, 100, false)
	}
	if touched("skills") {
		checkList(p, "skills", in.Skills)
	}
	if touched("certificates") {
		checkList(p, "certificates", in.Certificates)
	}
	if touched("accommodations") {
		p.Text("accommodations", in.Accommodations, 1000, false)
	}
}

func validStudentNumber(s string) bool {
	if len(s) == 0 || len(s) > 32 {
		return false
	}
	for _, r := range s {
		if !(r >= '0' && r <= '9' || r >= 'A' && r <= 'Z' || r >= 'a' && r <= 'z' || r == '-') {
			return false
		}
	}
	return true
}

// nullable is a pointer as a PATCH-like field: set when not nil.
func nullable(v *int64) bangfu.Nullable[int64] {
	if v == nil {
		return bangfu.Nullable[int64]{}
	}
	return bangfu.Nullable[int64]{Set: true, Value: *v}
}

func checkList(p *bangfu.Problems, field string, l []string) {
	if len(l) > 30 {
		p.Add(field, "may hold at most 30 entries")
	}
	for _, s := range l {
		if utf8.RuneCountInString(s) > 100 {
			p.Add(field, "entries must be at most 100 characters")
		}
	}
}

func checkPhone(p *bangfu.Problems, v string) {
	if v == "" {
		return
	}
	digits := 0
	for _, r := range v {
		switch {
		case r >= '0' && r <= '9':
			digits++
		case r == '+' || r == '-' || r == ' ':
		default:
			p.Add("phone", "must be a phone number (digits, '+', '-')")
			return
		}
	}
	if digits < 7 || digits > 15 {
		p.Add("phone", "must have 7 to 15 digits")
	}
}

// Create adds a graduate's file. The ID number must be new to the school.
// It answers the file as the creation left it (read in its transaction).
func (s *Service) Create(ctx context.Context, a bangfu.Actor, in Input) (Student, error) {
	in.normalize()
	var p bangfu.Problems
	in.check(&p, s.Clock.Now().In(bangfu.Shanghai).Year(), true)
	var out Student
	err := s.DB.InTx(ctx, func(tx pgx.Tx) error {
		var cs Counselors
		if in.CounselorID != nil && a.SchoolID != nil {
			var err error
			if cs, err = schoolCounselors(ctx, tx, *a.SchoolID); err != nil {
				return err
			}
		}
		pl := Place(a, nil, PlacementChange{SchoolID: in.SchoolID, DepartmentID: nullable(in.DepartmentID), CounselorID: nullable(in.CounselorID)}, cs, &p)
		in.SchoolID, in.DepartmentID, in.CounselorID = &pl.SchoolID, pl.DepartmentID, pl.CounselorID
		if in.IDNumber != "" && p["id_number"] == "" && a.SchoolID != nil {
			if dup, err := s.idNumberTaken(ctx, tx, *in.SchoolID, in.IDNumber, 0); err != nil {
				return err
			} else if dup {
				p.Add("id_number", "belongs to another graduate of this school")
			}
		}
		if err := p.Err(); err != nil {
			return err
		}
		id, err := s.insert(ctx, tx, in)
		if err != nil {
			return err
		}
		if err := audit.Record(ctx, tx, a, s.Clock.Now(), audit.Event{Action: audit.StudentCreate, StudentID: id, SchoolID: *in.SchoolID}); err != nil {
			return err
		}
		out, err = s.get(ctx, tx, a, id)
		return err
	})
	if err != nil {
		return Student{}, err
	}
	return out, nil
}

// insert adds a file on tx and runs the case hook for the new open case.
func (s *Service) insert(ctx context.Context, tx pgx.Tx, in Input) (int64, error) {
	now := s.Clock.Now()
	var consentAt *time.Time
	if in.Consent {
		consentAt = &now
	}
	var id int64
	// The file and its case_activity row, in one statement.
	err := tx.QueryRow(ctx, `WITH s AS (INSERT INTO students (school_id, department_id, student_number, name,
			id_number_sealed, id_number_hash, id_number_masked, major, education_level, graduation_year, phone, email,
			intention_industry, intention_region, intention_job_type, skills, certificates, accommodations_sealed,
			counselor_id, consent, consent_at, created_at, updated_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22, $22)
		RETURNING id, school_id, graduation_year, counselor_id)
		INSERT INTO case_activity (student_id, followed, quiet_since, school_id, graduation_year, counselor_id)
		SELECT id, true, $22, school_id, graduation_year, counselor_id FROM s
		RETURNING student_id`,
		in.SchoolID, in.DepartmentID, in.StudentNumber, in.Name,
		s.Box.Seal(FieldIDNumber, in.IDNumber), s.Box.Hash(FieldIDNumber, in.IDNumber), cnid.MaskResidentID(in.IDNumber),
		in.Major, in.EducationLevel, in.GraduationYear, in.Phone, in.Email,
		in.Intention.Industry, in.Intention.Region, in.Intention.JobType, in.Skills, in.Certificates,
		s.sealOptional(FieldAccommodations, in.Accommodations), in.CounselorID, in.Consent, consentAt, now).Scan(&id)
	if err != nil {
		return 0, postgres.FormatError(err, "graduate")
	}
	return id, s.caseChanged(ctx, tx, CaseChange{StudentID: id, To: "open"})
}

func (s *Service) caseChanged(ctx context.Context, tx pgx.Tx, c CaseChange) error {
	if s.AfterCaseChange == nil || !c.Moved() {
		return nil
	}
	return s.AfterCaseChange(ctx, tx, c)
}

func (s *Service) sealOptional(field, v string) []byte {
	if v == "" {
		return nil
	}
	return s.Box.Seal(field, v)
}

// idNumberTaken reports whether another graduate (not except) of school
// has this ID number, whichever data key hashed it.
func (s *Service) idNumberTaken(ctx context.Context, q postgres.Querier, school int64, idNumber string, except int64) (bool, error) {
	var taken bool
	err := q.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM students WHERE school_id = $1 AND id_number_hash = ANY($2) AND id <> $3)`,
		school, s.Box.Hashes(FieldIDNumber, idNumber), except).Scan(&taken)
	return taken, err
}

// Get returns a graduate's file with its hardship categories, and records
// the read in the audit log.
func (s *Service) Get(ctx context.Context, a bangfu.Actor, id int64) (Student, error) {
	st, err := s.get(ctx, s.DB.Pool, a, id)
	if err != nil {
		return Student{}, err
	}
	if !policy.Sees(a, policy.Record{StudentID: st.ID, SchoolID: st.SchoolID, DepartmentID: st.DepartmentID, CounselorID: st.CounselorID}) {
		return Student{}, bangfu.NotFound("graduate")
	}
	if a.Role != bangfu.RoleStudent {
		if err := s.Reads.Record(ctx, a, s.Clock.Now(), audit.Event{Action: audit.StudentRead, StudentID: id, SchoolID: st.SchoolID}); err != nil {
			return Student{}, err
		}
	}
	return st, nil
}

// get reads a file, masked for a, with its hardships; no access check.
func (s *Service) get(ctx context.Context, q postgres.Querier, a bangfu.Actor, id int64) (Student, error) {
	rows, _ := q.Query(ctx, FileSQL, bangfu.Today(s.Clock).Time(), id)
	st, err := pgx.CollectExactlyOneRow(rows, scanStudent)
	if err != nil {
		return Student{}, postgres.FormatError(err, "graduate")
	}
	if st.Hardships, err = s.hardships(ctx, q, id); err != nil {
		return Student{}, err
	}
	st.maskFor(a)
	return st, nil
}

// Patch changes a file; absent fields stay as they are.
type Patch struct {
	StudentNumber  *string                `json:"student_number"`
	Name           *string                `json:"name"`
	IDNumber       *string                `json:"id_number"`
	DepartmentID   bangfu.Nullable[int64] `json:"department_id"`
	Major          *string                `json:"major"`
	EducationLevel *string                `json:"education_level"`
	GraduationYear *int                   `json:"graduation_year"`
	Phone          *string                `json:"phone"`
	Email          *string                `json:"email"`
	Intention      *Intention             `json:"intention"`
	Skills         *[]string              `json:"skills"`
	Certificates   *[]string              `json:"certificates"`
	Accommodations *string                `json:"accommodations"`
	CounselorID    bangfu.Nullable[int64] `json:"counselor_id"`
	Status         *string                `json:"status"`
	Consent        *bool                  `json:"consent"`
}

// Update applies patch if the file is still at version. A stale version is
// precondition_failed: the caller must reload and reapply, so that two
// counselors never overwrite each other unseen. It answers the file as
// this write left it, read in its own transaction (never a later writer's
// change).
func (s *Service) Update(ctx context.Context, a bangfu.Actor, id int64, version int, patch Patch) (Student, error) {
	var out Student
	err := s.DB.InTx(ctx, func(tx pgx.Tx) error {
		h, err := Access(ctx, tx, a, id, true)
		if err != nil {
			return err
		}
		if !mayWrite(a) {
			return bangfu.Errorf(bangfu.EFORBIDDEN, "Only the graduate's counselor or a supervisor changes their file.")
		}
		cur, err := s.get(ctx, tx, a, id)
		if err != nil {
			return err
		}
		if cur.Version != version {
			return bangfu.Errorf(bangfu.EPRECONDITIONFAILED, "The file was changed since version %d (it is now at version %d); reload it and apply your change again.", version, cur.Version)
		}
		in := Input{
			StudentNumber: cur.StudentNumber, Name: cur.Name, SchoolID: &cur.SchoolID, DepartmentID: cur.DepartmentID,
			Major: cur.Major, EducationLevel: cur.EducationLevel, GraduationYear: cur.GraduationYear, Phone: cur.Phone,
			Email: cur.Email, Intention: cur.Intention, Skills: cur.Skills, Certificates: cur.Certificates,
			CounselorID: cur.CounselorID, Consent: cur.Consent,
		}
		var changed []string
		set := func(field string, ok bool, apply func()) {
			if ok {
				apply()
				changed = append(changed, field)
			}
		}
		set("student_number", patch.StudentNumber != nil, func() { in.StudentNumber = *patch.StudentNumber })
		set("name", patch.Name != nil, func() { in.Name = *patch.Name })
		set("id_number", patch.IDNumber != nil, func() { in.IDNumber = *patch.IDNumber })
		set("department_id", patch.DepartmentID.Set, func() { in.DepartmentID = patch.DepartmentID.Ptr() })
		set("major", patch.Major != nil, func() { in.Major = *patch.Major })
		set("education_level", patch.EducationLevel != nil, func() { in.EducationLevel = *patch.EducationLevel })
		set("graduation_year", patch.GraduationYear != nil, func() { in.GraduationYear = *patch.GraduationYear })
		set("phone", patch.Phone != nil, func() { in.Phone = *patch.Phone })
		set("email", patch.Email != nil, func() { in.Email = *patch.Email })
		set("intention", patch.Intention != nil, func() { in.Intention = *patch.Intention })
		set("skills", patch.Skills != nil, func() { in.Skills = *patch.Skills })
		set("certificates", patch.Certificates != nil, func() { in.Certificates = *patch.Certificates })
		set("accommodations", patch.Accommodations != nil, func() { in.Accommodations = *patch.Accommodations })
		set("counselor_id", patch.CounselorID.Set, func() { in.CounselorID = patch.CounselorID.Ptr() })
		set("consent", patch.Consent != nil, func() { in.Consent = *patch.Consent })
		status := cur.Status
		set("status", patch.Status != nil && *patch.Status != cur.Status, func() { status = *patch.Status })

		var p bangfu.Problems
		in.normalize()
		in.checkFields(&p, s.Clock.Now().In(bangfu.Shanghai).Year(), func(field string) bool { return slices.Contains(changed, field) })
		var cs Counselors
		if patch.CounselorID.Set {
			if cs, err = schoolCounselors(ctx, tx, h.SchoolID); err != nil {
				return err
			}
		}
		pl := Place(a, &Placement{SchoolID: h.SchoolID, DepartmentID: cur.DepartmentID, CounselorID: cur.CounselorID},
			PlacementChange{DepartmentID: patch.DepartmentID, CounselorID: patch.CounselorID}, cs, &p)
		in.DepartmentID, in.CounselorID = pl.DepartmentID, pl.CounselorID
		if patch.Status != nil && *patch.Status != cur.Status {
			switch {
			case !slices.Contains(Statuses, status):
				p.Add("status", "must be one of "+strings.Join(Statuses, ", "))
			case status == "placed":
				p.Add("status", "a case is placed by recording its destination")
			case status == "handed_over":
				p.Add("status", "a graduate is handed over by recording the hand-over (离校未就业实名衔接)")
			case cur.Status == "placed" && Followed(status):
				p.Add("status", "a placement that fell through is recorded as a new destination (70, 71 or 72), which reopens the case")
			case !slices.Contains(transitions[cur.Status], status):
				p.Add("status", fmt.Sprintf("cannot change from %s to %s", cur.Status, status))
			}
		}
		if patch.IDNumber != nil && p["id_number"] == "" {
			if dup, err := s.idNumberTaken(ctx, tx, h.SchoolID, in.IDNumber, id); err != nil {
				return err
			} else if dup {
				p.Add("id_number", "belongs to another graduate of this school")
			}
		}
		if err := p.Err(); err != nil {
			return err
		}
		if len(changed) == 0 {
			out = cur
			return nil
		}
		now := s.Clock.Now()
		_, err = tx.Exec(ctx, `UPDATE students SET student_number = $2, name = $3, department_id = $4, major = $5,
				education_level = $6, graduation_year = $7, phone = $8, email = $9, intention_industry = $10,
				intention_region = $11, intention_job_type = $12, skills = $13, certificates = $14, counselor_id = $15,
				status = $16, consent = $17,
				consent_at = CASE WHEN $17 AND NOT consent THEN $18 WHEN NOT $17 THEN NULL ELSE consent_at END,
				activated_at = CASE WHEN $16 = 'active' AND activated_at IS NULL THEN $18 ELSE activated_at END,
				updated_at = $18, version = version + 1
			WHERE id = $1`,
			id, in.StudentNumber, in.Name, in.DepartmentID, in.Major, in.EducationLevel, in.GraduationYear, in.Phone, in.Email,
			in.Intention.Industry, in.Intention.Region, in.Intention.JobType, in.Skills, in.Certificates, in.CounselorID,
			status, in.Consent, now)
		if err != nil {
			return postgres.FormatError(err, "graduate")
		}
		if patch.IDNumber != nil {
			if _, err := tx.Exec(ctx, `UPDATE students SET id_number_sealed = $2, id_number_hash = $3, id_number_masked = $4 WHERE id = $1`,
				id, s.Box.Seal(FieldIDNumber, in.IDNumber), s.Box.Hash(FieldIDNumber, in.IDNumber), cnid.MaskResidentID(in.IDNumber)); err != nil {
				return err
			}
		}
		if patch.Accommodations != nil {
			if _, err := tx.Exec(ctx, `UPDATE students SET accommodations_sealed = $2 WHERE id = $1`,
				id, s.sealOptional(FieldAccommodations, in.Accommodations)); err != nil {
				return err
			}
		}
		if err := audit.Record(ctx, tx, a, now, audit.Event{Action: audit.StudentUpdate, StudentID: id, SchoolID: h.SchoolID, Fields: changed}); err != nil {
			return err
		}
		if status != cur.Status || in.GraduationYear != cur.GraduationYear {
			if err := syncCase(ctx, tx, id); err != nil {
				return err
			}
		}
		if !sameID(in.DepartmentID, cur.DepartmentID) {
			if err := s.moved(ctx, tx, id, in.DepartmentID); err != nil {
				return err
			}
		}
		if err := s.caseChanged(ctx, tx, CaseChange{StudentID: id, From: cur.Status, To: status}); err != nil {
			return err
		}
		if consentOrYearChanged(changed) {
			if err := s.AfterEligibility.call(ctx, tx, id); err != nil {
				return err
			}
		}
		out, err = s.get(ctx, tx, a, id)
		return err
	})
	if err != nil {
		return Student{}, err
	}
	return out, nil
}

// mayWrite reports whether a's role changes files at all: counselors and
// supervisors do; students, province staff (read-only, masked) and admins
// do not. Which files they change is the scope's business (Access).
func mayWrite(a bangfu.Actor) bool {
	return a.Role == bangfu.RoleCounselor || a.Role == bangfu.RoleSupervisor
}

// Unmask returns a sensitive field in clear to the assigned counselor or a
// supervisor of the graduate's school, and records who asked and why.
func (s *Service) Unmask(ctx context.Context, a bangfu.Actor, id int64, field, reason string) (string, error) {
	reason = strings.TrimSpace(reason)
	var p bangfu.Problems
	if field != FieldIDNumber && field != FieldAccommodations {
		p.Add("field", "must be id_number or accommodations")
	}
	switch n := utf8.RuneCountInString(reason); {
	case n == 0:
		p.Add("reason", "is required: say why you need the clear value")
	case n < 4:
		p.Add("reason", "must say why, in at least 4 characters")
	case n > 500:
		p.Add("reason", "must be at most 500 characters")
	}
	h, err := Access(ctx, s.DB.Pool, a, id, false)
	if err != nil {
		return "", err
	}
	if err := p.Err(); err != nil {
		return "", err
	}
	if !policy.MayUnmask(a, h.Record) {
		return "", bangfu.Errorf(bangfu.EFORBIDDEN, "Only the assigned counselor or a supervisor of the school may see this in clear.")
	}
	column := "id_number_sealed"
	if field == FieldAccommodations {
		column = "accommodations_sealed"
	}
	var value string
	err = s.DB.InTx(ctx, func(tx pgx.Tx) error {
		var sealedValue []byte
		if err := tx.QueryRow(ctx, `SELECT `+column+` FROM students WHERE id = $1`, id).Scan(&sealedValue); err != nil {
			return err
		}
		var err error
		if value, err = s.Box.Open(field, sealedValue); err != nil {
			return err
		}
		return audit.Record(ctx, tx, a, s.Clock.Now(), audit.Event{Action: audit.StudentUnmask, StudentID: id, SchoolID: h.SchoolID, Fields: []string{field}, Reason: reason})
	})
	return value, err
}
