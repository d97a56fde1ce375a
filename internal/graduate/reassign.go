package graduate

import (
	"context"
	"fmt"
	"slices"

	"github.com/jackc/pgx/v5"

	"github.com/bangfu/bangfu"
	"github.com/bangfu/bangfu/internal/audit"
)

// MaxReassign is the most graduates one reassignment moves.
const MaxReassign = 500

// Reassignment hands graduates over to another counselor.
type Reassignment struct {
	StudentIDs  []int64 `json:"student_ids"`
	CounselorID *int64  `json:"counselor_id"`
}

// Reassigned is the outcome of a reassignment: the files it changed, as
// the actor now sees them (a graduate already with that counselor is not
// changed and not listed).
type Reassigned struct {
	Items []Student `json:"items"`
}

// Reassign assigns every graduate of in.StudentIDs to counselor
// in.CounselorID, all or none, in one transaction, under the placement
// rule (Place): only a supervisor reassigns, and the counselor must be an
// enabled counselor of the school. Graduates the actor may not see are
// invalid, named by their position ("student_ids.3"). Each changed file
// gets a new version and an audit row saying from whom to whom.
func (s *Service) Reassign(ctx context.Context, a bangfu.Actor, in Reassignment) (Reassigned, error) {
	var p bangfu.Problems
	ids := slices.Clone(in.StudentIDs)
	slices.Sort(ids)
	switch {
	case len(ids) == 0:
		p.Add("student_ids", "needs at least one graduate")
	case len(ids) > MaxReassign:
		p.Add("student_ids", fmt.Sprintf("may hold at most %d graduates", MaxReassign))
	case len(slices.Compact(slices.Clone(ids))) != len(ids):
		p.Add("student_ids", "lists a graduate twice")
	}
	if in.CounselorID == nil {
		p.Add("counselor_id", "is required: the counselor who takes the graduates over")
	}
	if err := p.Err(); err != nil {
		return Reassigned{}, err
	}
	var changed []int64
	err := s.DB.InTx(ctx, func(tx pgx.Tx) error {
		var cs Counselors
		if a.SchoolID != nil {
			var err error
			if cs, err = schoolCounselors(ctx, tx, *a.SchoolID); err != nil {
				return err
			}
		}
		var events []audit.Event
		// Lock in id order so that concurrent reassignments cannot deadlock.
		for _, id := range ids {
			h, err := Access(ctx, tx, a, id, true)
			if err != nil {
				p.Add(fmt.Sprintf("student_ids.%d", slices.Index(in.StudentIDs, id)), "is not a graduate you can see")
				continue
			}
			cur := Placement{SchoolID: h.SchoolID, DepartmentID: h.DepartmentID, CounselorID: h.CounselorID}
			pl := Place(a, &cur, PlacementChange{CounselorID: nullable(in.CounselorID)}, cs, &p)
			if sameID(pl.CounselorID, cur.CounselorID) {
				continue
			}
			changed = append(changed, id)
			events = append(events, audit.Event{Action: audit.StudentReassign, StudentID: id, SchoolID: h.SchoolID,
				Fields: []string{"counselor_id"}, Detail: map[string]any{"from": cur.CounselorID, "to": pl.CounselorID}})
		}
		if err := p.Err(); err != nil {
			return err
		}
		if len(changed) == 0 {
			return nil
		}
		now := s.Clock.Now()
		if _, err := tx.Exec(ctx, `UPDATE students SET counselor_id = $2, updated_at = $3, version = version + 1 WHERE id = ANY($1)`,
			changed, *in.CounselorID, now); err != nil {
			return err
		}
		return audit.RecordMany(ctx, tx, a, now, events)
	})
	if err != nil {
		return Reassigned{}, err
	}
	out := Reassigned{Items: []Student{}}
	if len(changed) == 0 {
		return out, nil
	}
	rows, err := s.DB.Pool.Query(ctx, `SELECT `+studentColumns+` FROM `+studentsFrom+` WHERE s.id = ANY($2) ORDER BY s.id`,
		bangfu.Today(s.Clock).Time(), changed)
	if err != nil {
		return Reassigned{}, err
	}
	if out.Items, err = pgx.CollectRows(rows, scanStudent); err != nil {
		return Reassigned{}, err
	}
	for i := range out.Items {
		out.Items[i].maskFor(a)
	}
	return out, nil
}
