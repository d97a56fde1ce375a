package roster

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/bangfu/bangfu/internal/postgres"
)

// EligibleSQL finds the graduates eligible for a cohort ($1 its target
// graduation year, $2 its start date, $3 its id; $4 NULL for all, or an
// array of graduate ids to look at only those). A graduate is eligible
// when:
//
//   - their graduation year is the cohort's target;
//   - they consented to share their data (with the base);
//   - on the start date they have a verified hardship category whose
//     evidence has not expired (valid_until NULL or not before it);
//   - their current plan has a hongzhi_training measure that is not
//     dropped;
//   - they have not completed any cohort;
//   - they have not declined this cohort's nomination, nor been withdrawn
//     from it by a person (a withdrawal by the system — they had stopped
//     being eligible — lapses when they are eligible again).
//
// Each row carries when the graduate became eligible, the waitlist's
// order: the latest of their consent, the first verification of evidence
// that still counts, and the first revision of the unbroken run of plan
// revisions, up to the current one, that hold the measure.
//
// Exported so that benchmarks issue the same SQL.
const EligibleSQL = `SELECT s.id, s.school_id,
		greatest(coalesce(s.consent_at, s.created_at), h.since, p.since) AS eligible_since
	FROM students s
	JOIN LATERAL (SELECT min(h.verified_at) AS since FROM hardships h
		WHERE h.student_id = s.id AND h.status = 'verified' AND (h.valid_until IS NULL OR h.valid_until >= $2::date)) h
		ON h.since IS NOT NULL
	JOIN LATERAL (SELECT min(r.created_at) AS since FROM plan_revisions r
		WHERE r.student_id = s.id AND r.revision <= s.plan_revision
		  AND r.revision > coalesce((SELECT max(r2.revision) FROM plan_revisions r2
			WHERE r2.student_id = s.id AND r2.revision <= s.plan_revision
			  AND NOT EXISTS (SELECT 1 FROM plan_measures m WHERE m.student_id = r2.student_id AND m.revision = r2.revision
				AND m.kind = 'hongzhi_training' AND m.status <> 'dropped')), 0)) p
		ON p.since IS NOT NULL
	WHERE s.graduation_year = $1 AND s.consent
	  AND ($4::bigint[] IS NULL OR s.id = ANY($4))
	  AND NOT EXISTS (SELECT 1 FROM roster_places c WHERE c.student_id = s.id AND c.status = 'completed')
	  AND NOT EXISTS (SELECT 1 FROM roster_places o WHERE o.cohort_id = $3 AND o.student_id = s.id
		AND (o.status = 'declined' OR (o.status = 'withdrawn' AND o.changed_by IS NOT NULL)))`

// candidate is an eligible graduate.
type candidate struct {
	studentID, schoolID int64
	since               time.Time
}

// eligible returns the graduates eligible for c, all of them when only is
// nil, else among only.
func eligible(ctx context.Context, q postgres.Querier, c Cohort, only []int64) (map[int64]candidate, error) {
	var ids any
	if only != nil {
		ids = only
	}
	rows, err := q.Query(ctx, EligibleSQL, c.TargetYear, c.StartsOn.Time(), c.ID, ids)
	if err != nil {
		return nil, err
	}
	out := map[int64]candidate{}
	var cd candidate
	_, err = pgx.ForEachRow(rows, []any{&cd.studentID, &cd.schoolID, &cd.since}, func() error {
		cd.since = cd.since.Truncate(time.Microsecond)
		out[cd.studentID] = cd
		return nil
	})
	return out, err
}

// Unmet criteria of eligibility, as Explain names them.
const (
	UnmetGraduationYear = "graduation_year"
	UnmetConsent        = "consent"
	UnmetHardship       = "hardship"
	UnmetPlanMeasure    = "plan_measure"
	UnmetCompleted      = "completed_a_cohort"
	UnmetDeclined       = "declined"
	UnmetWithdrawn      = "withdrawn"
)

// unmetText says each criterion in words, for reasons recorded on places.
var unmetText = map[string]string{
	UnmetGraduationYear: "毕业年份不符",
	UnmetConsent:        "未授权向培训基地提供信息",
	UnmetHardship:       "开班日无有效的已认定困难类别",
	UnmetPlanMeasure:    "当前帮扶计划无宏志助航措施",
	UnmetCompleted:      "已完成宏志助航培训",
	UnmetDeclined:       "已放弃本期提名",
	UnmetWithdrawn:      "已退出本期名单",
}

// explainSQL checks each criterion of EligibleSQL separately for the
// graduates $4 and cohort ($1 target year, $2 start date, $3 id).
const explainSQL = `SELECT s.id,
		s.graduation_year = $1,
		s.consent,
		EXISTS (SELECT 1 FROM hardships h WHERE h.student_id = s.id AND h.status = 'verified'
			AND (h.valid_until IS NULL OR h.valid_until >= $2::date)),
		EXISTS (SELECT 1 FROM plan_measures m WHERE m.student_id = s.id AND m.revision = s.plan_revision
			AND m.kind = 'hongzhi_training' AND m.status <> 'dropped'),
		EXISTS (SELECT 1 FROM roster_places c WHERE c.student_id = s.id AND c.status = 'completed'),
		EXISTS (SELECT 1 FROM roster_places o WHERE o.cohort_id = $3 AND o.student_id = s.id AND o.status = 'declined'),
		EXISTS (SELECT 1 FROM roster_places o WHERE o.cohort_id = $3 AND o.student_id = s.id
			AND o.status = 'withdrawn' AND o.changed_by IS NOT NULL)
	FROM students s WHERE s.id = ANY($4)`

// explain returns, for each of ids, the criteria of c it does not meet
// (empty: eligible).
func explain(ctx context.Context, q postgres.Querier, c Cohort, ids []int64) (map[int64][]string, error) {
	rows, err := q.Query(ctx, explainSQL, c.TargetYear, c.StartsOn.Time(), c.ID, ids)
	if err != nil {
		return nil, err
	}
	out := map[int64][]string{}
	var id int64
	var year, consent, hardship, measure, completed, declined, withdrawn bool
	_, err = pgx.ForEachRow(rows, []any{&id, &year, &consent, &hardship, &measure, &completed, &declined, &withdrawn}, func() error {
		unmet := []string{}
		add := func(ok bool, what string) {
			if !ok {
				unmet = append(unmet, what)
			}
		}
		add(year, UnmetGraduationYear)
		add(consent, UnmetConsent)
		add(hardship, UnmetHardship)
		add(measure, UnmetPlanMeasure)
		add(!completed, UnmetCompleted)
		add(!declined, UnmetDeclined)
		add(!withdrawn, UnmetWithdrawn)
		out[id] = unmet
		return nil
	})
	return out, err
}
