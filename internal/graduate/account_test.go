package graduate_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/bangfu/bangfu"
	"github.com/bangfu/bangfu/internal/apptest"
	"github.com/bangfu/bangfu/internal/graduate"
)

// TestResetAccountPassword: the graduate's counselor (or a supervisor of
// their school) sets a new password on the graduate's own login; the old
// password and the sessions made with it stop working; anyone else is
// answered as if the graduate did not exist.
func TestResetAccountPassword(t *testing.T) {
	t.Parallel()
	env := apptest.New(t)
	ctx := t.Context()
	school, other := env.MustSchool(t), env.MustSchool(t)
	counselor := env.MustUser(t, bangfu.RoleCounselor, &school.ID)
	colleague := env.MustUser(t, bangfu.RoleCounselor, &school.ID)
	supervisor := env.MustUser(t, bangfu.RoleSupervisor, &school.ID)
	elsewhere := env.MustUser(t, bangfu.RoleSupervisor, &other.ID)
	st := env.MustStudent(t, counselor)
	lonely := env.MustStudent(t, counselor)
	g := env.App.Graduates

	acc, err := g.AccountOf(ctx, counselor.Actor(), st.ID)
	require.NoError(t, err)
	require.Nil(t, acc, "no login yet")
	u, err := g.CreateAccount(ctx, env.App.Directory, counselor.Actor(), st.ID, graduate.AccountInput{Username: "li.ming", Password: apptest.Password})
	require.NoError(t, err)
	acc, err = g.AccountOf(ctx, counselor.Actor(), st.ID)
	require.NoError(t, err)
	require.Equal(t, "li.ming", acc.Username)
	require.Equal(t, u.ID, acc.UserID)
	_, err = g.AccountOf(ctx, colleague.Actor(), st.ID)
	require.Equal(t, bangfu.ENOTFOUND, bangfu.ErrorCode(err))

	sess, err := env.App.Auth.Login(ctx, "li.ming", apptest.Password, "")
	require.NoError(t, err)

	const fresh = "a new password for li ming"
	for name, a := range map[string]bangfu.Actor{
		"colleague": colleague.Actor(), "other school": elsewhere.Actor(),
		"the graduate": u.Actor(), "province": env.MustUser(t, bangfu.RoleProvince, nil).Actor(),
	} {
		err := g.ResetAccountPassword(ctx, env.App.Directory, a, st.ID, graduate.PasswordInput{Password: fresh})
		require.Equal(t, bangfu.ENOTFOUND, bangfu.ErrorCode(err), name)
	}
	err = g.ResetAccountPassword(ctx, env.App.Directory, counselor.Actor(), st.ID, graduate.PasswordInput{Password: "short"})
	require.Equal(t, bangfu.EINVALID, bangfu.ErrorCode(err))
	require.Contains(t, bangfu.FieldsOf(err), "password")
	err = g.ResetAccountPassword(ctx, env.App.Directory, counselor.Actor(), lonely.ID, graduate.PasswordInput{Password: fresh})
	require.Equal(t, bangfu.ENOTFOUND, bangfu.ErrorCode(err), "a graduate without a login")

	require.NoError(t, g.ResetAccountPassword(ctx, env.App.Directory, counselor.Actor(), st.ID, graduate.PasswordInput{Password: fresh}))
	_, err = env.App.Auth.Login(ctx, "li.ming", apptest.Password, "")
	require.Equal(t, bangfu.EUNAUTHENTICATED, bangfu.ErrorCode(err), "the old password no longer works")
	_, err = env.App.Auth.Refresh(ctx, sess.RefreshToken)
	require.Equal(t, bangfu.EUNAUTHENTICATED, bangfu.ErrorCode(err), "the sessions of the old password end")
	_, err = env.App.Auth.Login(ctx, "li.ming", fresh, "")
	require.NoError(t, err)

	// A supervisor of the school may reset it too; each reset is audited.
	require.NoError(t, g.ResetAccountPassword(ctx, env.App.Directory, supervisor.Actor(), st.ID, graduate.PasswordInput{Password: fresh + "!"}))
	var n int
	require.NoError(t, env.App.DB.Pool.QueryRow(ctx, `SELECT count(*) FROM audit_log WHERE action = 'student.account' AND student_id = $1
		AND fields = '{password}'`, st.ID).Scan(&n))
	require.Equal(t, 2, n)
}
