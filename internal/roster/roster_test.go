package roster_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/bangfu/bangfu"
	"github.com/bangfu/bangfu/internal/apptest"
	"github.com/bangfu/bangfu/internal/graduate"
	"github.com/bangfu/bangfu/internal/roster"
)

// TestRosterFillsByQuotaAndPromotesTheSameSchool: a cohort of 5 places,
// school A with 6 eligible graduates and school B with 4: quotas 3 and 2
// (shares 3.0 and 2.0), the rest wait in the order they became eligible.
// A decline of A's nominee promotes A's next; a rebuild changes nothing.
func TestRosterFillsByQuotaAndPromotesTheSameSchool(t *testing.T) {
	t.Parallel()
	env := apptest.New(t)
	ctx := t.Context()
	a, b := newSchool(t, env), newSchool(t, env)
	var as, bs []graduate.Student
	for i := range 6 {
		as = append(as, eligible(t, env, a))
		if i < 4 {
			bs = append(bs, eligible(t, env, b))
		}
	}
	ineligible := []graduate.Student{
		eligible(t, env, a, graduateOpts{noConsent: true}),
		eligible(t, env, a, graduateOpts{noMeasure: true}),
		eligible(t, env, b, graduateOpts{unverified: true}),
		eligible(t, env, b, graduateOpts{year: 2027}),
		eligible(t, env, b, graduateOpts{validUntil: bangfu.Today(env.Clock).AddDays(10).String()}), // expires before the start
	}
	base := env.MustBase(t)
	c := newCohort(t, env, base.ID, 5, true)

	res := build(t, env, c.ID)
	require.Equal(t, roster.BuildResult{Added: 10, Nominated: 5}, res)
	ps := places(t, env, c.ID)
	require.Len(t, ps, 10, "only the eligible are on the roster")
	for _, st := range ineligible {
		require.NotContains(t, ps, st.ID, "an ineligible graduate is never nominated nor waitlisted")
	}
	for i, st := range as {
		want := roster.Waitlisted
		if i < 3 {
			want = roster.Nominated
		}
		require.Equal(t, want, ps[st.ID].Status, "A's graduate %d", i)
	}
	for i, st := range bs {
		want := roster.Waitlisted
		if i < 2 {
			want = roster.Nominated
		}
		require.Equal(t, want, ps[st.ID].Status, "B's graduate %d", i)
	}

	require.Equal(t, roster.BuildResult{}, build(t, env, c.ID), "rebuilding changes nothing")

	// A's first nominee declines: A's next waiting graduate is promoted.
	acct, err := env.App.Graduates.CreateAccount(ctx, env.App.Directory, a.counselor.Actor(), as[0].ID,
		graduate.AccountInput{Username: "roster.declines", Password: apptest.Password})
	require.NoError(t, err)
	p, err := env.App.Roster.Decline(ctx, acct.Actor(), ps[as[0].ID].ID, roster.Reason{Reason: "已找到工作"})
	require.NoError(t, err)
	require.Equal(t, roster.Declined, p.Status)
	ps = places(t, env, c.ID)
	require.Equal(t, roster.Nominated, ps[as[3].ID].Status, "the next of the same school is promoted")
	require.Equal(t, roster.Waitlisted, ps[bs[2].ID].Status, "before anyone of another school")
	require.Equal(t, 5, countStatus(ps, roster.Nominated, roster.Confirmed))
	require.Equal(t, roster.BuildResult{}, build(t, env, c.ID), "the build agrees with the promotion")

	// Declining again is refused; the history keeps who and why.
	_, err = env.App.Roster.Decline(ctx, acct.Actor(), ps[as[0].ID].ID, roster.Reason{})
	require.Equal(t, bangfu.ECONFLICT, bangfu.ErrorCode(err))
	got, err := env.App.Roster.Place(ctx, acct.Actor(), ps[as[0].ID].ID)
	require.NoError(t, err)
	require.Len(t, got.History, 2)
	require.Equal(t, "", got.History[0].From)
	require.Equal(t, roster.Nominated, got.History[0].To)
	require.Nil(t, got.History[0].ActorID, "the build nominates")
	require.Equal(t, roster.Declined, got.History[1].To)
	require.Equal(t, acct.ID, *got.History[1].ActorID)
	require.Equal(t, "已找到工作", got.History[1].Reason)
}

// TestReleasedQuota: a school that cannot fill its quota (its graduates
// declined and nobody of it waits) releases the place to the others, in
// waitlist order.
func TestReleasedQuota(t *testing.T) {
	t.Parallel()
	env := apptest.New(t)
	ctx := t.Context()
	a, b := newSchool(t, env), newSchool(t, env)
	a1 := eligible(t, env, a)
	var bs []graduate.Student
	for range 5 {
		bs = append(bs, eligible(t, env, b))
	}
	c := newCohort(t, env, env.MustBase(t).ID, 3, true)
	build(t, env, c.ID)
	ps := places(t, env, c.ID)
	// Shares: A 3×1/6 = 0.5, B 3×5/6 = 2.5: floors 0 and 2, the remainder
	// tie goes to the larger school.
	require.Equal(t, roster.Waitlisted, ps[a1.ID].Status)
	require.Equal(t, 3, countStatus(ps, roster.Nominated))

	// B's first nominee is withdrawn by B's supervisor: B's next waits
	// first in line of B and is promoted.
	p, err := env.App.Roster.Withdraw(ctx, b.supervisor.Actor(), ps[bs[0].ID].ID, roster.Reason{Reason: "已签约就业，无需培训"})
	require.NoError(t, err)
	require.Equal(t, roster.Withdrawn, p.Status)
	ps = places(t, env, c.ID)
	require.Equal(t, roster.Nominated, ps[bs[3].ID].Status)
	require.Equal(t, roster.Waitlisted, ps[a1.ID].Status)

	// Withdraw B's remaining waiting graduate and another nominee: B has
	// nobody left to promote; B's quota (3×5/6 → 3 with A's weight 1) is
	// more than it can fill, so the build releases the place to A.
	_, err = env.App.Roster.Withdraw(ctx, b.counselor.Actor(), ps[bs[4].ID].ID, roster.Reason{Reason: "本人不愿参加"})
	require.NoError(t, err)
	_, err = env.App.Roster.Withdraw(ctx, b.counselor.Actor(), ps[bs[1].ID].ID, roster.Reason{Reason: "本人不愿参加"})
	require.NoError(t, err)
	require.Equal(t, roster.BuildResult{Nominated: 1}, build(t, env, c.ID))
	ps = places(t, env, c.ID)
	require.Equal(t, roster.Nominated, ps[a1.ID].Status)
	require.Equal(t, 3, countStatus(ps, roster.Nominated))
}

// TestEligibilityChangesEnqueueTheBuild: opening a cohort, verifying
// evidence, revising a plan and changing consent each enqueue the build in
// their own transaction (one while pending), and the build — the real job
// — follows: a graduate who stops being eligible lapses (withdrawn by the
// system, saying why) and comes back when eligible again.
func TestEligibilityChangesEnqueueTheBuild(t *testing.T) {
	t.Parallel()
	env := apptest.New(t)
	ctx := t.Context()
	a := newSchool(t, env)
	c := newCohort(t, env, env.MustBase(t).ID, 2, true)
	pending := func() int { return len(pendingJobs(t, env, "roster_build")) }
	require.Equal(t, 1, pending(), "opening the cohort enqueues its build")
	st := eligible(t, env, a)
	require.Equal(t, 1, pending(), "unique while pending: verification and plan found it waiting")
	require.Equal(t, 1, workBuilds(t, env))
	require.Equal(t, roster.Nominated, places(t, env, c.ID)[st.ID].Status)
	require.Zero(t, pending())

	// Consent withdrawn: enqueued; the nomination lapses with the reason.
	cur, err := env.App.Graduates.Get(ctx, a.counselor.Actor(), st.ID)
	require.NoError(t, err)
	no := false
	cur, err = env.App.Graduates.Update(ctx, a.counselor.Actor(), st.ID, cur.Version, graduate.Patch{Consent: &no})
	require.NoError(t, err)
	require.Equal(t, 1, workBuilds(t, env), "a consent change enqueues the build")
	p, err := env.App.Roster.Place(ctx, a.supervisor.Actor(), places(t, env, c.ID)[st.ID].ID)
	require.NoError(t, err)
	require.Equal(t, roster.Withdrawn, p.Status)
	require.Nil(t, p.ChangedBy, "withdrawn by the system")
	require.Contains(t, p.Reason, "未授权向培训基地提供信息")

	// Consent given again: back on the roster.
	yes := true
	_, err = env.App.Graduates.Update(ctx, a.counselor.Actor(), st.ID, cur.Version, graduate.Patch{Consent: &yes})
	require.NoError(t, err)
	require.Equal(t, 1, workBuilds(t, env))
	require.Equal(t, roster.Nominated, places(t, env, c.ID)[st.ID].Status)

	// The plan drops the measure: the nomination lapses.
	pl, err := env.App.Plans.Get(ctx, a.counselor.Actor(), st.ID)
	require.NoError(t, err)
	rev := pl.Current.Revision
	in := planInputOf(pl.Current)
	in.Measures[1].Status = "dropped"
	_, err = env.App.Plans.Put(ctx, a.counselor.Actor(), st.ID, &rev, in)
	require.NoError(t, err)
	require.Equal(t, 1, workBuilds(t, env), "a plan revision enqueues the build")
	require.Equal(t, roster.Withdrawn, places(t, env, c.ID)[st.ID].Status)

	// Evidence verified for another graduate enqueues too.
	other := eligible(t, env, a, graduateOpts{unverified: true})
	require.Equal(t, 1, workBuilds(t, env), "the plan of the new graduate")
	require.NotContains(t, places(t, env, c.ID), other.ID)
	f, err := env.App.Graduates.Get(ctx, a.counselor.Actor(), other.ID)
	require.NoError(t, err)
	_, err = env.App.Graduates.VerifyHardship(ctx, a.supervisor.Actor(), other.ID, f.Hardships[0].ID, graduate.Verification{Decision: "verified"})
	require.NoError(t, err)
	require.Equal(t, 1, workBuilds(t, env), "verifying evidence enqueues the build")
	require.Equal(t, roster.Nominated, places(t, env, c.ID)[other.ID].Status)

	// Evidence expiring (the daily job) enqueues too.
	_, err = env.App.DB.Pool.Exec(ctx, `UPDATE hardships SET valid_until = $2 WHERE student_id = $1`, other.ID, bangfu.Today(env.Clock).AddDays(2).Time())
	require.NoError(t, err)
	env.Clock.Advance(3 * 24 * time.Hour)
	expiry := &graduate.ExpiryWorker{DB: env.App.DB, Clock: env.Clock, Settings: env.App.Settings, Notify: env.App.Notify,
		AfterEligibility: env.App.Roster.OnEligibilityChange}
	require.NoError(t, expiry.Work(ctx, nil))
	require.Equal(t, 1, workBuilds(t, env), "expired evidence enqueues the build")
	require.Equal(t, roster.Withdrawn, places(t, env, c.ID)[other.ID].Status)
}

// TestCompletionClosesTheLoop: confirmed, attending, completed; the
// ledger has the outcome, the plan's measure is done in a new revision,
// and a graduate who completed is eligible for no other cohort.
func TestCompletionClosesTheLoop(t *testing.T) {
	t.Parallel()
	env := apptest.New(t)
	ctx := t.Context()
	a := newSchool(t, env)
	st := eligible(t, env, a)
	b := env.MustBase(t)
	staff := baseStaff(t, env, b.ID)
	c := cohortAt(t, env, b.ID, 2, 30, 20)
	other := cohortAt(t, env, b.ID, 2, 90, 60)
	build(t, env, c.ID)
	build(t, env, other.ID)
	acct := account(t, env, a, st)
	pid := places(t, env, c.ID)[st.ID].ID
	_, err := env.App.Roster.Attend(ctx, staff.Actor(), pid)
	require.Equal(t, bangfu.ENOTFOUND, bangfu.ErrorCode(err), "the base sees no nomination")
	_, err = env.App.Roster.Confirm(ctx, acct.Actor(), pid)
	require.NoError(t, err)
	_, err = env.App.Roster.Attend(ctx, staff.Actor(), pid)
	require.Equal(t, bangfu.ECONFLICT, bangfu.ErrorCode(err), "not before the start")
	env.Clock.Advance(31 * 24 * time.Hour)
	_, err = env.App.Roster.Complete(ctx, staff.Actor(), pid)
	require.Equal(t, bangfu.ECONFLICT, bangfu.ErrorCode(err), "attending first")
	_, err = env.App.Roster.Attend(ctx, staff.Actor(), pid)
	require.NoError(t, err)
	before, err := env.App.Plans.Get(ctx, a.counselor.Actor(), st.ID)
	require.NoError(t, err)
	p, err := env.App.Roster.Complete(ctx, staff.Actor(), pid)
	require.NoError(t, err)
	require.Equal(t, roster.Completed, p.Status)

	entries, err := env.App.Ledger.List(ctx, a.counselor.Actor(), st.ID, bangfu.Page{Limit: 50})
	require.NoError(t, err)
	last := entries.Items[len(entries.Items)-1]
	require.Equal(t, "outcome", last.Kind)
	require.Contains(t, last.Summary, "完成宏志助航培训")
	require.Equal(t, "shared", last.Visibility)
	require.Equal(t, staff.ID, last.AuthorID)
	v, err := env.App.Ledger.Verify(ctx, a.counselor.Actor(), st.ID)
	require.NoError(t, err)
	require.True(t, v.Intact)
	after, err := env.App.Plans.Get(ctx, a.counselor.Actor(), st.ID)
	require.NoError(t, err)
	require.Equal(t, before.Current.Revision+1, after.Current.Revision)
	require.Equal(t, "hongzhi_training", after.Current.Measures[1].Kind)
	require.Equal(t, "done", after.Current.Measures[1].Status)
	require.Equal(t, before.Current.Measures[0], after.Current.Measures[0], "the other measures stay as they were")
	require.Equal(t, staff.ID, after.Current.AuthorID)

	// Completed once: off the other cohort's roster, by the system.
	require.Equal(t, roster.BuildResult{Lapsed: 1}, build(t, env, other.ID))
	pp, err := env.App.Roster.Place(ctx, admin, places(t, env, other.ID)[st.ID].ID)
	require.NoError(t, err)
	require.Contains(t, pp.Reason, "已完成宏志助航培训")
}

// TestAPlaceNamesItsCohort: whoever sees a place sees its cohort's base,
// mode and days — a graduate, who sees no cohort otherwise, learns from
// their place until when they may answer the nomination.
func TestAPlaceNamesItsCohort(t *testing.T) {
	t.Parallel()
	env := apptest.New(t)
	sc := newSchool(t, env)
	st := eligible(t, env, sc)
	base := env.MustBase(t)
	c := newCohort(t, env, base.ID, 3, true)
	build(t, env, c.ID)
	l, err := env.App.Roster.MyPlaces(t.Context(), account(t, env, sc, st).Actor())
	require.NoError(t, err)
	require.Len(t, l.Items, 1)
	p := l.Items[0]
	require.Equal(t, roster.Nominated, p.Status)
	require.Equal(t, []string{"confirm", "decline"}, p.Actions)
	require.Equal(t, base.Name, p.BaseName)
	require.Equal(t, c.Mode, p.Mode)
	require.Equal(t, c.StartsOn, p.StartsOn)
	require.Equal(t, c.EndsOn, p.EndsOn)
	require.Equal(t, c.NominationDeadline, p.NominationDeadline)
}
