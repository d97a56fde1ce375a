package escalation_test

import (
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"

	"github.com/bangfu/bangfu"
	"github.com/bangfu/bangfu/internal/apptest"
	"github.com/bangfu/bangfu/internal/directory"
	"github.com/bangfu/bangfu/internal/escalation"
	"github.com/bangfu/bangfu/internal/graduate"
)

// TestCountOpen: the overview's counts are the open escalations of the
// actor's scope by level; acknowledged and resolved ones are not open.
func TestCountOpen(t *testing.T) {
	t.Parallel()
	env := apptest.New(t)
	ctx := t.Context()
	school, other := env.MustSchool(t), env.MustSchool(t)
	supervisor := env.MustUser(t, bangfu.RoleSupervisor, &school.ID)
	counselor := env.MustUser(t, bangfu.RoleCounselor, &school.ID)
	elsewhere := env.MustUser(t, bangfu.RoleCounselor, &other.ID)
	province := env.MustUser(t, bangfu.RoleProvince, nil)
	for _, c := range []directory.User{counselor, counselor, elsewhere} {
		st := env.MustStudent(t, c)
		active := "active"
		_, err := env.App.Graduates.Update(ctx, c.Actor(), st.ID, st.Version, graduate.Patch{Status: &active})
		require.NoError(t, err)
	}
	// 14 and 21 days of quiet: levels 1 and 2 for each case.
	for _, day := range []int{14, 21} {
		env.Clock.Set(apptest.Start.AddDate(0, 0, day).Add(time.Hour))
		require.NoError(t, env.App.DB.InTx(ctx, func(tx pgx.Tx) error {
			_, err := env.App.SweepWorker().Sweep(ctx, tx)
			return err
		}))
	}
	count := func(a bangfu.Actor) [3]int {
		t.Helper()
		n, err := env.App.Escalations.CountOpen(ctx, a)
		require.NoError(t, err)
		return n
	}
	// Each quiet case has been raised to levels 1 and 2.
	require.Equal(t, [3]int{2, 2, 0}, count(supervisor.Actor()), "the school's two quiet cases")
	require.Equal(t, [3]int{2, 2, 0}, count(counselor.Actor()), "the counselor's caseload is the whole school here")
	require.Equal(t, [3]int{1, 1, 0}, count(elsewhere.Actor()))
	require.Equal(t, [3]int{3, 3, 0}, count(province.Actor()), "province counts every school")
	require.Equal(t, [3]int{}, count(env.MustUser(t, bangfu.RoleAdmin, nil).Actor()), "admin sees no case")

	l, err := env.App.Escalations.List(ctx, supervisor.Actor(), escalation.Filter{Level: 2}, bangfu.Page{Limit: 50})
	require.NoError(t, err)
	_, err = env.App.Escalations.Acknowledge(ctx, supervisor.Actor(), l.Items[0].ID, "已跟进")
	require.NoError(t, err)
	_, err = env.App.Escalations.Resolve(ctx, supervisor.Actor(), l.Items[1].ID, "已面谈")
	require.NoError(t, err)
	require.Equal(t, [3]int{2, 0, 0}, count(supervisor.Actor()), "acknowledged and resolved escalations are no longer open")
}
