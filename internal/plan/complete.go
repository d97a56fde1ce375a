package plan

import (
	"context"
	"strings"

	"github.com/jackc/pgx/v5"

	"github.com/bangfu/bangfu"
	"github.com/bangfu/bangfu/internal/graduate"
)

// CompleteMeasures records that the graduate finished every open measure
// of kind in their current plan (the 宏志助航 roster calls it when a base
// marks a place completed). It runs on tx, which must hold the graduate's
// row lock (graduate.Access or graduate.Lock with h).
//
// The change is a new revision, like every other change of a plan: the
// current revision's goals, cadence and measures with each measure of kind
// that is neither done nor dropped marked done, and note as the revision's
// note; a is its author. Revisions are the plan's history and what the
// graduate acknowledges, so none is edited in place. It returns the new
// revision, or ok false and no change when the graduate has no plan or no
// open measure of kind.
func (s *Service) CompleteMeasures(ctx context.Context, tx pgx.Tx, a bangfu.Actor, h graduate.Header, kind, note string) (r Revision, ok bool, err error) {
	var current int
	if err := tx.QueryRow(ctx, `SELECT plan_revision FROM students WHERE id = $1`, h.StudentID).Scan(&current); err != nil {
		return Revision{}, false, err
	}
	if current == 0 {
		return Revision{}, false, nil
	}
	r, err = s.revision(ctx, tx, h.StudentID, current)
	if err != nil {
		return Revision{}, false, err
	}
	for i, m := range r.Measures {
		if m.Kind == kind && m.Status != "done" && m.Status != "dropped" {
			r.Measures[i].Status = "done"
			ok = true
		}
	}
	if !ok {
		return Revision{}, false, nil
	}
	r.Note = strings.TrimSpace(note)
	if err := s.write(ctx, tx, a, h, current+1, &r); err != nil {
		return Revision{}, false, err
	}
	return r, true, nil
}
