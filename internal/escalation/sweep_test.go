package escalation_test

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"
	"github.com/riverqueue/river/rivertest"
	"github.com/stretchr/testify/require"

	"github.com/bangfu/bangfu"
	"github.com/bangfu/bangfu/internal/apptest"
	"github.com/bangfu/bangfu/internal/destination"
	"github.com/bangfu/bangfu/internal/directory"
	"github.com/bangfu/bangfu/internal/escalation"
	"github.com/bangfu/bangfu/internal/followup"
	"github.com/bangfu/bangfu/internal/graduate"
	"github.com/bangfu/bangfu/internal/ledger"
	"github.com/bangfu/bangfu/internal/plan"
)

// world is one test's school: a supervisor, a counselor, province staff and
// an active case assigned to the counselor.
type world struct {
	env                             *apptest.Env
	supervisor, counselor, province directory.User
	student                         graduate.Student
}

// newWorld's case is of the graduation year in (2026 by default): tests
// of the in-school thresholds that run past 30 June use 2027.
func newWorld(t *testing.T, in ...graduate.Input) *world {
	t.Helper()
	env := apptest.New(t)
	school := env.MustSchool(t)
	w := &world{env: env,
		supervisor: env.MustUser(t, bangfu.RoleSupervisor, &school.ID),
		counselor:  env.MustUser(t, bangfu.RoleCounselor, &school.ID),
		province:   env.MustUser(t, bangfu.RoleProvince, nil),
	}
	w.student = env.MustActiveCase(t, w.counselor, in...)
	return w
}

// nextYear is a case that stays in school while these tests run (the
// clock starts on 1 June 2026).
var nextYear = graduate.Input{GraduationYear: 2027}

func (w *world) contact(t *testing.T, studentID int64, nextFollowup string) {
	t.Helper()
	_, err := w.env.App.Ledger.Append(t.Context(), w.counselor.Actor(), studentID, ledger.Input{
		Kind: "contact", Channel: "phone", OccurredAt: w.env.Clock.Now(), Summary: "电话联系", NextFollowupOn: nextFollowup,
	})
	require.NoError(t, err)
}

// levels returns the no-contact levels raised for a graduate.
func (w *world) levels(t *testing.T, id int64) []int {
	t.Helper()
	rows, err := w.env.App.DB.Pool.Query(t.Context(), `SELECT level FROM escalations WHERE student_id = $1 AND kind = 'no_contact' ORDER BY level`, id)
	require.NoError(t, err)
	ls, err := pgx.CollectRows(rows, pgx.RowTo[int])
	require.NoError(t, err)
	return ls
}

func planInput(cadence int, due ...string) plan.Input {
	in := plan.Input{Goals: []string{"落实就业"}, CadenceDays: cadence}
	for _, d := range due {
		in.Measures = append(in.Measures, plan.MeasureInput{Kind: "career_guidance", Description: "就业指导", Owner: "辅导员", DueOn: d})
	}
	return in
}

func destinationInput(code string) destination.Input {
	in := destination.Input{Code: code}
	if code == "80" {
		in.ProofKind, in.ProofRef = "admission_notice", "录取通知书 2026-001"
	}
	return in
}

func sumRaised(r escalation.Result) int {
	n := 0
	for _, v := range r.Raised {
		n += v
	}
	return n
}

// TestStalledCaseEscalatesOneLevelAtATime: a case with no contact goes
// reminder → level 1 → level 2 → level 3 as the clock moves, the
// supervisor sees and acknowledges, and a contact resolves it.
func TestStalledCaseEscalatesOneLevelAtATime(t *testing.T) {
	t.Parallel()
	w := newWorld(t, nextYear)
	env := w.env
	env.MustActiveCase(t, w.counselor, nextYear) // a second case, never contacted; active since Start
	w.contact(t, w.student.ID, "2026-06-08")

	// Day 7: the follow-up comes due: a reminder, no escalation yet.
	env.Clock.Set(time.Date(2026, 6, 8, 9, 0, 0, 0, bangfu.Shanghai))
	apptest.Work(t, env, &followup.DueWorker{DB: env.App.DB, Notify: env.App.Notify}, env.FollowupJob(t, w.student.ID))
	require.Len(t, env.Notifications(t, w.counselor, "followup_due"), 1)
	require.Zero(t, env.Sweep(t).Raised["no_contact"])

	// Day 14, 21, 35: one level each; sweeping again raises nothing twice.
	for _, step := range []struct {
		day    int
		levels []int
		who    directory.User
	}{
		{14, []int{1}, w.counselor},
		{21, []int{1, 2}, w.supervisor},
		{35, []int{1, 2, 3}, w.province},
	} {
		env.Clock.Set(apptest.Start.AddDate(0, 0, step.day).Add(time.Hour))
		env.Sweep(t)
		env.Sweep(t)
		require.Equal(t, step.levels, w.levels(t, w.student.ID), "day %d", step.day)
		require.NotEmpty(t, env.Notifications(t, step.who, "escalation"), "day %d: %s is told", step.day, step.who.Role)
	}
	var quietNotes int
	for _, n := range env.Notifications(t, w.counselor, "escalation") {
		if strings.Contains(n.Body, "未联系") {
			quietNotes++
		}
	}
	require.Equal(t, 2, quietNotes, "the counselor hears of each quiet case's level 1 once")

	// The supervisor sees and acknowledges the level-2 escalation through the API.
	sup := env.Token(t, w.supervisor)
	r := env.Get(t, "/api/v1/escalations?level=2&status=open", sup)
	require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
	var l struct {
		Items []struct {
			ID        int64 `json:"id"`
			StudentID int64 `json:"student_id"`
		} `json:"items"`
	}
	r.JSON(t, &l)
	require.Len(t, l.Items, 2, "both quiet cases")
	var level2 int64
	for _, it := range l.Items {
		if it.StudentID == w.student.ID {
			level2 = it.ID
		}
	}
	require.Equal(t, http.StatusForbidden, env.Post(t, fmt.Sprintf("/api/v1/escalations/%d/acknowledge", level2), env.Token(t, w.counselor), map[string]string{}).Status,
		"level 2 is the supervisors'")
	r = env.Post(t, fmt.Sprintf("/api/v1/escalations/%d/acknowledge", level2), sup, map[string]string{"note": "已约谈辅导员"})
	require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
	require.Equal(t, "acknowledged", r.Map(t)["status"])
	require.Equal(t, http.StatusConflict, env.Post(t, fmt.Sprintf("/api/v1/escalations/%d/acknowledge", level2), sup, map[string]string{}).Status)

	// A logged contact resolves the case's escalations, saying why.
	r = env.Post(t, fmt.Sprintf("/api/v1/students/%d/ledger", w.student.ID), env.Token(t, w.counselor), map[string]any{
		"kind": "contact", "channel": "home_visit", "occurred_at": env.Clock.Now().Format(time.RFC3339), "summary": "家访，了解近况"})
	require.Equal(t, http.StatusCreated, r.Status, "%s", r.Body)
	var open int
	var note string
	require.NoError(t, env.App.DB.Pool.QueryRow(t.Context(), `SELECT count(*) FILTER (WHERE status <> 'resolved'), max(resolve_note)
		FROM escalations WHERE student_id = $1 AND kind = 'no_contact'`, w.student.ID).Scan(&open, &note))
	require.Zero(t, open)
	require.Contains(t, note, "台账")
	require.Zero(t, env.Sweep(t).Raised["no_contact"], "the other case already reached level 3; this one is no longer quiet")
}

func TestSweepFromTwoProcessesAtOnce(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	for range 30 {
		w.env.MustActiveCase(t, w.counselor)
	}
	w.env.Clock.Set(apptest.Start.AddDate(0, 0, 15))
	var wg sync.WaitGroup
	for range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			tx, err := w.env.App.DB.Pool.Begin(context.Background())
			if !assertNoError(t, err) {
				return
			}
			defer tx.Rollback(context.Background())
			rw := rivertest.NewWorker(t, riverpgxv5.New(nil), &river.Config{}, river.Worker[escalation.SweepArgs](w.env.App.SweepWorker()))
			_, err = rw.Work(context.Background(), t, tx, escalation.SweepArgs{}, nil)
			if assertNoError(t, err) {
				assertNoError(t, tx.Commit(context.Background()))
			}
		}()
	}
	wg.Wait()
	var n int
	require.NoError(t, w.env.App.DB.Pool.QueryRow(t.Context(), `SELECT count(*) FROM escalations WHERE kind = 'no_contact'`).Scan(&n))
	require.Equal(t, 31, n, "each quiet case raised once")
	require.Len(t, w.env.Notifications(t, w.counselor, "escalation"), 31)
}

func assertNoError(t *testing.T, err error) bool {
	t.Helper()
	if err != nil {
		t.Error(err)
		return false
	}
	return true
}

func TestSweepFlagsAndClearsThem(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	env := w.env
	ctx := t.Context()
	c := w.counselor.Actor()
	w.contact(t, w.student.ID, "")
	_, err := env.App.Plans.Put(ctx, c, w.student.ID, nil, planInput(7, "2026-06-20"))
	require.NoError(t, err)
	_, err = env.App.Destinations.Put(ctx, c, w.student.ID, nil, destinationInput("70"))
	require.NoError(t, err)

	env.Clock.Set(time.Date(2026, 8, 1, 10, 0, 0, 0, bangfu.Shanghai))
	w.contact(t, w.student.ID, "") // not stalled: only the other flags
	res := env.Sweep(t)
	require.Equal(t, map[string]int{"measure_overdue": 1, "referrals_short": 1, "unplaced_after_july": 1}, res.Raised)
	require.Equal(t, 0, sumRaised(env.Sweep(t)), "the second sweep raises nothing")

	// Fix each condition; the next sweep clears the flags.
	for range 3 {
		_, err := env.App.Ledger.Append(ctx, c, w.student.ID, ledger.Input{Kind: "referral", OccurredAt: env.Clock.Now(), Summary: "推荐岗位",
			Referral: &ledger.Referral{Employer: "某公司", Position: "文员"}})
		require.NoError(t, err)
	}
	one := 1
	_, err = env.App.Plans.Put(ctx, c, w.student.ID, &one, planInput(7, "2026-09-30"))
	require.NoError(t, err)
	hist, err := env.App.Destinations.Get(ctx, c, w.student.ID)
	require.NoError(t, err)
	_, err = env.App.Destinations.Put(ctx, c, w.student.ID, &hist.Current.ID, destinationInput("80"))
	require.NoError(t, err)
	res = env.Sweep(t)
	require.Equal(t, 3, res.Cleared)
	var open int
	require.NoError(t, env.App.DB.Pool.QueryRow(ctx, `SELECT count(*) FROM escalations WHERE status <> 'resolved'`).Scan(&open))
	require.Zero(t, open)
}

// TestUnassignedCaseEscalatesToTheSupervisors: level 1 of a case without a
// counselor goes to the supervisors of its school, never to nobody.
func TestUnassignedCaseEscalatesToTheSupervisors(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	env := w.env
	st := env.MustActiveCase(t, w.supervisor)
	require.Nil(t, st.CounselorID)
	env.Clock.Set(apptest.Start.AddDate(0, 0, 15))
	env.Sweep(t)
	var got []int64
	for _, n := range env.Notifications(t, w.supervisor, "escalation") {
		got = append(got, *n.StudentID)
	}
	require.Contains(t, got, st.ID, "the supervisor hears of the unassigned case's level 1")
	require.Len(t, env.Notifications(t, w.counselor, "escalation"), 1, "the counselor hears only of their own case")
}

// TestLevelsKeepTheirSpacing: a level of an episode is raised only once the
// level below it has stood for the difference between their thresholds,
// however often the sweep runs (a worker restart runs it at once), so that
// level 2 never follows level 1 by seconds.
func TestLevelsKeepTheirSpacing(t *testing.T) {
	t.Parallel()
	w := newWorld(t, nextYear) // active since Start, never contacted, never swept
	env := w.env
	env.Clock.Set(apptest.Start.AddDate(0, 0, 25)) // past the level-2 threshold (21 days)
	env.Sweep(t)
	require.Equal(t, []int{1}, w.levels(t, w.student.ID))
	env.Sweep(t) // a restart sweeps again at once
	require.Equal(t, []int{1}, w.levels(t, w.student.ID), "no level 2 seconds after level 1")

	env.Clock.Set(apptest.Start.AddDate(0, 0, 32).Add(-time.Minute))
	env.Sweep(t)
	require.Equal(t, []int{1}, w.levels(t, w.student.ID), "level 2 waits 21 - 14 = 7 days after level 1")
	env.Clock.Set(apptest.Start.AddDate(0, 0, 32))
	env.Sweep(t)
	env.Sweep(t)
	require.Equal(t, []int{1, 2}, w.levels(t, w.student.ID))
	env.Clock.Set(apptest.Start.AddDate(0, 0, 46).Add(-time.Minute))
	env.Sweep(t)
	require.Equal(t, []int{1, 2}, w.levels(t, w.student.ID), "level 3 waits 35 - 21 = 14 days after level 2")
	env.Clock.Set(apptest.Start.AddDate(0, 0, 46))
	env.Sweep(t)
	require.Equal(t, []int{1, 2, 3}, w.levels(t, w.student.ID))
}

// TestUnplacedAfterJulyCoversEveryUnplacedGraduate: after 31 July, every
// graduate of the year in the caseload without a placing destination is
// flagged — no record yet, or 70, 71 or 72 — not only those of 70.
func TestUnplacedAfterJulyCoversEveryUnplacedGraduate(t *testing.T) {
	t.Parallel()
	w := newWorld(t) // w.student: no destination yet
	env := w.env
	ctx := t.Context()
	c := w.counselor.Actor()
	flagged := map[int64]string{w.student.ID: "none"}
	for _, code := range []string{"70", "71", "72"} {
		st := env.MustActiveCase(t, w.counselor)
		_, err := env.App.Destinations.Put(ctx, c, st.ID, nil, destinationInput(code))
		require.NoError(t, err)
		flagged[st.ID] = code
	}
	placed := env.MustActiveCase(t, w.counselor)
	_, err := env.App.Destinations.Put(ctx, c, placed.ID, nil, destinationInput("80"))
	require.NoError(t, err)
	closed := env.MustStudent(t, w.counselor)
	s := "closed"
	_, err = env.App.Graduates.Update(ctx, c, closed.ID, closed.Version, graduate.Patch{Status: &s})
	require.NoError(t, err)

	env.Clock.Set(time.Date(2026, 7, 31, 23, 0, 0, 0, bangfu.Shanghai))
	require.Zero(t, env.Sweep(t).Raised["unplaced_after_july"], "not before 1 August")
	env.Clock.Set(time.Date(2026, 8, 1, 10, 0, 0, 0, bangfu.Shanghai))
	require.Equal(t, len(flagged), env.Sweep(t).Raised["unplaced_after_july"])
	rows, err := env.App.DB.Pool.Query(ctx, `SELECT student_id FROM escalations WHERE kind = 'unplaced_after_july'`)
	require.NoError(t, err)
	ids, err := pgx.CollectRows(rows, pgx.RowTo[int64])
	require.NoError(t, err)
	require.Len(t, ids, len(flagged))
	for _, id := range ids {
		require.Contains(t, flagged, id)
	}

	// A placement clears its flag, and only its.
	_, err = env.App.Destinations.Put(ctx, c, w.student.ID, nil, destinationInput("80"))
	require.NoError(t, err)
	env.Sweep(t)
	var open []int64
	rows, err = env.App.DB.Pool.Query(ctx, `SELECT student_id FROM escalations WHERE kind = 'unplaced_after_july' AND status <> 'resolved'`)
	require.NoError(t, err)
	open, err = pgx.CollectRows(rows, pgx.RowTo[int64])
	require.NoError(t, err)
	require.Len(t, open, len(flagged)-1)
	require.NotContains(t, open, w.student.ID)
}

// TestAfterGraduationThresholdsFollowTheCadence: after graduation the
// follow-ups come monthly, and the stall thresholds stretch by the same
// factor (30/14: 30, 45 and 75 days by default).
func TestAfterGraduationThresholdsFollowTheCadence(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	env := w.env
	env.Clock.Set(time.Date(2026, 7, 1, 10, 0, 0, 0, bangfu.Shanghai))
	w.contact(t, w.student.ID, "")
	env.Clock.Set(time.Date(2026, 7, 20, 10, 0, 0, 0, bangfu.Shanghai))
	env.Sweep(t)
	require.Empty(t, w.levels(t, w.student.ID), "19 days without contact are within the monthly cadence")
	env.Clock.Set(time.Date(2026, 7, 31, 10, 0, 0, 0, bangfu.Shanghai))
	env.Sweep(t)
	require.Equal(t, []int{1}, w.levels(t, w.student.ID), "30 days: level 1")
	env.Clock.Set(time.Date(2026, 8, 15, 9, 0, 0, 0, bangfu.Shanghai))
	env.Sweep(t)
	require.Equal(t, []int{1}, w.levels(t, w.student.ID), "level 2 at 45 days")
	env.Clock.Set(time.Date(2026, 8, 15, 11, 0, 0, 0, bangfu.Shanghai))
	env.Sweep(t)
	require.Equal(t, []int{1, 2}, w.levels(t, w.student.ID))
}

// TestSweepReadsTheCaseAsItsFileSays: the sweep decides from the narrow
// case_activity copy, which follows every change of the file that matters
// to it — a status change, an activation (the quiet spell starts again),
// a new graduation year (the thresholds after graduation), a destination.
func TestSweepReadsTheCaseAsItsFileSays(t *testing.T) {
	t.Parallel()
	w := newWorld(t, nextYear)
	env := w.env
	ctx := t.Context()
	c := w.counselor.Actor()
	opened := env.MustStudent(t, w.counselor, nextYear)       // open, never contacted
	graduated := env.MustActiveCase(t, w.counselor, nextYear) // will become a 2025 graduate
	closed := env.MustActiveCase(t, w.counselor, nextYear)
	patch := func(id int64, p graduate.Patch) {
		t.Helper()
		f, err := env.App.Graduates.Get(ctx, c, id)
		require.NoError(t, err)
		_, err = env.App.Graduates.Update(ctx, c, id, f.Version, p)
		require.NoError(t, err)
	}

	env.Clock.Advance(10 * 24 * time.Hour)
	active, y2025, closedStatus := "active", 2025, "closed"
	patch(opened.ID, graduate.Patch{Status: &active})           // quiet since now, not since it was created
	patch(graduated.ID, graduate.Patch{GraduationYear: &y2025}) // after graduation: 30 days
	env.Clock.Advance(5 * 24 * time.Hour)                       // 15 days after the start
	res := env.Sweep(t)
	require.Equal(t, 2, res.Raised["no_contact"], "the case quiet 15 days in school and the one closed later")
	require.Equal(t, []int{1}, w.levels(t, w.student.ID))
	require.Equal(t, []int{1}, w.levels(t, closed.ID))
	require.Empty(t, w.levels(t, opened.ID), "activated 5 days ago")
	require.Empty(t, w.levels(t, graduated.ID), "after graduation the first threshold is 30 days")

	// A case that leaves the caseload has its flags cleared, and is not
	// raised again.
	patch(closed.ID, graduate.Patch{Status: &closedStatus})
	env.Clock.Advance(10 * 24 * time.Hour)
	res = env.Sweep(t)
	require.Equal(t, 1, res.Cleared)
	require.Equal(t, 2, res.Raised["no_contact"], "the activated case, 15 days quiet now, and level 2 of the first")
	require.Equal(t, []int{1}, w.levels(t, opened.ID))
	require.Equal(t, []int{1, 2}, w.levels(t, w.student.ID))
	require.Empty(t, w.levels(t, graduated.ID), "25 days after graduation")
	var open int
	require.NoError(t, env.App.DB.Pool.QueryRow(ctx, `SELECT count(*) FROM escalations WHERE student_id = $1 AND status <> 'resolved'`, closed.ID).Scan(&open))
	require.Zero(t, open)

	// A contact resolves at once and starts a new quiet spell.
	w.contact(t, opened.ID, "")
	require.NoError(t, env.App.DB.Pool.QueryRow(ctx, `SELECT count(*) FROM escalations WHERE student_id = $1 AND status <> 'resolved'`, opened.ID).Scan(&open))
	require.Zero(t, open)
	require.Zero(t, env.Sweep(t).Raised["no_contact"])
}

// TestSweepTellsWhoAnswersForTheCase: level 1 goes to the case's counselor
// or, when it has none that is enabled, to the enabled supervisors of its
// department and the school-wide ones; level 2 to those supervisors
// whatever the counselor. Nobody else hears of it: not a supervisor of
// another department or school, not a disabled one.
func TestSweepTellsWhoAnswersForTheCase(t *testing.T) {
	t.Parallel()
	env := apptest.New(t)
	ctx := t.Context()
	school, other := env.MustSchool(t), env.MustSchool(t)
	deptA, deptB := env.MustDepartment(t, school.ID), env.MustDepartment(t, school.ID)
	disable := func(u directory.User) {
		t.Helper()
		yes := true
		_, err := env.App.Directory.UpdateUser(ctx, bangfu.Actor{}, u.ID, u.Version, directory.UserPatch{Disabled: &yes})
		require.NoError(t, err)
	}
	schoolWide := env.MustUser(t, bangfu.RoleSupervisor, &school.ID)
	ofA := env.MustDepartmentSupervisor(t, school.ID, deptA.ID)
	ofB := env.MustDepartmentSupervisor(t, school.ID, deptB.ID)
	disabledOfA := env.MustDepartmentSupervisor(t, school.ID, deptA.ID)
	elsewhere := env.MustUser(t, bangfu.RoleSupervisor, &other.ID)
	counselor := env.MustUser(t, bangfu.RoleCounselor, &school.ID)
	leaving := env.MustUser(t, bangfu.RoleCounselor, &school.ID)
	in := graduate.Input{GraduationYear: 2027, DepartmentID: &deptA.ID}
	kept := env.MustActiveCase(t, counselor, in)
	orphaned := env.MustActiveCase(t, leaving, in)
	disable(leaving)
	disable(disabledOfA)

	told := func() map[string][]string {
		t.Helper()
		out := map[string][]string{}
		for name, u := range map[string]directory.User{"school-wide": schoolWide, "of A": ofA, "of B": ofB, "disabled of A": disabledOfA,
			"elsewhere": elsewhere, "counselor": counselor, "leaving": leaving} {
			for _, n := range env.Notifications(t, u, "escalation") {
				who := map[int64]string{kept.ID: "kept", orphaned.ID: "orphaned"}[*n.StudentID]
				level, _, _ := strings.Cut(n.Title, "：")
				out[name] = append(out[name], who+" "+level)
			}
		}
		for _, l := range out {
			slices.Sort(l)
		}
		return out
	}

	env.Clock.Set(apptest.Start.AddDate(0, 0, 15))
	require.Equal(t, 2, env.Sweep(t).Raised["no_contact"])
	require.Equal(t, map[string][]string{
		"counselor":   {"kept 一级升级"},
		"school-wide": {"orphaned 一级升级"},
		"of A":        {"orphaned 一级升级"},
	}, told())

	env.Clock.Set(apptest.Start.AddDate(0, 0, 22).Add(time.Hour))
	require.Equal(t, 2, env.Sweep(t).Raised["no_contact"])
	require.Equal(t, map[string][]string{
		"counselor":   {"kept 一级升级"},
		"school-wide": {"kept 二级升级", "orphaned 一级升级", "orphaned 二级升级"},
		"of A":        {"kept 二级升级", "orphaned 一级升级", "orphaned 二级升级"},
	}, told())
}

// TestDepartmentListFollowsTheGraduate: a department supervisor's list
// and counts read the escalations by their own department (migration
// 0025): raised with the graduate's, and moved when the graduate changes
// department, so the list is the same as the graduates' department says.
func TestDepartmentListFollowsTheGraduate(t *testing.T) {
	t.Parallel()
	env := apptest.New(t)
	ctx := t.Context()
	school := env.MustSchool(t)
	deptA, deptB := env.MustDepartment(t, school.ID), env.MustDepartment(t, school.ID)
	ofA, ofB := env.MustDepartmentSupervisor(t, school.ID, deptA.ID), env.MustDepartmentSupervisor(t, school.ID, deptB.ID)
	schoolWide := env.MustUser(t, bangfu.RoleSupervisor, &school.ID)
	counselor := env.MustUser(t, bangfu.RoleCounselor, &school.ID)
	st := env.MustActiveCase(t, counselor, graduate.Input{GraduationYear: 2027, DepartmentID: &deptA.ID})
	env.Clock.Set(apptest.Start.AddDate(0, 0, 15))
	require.Equal(t, 1, env.Sweep(t).Raised["no_contact"])

	listed := func(u directory.User) []int64 {
		t.Helper()
		l, err := env.App.Escalations.List(ctx, u.Actor(), escalation.Filter{Status: "open"}, bangfu.Page{Limit: 50})
		require.NoError(t, err)
		out := []int64{}
		for _, e := range l.Items {
			out = append(out, e.StudentID)
		}
		return out
	}
	counted := func(u directory.User) int {
		t.Helper()
		n, err := env.App.Escalations.CountOpen(ctx, u.Actor())
		require.NoError(t, err)
		return n[0]
	}
	require.Equal(t, []int64{st.ID}, listed(ofA))
	require.Empty(t, listed(ofB))
	require.Equal(t, 1, counted(ofA))

	cur, err := env.App.Graduates.Get(ctx, counselor.Actor(), st.ID)
	require.NoError(t, err)
	_, err = env.App.Graduates.Update(ctx, schoolWide.Actor(), st.ID, cur.Version,
		graduate.Patch{DepartmentID: bangfu.Nullable[int64]{Set: true, Value: deptB.ID}})
	require.NoError(t, err)
	require.Empty(t, listed(ofA), "the escalation moved with its graduate")
	require.Equal(t, []int64{st.ID}, listed(ofB))
	require.Equal(t, 0, counted(ofA))
	require.Equal(t, 1, counted(ofB))
}
