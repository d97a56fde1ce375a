package graduate_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/bangfu/bangfu"
	"github.com/bangfu/bangfu/internal/apptest"
	"github.com/bangfu/bangfu/internal/graduate"
)

// TestPendingHardships: the queue of evidence waiting for a decision holds
// the unverified evidence of the graduates the actor sees, oldest first,
// and nothing once decided.
func TestPendingHardships(t *testing.T) {
	t.Parallel()
	env := apptest.New(t)
	ctx := t.Context()
	school, other := env.MustSchool(t), env.MustSchool(t)
	d1, d2 := env.MustDepartment(t, school.ID), env.MustDepartment(t, school.ID)
	supervisor := env.MustUser(t, bangfu.RoleSupervisor, &school.ID)
	counselor := env.MustUser(t, bangfu.RoleCounselor, &school.ID)
	elsewhere := env.MustUser(t, bangfu.RoleCounselor, &other.ID)
	province := env.MustUser(t, bangfu.RoleProvince, nil)
	st1 := env.MustStudent(t, counselor, graduate.Input{DepartmentID: &d1.ID, Name: "张三丰"})
	st2 := env.MustStudent(t, counselor, graduate.Input{DepartmentID: &d2.ID})
	far := env.MustStudent(t, elsewhere)

	add := func(by bangfu.Actor, id int64, category, cert string) graduate.Hardship {
		h, err := env.App.Graduates.AddHardship(ctx, by, id, graduate.HardshipInput{Category: category, EvidenceType: "证明",
			IssuingAuthority: "民政局", CertificateNo: cert, ValidUntil: "2026-12-31"})
		require.NoError(t, err)
		return h
	}
	h1 := add(counselor.Actor(), st1.ID, "dibao", "MZ-123456")
	h2 := add(counselor.Actor(), st2.ID, "disabled", "")
	add(elsewhere.Actor(), far.ID, "orphan", "")

	list := func(a bangfu.Actor) []graduate.PendingHardship {
		t.Helper()
		l, err := env.App.Graduates.PendingHardships(ctx, a, bangfu.Page{Limit: 50})
		require.NoError(t, err)
		n, err := env.App.Graduates.CountPendingHardships(ctx, a)
		require.NoError(t, err)
		require.Len(t, l.Items, n, "the count is the list's length")
		return l.Items
	}
	got := list(supervisor.Actor())
	require.Len(t, got, 2, "the school's evidence, not another school's")
	require.Equal(t, []int64{h1.ID, h2.ID}, []int64{got[0].ID, got[1].ID}, "oldest first")
	require.Equal(t, "张三丰", got[0].StudentName)
	require.Equal(t, graduate.Masked, got[0].CertificateNo, "certificate numbers stay masked")
	require.False(t, got[0].Expired)

	deptSup := env.MustDepartmentSupervisor(t, school.ID, d2.ID)
	got = list(deptSup.Actor())
	require.Len(t, got, 1)
	require.Equal(t, h2.ID, got[0].ID)

	got = list(province.Actor())
	require.Len(t, got, 3)
	require.NotEqual(t, "张三丰", got[0].StudentName, "province sees names masked")
	require.Contains(t, got[0].StudentName, "*")

	require.Empty(t, list(env.MustUser(t, bangfu.RoleAdmin, nil).Actor()), "admin sees no file")

	// Decided evidence leaves the queue, whichever the decision.
	_, err := env.App.Graduates.VerifyHardship(ctx, supervisor.Actor(), st1.ID, h1.ID, graduate.Verification{Decision: "verified"})
	require.NoError(t, err)
	_, err = env.App.Graduates.VerifyHardship(ctx, supervisor.Actor(), st2.ID, h2.ID, graduate.Verification{Decision: "rejected", Note: "证明不清晰"})
	require.NoError(t, err)
	require.Empty(t, list(supervisor.Actor()))

	// Paging: one at a time, in order.
	a := add(counselor.Actor(), st1.ID, "tekun", "")
	b := add(counselor.Actor(), st2.ID, "orphan", "")
	first, err := env.App.Graduates.PendingHardships(ctx, supervisor.Actor(), bangfu.Page{Limit: 1})
	require.NoError(t, err)
	require.Equal(t, a.ID, first.Items[0].ID)
	after, ok := bangfu.DecodeCursor(first.NextCursor)
	require.True(t, ok)
	second, err := env.App.Graduates.PendingHardships(ctx, supervisor.Actor(), bangfu.Page{Limit: 1, After: after})
	require.NoError(t, err)
	require.Equal(t, b.ID, second.Items[0].ID)
	require.Empty(t, second.NextCursor)

	// Expired evidence is flagged: it can only be rejected.
	env.Clock.Set(apptest.Start.AddDate(1, 0, 0))
	got = list(supervisor.Actor())
	require.True(t, got[0].Expired)
}
