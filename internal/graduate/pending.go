package graduate

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/bangfu/bangfu"
	"github.com/bangfu/bangfu/internal/audit"
	"github.com/bangfu/bangfu/internal/mask"
	"github.com/bangfu/bangfu/internal/policy"
	"github.com/bangfu/bangfu/internal/postgres"
)

// PendingHardship is hardship evidence waiting for a supervisor's
// decision, with whose it is.
type PendingHardship struct {
	Hardship
	StudentName   string `json:"student_name"`
	StudentNumber string `json:"student_number"`
	// Expired evidence can only be rejected (VerifyHardship).
	Expired bool `json:"expired"`
}

// pendingHardshipsWhere is the scope and state of the pending queue, over
// hardships h joined to their students s.
func pendingHardshipsWhere(a bangfu.Actor, args ...any) *postgres.Where {
	w := &postgres.Where{Args: args}
	w.Add("h.status = 'unverified'")
	AddScope(w, a)
	return w
}

// PendingHardships lists the unverified hardship evidence of the graduates
// a may see (scoped like files), oldest first; Page.After is a hardship
// id. Certificate numbers stay masked, and province sees names masked.
// The first page of a search is recorded as a read.
func (s *Service) PendingHardships(ctx context.Context, a bangfu.Actor, pg bangfu.Page) (bangfu.List[PendingHardship], error) {
	w := pendingHardshipsWhere(a)
	w.Add("h.id > ?", pg.After)
	w.Args = append(w.Args, pg.Limit+1)
	rows, err := s.DB.Pool.Query(ctx, fmt.Sprintf(`SELECT h.id, h.student_id, h.category, h.evidence_type, h.issuing_authority,
			h.certificate_no_sealed IS NOT NULL, h.valid_until, h.status, h.verified_by, h.verified_at, h.verification_note,
			h.created_by, h.created_at, s.name, s.student_number
		FROM hardships h JOIN students s ON s.id = h.student_id
		WHERE %s ORDER BY h.id LIMIT $%d`, w, len(w.Args)), w.Args...)
	if err != nil {
		return bangfu.List[PendingHardship]{}, err
	}
	today := bangfu.Today(s.Clock).Time()
	items, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (PendingHardship, error) {
		var ph PendingHardship
		h := &ph.Hardship
		var hasCert bool
		var until *time.Time
		err := row.Scan(&h.ID, &h.StudentID, &h.Category, &h.EvidenceType, &h.IssuingAuthority, &hasCert, &until, &h.Status,
			&h.VerifiedBy, &h.VerifiedAt, &h.VerificationNote, &h.CreatedBy, &h.CreatedAt, &ph.StudentName, &ph.StudentNumber)
		if hasCert {
			h.CertificateNo = Masked
		}
		h.ValidUntil = bangfu.DatePtr(until)
		ph.Expired = until != nil && until.Before(today)
		return ph, err
	})
	if err != nil {
		return bangfu.List[PendingHardship]{}, err
	}
	for i := range items {
		st := Student{Hardships: []Hardship{items[i].Hardship}}
		st.maskFor(a)
		items[i].Hardship = st.Hardships[0]
		if policy.Masked(a) {
			items[i].StudentName = mask.Name(items[i].StudentName)
			items[i].StudentNumber = mask.Tail(items[i].StudentNumber, 3)
		}
	}
	if pg.After == 0 {
		ev := audit.Event{Action: audit.StudentList, Detail: map[string]any{"list": "pending_hardships", "results": len(items)}}
		if a.SchoolID != nil {
			ev.SchoolID = *a.SchoolID
		}
		if err := s.Reads.Record(ctx, a, s.Clock.Now(), ev); err != nil {
			return bangfu.List[PendingHardship]{}, err
		}
	}
	return bangfu.NewList(items, pg.Limit, func(h PendingHardship) int64 { return h.ID }), nil
}

// CountPendingHardships counts the unverified hardship evidence of the
// graduates a may see.
func (s *Service) CountPendingHardships(ctx context.Context, a bangfu.Actor) (int, error) {
	w := pendingHardshipsWhere(a)
	var n int
	err := s.DB.Pool.QueryRow(ctx, `SELECT count(*) FROM hardships h JOIN students s ON s.id = h.student_id WHERE `+w.String(), w.Args...).Scan(&n)
	return n, err
}
