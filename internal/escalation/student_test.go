package escalation_test

import (
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"

	"github.com/bangfu/bangfu"
	"github.com/bangfu/bangfu/internal/apptest"
	"github.com/bangfu/bangfu/internal/graduate"
)

func TestOfStudent(t *testing.T) {
	t.Parallel()
	env := apptest.New(t)
	ctx := t.Context()
	school := env.MustSchool(t)
	counselor := env.MustUser(t, bangfu.RoleCounselor, &school.ID)
	colleague := env.MustUser(t, bangfu.RoleCounselor, &school.ID)
	st := env.MustStudent(t, counselor, graduate.Input{Name: "李明"})
	active := "active"
	_, err := env.App.Graduates.Update(ctx, counselor.Actor(), st.ID, st.Version, graduate.Patch{Status: &active})
	require.NoError(t, err)
	for _, day := range []int{14, 21} {
		env.Clock.Set(apptest.Start.AddDate(0, 0, day))
		require.NoError(t, env.App.DB.InTx(ctx, func(tx pgx.Tx) error {
			_, err := env.App.SweepWorker().Sweep(ctx, tx)
			return err
		}))
	}
	es, err := env.App.Escalations.OfStudent(ctx, counselor.Actor(), st.ID)
	require.NoError(t, err)
	require.Len(t, es, 2)
	require.Equal(t, 2, es[0].Level, "newest first")
	_, err = env.App.Escalations.Resolve(ctx, counselor.Actor(), es[1].ID, "已电话联系")
	require.NoError(t, err)
	es, err = env.App.Escalations.OfStudent(ctx, counselor.Actor(), st.ID)
	require.NoError(t, err)
	require.Equal(t, []string{"open", "resolved"}, []string{es[0].Status, es[1].Status}, "unresolved first")

	_, err = env.App.Escalations.OfStudent(ctx, colleague.Actor(), st.ID)
	require.Equal(t, bangfu.ENOTFOUND, bangfu.ErrorCode(err))
	es, err = env.App.Escalations.OfStudent(ctx, env.MustUser(t, bangfu.RoleProvince, nil).Actor(), st.ID)
	require.NoError(t, err)
	require.Equal(t, "李*", es[0].StudentName, "province sees the name masked")
}
