package graduate_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/bangfu/bangfu"
	"github.com/bangfu/bangfu/internal/graduate"
)

func TestPlace(t *testing.T) {
	t.Parallel()
	id := func(v int64) *int64 { return &v }
	set := func(v int64) bangfu.Nullable[int64] { return bangfu.Nullable[int64]{Set: true, Value: v} }
	clear := bangfu.Nullable[int64]{Set: true, Null: true}
	school, dept, other := int64(10), int64(20), int64(21)
	counselor := bangfu.Actor{UserID: 1, Role: bangfu.RoleCounselor, SchoolID: &school}
	supervisor := bangfu.Actor{UserID: 2, Role: bangfu.RoleSupervisor, SchoolID: &school}
	deptSupervisor := bangfu.Actor{UserID: 3, Role: bangfu.RoleSupervisor, SchoolID: &school, DepartmentID: &dept}
	cs := graduate.Counselors{ByID: map[int64]bool{1: true, 4: true}}
	existing := &graduate.Placement{SchoolID: school, DepartmentID: &other, CounselorID: id(4)}

	for _, tc := range []struct {
		name     string
		a        bangfu.Actor
		cur      *graduate.Placement
		ch       graduate.PlacementChange
		want     graduate.Placement
		problems map[string]string
	}{
		{"a counselor's new file is theirs", counselor, nil, graduate.PlacementChange{},
			graduate.Placement{SchoolID: school, CounselorID: id(1)}, nil},
		{"a counselor may not assign another", counselor, nil, graduate.PlacementChange{CounselorID: set(4)},
			graduate.Placement{SchoolID: school, CounselorID: id(1)},
			map[string]string{"counselor_id": "only a supervisor may assign a graduate to another counselor"}},
		{"no other school", counselor, nil, graduate.PlacementChange{SchoolID: id(99)},
			graduate.Placement{SchoolID: school, CounselorID: id(1)}, map[string]string{"school_id": "must be your own school"}},
		{"a supervisor's new file is unassigned", supervisor, nil, graduate.PlacementChange{},
			graduate.Placement{SchoolID: school}, nil},
		{"a supervisor assigns a counselor of the school", supervisor, nil, graduate.PlacementChange{CounselorID: set(4)},
			graduate.Placement{SchoolID: school, CounselorID: id(4)}, nil},
		{"only enabled counselors of the school", supervisor, nil, graduate.PlacementChange{CounselorID: set(77)},
			graduate.Placement{SchoolID: school, CounselorID: id(77)},
			map[string]string{"counselor_id": "is not an enabled counselor of the graduate's school"}},
		{"a department supervisor's new file is in the department", deptSupervisor, nil, graduate.PlacementChange{},
			graduate.Placement{SchoolID: school, DepartmentID: &dept}, nil},
		{"a department supervisor keeps files in it", deptSupervisor, nil, graduate.PlacementChange{DepartmentID: set(other)},
			graduate.Placement{SchoolID: school, DepartmentID: &other},
			map[string]string{"department_id": "must be your own department"}},
		{"an update keeps what it does not name", counselor, existing, graduate.PlacementChange{}, *existing, nil},
		{"a counselor may not reassign", counselor, existing, graduate.PlacementChange{CounselorID: set(1)},
			*existing, map[string]string{"counselor_id": "only a supervisor may reassign a graduate"}},
		{"naming the same counselor is no reassignment", counselor, existing, graduate.PlacementChange{CounselorID: set(4)}, *existing, nil},
		{"a supervisor unassigns", supervisor, existing, graduate.PlacementChange{CounselorID: clear},
			graduate.Placement{SchoolID: school, DepartmentID: &other}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var p bangfu.Problems
			got := graduate.Place(tc.a, tc.cur, tc.ch, cs, &p)
			require.Equal(t, tc.want, got)
			if tc.problems == nil {
				require.Empty(t, p)
			} else {
				require.Equal(t, bangfu.Problems(tc.problems), p)
			}
		})
	}
}
