package policy_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/bangfu/bangfu"
	"github.com/bangfu/bangfu/internal/policy"
)

func TestScopes(t *testing.T) {
	t.Parallel()
	school, other, dept, otherDept, me, stu := int64(1), int64(2), int64(10), int64(11), int64(5), int64(100)
	rec := policy.Record{StudentID: stu, SchoolID: school, DepartmentID: &dept, CounselorID: &me}
	for name, tc := range map[string]struct {
		a    bangfu.Actor
		sees bool
	}{
		"own student":          {bangfu.Actor{Role: bangfu.RoleStudent, StudentID: &stu}, true},
		"another student":      {bangfu.Actor{Role: bangfu.RoleStudent, StudentID: &other}, false},
		"student without file": {bangfu.Actor{Role: bangfu.RoleStudent}, false},
		"assigned counselor":   {bangfu.Actor{UserID: me, Role: bangfu.RoleCounselor, SchoolID: &school}, true},
		"colleague":            {bangfu.Actor{UserID: 6, Role: bangfu.RoleCounselor, SchoolID: &school}, false},
		"school supervisor":    {bangfu.Actor{Role: bangfu.RoleSupervisor, SchoolID: &school}, true},
		"department":           {bangfu.Actor{Role: bangfu.RoleSupervisor, SchoolID: &school, DepartmentID: &dept}, true},
		"other department":     {bangfu.Actor{Role: bangfu.RoleSupervisor, SchoolID: &school, DepartmentID: &otherDept}, false},
		"other school":         {bangfu.Actor{Role: bangfu.RoleSupervisor, SchoolID: &other}, false},
		"province":             {bangfu.Actor{Role: bangfu.RoleProvince}, true},
		"admin":                {bangfu.Actor{Role: bangfu.RoleAdmin}, false},
		"training base":        {bangfu.Actor{Role: bangfu.RoleBase, BaseID: &other}, false},
	} {
		require.Equal(t, tc.sees, policy.Sees(tc.a, rec), name)
	}
	require.True(t, policy.MayUnmask(bangfu.Actor{UserID: me, Role: bangfu.RoleCounselor}, rec))
	require.False(t, policy.MayUnmask(bangfu.Actor{Role: bangfu.RoleProvince}, rec), "province reads masked only")
}
