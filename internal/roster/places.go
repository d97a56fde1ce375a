package roster

import (
	"context"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"

	"github.com/bangfu/bangfu"
	"github.com/bangfu/bangfu/internal/graduate"
	"github.com/bangfu/bangfu/internal/ledger"
	"github.com/bangfu/bangfu/internal/postgres"
)

// Reason is why a place changes, as a person gives it.
type Reason struct {
	Reason string `json:"reason"`
}

// lockPlace locks the cohort of place id and then the place, on tx, and
// checks that a may act on it (see mayAct); any place a may not see is
// not_found.
func (s *Service) lockPlace(ctx context.Context, tx pgx.Tx, a bangfu.Actor, id int64) (Cohort, placeRow, error) {
	var cohortID int64
	if err := tx.QueryRow(ctx, `SELECT cohort_id FROM roster_places WHERE id = $1`, id).Scan(&cohortID); err != nil {
		return Cohort{}, placeRow{}, postgres.FormatError(err, "place")
	}
	c, err := lockCohort(ctx, tx, cohortID)
	if err != nil {
		return Cohort{}, placeRow{}, err
	}
	rows, _ := tx.Query(ctx, `SELECT `+placeRowColumns+` FROM roster_places WHERE id = $1 FOR UPDATE`, id)
	p, err := pgx.CollectExactlyOneRow(rows, scanPlaceRow)
	if err != nil {
		return Cohort{}, placeRow{}, postgres.FormatError(err, "place")
	}
	if err := s.sees(ctx, tx, a, c, p); err != nil {
		return Cohort{}, placeRow{}, err
	}
	return c, p, nil
}

// sees returns not_found unless a may see place p of cohort c: the
// graduate their own; school staff a graduate in their scope (as for the
// file); base staff a place of their base's cohort that is confirmed or
// further on; admins any place.
func (s *Service) sees(ctx context.Context, q postgres.Querier, a bangfu.Actor, c Cohort, p placeRow) error {
	switch a.Role {
	case bangfu.RoleAdmin:
		return nil
	case bangfu.RoleStudent:
		if a.StudentID != nil && *a.StudentID == p.studentID {
			return nil
		}
	case bangfu.RoleBase:
		if a.AtBase(c.BaseID) && c.State != Draft && atBase(p.status) {
			return nil
		}
	case bangfu.RoleCounselor, bangfu.RoleSupervisor, bangfu.RoleProvince:
		_, err := graduate.Access(ctx, q, a, p.studentID, false)
		if bangfu.ErrorCode(err) == bangfu.ENOTFOUND {
			return bangfu.NotFound("place")
		}
		return err
	}
	return bangfu.NotFound("place")
}

func conflict(format string, args ...any) error {
	return bangfu.Errorf(bangfu.ECONFLICT, format, args...)
}

var statusText = map[string]string{
	Nominated: "已提名", Confirmed: "已确认", Attending: "参训中", Completed: "已结业",
	Waitlisted: "候补", Declined: "已放弃", Withdrawn: "已退出",
}

// Confirm accepts the graduate's own nomination, before the cohort's
// nomination deadline. Anything but a nomination is conflict.
func (s *Service) Confirm(ctx context.Context, a bangfu.Actor, id int64) (Place, error) {
	return s.respond(ctx, a, id, Confirmed, "")
}

// Decline turns down the graduate's own nomination, before the deadline,
// with an optional reason; the next graduate of the same school on the
// waitlist is nominated in the same transaction, and the cohort's build
// enqueued (it releases the place to other schools when the school has
// nobody waiting).
func (s *Service) Decline(ctx context.Context, a bangfu.Actor, id int64, in Reason) (Place, error) {
	in.Reason = strings.TrimSpace(in.Reason)
	var p bangfu.Problems
	p.Text("reason", in.Reason, 500, false)
	if err := p.Err(); err != nil {
		return Place{}, err
	}
	return s.respond(ctx, a, id, Declined, in.Reason)
}

func (s *Service) respond(ctx context.Context, a bangfu.Actor, id int64, to, reason string) (Place, error) {
	if a.Role != bangfu.RoleStudent {
		return Place{}, bangfu.NotFound("place")
	}
	err := s.DB.InTx(ctx, func(tx pgx.Tx) error {
		c, p, err := s.lockPlace(ctx, tx, a, id)
		if err != nil {
			return err
		}
		switch {
		case p.status != Nominated:
			return conflict("Only a nomination can be confirmed or declined; this place is %s.", p.status)
		case !c.nominating(s.today()):
			return conflict("The nomination deadline (%s) has passed: ask your counselor.", c.NominationDeadline)
		}
		if reason == "" && to == Declined {
			reason = "本人放弃"
		}
		if err := s.write(ctx, tx, a, c, []change{{place: p, to: to, reason: reason}}); err != nil {
			return err
		}
		if to == Declined {
			return s.freed(ctx, tx, c, p)
		}
		return nil
	})
	if err != nil {
		return Place{}, err
	}
	return s.Place(ctx, a, id)
}

// Withdraw takes a graduate off a cohort's roster (counselor, supervisor:
// a graduate in their scope, else not_found), with the reason, which is
// required. A withdrawn graduate is not nominated for that cohort again.
// A place held is offered to the next graduate of the same school on the
// waitlist in the same transaction, and the cohort's build enqueued.
func (s *Service) Withdraw(ctx context.Context, a bangfu.Actor, id int64, in Reason) (Place, error) {
	in.Reason = strings.TrimSpace(in.Reason)
	var probs bangfu.Problems
	probs.Text("reason", in.Reason, 500, true)
	err := s.DB.InTx(ctx, func(tx pgx.Tx) error {
		if a.Role != bangfu.RoleCounselor && a.Role != bangfu.RoleSupervisor {
			return bangfu.NotFound("place")
		}
		c, p, err := s.lockPlace(ctx, tx, a, id)
		if err != nil {
			return err
		}
		if err := probs.Err(); err != nil {
			return err
		}
		switch {
		case p.status == Completed || p.status == Declined || p.status == Withdrawn:
			return conflict("This place is %s: there is nothing to withdraw.", p.status)
		case c.State != Open && c.State != Closed:
			return conflict("The cohort is %s: its roster no longer changes.", c.State)
		}
		if err := s.write(ctx, tx, a, c, []change{{place: p, to: Withdrawn, reason: in.Reason}}); err != nil {
			return err
		}
		if held(p.status) {
			return s.freed(ctx, tx, c, p)
		}
		return s.enqueueBuilds(ctx, tx, []int64{c.ID})
	})
	if err != nil {
		return Place{}, err
	}
	return s.Place(ctx, a, id)
}

// freed runs on tx after place p of cohort c stopped holding its place:
// while c takes nominations, the first eligible graduate of p's school on
// the waitlist is nominated (a withdrawal or decline promotes the same
// school first), and the cohort's build is enqueued to release the place
// to others when nobody of the school waits.
func (s *Service) freed(ctx context.Context, tx pgx.Tx, c Cohort, p placeRow) error {
	if !c.nominating(s.today()) {
		return nil
	}
	rows, err := tx.Query(ctx, `SELECT `+placeRowColumns+` FROM roster_places
		WHERE cohort_id = $1 AND school_id = $2 AND status = 'waitlisted' ORDER BY eligible_since, id`, c.ID, p.schoolID)
	if err != nil {
		return err
	}
	waiting, err := pgx.CollectRows(rows, scanPlaceRow)
	if err != nil {
		return err
	}
	// The first who is still eligible; the build lapses the others.
	for len(waiting) > 0 {
		batch := waiting[:min(len(waiting), 50)]
		waiting = waiting[len(batch):]
		ids := make([]int64, len(batch))
		for i, w := range batch {
			ids[i] = w.studentID
		}
		ok, err := eligible(ctx, tx, c, ids)
		if err != nil {
			return err
		}
		for _, w := range batch {
			if _, yes := ok[w.studentID]; yes {
				if err := s.write(ctx, tx, bangfu.Actor{}, c, []change{{place: w, to: Nominated, reason: "递补：同校名额空出"}}); err != nil {
					return err
				}
				return s.enqueueBuilds(ctx, tx, []int64{c.ID})
			}
		}
	}
	return s.enqueueBuilds(ctx, tx, []int64{c.ID})
}

// Attend records that a confirmed graduate attends (base staff of the
// cohort's base), from the cohort's start date until it is finished.
func (s *Service) Attend(ctx context.Context, a bangfu.Actor, id int64) (Place, error) {
	return s.progress(ctx, a, id, Confirmed, Attending)
}

// Complete records that an attending graduate completed the training
// (base staff of the cohort's base). In the same transaction the
// graduate's ledger gets an outcome entry (shared with the graduate) and
// every open hongzhi_training measure of their plan is marked done in a
// new plan revision (plan.CompleteMeasures); the builds of other cohorts
// are enqueued, since a graduate who completed one is eligible for none.
func (s *Service) Complete(ctx context.Context, a bangfu.Actor, id int64) (Place, error) {
	return s.progress(ctx, a, id, Attending, Completed)
}

func (s *Service) progress(ctx context.Context, a bangfu.Actor, id int64, from, to string) (Place, error) {
	if a.Role != bangfu.RoleBase {
		return Place{}, bangfu.NotFound("place")
	}
	err := s.DB.InTx(ctx, func(tx pgx.Tx) error {
		c, p, err := s.lockPlace(ctx, tx, a, id)
		if err != nil {
			return err
		}
		switch {
		case p.status != from:
			return conflict("Only a %s place can become %s; this one is %s.", from, to, p.status)
		case c.State != Open && c.State != Closed:
			return conflict("The cohort is %s: its roster no longer changes.", c.State)
		case s.today().Before(c.StartsOn):
			return conflict("The training starts on %s.", c.StartsOn)
		}
		if err := s.write(ctx, tx, a, c, []change{{place: p, to: to}}); err != nil {
			return err
		}
		if to != Completed {
			return nil
		}
		return s.completed(ctx, tx, a, c, p)
	})
	if err != nil {
		return Place{}, err
	}
	return s.Place(ctx, a, id)
}

// completed records on the graduate's file, on tx, that they completed
// cohort c.
func (s *Service) completed(ctx context.Context, tx pgx.Tx, a bangfu.Actor, c Cohort, p placeRow) error {
	h, err := graduate.Lock(ctx, tx, p.studentID)
	if err != nil {
		return err
	}
	base, err := s.base(ctx, tx, c.BaseID, false)
	if err != nil {
		return err
	}
	summary := fmt.Sprintf("完成宏志助航培训：%s（%s，%s 至 %s）", c.Name, base.Name, c.StartsOn, c.EndsOn)
	if _, err := s.Ledger.AppendTx(ctx, tx, a, h, ledger.Input{Kind: "outcome", OccurredAt: s.Clock.Now(), Summary: summary, Visibility: "shared"}); err != nil {
		return err
	}
	if _, _, err := s.Plans.CompleteMeasures(ctx, tx, a, h, MeasureKind, "宏志助航培训结业（由培训基地记录）："+c.Name); err != nil {
		return err
	}
	return s.OnEligibilityChange(ctx, tx, p.studentID)
}
