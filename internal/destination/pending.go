package destination

import (
	"context"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"

	"github.com/bangfu/bangfu"
	"github.com/bangfu/bangfu/internal/graduate"
	"github.com/bangfu/bangfu/internal/mask"
	"github.com/bangfu/bangfu/internal/policy"
	"github.com/bangfu/bangfu/internal/postgres"
)

// Pending is a graduate's current destination record waiting for a
// supervisor to verify it, with whose it is and where their case stands:
// its status and, in the caseload, its phase (graduate.PhaseOf; nil
// otherwise).
type Pending struct {
	Destination
	StudentName    string  `json:"student_name"`
	StudentNumber  string  `json:"student_number"`
	GraduationYear int     `json:"graduation_year"`
	CaseStatus     string  `json:"case_status"`
	Phase          *string `json:"phase"`
}

// pendingWhere is the scope and state of the queue over students s joined
// to their current destination d.
func pendingWhere(a bangfu.Actor) *postgres.Where {
	w := &postgres.Where{}
	w.Add("d.status <> 'verified'")
	graduate.AddScope(w, a)
	return w
}

// Pending lists the current destination records not yet verified of the
// graduates a may see (scoped like files: a supervisor their school or
// department), by graduate; Page.After is a graduate id. Province sees
// names masked. Superseded records are history, never pending.
func (s *Service) Pending(ctx context.Context, a bangfu.Actor, pg bangfu.Page) (bangfu.List[Pending], error) {
	w := pendingWhere(a)
	w.Add("s.id > ?", pg.After)
	w.Args = append(w.Args, pg.Limit+1)
	cols := strings.Split(columns, ",")
	for i, c := range cols {
		cols[i] = "d." + strings.TrimSpace(c)
	}
	rows, err := s.DB.Pool.Query(ctx, fmt.Sprintf(`SELECT %s, s.name, s.student_number, s.graduation_year, s.status
		FROM students s JOIN destinations d ON d.id = s.destination_id
		WHERE %s ORDER BY s.id LIMIT $%d`, strings.Join(cols, ", "), w, len(w.Args)), w.Args...)
	if err != nil {
		return bangfu.List[Pending]{}, err
	}
	today := bangfu.Today(s.Clock)
	items, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (Pending, error) {
		var p Pending
		d := &p.Destination
		err := row.Scan(&d.ID, &d.StudentID, &d.Code, &d.Employer, &d.CreditCode, &d.Position, &d.Region, &d.ProofKind, &d.ProofRef,
			&d.Note, &d.Status, &d.EnteredBy, &d.EnteredRole, &d.EnteredAt, &d.VerifiedBy, &d.VerifiedAt,
			&p.StudentName, &p.StudentNumber, &p.GraduationYear, &p.CaseStatus)
		d.CodeName = Codes[d.Code]
		if phase := graduate.PhaseOf(p.CaseStatus, p.GraduationYear, today); phase != "" {
			p.Phase = &phase
		}
		return p, err
	})
	if err != nil {
		return bangfu.List[Pending]{}, err
	}
	if policy.Masked(a) {
		for i := range items {
			items[i].StudentName = mask.Name(items[i].StudentName)
			items[i].StudentNumber = mask.Tail(items[i].StudentNumber, 3)
		}
	}
	return bangfu.NewList(items, pg.Limit, func(p Pending) int64 { return p.StudentID }), nil
}

// CountPending counts the current destination records not yet verified of
// the graduates a may see.
func (s *Service) CountPending(ctx context.Context, a bangfu.Actor) (int, error) {
	w := pendingWhere(a)
	var n int
	err := s.DB.Pool.QueryRow(ctx, `SELECT count(*) FROM students s JOIN destinations d ON d.id = s.destination_id WHERE `+w.String(), w.Args...).Scan(&n)
	return n, err
}
