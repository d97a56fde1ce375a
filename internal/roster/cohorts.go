package roster

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/bangfu/bangfu"
	"github.com/bangfu/bangfu/internal/audit"
	"github.com/bangfu/bangfu/internal/postgres"
)

// Cohort is one training cohort of a base.
type Cohort struct {
	ID                 int64       `json:"id"`
	BaseID             int64       `json:"base_id"`
	BaseName           string      `json:"base_name"`
	Name               string      `json:"name"`
	Mode               string      `json:"mode"`
	StartsOn           bangfu.Date `json:"starts_on"`
	EndsOn             bangfu.Date `json:"ends_on"`
	Capacity           int         `json:"capacity"`
	TargetYear         int         `json:"target_year"`
	NominationDeadline bangfu.Date `json:"nomination_deadline"`
	State              string      `json:"state"`
	// Counts are the cohort's places by status (all of them, whoever asks:
	// numbers name nobody).
	Counts    map[string]int `json:"counts"`
	CreatedAt time.Time      `json:"created_at"`
	UpdatedAt time.Time      `json:"updated_at"`
	Version   int            `json:"version"`
}

// ETagVersion is the version clients send back in If-Match.
func (c Cohort) ETagVersion() int { return c.Version }

// nominating reports whether the cohort takes nominations and answers to
// them on day today: open, and its deadline not past.
func (c Cohort) nominating(today bangfu.Date) bool {
	return c.State == Open && !today.After(c.NominationDeadline)
}

// CohortInput creates a cohort, in draft.
type CohortInput struct {
	BaseID             int64  `json:"base_id"`
	Name               string `json:"name"`
	Mode               string `json:"mode"`
	StartsOn           string `json:"starts_on"`
	EndsOn             string `json:"ends_on"`
	Capacity           int    `json:"capacity"`
	TargetYear         int    `json:"target_year"`
	NominationDeadline string `json:"nomination_deadline"`
}

// CohortPatch changes a cohort; absent fields stay as they are. State
// moves it on: draft → open → closed → finished. A draft may change in
// everything; an open cohort keeps its base and target year, its dates may
// not move into the past and its capacity not below the places held; a
// closed or finished one may only be renamed or moved on.
type CohortPatch struct {
	Name               *string `json:"name"`
	Mode               *string `json:"mode"`
	StartsOn           *string `json:"starts_on"`
	EndsOn             *string `json:"ends_on"`
	Capacity           *int    `json:"capacity"`
	TargetYear         *int    `json:"target_year"`
	NominationDeadline *string `json:"nomination_deadline"`
	BaseID             *int64  `json:"base_id"`
	State              *string `json:"state"`
}

const cohortColumns = `c.id, c.base_id, b.name, c.name, c.mode, c.starts_on, c.ends_on, c.capacity, c.target_year,
	c.nomination_deadline, c.state, c.created_at, c.updated_at, c.version`

const cohortFrom = ` FROM cohorts c JOIN training_bases b ON b.id = c.base_id`

func scanCohort(row pgx.CollectableRow) (Cohort, error) {
	var c Cohort
	var starts, ends, deadline time.Time
	err := row.Scan(&c.ID, &c.BaseID, &c.BaseName, &c.Name, &c.Mode, &starts, &ends, &c.Capacity, &c.TargetYear,
		&deadline, &c.State, &c.CreatedAt, &c.UpdatedAt, &c.Version)
	c.StartsOn, c.EndsOn, c.NominationDeadline = bangfu.DateFromDB(starts), bangfu.DateFromDB(ends), bangfu.DateFromDB(deadline)
	return c, err
}

// lockCohort reads cohort id and locks its row for the transaction: every
// change to the cohort's places takes this lock first.
func lockCohort(ctx context.Context, tx pgx.Tx, id int64) (Cohort, error) {
	rows, _ := tx.Query(ctx, `SELECT `+cohortColumns+cohortFrom+` WHERE c.id = $1 FOR NO KEY UPDATE OF c`, id)
	c, err := pgx.CollectExactlyOneRow(rows, scanCohort)
	return c, postgres.FormatError(err, "cohort")
}

// cohortFields is a cohort's editable fields, parsed and checked.
type cohortFields struct {
	baseID                    int64
	name, mode                string
	starts, ends, deadline    *bangfu.Date
	capacity, targetYear      int
	startsRaw, endsRaw, dlRaw string
	checkDeadline             bool
}

func (f *cohortFields) check(p *bangfu.Problems, today bangfu.Date) {
	f.name = strings.TrimSpace(f.name)
	p.Text("name", f.name, 100, true)
	if !oneOf(f.mode, Modes) {
		p.Add("mode", "must be online or offline")
	}
	if f.baseID <= 0 {
		p.Add("base_id", "is required")
	}
	f.starts = requiredDate(p, "starts_on", f.startsRaw)
	f.ends = requiredDate(p, "ends_on", f.endsRaw)
	f.deadline = requiredDate(p, "nomination_deadline", f.dlRaw)
	if f.capacity < 1 || f.capacity > 100000 {
		p.Add("capacity", "must be a number of places from 1 to 100000")
	}
	thisYear := today.Time().Year()
	if f.targetYear < thisYear-5 || f.targetYear > thisYear+5 {
		p.Add("target_year", fmt.Sprintf("must be a graduation year from %d to %d", thisYear-5, thisYear+5))
	}
	if f.starts != nil && f.ends != nil && f.ends.Before(*f.starts) {
		p.Add("ends_on", "is before starts_on")
	}
	if f.starts != nil && f.deadline != nil && f.deadline.After(*f.starts) {
		p.Add("nomination_deadline", "is after starts_on: graduates confirm before the training starts")
	}
	if f.checkDeadline && f.deadline != nil && f.deadline.Before(today) {
		p.Add("nomination_deadline", "is in the past")
	}
}

func requiredDate(p *bangfu.Problems, field, v string) *bangfu.Date {
	if strings.TrimSpace(v) == "" {
		p.Add(field, "is required")
		return nil
	}
	return bangfu.ParseDate(p, field, strings.TrimSpace(v))
}

// CreateCohort adds a cohort in draft (admin), audited.
func (s *Service) CreateCohort(ctx context.Context, a bangfu.Actor, in CohortInput) (Cohort, error) {
	f := cohortFields{baseID: in.BaseID, name: in.Name, mode: in.Mode, startsRaw: in.StartsOn, endsRaw: in.EndsOn, dlRaw: in.NominationDeadline,
		capacity: in.Capacity, targetYear: in.TargetYear, checkDeadline: true}
	var p bangfu.Problems
	f.check(&p, s.today())
	if err := p.Err(); err != nil {
		return Cohort{}, err
	}
	var id int64
	err := s.DB.InTx(ctx, func(tx pgx.Tx) error {
		now := s.now()
		err := tx.QueryRow(ctx, `INSERT INTO cohorts (base_id, name, mode, starts_on, ends_on, capacity, target_year, nomination_deadline,
				created_at, updated_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $9) RETURNING id`,
			f.baseID, f.name, f.mode, f.starts.Time(), f.ends.Time(), f.capacity, f.targetYear, f.deadline.Time(), now).Scan(&id)
		if err != nil {
			return postgres.FormatError(err, "cohort")
		}
		if _, err := tx.Exec(ctx, `INSERT INTO roster_build_epochs (cohort_id) VALUES ($1)`, id); err != nil {
			return err
		}
		return audit.Record(ctx, tx, a, now, audit.Event{Action: AuditCohortCreate, Detail: map[string]any{"cohort_id": id, "base_id": f.baseID}})
	})
	if err != nil {
		return Cohort{}, err
	}
	return s.cohort(ctx, s.DB.Pool, id)
}

// cohort reads one cohort with its counts.
func (s *Service) cohort(ctx context.Context, q postgres.Querier, id int64) (Cohort, error) {
	rows, _ := q.Query(ctx, `SELECT `+cohortColumns+cohortFrom+` WHERE c.id = $1`, id)
	c, err := pgx.CollectExactlyOneRow(rows, scanCohort)
	if err != nil {
		return Cohort{}, postgres.FormatError(err, "cohort")
	}
	counts, err := s.counts(ctx, q, []int64{id})
	c.Counts = counts[id]
	return c, err
}

// counts returns the places of each cohort by status, every status present.
func (s *Service) counts(ctx context.Context, q postgres.Querier, ids []int64) (map[int64]map[string]int, error) {
	out := map[int64]map[string]int{}
	for _, id := range ids {
		out[id] = map[string]int{}
		for _, st := range Statuses {
			out[id][st] = 0
		}
	}
	rows, err := q.Query(ctx, `SELECT cohort_id, status, count(*) FROM roster_places WHERE cohort_id = ANY($1) GROUP BY 1, 2`, ids)
	if err != nil {
		return nil, err
	}
	var id int64
	var st string
	var n int
	_, err = pgx.ForEachRow(rows, []any{&id, &st, &n}, func() error { out[id][st] = n; return nil })
	return out, err
}

// visibleCohort reports whether a may see cohort c at all: admins every
// cohort, base staff their base's, school staff every cohort past draft
// (a province-wide programme). Others see a cohort only through a place.
func visibleCohort(a bangfu.Actor, c Cohort) bool {
	switch a.Role {
	case bangfu.RoleAdmin:
		return true
	case bangfu.RoleBase:
		return a.AtBase(c.BaseID) && c.State != Draft
	case bangfu.RoleSupervisor, bangfu.RoleCounselor:
		return c.State != Draft
	}
	return false
}

// CohortFilter narrows ListCohorts.
type CohortFilter struct {
	State  string
	BaseID *int64
}

// ListCohorts returns one page of the cohorts a may see, newest first by
// id (see visibleCohort).
func (s *Service) ListCohorts(ctx context.Context, a bangfu.Actor, f CohortFilter, pg bangfu.Page) (bangfu.List[Cohort], error) {
	if f.State != "" && !oneOf(f.State, CohortStates) {
		return bangfu.List[Cohort]{}, (bangfu.Problems{"state": "must be one of " + strings.Join(CohortStates, ", ")}).Err()
	}
	w := &postgres.Where{}
	switch a.Role {
	case bangfu.RoleAdmin:
	case bangfu.RoleBase:
		if a.BaseID == nil {
			w.Add("false")
		} else {
			w.Add("c.base_id = ?", *a.BaseID)
		}
		w.Add("c.state <> 'draft'")
	case bangfu.RoleSupervisor, bangfu.RoleCounselor:
		w.Add("c.state <> 'draft'")
	default:
		w.Add("false")
	}
	if f.State != "" {
		w.Add("c.state = ?", f.State)
	}
	if f.BaseID != nil {
		w.Add("c.base_id = ?", *f.BaseID)
	}
	if pg.After > 0 {
		w.Add("c.id < ?", pg.After)
	}
	w.Args = append(w.Args, pg.Limit+1)
	rows, err := s.DB.Pool.Query(ctx, `SELECT `+cohortColumns+cohortFrom+` WHERE `+w.String()+
		fmt.Sprintf(` ORDER BY c.id DESC LIMIT $%d`, len(w.Args)), w.Args...)
	if err != nil {
		return bangfu.List[Cohort]{}, err
	}
	items, err := pgx.CollectRows(rows, scanCohort)
	if err != nil {
		return bangfu.List[Cohort]{}, err
	}
	l := bangfu.NewList(items, pg.Limit, func(c Cohort) int64 { return c.ID })
	ids := make([]int64, len(l.Items))
	for i, c := range l.Items {
		ids[i] = c.ID
	}
	counts, err := s.counts(ctx, s.DB.Pool, ids)
	for i := range l.Items {
		l.Items[i].Counts = counts[l.Items[i].ID]
	}
	return l, err
}

// Cohort returns cohort id if a may see it (see visibleCohort), not_found
// otherwise.
func (s *Service) Cohort(ctx context.Context, a bangfu.Actor, id int64) (Cohort, error) {
	c, err := s.cohort(ctx, s.DB.Pool, id)
	if err != nil {
		return Cohort{}, err
	}
	if !visibleCohort(a, c) {
		return Cohort{}, bangfu.NotFound("cohort")
	}
	return c, nil
}

// transitions are the moves of a cohort's state.
var transitions = map[string]string{Draft: Open, Open: Closed, Closed: Finished}

// UpdateCohort applies patch if the cohort is still at version (stale is
// precondition_failed; see CohortPatch for what may change when), audited.
// Opening a cohort enqueues its first build in the same transaction, and
// so does a larger capacity or a later deadline of an open one. Closing it
// withdraws, by the system, the nominations nobody confirmed and the
// waitlist.
func (s *Service) UpdateCohort(ctx context.Context, a bangfu.Actor, id int64, version int, patch CohortPatch) (Cohort, error) {
	err := s.DB.InTx(ctx, func(tx pgx.Tx) error {
		c, err := lockCohort(ctx, tx, id)
		if err != nil {
			return err
		}
		if c.Version != version {
			return bangfu.Errorf(bangfu.EPRECONDITIONFAILED, "The cohort was changed since version %d (it is now at version %d); reload it and apply your change again.", version, c.Version)
		}
		today := s.today()
		f := cohortFields{baseID: c.BaseID, name: c.Name, mode: c.Mode, startsRaw: c.StartsOn.String(), endsRaw: c.EndsOn.String(),
			dlRaw: c.NominationDeadline.String(), capacity: c.Capacity, targetYear: c.TargetYear}
		var changed []string
		var p bangfu.Problems
		set := func(field string, ok bool, allowed bool, apply func()) {
			if !ok {
				return
			}
			if !allowed {
				p.Add(field, "cannot change once the cohort is "+c.State)
				return
			}
			apply()
			changed = append(changed, field)
		}
		draft, open := c.State == Draft, c.State == Open
		set("name", patch.Name != nil, true, func() { f.name = *patch.Name })
		set("mode", patch.Mode != nil, draft || open, func() { f.mode = *patch.Mode })
		set("starts_on", patch.StartsOn != nil, draft || open, func() { f.startsRaw = *patch.StartsOn })
		set("ends_on", patch.EndsOn != nil, draft || open, func() { f.endsRaw = *patch.EndsOn })
		set("capacity", patch.Capacity != nil, draft || open, func() { f.capacity = *patch.Capacity })
		set("nomination_deadline", patch.NominationDeadline != nil, draft || open, func() {
			f.dlRaw, f.checkDeadline = *patch.NominationDeadline, true
		})
		set("target_year", patch.TargetYear != nil, draft, func() { f.targetYear = *patch.TargetYear })
		set("base_id", patch.BaseID != nil, draft, func() { f.baseID = *patch.BaseID })
		state := c.State
		if patch.State != nil && *patch.State != c.State {
			switch {
			case !oneOf(*patch.State, CohortStates):
				p.Add("state", "must be one of "+strings.Join(CohortStates, ", "))
			case transitions[c.State] != *patch.State:
				p.Add("state", fmt.Sprintf("cannot change from %s to %s (draft → open → closed → finished)", c.State, *patch.State))
			default:
				state = *patch.State
				changed = append(changed, "state")
			}
		}
		if state == Open && c.State == Draft {
			f.checkDeadline = true
		}
		f.check(&p, today)
		var heldNow int
		if patch.Capacity != nil && open {
			if err := tx.QueryRow(ctx, `SELECT count(*) FROM roster_places WHERE cohort_id = $1
				AND status IN ('nominated', 'confirmed', 'attending', 'completed')`, id).Scan(&heldNow); err != nil {
				return err
			}
			if f.capacity < heldNow {
				p.Add("capacity", fmt.Sprintf("is below the %d places already held", heldNow))
			}
		}
		if err := p.Err(); err != nil {
			return err
		}
		if len(changed) == 0 {
			return nil
		}
		now := s.now()
		if _, err := tx.Exec(ctx, `UPDATE cohorts SET base_id = $2, name = $3, mode = $4, starts_on = $5, ends_on = $6, capacity = $7,
				target_year = $8, nomination_deadline = $9, state = $10, updated_at = $11, version = version + 1
			WHERE id = $1`, id, f.baseID, f.name, f.mode, f.starts.Time(), f.ends.Time(), f.capacity, f.targetYear, f.deadline.Time(),
			state, now); err != nil {
			return postgres.FormatError(err, "cohort")
		}
		if err := audit.Record(ctx, tx, a, now, audit.Event{Action: AuditCohortUpdate, Fields: changed,
			Detail: map[string]any{"cohort_id": id, "from": c.State, "state": state}}); err != nil {
			return err
		}
		from := c.State
		if c, err = lockCohort(ctx, tx, id); err != nil {
			return err
		}
		switch {
		case from == Open && state == Closed:
			return s.close(ctx, tx, c)
		case state == Open:
			// Opened, or more room, a later deadline, other dates: build.
			return s.enqueueBuilds(ctx, tx, []int64{id})
		}
		return nil
	})
	if err != nil {
		return Cohort{}, err
	}
	return s.cohort(ctx, s.DB.Pool, id)
}

// close withdraws, by the system, the nominations of c that nobody
// confirmed and its waitlist, giving the reason.
func (s *Service) close(ctx context.Context, tx pgx.Tx, c Cohort) error {
	places, err := s.loadPlaces(ctx, tx, c.ID)
	if err != nil {
		return err
	}
	var changes []change
	for _, p := range places {
		switch p.status {
		case Nominated:
			changes = append(changes, change{place: p, to: Withdrawn, reason: "名单已截止：未在确认截止日前确认"})
		case Waitlisted:
			changes = append(changes, change{place: p, to: Withdrawn, reason: "名单已截止：候补未递补"})
		}
	}
	return s.write(ctx, tx, bangfu.Actor{}, c, changes)
}
