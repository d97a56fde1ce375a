package escalation

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"

	"github.com/bangfu/bangfu"
	"github.com/bangfu/bangfu/internal/graduate"
	"github.com/bangfu/bangfu/internal/notify"
	"github.com/bangfu/bangfu/internal/postgres"
	"github.com/bangfu/bangfu/internal/settings"
)

// A graduate in the caseload without a placing destination — none recorded
// yet, or 70, 71 or 72 (the codes that do not count towards 去向落实率) — is
// case_activity's followed and unplaced (kept by graduate), indexed by
// case_activity_unplaced_idx (migration 0017).

// dueMeasuresSQL is the unfinished measures due before $2 of the current
// plans of the cases in the caseload, each with its case's school and the
// episode that names it in escalations: index-only through
// plan_measures_due_cover_idx and case_activity_followed_idx (migration
// 0022).
const dueMeasuresSQL = `SELECT m.student_id, ca.school_id, m.revision, m.position, m.revision || ':' || m.position AS episode
	FROM plan_measures m JOIN case_activity ca ON ca.student_id = m.student_id AND ca.plan_revision = m.revision
	WHERE m.due_on < $2 AND m.status IN ('planned', 'in_progress') AND ca.followed`

// SweepArgs is the periodic stall sweep.
type SweepArgs struct{}

// Kind is the job's name in River.
func (SweepArgs) Kind() string { return "stall_sweep" }

// SweepWorker works SweepArgs.
type SweepWorker struct {
	river.WorkerDefaults[SweepArgs]
	DB       *postgres.DB
	Clock    bangfu.Clock
	Settings *settings.Store
	Notify   *notify.Service
}

// Timeout bounds one sweep.
func (w *SweepWorker) Timeout(*river.Job[SweepArgs]) time.Duration { return 5 * time.Minute }

// Result counts what one sweep did.
type Result struct {
	Raised   map[string]int // by kind
	Cleared  int
	Notified int
}

// Work runs one sweep in one transaction. A sweep cut off midway leaves
// nothing behind, and its retry (or a second sweep) raises nothing twice.
func (w *SweepWorker) Work(ctx context.Context, _ *river.Job[SweepArgs]) error {
	return w.DB.InTx(ctx, func(tx pgx.Tx) error {
		_, err := w.Sweep(ctx, tx)
		return err
	})
}

// Sweep finds stalled cases and raises what is due, set-based, on tx:
//
//   - no contact for StallDays[0]/[1]/[2] days (after graduation,
//     AfterGraduationStallDays): levels 1, 2, 3 — one level per sweep, each level of a quiet spell (episode) at most once, and a
//     level only once the one below has stood for the difference between
//     their thresholds;
//   - a measure of the current plan past its due date;
//   - fewer referrals than ReferralMinimum ReferralWindowDays after the
//     case became active;
//   - no placing destination (none, or 70, 71, 72) after 31 July of the
//     graduation year.
//
// Flags whose condition has cleared are resolved. Running it twice, or in
// two processes at once, raises nothing twice (a unique key per episode).
func (w *SweepWorker) Sweep(ctx context.Context, tx pgx.Tx) (Result, error) {
	res := Result{Raised: map[string]int{}}
	cfg, err := w.Settings.Get(ctx, tx)
	if err != nil {
		return res, err
	}
	now := w.Clock.Now()
	today := bangfu.Today(w.Clock).Time()
	after := cfg.AfterGraduationStallDays()

	type raised struct {
		ID, StudentID int64
		Level         int
		Kind          string
	}
	var all []raised
	collect := func(sql string, args ...any) error {
		rows, err := tx.Query(ctx, sql, args...)
		if err != nil {
			return err
		}
		got, err := pgx.CollectRows(rows, pgx.RowToStructByPos[raised])
		for _, r := range got {
			res.Raised[r.Kind]++
		}
		all = append(all, got...)
		return err
	}

	// One level per case and run, and level n+1 of an episode only once
	// level n has stood for the difference between their thresholds: a
	// sweep run again at once (a restart runs it at start) raises nothing
	// more, and a case found long quiet still climbs one step at a time.
	if err := collect(`
		WITH quiet AS MATERIALIZED (
			-- The narrow case_activity rows of the cases in the caseload
			-- quiet long enough for the lowest threshold, through their
			-- small partial index; no wide students row is read.
			SELECT ca.student_id AS id, ca.school_id, ca.quiet_since AS since,
			       CASE WHEN `+graduate.AfterGraduationOfSQL("$5", "ca.graduation_year")+` THEN ARRAY[$6::int, $7::int, $8::int]
			            ELSE ARRAY[$2::int, $3::int, $4::int] END AS t
			FROM case_activity ca
			WHERE ca.followed AND ca.quiet_since <= $1::timestamptz - make_interval(days => least($2::int, $6::int))
		), due AS (
			SELECT q.id, q.school_id, q.t, extract(epoch FROM q.since)::bigint::text AS episode,
			       floor(extract(epoch FROM $1::timestamptz - q.since) / 86400)::int AS days,
			       CASE WHEN q.since <= $1::timestamptz - make_interval(days => q.t[3]) THEN 3
			            WHEN q.since <= $1::timestamptz - make_interval(days => q.t[2]) THEN 2
			            WHEN q.since <= $1::timestamptz - make_interval(days => q.t[1]) THEN 1 ELSE 0 END AS due_level,
			       coalesce(last.level, 0) AS have, last.raised_at AS have_at
			FROM quiet q LEFT JOIN LATERAL (
				SELECT e.level, e.raised_at FROM escalations e
				WHERE e.student_id = q.id AND e.kind = 'no_contact' AND e.episode = extract(epoch FROM q.since)::bigint::text
				ORDER BY e.level DESC LIMIT 1) last ON true
		)
		INSERT INTO escalations (student_id, school_id, kind, level, episode, reason, raised_at)
		SELECT id, school_id, 'no_contact', have + 1, episode, format('已 %s 天未联系', days), $1
		FROM due
		WHERE have < due_level
		  AND (have = 0 OR have_at <= $1::timestamptz - make_interval(days => t[have + 1] - t[have]))
		ON CONFLICT (student_id, kind, level, episode) DO NOTHING
		RETURNING id, student_id, level, kind`,
		now, cfg.StallDays[0], cfg.StallDays[1], cfg.StallDays[2], today, after[0], after[1], after[2]); err != nil {
		return res, err
	}

	// The due measures come from two covering indexes (migration 0022);
	// only those not flagged yet read their row, for the description.
	if err := collect(`
		WITH due AS MATERIALIZED (`+dueMeasuresSQL+`), unflagged AS MATERIALIZED (
			SELECT d.* FROM due d
			WHERE NOT EXISTS (SELECT 1 FROM escalations e WHERE e.student_id = d.student_id AND e.kind = 'measure_overdue'
			                    AND e.level = 1 AND e.episode = d.episode))
		INSERT INTO escalations (student_id, school_id, kind, level, episode, reason, raised_at)
		SELECT d.student_id, d.school_id, 'measure_overdue', 1, d.episode,
		       format('帮扶措施已过截止日期（%s）：%s', m.due_on, left(m.description, 100)), $1
		FROM unflagged d JOIN plan_measures m ON m.student_id = d.student_id AND m.revision = d.revision AND m.position = d.position
		ON CONFLICT (student_id, kind, level, episode) DO NOTHING
		RETURNING id, student_id, level, kind`, now, today); err != nil {
		return res, err
	}

	if err := collect(`
		INSERT INTO escalations (student_id, school_id, kind, level, episode, reason, raised_at)
		SELECT ca.student_id, ca.school_id, 'referrals_short', 1, extract(epoch FROM ca.activated_at)::bigint::text,
		       format('帮扶 %s 天内仅推荐 %s 个岗位（应不少于 %s 个）', $2::int, ca.referrals_count, $3::int), $1
		FROM case_activity ca
		-- Active, not open: a case in the caseload that has been activated.
		WHERE ca.followed AND ca.activated_at <= $1::timestamptz - make_interval(days => $2::int) AND ca.referrals_count < $3
		ON CONFLICT (student_id, kind, level, episode) DO NOTHING
		RETURNING id, student_id, level, kind`, now, cfg.ReferralWindowDays, cfg.ReferralMinimum); err != nil {
		return res, err
	}

	if err := collect(`
		INSERT INTO escalations (student_id, school_id, kind, level, episode, reason, raised_at)
		SELECT ca.student_id, ca.school_id, 'unplaced_after_july', 1, ca.graduation_year::text,
		       format('%s 届毕业生 7 月 31 日后仍未落实毕业去向', ca.graduation_year), $1
		FROM case_activity ca
		-- Graduation years up to $2, of which 31 July has passed: a range
		-- of the partial index that the planner estimates right, so that
		-- it checks the existing flags in one pass rather than by one
		-- probe per unplaced case.
		WHERE ca.followed AND ca.unplaced AND ca.graduation_year <= $2
		  AND NOT EXISTS (SELECT 1 FROM escalations e WHERE e.student_id = ca.student_id AND e.kind = 'unplaced_after_july'
		                    AND e.level = 1 AND e.episode = ca.graduation_year::text)
		ON CONFLICT (student_id, kind, level, episode) DO NOTHING
		RETURNING id, student_id, level, kind`, now, unplacedUpTo(today)); err != nil {
		return res, err
	}

	// Flags whose condition no longer holds resolve themselves, and their
	// notifications say so; a case that left the caseload (placed, closed,
	// transferred, handed over) clears them all.
	//
	// Each unresolved flag is checked against its case's entry in
	// case_activity_followed_idx (migration 0022: the ~72,000 cases in the
	// caseload, index-only), none meaning that the case left it; the
	// referral counts, which no index holds, are read for the few
	// referral flags only, and the measure flags are matched against the
	// due measures in one pass.
	rows, err := tx.Query(ctx, `
		WITH due AS MATERIALIZED (`+dueMeasuresSQL+`)
		UPDATE escalations e SET status = 'resolved', resolved_at = $1, resolve_note = '条件已消除（系统巡查）'
		FROM (
			SELECT f.id FROM escalations f
			LEFT JOIN case_activity ca ON ca.student_id = f.student_id AND ca.followed
			WHERE f.status <> 'resolved' AND (
			     ca.student_id IS NULL
			  OR (f.kind = 'unplaced_after_july' AND NOT ca.unplaced)
			  OR (f.kind = 'referrals_short' AND ca.activated_at IS NULL))
			UNION
			SELECT f.id FROM escalations f JOIN case_activity ca ON ca.student_id = f.student_id AND ca.followed
			WHERE f.status <> 'resolved' AND f.kind = 'referrals_short' AND ca.referrals_count >= $3
			UNION
			SELECT f.id FROM escalations f JOIN case_activity ca ON ca.student_id = f.student_id AND ca.followed
			WHERE f.status <> 'resolved' AND f.kind = 'measure_overdue'
			  AND NOT EXISTS (SELECT 1 FROM due d WHERE d.student_id = f.student_id AND d.episode = f.episode)
		) gone
		WHERE e.id = gone.id
		RETURNING e.id`,
		now, today, cfg.ReferralMinimum)
	if err != nil {
		return res, err
	}
	cleared, err := pgx.CollectRows(rows, pgx.RowTo[int64])
	if err != nil {
		return res, err
	}
	res.Cleared = len(cleared)
	if err := resolved(ctx, tx, w.Notify, cleared, "条件已消除（系统巡查）"); err != nil {
		return res, err
	}

	if len(all) == 0 {
		return res, nil
	}
	ids := make([]int64, len(all))
	level3 := 0
	for i, r := range all {
		ids[i] = r.ID
		if r.Level == 3 {
			level3++
		}
	}
	n, err := w.notifyRaised(ctx, tx, ids, level3)
	res.Notified = n
	return res, err
}

// unplacedUpTo is the latest graduation year whose 31 July is before
// today: the unplaced graduates of that year and earlier are flagged.
func unplacedUpTo(today time.Time) int {
	if today.Before(time.Date(today.Year(), 8, 1, 0, 0, 0, 0, today.Location())) {
		return today.Year() - 1
	}
	return today.Year()
}

// notifyRaised tells who handles each escalation raised (ids, of which
// level3 are of level 3): level 1 whoever answers for the case (its
// counselor, or the supervisors when it has none), level 2 the school's
// supervisors (of the graduate's department, or school-wide), level 3
// province staff as one digest per sweep.
func (w *SweepWorker) notifyRaised(ctx context.Context, tx pgx.Tx, ids []int64, level3 int) (int, error) {
	// Joined on the rule alone (an OR across users and graduates), the
	// planner paired every user with every escalation and hashed every
	// graduate; instead each escalation is paired with the only users the
	// rule can hold for — its graduate's counselor and its school's
	// supervisors, through their keys — and the rule then filters those.
	// Should graduate.Responsible ever name other users, they belong in
	// candidates too.
	rows, err := tx.Query(ctx, `
		WITH raised AS MATERIALIZED (
			SELECT e.id AS escalation_id, e.level, e.reason, s.id, s.name, s.school_id, s.department_id, s.counselor_id
			FROM escalations e JOIN students s ON s.id = e.student_id
			WHERE e.id = ANY($1) AND e.level < 3
		), candidates AS (
			SELECT r.escalation_id, r.counselor_id AS user_id FROM raised r WHERE r.counselor_id IS NOT NULL
			UNION
			SELECT r.escalation_id, v.id FROM raised r JOIN users v ON v.school_id = r.school_id AND v.role = 'supervisor'
		)
		SELECT u.id, s.escalation_id, s.level, s.reason, s.id, s.name
		FROM candidates c JOIN raised s ON s.escalation_id = c.escalation_id JOIN users u ON u.id = c.user_id
		WHERE (s.level = 1 AND `+graduate.Responsible+`) OR (s.level = 2 AND NOT u.disabled
		      AND u.role = 'supervisor' AND u.school_id = s.school_id
		      AND (u.department_id IS NULL OR u.department_id = s.department_id))`, ids)
	if err != nil {
		return 0, err
	}
	var msgs []notify.Message
	var user, escalationID, studentID int64
	var level int
	var reason, name string
	if _, err := pgx.ForEachRow(rows, []any{&user, &escalationID, &level, &reason, &studentID, &name}, func() error {
		msgs = append(msgs, notify.Message{
			UserID: user, Kind: "escalation", StudentID: studentID, Body: reason,
			Title: fmt.Sprintf("%s级升级：%s", map[int]string{1: "一", 2: "二"}[level], name),
			Key:   notificationKey(escalationID),
			// 1 for level 2, which goes out at once (a count and a link, outside quiet hours).
			Urgent: level / 2,
		})
		return nil
	}); err != nil {
		return 0, err
	}
	if level3 > 0 {
		rows, err := tx.Query(ctx, `SELECT id FROM users WHERE role = 'province' AND NOT disabled`)
		if err != nil {
			return 0, err
		}
		province, err := pgx.CollectRows(rows, pgx.RowTo[int64])
		if err != nil {
			return 0, err
		}
		for _, u := range province {
			msgs = append(msgs, notify.Message{
				UserID: u, Kind: "escalation",
				Title: fmt.Sprintf("省级升级：本次巡查新增 %d 个长期未联系个案", level3),
				Body:  "请在“升级事项”中查看三级升级个案并督办。",
				Key:   fmt.Sprintf("sweep-province:%d", ids[0]),
				// Level 3 goes out at once (a count and a link, outside quiet hours).
				Urgent: level3,
			})
		}
	}
	return w.Notify.Send(ctx, tx, msgs...)
}
