package escalation

import (
	"context"

	"github.com/jackc/pgx/v5"

	"github.com/bangfu/bangfu"
	"github.com/bangfu/bangfu/internal/graduate"
)

// OfStudent returns one graduate's escalations, unresolved first, then
// newest first, if a may see the graduate (not_found otherwise).
func (s *Service) OfStudent(ctx context.Context, a bangfu.Actor, studentID int64) ([]Escalation, error) {
	if _, err := graduate.Access(ctx, s.DB.Pool, a, studentID, false); err != nil {
		return nil, err
	}
	rows, err := s.DB.Pool.Query(ctx, `SELECT `+columns+` FROM escalations e JOIN students s ON s.id = e.student_id
		WHERE e.student_id = $1 ORDER BY e.status = 'resolved', e.id DESC`, studentID)
	if err != nil {
		return nil, err
	}
	items, err := pgx.CollectRows(rows, scan)
	for i := range items {
		items[i].maskFor(a)
	}
	return items, err
}
