package graduate_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/bangfu/bangfu"
	"github.com/bangfu/bangfu/internal/apptest"
	"github.com/bangfu/bangfu/internal/directory"
	"github.com/bangfu/bangfu/internal/graduate"
)

func TestReassign(t *testing.T) {
	t.Parallel()
	env := apptest.New(t)
	ctx := t.Context()
	school, other := env.MustSchool(t), env.MustSchool(t)
	supervisor := env.MustUser(t, bangfu.RoleSupervisor, &school.ID)
	wang := env.MustUser(t, bangfu.RoleCounselor, &school.ID)
	li := env.MustUser(t, bangfu.RoleCounselor, &school.ID)
	elsewhere := env.MustUser(t, bangfu.RoleCounselor, &other.ID)
	a, b, c := env.MustStudent(t, wang), env.MustStudent(t, wang), env.MustStudent(t, wang)
	alreadyLi := env.MustStudent(t, li)
	far := env.MustStudent(t, elsewhere)
	sup := supervisor.Actor()

	counselorOf := func(id int64) *int64 {
		var c *int64
		require.NoError(t, env.App.DB.Pool.QueryRow(ctx, `SELECT counselor_id FROM students WHERE id = $1`, id).Scan(&c))
		return c
	}
	reassign := func(by bangfu.Actor, to *int64, ids ...int64) (graduate.Reassigned, error) {
		return env.App.Graduates.Reassign(ctx, by, graduate.Reassignment{StudentIDs: ids, CounselorID: to})
	}

	// All or none: one graduate of another school spoils the lot.
	_, err := reassign(sup, &li.ID, a.ID, far.ID)
	require.Equal(t, bangfu.EINVALID, bangfu.ErrorCode(err))
	require.Equal(t, map[string]string{"student_ids.1": "is not a graduate you can see"}, bangfu.FieldsOf(err))
	require.Equal(t, wang.ID, *counselorOf(a.ID), "nothing moved")

	// Only an enabled counselor of the school takes graduates over.
	_, err = reassign(sup, &elsewhere.ID, a.ID)
	require.Equal(t, map[string]string{"counselor_id": "is not an enabled counselor of the graduate's school"}, bangfu.FieldsOf(err))
	disabled := true
	gone := env.MustUser(t, bangfu.RoleCounselor, &school.ID)
	_, err = env.App.Directory.UpdateUser(ctx, bangfu.Actor{}, gone.ID, gone.Version, directory.UserPatch{Disabled: &disabled})
	require.NoError(t, err)
	_, err = reassign(sup, &gone.ID, a.ID)
	require.Equal(t, map[string]string{"counselor_id": "is not an enabled counselor of the graduate's school"}, bangfu.FieldsOf(err))

	// Only a supervisor reassigns.
	_, err = reassign(wang.Actor(), &li.ID, a.ID)
	require.Equal(t, map[string]string{"counselor_id": "only a supervisor may reassign a graduate"}, bangfu.FieldsOf(err))

	_, err = reassign(sup, nil, a.ID)
	require.Equal(t, map[string]string{"counselor_id": "is required: the counselor who takes the graduates over"}, bangfu.FieldsOf(err))
	_, err = reassign(sup, &li.ID)
	require.Equal(t, map[string]string{"student_ids": "needs at least one graduate"}, bangfu.FieldsOf(err))
	_, err = reassign(sup, &li.ID, a.ID, a.ID)
	require.Equal(t, map[string]string{"student_ids": "lists a graduate twice"}, bangfu.FieldsOf(err))

	// Many at once, in one go; one already with li is left alone.
	out, err := reassign(sup, &li.ID, c.ID, a.ID, b.ID, alreadyLi.ID)
	require.NoError(t, err)
	require.Len(t, out.Items, 3)
	for i, st := range out.Items {
		require.Equal(t, []int64{a.ID, b.ID, c.ID}[i], st.ID)
		require.Equal(t, li.ID, *st.CounselorID)
		require.Equal(t, 2, st.Version, "a reassigned file has a new version")
	}
	require.Equal(t, li.ID, *counselorOf(a.ID))
	var rows int
	require.NoError(t, env.App.DB.Pool.QueryRow(ctx, `SELECT count(*) FROM audit_log WHERE action = 'student.reassign' AND actor_id = $1
		AND student_id = ANY($2) AND fields = '{counselor_id}' AND (detail->>'from')::bigint = $3 AND (detail->>'to')::bigint = $4`,
		supervisor.ID, []int64{a.ID, b.ID, c.ID}, wang.ID, li.ID).Scan(&rows))
	require.Equal(t, 3, rows, "each move is audited: who, from whom, to whom")

	// The new counselor's caseload holds them; the old one's no longer.
	l, err := env.App.Graduates.List(ctx, li.Actor(), graduate.Filter{}, bangfu.Page{Limit: 50})
	require.NoError(t, err)
	require.Len(t, l.Items, 4)
	l, err = env.App.Graduates.List(ctx, wang.Actor(), graduate.Filter{}, bangfu.Page{Limit: 50})
	require.NoError(t, err)
	require.Empty(t, l.Items)

	// Unassigned files are listed by the filter, and can be assigned.
	loose := env.MustStudent(t, supervisor)
	l, err = env.App.Graduates.List(ctx, sup, graduate.Filter{Unassigned: true}, bangfu.Page{Limit: 50})
	require.NoError(t, err)
	require.Len(t, l.Items, 1)
	require.Equal(t, loose.ID, l.Items[0].ID)
	_, err = reassign(sup, &wang.ID, loose.ID)
	require.NoError(t, err)
	require.Equal(t, wang.ID, *counselorOf(loose.ID))
}
