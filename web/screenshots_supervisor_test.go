package web_test

import (
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"

	"github.com/bangfu/bangfu"
	"github.com/bangfu/bangfu/internal/apptest"
	"github.com/bangfu/bangfu/internal/demo"
	"github.com/bangfu/bangfu/internal/destination"
	"github.com/bangfu/bangfu/internal/graduate"
	"github.com/bangfu/bangfu/internal/ledger"
)

// TestScreenshotsSupervisor takes the supervisor's ledger review and the
// placement report on a desktop, with the demo data of `make run` and a
// few more entries, into BANGFU_SCREENSHOTS (docs/screenshots with `make
// screenshots`) or a temporary directory.
func TestScreenshotsSupervisor(t *testing.T) {
	t.Parallel()
	env := apptest.New(t)
	ctx := t.Context()
	logins, err := demo.Seed(ctx, env.App)
	require.NoError(t, err)
	var password string
	for _, l := range logins {
		if l.Role == bangfu.RoleSupervisor {
			password = l.Password
		}
	}
	counselor, err := env.App.Directory.UserByUsername(ctx, "counselor")
	require.NoError(t, err)
	supervisor, err := env.App.Directory.UserByUsername(ctx, "supervisor")
	require.NoError(t, err)
	l, err := env.App.Graduates.List(ctx, counselor.Actor(), graduate.Filter{}, bangfu.Page{Limit: 50})
	require.NoError(t, err)
	require.GreaterOrEqual(t, len(l.Items), 5, "the demo has a caseload")
	// Some of the class have a destination, most verified.
	for i, in := range []destination.Input{
		{Code: "80", ProofKind: "admission_notice", ProofRef: "华南师范大学 2026-0731"},
		{Code: "46", ProofKind: "enlistment_notice", ProofRef: "穗征 2026-112"},
		{Code: "76", ProofKind: "signed_statement", ProofRef: "承诺书 2026-06-01"},
		{Code: "70"},
	} {
		st := l.Items[len(l.Items)-1-i]
		d, err := env.App.Destinations.Put(ctx, counselor.Actor(), st.ID, nil, in)
		require.NoError(t, err)
		if i < 2 {
			_, err = env.App.Destinations.Verify(ctx, supervisor.Actor(), st.ID, &d.ID)
			require.NoError(t, err)
		}
	}
	now := env.Clock.Now()
	for i, e := range []ledger.Input{
		{Kind: "referral", Channel: "wechat", OccurredAt: now.Add(-5 * time.Hour), Summary: "推荐广州云帆科技有限公司运维助理岗位", Visibility: "shared",
			Referral: &ledger.Referral{Employer: "广州云帆科技有限公司", Position: "运维助理"}, NextStep: "周五前投递简历"},
		{Kind: "note", OccurredAt: now.Add(-3 * time.Hour), Summary: "家庭经济压力大，情绪低落，建议安排心理老师谈话", Visibility: "internal"},
		{Kind: "contact", Channel: "phone", OccurredAt: now.Add(-1 * time.Hour), Summary: "电话确认面试时间，学生已准备好作品集", Visibility: "shared",
			NextFollowupOn: bangfu.Today(env.Clock).AddDays(3).String()},
	} {
		_, err := env.App.Ledger.Append(ctx, counselor.Actor(), l.Items[i%len(l.Items)].ID, e)
		require.NoError(t, err)
	}
	// The quiet demo case goes up one level per sweep.
	for range 3 {
		require.NoError(t, env.App.DB.InTx(ctx, func(tx pgx.Tx) error {
			_, err := env.App.SweepWorker().Sweep(ctx, tx)
			return err
		}))
	}

	page := tab(t, desktop)
	login(t, page, env.URL, supervisor.Username, password)
	open(t, page, env, "/review")
	require.Greater(t, count(t, page, "#review-table tbody tr"), 3)
	require.Equal(t, 1, count(t, page, "#review-table tr.internal"))
	screenshot(t, page, "review")
	open(t, page, env, "/reports")
	require.Equal(t, 1, count(t, page, "#by-department svg.chart"))
	screenshot(t, page, "reports")
}
