package graduate_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/bangfu/bangfu"
	"github.com/bangfu/bangfu/internal/apptest"
	"github.com/bangfu/bangfu/internal/destination"
	"github.com/bangfu/bangfu/internal/ledger"
	"github.com/bangfu/bangfu/internal/plan"
)

// TestEveryCaseChangeMovesTheVersion: a write that changes what a file
// shows — its status, its counters, its plan revision, its destination —
// changes its version (the ETag), so that a client holding an older copy
// cannot overwrite it unseen.
func TestEveryCaseChangeMovesTheVersion(t *testing.T) {
	t.Parallel()
	env := apptest.New(t)
	ctx := t.Context()
	school := env.MustSchool(t)
	supervisor := env.MustUser(t, bangfu.RoleSupervisor, &school.ID)
	counselor := env.MustUser(t, bangfu.RoleCounselor, &school.ID)
	st := env.MustActiveCase(t, counselor)
	c := counselor.Actor()
	version := st.Version
	moved := func(what string) {
		t.Helper()
		got, err := env.App.Graduates.Get(ctx, c, st.ID)
		require.NoError(t, err)
		require.Greater(t, got.Version, version, "%s changes the version", what)
		version = got.Version
	}

	_, err := env.App.Ledger.Append(ctx, c, st.ID, ledger.Input{Kind: "contact", Channel: "phone", OccurredAt: env.Clock.Now(), Summary: "电话联系"})
	require.NoError(t, err)
	moved("a contact (contacts_count)")
	_, err = env.App.Ledger.Append(ctx, c, st.ID, ledger.Input{Kind: "referral", OccurredAt: env.Clock.Now(), Summary: "推荐岗位",
		Referral: &ledger.Referral{Employer: "某公司", Position: "文员"}})
	require.NoError(t, err)
	moved("a referral (referrals_count)")
	_, err = env.App.Plans.Put(ctx, c, st.ID, nil, plan.Input{Goals: []string{"就业"}, CadenceDays: 7})
	require.NoError(t, err)
	moved("a plan revision")
	d, err := env.App.Destinations.Put(ctx, c, st.ID, nil, destination.Input{Code: "80", ProofKind: "admission_notice", ProofRef: "LQ-1"})
	require.NoError(t, err)
	moved("a destination record (placed)")
	_, err = env.App.Destinations.Verify(ctx, supervisor.Actor(), st.ID, d.ID)
	require.NoError(t, err)
	moved("a verification")
}
