package demo_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"testing"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"
	"github.com/riverqueue/river/rivertest"
	"github.com/stretchr/testify/require"

	"github.com/bangfu/bangfu"
	"github.com/bangfu/bangfu/internal/apptest"
	"github.com/bangfu/bangfu/internal/demo"
	"github.com/bangfu/bangfu/internal/directory"
	"github.com/bangfu/bangfu/internal/roster"
)

// TestDemoRoster walks the roster's story on the demo data: the open
// cohort filled by quota with a waitlist; the demo graduate declines and
// the next graduate of their school is promoted; the admin opens the
// draft cohort; the base's test endpoint receives every signed change
// once; base staff record a completion, and the graduate's ledger and plan
// show it.
func TestDemoRoster(t *testing.T) {
	t.Parallel()
	env := apptest.New(t)
	ctx := t.Context()
	for range 2 {
		logins, err := demo.Seed(ctx, env.App)
		require.NoError(t, err, "loading the demo twice changes nothing the second time")
		require.NotEmpty(t, logins)
	}
	user := func(name string) directory.User {
		u, err := env.App.Directory.UserByUsername(ctx, name)
		require.NoError(t, err)
		return u
	}
	admin, student, base := user("admin"), user("student"), user("base")
	tok := func(u directory.User) string { return env.Token(t, u) }

	// The open cohort: full, by quota, the others waiting.
	r := env.Get(t, "/api/v1/cohorts?state=open", tok(admin))
	var cohorts bangfu.List[roster.Cohort]
	r.JSON(t, &cohorts)
	require.Len(t, cohorts.Items, 1)
	c := cohorts.Items[0]
	require.Equal(t, demo.OpenCohort, c.Name)
	var sum roster.Summary
	env.Get(t, fmt.Sprintf("/api/v1/cohorts/%d/summary", c.ID), tok(admin)).JSON(t, &sum)
	require.Len(t, sum.Schools, 2, "both demo schools have graduates in the running")
	running, quotas := 0, 0
	for _, sq := range sum.Schools {
		running += sq.InRunning
		quotas += sq.Quota
	}
	for _, sq := range sum.Schools {
		share := float64(c.Capacity) * float64(sq.InRunning) / float64(running)
		require.InDelta(t, share, float64(sq.Quota), 1, "%s's quota is within a place of its share", sq.SchoolName)
		require.Equal(t, sq.Quota, sq.Held, "%s fills its quota", sq.SchoolName)
	}
	require.Greater(t, running, c.Capacity, "more graduates than places: a waitlist")
	require.Equal(t, c.Capacity, quotas, "the quotas share out every place")
	require.Equal(t, c.Capacity, c.Counts[roster.Nominated]+c.Counts[roster.Confirmed], "every place held")
	require.Equal(t, running-c.Capacity, c.Counts[roster.Waitlisted], "everyone else waits")
	confirmed := c.Counts[roster.Confirmed]
	require.Positive(t, confirmed, "some nominees confirmed, for the base to record")

	// The base's webhook goes to this test's server (make run's is :8080).
	b, err := env.App.Roster.Base(ctx, bangfu.Actor{Role: bangfu.RoleAdmin}, c.BaseID)
	require.NoError(t, err)
	_, err = env.App.Roster.UpdateBase(ctx, bangfu.Actor{Role: bangfu.RoleAdmin}, b.ID, b.Version, roster.BasePatch{
		WebhookURL: bangfu.Nullable[string]{Set: true, Value: fmt.Sprintf("%s/dev/roster-webhook/%d", env.URL, b.ID)}})
	require.NoError(t, err)

	// The demo graduate was first in line at their school; they decline.
	var mine bangfu.List[roster.Place]
	env.Get(t, "/api/v1/me/roster", tok(student)).JSON(t, &mine)
	require.Len(t, mine.Items, 1)
	p := mine.Items[0]
	require.Equal(t, roster.Nominated, p.Status)
	require.Equal(t, []string{"confirm", "decline"}, p.Actions)
	r = env.Post(t, fmt.Sprintf("/api/v1/places/%d/decline", p.ID), tok(student), map[string]string{"reason": "已签约"})
	require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
	var after roster.Summary
	env.Get(t, fmt.Sprintf("/api/v1/cohorts/%d/summary", c.ID), tok(admin)).JSON(t, &after)
	for i, sq := range after.Schools {
		if sq.SchoolID == p.SchoolID {
			require.Equal(t, sum.Schools[i].Held, sq.Held, "the next graduate of the same school took the place")
			require.Equal(t, sum.Schools[i].Waiting-1, sq.Waiting)
		}
	}

	// The admin opens the draft cohort.
	cohorts = bangfu.List[roster.Cohort]{}
	env.Get(t, "/api/v1/cohorts?state=draft", tok(admin)).JSON(t, &cohorts)
	require.Len(t, cohorts.Items, 1)
	draft := cohorts.Items[0]
	r = env.Do(t, apptest.Call{Method: http.MethodPatch, Path: fmt.Sprintf("/api/v1/cohorts/%d", draft.ID), Token: tok(admin),
		Body: map[string]string{"state": "open"}, Header: map[string]string{"If-Match": fmt.Sprintf(`"%d"`, draft.Version)}})
	require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
	workAll(t, env, "roster_build", &roster.BuildWorker{Roster: env.App.Roster})
	env.Get(t, fmt.Sprintf("/api/v1/cohorts/%d", draft.ID), tok(admin)).JSON(t, &draft)
	require.Equal(t, draft.Capacity, draft.Counts[roster.Nominated], "the second cohort filled too")

	// Base staff: attend and complete a confirmed graduate's training.
	var atBase bangfu.List[roster.Place]
	env.Get(t, fmt.Sprintf("/api/v1/cohorts/%d/roster", c.ID), tok(base)).JSON(t, &atBase)
	require.Len(t, atBase.Items, confirmed, "the base sees the confirmed places only")
	done := atBase.Items[0]
	require.Equal(t, []string{"attend"}, done.Actions)
	r = env.Post(t, fmt.Sprintf("/api/v1/places/%d/attend", done.ID), tok(base), nil)
	require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
	r = env.Post(t, fmt.Sprintf("/api/v1/places/%d/complete", done.ID), tok(base), nil)
	require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
	var placeAdmin roster.Place
	env.Get(t, fmt.Sprintf("/api/v1/places/%d", done.ID), tok(admin)).JSON(t, &placeAdmin)
	counselor := user("counselor.s2")
	var ledger struct {
		Items []struct{ Kind, Summary string } `json:"items"`
	}
	env.Get(t, fmt.Sprintf("/api/v1/students/%d/ledger", *placeAdmin.StudentID), tok(counselor)).JSON(t, &ledger)
	last := ledger.Items[len(ledger.Items)-1]
	require.Equal(t, "outcome", last.Kind)
	require.Contains(t, last.Summary, demo.OpenCohort)
	var pl struct {
		Current struct {
			Measures []struct{ Kind, Status string } `json:"measures"`
		} `json:"current"`
	}
	env.Get(t, fmt.Sprintf("/api/v1/students/%d/plan", *placeAdmin.StudentID), tok(counselor)).JSON(t, &pl)
	require.Equal(t, "hongzhi_training", pl.Current.Measures[0].Kind)
	require.Equal(t, "done", pl.Current.Measures[0].Status)

	// Every change the base hears of arrives at its test endpoint once,
	// signed (the receiver refuses anything else).
	workAll(t, env, "roster_deliver", &roster.DeliverWorker{Roster: env.App.Roster})
	var got struct {
		Items []roster.Receipt `json:"items"`
	}
	env.Get(t, fmt.Sprintf("/dev/roster-webhook/%d", b.ID), tok(admin)).JSON(t, &got)
	var delivered int
	require.NoError(t, env.App.DB.Pool.QueryRow(ctx, `SELECT count(*) FROM roster_deliveries WHERE base_id = $1 AND state = 'delivered'`, b.ID).Scan(&delivered))
	var all int
	require.NoError(t, env.App.DB.Pool.QueryRow(ctx, `SELECT count(*) FROM roster_deliveries WHERE base_id = $1`, b.ID).Scan(&all))
	require.Equal(t, all, delivered, "every change was delivered")
	require.Len(t, got.Items, delivered, "each change once, by its idempotency key")
	keys := map[string]bool{}
	for _, rc := range got.Items {
		require.False(t, keys[rc.IdempotencyKey])
		keys[rc.IdempotencyKey] = true
		var body roster.Payload
		require.NoError(t, json.Unmarshal(rc.Payload, &body))
		require.Equal(t, rc.IdempotencyKey, body.ID)
	}
	require.Positive(t, delivered)
}

// workAll works every pending job of kind with w, as River would.
func workAll[T river.JobArgs](t *testing.T, env *apptest.Env, kind string, w river.Worker[T]) {
	t.Helper()
	ctx := context.Background()
	rows, err := env.App.DB.Pool.Query(ctx, `SELECT id FROM river_job WHERE kind = $1 AND state = 'available' ORDER BY id`, kind)
	require.NoError(t, err)
	var ids []int64
	for rows.Next() {
		var id int64
		require.NoError(t, rows.Scan(&id))
		ids = append(ids, id)
	}
	require.NoError(t, rows.Err())
	for _, id := range ids {
		job, err := env.App.River.JobGet(ctx, id)
		require.NoError(t, err)
		tx, err := env.App.DB.Pool.Begin(ctx)
		require.NoError(t, err)
		res, err := rivertest.NewWorker(t, riverpgxv5.New(nil), &river.Config{}, w).WorkJob(ctx, t, tx, job)
		require.NoError(t, err)
		require.Equal(t, river.EventKindJobCompleted, res.EventKind)
		require.NoError(t, tx.Commit(ctx))
	}
}
