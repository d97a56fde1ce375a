package roster_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"
	"github.com/riverqueue/river/rivertest"
	"github.com/riverqueue/river/rivertype"
	"github.com/stretchr/testify/require"

	"github.com/bangfu/bangfu"
	"github.com/bangfu/bangfu/internal/apptest"
	"github.com/bangfu/bangfu/internal/directory"
	"github.com/bangfu/bangfu/internal/graduate"
	"github.com/bangfu/bangfu/internal/plan"
	"github.com/bangfu/bangfu/internal/roster"
)

// admin acts for the tests' administrator.
var admin = bangfu.Actor{Role: bangfu.RoleAdmin}

// school is a school of the test with its staff.
type school struct {
	directory.School
	supervisor, counselor directory.User
}

func newSchool(t *testing.T, env *apptest.Env) school {
	t.Helper()
	sc := env.MustSchool(t)
	return school{School: sc,
		supervisor: env.MustUser(t, bangfu.RoleSupervisor, &sc.ID),
		counselor:  env.MustUser(t, bangfu.RoleCounselor, &sc.ID)}
}

// graduateOpts change what eligible makes.
type graduateOpts struct {
	noConsent, noMeasure, unverified bool
	year                             int
	validUntil                       string
}

// eligible creates a graduate of sc eligible for a 2026 cohort starting
// before 2027 (or not, as opts say): consent, verified hardship evidence,
// a plan with a hongzhi_training measure.
func eligible(t *testing.T, env *apptest.Env, sc school, opts ...graduateOpts) graduate.Student {
	t.Helper()
	var o graduateOpts
	if len(opts) > 0 {
		o = opts[0]
	}
	ctx := context.Background()
	year := 2026
	if o.year != 0 {
		year = o.year
	}
	st := env.MustStudent(t, sc.counselor, graduate.Input{Consent: !o.noConsent, GraduationYear: year, Major: "软件技术",
		Phone: fmt.Sprintf("13800%06d", env.Unique()), Email: "grad@example.cn"})
	h, err := env.App.Graduates.AddHardship(ctx, sc.counselor.Actor(), st.ID, graduate.HardshipInput{Category: "dibao",
		EvidenceType: "低保证", IssuingAuthority: "民政局", CertificateNo: fmt.Sprintf("CERT-%d", env.Unique()), ValidUntil: o.validUntil})
	require.NoError(t, err)
	if !o.unverified {
		_, err = env.App.Graduates.VerifyHardship(ctx, sc.supervisor.Actor(), st.ID, h.ID, graduate.Verification{Decision: "verified"})
		require.NoError(t, err)
	}
	in := plan.Input{Goals: []string{"就业"}, CadenceDays: 14,
		Measures: []plan.MeasureInput{{Kind: "career_guidance", Description: "就业指导", Owner: "辅导员"}}}
	if !o.noMeasure {
		in.Measures = append(in.Measures, plan.MeasureInput{Kind: "hongzhi_training", Description: "报名宏志助航培训", Owner: "本人"})
	}
	_, err = env.App.Plans.Put(ctx, sc.counselor.Actor(), st.ID, nil, in)
	require.NoError(t, err)
	// Eligibility is ordered by time: graduates made one after another
	// become eligible one after another.
	env.Clock.Advance(time.Second)
	return st
}

// newCohort creates a cohort of base for 2026 graduates with capacity
// places, starting in 30 days, deadline in 20, and opens it when open.
func newCohort(t *testing.T, env *apptest.Env, baseID int64, capacity int, open bool) roster.Cohort {
	t.Helper()
	ctx := context.Background()
	today := bangfu.Today(env.Clock)
	c, err := env.App.Roster.CreateCohort(ctx, admin, roster.CohortInput{BaseID: baseID, Name: fmt.Sprintf("第%d期", env.Unique()),
		Mode: "offline", StartsOn: today.AddDays(30).String(), EndsOn: today.AddDays(37).String(), Capacity: capacity,
		TargetYear: 2026, NominationDeadline: today.AddDays(20).String()})
	require.NoError(t, err)
	if open {
		state := roster.Open
		c, err = env.App.Roster.UpdateCohort(ctx, admin, c.ID, c.Version, roster.CohortPatch{State: &state})
		require.NoError(t, err)
	}
	return c
}

// cohortAt creates an open cohort for 2026 graduates starting in start
// days with its nomination deadline in deadline days.
func cohortAt(t *testing.T, env *apptest.Env, baseID int64, capacity, start, deadline int) roster.Cohort {
	t.Helper()
	ctx := context.Background()
	today := bangfu.Today(env.Clock)
	c, err := env.App.Roster.CreateCohort(ctx, admin, roster.CohortInput{BaseID: baseID, Name: fmt.Sprintf("第%d期", env.Unique()),
		Mode: "online", StartsOn: today.AddDays(start).String(), EndsOn: today.AddDays(start + 7).String(), Capacity: capacity,
		TargetYear: 2026, NominationDeadline: today.AddDays(deadline).String()})
	require.NoError(t, err)
	state := roster.Open
	c, err = env.App.Roster.UpdateCohort(ctx, admin, c.ID, c.Version, roster.CohortPatch{State: &state})
	require.NoError(t, err)
	return c
}

// baseStaff creates a user of the base.
func baseStaff(t *testing.T, env *apptest.Env, baseID int64) directory.User {
	t.Helper()
	u, err := env.App.Directory.CreateUser(context.Background(), bangfu.Actor{}, directory.UserInput{Username: fmt.Sprintf("base%d", env.Unique()),
		Role: bangfu.RoleBase, BaseID: &baseID, Password: apptest.Password})
	require.NoError(t, err)
	return u
}

// account gives graduate st a student login.
func account(t *testing.T, env *apptest.Env, sc school, st graduate.Student) directory.User {
	t.Helper()
	u, err := env.App.Graduates.CreateAccount(context.Background(), env.App.Directory, sc.counselor.Actor(), st.ID,
		graduate.AccountInput{Username: fmt.Sprintf("grad%d", env.Unique()), Password: apptest.Password})
	require.NoError(t, err)
	return u
}

// planInputOf is a revision as the input that would make it again.
func planInputOf(r plan.Revision) plan.Input {
	in := plan.Input{Goals: r.Goals, CadenceDays: r.CadenceDays, Note: r.Note}
	for _, m := range r.Measures {
		mi := plan.MeasureInput{Kind: m.Kind, Description: m.Description, Owner: m.Owner, Status: m.Status}
		if m.DueOn != nil {
			mi.DueOn = m.DueOn.String()
		}
		in.Measures = append(in.Measures, mi)
	}
	return in
}

// pendingJobs returns the jobs of kind waiting to run.
func pendingJobs(t *testing.T, env *apptest.Env, kind string) []*rivertype.JobRow {
	t.Helper()
	ctx := context.Background()
	rows, err := env.App.DB.Pool.Query(ctx, `SELECT id FROM river_job WHERE kind = $1 AND state IN ('available', 'scheduled', 'retryable') ORDER BY id`, kind)
	require.NoError(t, err)
	ids, err := pgx.CollectRows(rows, pgx.RowTo[int64])
	require.NoError(t, err)
	var out []*rivertype.JobRow
	for _, id := range ids {
		j, err := env.App.River.JobGet(ctx, id)
		require.NoError(t, err)
		out = append(out, j)
	}
	return out
}

// work works job with the real worker, in a transaction that commits, as
// a River client would.
func work[T river.JobArgs](t *testing.T, env *apptest.Env, w river.Worker[T], job *rivertype.JobRow) *rivertest.WorkResult {
	t.Helper()
	ctx := context.Background()
	tx, err := env.App.DB.Pool.Begin(ctx)
	require.NoError(t, err)
	defer tx.Rollback(ctx)
	res, err := rivertest.NewWorker(t, riverpgxv5.New(nil), &river.Config{}, w).WorkJob(ctx, t, tx, job)
	require.NoError(t, err)
	require.NoError(t, tx.Commit(ctx))
	return res
}

// workBuilds works every pending roster_build job and returns how many.
func workBuilds(t *testing.T, env *apptest.Env) int {
	t.Helper()
	jobs := pendingJobs(t, env, "roster_build")
	for _, j := range jobs {
		res := work(t, env, river.Worker[roster.BuildArgs](&roster.BuildWorker{Roster: env.App.Roster}), j)
		require.Equal(t, river.EventKindJobCompleted, res.EventKind)
	}
	return len(jobs)
}

// build runs the cohort's build as its job would.
func build(t *testing.T, env *apptest.Env, id int64) roster.BuildResult {
	t.Helper()
	res, err := env.App.Roster.Build(context.Background(), id)
	require.NoError(t, err)
	return res
}

// placeRow is a place as the tests read it from the database.
type placeRow struct {
	ID, StudentID, SchoolID int64
	Status                  string
	Since                   time.Time
}

func places(t *testing.T, env *apptest.Env, cohortID int64) map[int64]placeRow {
	t.Helper()
	rows, err := env.App.DB.Pool.Query(context.Background(), `SELECT id, student_id, school_id, status, eligible_since
		FROM roster_places WHERE cohort_id = $1`, cohortID)
	require.NoError(t, err)
	defer rows.Close()
	out := map[int64]placeRow{}
	for rows.Next() {
		var p placeRow
		require.NoError(t, rows.Scan(&p.ID, &p.StudentID, &p.SchoolID, &p.Status, &p.Since))
		out[p.StudentID] = p
	}
	require.NoError(t, rows.Err())
	return out
}

func countStatus(ps map[int64]placeRow, statuses ...string) int {
	n := 0
	for _, p := range ps {
		for _, s := range statuses {
			if p.Status == s {
				n++
			}
		}
	}
	return n
}

// receiver is a base's webhook endpoint for tests: it verifies each
// request's signature with its secret and keeps what it accepted by
// idempotency key. failFirst requests are answered 500.
type receiver struct {
	*httptest.Server
	secret []byte
	clock  bangfu.Clock

	mu        sync.Mutex
	failFirst int
	requests  []received
	accepted  map[string][]byte
}

type received struct {
	key         string
	signatureOK bool
	body        []byte
}

func newReceiver(t *testing.T, clock bangfu.Clock, secret string) *receiver {
	r := &receiver{secret: []byte(secret), clock: clock, accepted: map[string][]byte{}}
	r.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		body, _ := io.ReadAll(req.Body)
		err := roster.Verify(r.secret, req.Header.Get(roster.HeaderTimestamp), req.Header.Get(roster.HeaderSignature), body, r.clock.Now())
		key := req.Header.Get(roster.HeaderIdempotency)
		r.mu.Lock()
		defer r.mu.Unlock()
		r.requests = append(r.requests, received{key: key, signatureOK: err == nil, body: body})
		switch {
		case r.failFirst > 0:
			r.failFirst--
			w.WriteHeader(http.StatusInternalServerError)
		case err != nil:
			w.WriteHeader(http.StatusUnauthorized)
		default:
			if _, dup := r.accepted[key]; !dup {
				r.accepted[key] = body
			}
			w.WriteHeader(http.StatusNoContent)
		}
	}))
	t.Cleanup(r.Close)
	return r
}

func (r *receiver) snapshot() ([]received, map[string][]byte) {
	r.mu.Lock()
	defer r.mu.Unlock()
	acc := map[string][]byte{}
	for k, v := range r.accepted {
		acc[k] = v
	}
	return append([]received(nil), r.requests...), acc
}
