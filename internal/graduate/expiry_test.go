package graduate_test

import (
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"

	"github.com/bangfu/bangfu"
	"github.com/bangfu/bangfu/internal/apptest"
	"github.com/bangfu/bangfu/internal/graduate"
)

func TestEvidenceExpiry(t *testing.T) {
	t.Parallel()
	env := apptest.New(t)
	ctx := t.Context()
	school := env.MustSchool(t)
	supervisor := env.MustUser(t, bangfu.RoleSupervisor, &school.ID)
	counselor := env.MustUser(t, bangfu.RoleCounselor, &school.ID)
	st := env.MustActiveCase(t, counselor)
	h, err := env.App.Graduates.AddHardship(ctx, counselor.Actor(), st.ID, graduate.HardshipInput{
		Category: "dibao", EvidenceType: "低保证", IssuingAuthority: "民政局", ValidUntil: "2026-06-25"})
	require.NoError(t, err)
	_, err = env.App.Graduates.VerifyHardship(ctx, supervisor.Actor(), st.ID, h.ID, graduate.Verification{})
	require.NoError(t, err)
	w := &graduate.ExpiryWorker{DB: env.App.DB, Clock: env.Clock, Settings: env.App.Settings, Notify: env.App.Notify}
	run := func() (int, int) {
		var warned, expired int
		require.NoError(t, env.App.DB.InTx(ctx, func(tx pgx.Tx) error {
			var err error
			warned, expired, err = w.Expire(ctx, tx)
			return err
		}))
		return warned, expired
	}
	w1, e1 := run() // 24 days before: within the 30-day warning
	w2, e2 := run()
	require.Equal(t, []int{1, 0, 0, 0}, []int{w1, e1, w2, e2}, "warned once")
	require.Len(t, env.Notifications(t, counselor, "evidence_expiring"), 1)

	env.Clock.Set(time.Date(2026, 6, 26, 6, 0, 0, 0, bangfu.Shanghai))
	_, expired := run()
	require.Equal(t, 1, expired)
	got, err := env.App.Graduates.Get(ctx, counselor.Actor(), st.ID)
	require.NoError(t, err)
	require.Equal(t, "unverified", got.Hardships[0].Status)
	require.Empty(t, got.Categories, "expired evidence no longer counts")
	var audited int
	require.NoError(t, env.App.DB.Pool.QueryRow(ctx, `SELECT count(*) FROM audit_log WHERE action = 'hardship.expire' AND student_id = $1 AND actor_id IS NULL`, st.ID).Scan(&audited))
	require.Equal(t, 1, audited)
	_, expired = run()
	require.Zero(t, expired)
}
