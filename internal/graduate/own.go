package graduate

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/bangfu/bangfu"
	"github.com/bangfu/bangfu/internal/postgres"
)

// OwnFile is a graduate's own file as they see it: what the school keeps
// about them that is theirs to read, and — derived from the ledger entries
// shared with them only — their contacts, referrals and next follow-up.
// Internal state (the overdue flag, the version, sensitive fields,
// hardship evidence) is the staff's.
type OwnFile struct {
	ID             int64      `json:"id"`
	SchoolID       int64      `json:"school_id"`
	DepartmentID   *int64     `json:"department_id"`
	StudentNumber  string     `json:"student_number"`
	Name           string     `json:"name"`
	IDNumber       string     `json:"id_number"`
	Major          string     `json:"major"`
	EducationLevel string     `json:"education_level"`
	GraduationYear int        `json:"graduation_year"`
	Phone          string     `json:"phone"`
	Email          string     `json:"email"`
	Intention      Intention  `json:"intention"`
	Skills         []string   `json:"skills"`
	Certificates   []string   `json:"certificates"`
	CounselorName  *string    `json:"counselor_name"`
	Status         string     `json:"status"`
	Phase          *string    `json:"phase"`
	Consent        bool       `json:"consent"`
	ConsentAt      *time.Time `json:"consent_at"`
	CreatedAt      time.Time  `json:"created_at"`
	// From the shared entries only.
	ContactsCount  int          `json:"contacts_count"`
	ReferralsCount int          `json:"referrals_count"`
	LastContactAt  *time.Time   `json:"last_contact_at"`
	NextFollowupOn *bangfu.Date `json:"next_followup_on"`
	// The current destination's code, and the verified hardship categories.
	DestinationCode *string  `json:"destination_code"`
	Categories      []string `json:"categories"`
}

// OwnSharedSQL derives a graduate's counts and next follow-up from the
// ledger entries shared with them ($1: the graduate; $2: today): the next
// follow-up is the one the latest shared entry naming a day names, unless
// that day has passed.
const OwnSharedSQL = `SELECT count(*) FILTER (WHERE kind = 'contact'), count(*) FILTER (WHERE kind = 'referral'),
		max(occurred_at) FILTER (WHERE kind = 'contact'),
		(SELECT l.next_followup_on FROM ledger_entries l WHERE l.student_id = $1 AND l.visibility = 'shared'
		   AND l.next_followup_on IS NOT NULL ORDER BY l.seq DESC LIMIT 1)
	FROM ledger_entries WHERE student_id = $1 AND visibility = 'shared'`

// OwnFile returns the file of the graduate a is the account of (a student
// reads only their own: not_found otherwise). Reading one's own file is
// not audited.
func (s *Service) OwnFile(ctx context.Context, a bangfu.Actor, id int64) (OwnFile, error) {
	if a.Role != bangfu.RoleStudent || a.StudentID == nil || *a.StudentID != id {
		return OwnFile{}, bangfu.NotFound("graduate file")
	}
	var out OwnFile
	// One snapshot for the file and its shared entries.
	opts := pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly}
	err := pgx.BeginTxFunc(ctx, s.DB.Pool, opts, func(tx pgx.Tx) error {
		st, err := s.get(ctx, tx, a, id)
		if err != nil {
			return err
		}
		out = OwnFile{
			ID: st.ID, SchoolID: st.SchoolID, DepartmentID: st.DepartmentID, StudentNumber: st.StudentNumber, Name: st.Name,
			IDNumber: st.IDNumber, Major: st.Major, EducationLevel: st.EducationLevel, GraduationYear: st.GraduationYear,
			Phone: st.Phone, Email: st.Email, Intention: st.Intention, Skills: st.Skills, Certificates: st.Certificates,
			CounselorName: st.CounselorName, Status: st.Status, Phase: st.Phase, Consent: st.Consent, ConsentAt: st.ConsentAt,
			CreatedAt: st.CreatedAt, DestinationCode: st.DestinationCode, Categories: st.Categories,
		}
		var next *time.Time
		if err := tx.QueryRow(ctx, OwnSharedSQL, id).Scan(&out.ContactsCount, &out.ReferralsCount, &out.LastContactAt, &next); err != nil {
			return err
		}
		if d := bangfu.DatePtr(next); d != nil && !d.Before(bangfu.Today(s.Clock)) && Followed(st.Status) {
			out.NextFollowupOn = d
		}
		return nil
	})
	return out, postgres.FormatError(err, "graduate file")
}
