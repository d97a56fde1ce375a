package ledger_test

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/bangfu/bangfu"
	"github.com/bangfu/bangfu/internal/apptest"
	"github.com/bangfu/bangfu/internal/graduate"
	"github.com/bangfu/bangfu/internal/ledger"
)

// TestReviewFiltersByGraduate: the review's filters on the graduate's file
// (department, counselor, hardship category, overdue) keep exactly the
// entries about matching graduates, and never widen the actor's scope.
func TestReviewFiltersByGraduate(t *testing.T) {
	t.Parallel()
	env := apptest.New(t)
	ctx := t.Context()
	school, other := env.MustSchool(t), env.MustSchool(t)
	d1, d2 := env.MustDepartment(t, school.ID), env.MustDepartment(t, school.ID)
	supervisor := env.MustUser(t, bangfu.RoleSupervisor, &school.ID)
	wang := env.MustUser(t, bangfu.RoleCounselor, &school.ID)
	li := env.MustUser(t, bangfu.RoleCounselor, &school.ID)
	elsewhere := env.MustUser(t, bangfu.RoleCounselor, &other.ID)
	province := env.MustUser(t, bangfu.RoleProvince, nil)

	inD1 := env.MustStudent(t, wang, graduate.Input{DepartmentID: &d1.ID})
	inD2 := env.MustStudent(t, li, graduate.Input{DepartmentID: &d2.ID})
	poor := env.MustStudent(t, li, graduate.Input{DepartmentID: &d2.ID})
	far := env.MustStudent(t, elsewhere)

	// poor has verified 低保 evidence; inD1 has unverified 低保 evidence,
	// which does not count.
	h, err := env.App.Graduates.AddHardship(ctx, li.Actor(), poor.ID, graduate.HardshipInput{Category: "dibao", EvidenceType: "低保证", IssuingAuthority: "民政局"})
	require.NoError(t, err)
	_, err = env.App.Graduates.VerifyHardship(ctx, supervisor.Actor(), poor.ID, h.ID, graduate.Verification{Decision: "verified"})
	require.NoError(t, err)
	_, err = env.App.Graduates.AddHardship(ctx, wang.Actor(), inD1.ID, graduate.HardshipInput{Category: "dibao", EvidenceType: "低保证", IssuingAuthority: "民政局"})
	require.NoError(t, err)
	require.NoError(t, graduate.MarkOverdue(ctx, env.App.DB.Pool, inD2.ID))

	note := func(by bangfu.Actor, id int64) {
		_, err := env.App.Ledger.Append(ctx, by, id, ledger.Input{Kind: "note", OccurredAt: env.Clock.Now(), Summary: "记录"})
		require.NoError(t, err)
	}
	note(wang.Actor(), inD1.ID)
	note(li.Actor(), inD2.ID)
	note(li.Actor(), poor.ID)
	note(elsewhere.Actor(), far.ID)

	about := func(a bangfu.Actor, f ledger.ReviewFilter) []int64 {
		t.Helper()
		page, err := env.App.Ledger.Review(ctx, a, f, "", 50)
		require.NoError(t, err)
		var ids []int64
		for _, e := range page.Items {
			ids = append(ids, e.StudentID)
		}
		return ids
	}
	yes, no := true, false
	sup := supervisor.Actor()
	require.ElementsMatch(t, []int64{inD1.ID, inD2.ID, poor.ID}, about(sup, ledger.ReviewFilter{}))
	require.ElementsMatch(t, []int64{inD1.ID}, about(sup, ledger.ReviewFilter{DepartmentID: &d1.ID}))
	require.ElementsMatch(t, []int64{inD2.ID, poor.ID}, about(sup, ledger.ReviewFilter{CounselorID: &li.ID}))
	require.ElementsMatch(t, []int64{poor.ID}, about(sup, ledger.ReviewFilter{Category: "dibao"}), "only verified evidence counts")
	require.ElementsMatch(t, []int64{inD2.ID}, about(sup, ledger.ReviewFilter{Overdue: &yes}))
	require.ElementsMatch(t, []int64{inD1.ID, poor.ID}, about(sup, ledger.ReviewFilter{Overdue: &no}))
	require.ElementsMatch(t, []int64{poor.ID}, about(sup, ledger.ReviewFilter{DepartmentID: &d2.ID, Category: "dibao", Overdue: &no}))
	require.Empty(t, about(sup, ledger.ReviewFilter{CounselorID: &elsewhere.ID}), "a filter never widens the scope")

	// A department supervisor's scope and a counselor's caseload combine
	// with the filters the same way.
	deptSup := env.MustDepartmentSupervisor(t, school.ID, d2.ID)
	require.ElementsMatch(t, []int64{inD2.ID}, about(deptSup.Actor(), ledger.ReviewFilter{Overdue: &yes}))
	require.Empty(t, about(deptSup.Actor(), ledger.ReviewFilter{DepartmentID: &d1.ID}))
	require.ElementsMatch(t, []int64{poor.ID}, about(li.Actor(), ledger.ReviewFilter{Category: "dibao"}))

	// Province: every school, the same filters.
	require.ElementsMatch(t, []int64{poor.ID}, about(province.Actor(), ledger.ReviewFilter{Category: "dibao"}))
	require.ElementsMatch(t, []int64{inD1.ID, inD2.ID, poor.ID, far.ID}, about(province.Actor(), ledger.ReviewFilter{}))

	// Paging walks the filtered entries without repeating or skipping one.
	first, err := env.App.Ledger.Review(ctx, sup, ledger.ReviewFilter{CounselorID: &li.ID}, "", 1)
	require.NoError(t, err)
	require.Len(t, first.Items, 1)
	require.NotEmpty(t, first.NextCursor)
	second, err := env.App.Ledger.Review(ctx, sup, ledger.ReviewFilter{CounselorID: &li.ID}, first.NextCursor, 1)
	require.NoError(t, err)
	require.Len(t, second.Items, 1)
	require.NotEqual(t, first.Items[0].StudentID, second.Items[0].StudentID)

	_, err = env.App.Ledger.Review(ctx, sup, ledger.ReviewFilter{Category: "rich"}, "", 50)
	require.Equal(t, map[string]string{"category": "must be one of " + joinedCategories()}, bangfu.FieldsOf(err))
}

func joinedCategories() string { return strings.Join(graduate.Categories, ", ") }
