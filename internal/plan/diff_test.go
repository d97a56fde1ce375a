package plan_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/bangfu/bangfu"
	"github.com/bangfu/bangfu/internal/plan"
)

func TestCompare(t *testing.T) {
	t.Parallel()
	day := func(d int) *bangfu.Date { v := bangfu.NewDate(2026, 6, d); return &v }
	a := plan.Revision{Revision: 1, CadenceDays: 7, Note: "初版", Goals: []string{"落实就业", "完成简历"}, Measures: []plan.Measure{
		{Kind: "career_guidance", Description: "简历指导", Owner: "王老师", DueOn: day(10), Status: "planned"},
		{Kind: "job_referral", Description: "推荐岗位", Owner: "王老师", Status: "planned"},
		{Kind: "hongzhi_training", Description: "宏志助航", Owner: "李明", Status: "planned"},
	}}
	b := plan.Revision{Revision: 2, CadenceDays: 7, Note: "初版", Goals: []string{"落实就业", "参加招聘会"}, Measures: []plan.Measure{
		{Kind: "career_guidance", Description: "简历指导", Owner: "王老师", DueOn: day(10), Status: "done"},
		{Kind: "job_referral", Description: "推荐岗位", Owner: "王老师", Status: "planned"},
		{Kind: "skills_training", Description: "技能培训", Owner: "李明", DueOn: day(20), Status: "planned"},
	}}
	d := plan.Compare(a, b)
	require.True(t, d.Changed())
	require.False(t, d.CadenceChanged)
	require.False(t, d.NoteChanged)
	require.Equal(t, []plan.GoalChange{{"落实就业", plan.Same}, {"参加招聘会", plan.Added}, {"完成简历", plan.Removed}}, d.Goals)
	require.Len(t, d.Measures, 4)
	require.Equal(t, plan.Changed, d.Measures[0].Change)
	require.Equal(t, []string{"status"}, d.Measures[0].Fields)
	require.Equal(t, plan.Same, d.Measures[1].Change)
	require.Equal(t, plan.Added, d.Measures[2].Change)
	require.Nil(t, d.Measures[2].From)
	require.Equal(t, plan.Removed, d.Measures[3].Change)
	require.Equal(t, "宏志助航", d.Measures[3].From.Description)

	require.False(t, plan.Compare(a, a).Changed(), "a revision equals itself")
	c := a
	c.CadenceDays, c.Measures = 14, append([]plan.Measure{}, a.Measures...)
	c.Measures[1].DueOn = day(30)
	d = plan.Compare(a, c)
	require.True(t, d.CadenceChanged)
	require.Equal(t, []string{"due_on"}, d.Measures[1].Fields)
}
