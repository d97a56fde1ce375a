package notify

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"

	"github.com/bangfu/bangfu"
)

// DigestArgs is the periodic job that builds the daily digests that are
// due.
type DigestArgs struct{}

// Kind is the job's name in River.
func (DigestArgs) Kind() string { return "notify_digest" }

// DigestWorker builds the daily digests that are due (Service.BuildDigests).
type DigestWorker struct {
	river.WorkerDefaults[DigestArgs]
	Notify *Service
}

// Timeout bounds one build.
func (w *DigestWorker) Timeout(*river.Job[DigestArgs]) time.Duration { return 5 * time.Minute }

// Work builds the digests that are due in one transaction: the runs it
// claims, the notifications and the deliveries commit together or not at
// all.
func (w *DigestWorker) Work(ctx context.Context, _ *river.Job[DigestArgs]) error {
	return w.Notify.DB.InTx(ctx, func(tx pgx.Tx) error {
		_, err := w.Notify.BuildDigests(ctx, tx)
		return err
	})
}

// DigestEvery is how often the digest job looks for digests that are due:
// on every fifth minute of the clock, the granularity of a school's digest
// time.
const DigestEvery = 5 * time.Minute

// EveryMinutes is a River schedule on the clock: every N minutes from the
// hour (08:00, 08:05, …).
type EveryMinutes struct{ N int }

// Next returns the next multiple of N minutes after current.
func (e EveryMinutes) Next(current time.Time) time.Time {
	step := time.Duration(e.N) * time.Minute
	return current.Truncate(step).Add(step)
}

// DefaultDigestAt is when a digest goes out unless a school says otherwise
// (and for users of no school: province staff).
const DefaultDigestAt = "08:00"

// DigestResult counts what one build did.
type DigestResult struct {
	// Scopes is how many schools (and the users of no school, as one) had
	// their digest built.
	Scopes int
	// Users is how many staff got a digest; Schools how many shared
	// channels' schools did; Deliveries how many messages were queued.
	Users, Schools, Deliveries int
}

// BuildDigests builds, on tx, today's digest of every scope whose digest
// time has passed and whose digest of today was not built yet: each school
// at its time (DefaultDigestAt unless set), the users of no school at
// DefaultDigestAt. Each staff member with something to say gets one
// notification (kind digest, keyed by the day: one per user and day) and
// one delivery per channel that takes digests — and by e-mail unless they
// turned it off; a school with a shared channel gets the school's counts
// there. Nothing is sent to whom there is nothing to say.
//
// Catching up: a scope's digest is built once a day, at the first run after
// its time. After downtime, a run that finds today's digest not yet built
// builds it then: late the same day rather than never. A day that passed
// is not built afterwards, and a digest's delivery that could go out only
// after its day (the recipient's quiet hours last past midnight) is not
// sent at all.
//
// The counts are computed set-based: one scan per measure, grouped by
// school, department and counselor, then summed per recipient.
func (s *Service) BuildDigests(ctx context.Context, tx pgx.Tx) (DigestResult, error) {
	var res DigestResult
	now := s.Clock.Now()
	today := bangfu.DateOf(now)
	local := now.In(bangfu.Shanghai)
	rows, err := tx.Query(ctx, `INSERT INTO notify_digest_runs (scope, day, ran_at)
		SELECT x.scope, $1, $2 FROM (
			SELECT sc.id AS scope, coalesce(ns.digest_at, $4::time) AS at FROM schools sc LEFT JOIN notify_schools ns ON ns.school_id = sc.id
			UNION ALL SELECT 0, $4::time) x
		WHERE x.at <= $3::time
		ON CONFLICT (scope, day) DO NOTHING
		RETURNING scope`, today.Time(), now, local.Format("15:04:05"), DefaultDigestAt)
	if err != nil {
		return res, err
	}
	scopes, err := pgx.CollectRows(rows, pgx.RowTo[int64])
	if err != nil || len(scopes) == 0 {
		return res, err
	}
	res.Scopes = len(scopes)

	counts, err := digestCounts(ctx, tx, today, now, scopes)
	if err != nil {
		return res, err
	}
	var users, schools []int64
	var msgs []Message
	title := fmt.Sprintf("每日提醒 %d月%d日", local.Month(), local.Day())
	key := "digest:" + today.String()
	for _, c := range counts {
		if c.UserID != nil {
			users = append(users, *c.UserID)
			msgs = append(msgs, Message{UserID: *c.UserID, Kind: KindDigest, Title: title, Body: s.digestText(c.Counts, c.path()), Key: key})
		} else {
			schools = append(schools, *c.SchoolID)
		}
	}
	if _, err := s.Send(ctx, tx, msgs...); err != nil {
		return res, err
	}
	res.Users, res.Schools = len(users), len(schools)

	ur, err := s.recipients(ctx, tx, users, false, purposeDigest)
	if err != nil {
		return res, err
	}
	sr, err := s.recipients(ctx, tx, schools, true, purposeDigest)
	if err != nil {
		return res, err
	}
	day := today.Time()
	var ds []newDelivery
	for _, c := range counts {
		school := c.UserID == nil
		r := ur[c.id()]
		if school {
			r = sr[c.id()]
		}
		if r == nil {
			continue
		}
		at := r.Quiet.NotBefore(now)
		if bangfu.DateOf(at) != today {
			continue // it could only go out tomorrow: tomorrow's replaces it
		}
		text, owner := s.digestText(c.Counts, c.path()), c.id()
		for _, ch := range r.Channels {
			d := newDelivery{Key: fmt.Sprintf("digest:%s:c%d", today, ch.ID), ChannelID: &ch.ID, Medium: ch.Kind, Purpose: purposeDigest,
				Day: &day, Subject: digestSubject(title), Body: text, NotBefore: at}
			if school {
				d.SchoolID = &owner
			} else {
				d.UserID = &owner
			}
			ds = append(ds, d)
		}
		if !school && s.Email && r.Email != "" && r.EmailMode != EmailOff {
			ds = append(ds, newDelivery{Key: fmt.Sprintf("digest:%s:u%d:email", today, owner), UserID: &owner, Medium: mediumEmail,
				Purpose: purposeDigest, Day: &day, Subject: digestSubject(title), Body: text, NotBefore: at})
		}
	}
	ins, err := s.insertDeliveries(ctx, tx, ds)
	if err != nil {
		return res, err
	}
	res.Deliveries = len(ins)
	return res, s.enqueue(ctx, tx, ins)
}

// digestCount is the counts of one recipient: a user, or a school's
// shared channels.
type digestCount struct {
	UserID   *int64
	SchoolID *int64
	Role     string
	Counts
}

func (c digestCount) id() int64 {
	if c.UserID != nil {
		return *c.UserID
	}
	return *c.SchoolID
}

// path is the page the digest links to: the escalations for province
// staff, the home page (workbench, overview) for the others.
func (c digestCount) path() string {
	if c.Role == string(bangfu.RoleProvince) {
		return "/escalations"
	}
	return "/"
}

// DigestCountsSQL computes the digests' counts of the scopes in $3 (school
// ids; 0 for the users of no school) on day $1 at $2: one row per
// recipient with something to say. A counselor counts their caseload
// (follow-ups due today and overdue, level-1 escalations raised since the
// scope's previous digest, evidence expiring within seven days); a
// supervisor their school or department (the same, escalations of levels
// 2 and 3, and destinations waiting for verification); province staff the
// level-3 escalations since their previous digest; a school with a shared
// channel its whole school. Exported for the benchmark.
const DigestCountsSQL = `
WITH scopes AS (
	SELECT c.scope, coalesce(max(r.ran_at), $2::timestamptz - interval '1 day') AS since
	FROM unnest($3::bigint[]) AS c(scope)
	LEFT JOIN notify_digest_runs r ON r.scope = c.scope AND r.day < $1::date
	GROUP BY c.scope
), staff AS (
	SELECT u.id, u.role, u.school_id, u.department_id FROM users u
	WHERE NOT u.disabled AND (
	      (u.role IN ('counselor', 'supervisor') AND u.school_id IN (SELECT scope FROM scopes))
	   OR (u.role = 'province' AND EXISTS (SELECT 1 FROM scopes WHERE scope = 0)))
), m AS (
	SELECT s.school_id, s.department_id, s.counselor_id,
	       count(*) FILTER (WHERE ca.next_followup_on = $1::date AND NOT ca.overdue) AS due_today,
	       count(*) FILTER (WHERE ca.overdue) AS overdue,
	       0::bigint AS esc_low, 0::bigint AS esc_high, 0::bigint AS expiring, 0::bigint AS to_verify
	FROM students s JOIN case_activity ca ON ca.student_id = s.id
	WHERE s.school_id IN (SELECT scope FROM scopes) AND s.status IN ('open', 'active')
	  AND (ca.overdue OR ca.next_followup_on = $1::date)
	GROUP BY 1, 2, 3
	UNION ALL
	SELECT s.school_id, s.department_id, s.counselor_id, 0, 0,
	       count(*) FILTER (WHERE e.level = 1), count(*) FILTER (WHERE e.level >= 2), 0, 0
	FROM escalations e JOIN scopes sc ON sc.scope = e.school_id JOIN students s ON s.id = e.student_id
	WHERE e.status = 'open' AND e.raised_at > sc.since AND e.raised_at <= $2
	GROUP BY 1, 2, 3
	UNION ALL
	SELECT s.school_id, s.department_id, s.counselor_id, 0, 0, 0, 0, count(*), 0
	FROM hardships h JOIN students s ON s.id = h.student_id
	WHERE h.status = 'verified' AND h.valid_until BETWEEN $1::date AND $1::date + 6
	  AND s.school_id IN (SELECT scope FROM scopes)
	GROUP BY 1, 2, 3
	UNION ALL
	SELECT s.school_id, s.department_id, NULL, 0, 0, 0, 0, 0, count(*)
	FROM students s JOIN destinations d ON d.id = s.destination_id
	WHERE d.status <> 'verified' AND s.school_id IN (SELECT scope FROM scopes)
	GROUP BY 1, 2
), per AS (
	SELECT st.id AS user_id, NULL::bigint AS school_id, st.role,
	       sum(m.due_today) AS due_today, sum(m.overdue) AS overdue, sum(m.esc_low) AS escalations, sum(m.expiring) AS expiring, 0::numeric AS to_verify
	FROM staff st JOIN m ON m.counselor_id = st.id
	WHERE st.role = 'counselor'
	GROUP BY st.id, st.role
	UNION ALL
	SELECT st.id, NULL, st.role, sum(m.due_today), sum(m.overdue), sum(m.esc_high), sum(m.expiring), sum(m.to_verify)
	FROM staff st JOIN m ON m.school_id = st.school_id AND (st.department_id IS NULL OR m.department_id = st.department_id)
	WHERE st.role = 'supervisor'
	GROUP BY st.id, st.role
	UNION ALL
	SELECT st.id, NULL, st.role, 0, 0,
	       (SELECT count(*) FROM escalations e JOIN scopes sc ON sc.scope = 0
	        WHERE e.level = 3 AND e.status = 'open' AND e.raised_at > sc.since AND e.raised_at <= $2), 0, 0
	FROM staff st WHERE st.role = 'province'
	UNION ALL
	SELECT NULL, m.school_id, '', sum(m.due_today), sum(m.overdue), sum(m.esc_low + m.esc_high), sum(m.expiring), sum(m.to_verify)
	FROM m WHERE m.school_id IN (SELECT school_id FROM notify_channels WHERE school_id IS NOT NULL AND removed_at IS NULL)
	GROUP BY m.school_id
)
SELECT user_id, school_id, role, due_today::int, overdue::int, escalations::int, expiring::int, to_verify::int
FROM per WHERE due_today + overdue + escalations + expiring + to_verify > 0
ORDER BY user_id NULLS LAST, school_id`

func digestCounts(ctx context.Context, tx pgx.Tx, today bangfu.Date, now time.Time, scopes []int64) ([]digestCount, error) {
	rows, err := tx.Query(ctx, DigestCountsSQL, today.Time(), now, scopes)
	if err != nil {
		return nil, err
	}
	out, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (digestCount, error) {
		var c digestCount
		err := row.Scan(&c.UserID, &c.SchoolID, &c.Role, &c.DueToday, &c.Overdue, &c.Escalations, &c.Expiring, &c.ToVerify)
		return c, err
	})
	return out, err
}
