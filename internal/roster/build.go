package roster

import (
	"cmp"
	"context"
	"slices"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"

	"github.com/bangfu/bangfu"
)

// BuildArgs is the roster_build job of one cohort. Epoch is the cohort's
// build epoch when the job was enqueued (see Work).
type BuildArgs struct {
	CohortID int64 `json:"cohort_id"`
	Epoch    int64 `json:"epoch"`
}

// Kind is the job's name in River.
func (BuildArgs) Kind() string { return "roster_build" }

// InsertOpts make the build of a cohort unique while pending: enqueuing
// it again for the same epoch while one waits or runs is a no-op.
// Completed and discarded jobs are left out of the unique states, so the
// next epoch's build (or a periodic one) can always be enqueued.
func (BuildArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{UniqueOpts: river.UniqueOpts{
		ByArgs: true,
		ByState: []rivertype.JobState{
			rivertype.JobStateAvailable, rivertype.JobStatePending, rivertype.JobStateRunning,
			rivertype.JobStateRetryable, rivertype.JobStateScheduled,
		},
	}}
}

// BuildWorker builds a cohort's roster.
type BuildWorker struct {
	river.WorkerDefaults[BuildArgs]
	Roster *Service
}

// Work claims the cohort's next epoch, committed before it reads anything,
// then builds. A change of eligibility reads the epoch FOR SHARE in its
// own transaction and enqueues the build of the epoch it read: if it
// committed before the claim, this build sees it; if it read the epoch
// after the claim, it enqueued the next epoch's build, which River does
// not take for a duplicate of this running one. So no change is missed.
func (w *BuildWorker) Work(ctx context.Context, job *river.Job[BuildArgs]) error {
	if _, err := w.Roster.DB.Pool.Exec(ctx, `UPDATE roster_build_epochs SET epoch = epoch + 1 WHERE cohort_id = $1`, job.Args.CohortID); err != nil {
		return err
	}
	_, err := w.Roster.Build(ctx, job.Args.CohortID)
	return err
}

// BuildResult says what a build changed.
type BuildResult struct {
	// Lapsed places were withdrawn by the system: their graduates are no
	// longer eligible.
	Lapsed int `json:"lapsed"`
	// Reinstated graduates are eligible again after a lapse.
	Reinstated int `json:"reinstated"`
	// Added graduates joined the roster.
	Added int `json:"added"`
	// Nominated places were offered, by quota or released capacity.
	Nominated int `json:"nominated"`
}

// Changed reports whether the build changed anything.
func (r BuildResult) Changed() bool { return r.Lapsed+r.Reinstated+r.Added+r.Nominated > 0 }

// Build brings cohort id's roster up to date, in one transaction holding
// the cohort's lock. It does nothing unless the cohort is open and its
// nomination deadline has not passed. Then:
//
//  1. nominated and waitlisted graduates who are no longer eligible are
//     withdrawn by the system, the reason naming the criteria they fail;
//  2. graduates eligible again after such a lapse go back on the
//     waitlist, and eligible graduates with no place join it, each
//     waiting from when they became eligible;
//  3. each school's quota is apportioned (Apportion) on its graduates in
//     the running; each school's waitlist fills its quota first, in
//     order; capacity a school cannot fill (its graduates declined or
//     were withdrawn) is released to the others, filled from the whole
//     waitlist in order.
//
// A place confirmed or further on is never taken back (only a nomination
// lapses), and capacity is never exceeded. Running
// it again with nothing changed changes nothing.
func (s *Service) Build(ctx context.Context, id int64) (BuildResult, error) {
	var res BuildResult
	err := s.DB.InTx(ctx, func(tx pgx.Tx) error {
		c, err := lockCohort(ctx, tx, id)
		if err != nil {
			return err
		}
		if !c.nominating(s.today()) {
			return nil
		}
		res, err = s.build(ctx, tx, c)
		return err
	})
	return res, err
}

func (s *Service) build(ctx context.Context, tx pgx.Tx, c Cohort) (BuildResult, error) {
	var res BuildResult
	places, err := s.loadPlaces(ctx, tx, c.ID)
	if err != nil {
		return res, err
	}
	cands, err := eligible(ctx, tx, c, nil)
	if err != nil {
		return res, err
	}

	// 1. Lapses, with the criteria each graduate fails.
	var lapsing []int64
	for _, p := range places {
		if _, ok := cands[p.studentID]; !ok && (p.status == Nominated || p.status == Waitlisted) {
			lapsing = append(lapsing, p.studentID)
		}
	}
	var unmet map[int64][]string
	if len(lapsing) > 0 {
		if unmet, err = explain(ctx, tx, c, lapsing); err != nil {
			return res, err
		}
	}

	// The roster after steps 1 and 2: each place's status, in order.
	type slot struct {
		p      placeRow
		status string // after this build
		since  *time.Time
		reason string
		isNew  bool
	}
	var slots []*slot
	has := map[int64]bool{}
	for _, p := range places {
		has[p.studentID] = true
		sl := &slot{p: p, status: p.status}
		cd, ok := cands[p.studentID]
		switch {
		case !ok && (p.status == Nominated || p.status == Waitlisted):
			sl.status, sl.reason = Withdrawn, lapseReason(unmet[p.studentID])
			res.Lapsed++
		case ok && p.status == Withdrawn && p.bySystem:
			since := cd.since
			sl.status, sl.since, sl.reason = Waitlisted, &since, "重新符合条件，进入候补"
			sl.p.since = since
			res.Reinstated++
		}
		slots = append(slots, sl)
	}
	var fresh []*slot
	for _, cd := range cands {
		if !has[cd.studentID] {
			since := cd.since
			fresh = append(fresh, &slot{p: placeRow{studentID: cd.studentID, schoolID: cd.schoolID, since: since},
				status: Waitlisted, since: &since, reason: "符合条件，进入候补", isNew: true})
		}
	}
	// New places wait in order of eligibility, then of graduate id; their
	// ids will follow that order and come after every existing place's.
	slices.SortFunc(fresh, func(a, b *slot) int {
		return cmp.Or(a.p.since.Compare(b.p.since), cmp.Compare(a.p.studentID, b.p.studentID))
	})
	res.Added = len(fresh)
	slots = append(slots, fresh...)

	// 3. Quotas on the graduates in the running.
	type school struct {
		d       Demand
		waiting []*slot
	}
	bySchool := map[int64]*school{}
	var order []int64
	holding := 0
	var waiting []*slot
	for _, sl := range slots {
		// Out of the running: withdrawn by the system (lapsed, now or
		// before, and not eligible again).
		if sl.status == Withdrawn && (sl.p.status != Withdrawn || sl.p.bySystem) {
			continue
		}
		sc := bySchool[sl.p.schoolID]
		if sc == nil {
			sc = &school{d: Demand{SchoolID: sl.p.schoolID}}
			bySchool[sl.p.schoolID] = sc
			order = append(order, sl.p.schoolID)
		}
		sc.d.Weight++
		switch {
		case held(sl.status):
			sc.d.Held++
			holding++
		case sl.status == Waitlisted:
			sc.waiting = append(sc.waiting, sl)
			waiting = append(waiting, sl)
		}
	}
	byWait := func(a, b *slot) int {
		return cmp.Or(a.p.since.Compare(b.p.since), cmp.Compare(boolInt(a.isNew), boolInt(b.isNew)),
			cmp.Compare(a.p.id, b.p.id), cmp.Compare(a.p.studentID, b.p.studentID))
	}
	slices.SortFunc(waiting, byWait)
	slices.Sort(order)
	demands := make([]Demand, len(order))
	for i, id := range order {
		slices.SortFunc(bySchool[id].waiting, byWait)
		demands[i] = bySchool[id].d
	}
	free := c.Capacity - holding
	if free > 0 && len(waiting) > 0 {
		quotas := Apportion(c.Capacity, demands)
		for i, id := range order {
			sc := bySchool[id]
			give := min(max(0, quotas[i]-sc.d.Held), len(sc.waiting), free)
			for _, sl := range sc.waiting[:give] {
				sl.status, sl.reason = Nominated, "按名额提名"
				free--
				res.Nominated++
			}
		}
		// Capacity no quota took is released to the whole waitlist.
		for _, sl := range waiting {
			if free == 0 {
				break
			}
			if sl.status == Waitlisted {
				sl.status, sl.reason = Nominated, "名额释放，按候补顺序提名"
				free--
				res.Nominated++
			}
		}
	}

	// Write: lapses first, then arrivals, then nominations, so that the
	// history never shows more places held than the capacity.
	var changes []change
	add := func(keep func(sl *slot) bool) {
		for _, sl := range slots {
			if sl.status != sl.p.status || sl.isNew {
				if keep(sl) {
					changes = append(changes, change{place: sl.p, to: sl.status, reason: sl.reason, since: sl.since})
				}
			}
		}
	}
	add(func(sl *slot) bool { return sl.status == Withdrawn })
	add(func(sl *slot) bool { return sl.status == Waitlisted })
	add(func(sl *slot) bool { return sl.status == Nominated })
	return res, s.write(ctx, tx, bangfu.Actor{}, c, changes)
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

// lapseReason is the reason recorded when the system withdraws a place.
func lapseReason(unmet []string) string {
	words := make([]string, 0, len(unmet))
	for _, u := range unmet {
		words = append(words, unmetText[u])
	}
	if len(words) == 0 {
		return "不再符合条件"
	}
	return "不再符合条件：" + strings.Join(words, "；")
}
