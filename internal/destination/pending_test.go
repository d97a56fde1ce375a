package destination_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/bangfu/bangfu"
	"github.com/bangfu/bangfu/internal/apptest"
	"github.com/bangfu/bangfu/internal/destination"
	"github.com/bangfu/bangfu/internal/directory"
	"github.com/bangfu/bangfu/internal/graduate"
)

// TestPending: the queue of destinations to verify holds each graduate's
// current record until a supervisor verifies it, scoped like files.
func TestPending(t *testing.T) {
	t.Parallel()
	env := apptest.New(t)
	ctx := t.Context()
	school, other := env.MustSchool(t), env.MustSchool(t)
	d1, d2 := env.MustDepartment(t, school.ID), env.MustDepartment(t, school.ID)
	supervisor := env.MustUser(t, bangfu.RoleSupervisor, &school.ID)
	counselor := env.MustUser(t, bangfu.RoleCounselor, &school.ID)
	elsewhere := env.MustUser(t, bangfu.RoleCounselor, &other.ID)
	province := env.MustUser(t, bangfu.RoleProvince, nil)
	st1 := env.MustStudent(t, counselor, graduate.Input{DepartmentID: &d1.ID, Name: "王小明"})
	st2 := env.MustStudent(t, counselor, graduate.Input{DepartmentID: &d2.ID})
	env.MustStudent(t, counselor) // no destination yet: not pending
	far := env.MustStudent(t, elsewhere)

	put := func(by bangfu.Actor, id int64, base *int64, in destination.Input) destination.Destination {
		d, err := env.App.Destinations.Put(ctx, by, id, base, in)
		require.NoError(t, err)
		return d
	}
	first := put(counselor.Actor(), st1.ID, nil, destination.Input{Code: "70"})
	current := put(counselor.Actor(), st1.ID, &first.ID, destination.Input{Code: "80", ProofKind: "admission_notice", ProofRef: "录取通知书 2026-001"})
	put(counselor.Actor(), st2.ID, nil, destination.Input{Code: "76", ProofKind: "signed_statement", ProofRef: "承诺书"})
	put(elsewhere.Actor(), far.ID, nil, destination.Input{Code: "70"})

	list := func(a bangfu.Actor) []destination.Pending {
		t.Helper()
		l, err := env.App.Destinations.Pending(ctx, a, bangfu.Page{Limit: 50})
		require.NoError(t, err)
		n, err := env.App.Destinations.CountPending(ctx, a)
		require.NoError(t, err)
		require.Len(t, l.Items, n, "the count is the list's length")
		return l.Items
	}
	got := list(supervisor.Actor())
	require.Len(t, got, 2, "one per graduate of the school: superseded records are history")
	require.Equal(t, current.ID, got[0].ID)
	require.Equal(t, "80", got[0].Code)
	require.Equal(t, "王小明", got[0].StudentName)
	require.Equal(t, 2026, got[0].GraduationYear)
	require.Equal(t, st2.ID, got[1].StudentID)
	require.Equal(t, "placed", got[1].CaseStatus, "a recorded placement placed the case")
	require.Nil(t, got[1].Phase, "a placed case has no phase")

	deptSup, err := env.App.Directory.CreateUser(ctx, bangfu.Actor{}, directory.UserInput{Username: "dept.sup", Role: bangfu.RoleSupervisor,
		SchoolID: &school.ID, DepartmentID: &d1.ID, Password: apptest.Password})
	require.NoError(t, err)
	got = list(deptSup.Actor())
	require.Len(t, got, 1)
	require.Equal(t, st1.ID, got[0].StudentID)

	got = list(province.Actor())
	require.Len(t, got, 3)
	require.Contains(t, got[0].StudentName, "*", "province sees names masked")

	_, err = env.App.Destinations.Verify(ctx, supervisor.Actor(), st1.ID, current.ID)
	require.NoError(t, err)
	got = list(supervisor.Actor())
	require.Len(t, got, 1, "a verified record leaves the queue")
	require.Equal(t, st2.ID, got[0].StudentID)

	// A new record is pending again until it is verified; a 70 after the
	// placement reopens the case, which is after graduation from 1 July.
	put(counselor.Actor(), st1.ID, &current.ID, destination.Input{Code: "70"})
	env.Clock.Set(apptest.Start.AddDate(0, 1, 0))
	got = list(supervisor.Actor())
	require.Len(t, got, 2)
	require.Equal(t, "active", got[0].CaseStatus)
	require.Equal(t, graduate.PhaseAfterGraduation, *got[0].Phase)
}

func TestProofRules(t *testing.T) {
	t.Parallel()
	require.Equal(t, []string{"employment_agreement"}, destination.ProofFor("10"))
	require.Nil(t, destination.ProofFor("70"))
	require.True(t, destination.NeedsEmployer("11"))
	require.False(t, destination.NeedsEmployer("12"))
	codes := destination.CodeList()
	require.Len(t, codes, len(destination.Codes))
	require.Equal(t, "10", codes[0])
	require.Equal(t, []string{"70", "71", "72"}, codes[len(codes)-3:], "the unplaced codes last")
}
