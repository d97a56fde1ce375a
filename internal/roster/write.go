package roster

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"

	"github.com/bangfu/bangfu"
	"github.com/bangfu/bangfu/internal/audit"
	"github.com/bangfu/bangfu/internal/postgres"
)

// placeRow is a place as the writers read it.
type placeRow struct {
	id, studentID, schoolID int64
	status                  string
	since                   time.Time
	// bySystem: the last change was the system's (changed_by NULL).
	bySystem bool
	version  int
}

const placeRowColumns = `id, student_id, school_id, status, eligible_since, changed_by IS NULL, version`

func scanPlaceRow(row pgx.CollectableRow) (placeRow, error) {
	var p placeRow
	err := row.Scan(&p.id, &p.studentID, &p.schoolID, &p.status, &p.since, &p.bySystem, &p.version)
	return p, err
}

// loadPlaces reads every place of cohort id, in waitlist order.
func (s *Service) loadPlaces(ctx context.Context, tx pgx.Tx, id int64) ([]placeRow, error) {
	rows, err := tx.Query(ctx, `SELECT `+placeRowColumns+` FROM roster_places WHERE cohort_id = $1 ORDER BY eligible_since, id`, id)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, scanPlaceRow)
}

// change is one change of a place: an existing one (place.id set) or a
// new one (place.id zero; studentID, schoolID and since set).
type change struct {
	place  placeRow
	to     string
	reason string
	// since, when set, becomes the place's eligible_since (a graduate
	// back on the waitlist waits from when they became eligible again).
	since *time.Time
}

// delivered reports whether the base hears of a change from one status
// to another: when the place is or was one the cohort holds for the
// graduate. Joining or leaving the waitlist concerns the schools only.
func delivered(from, to string) bool { return held(from) || held(to) }

// write applies changes to places of cohort c on tx (which holds c's
// lock) in order, as a: each place's status, reason and who changed it;
// one history event per change; the base's delivery of each change it
// hears of, with its roster_deliver job; an audit row per change made by a
// person, or one for all the changes of the system (a zero a.UserID). It fails, writing nothing, if the cohort would
// hold more places than its capacity.
func (s *Service) write(ctx context.Context, tx pgx.Tx, a bangfu.Actor, c Cohort, changes []change) error {
	if len(changes) == 0 {
		return nil
	}
	now := s.now()
	var actor *int64
	role := "system"
	if a.UserID != 0 {
		actor, role = &a.UserID, string(a.Role)
	}

	var (
		upIDs             []int64
		upStatus, upWhy   []string
		upSince           []*time.Time
		newStudent, newSc []int64
		newStatus, newWhy []string
		newSince          []time.Time
	)
	for _, ch := range changes {
		if ch.place.id != 0 {
			upIDs, upStatus, upWhy, upSince = append(upIDs, ch.place.id), append(upStatus, ch.to), append(upWhy, ch.reason), append(upSince, ch.since)
		} else {
			newStudent, newSc = append(newStudent, ch.place.studentID), append(newSc, ch.place.schoolID)
			newStatus, newWhy, newSince = append(newStatus, ch.to), append(newWhy, ch.reason), append(newSince, *ch.since)
		}
	}
	if len(upIDs) > 0 {
		if _, err := tx.Exec(ctx, `UPDATE roster_places p SET status = u.status, reason = u.reason, changed_by = $2, changed_at = $3,
				eligible_since = coalesce(u.since, p.eligible_since), version = p.version + 1
			FROM unnest($1::bigint[], $4::text[], $5::text[], $6::timestamptz[]) AS u(id, status, reason, since)
			WHERE p.id = u.id`, upIDs, actor, now, upStatus, upWhy, upSince); err != nil {
			return err
		}
	}
	// New places and the events are copied (COPY), in order, so that ids
	// follow the waitlist; this write holds the cohort's lock, so the
	// cohort's rows past the ids read before are this write's.
	var placesBefore, eventsBefore int64
	if err := tx.QueryRow(ctx, `SELECT coalesce((SELECT max(id) FROM roster_places WHERE cohort_id = $1), 0),
		coalesce((SELECT max(id) FROM roster_events WHERE cohort_id = $1), 0)`, c.ID).Scan(&placesBefore, &eventsBefore); err != nil {
		return err
	}
	newIDs := map[int64]int64{}
	if len(newStudent) > 0 {
		if _, err := tx.CopyFrom(ctx, pgx.Identifier{"roster_places"},
			[]string{"cohort_id", "student_id", "school_id", "status", "eligible_since", "reason", "changed_by", "changed_at", "created_at"},
			pgx.CopyFromSlice(len(newStudent), func(i int) ([]any, error) {
				return []any{c.ID, newStudent[i], newSc[i], newStatus[i], newSince[i], newWhy[i], actor, now, now}, nil
			})); err != nil {
			return postgres.FormatError(err, "place")
		}
		rows, err := tx.Query(ctx, `SELECT id, student_id FROM roster_places WHERE cohort_id = $1 AND id > $2`, c.ID, placesBefore)
		if err != nil {
			return err
		}
		var id, student int64
		if _, err := pgx.ForEachRow(rows, []any{&id, &student}, func() error { newIDs[student] = id; return nil }); err != nil {
			return err
		}
	}

	placeIDs := make([]int64, len(changes))
	for i, ch := range changes {
		placeIDs[i] = ch.place.id
		if placeIDs[i] == 0 {
			placeIDs[i] = newIDs[ch.place.studentID]
		}
	}
	if _, err := tx.CopyFrom(ctx, pgx.Identifier{"roster_events"},
		[]string{"place_id", "cohort_id", "student_id", "from_status", "to_status", "actor_id", "actor_role", "reason", "at"},
		pgx.CopyFromSlice(len(changes), func(i int) ([]any, error) {
			ch := changes[i]
			return []any{placeIDs[i], c.ID, ch.place.studentID, ch.place.status, ch.to, actor, role, ch.reason, now}, nil
		})); err != nil {
		return err
	}
	var deliver []int64
	if slices.ContainsFunc(changes, func(ch change) bool { return delivered(ch.place.status, ch.to) }) {
		rows, err := tx.Query(ctx, `SELECT id FROM roster_events WHERE cohort_id = $1 AND id > $2
			AND (from_status IN ('nominated', 'confirmed', 'attending', 'completed') OR to_status IN ('nominated', 'confirmed', 'attending', 'completed'))
			ORDER BY id`, c.ID, eventsBefore)
		if err != nil {
			return err
		}
		if deliver, err = pgx.CollectRows(rows, pgx.RowTo[int64]); err != nil {
			return err
		}
	}
	if len(deliver) > 0 {
		if _, err := tx.Exec(ctx, `INSERT INTO roster_deliveries (event_id, cohort_id, base_id, created_at)
			SELECT e, $2, $3, $4 FROM unnest($1::bigint[]) AS e`, deliver, c.ID, c.BaseID, now); err != nil {
			return err
		}
		jobs := make([]river.InsertManyParams, len(deliver))
		for i, id := range deliver {
			jobs[i] = river.InsertManyParams{Args: DeliverArgs{EventID: id}}
		}
		if _, err := s.River.InsertManyTx(ctx, tx, jobs); err != nil {
			return err
		}
	}

	// People's changes are audited one by one; the system's (a build, a
	// closing) as one entry with its counts, each place's change being in
	// the roster's own append-only history.
	if a.UserID != 0 {
		events := make([]audit.Event, len(changes))
		for i, ch := range changes {
			events[i] = audit.Event{Action: AuditPlace, StudentID: ch.place.studentID, SchoolID: ch.place.schoolID, Reason: ch.reason,
				Detail: map[string]any{"cohort_id": c.ID, "place_id": placeIDs[i], "from": ch.place.status, "to": ch.to}}
		}
		if err := audit.RecordMany(ctx, tx, a, now, events); err != nil {
			return err
		}
	} else {
		counts := map[string]int{}
		for _, ch := range changes {
			counts[ch.to]++
		}
		if err := audit.Record(ctx, tx, a, now, audit.Event{Action: AuditSystem,
			Detail: map[string]any{"cohort_id": c.ID, "changes": len(changes), "to": counts}}); err != nil {
			return err
		}
	}

	var holding int
	if err := tx.QueryRow(ctx, `SELECT count(*) FROM roster_places WHERE cohort_id = $1
		AND status IN ('nominated', 'confirmed', 'attending', 'completed')`, c.ID).Scan(&holding); err != nil {
		return err
	}
	if holding > c.Capacity {
		return fmt.Errorf("roster: cohort %d would hold %d places, over its capacity %d", c.ID, holding, c.Capacity)
	}
	return nil
}
