package graduate

import (
	"context"

	"github.com/jackc/pgx/v5"

	"github.com/bangfu/bangfu"
	"github.com/bangfu/bangfu/internal/postgres"
)

// Placement is where a file sits: its school, department and counselor.
type Placement struct {
	SchoolID     int64
	DepartmentID *int64
	CounselorID  *int64
}

// PlacementChange is what a write asks of a file's placement; a field not
// Set is left as it is (on a new file: its default).
type PlacementChange struct {
	SchoolID     *int64
	DepartmentID bangfu.Nullable[int64]
	CounselorID  bangfu.Nullable[int64]
}

// Counselors are the enabled counselors of one school, by id and by
// username, for checking assignments without a query per file.
type Counselors struct {
	ByID       map[int64]bool
	ByUsername map[string]int64
}

// schoolCounselors reads the enabled counselors of school.
func schoolCounselors(ctx context.Context, q postgres.Querier, school int64) (Counselors, error) {
	cs := Counselors{ByID: map[int64]bool{}, ByUsername: map[string]int64{}}
	rows, err := q.Query(ctx, `SELECT id, username FROM users WHERE school_id = $1 AND role = 'counselor' AND NOT disabled`, school)
	if err != nil {
		return cs, err
	}
	var id int64
	var username string
	_, err = pgx.ForEachRow(rows, []any{&id, &username}, func() error {
		cs.ByID[id], cs.ByUsername[username] = true, id
		return nil
	})
	return cs, err
}

// Place applies the one placement rule of every write that creates or
// moves a file — create, update and import — and returns the placement,
// recording problems (under the fields school_id, department_id,
// counselor_id) in p:
//
//   - files are created in the actor's own school and never change school;
//   - a supervisor of a department keeps files in that department (a new
//     file without one goes there);
//   - a counselor's new files are assigned to them; only a supervisor
//     assigns a file to another counselor, or changes an assignment;
//   - a counselor assigned must be an enabled counselor of the school.
//
// cur is the file's placement, nil for a new file.
func Place(a bangfu.Actor, cur *Placement, ch PlacementChange, cs Counselors, p *bangfu.Problems) Placement {
	var out Placement
	if cur != nil {
		out = *cur
	} else {
		if a.SchoolID == nil {
			p.Add("school_id", "you belong to no school")
			return out
		}
		out.SchoolID = *a.SchoolID
	}
	if ch.SchoolID != nil && *ch.SchoolID != out.SchoolID {
		p.Add("school_id", "must be your own school")
	}
	if ch.DepartmentID.Set {
		out.DepartmentID = ch.DepartmentID.Ptr()
	}
	if a.Role == bangfu.RoleSupervisor && a.DepartmentID != nil {
		switch {
		case cur == nil && out.DepartmentID == nil:
			out.DepartmentID = a.DepartmentID
		case ch.DepartmentID.Set && (out.DepartmentID == nil || *out.DepartmentID != *a.DepartmentID):
			p.Add("department_id", "must be your own department")
		}
	}
	switch {
	case a.Role == bangfu.RoleCounselor && cur == nil:
		if c := ch.CounselorID.Ptr(); c != nil && *c != a.UserID {
			p.Add("counselor_id", "only a supervisor may assign a graduate to another counselor")
		}
		out.CounselorID = &a.UserID
	case !ch.CounselorID.Set:
	case a.Role != bangfu.RoleSupervisor && cur != nil:
		if !sameID(ch.CounselorID.Ptr(), cur.CounselorID) {
			p.Add("counselor_id", "only a supervisor may reassign a graduate")
		}
	default:
		out.CounselorID = ch.CounselorID.Ptr()
		if out.CounselorID != nil && !cs.ByID[*out.CounselorID] {
			p.Add("counselor_id", "is not an enabled counselor of the graduate's school")
		}
	}
	return out
}
