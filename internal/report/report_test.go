package report_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/bangfu/bangfu"
	"github.com/bangfu/bangfu/internal/apptest"
	"github.com/bangfu/bangfu/internal/config"
	"github.com/bangfu/bangfu/internal/destination"
	"github.com/bangfu/bangfu/internal/directory"
	"github.com/bangfu/bangfu/internal/graduate"
	"github.com/bangfu/bangfu/internal/report"
)

// verified records code for st as by and has supervisor verify it.
func verified(t *testing.T, env *apptest.Env, by, supervisor directory.User, st graduate.Student, in destination.Input) {
	t.Helper()
	d := put(t, env, by, st, in)
	_, err := env.App.Destinations.Verify(t.Context(), supervisor.Actor(), st.ID, d.ID)
	require.NoError(t, err)
}

// put records a destination for st as by, on top of whatever is current.
func put(t *testing.T, env *apptest.Env, by directory.User, st graduate.Student, in destination.Input) destination.Destination {
	t.Helper()
	var base *int64
	var current int64
	if err := env.App.DB.Pool.QueryRow(t.Context(), `SELECT coalesce(destination_id, 0) FROM students WHERE id = $1`, st.ID).Scan(&current); err == nil && current != 0 {
		base = &current
	}
	d, err := env.App.Destinations.Put(t.Context(), by.Actor(), st.ID, base, in)
	require.NoError(t, err)
	return d
}

var (
	studying = destination.Input{Code: "80", ProofKind: "admission_notice", ProofRef: "LQ-1"}
	waiting  = destination.Input{Code: "70"}
)

func TestRatesAndProcessMeasures(t *testing.T) {
	t.Parallel()
	env := apptest.New(t)
	ctx := t.Context()
	school, other := env.MustSchool(t), env.MustSchool(t)
	supervisor := env.MustUser(t, bangfu.RoleSupervisor, &school.ID)
	counselor := env.MustUser(t, bangfu.RoleCounselor, &school.ID)
	elsewhere := env.MustUser(t, bangfu.RoleCounselor, &other.ID)
	province := env.MustUser(t, bangfu.RoleProvince, nil)
	c := counselor.Actor()

	placed := env.MustActiveCase(t, counselor)
	verified(t, env, counselor, supervisor, placed, studying)
	notYet := env.MustActiveCase(t, counselor, graduate.Input{EducationLevel: "shuoshi"})
	put(t, env, counselor, notYet, studying)
	w := env.MustActiveCase(t, counselor)
	put(t, env, counselor, w, waiting)
	h, err := env.App.Graduates.AddHardship(ctx, c, w.ID, graduate.HardshipInput{Category: "disabled", EvidenceType: "残疾人证", IssuingAuthority: "残联"})
	require.NoError(t, err)
	_, err = env.App.Graduates.VerifyHardship(ctx, supervisor.Actor(), w.ID, h.ID, graduate.Verification{})
	require.NoError(t, err)
	env.MustActiveCase(t, counselor, graduate.Input{GraduationYear: 2027}) // another year: not in 2026's rate
	env.MustActiveCase(t, elsewhere)

	sum, err := env.App.Reports.Count(ctx, supervisor.Actor(), report.Filter{})
	require.NoError(t, err)
	require.Equal(t, "school", sum.Scope)
	require.Equal(t, 2026, sum.GraduationYear)
	require.Equal(t, report.RuleVersion, sum.RuleVersion)
	require.Equal(t, report.Rate{Graduates: 3, Placed: 1, Pending: 1, Rate: 1.0 / 3, Target: 0.7}, sum.Overall,
		"only the verified 80 is placed; the unverified one waits apart; 70 is neither")
	require.Equal(t, []report.Group{{Code: "disabled", Name: "残疾", Rate: report.Rate{Graduates: 1, Target: 0.7}}}, sum.ByCategory)
	require.Equal(t, []report.Group{
		{Code: "benke", Name: "本科", Rate: report.Rate{Graduates: 2, Placed: 1, Rate: 0.5, Target: 0.7}},
		{Code: "shuoshi", Name: "硕士", Rate: report.Rate{Graduates: 1, Pending: 1, Target: 0.7}},
	}, sum.ByEducation)
	require.Equal(t, []report.Group{
		{Year: 2026, Name: "2026届", Rate: report.Rate{Graduates: 3, Placed: 1, Pending: 1, Rate: 1.0 / 3, Target: 0.7}},
		{Year: 2027, Name: "2027届", Rate: report.Rate{Graduates: 1, Target: 0.7}},
	}, sum.ByYear)
	require.Len(t, sum.ByDepartment, 1, "the files in no department")
	require.Equal(t, 2, sum.Process.OpenCases, "open cases of every year; a recorded placement leaves the caseload, verified or not")
	require.Len(t, sum.Counselors, 1)
	require.Equal(t, 2, sum.Counselors[0].OpenCases)

	prov, err := env.App.Reports.Count(ctx, province.Actor(), report.Filter{})
	require.NoError(t, err)
	require.Equal(t, 4, prov.Overall.Graduates)
	require.Len(t, prov.BySchool, 2)
	require.Empty(t, prov.ByDepartment, "departments are shown within a school")
	require.Empty(t, prov.Counselors, "no per-counselor rows across the province")

	// After 31 July the December target applies.
	env.Clock.Set(time.Date(2026, 8, 1, 9, 0, 0, 0, bangfu.Shanghai))
	sum, err = env.App.Reports.Count(ctx, supervisor.Actor(), report.Filter{})
	require.NoError(t, err)
	require.Equal(t, 0.9, sum.Targets.Current)
	require.Equal(t, 0.9, sum.Overall.Target)
	require.Equal(t, 0.7, sum.ByYear[1].Target, "2027's graduates are still before their July")
	_, err = env.App.Reports.Summary(ctx, supervisor.Actor(), report.Filter{GraduationYear: 1999})
	require.Equal(t, map[string]string{"graduation_year": "must be a year like 2026"}, bangfu.FieldsOf(err))
	tomorrow := bangfu.Today(env.Clock).AddDays(1)
	_, err = env.App.Reports.Summary(ctx, supervisor.Actor(), report.Filter{AsOf: &tomorrow})
	require.Contains(t, bangfu.FieldsOf(err)["as_of"], "must not be later than today")
}

// TestUnverifiedDestinationsApartFromTheRate: a graduate's own report and
// a counselor's record wait as 待核实 until a supervisor verifies them; a
// correction to 70 takes a placement out of the rate at once.
func TestUnverifiedDestinationsApartFromTheRate(t *testing.T) {
	t.Parallel()
	env := apptest.New(t)
	ctx := t.Context()
	school := env.MustSchool(t)
	supervisor := env.MustUser(t, bangfu.RoleSupervisor, &school.ID)
	counselor := env.MustUser(t, bangfu.RoleCounselor, &school.ID)
	reporter := env.MustActiveCase(t, counselor)
	account, err := env.App.Graduates.CreateAccount(ctx, env.App.Directory, counselor.Actor(), reporter.ID,
		graduate.AccountInput{Username: "reporter", Password: apptest.Password})
	require.NoError(t, err)
	_, err = env.App.Destinations.Put(ctx, account.Actor(), reporter.ID, nil, destination.Input{Code: "76", ProofKind: "signed_statement", ProofRef: "本人承诺"})
	require.NoError(t, err)
	recorded := env.MustActiveCase(t, counselor)
	put(t, env, counselor, recorded, studying)

	count := func() report.Rate {
		t.Helper()
		sum, err := env.App.Reports.Count(ctx, supervisor.Actor(), report.Filter{})
		require.NoError(t, err)
		return sum.Overall
	}
	require.Equal(t, report.Rate{Graduates: 2, Pending: 2, Target: 0.7}, count(), "reported and recorded: 待核实, rate 0")
	var current int64
	require.NoError(t, env.App.DB.Pool.QueryRow(ctx, `SELECT destination_id FROM students WHERE id = $1`, recorded.ID).Scan(&current))
	_, err = env.App.Destinations.Verify(ctx, supervisor.Actor(), recorded.ID, current)
	require.NoError(t, err)
	require.Equal(t, report.Rate{Graduates: 2, Placed: 1, Pending: 1, Rate: 0.5, Target: 0.7}, count())
	put(t, env, supervisor, recorded, waiting)
	require.Equal(t, report.Rate{Graduates: 2, Pending: 1, Target: 0.7}, count(), "the placement fell through")
}

// TestAsOf: a past day's figures come from the destination history — what
// was current then, and whether it was verified by then — whatever
// happened since.
func TestAsOf(t *testing.T) {
	t.Parallel()
	env := apptest.New(t)
	ctx := t.Context()
	school := env.MustSchool(t)
	supervisor := env.MustUser(t, bangfu.RoleSupervisor, &school.ID)
	counselor := env.MustUser(t, bangfu.RoleCounselor, &school.ID)
	a := env.MustActiveCase(t, counselor)
	b := env.MustActiveCase(t, counselor)
	h, err := env.App.Graduates.AddHardship(ctx, counselor.Actor(), a.ID, graduate.HardshipInput{Category: "dibao", EvidenceType: "低保证",
		IssuingAuthority: "民政局", ValidUntil: "2026-06-10"})
	require.NoError(t, err)
	day := func(n int) bangfu.Date { return bangfu.NewDate(2026, time.June, n) }
	at := func(n int) { env.Clock.Set(day(n).At(10, 0)) }

	at(2) // a: recorded 80
	put(t, env, counselor, a, studying)
	_, err = env.App.Graduates.VerifyHardship(ctx, supervisor.Actor(), a.ID, h.ID, graduate.Verification{})
	require.NoError(t, err)
	at(3) // a: verified
	var current int64
	require.NoError(t, env.App.DB.Pool.QueryRow(ctx, `SELECT destination_id FROM students WHERE id = $1`, a.ID).Scan(&current))
	_, err = env.App.Destinations.Verify(ctx, supervisor.Actor(), a.ID, current)
	require.NoError(t, err)
	at(5) // a: corrected to 70; b: verified 80
	put(t, env, supervisor, a, waiting)
	verified(t, env, counselor, supervisor, b, studying)
	env.MustActiveCase(t, counselor) // c: a file created on the 5th
	at(20)

	asOf := func(n int) report.Summary {
		t.Helper()
		d := day(n)
		sum, err := env.App.Reports.Count(ctx, supervisor.Actor(), report.Filter{AsOf: &d})
		require.NoError(t, err)
		require.Equal(t, d, sum.AsOf)
		return sum
	}
	require.Equal(t, report.Rate{Graduates: 2, Pending: 1, Target: 0.7}, asOf(2).Overall, "recorded, not verified yet")
	require.Equal(t, report.Rate{Graduates: 2, Placed: 1, Rate: 0.5, Target: 0.7}, asOf(3).Overall)
	require.Equal(t, report.Rate{Graduates: 2, Placed: 1, Rate: 0.5, Target: 0.7}, asOf(4).Overall)
	require.Equal(t, report.Rate{Graduates: 3, Placed: 1, Rate: 1.0 / 3, Target: 0.7}, asOf(5).Overall, "a corrected, b placed, c counted")
	require.Len(t, asOf(3).ByCategory, 1, "the category counted while its evidence was valid")
	require.Empty(t, asOf(11).ByCategory, "and not after it expired")
	require.Empty(t, asOf(1).ByCategory, "nor before it was verified")

	live, err := env.App.Reports.Count(ctx, supervisor.Actor(), report.Filter{})
	require.NoError(t, err)
	require.Equal(t, asOf(19).Figures.Overall, live.Overall)
}

// TestLiveAndHistoryAgree: today's figures come from the files, a past
// day's from the history; on a day nothing changed they are the same.
func TestLiveAndHistoryAgree(t *testing.T) {
	t.Parallel()
	env := apptest.New(t)
	ctx := t.Context()
	var supervisors []directory.User
	province := env.MustUser(t, bangfu.RoleProvince, nil)
	for range 2 {
		school := env.MustSchool(t)
		dept := env.MustDepartment(t, school.ID)
		supervisor := env.MustUser(t, bangfu.RoleSupervisor, &school.ID)
		counselor := env.MustUser(t, bangfu.RoleCounselor, &school.ID)
		supervisors = append(supervisors, supervisor)
		levels := []string{"zhuanke", "benke", "shuoshi"}
		inputs := []destination.Input{studying, waiting, {Code: "72"}, {Code: "46", ProofKind: "enlistment_notice", ProofRef: "ZB-1"}}
		for i := range 12 {
			in := graduate.Input{EducationLevel: levels[i%3], GraduationYear: 2025 + i%2}
			if i%2 == 0 {
				in.DepartmentID = &dept.ID
			}
			st := env.MustActiveCase(t, counselor, in)
			// (2025's destinations are past 31 August: the supervisor's.)
			switch i % 4 {
			case 0:
				verified(t, env, supervisor, supervisor, st, inputs[i%len(inputs)])
			case 1:
				put(t, env, supervisor, st, inputs[(i+1)%len(inputs)])
			case 2:
				verified(t, env, supervisor, supervisor, st, studying)
				put(t, env, supervisor, st, inputs[i%len(inputs)]) // superseded
			}
			if i%3 == 0 {
				h, err := env.App.Graduates.AddHardship(ctx, counselor.Actor(), st.ID, graduate.HardshipInput{Category: graduate.Categories[i%4],
					EvidenceType: "证明", IssuingAuthority: "民政局"})
				require.NoError(t, err)
				if i%2 == 0 {
					_, err = env.App.Graduates.VerifyHardship(ctx, supervisor.Actor(), st.ID, h.ID, graduate.Verification{})
					require.NoError(t, err)
				}
			}
		}
	}
	for _, u := range append(supervisors, province) {
		for _, year := range []int{2025, 2026} {
			live, err := env.App.Reports.Count(ctx, u.Actor(), report.Filter{GraduationYear: year})
			require.NoError(t, err)
			today := bangfu.Today(env.Clock)
			env.Clock.Advance(24 * time.Hour)
			past, err := env.App.Reports.Count(ctx, u.Actor(), report.Filter{GraduationYear: year, AsOf: &today})
			require.NoError(t, err)
			env.Clock.Advance(-24 * time.Hour)
			require.Equal(t, live.Figures, past.Figures, "%s %d", u.Role, year)
			require.Equal(t, live.ByYear, past.ByYear)
		}
	}
}

// TestStaffingCheck: a school whose full-time employment staff serve more
// than 500 graduates of the year each (postgraduates included) is flagged;
// one that recorded none is flagged apart.
func TestStaffingCheck(t *testing.T) {
	t.Parallel()
	env := apptest.New(t)
	ctx := t.Context()
	big, small, silent := env.MustSchool(t), env.MustSchool(t), env.MustSchool(t)
	supervisor := env.MustUser(t, bangfu.RoleSupervisor, &big.ID)
	admin := env.MustUser(t, bangfu.RoleAdmin, nil)
	province := env.MustUser(t, bangfu.RoleProvince, nil)
	var csv strings.Builder
	csv.WriteString("student_number,name,id_number,education_level,graduation_year\n")
	for i := range 1001 {
		level := "benke"
		if i%10 == 0 {
			level = "shuoshi" // postgraduates count too
		}
		fmt.Fprintf(&csv, "S%05d,学生%d,%s,%s,2026\n", i, i, env.IDNumber(), level)
	}
	_, err := env.App.Graduates.Import(ctx, supervisor.Actor(), "csv", []byte(csv.String()), false)
	require.NoError(t, err)
	env.MustStudent(t, env.MustUser(t, bangfu.RoleCounselor, &small.ID))
	two, three, one := 2, 3, 1
	rec, err := env.App.Reports.PutStaffing(ctx, supervisor.Actor(), big.ID, 2026, nil, report.StaffingInput{Staff: &two})
	require.NoError(t, err)
	require.Equal(t, 1, rec.Version)
	_, err = env.App.Reports.PutStaffing(ctx, admin.Actor(), small.ID, 2026, nil, report.StaffingInput{Staff: &one})
	require.NoError(t, err)

	check := func() map[int64]report.Staffing {
		t.Helper()
		l, err := env.App.Reports.StaffingOf(ctx, province.Actor(), 2026)
		require.NoError(t, err)
		out := map[int64]report.Staffing{}
		for _, s := range l.Items {
			out[s.SchoolID] = s
		}
		return out
	}
	st := check()
	require.Equal(t, 1001, st[big.ID].Graduates)
	require.Equal(t, 3, st[big.ID].Required)
	require.False(t, st[big.ID].Meets, "2 staff for 1,001 graduates is below 1:500")
	require.InDelta(t, 500.5, *st[big.ID].GraduatesPerStaff, 1e-9)
	require.True(t, st[small.ID].Meets)
	require.Nil(t, st[silent.ID].Staff, "nothing recorded")
	require.False(t, st[silent.ID].Meets)

	sum, err := env.App.Reports.Count(ctx, province.Actor(), report.Filter{})
	require.NoError(t, err)
	require.Equal(t, report.StaffingCheck{Schools: 3, Below: 1, NotRecorded: 1}, sum.StaffingCheck, "the summary keeps it")

	// A change is based on the version read; a stale one is refused.
	_, err = env.App.Reports.PutStaffing(ctx, supervisor.Actor(), big.ID, 2026, nil, report.StaffingInput{Staff: &three})
	require.Equal(t, bangfu.EPRECONDITIONREQ, bangfu.ErrorCode(err))
	stale := 7
	_, err = env.App.Reports.PutStaffing(ctx, supervisor.Actor(), big.ID, 2026, &stale, report.StaffingInput{Staff: &three})
	require.Equal(t, bangfu.EPRECONDITIONFAILED, bangfu.ErrorCode(err))
	rec, err = env.App.Reports.PutStaffing(ctx, supervisor.Actor(), big.ID, 2026, &rec.Version, report.StaffingInput{Staff: &three})
	require.NoError(t, err)
	require.Equal(t, 2, rec.Version)
	require.True(t, check()[big.ID].Meets, "3 staff for 1,001 graduates")

	// Only an admin or the school's own supervisor records it.
	_, err = env.App.Reports.PutStaffing(ctx, supervisor.Actor(), small.ID, 2026, nil, report.StaffingInput{Staff: &three})
	require.Equal(t, bangfu.ENOTFOUND, bangfu.ErrorCode(err), "another school's")
	_, err = env.App.Reports.PutStaffing(ctx, province.Actor(), big.ID, 2026, nil, report.StaffingInput{Staff: &three})
	require.Equal(t, bangfu.EFORBIDDEN, bangfu.ErrorCode(err))
	_, err = env.App.Reports.PutStaffing(ctx, admin.Actor(), big.ID, 2026, &rec.Version, report.StaffingInput{})
	require.Equal(t, map[string]string{"staff": "is required: the number of full-time employment guidance staff"}, bangfu.FieldsOf(err))
	var audited int
	require.NoError(t, env.App.DB.Pool.QueryRow(ctx, `SELECT count(*) FROM audit_log WHERE action = $1 AND school_id = $2`,
		report.AuditStaffing, big.ID).Scan(&audited))
	require.Equal(t, 2, audited)
	mine, err := env.App.Reports.StaffingOf(ctx, supervisor.Actor(), 2026)
	require.NoError(t, err)
	require.Len(t, mine.Items, 1, "a supervisor sees their own school")
}

// TestEveryReadOfASummaryIsAudited: a summary served from the cache is a
// read of case data all the same.
func TestEveryReadOfASummaryIsAudited(t *testing.T) {
	t.Parallel()
	env := apptest.New(t)
	ctx := t.Context()
	school := env.MustSchool(t)
	supervisor := env.MustUser(t, bangfu.RoleSupervisor, &school.ID)
	counselor := env.MustUser(t, bangfu.RoleCounselor, &school.ID)
	env.MustActiveCase(t, counselor)
	first, err := env.App.Reports.Summary(ctx, supervisor.Actor(), report.Filter{})
	require.NoError(t, err)
	env.MustActiveCase(t, counselor)
	again, err := env.App.Reports.Summary(ctx, supervisor.Actor(), report.Filter{})
	require.NoError(t, err)
	require.Equal(t, first.ComputedAt, again.ComputedAt, "served from the cache")
	env.App.AuditReads.Flush()
	var n int
	require.NoError(t, env.App.DB.Pool.QueryRow(ctx, `SELECT count(*) FROM audit_log WHERE action = 'report.read' AND actor_id = $1 AND school_id = $2`,
		supervisor.ID, school.ID).Scan(&n))
	require.Equal(t, 2, n)
}

// TestReportCacheOff: with BANGFU_REPORT_CACHE=false (how make bench
// measures the uncached report) every read counts afresh, and is audited.
func TestReportCacheOff(t *testing.T) {
	t.Parallel()
	env := apptest.New(t, apptest.Options{Config: func(c *config.Config) { c.ReportCache = false }})
	ctx := t.Context()
	school := env.MustSchool(t)
	supervisor := env.MustUser(t, bangfu.RoleSupervisor, &school.ID)
	counselor := env.MustUser(t, bangfu.RoleCounselor, &school.ID)
	env.MustActiveCase(t, counselor)
	first, err := env.App.Reports.Summary(ctx, supervisor.Actor(), report.Filter{})
	require.NoError(t, err)
	env.MustActiveCase(t, counselor)
	again, err := env.App.Reports.Summary(ctx, supervisor.Actor(), report.Filter{})
	require.NoError(t, err)
	require.Equal(t, first.Overall.Graduates+1, again.Overall.Graduates, "counted afresh: the new graduate is in")
	env.App.AuditReads.Flush()
	var n int
	require.NoError(t, env.App.DB.Pool.QueryRow(ctx, `SELECT count(*) FROM audit_log WHERE action = 'report.read' AND actor_id = $1`,
		supervisor.ID).Scan(&n))
	require.Equal(t, 2, n)
}

// TestProvinceRatesReadTheIndexOnly holds the rates statements and
// migration 0019's students_rates_idx to each other: every column the
// province's rates read (today's, and a past day's side of students) is in
// the index, so the count never reads the million rows' heap
// (docs/performance.md). With plain index and sequential scans priced out,
// a column missing from the index would show as a scan of students that is
// not index-only.
func TestProvinceRatesReadTheIndexOnly(t *testing.T) {
	t.Parallel()
	env := apptest.New(t)
	ctx := t.Context()
	school := env.MustSchool(t)
	counselor := env.MustUser(t, bangfu.RoleCounselor, &school.ID)
	env.MustActiveCase(t, counselor)
	today := bangfu.Today(env.App.Clock)
	monthAgo := today.AddDays(-30)
	province := bangfu.Actor{Role: bangfu.RoleProvince}
	for _, f := range []report.Filter{{GraduationYear: 2026}, {GraduationYear: 2026, AsOf: &monthAgo}} {
		q := report.Queries(province, f, today, 14)[0]
		require.Equal(t, "rates", q.Name)
		tx, err := env.App.DB.Pool.Begin(ctx)
		require.NoError(t, err)
		_, err = tx.Exec(ctx, `SET LOCAL enable_seqscan = off; SET LOCAL enable_indexscan = off; SET LOCAL enable_bitmapscan = off`)
		require.NoError(t, err)
		var plan strings.Builder
		rows, err := tx.Query(ctx, "EXPLAIN (COSTS OFF) "+q.SQL, q.Args...)
		require.NoError(t, err)
		for rows.Next() {
			var line string
			require.NoError(t, rows.Scan(&line))
			plan.WriteString(line + "\n")
		}
		require.NoError(t, rows.Err())
		require.NoError(t, tx.Rollback(ctx))
		require.Contains(t, plan.String(), "Index Only Scan using students_rates_idx on students s", "as of %v:\n%s", f.AsOf, plan.String())
		require.Equal(t, 1, strings.Count(plan.String(), " on students s"), "students is read once, index-only:\n%s", plan.String())
	}
}
