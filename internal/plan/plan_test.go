package plan_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/bangfu/bangfu"
	"github.com/bangfu/bangfu/internal/apptest"
	"github.com/bangfu/bangfu/internal/graduate"
	"github.com/bangfu/bangfu/internal/plan"
)

func input(goal string) plan.Input {
	return plan.Input{Goals: []string{goal}, CadenceDays: 7, Note: "与家长沟通后制定",
		Measures: []plan.MeasureInput{{Kind: "job_referral", Description: "推荐三个岗位", Owner: "王老师", DueOn: "2026-06-30"}}}
}

func TestRevisionsAndAcknowledgement(t *testing.T) {
	t.Parallel()
	env := apptest.New(t)
	ctx := t.Context()
	school := env.MustSchool(t)
	counselor := env.MustUser(t, bangfu.RoleCounselor, &school.ID)
	province := env.MustUser(t, bangfu.RoleProvince, nil)
	st := env.MustActiveCase(t, counselor)
	c := counselor.Actor()
	acc, err := env.App.Graduates.CreateAccount(ctx, env.App.Directory, c, st.ID, graduate.AccountInput{Username: "plan.student", Password: apptest.Password})
	require.NoError(t, err)
	stu := acc.Actor()

	_, err = env.App.Plans.Get(ctx, c, st.ID)
	require.Equal(t, bangfu.ENOTFOUND, bangfu.ErrorCode(err), "no plan yet")
	r1, err := env.App.Plans.Put(ctx, c, st.ID, nil, input("毕业前落实就业"))
	require.NoError(t, err)
	require.Equal(t, 1, r1.Revision)
	_, err = env.App.Plans.Put(ctx, c, st.ID, nil, input("再写一次"))
	require.Equal(t, bangfu.EPRECONDITIONREQ, bangfu.ErrorCode(err))
	stale := 0
	_, err = env.App.Plans.Put(ctx, c, st.ID, &stale, input("再写一次"))
	require.Equal(t, bangfu.EPRECONDITIONFAILED, bangfu.ErrorCode(err))
	_, err = env.App.Plans.Put(ctx, c, st.ID, &r1.Revision, plan.Input{CadenceDays: 0})
	require.Equal(t, map[string]string{"goals": "needs at least one goal", "cadence_days": "must be a number of days from 1 to 90"}, bangfu.FieldsOf(err))
	r2, err := env.App.Plans.Put(ctx, c, st.ID, &r1.Revision, input("九月前落实就业"))
	require.NoError(t, err)
	require.Equal(t, 2, r2.Revision)

	pl, err := env.App.Plans.Get(ctx, c, st.ID)
	require.NoError(t, err)
	require.Equal(t, 2, pl.Current.Revision)
	require.Len(t, pl.Revisions, 2)
	old, err := env.App.Plans.Revision(ctx, c, st.ID, 1)
	require.NoError(t, err)
	require.Equal(t, []string{"毕业前落实就业"}, old.Goals, "old revisions stay readable")

	_, err = env.App.Plans.Acknowledge(ctx, stu, st.ID, 1)
	require.Equal(t, bangfu.ECONFLICT, bangfu.ErrorCode(err), "only the current revision")
	ack, err := env.App.Plans.Acknowledge(ctx, stu, st.ID, 2)
	require.NoError(t, err)
	require.NotNil(t, ack.AcknowledgedAt)
	_, err = env.App.Plans.Acknowledge(ctx, c, st.ID, 2)
	require.Equal(t, bangfu.ENOTFOUND, bangfu.ErrorCode(err), "the graduate acknowledges, nobody else")

	// Province reads the plan's shape, not its words.
	prov, err := env.App.Plans.Get(ctx, province.Actor(), st.ID)
	require.NoError(t, err)
	require.Equal(t, []string{"******"}, prov.Current.Goals)
	require.Equal(t, "******", prov.Current.Note)
	m := prov.Current.Measures[0]
	require.Equal(t, "job_referral", m.Kind)
	require.Equal(t, "2026-06-30", m.DueOn.String())
	require.Equal(t, "******", m.Description)
	require.Equal(t, "******", m.Owner, "an owner is a person's name")
	_, err = env.App.Plans.Put(ctx, province.Actor(), st.ID, &r2.Revision, input("x"))
	require.Error(t, err, "province staff do not write plans")
}
