package graduate_test

import (
	"slices"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"

	"github.com/bangfu/bangfu"
	"github.com/bangfu/bangfu/internal/apptest"
	"github.com/bangfu/bangfu/internal/directory"
	"github.com/bangfu/bangfu/internal/escalation"
	"github.com/bangfu/bangfu/internal/graduate"
	"github.com/bangfu/bangfu/internal/ledger"
)

// urgencyCase is a counselor's caseload built day by day through the
// services, so that every urgency signal is what the product would
// produce: follow-ups scheduled by contacts, escalations raised by the
// sweep and resolved by contacts.
type urgencyCase struct {
	env                  *apptest.Env
	counselor, colleague directory.User
	supervisor, province directory.User
	dept                 directory.Department
	g                    map[string]graduate.Student
	theirs               graduate.Student
	day                  func(int)
	today                bangfu.Date
	contact              func(name string, next string)
	sweep                func()
	ids                  func(names ...string) []int64
	rows                 func(a bangfu.Actor, f graduate.CaseloadFilter) []int64
}

func newUrgencyCase(t *testing.T) *urgencyCase {
	t.Helper()
	env := apptest.New(t)
	ctx := t.Context()
	school := env.MustSchool(t)
	u := &urgencyCase{env: env, g: map[string]graduate.Student{}}
	u.dept = env.MustDepartment(t, school.ID)
	u.counselor = env.MustUser(t, bangfu.RoleCounselor, &school.ID)
	u.colleague = env.MustUser(t, bangfu.RoleCounselor, &school.ID)
	u.supervisor = env.MustUser(t, bangfu.RoleSupervisor, &school.ID)
	u.province = env.MustUser(t, bangfu.RoleProvince, nil)
	c := u.counselor.Actor()
	u.day = func(d int) { env.Clock.Set(apptest.Start.AddDate(0, 0, d)) }
	u.contact = func(name, next string) {
		_, err := env.App.Ledger.Append(ctx, c, u.g[name].ID, ledger.Input{Kind: "contact", Channel: "phone",
			OccurredAt: env.Clock.Now(), Summary: "电话联系", NextFollowupOn: next})
		require.NoError(t, err)
	}
	u.sweep = func() {
		require.NoError(t, env.App.DB.InTx(ctx, func(tx pgx.Tx) error {
			_, err := env.App.SweepWorker().Sweep(ctx, tx)
			return err
		}))
	}
	activate := func(name string) {
		st := u.g[name]
		active := "active"
		st, err := env.App.Graduates.Update(ctx, c, st.ID, st.Version, graduate.Patch{Status: &active})
		require.NoError(t, err)
		u.g[name] = st
	}
	create := func(name string, in graduate.Input) {
		in.Name = "学生" + name
		u.g[name] = env.MustStudent(t, u.counselor, in)
	}
	date := func(d int) string { return bangfu.DateOf(apptest.Start.AddDate(0, 0, d)).String() }

	// Day 0: five active cases, none contacted.
	u.day(0)
	for _, name := range []string{"甲", "乙", "丙", "丁", "戊"} {
		in := graduate.Input{}
		if name == "乙" {
			in.DepartmentID = &u.dept.ID
		}
		create(name, in)
		activate(name)
	}
	u.theirs = env.MustStudent(t, u.colleague)
	// Days 14 and 21: the sweep raises every quiet case to level 2.
	u.day(14)
	u.sweep()
	u.day(21)
	u.sweep()
	// Day 21: contacts resolve three of them; 甲 is due on day 23, 乙 on
	// day 30, 丁 after the default cadence (14 days: day 35).
	u.contact("甲", date(23))
	u.contact("乙", date(30))
	u.contact("丁", "")
	// 戊 is closed, its escalation still open.
	st := u.g["戊"]
	closed := "closed"
	st, err := env.App.Graduates.Update(ctx, c, st.ID, st.Version, graduate.Patch{Status: &closed})
	require.NoError(t, err)
	u.g["戊"] = st
	// Day 24: 己 is new and not contacted yet; 庚 was contacted on arrival.
	u.day(24)
	create("己", graduate.Input{})
	create("庚", graduate.Input{})
	activate("庚")
	u.contact("庚", "")
	// Today is day 25.
	u.day(25)
	u.today = bangfu.Today(env.Clock)

	u.ids = func(names ...string) []int64 {
		out := []int64{}
		for _, n := range names {
			out = append(out, u.g[n].ID)
		}
		return out
	}
	u.rows = func(a bangfu.Actor, f graduate.CaseloadFilter) []int64 {
		l, err := env.App.Graduates.Caseload(ctx, a, f, "", 200)
		require.NoError(t, err)
		out := []int64{}
		for _, r := range l.Items {
			out = append(out, r.ID)
		}
		return out
	}
	return u
}

func TestCaseloadIsInUrgencyOrder(t *testing.T) {
	t.Parallel()
	u := newUrgencyCase(t)
	ctx := t.Context()
	c := u.counselor.Actor()

	// Overdue first (丙's first follow-up, day 14, and 甲's, day 23, have
	// passed without a contact), the higher open escalation first among
	// them; then the highest open escalation (active before closed); then
	// never contacted; then the longest since the last contact (a tie in
	// id order).
	want := u.ids("丙", "甲", "戊", "己", "乙", "丁", "庚")
	require.Equal(t, want, u.rows(c, graduate.CaseloadFilter{}))

	l, err := u.env.App.Graduates.Caseload(ctx, c, graduate.CaseloadFilter{}, "", 10)
	require.NoError(t, err)
	byID := map[int64]graduate.CaseloadRow{}
	for _, r := range l.Items {
		byID[r.ID] = r
	}
	first := byID[u.g["甲"].ID]
	require.True(t, first.Overdue)
	require.Equal(t, bangfu.DateOf(apptest.Start.AddDate(0, 0, 23)), *first.NextFollowupOn)
	require.Equal(t, 0, first.EscalationLevel, "the contact resolved 甲's escalation")
	require.Equal(t, 2, byID[u.g["丙"].ID].EscalationLevel)
	require.True(t, byID[u.g["丙"].ID].Overdue, "a new case's first follow-up came due without a contact")
	require.Nil(t, byID[u.g["己"].ID].LastContactAt)
	require.Equal(t, "closed", byID[u.g["戊"].ID].Status)
	require.False(t, byID[u.g["戊"].ID].Overdue)

	// Keyset paging walks the same order without gaps or repeats.
	var paged []int64
	after := ""
	for range 10 {
		l, err := u.env.App.Graduates.Caseload(ctx, c, graduate.CaseloadFilter{}, after, 2)
		require.NoError(t, err)
		for _, r := range l.Items {
			paged = append(paged, r.ID)
		}
		if l.NextCursor == "" {
			break
		}
		after = l.NextCursor
	}
	require.Equal(t, want, paged)

	// A contact moves a graduate down: 甲 is no longer overdue.
	u.contact("甲", "")
	require.Equal(t, u.ids("丙", "戊", "己", "乙", "丁", "庚", "甲"), u.rows(c, graduate.CaseloadFilter{}))

	// Files out of the caseload with no escalation come last, never
	// contacted first, and a page walks into them from the others (the
	// second statement of a page) without a gap or a repeat.
	closed := "closed"
	var tail []int64
	for _, contacted := range []bool{true, false} {
		st := u.env.MustStudent(t, u.counselor)
		if contacted {
			_, err := u.env.App.Ledger.Append(ctx, c, st.ID, ledger.Input{Kind: "contact", Channel: "phone", OccurredAt: u.env.Clock.Now(), Summary: "电话"})
			require.NoError(t, err)
		}
		f, err := u.env.App.Graduates.Get(ctx, c, st.ID)
		require.NoError(t, err)
		_, err = u.env.App.Graduates.Update(ctx, c, st.ID, f.Version, graduate.Patch{Status: &closed})
		require.NoError(t, err)
		tail = append([]int64{st.ID}, tail...)
	}
	want = append(u.ids("丙", "戊", "己", "乙", "丁", "庚", "甲"), tail...)
	require.Equal(t, want, u.rows(c, graduate.CaseloadFilter{}))
	for _, size := range []int{2, 3, 8} {
		paged, after = nil, ""
		for range 10 {
			l, err := u.env.App.Graduates.Caseload(ctx, c, graduate.CaseloadFilter{}, after, size)
			require.NoError(t, err)
			for _, r := range l.Items {
				paged = append(paged, r.ID)
			}
			if l.NextCursor == "" {
				break
			}
			after = l.NextCursor
		}
		require.Equal(t, want, paged, "pages of %d", size)
	}
	ids, err := u.env.App.Graduates.CaseloadIDs(ctx, c, graduate.CaseloadFilter{}, 100)
	require.NoError(t, err)
	require.Equal(t, want, ids)
	require.Empty(t, u.rows(c, graduate.CaseloadFilter{Due: graduate.DueOverdue, Status: "closed"}))
}

func TestCaseloadFiltersAndCounts(t *testing.T) {
	t.Parallel()
	u := newUrgencyCase(t)
	ctx := t.Context()
	c := u.counselor.Actor()

	require.Equal(t, u.ids("丙", "甲"), u.rows(c, graduate.CaseloadFilter{Due: graduate.DueOverdue}))
	require.Equal(t, u.ids("乙"), u.rows(c, graduate.CaseloadFilter{Due: graduate.DueWeek}), "due on day 30, within 7 days of day 25")
	require.Equal(t, u.ids("丙", "戊"), u.rows(c, graduate.CaseloadFilter{Escalated: true}))
	require.Equal(t, u.ids("戊"), u.rows(c, graduate.CaseloadFilter{Status: "closed"}))
	require.Equal(t, u.ids("乙"), u.rows(c, graduate.CaseloadFilter{DepartmentID: &u.dept.ID}))
	require.Equal(t, u.ids("丙"), u.rows(c, graduate.CaseloadFilter{Q: "学生丙"}))
	require.Equal(t, u.ids("丙"), u.rows(c, graduate.CaseloadFilter{Q: u.g["丙"].StudentNumber}))
	require.Empty(t, u.rows(c, graduate.CaseloadFilter{Q: "%"}), "LIKE wildcards are literal")
	require.Empty(t, u.rows(c, graduate.CaseloadFilter{Category: "dibao"}))
	h, err := u.env.App.Graduates.AddHardship(ctx, c, u.g["丁"].ID, graduate.HardshipInput{Category: "dibao", EvidenceType: "低保证", IssuingAuthority: "民政局"})
	require.NoError(t, err)
	require.Empty(t, u.rows(c, graduate.CaseloadFilter{Category: "dibao"}), "unverified evidence does not count")
	_, err = u.env.App.Graduates.VerifyHardship(ctx, u.supervisor.Actor(), u.g["丁"].ID, h.ID, graduate.Verification{Decision: "verified"})
	require.NoError(t, err)
	require.Equal(t, u.ids("丁"), u.rows(c, graduate.CaseloadFilter{Category: "dibao"}))
	l, err := u.env.App.Graduates.Caseload(ctx, c, graduate.CaseloadFilter{Category: "dibao"}, "", 10)
	require.NoError(t, err)
	require.Equal(t, []string{"dibao"}, l.Items[0].Categories)

	n, err := u.env.App.Graduates.CaseloadCounts(ctx, c)
	require.NoError(t, err)
	require.Equal(t, graduate.CaseloadCounts{Overdue: 2, DueThisWeek: 1, Escalated: 2, Total: 7}, n)

	// Every count is what its filter lists.
	ids, err := u.env.App.Graduates.CaseloadIDs(ctx, c, graduate.CaseloadFilter{Escalated: true}, 500)
	require.NoError(t, err)
	require.Len(t, ids, n.Escalated)
	_, err = u.env.App.Graduates.CaseloadIDs(ctx, c, graduate.CaseloadFilter{}, 3)
	require.Equal(t, "matches more than 3 graduates: narrow it", bangfu.FieldsOf(err)["filter"], "a group action never acts on part of a filter")

	for f, field := range map[*graduate.CaseloadFilter]string{
		{Status: "gone"}:              "status",
		{Category: "rich"}:            "category",
		{Due: "tomorrow"}:             "due",
		{Q: string(make([]rune, 51))}: "q",
	} {
		_, err := u.env.App.Graduates.Caseload(ctx, c, *f, "", 10)
		require.Equal(t, bangfu.EINVALID, bangfu.ErrorCode(err))
		require.Contains(t, bangfu.FieldsOf(err), field)
	}
	_, err = u.env.App.Graduates.Caseload(ctx, c, graduate.CaseloadFilter{}, "bm90IGEgY3Vyc29y", 10)
	require.Equal(t, "is not a cursor returned by this list", bangfu.FieldsOf(err)["cursor"])
}

func TestCaseloadIsScoped(t *testing.T) {
	t.Parallel()
	u := newUrgencyCase(t)
	ctx := t.Context()
	require.Equal(t, []int64{u.theirs.ID}, u.rows(u.colleague.Actor(), graduate.CaseloadFilter{}), "a counselor sees only their own graduates")
	require.Len(t, u.rows(u.supervisor.Actor(), graduate.CaseloadFilter{}), 8, "a supervisor sees the school")
	mine := u.counselor.ID
	require.Len(t, u.rows(u.supervisor.Actor(), graduate.CaseloadFilter{CounselorID: &mine}), 7)
	require.Empty(t, u.rows(u.colleague.Actor(), graduate.CaseloadFilter{CounselorID: &mine}), "a filter never widens the scope")
	require.Empty(t, u.rows(u.env.MustUser(t, bangfu.RoleAdmin, nil).Actor(), graduate.CaseloadFilter{}))

	l, err := u.env.App.Graduates.Caseload(ctx, u.province.Actor(), graduate.CaseloadFilter{}, "", 50)
	require.NoError(t, err)
	require.Len(t, l.Items, 8)
	for _, r := range l.Items {
		require.NotEqual(t, u.g["丙"].Name, r.Name)
		require.Contains(t, r.StudentNumber, "*", "province sees numbers masked")
	}
	n, err := u.env.App.Graduates.CaseloadCounts(ctx, u.colleague.Actor())
	require.NoError(t, err)
	require.Equal(t, graduate.CaseloadCounts{Overdue: 1, Escalated: 1, Total: 1}, n, "their quiet case is overdue and escalated too")
}

func TestCaseloadIsAudited(t *testing.T) {
	t.Parallel()
	u := newUrgencyCase(t)
	ctx := t.Context()
	before := countAudit(t, u.env, "student.list")
	l, err := u.env.App.Graduates.Caseload(ctx, u.counselor.Actor(), graduate.CaseloadFilter{}, "", 2)
	require.NoError(t, err)
	_, err = u.env.App.Graduates.Caseload(ctx, u.counselor.Actor(), graduate.CaseloadFilter{}, l.NextCursor, 2)
	require.NoError(t, err)
	u.env.App.AuditReads.Flush()
	require.Equal(t, before+1, countAudit(t, u.env, "student.list"), "one audit entry per search, not per page")
}

func countAudit(t *testing.T, env *apptest.Env, action string) int {
	t.Helper()
	var n int
	require.NoError(t, env.App.DB.Pool.QueryRow(t.Context(), `SELECT count(*) FROM audit_log WHERE action = $1`, action).Scan(&n))
	return n
}

// TestCaseloadRowsShowThePhase: a caseload row carries the phase the file
// has (PhaseOf): in school up to 30 June of the graduation year, after
// graduation from 1 July while the case is open or active, none once it
// left the caseload.
func TestCaseloadRowsShowThePhase(t *testing.T) {
	t.Parallel()
	env := apptest.New(t)
	ctx := t.Context()
	school := env.MustSchool(t)
	counselor := env.MustUser(t, bangfu.RoleCounselor, &school.ID)
	c := counselor.Actor()
	left := env.MustStudent(t, counselor, graduate.Input{GraduationYear: 2026})
	staying := env.MustStudent(t, counselor, graduate.Input{GraduationYear: 2027})
	closedCase := env.MustStudent(t, counselor, graduate.Input{GraduationYear: 2026})
	closed := "closed"
	_, err := env.App.Graduates.Update(ctx, c, closedCase.ID, closedCase.Version, graduate.Patch{Status: &closed})
	require.NoError(t, err)

	phases := func() map[int64]*string {
		l, err := env.App.Graduates.Caseload(ctx, c, graduate.CaseloadFilter{}, "", 50)
		require.NoError(t, err)
		out := map[int64]*string{}
		for _, r := range l.Items {
			out[r.ID] = r.Phase
			st, err := env.App.Graduates.Get(ctx, c, r.ID)
			require.NoError(t, err)
			require.Equal(t, st.Phase, r.Phase, "the row and the file agree on %d", r.ID)
		}
		return out
	}
	inSchool, after := graduate.PhaseInSchool, graduate.PhaseAfterGraduation
	require.Equal(t, map[int64]*string{left.ID: &inSchool, staying.ID: &inSchool, closedCase.ID: nil}, phases(), "1 June 2026")

	env.Clock.Set(apptest.Start.AddDate(0, 1, 0)) // 1 July 2026
	require.Equal(t, map[int64]*string{left.ID: &after, staying.ID: &inSchool, closedCase.ID: nil}, phases(), "1 July 2026")
}

// TestCaseloadRowFollowsEscalationsAndEvidence: the level and categories a
// row shows are kept on the graduate's case_activity row by the database
// (migration 0021) — they follow every way escalations and evidence
// change: an acknowledgement keeps the level, resolving lowers it to the
// next open one and then to none; evidence counts once verified, and only
// until its last valid day.
func TestCaseloadRowFollowsEscalationsAndEvidence(t *testing.T) {
	t.Parallel()
	u := newUrgencyCase(t)
	ctx := t.Context()
	c, sup := u.counselor.Actor(), u.supervisor.Actor()
	row := func(name string) graduate.CaseloadRow {
		t.Helper()
		l, err := u.env.App.Graduates.Caseload(ctx, c, graduate.CaseloadFilter{}, "", 50)
		require.NoError(t, err)
		for _, r := range l.Items {
			if r.ID == u.g[name].ID {
				return r
			}
		}
		t.Fatalf("%s is not in the caseload", name)
		return graduate.CaseloadRow{}
	}
	require.Equal(t, 2, row("丙").EscalationLevel)

	open, err := u.env.App.Escalations.List(ctx, sup, escalation.Filter{}, bangfu.Page{Limit: 100})
	require.NoError(t, err)
	var mine []escalation.Escalation
	for _, e := range open.Items {
		if e.StudentID == u.g["丙"].ID && e.Status != "resolved" {
			mine = append(mine, e)
		}
	}
	require.Len(t, mine, 2, "丙's sweep raised levels 1 and 2")
	slices.SortFunc(mine, func(a, b escalation.Escalation) int { return b.Level - a.Level })

	_, err = u.env.App.Escalations.Acknowledge(ctx, sup, mine[0].ID, "在跟进")
	require.NoError(t, err)
	require.Equal(t, 2, row("丙").EscalationLevel, "an acknowledged escalation is still open")
	_, err = u.env.App.Escalations.Resolve(ctx, sup, mine[0].ID, "已联系")
	require.NoError(t, err)
	require.Equal(t, 1, row("丙").EscalationLevel, "the next open level shows")
	_, err = u.env.App.Escalations.Resolve(ctx, sup, mine[1].ID, "已联系")
	require.NoError(t, err)
	require.Equal(t, 0, row("丙").EscalationLevel)
	require.NotContains(t, u.rows(c, graduate.CaseloadFilter{Escalated: true}), u.g["丙"].ID)

	tomorrow := u.today.AddDays(1).String()
	h, err := u.env.App.Graduates.AddHardship(ctx, c, u.g["丙"].ID, graduate.HardshipInput{Category: "disabled",
		EvidenceType: "残疾证", IssuingAuthority: "残联", ValidUntil: tomorrow})
	require.NoError(t, err)
	require.Empty(t, row("丙").Categories, "unverified evidence shows no category")
	_, err = u.env.App.Graduates.VerifyHardship(ctx, sup, u.g["丙"].ID, h.ID, graduate.Verification{Decision: "verified"})
	require.NoError(t, err)
	require.Equal(t, []string{"disabled"}, row("丙").Categories)
	u.day(27) // past its last valid day, before the expiry job has run
	require.Empty(t, row("丙").Categories, "expired evidence shows no category")
}

// TestCaseloadFollowsTheCounselor: a counselor's caseload is read by
// counselor from case_activity's copy of the counselor (migration 0024);
// a reassignment moves the graduate from one caseload to the other at
// once, urgency and all, as an update of the file's counselor does.
func TestCaseloadFollowsTheCounselor(t *testing.T) {
	t.Parallel()
	u := newUrgencyCase(t)
	ctx := t.Context()
	mine, theirs := u.counselor.Actor(), u.colleague.Actor()
	_, err := u.env.App.Graduates.Reassign(ctx, u.supervisor.Actor(), graduate.Reassignment{
		StudentIDs: []int64{u.g["丙"].ID}, CounselorID: &u.colleague.ID})
	require.NoError(t, err)
	require.Equal(t, u.ids("甲", "戊", "己", "乙", "丁", "庚"), u.rows(mine, graduate.CaseloadFilter{}))
	require.Equal(t, []int64{u.g["丙"].ID, u.theirs.ID}, u.rows(theirs, graduate.CaseloadFilter{}), "丙 comes first: overdue, level 2")
	require.Equal(t, []int64{u.g["丙"].ID, u.theirs.ID}, u.rows(u.supervisor.Actor(), graduate.CaseloadFilter{CounselorID: &u.colleague.ID}))
	n, err := u.env.App.Graduates.CaseloadCounts(ctx, theirs)
	require.NoError(t, err)
	require.Equal(t, graduate.CaseloadCounts{Overdue: 2, Escalated: 2, Total: 2}, n)
}
