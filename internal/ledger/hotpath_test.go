package ledger_test

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/bangfu/bangfu"
	"github.com/bangfu/bangfu/internal/apptest"
	"github.com/bangfu/bangfu/internal/graduate"
	"github.com/bangfu/bangfu/internal/ledger"
)

// TestAppendKeepsTheCaseActivity: appends keep the narrow case_activity row
// — head, counts, last contact, follow-up — what the ledger says, so that
// the file shows it, the chain verifies, and a PATCH based on a copy read
// before a contact is refused (the file's version moved).
func TestAppendKeepsTheCaseActivity(t *testing.T) {
	t.Parallel()
	env := apptest.New(t)
	ctx := t.Context()
	school := env.MustSchool(t)
	counselor := env.MustUser(t, bangfu.RoleCounselor, &school.ID)
	st := env.MustStudent(t, counselor)
	a := counselor.Actor()

	before, err := env.App.Graduates.Get(ctx, a, st.ID)
	require.NoError(t, err)
	first := env.Clock.Now().Add(-2 * time.Hour)
	inputs := []ledger.Input{
		{Kind: "contact", Channel: "phone", OccurredAt: first, Summary: "电话", NextFollowupOn: bangfu.Today(env.Clock).AddDays(3).String()},
		{Kind: "referral", OccurredAt: env.Clock.Now(), Summary: "推荐岗位", Referral: &ledger.Referral{Employer: "广州某公司", Position: "文员"}},
		{Kind: "contact", Channel: "wechat", OccurredAt: first.Add(-time.Hour), Summary: "补记一次更早的联系"},
		{Kind: "note", OccurredAt: env.Clock.Now(), Summary: "备注"},
	}
	for _, in := range inputs {
		_, err := env.App.Ledger.Append(ctx, a, st.ID, in)
		require.NoError(t, err)
	}
	_, err = env.App.Ledger.Correct(ctx, a, st.ID, 4, ledger.CorrectionInput{Summary: "更正", Reason: "写错了"})
	require.NoError(t, err)

	file, err := env.App.Graduates.Get(ctx, a, st.ID)
	require.NoError(t, err)
	require.Equal(t, 2, file.ContactsCount)
	require.Equal(t, 1, file.ReferralsCount)
	require.NotNil(t, file.LastContactAt)
	require.True(t, file.LastContactAt.Equal(first), "the latest contact, not the last entered: %s", file.LastContactAt)
	require.Greater(t, file.Version, before.Version, "the counts a file shows move its version")

	// The follow-up the file shows is the live River job's.
	require.NotNil(t, file.NextFollowupOn)
	job := env.FollowupJob(t, st.ID)
	var args struct {
		DueOn string `json:"due_on"`
	}
	require.NoError(t, json.Unmarshal(job.EncodedArgs, &args))
	require.Equal(t, file.NextFollowupOn.String(), args.DueOn)
	require.Equal(t, "scheduled", string(job.State))

	v, err := env.App.Ledger.Verify(ctx, a, st.ID)
	require.NoError(t, err)
	require.Equal(t, ledger.Verification{Intact: true, Entries: 5}, v)

	// A PATCH from the copy read before the contacts is stale.
	name := "改名"
	_, err = env.App.Graduates.Update(ctx, a, st.ID, before.Version, graduate.Patch{Name: &name})
	require.Equal(t, bangfu.EPRECONDITIONFAILED, bangfu.ErrorCode(err))
	_, err = env.App.Graduates.Update(ctx, a, st.ID, file.Version, graduate.Patch{Name: &name})
	require.NoError(t, err)
}

// TestEntriesFollowTheirGraduatesDepartment: entries carry the department
// of their graduate, so that a department supervisor's review finds them;
// when the graduate moves to another department (a PATCH or an import),
// their entries move with them — and the chain still verifies.
func TestEntriesFollowTheirGraduatesDepartment(t *testing.T) {
	t.Parallel()
	env := apptest.New(t)
	ctx := t.Context()
	school := env.MustSchool(t)
	d1, d2 := env.MustDepartment(t, school.ID), env.MustDepartment(t, school.ID)
	counselor := env.MustUser(t, bangfu.RoleCounselor, &school.ID)
	supervisor := env.MustUser(t, bangfu.RoleSupervisor, &school.ID)
	sup1, sup2 := env.MustDepartmentSupervisor(t, school.ID, d1.ID), env.MustDepartmentSupervisor(t, school.ID, d2.ID)

	mover := env.MustStudent(t, counselor, graduate.Input{DepartmentID: &d1.ID})
	stayer := env.MustStudent(t, counselor, graduate.Input{DepartmentID: &d1.ID})
	for _, id := range []int64{mover.ID, stayer.ID, mover.ID} {
		_, err := env.App.Ledger.Append(ctx, counselor.Actor(), id, ledger.Input{Kind: "contact", Channel: "phone",
			OccurredAt: env.Clock.Now(), Summary: "电话"})
		require.NoError(t, err)
	}
	reviewed := func(a bangfu.Actor) []int64 {
		t.Helper()
		page, err := env.App.Ledger.Review(ctx, a, ledger.ReviewFilter{Kind: "contact"}, "", 50)
		require.NoError(t, err)
		ids := []int64{}
		for _, e := range page.Items {
			ids = append(ids, e.StudentID)
		}
		return ids
	}
	require.ElementsMatch(t, []int64{mover.ID, stayer.ID, mover.ID}, reviewed(sup1.Actor()))
	require.Empty(t, reviewed(sup2.Actor()))

	// The supervisor moves the graduate to department 2.
	file, err := env.App.Graduates.Get(ctx, supervisor.Actor(), mover.ID)
	require.NoError(t, err)
	_, err = env.App.Graduates.Update(ctx, supervisor.Actor(), mover.ID, file.Version,
		graduate.Patch{DepartmentID: bangfu.Nullable[int64]{Set: true, Value: d2.ID}})
	require.NoError(t, err)
	require.ElementsMatch(t, []int64{stayer.ID}, reviewed(sup1.Actor()), "the moved graduate's entries left department 1")
	require.ElementsMatch(t, []int64{mover.ID, mover.ID}, reviewed(sup2.Actor()), "and are found in department 2")
	require.ElementsMatch(t, []int64{mover.ID, stayer.ID, mover.ID}, reviewed(supervisor.Actor()), "the school sees them all")

	// A later entry is filed under the new department too.
	_, err = env.App.Ledger.Append(ctx, counselor.Actor(), mover.ID, ledger.Input{Kind: "contact", Channel: "phone",
		OccurredAt: env.Clock.Now(), Summary: "再次电话"})
	require.NoError(t, err)
	require.Len(t, reviewed(sup2.Actor()), 3)

	v, err := env.App.Ledger.Verify(ctx, supervisor.Actor(), mover.ID)
	require.NoError(t, err)
	require.True(t, v.Intact, "the department is not part of the hashed content")

	// Anything else about an entry still cannot be rewritten.
	_, err = env.App.DB.Pool.Exec(ctx, `UPDATE ledger_entries SET summary = 'x' WHERE student_id = $1`, mover.ID)
	require.Error(t, err)
	_, err = env.App.DB.Pool.Exec(ctx, `UPDATE ledger_entries SET department_id = NULL, summary = 'x' WHERE student_id = $1`, mover.ID)
	require.Error(t, err)
	_, err = env.App.DB.Pool.Exec(ctx, `DELETE FROM ledger_entries WHERE student_id = $1`, mover.ID)
	require.Error(t, err)
}
