package synthetic_test

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"

	"github.com/bangfu/bangfu"
	"github.com/bangfu/bangfu/internal/bench/synthetic"
	"github.com/bangfu/bangfu/internal/cnid"
	"github.com/bangfu/bangfu/internal/destination"
	"github.com/bangfu/bangfu/internal/escalation"
	"github.com/bangfu/bangfu/internal/graduate"
	"github.com/bangfu/bangfu/internal/ledger"
	"github.com/bangfu/bangfu/internal/notify"
	"github.com/bangfu/bangfu/internal/password"
	"github.com/bangfu/bangfu/internal/pgtest"
	"github.com/bangfu/bangfu/internal/postgres"
	"github.com/bangfu/bangfu/internal/sealed"
	"github.com/bangfu/bangfu/internal/settings"
)

type fixedClock time.Time

func (c fixedClock) Now() time.Time { return time.Time(c) }

// The reference date: mid-July, when destinations are being recorded.
var now = time.Date(2026, 7, 15, 16, 20, 0, 0, bangfu.Shanghai)

const students, schools = 2000, 4

func newBox(t *testing.T) *sealed.Box {
	t.Helper()
	box, err := sealed.New([]byte("0123456789abcdef0123456789abcdef"))
	require.NoError(t, err)
	return box
}

func load(t *testing.T, seed uint64, students, schools int) *postgres.DB {
	t.Helper()
	db := pgtest.NewDB(t)
	var progress strings.Builder
	st, err := synthetic.Generate(context.Background(), db, newBox(t), synthetic.Options{
		Students: students, Schools: schools, Seed: seed, Now: now, Progress: &progress,
	})
	require.NoError(t, err, progress.String())
	t.Log(progress.String())
	require.EqualValues(t, students, st.Rows["students"])
	require.Contains(t, progress.String(), "ledger_entries")
	return db
}

// fingerprint is what must not change between two loads with one seed:
// the files (names, numbers, destinations, ledger heads, which cover every
// entry's content), escalations, notifications and the audit trail.
func fingerprint(t *testing.T, db *postgres.DB) string {
	t.Helper()
	var fp string
	require.NoError(t, db.Pool.QueryRow(context.Background(), `SELECT md5(
		(SELECT string_agg(s.name || '/' || s.student_number || '/' || coalesce(s.destination_code, '-') || '/' ||
			s.id_number_masked || '/' || s.status || '/' || encode(s.ledger_head, 'hex'), ',' ORDER BY s.id) FROM students s) ||
		(SELECT string_agg(e.id || '/' || e.student_id || '/' || e.kind || '/' || e.level || '/' || e.episode || '/' || e.status || '/' ||
			e.raised_at, ',' ORDER BY e.id) FROM escalations e) ||
		(SELECT string_agg(n.id || '/' || n.user_id || '/' || n.dedupe_key || '/' || n.title, ',' ORDER BY n.id) FROM notifications n) ||
		(SELECT string_agg(a.id || '/' || a.action || '/' || a.at || '/' || a.detail::text, ',' ORDER BY a.id) FROM audit_log a) ||
		(SELECT string_agg(d.id || '/' || d.employer || '/' || d.proof_ref, ',' ORDER BY d.id) FROM destinations d))`).Scan(&fp))
	return fp
}

func TestGenerate(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := load(t, 7, students, schools)
	box := newBox(t)
	q := func(sql string, args ...any) int {
		t.Helper()
		var n int
		require.NoError(t, db.Pool.QueryRow(ctx, sql, args...).Scan(&n), sql)
		return n
	}

	t.Run("province", func(t *testing.T) {
		require.Equal(t, schools, q(`SELECT count(*) FROM schools`))
		require.Zero(t, q(`SELECT count(*) FROM (SELECT school_id FROM departments GROUP BY school_id HAVING count(*) NOT BETWEEN 6 AND 10) x`))
		require.Zero(t, q(`SELECT count(*) FROM schools WHERE code !~ '^[0-9]{10}$' OR region = ''`))
		require.Equal(t, students, q(`SELECT count(*) FROM students`))
		require.Zero(t, q(`SELECT count(*) FROM students WHERE graduation_year <> 2026 OR education_level NOT IN ('zhuanke', 'benke', 'shuoshi', 'boshi')`))
		require.Greater(t, q(`SELECT count(*) FROM students WHERE education_level IN ('zhuanke', 'benke')`), students*9/10)
	})

	t.Run("caseload keys", func(t *testing.T) {
		// case_activity's derived columns are what migration 0021's
		// triggers would keep.
		require.Zero(t, q(`SELECT count(*) FROM case_activity ca WHERE ca.escalation_level <> coalesce((SELECT max(level)
			FROM escalations e WHERE e.student_id = ca.student_id AND e.status <> 'resolved'), 0)`))
		require.Zero(t, q(`SELECT count(*) FROM case_activity ca WHERE ca.categories <> coalesce((SELECT array_agg(category
			ORDER BY category, valid_until) FROM hardships h WHERE h.student_id = ca.student_id AND h.status = 'verified'), '{}')`))
		require.Positive(t, q(`SELECT count(*) FROM case_activity WHERE escalation_level > 0 AND categories <> '{}'`))
		require.Zero(t, q(`SELECT count(*) FROM case_activity ca JOIN students s ON s.id = ca.student_id
			WHERE ca.counselor_id IS DISTINCT FROM s.counselor_id`))
		require.Zero(t, q(`SELECT count(*) FROM escalations e JOIN students s ON s.id = e.student_id
			WHERE e.department_id IS DISTINCT FROM s.department_id`))
	})

	cases := q(`SELECT count(DISTINCT student_id) FROM hardships`)
	t.Run("disadvantaged", func(t *testing.T) {
		require.InDelta(t, students/10, cases, float64(students)/25, "about one graduate in ten has a hardship")
		require.Equal(t, cases, q(`SELECT count(*) FROM students s WHERE EXISTS (SELECT 1 FROM plan_revisions p WHERE p.student_id = s.id)`))
		require.Zero(t, q(`SELECT count(*) FROM students s WHERE plan_revision <> (SELECT coalesce(max(revision), 0) FROM plan_revisions p WHERE p.student_id = s.id)`))
		require.Zero(t, q(`SELECT count(*) FROM plan_revisions p WHERE (SELECT count(*) FROM plan_measures m
			WHERE m.student_id = p.student_id AND m.revision = p.revision) NOT BETWEEN 3 AND 5`))
		require.Positive(t, q(`SELECT count(*) FROM plan_measures WHERE due_on < $1`, now))
		// Open cases: mostly active, some open, some placed; each with a
		// counselor of its own school.
		active := q(`SELECT count(*) FROM students s WHERE status = 'active' AND activated_at IS NOT NULL AND EXISTS (SELECT 1 FROM hardships h WHERE h.student_id = s.id)`)
		require.Greater(t, active, cases/2)
		require.Positive(t, q(`SELECT count(*) FROM students WHERE status = 'open' AND activated_at IS NULL AND counselor_id IS NOT NULL`))
		require.Zero(t, q(`SELECT count(*) FROM students s WHERE EXISTS (SELECT 1 FROM hardships h WHERE h.student_id = s.id)
			AND NOT EXISTS (SELECT 1 FROM users u WHERE u.id = s.counselor_id AND u.role = 'counselor' AND u.school_id = s.school_id)`))
		require.Zero(t, q(`SELECT count(*) FROM students WHERE status IN ('open', 'active') AND counselor_id IS NULL`))
		// About one counselor per hundred cases, at least one per school.
		counselors := q(`SELECT count(*) FROM users WHERE role = 'counselor'`)
		require.GreaterOrEqual(t, counselors, schools)
		require.LessOrEqual(t, counselors, cases/100+schools)
		require.Zero(t, q(`SELECT count(*) FROM hardships WHERE status = 'verified' AND verified_by IS NULL`))
		require.Positive(t, q(`SELECT count(*) FROM hardships WHERE status = 'unverified' AND valid_until < $1`, now))
		require.Zero(t, q(`SELECT count(*) FROM hardships WHERE status = 'verified' AND valid_until < $1`, now))
		// Quiet cases for the stall sweep, and overdue follow-ups.
		require.Positive(t, q(`SELECT count(*) FROM students WHERE status IN ('open', 'active') AND last_contact_at < $1::timestamptz - interval '14 days'`, now))
		require.Positive(t, q(`SELECT count(*) FROM students WHERE overdue AND next_followup_on < $1::date`, now))
		require.Zero(t, q(`SELECT count(*) FROM students WHERE status IN ('open', 'active') AND next_followup_on IS NULL`))
	})

	t.Run("others", func(t *testing.T) {
		require.Zero(t, q(`SELECT count(*) FROM students s WHERE NOT EXISTS (SELECT 1 FROM hardships h WHERE h.student_id = s.id)
			AND NOT (status = CASE WHEN destination_code IS NULL OR destination_code IN ('70', '71', '72') THEN 'closed' ELSE 'placed' END)`))
		placed := q(`SELECT count(*) FROM students WHERE destination_code NOT IN ('70', '71', '72')`)
		require.InDelta(t, 0.75, float64(placed)/students, 0.06)
	})

	t.Run("ledger", func(t *testing.T) {
		entries := q(`SELECT count(*) FROM ledger_entries`)
		require.InDelta(t, 5*students, entries, float64(students))
		// The counts on each file agree with its ledger.
		require.Zero(t, q(`SELECT count(*) FROM students s LEFT JOIN LATERAL (
				SELECT count(*) AS n, count(*) FILTER (WHERE kind = 'contact') AS contacts, count(*) FILTER (WHERE kind = 'referral') AS referrals,
				       max(occurred_at) FILTER (WHERE kind = 'contact') AS last, bool_and(school_id = s.school_id) AS school
				FROM ledger_entries l WHERE l.student_id = s.id) l ON true
			WHERE s.ledger_seq <> l.n OR s.contacts_count <> l.contacts OR s.referrals_count <> l.referrals
			   OR s.last_contact_at IS DISTINCT FROM l.last OR NOT coalesce(l.school, true)`))
		require.Zero(t, q(`SELECT count(*) FROM ledger_entries l JOIN users u ON u.id = l.author_id JOIN students s ON s.id = l.student_id
			WHERE u.school_id <> s.school_id OR u.role NOT IN ('counselor', 'supervisor')`))
		require.Positive(t, q(`SELECT count(*) FROM ledger_entries WHERE kind = 'correction' AND corrects_seq IS NOT NULL`))
		require.Positive(t, q(`SELECT count(*) FROM ledger_entries WHERE group_id IS NOT NULL`))
		// The chains verify, including their heads: every case's and a
		// sample of the others'.
		rows, err := db.Pool.Query(ctx, `SELECT id, ledger_seq FROM students WHERE counselor_id IS NOT NULL OR id % 10 = 0 ORDER BY id`)
		require.NoError(t, err)
		type file struct{ ID, Seq int64 }
		files, err := pgx.CollectRows(rows, pgx.RowToStructByPos[file])
		require.NoError(t, err)
		for _, f := range files {
			v, err := ledger.VerifyChain(ctx, db.Pool, f.ID)
			require.NoError(t, err)
			require.True(t, v.Intact, "graduate %d: first bad entry %v", f.ID, v.FirstBadSeq)
			require.EqualValues(t, f.Seq, v.Entries)
		}
		// Referrals name valid employers.
		rows, err = db.Pool.Query(ctx, `SELECT referral FROM ledger_entries WHERE kind = 'referral'`)
		require.NoError(t, err)
		refs, err := pgx.CollectRows(rows, pgx.RowTo[[]byte])
		require.NoError(t, err)
		require.NotEmpty(t, refs)
		for _, b := range refs {
			var r ledger.Referral
			require.NoError(t, json.Unmarshal(b, &r))
			require.NotEmpty(t, r.Employer)
			require.NotEmpty(t, r.Position)
			if r.CreditCode != "" {
				require.Empty(t, cnid.CreditCodeProblem(r.CreditCode), r.CreditCode)
			}
		}
	})

	t.Run("identity", func(t *testing.T) {
		rows, err := db.Pool.Query(ctx, `SELECT id_number_sealed, id_number_hash, id_number_masked, name, phone FROM students`)
		require.NoError(t, err)
		seen := map[string]bool{}
		var sealedID, hash []byte
		var masked, name, phone string
		_, err = pgx.ForEachRow(rows, []any{&sealedID, &hash, &masked, &name, &phone}, func() error {
			id, err := box.Open(graduate.FieldIDNumber, sealedID)
			require.NoError(t, err)
			require.Empty(t, cnid.ResidentIDProblem(id), id)
			require.True(t, strings.HasPrefix(id, "44"), id)
			birth, _ := time.Parse("20060102", id[6:14])
			require.True(t, birth.Year() >= 2000 && birth.Year() <= 2005, id)
			require.Equal(t, box.Hash(graduate.FieldIDNumber, id), hash)
			require.Equal(t, cnid.MaskResidentID(id), masked)
			require.False(t, seen[id], "ID number %s twice", id)
			seen[id] = true
			require.Regexp(t, `^\p{Han}{2,4}$`, name)
			require.Regexp(t, `^1[3-9][0-9]{9}$`, phone)
			return nil
		})
		require.NoError(t, err)
		require.Len(t, seen, students)
	})

	t.Run("destinations", func(t *testing.T) {
		require.Zero(t, q(`SELECT count(*) FROM students s LEFT JOIN destinations d ON d.id = s.destination_id
			WHERE (s.destination_id IS NULL) <> (s.destination_code IS NULL) OR d.student_id <> s.id OR d.code <> s.destination_code
			   OR d.superseded_at IS NOT NULL OR s.destination_verified <> (d.status IS NOT DISTINCT FROM 'verified')`))
		require.Zero(t, q(`SELECT count(*) FROM destinations d JOIN students s ON s.id = d.student_id
			WHERE d.id <> s.destination_id AND (d.superseded_at IS NULL OR d.id > s.destination_id)`))
		require.Zero(t, q(`SELECT count(*) FROM destinations d JOIN users u ON u.id = d.entered_by
			WHERE u.role <> d.entered_role OR (d.status = 'verified') <> (d.verified_by IS NOT NULL)`))
		require.Zero(t, q(`SELECT count(*) FROM destinations WHERE entered_at > $1 OR verified_at > $1`, now))
		rows, err := db.Pool.Query(ctx, `SELECT d.code, d.employer, d.credit_code, d.position, d.region, d.proof_kind, d.proof_ref, d.note
			FROM destinations d`)
		require.NoError(t, err)
		ins, err := pgx.CollectRows(rows, pgx.RowToStructByPos[destination.Input])
		require.NoError(t, err)
		require.NotEmpty(t, ins)
		for _, in := range ins {
			want := in
			require.NoError(t, destination.Check(&in), "%+v", want)
			require.Equal(t, want, in, "stored values are already normalised")
		}
	})

	t.Run("escalations", func(t *testing.T) {
		require.Positive(t, q(`SELECT count(*) FROM escalations`))
		require.Positive(t, q(`SELECT count(*) FROM notifications`))
		// An open quiet spell's episode is the moment the case went quiet,
		// as the sweep computes it.
		require.Positive(t, q(`SELECT count(*) FROM escalations WHERE kind = 'no_contact' AND status <> 'resolved'`))
		require.Zero(t, q(`SELECT count(*) FROM escalations e JOIN students s ON s.id = e.student_id
			WHERE e.kind = 'no_contact' AND e.status <> 'resolved'
			  AND (s.status NOT IN ('open', 'active')
			       OR e.episode <> extract(epoch FROM coalesce(s.last_contact_at, s.activated_at, s.created_at))::bigint::text)`))
		// Levels come in order within an episode, and never twice.
		require.Zero(t, q(`SELECT count(*) FROM escalations e WHERE e.level > 1 AND NOT EXISTS (SELECT 1 FROM escalations p
			WHERE p.student_id = e.student_id AND p.kind = e.kind AND p.episode = e.episode AND p.level = e.level - 1 AND p.raised_at < e.raised_at)`))
		require.Zero(t, q(`SELECT count(*) FROM escalations e JOIN students s ON s.id = e.student_id WHERE e.school_id <> s.school_id
			OR e.raised_at > $1 OR (e.status = 'resolved') <> (e.resolved_at IS NOT NULL)`, now))
		require.Zero(t, q(`SELECT count(*) FROM notifications n JOIN users u ON u.id = n.user_id WHERE u.role NOT IN ('counselor', 'supervisor', 'province')`))

		// The sweep still has work, and raises nothing twice.
		ctx := context.Background()
		clock := fixedClock(now)
		sweep := &escalation.SweepWorker{DB: db, Clock: clock, Settings: &settings.Store{DB: db, Clock: clock},
			Notify: &notify.Service{DB: db, Clock: clock}}
		var first escalation.Result
		require.NoError(t, db.InTx(ctx, func(tx pgx.Tx) (err error) { first, err = sweep.Sweep(ctx, tx); return err }))
		require.Positive(t, first.Raised["no_contact"], "%+v", first)
		require.NoError(t, db.InTx(ctx, func(tx pgx.Tx) error {
			again, err := sweep.Sweep(ctx, tx)
			for kind, n := range again.Raised {
				if kind != "no_contact" { // a quiet spell rises one level per sweep
					require.Zero(t, n, "%s raised twice", kind)
				}
			}
			return err
		}))
	})

	t.Run("logins", func(t *testing.T) {
		var hash string
		require.NoError(t, db.Pool.QueryRow(ctx, `SELECT password_hash FROM users WHERE username = 'counselor-1-1'`).Scan(&hash))
		ok, err := password.Verify(synthetic.Password, hash)
		require.NoError(t, err)
		require.True(t, ok)
		require.Equal(t, 1, q(`SELECT count(DISTINCT password_hash) FROM users`))
		require.Equal(t, 1, q(`SELECT count(*) FROM users WHERE username = 'admin-1' AND role = 'admin'`))
		require.Equal(t, 1, q(`SELECT count(*) FROM users WHERE username = 'province-1' AND role = 'province'`))
		require.Equal(t, 1, q(`SELECT count(*) FROM users u JOIN schools s ON s.id = u.school_id WHERE username = 'supervisor-1-1'`))
	})

	t.Run("refuses a second load", func(t *testing.T) {
		_, err := synthetic.Generate(ctx, db, box, synthetic.Options{Students: 10, Schools: 1, Now: now})
		require.ErrorIs(t, err, synthetic.ErrNotEmpty)
	})

	t.Run("indexes and constraints are back", func(t *testing.T) {
		require.Equal(t, 1, q(`SELECT count(*) FROM pg_indexes WHERE indexname = 'students_open_idx'
			AND indexdef LIKE '%WHERE (status = ANY (ARRAY[''open''::text, ''active''::text]))%'`))
		require.Equal(t, 1, q(`SELECT count(*) FROM pg_constraint WHERE conname = 'students_destination_fkey' AND convalidated`))
		require.Equal(t, 1, q(`SELECT count(*) FROM pg_indexes WHERE indexname = 'ledger_entries_school_idx'`))
		var next int64
		require.NoError(t, db.Pool.QueryRow(ctx, `SELECT nextval(pg_get_serial_sequence('students', 'id'))`).Scan(&next))
		require.Greater(t, next, int64(q(`SELECT max(id) FROM students`)))
	})
}

func TestReproducible(t *testing.T) {
	t.Parallel()
	fps := make([]string, 3)
	t.Run("load", func(t *testing.T) {
		for k, seed := range []uint64{7, 7, 8} {
			t.Run(fmt.Sprint(k), func(t *testing.T) {
				t.Parallel()
				fps[k] = fingerprint(t, load(t, seed, 500, 2))
			})
		}
	})
	require.Equal(t, fps[0], fps[1], "the same seed gives the same names, numbers, destinations and ledgers")
	require.NotEqual(t, fps[0], fps[2], "another seed gives another province")
}
