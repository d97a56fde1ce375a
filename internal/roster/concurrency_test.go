package roster_test

import (
	"context"
	"math/rand/v2"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/bangfu/bangfu"
	"github.com/bangfu/bangfu/internal/apptest"
	"github.com/bangfu/bangfu/internal/directory"
	"github.com/bangfu/bangfu/internal/roster"
)

// TestConcurrentChangesKeepCapacityAndOrder runs 50 nominations (builds),
// confirmations and withdrawals at once against a cohort of 10 places.
// Replaying the roster's history, change by change, shows that no more
// than 10 places were ever held, and that every nomination from the
// waitlist took the first graduate of that school in line.
func TestConcurrentChangesKeepCapacityAndOrder(t *testing.T) {
	t.Parallel()
	env := apptest.New(t)
	ctx := t.Context()
	const capacity = 10
	schools := []school{newSchool(t, env), newSchool(t, env), newSchool(t, env)}
	students := map[int64]directory.User{} // graduate → their login
	schoolOf := map[int64]school{}
	for i := range 30 {
		sc := schools[i%3]
		st := eligible(t, env, sc)
		students[st.ID] = account(t, env, sc, st)
		schoolOf[st.ID] = sc
	}
	c := newCohort(t, env, env.MustBase(t).ID, capacity, true)
	build(t, env, c.ID)
	require.Equal(t, capacity, countStatus(places(t, env, c.ID), roster.Nominated))

	ps := places(t, env, c.ID)
	var ids []int64
	for id := range ps {
		ids = append(ids, id)
	}
	sort.Slice(ids, func(i, j int) bool { return ids[i] < ids[j] })
	r := rand.New(rand.NewPCG(50, 10))
	type op struct {
		kind    string
		student int64
	}
	var ops []op
	for i := range 50 {
		st := ids[r.IntN(len(ids))]
		switch i % 3 {
		case 0:
			ops = append(ops, op{"build", 0})
		case 1:
			ops = append(ops, op{"confirm", st})
		case 2:
			ops = append(ops, op{"withdraw", st})
		}
	}
	var wg sync.WaitGroup
	start := make(chan struct{})
	errs := make(chan error, len(ops))
	for _, o := range ops {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			var err error
			pid := ps[o.student].ID
			switch o.kind {
			case "build":
				_, err = env.App.Roster.Build(ctx, c.ID)
			case "confirm":
				_, err = env.App.Roster.Confirm(ctx, students[o.student].Actor(), pid)
			case "withdraw":
				_, err = env.App.Roster.Withdraw(ctx, schoolOf[o.student].supervisor.Actor(), pid, roster.Reason{Reason: "并发测试退出"})
			}
			// A change that lost the race to another is refused as such.
			if code := bangfu.ErrorCode(err); code != "" && code != bangfu.ECONFLICT {
				errs <- err
			}
		}()
	}
	close(start)
	wg.Wait()
	close(errs)
	for err := range errs {
		require.NoError(t, err)
	}

	final := places(t, env, c.ID)
	require.LessOrEqual(t, countStatus(final, roster.Nominated, roster.Confirmed), capacity)
	build(t, env, c.ID)
	final = places(t, env, c.ID)
	held := countStatus(final, roster.Nominated, roster.Confirmed)
	require.True(t, held == capacity || countStatus(final, roster.Waitlisted) == 0,
		"the roster is full or nobody waits (%d held, %d waiting)", held, countStatus(final, roster.Waitlisted))
	replay(t, env, c.ID, capacity)
}

// replay walks cohort id's history in order and checks, after every
// change, that at most capacity places are held, and that each graduate
// taken off the waitlist was the first of their school in line.
func replay(t *testing.T, env *apptest.Env, id int64, capacity int) {
	t.Helper()
	ctx := context.Background()
	type place struct {
		school int64
		since  time.Time
		status string
	}
	all := map[int64]*place{}
	rows, err := env.App.DB.Pool.Query(ctx, `SELECT id, school_id, eligible_since FROM roster_places WHERE cohort_id = $1`, id)
	require.NoError(t, err)
	for rows.Next() {
		var pid int64
		p := &place{}
		require.NoError(t, rows.Scan(&pid, &p.school, &p.since))
		all[pid] = p
	}
	require.NoError(t, rows.Err())
	rows, err = env.App.DB.Pool.Query(ctx, `SELECT id, place_id, from_status, to_status FROM roster_events WHERE cohort_id = $1 ORDER BY id`, id)
	require.NoError(t, err)
	defer rows.Close()
	held := 0
	isHeld := func(s string) bool {
		return s == roster.Nominated || s == roster.Confirmed || s == roster.Attending || s == roster.Completed
	}
	events := 0
	for rows.Next() {
		var ev, pid int64
		var from, to string
		require.NoError(t, rows.Scan(&ev, &pid, &from, &to))
		events++
		p := all[pid]
		require.Equal(t, from, p.status, "event %d starts where the place was", ev)
		if from == roster.Waitlisted && to == roster.Nominated {
			for qid, q := range all {
				if q.school == p.school && q.status == roster.Waitlisted && qid != pid {
					require.False(t, q.since.Before(p.since) || q.since.Equal(p.since) && qid < pid,
						"event %d nominated place %d while place %d of the same school waited longer", ev, pid, qid)
				}
			}
		}
		if isHeld(from) {
			held--
		}
		if isHeld(to) {
			held++
		}
		p.status = to
		require.LessOrEqual(t, held, capacity, "after event %d, %d places are held", ev, held)
	}
	require.NoError(t, rows.Err())
	require.Greater(t, events, 30)
}
