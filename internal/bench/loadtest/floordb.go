package loadtest

import (
	"context"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/bangfu/bangfu"
	"github.com/bangfu/bangfu/internal/postgres"
)

// The floor's own schema: narrow tables in the schema bench_floor of the
// bench database, materialized from the province's data at the start of a
// run and indexed as a PostgreSQL specialist would for exactly the
// questions the measured endpoints answer. It is a read model a
// specialist would keep up to date with the writes (the floor's append
// does, in the same statement); here it is rebuilt whenever the data it
// was built from changed (see floorFingerprint), so that both servers
// answer from the same province.
//
// Nothing in bangfu reads these tables; they are the floor's alone.

// FloorSchemaVersion changes whenever floorBuild changes, forcing a
// rebuild.
const FloorSchemaVersion = 1

// floorLock serializes builds of the floor's schema between processes.
const floorLock = 0x62666c72 // "bflr"

// floorBuild builds the schema ($1 is the day the floor is built on, for
// the report's rollups of hardship evidence valid that day). Each
// statement is documented by `bangfu-bench floors --sql`.
var floorBuild = []FloorStatement{
	{"schema", "", `CREATE SCHEMA bench_floor`, false},
	{"graduates", "caseload, file scope, report process",
		// One narrow row per graduate: who sees it (counselor, school,
		// department), what a caseload row shows, and the urgency keys. The
		// verified hardship categories with their validity, so that the
		// categories valid on any day are read from the row. Physically in
		// counselor order, so a counselor's caseload is a few adjacent pages.
		`CREATE TABLE bench_floor.graduates WITH (fillfactor = 90) AS
		SELECT s.id, s.counselor_id, s.school_id, s.department_id, s.student_number, s.name, s.status,
		       s.graduation_year::smallint AS graduation_year, ca.next_followup_on, ca.overdue, ca.last_contact_at,
		       coalesce(e.level, 0)::smallint AS escalation_level,
		       coalesce(h.categories, '{}') AS categories, coalesce(h.valid_until, '{}') AS valid_until
		FROM students s JOIN case_activity ca ON ca.student_id = s.id
		LEFT JOIN (SELECT student_id, max(level) AS level FROM escalations WHERE status <> 'resolved' GROUP BY 1) e
		       ON e.student_id = s.id
		LEFT JOIN (SELECT student_id, array_agg(category ORDER BY category) AS categories,
		                  array_agg(valid_until ORDER BY category) AS valid_until
		           FROM hardships WHERE status = 'verified' GROUP BY 1) h ON h.student_id = s.id
		ORDER BY s.counselor_id, s.id`, false},
	{"graduates keys", "", `ALTER TABLE bench_floor.graduates ADD PRIMARY KEY (id)`, false},
	{"graduates by counselor", "caseload", `CREATE INDEX ON bench_floor.graduates (counselor_id)`, false},
	{"graduates open by school", "report", `CREATE INDEX ON bench_floor.graduates (school_id, department_id)
		INCLUDE (counselor_id, last_contact_at, overdue) WHERE status IN ('open', 'active')`, false},
	{"heads", "append",
		// The hash chain's head of each graduate's ledger, apart from the
		// caseload row that is read far more often than it is written.
		`CREATE TABLE bench_floor.heads WITH (fillfactor = 80) AS
		SELECT student_id, ledger_seq AS seq, ledger_head AS head, ''::bytea AS prev FROM case_activity ORDER BY student_id`, false},
	{"heads key", "", `ALTER TABLE bench_floor.heads ADD PRIMARY KEY (student_id)`, false},
	{"entries", "ledger, review, append",
		// The ledger in (graduate, seq) order with what a row shows already
		// on it: the author's role and the entries that correct it (both
		// fixed when written: roles do not change, a correction is appended
		// once), the graduate's school and department for the review.
		`CREATE TABLE bench_floor.entries AS ` + floorEntriesSelect + ` ORDER BY l.student_id, l.seq`, true},
	{"entries key", "ledger", `ALTER TABLE bench_floor.entries ADD PRIMARY KEY (student_id, seq)`, true},
	{"entries by school", "review (school)",
		`CREATE INDEX ON bench_floor.entries (school_id, kind, recorded_at DESC, student_id DESC, seq DESC)`, true},
	{"entries by department", "review (department)",
		`CREATE INDEX ON bench_floor.entries (school_id, department_id, kind, recorded_at DESC, student_id DESC, seq DESC)`, true},
	{"escalations", "escalations, report",
		`CREATE TABLE bench_floor.escalations AS
		SELECT e.id, e.student_id, e.school_id, s.department_id, e.kind, e.level, e.reason, e.status, e.raised_at,
		       e.acknowledged_by, e.acknowledged_at, e.acknowledge_note, e.resolved_by, e.resolved_at, e.resolve_note
		FROM escalations e JOIN students s ON s.id = e.student_id ORDER BY e.school_id, e.id`, false},
	{"escalations key", "", `ALTER TABLE bench_floor.escalations ADD PRIMARY KEY (id)`, false},
	{"escalations by school", "escalations (school)", `CREATE INDEX ON bench_floor.escalations (school_id, status, id DESC)`, false},
	{"escalations by department", "escalations (department)",
		`CREATE INDEX ON bench_floor.escalations (school_id, department_id, status, id DESC)`, false},
	{"escalations unresolved by graduate", "append", `CREATE INDEX ON bench_floor.escalations (student_id) WHERE status <> 'resolved'`, false},
	{"rate groups", "report",
		// 去向落实率's rollup: graduates by their finest group. A specialist
		// keeps it with the writes that change a destination; the report
		// reads a school's few dozen rows.
		`CREATE TABLE bench_floor.rate_groups AS
		SELECT school_id, department_id, graduation_year, education_level, count(*)::int AS n,
		       (count(*) FILTER (WHERE destination_code NOT IN ('70', '71', '72') AND destination_verified))::int AS placed,
		       (count(*) FILTER (WHERE destination_code NOT IN ('70', '71', '72') AND NOT destination_verified))::int AS pending,
		       (count(*) FILTER (WHERE handed_over_at IS NOT NULL))::int AS handed_over
		FROM students GROUP BY 1, 2, 3, 4 ORDER BY 1, 2, 3, 4`, false},
	{"rate groups key", "report", `CREATE INDEX ON bench_floor.rate_groups (school_id, department_id)`, false},
	{"category groups", "report",
		`CREATE TABLE bench_floor.category_groups AS
		SELECT s.school_id, s.department_id, s.graduation_year, c.category, count(*)::int AS n,
		       (count(*) FILTER (WHERE s.destination_code NOT IN ('70', '71', '72') AND s.destination_verified))::int AS placed,
		       (count(*) FILTER (WHERE s.destination_code NOT IN ('70', '71', '72') AND NOT s.destination_verified))::int AS pending,
		       (count(*) FILTER (WHERE s.handed_over_at IS NOT NULL))::int AS handed_over
		FROM (SELECT DISTINCT h.student_id, h.category FROM hardships h WHERE h.verified_at IS NOT NULL AND h.status <> 'rejected'
		        AND (h.valid_until IS NULL OR h.valid_until >= $1::date)) c
		JOIN students s ON s.id = c.student_id
		GROUP BY 1, 2, 3, 4 ORDER BY 1, 2, 3, 4`, false},
	{"category groups key", "report", `CREATE INDEX ON bench_floor.category_groups (school_id, department_id)`, false},
	{"followups", "append",
		// The follow-up job's state: one pending follow-up per graduate,
		// replaced by the next contact; a worker polls it by due day.
		`CREATE TABLE bench_floor.followups (student_id bigint PRIMARY KEY, due_on date NOT NULL, scheduled_at timestamptz NOT NULL)`, false},
	{"followups by day", "", `CREATE INDEX ON bench_floor.followups (due_on)`, false},
	{"audit", "append",
		`CREATE TABLE bench_floor.audit (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, at timestamptz NOT NULL,
		actor_id bigint, action text NOT NULL, student_id bigint, school_id bigint, detail jsonb)`, false},
	{"logins", "login",
		`CREATE TABLE bench_floor.logins AS
		SELECT username, id, role, display_name, school_id, department_id, password_hash FROM users WHERE NOT disabled`, false},
	{"logins key", "login", `ALTER TABLE bench_floor.logins ADD PRIMARY KEY (username)`, false},
	{"sessions", "login",
		`CREATE TABLE bench_floor.sessions (token_hash bytea PRIMARY KEY, user_id bigint NOT NULL, expires_at timestamptz NOT NULL)`, false},
	{"meta", "", `CREATE TABLE bench_floor.meta (version int NOT NULL, fingerprint text NOT NULL, built_at timestamptz NOT NULL,
		seconds float8 NOT NULL, ledger_mark timestamptz)`, false},
}

// FloorStatement is one statement of the floor, named, with the endpoints
// it serves.
type FloorStatement struct {
	Name string
	// For names the endpoints that use it.
	For string
	SQL string
	// Ledger marks the statements of the ledger's copy, which a refresh
	// keeps (see BuildFloor).
	Ledger bool
}

// floorEntriesSelect reads ledger entries l as the floor's entries hold
// them.
const floorEntriesSelect = `SELECT l.student_id, l.seq, l.school_id, s.department_id, l.kind, l.channel, l.occurred_at, l.summary,
		       l.next_step, l.next_followup_on, l.visibility, l.referral, l.corrects_seq, l.correction_reason, l.group_id, l.author_id,
		       u.role AS author_role, l.recorded_at, l.prev_hash, l.hash, coalesce(c.seqs, '{}') AS corrected_by
		FROM ledger_entries l
		JOIN students s ON s.id = l.student_id
		JOIN users u ON u.id = l.author_id
		LEFT JOIN (SELECT student_id, corrects_seq, array_agg(seq ORDER BY seq) AS seqs FROM ledger_entries
		           WHERE corrects_seq IS NOT NULL GROUP BY 1, 2) c ON c.student_id = l.student_id AND c.corrects_seq = l.seq`

// floorTables are the tables a refresh rebuilds (all but the ledger's).
var floorTables = []string{"graduates", "heads", "escalations", "rate_groups", "category_groups", "followups", "audit", "logins",
	"sessions", "meta"}

// floorFingerprint says what the floor was built from: when it differs
// from the one recorded, the floor is rebuilt. Every write bangfu makes to
// these tables moves one of the figures (appends move the ledger's last
// time, the sweep the escalations' ids and times, reassignments the files'
// updated_at).
const floorFingerprint = `SELECT concat_ws('|', $1::int, $2::date,
	(SELECT count(*) FROM students), (SELECT max(updated_at) FROM students), (SELECT max(last_contact_at) FROM case_activity),
	(SELECT max(recorded_at) FROM ledger_entries),
	(SELECT count(*) FROM escalations), (SELECT max(id) FROM escalations),
	(SELECT max(greatest(acknowledged_at, resolved_at)) FROM escalations),
	(SELECT count(*) FROM hardships), (SELECT max(verified_at) FROM hardships),
	(SELECT count(*) FROM users), (SELECT max(updated_at) FROM users))`

// BuildFloor makes sure the schema bench_floor holds the floor's tables,
// built from the data as it is now. It builds them all when they are
// missing or of another version (or with force): a few minutes for a
// province, most of it the ledger's copy. When they were built from data
// that has changed since (see floorFingerprint), it refreshes them: the
// ledger is append-only, so its copy drops the floor's own appends and
// takes the entries recorded since it was built; every other table is
// rebuilt (half a minute). It reports whether it built or refreshed.
func BuildFloor(ctx context.Context, db *postgres.DB, today bangfu.Date, force bool, progress io.Writer) (bool, error) {
	say := func(format string, args ...any) {
		if progress != nil {
			fmt.Fprintf(progress, format+"\n", args...)
		}
	}
	conn, err := db.Pool.Acquire(ctx)
	if err != nil {
		return false, err
	}
	defer conn.Release()
	if _, err := conn.Exec(ctx, `SELECT pg_advisory_lock($1)`, floorLock); err != nil {
		return false, err
	}
	defer conn.Exec(context.WithoutCancel(ctx), `SELECT pg_advisory_unlock($1)`, floorLock)

	var fingerprint string
	if err := conn.QueryRow(ctx, floorFingerprint, FloorSchemaVersion, today.Time()).Scan(&fingerprint); err != nil {
		return false, fmt.Errorf("floor fingerprint: %w", err)
	}
	var (
		version int
		have    string
		mark    *time.Time
	)
	full := true
	if err := conn.QueryRow(ctx, `SELECT version, fingerprint, ledger_mark FROM bench_floor.meta`).Scan(&version, &have, &mark); err == nil {
		if version == FloorSchemaVersion && have == fingerprint && !force {
			say("  the floor's tables (schema bench_floor) are current")
			return false, nil
		}
		full = force || version != FloorSchemaVersion
	}
	start := time.Now()
	// One snapshot: the ledger's mark and the copies agree.
	tx, err := conn.BeginTx(ctx, pgx.TxOptions{IsoLevel: pgx.RepeatableRead})
	if err != nil {
		return false, err
	}
	defer tx.Rollback(context.WithoutCancel(ctx))
	// The build reads and sorts millions of rows once.
	if _, err := tx.Exec(ctx, `SET LOCAL work_mem = '256MB'; SET LOCAL maintenance_work_mem = '512MB'`); err != nil {
		return false, err
	}
	var newMark *time.Time
	if err := tx.QueryRow(ctx, `SELECT max(recorded_at) FROM ledger_entries`).Scan(&newMark); err != nil {
		return false, err
	}
	if full {
		say("  building the floor's tables (schema bench_floor) from the data…")
		if _, err := tx.Exec(ctx, `DROP SCHEMA IF EXISTS bench_floor CASCADE`); err != nil {
			return false, err
		}
	} else {
		say("  refreshing the floor's tables (schema bench_floor): the data changed since they were built…")
		if _, err := tx.Exec(ctx, `DELETE FROM bench_floor.entries e USING bench_floor.audit a
			WHERE a.action = 'ledger.append' AND e.student_id = a.student_id AND e.seq = (a.detail->>'seq')::int`); err != nil {
			return false, fmt.Errorf("floor: drop its own appends: %w", err)
		}
		if mark != nil {
			tag, err := tx.Exec(ctx, `INSERT INTO bench_floor.entries `+floorEntriesSelect+` WHERE l.recorded_at > $1`, *mark)
			if err != nil {
				return false, fmt.Errorf("floor: entries since %s: %w", mark, err)
			}
			say("    %d ledger entries recorded since the last build", tag.RowsAffected())
		}
		for _, t := range floorTables {
			if _, err := tx.Exec(ctx, `DROP TABLE IF EXISTS bench_floor.`+t); err != nil {
				return false, err
			}
		}
	}
	for _, st := range floorBuild {
		if !full && (st.Ledger || st.Name == "schema") {
			continue
		}
		t := time.Now()
		var args []any
		if strings.Contains(st.SQL, "$1") {
			args = []any{today.Time()}
		}
		if _, err := tx.Exec(ctx, st.SQL, args...); err != nil {
			return false, fmt.Errorf("floor %s: %w", st.Name, err)
		}
		if d := time.Since(t); d > time.Second {
			say("    %-28s %5.1fs", st.Name, d.Seconds())
		}
	}
	if _, err := tx.Exec(ctx, `INSERT INTO bench_floor.meta VALUES ($1, $2, now(), $3, $4)`, FloorSchemaVersion, fingerprint,
		time.Since(start).Seconds(), newMark); err != nil {
		return false, err
	}
	if err := tx.Commit(ctx); err != nil {
		return false, err
	}
	// Settled as the bench database is: statistics, and the visibility map
	// for index-only scans.
	for _, t := range []string{"graduates", "heads", "entries", "escalations", "rate_groups", "category_groups", "logins"} {
		if _, err := conn.Exec(ctx, `VACUUM (ANALYZE) bench_floor.`+t); err != nil {
			return false, err
		}
	}
	say("  done in %.1fs", time.Since(start).Seconds())
	return true, nil
}
