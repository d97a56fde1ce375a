package directory_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/bangfu/bangfu"
	"github.com/bangfu/bangfu/internal/apptest"
	"github.com/bangfu/bangfu/internal/directory"
)

type auditRow struct {
	ActorID  *int64
	Role     string
	SchoolID *int64
	Fields   []string
	Detail   map[string]any
}

// TestChangesAreAudited: every change to schools, departments and users is
// in the audit log, with who made it and which fields changed — never a
// password.
func TestChangesAreAudited(t *testing.T) {
	t.Parallel()
	env := apptest.New(t)
	ctx := t.Context()
	admin := env.MustUser(t, bangfu.RoleAdmin, nil)
	a := admin.Actor()
	dir := env.App.Directory
	last := func(action string) auditRow {
		t.Helper()
		var r auditRow
		require.NoError(t, env.App.DB.Pool.QueryRow(ctx, `SELECT actor_id, actor_role, school_id, fields, coalesce(detail, '{}')
			FROM audit_log WHERE action = $1 ORDER BY id DESC LIMIT 1`, action).Scan(&r.ActorID, &r.Role, &r.SchoolID, &r.Fields, &r.Detail))
		return r
	}

	school, err := dir.CreateSchool(ctx, a, directory.SchoolInput{Code: "4144019999", Name: "审计学院"})
	require.NoError(t, err)
	r := last("school.create")
	require.Equal(t, admin.ID, *r.ActorID)
	require.Equal(t, school.ID, *r.SchoolID)
	require.Equal(t, "4144019999", r.Detail["code"])

	dept, err := dir.CreateDepartment(ctx, a, school.ID, "机电学院")
	require.NoError(t, err)
	r = last("department.create")
	require.Equal(t, school.ID, *r.SchoolID)
	require.EqualValues(t, dept.ID, r.Detail["department_id"])

	u, err := dir.CreateUser(ctx, a, directory.UserInput{Username: "zhao.laoshi", DisplayName: "赵老师", Role: bangfu.RoleCounselor,
		SchoolID: &school.ID, Password: apptest.Password})
	require.NoError(t, err)
	r = last("user.create")
	require.Equal(t, admin.ID, *r.ActorID)
	require.Equal(t, school.ID, *r.SchoolID)
	require.EqualValues(t, u.ID, r.Detail["user_id"])
	require.Equal(t, "counselor", r.Detail["role"])

	// A failed create leaves no audit row behind.
	count := func(action string) int {
		var n int
		require.NoError(t, env.App.DB.Pool.QueryRow(ctx, `SELECT count(*) FROM audit_log WHERE action = $1`, action).Scan(&n))
		return n
	}
	before := count("user.create")
	_, err = dir.CreateUser(ctx, a, directory.UserInput{Username: "zhao.laoshi", Role: bangfu.RoleCounselor, SchoolID: &school.ID, Password: apptest.Password})
	require.Equal(t, bangfu.ECONFLICT, bangfu.ErrorCode(err))
	require.Equal(t, before, count("user.create"))

	supervisor := bangfu.RoleSupervisor
	pw := "another long password"
	u, err = dir.UpdateUser(ctx, a, u.ID, u.Version, directory.UserPatch{Role: &supervisor, DepartmentID: bangfu.Nullable[int64]{Set: true, Value: dept.ID}, Password: &pw})
	require.NoError(t, err)
	r = last("user.update")
	require.Equal(t, []string{"role", "department_id", "password"}, r.Fields)
	require.Equal(t, map[string]any{"from": "counselor", "to": "supervisor"}, r.Detail["role"])
	require.NotContains(t, r.Detail, "password", "the password itself is never recorded")

	disabled := true
	u, err = dir.UpdateUser(ctx, a, u.ID, u.Version, directory.UserPatch{Disabled: &disabled})
	require.NoError(t, err)
	r = last("user.update")
	require.Equal(t, []string{"disabled"}, r.Fields)
	require.Equal(t, true, r.Detail["disabled"])

	// A stale version changes nothing and records nothing.
	_, err = dir.UpdateUser(ctx, a, u.ID, u.Version-1, directory.UserPatch{Disabled: &disabled})
	require.Equal(t, bangfu.EPRECONDITIONFAILED, bangfu.ErrorCode(err))
	require.Equal(t, 2, count("user.update"))
}

func TestCounselors(t *testing.T) {
	t.Parallel()
	env := apptest.New(t)
	ctx := t.Context()
	school, other := env.MustSchool(t), env.MustSchool(t)
	supervisor := env.MustUser(t, bangfu.RoleSupervisor, &school.ID)
	c1 := env.MustUser(t, bangfu.RoleCounselor, &school.ID)
	c2 := env.MustUser(t, bangfu.RoleCounselor, &school.ID)
	env.MustUser(t, bangfu.RoleCounselor, &other.ID)
	gone := env.MustUser(t, bangfu.RoleCounselor, &school.ID)
	disabled := true
	_, err := env.App.Directory.UpdateUser(ctx, bangfu.Actor{}, gone.ID, gone.Version, directory.UserPatch{Disabled: &disabled})
	require.NoError(t, err)

	got, err := env.App.Directory.Counselors(ctx, supervisor.Actor())
	require.NoError(t, err)
	var ids []int64
	for _, u := range got {
		ids = append(ids, u.ID)
	}
	require.ElementsMatch(t, []int64{c1.ID, c2.ID}, ids, "the enabled counselors of the school")
	got, err = env.App.Directory.Counselors(ctx, env.MustUser(t, bangfu.RoleProvince, nil).Actor())
	require.NoError(t, err)
	require.Empty(t, got)
}

// TestDepartmentsOf: the departments of many schools in one read, by
// school; a school the actor may not see is not found.
func TestDepartmentsOf(t *testing.T) {
	t.Parallel()
	env := apptest.New(t)
	ctx := t.Context()
	admin := env.MustUser(t, bangfu.RoleAdmin, nil).Actor()
	dir := env.App.Directory
	school, other, empty := env.MustSchool(t), env.MustSchool(t), env.MustSchool(t)
	var mine []int64
	for _, name := range []string{"机电学院", "信息学院"} {
		d, err := dir.CreateDepartment(ctx, admin, school.ID, name)
		require.NoError(t, err)
		mine = append(mine, d.ID)
	}
	theirs, err := dir.CreateDepartment(ctx, admin, other.ID, "外语学院")
	require.NoError(t, err)

	got, err := dir.DepartmentsOf(ctx, admin, []int64{school.ID, other.ID, empty.ID})
	require.NoError(t, err)
	require.Len(t, got[school.ID], 2)
	require.Equal(t, mine, []int64{got[school.ID][0].ID, got[school.ID][1].ID})
	require.Equal(t, theirs.ID, got[other.ID][0].ID)
	require.Empty(t, got[empty.ID])

	supervisor := env.MustUser(t, bangfu.RoleSupervisor, &school.ID).Actor()
	_, err = dir.DepartmentsOf(ctx, supervisor, []int64{school.ID, other.ID})
	require.Equal(t, bangfu.ENOTFOUND, bangfu.ErrorCode(err))
}
