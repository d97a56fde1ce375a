package loadtest

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/bangfu/bangfu"
	"github.com/bangfu/bangfu/internal/escalation"
	"github.com/bangfu/bangfu/internal/ledger"
	"github.com/bangfu/bangfu/internal/password"
	"github.com/bangfu/bangfu/internal/postgres"
	"github.com/bangfu/bangfu/internal/report"
	"github.com/bangfu/bangfu/internal/settings"
)

// The floor is what a PostgreSQL specialist would serve for each measured
// endpoint: the same question (the same actor's rows, in the same order,
// with the same fields) answered from the narrowest schema — the floor's
// own tables in the schema bench_floor (floordb.go), indexed for exactly
// these questions — with hand-written SQL, one round trip per request
// where the question allows, on bare net/http and a pgx pool. It shares no
// SQL with bangfu and uses none of its builders. It keeps the guarantees
// a user relies on: a graduate's rows only for their counselor (or their
// school's or department's supervisor); an append chains the hash, writes
// the entry, the audit row and the follow-up's state in one transaction;
// a login verifies the password hash and issues a signed token and a
// stored refresh token. It has no framework, no read audit, no masking
// (the load acts as counselors and supervisors, who see in clear) and no
// problem documents. The acting user comes from query parameters (see
// actorParams). The server's throughput over the floor's is the share of
// what the machine can do that the product keeps.
//
// It listens on the API's paths so that one request can be sent to both.

// Query parameters that carry the actor to the floor.
const (
	paramRole   = "as_role"
	paramUser   = "as_user"
	paramSchool = "as_school"
	paramDept   = "as_dept"
)

// actorParams returns the query parameters naming a to the floor.
func actorParams(a bangfu.Actor) string {
	q := fmt.Sprintf("%s=%s&%s=%d", paramRole, a.Role, paramUser, a.UserID)
	if a.SchoolID != nil {
		q += fmt.Sprintf("&%s=%d", paramSchool, *a.SchoolID)
	}
	if a.DepartmentID != nil {
		q += fmt.Sprintf("&%s=%d", paramDept, *a.DepartmentID)
	}
	return q
}

func floorActor(r *http.Request) (bangfu.Actor, error) {
	q := r.URL.Query()
	a := bangfu.Actor{Role: bangfu.Role(q.Get(paramRole))}
	if !a.Role.Valid() {
		return a, fmt.Errorf("%s: not a role: %q", paramRole, q.Get(paramRole))
	}
	var err error
	if a.UserID, err = strconv.ParseInt(q.Get(paramUser), 10, 64); err != nil {
		return a, fmt.Errorf("%s: %w", paramUser, err)
	}
	id := func(name string) (*int64, error) {
		v := q.Get(name)
		if v == "" {
			return nil, nil
		}
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		return &n, nil
	}
	if a.SchoolID, err = id(paramSchool); err != nil {
		return a, err
	}
	a.DepartmentID, err = id(paramDept)
	return a, err
}

// Floor serves the floor's endpoints on db, whose schema bench_floor
// BuildFloor has built.
type Floor struct {
	DB    *postgres.DB
	Clock bangfu.Clock
	// Settings are the targets and the first stall threshold the report
	// counts with, read once at start.
	Settings settings.Settings
	key      ed25519.PrivateKey
}

// NewFloor returns a floor on db, reading the settings once.
func NewFloor(ctx context.Context, db *postgres.DB, clock bangfu.Clock) (*Floor, error) {
	f := &Floor{DB: db, Clock: clock}
	rec, err := (&settings.Store{DB: db, Clock: clock}).Get(ctx, db.Pool)
	if err != nil {
		return nil, err
	}
	f.Settings = rec.Settings
	_, f.key, err = ed25519.GenerateKey(rand.Reader)
	return f, err
}

// errBadRequest marks a request the floor does not answer.
var errBadRequest = errors.New("bad request")

// Handler returns the floor's routes.
func (f *Floor) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, r *http.Request) {
		if err := f.DB.Pool.Ping(r.Context()); err != nil {
			http.Error(w, err.Error(), http.StatusServiceUnavailable)
			return
		}
		writeJSON(w, http.StatusOK, map[string]string{"status": "ready"})
	})
	mux.HandleFunc("POST /api/v1/auth/login", f.login)
	mux.HandleFunc("GET /api/v1/students", f.withActor(f.caseload))
	mux.HandleFunc("GET /api/v1/students/{id}", f.withActor(f.file))
	mux.HandleFunc("GET /api/v1/students/{id}/ledger", f.withActor(f.ledger))
	mux.HandleFunc("POST /api/v1/students/{id}/ledger", f.withActor(f.append))
	mux.HandleFunc("GET /api/v1/ledger", f.withActor(f.review))
	mux.HandleFunc("GET /api/v1/escalations", f.withActor(f.escalations))
	mux.HandleFunc("GET /api/v1/reports/summary", f.withActor(f.report))
	return mux
}

type actorHandler func(w http.ResponseWriter, r *http.Request, a bangfu.Actor) error

func (f *Floor) withActor(h actorHandler) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		a, err := floorActor(r)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		if err := h(w, r, a); err != nil {
			status := http.StatusInternalServerError
			switch {
			case errors.Is(err, pgx.ErrNoRows):
				status = http.StatusNotFound
			case errors.Is(err, errBadRequest):
				status = http.StatusBadRequest
			}
			http.Error(w, err.Error(), status)
		}
	}
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func limit(r *http.Request) int {
	if n, err := strconv.Atoi(r.URL.Query().Get("limit")); err == nil && n > 0 && n <= bangfu.MaxPageLimit {
		return n
	}
	return bangfu.DefaultPageLimit
}

func pathID(r *http.Request) (int64, error) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil {
		return 0, fmt.Errorf("%w: id: %v", errBadRequest, err)
	}
	return id, nil
}

// list is a page as the API returns it.
type list[T any] struct {
	Items      []T    `json:"items"`
	NextCursor string `json:"next_cursor"`
}

// The floor's statements, by endpoint, as `bangfu-bench floors --sql`
// prints them.
const (
	floorLoginSQL = `SELECT id, role, display_name, school_id, department_id, password_hash
FROM bench_floor.logins WHERE username = $1`
	floorSessionSQL = `INSERT INTO bench_floor.sessions (token_hash, user_id, expires_at) VALUES ($1, $2, $3)`

	// $1 counselor, $2 today, $3 limit+1.
	floorCaseloadSQL = `SELECT id, student_number, name, department_id, counselor_id, status,
       ARRAY(SELECT DISTINCT c.category FROM unnest(g.categories, g.valid_until) c(category, valid_until)
             WHERE c.valid_until IS NULL OR c.valid_until >= $2 ORDER BY 1),
       next_followup_on, overdue_now, last_contact_at, escalation_level,
       CASE WHEN active THEN CASE WHEN $2 > make_date(graduation_year, 6, 30) THEN 'after_graduation' ELSE 'in_school' END END
FROM (SELECT g.*, g.status IN ('open', 'active') AS active,
             g.status IN ('open', 'active') AND (g.overdue OR coalesce(g.next_followup_on < $2, false)) AS overdue_now
      FROM bench_floor.graduates g WHERE g.counselor_id = $1) g
ORDER BY overdue_now DESC, escalation_level DESC, active DESC, last_contact_at NULLS FIRST, id
LIMIT $3`

	// $1 graduate, $2 today, $3 counselor. The file as JSON, its
	// hardships in it: one statement on the graduate's primary key.
	floorFileSQL = `SELECT json_build_object('id', s.id, 'school_id', s.school_id, 'department_id', s.department_id,
  'student_number', s.student_number, 'name', s.name, 'id_number', s.id_number_masked, 'major', s.major,
  'education_level', s.education_level, 'graduation_year', s.graduation_year, 'phone', s.phone, 'email', s.email,
  'intention', json_build_object('industry', s.intention_industry, 'region', s.intention_region, 'job_type', s.intention_job_type),
  'skills', s.skills, 'certificates', s.certificates,
  'accommodations', CASE WHEN s.accommodations_sealed IS NULL THEN '' ELSE '******' END,
  'counselor_id', s.counselor_id, 'counselor_name', u.display_name, 'status', s.status,
  'phase', CASE WHEN s.status IN ('open', 'active') THEN
             CASE WHEN $2 > make_date(s.graduation_year, 6, 30) THEN 'after_graduation' ELSE 'in_school' END END,
  'next_followup_on', ca.next_followup_on, 'overdue', ca.overdue, 'consent', s.consent, 'consent_at', s.consent_at,
  'version', s.version + ca.version, 'created_at', s.created_at, 'updated_at', s.updated_at, 'contacts_count', ca.contacts_count,
  'referrals_count', ca.referrals_count, 'last_contact_at', ca.last_contact_at, 'plan_revision', s.plan_revision,
  'destination_code', s.destination_code,
  'categories', ARRAY(SELECT DISTINCT h.category FROM hardships h WHERE h.student_id = s.id AND h.status = 'verified'
                      AND (h.valid_until IS NULL OR h.valid_until >= $2) ORDER BY 1),
  'hardships', (SELECT json_agg(json_build_object('id', h.id, 'student_id', h.student_id, 'category', h.category,
                  'evidence_type', h.evidence_type, 'issuing_authority', h.issuing_authority,
                  'certificate_no', CASE WHEN h.certificate_no_sealed IS NULL THEN '' ELSE '******' END,
                  'valid_until', h.valid_until, 'status', h.status,
                  'counts', h.status = 'verified' AND (h.valid_until IS NULL OR h.valid_until >= $2),
                  'verified_by', h.verified_by, 'verified_at', h.verified_at, 'verification_note', h.verification_note,
                  'created_by', h.created_by, 'created_at', h.created_at) ORDER BY h.id)
                FROM hardships h WHERE h.student_id = s.id))
FROM students s JOIN case_activity ca ON ca.student_id = s.id LEFT JOIN users u ON u.id = s.counselor_id
WHERE s.id = $1 AND s.counselor_id = $3`

	floorEntryColumns = `e.student_id, e.seq, e.kind, e.channel, e.occurred_at, e.summary, e.next_step, e.next_followup_on,
       e.visibility, e.referral, e.corrects_seq, e.correction_reason, e.group_id, e.author_id, e.author_role,
       e.recorded_at, e.prev_hash, e.hash, e.corrected_by`

	// $1 graduate, $2 counselor, $3 limit+1.
	floorLedgerSQL = `SELECT ` + floorEntryColumns + `
FROM bench_floor.entries e
WHERE e.student_id = $1 AND EXISTS (SELECT 1 FROM bench_floor.graduates g WHERE g.id = $1 AND g.counselor_id = $2)
ORDER BY e.seq LIMIT $3`

	// $1 school, $2 kind, $3 since, $4 limit+1 (and $5 department).
	floorReviewSQL = `SELECT ` + floorEntryColumns + `, (SELECT g.name FROM bench_floor.graduates g WHERE g.id = e.student_id)
FROM bench_floor.entries e
WHERE e.school_id = $1 AND e.kind = $2 AND e.recorded_at >= $3
ORDER BY e.recorded_at DESC, e.student_id DESC, e.seq DESC LIMIT $4`
	floorReviewDeptSQL = `SELECT ` + floorEntryColumns + `, (SELECT g.name FROM bench_floor.graduates g WHERE g.id = e.student_id)
FROM bench_floor.entries e
WHERE e.school_id = $1 AND e.department_id = $5 AND e.kind = $2 AND e.recorded_at >= $3
ORDER BY e.recorded_at DESC, e.student_id DESC, e.seq DESC LIMIT $4`

	floorEscalationColumns = `e.id, e.student_id, g.name, e.school_id, g.counselor_id, e.kind, e.level, e.reason, e.status, e.raised_at,
       e.acknowledged_by, e.acknowledged_at, e.acknowledge_note, e.resolved_by, e.resolved_at, e.resolve_note`
	// $1 school, $2 status, $3 limit+1 (and $4 department).
	floorEscalationsSQL = `SELECT ` + floorEscalationColumns + `
FROM bench_floor.escalations e JOIN bench_floor.graduates g ON g.id = e.student_id
WHERE e.school_id = $1 AND e.status = $2
ORDER BY e.id DESC LIMIT $3`
	floorEscalationsDeptSQL = `SELECT ` + floorEscalationColumns + `
FROM bench_floor.escalations e JOIN bench_floor.graduates g ON g.id = e.student_id
WHERE e.school_id = $1 AND e.department_id = $4 AND e.status = $2
ORDER BY e.id DESC LIMIT $3`

	// $1 graduate, $2 hashed content, $3 author, $4 kind, $5 channel,
	// $6 occurred_at, $7 summary, $8 next step, $9 follow-up day,
	// $10 visibility, $11 author's role, $12 now. One statement: advance
	// the chain's head (row lock: appends to one ledger take turns; the
	// counselor's scope), insert the entry, update the caseload row,
	// resolve the no-contact flags a contact clears, replace the pending
	// follow-up, write the audit row.
	floorAppendSQL = `WITH h AS (
  UPDATE bench_floor.heads h SET seq = h.seq + 1, prev = h.head,
         head = sha256(h.head || int4send(h.seq + 1) || convert_to($2::text, 'UTF8'))
  FROM bench_floor.graduates g
  WHERE h.student_id = $1 AND g.id = $1 AND g.counselor_id = $3
  RETURNING h.student_id, h.seq, h.prev, h.head, g.school_id, g.department_id
), entry AS (
  INSERT INTO bench_floor.entries (student_id, seq, school_id, department_id, kind, channel, occurred_at, summary, next_step,
         next_followup_on, visibility, correction_reason, author_id, author_role, recorded_at, prev_hash, hash, corrected_by)
  SELECT student_id, seq, school_id, department_id, $4::text, $5::text, $6::timestamptz, $7::text, $8::text, $9::date,
         $10::text, '', $3, $11::text, $12::timestamptz, prev, head, '{}' FROM h
), caseload AS (
  UPDATE bench_floor.graduates g
  SET last_contact_at = CASE WHEN $4 = 'contact' THEN greatest(g.last_contact_at, $6) ELSE g.last_contact_at END,
      next_followup_on = coalesce($9, g.next_followup_on), overdue = g.overdue AND $9 IS NULL,
      escalation_level = CASE WHEN $4 = 'contact' THEN coalesce((SELECT max(x.level) FROM bench_floor.escalations x
          WHERE x.student_id = g.id AND x.status <> 'resolved' AND x.kind <> 'no_contact'), 0) ELSE g.escalation_level END
  FROM h WHERE g.id = h.student_id
), resolved AS (
  UPDATE bench_floor.escalations x SET status = 'resolved', resolved_at = $12, resolved_by = $3, resolve_note = '已联系'
  FROM h WHERE $4 = 'contact' AND x.student_id = h.student_id AND x.kind = 'no_contact' AND x.status <> 'resolved'
), followup AS (
  INSERT INTO bench_floor.followups (student_id, due_on, scheduled_at) SELECT student_id, $9, $12 FROM h WHERE $9 IS NOT NULL
  ON CONFLICT (student_id) DO UPDATE SET due_on = excluded.due_on, scheduled_at = excluded.scheduled_at
), audit AS (
  INSERT INTO bench_floor.audit (at, actor_id, action, student_id, school_id, detail)
  SELECT $12, $3, 'ledger.append', student_id, school_id, jsonb_build_object('seq', seq, 'kind', $4) FROM h
)
SELECT seq, prev, head FROM h`

	// The report of a supervisor's school ($1) or department ($2): its
	// rollup rows, categories, staffing, and process measures per
	// counselor, sent as one batch. $3 is the graduation year, $4 the
	// first stall threshold's start.
	floorReportRatesSQL = `SELECT r.graduation_year, coalesce(r.department_id, 0), coalesce(d.name, '（未分院系）'), r.education_level,
       r.n, r.placed, r.pending, r.handed_over
FROM bench_floor.rate_groups r LEFT JOIN departments d ON d.id = r.department_id
WHERE r.school_id = $1 AND r.department_id IS NOT DISTINCT FROM coalesce($2, r.department_id)`
	floorReportCategoriesSQL = `SELECT category, sum(n)::int, sum(placed)::int, sum(pending)::int, sum(handed_over)::int
FROM bench_floor.category_groups
WHERE school_id = $1 AND department_id IS NOT DISTINCT FROM coalesce($2, department_id) AND graduation_year = $3
GROUP BY 1 ORDER BY 1`
	floorReportStaffingSQL = `SELECT sc.name, st.staff,
       (SELECT coalesce(sum(r.n), 0)::int FROM bench_floor.rate_groups r WHERE r.school_id = sc.id AND r.graduation_year = $2)
FROM schools sc LEFT JOIN school_staffing st ON st.school_id = sc.id AND st.year = $2
WHERE sc.id = $1`
	floorReportCounselorsSQL = `SELECT coalesce(g.counselor_id, 0), coalesce(u.display_name, '（未分配）'), count(*),
       count(*) FILTER (WHERE g.last_contact_at >= $3), count(*) FILTER (WHERE g.overdue)
FROM bench_floor.graduates g LEFT JOIN users u ON u.id = g.counselor_id
WHERE g.school_id = $1 AND g.department_id IS NOT DISTINCT FROM coalesce($2, g.department_id) AND g.status IN ('open', 'active')
GROUP BY 1, 2 ORDER BY 1`
	floorReportEscalationsSQL = `SELECT coalesce(g.counselor_id, 0), e.level, count(*)
FROM bench_floor.escalations e JOIN bench_floor.graduates g ON g.id = e.student_id
WHERE e.school_id = $1 AND e.department_id IS NOT DISTINCT FROM coalesce($2, e.department_id) AND e.status <> 'resolved'
GROUP BY 1, 2`
)

// FloorQueries are the floor's statements by endpoint, for the docs.
func FloorQueries() []FloorStatement {
	return []FloorStatement{
		{Name: "login: the user", For: "login", SQL: floorLoginSQL},
		{Name: "login: the refresh token", For: "login", SQL: floorSessionSQL},
		{Name: "caseload", For: "caseload", SQL: floorCaseloadSQL},
		{Name: "file", For: "file", SQL: floorFileSQL},
		{Name: "append", For: "append", SQL: floorAppendSQL},
		{Name: "ledger", For: "ledger", SQL: floorLedgerSQL},
		{Name: "review (school supervisor)", For: "review", SQL: floorReviewSQL},
		{Name: "review (department supervisor)", For: "review", SQL: floorReviewDeptSQL},
		{Name: "escalations (school supervisor)", For: "escalations", SQL: floorEscalationsSQL},
		{Name: "escalations (department supervisor)", For: "escalations", SQL: floorEscalationsDeptSQL},
		{Name: "report: rates", For: "report", SQL: floorReportRatesSQL},
		{Name: "report: categories", For: "report", SQL: floorReportCategoriesSQL},
		{Name: "report: staffing", For: "report", SQL: floorReportStaffingSQL},
		{Name: "report: counselors", For: "report", SQL: floorReportCounselorsSQL},
		{Name: "report: escalations", For: "report", SQL: floorReportEscalationsSQL},
	}
}

// PrintFloorSQL writes the floor's schema and statements as Markdown.
func PrintFloorSQL(w io.Writer) {
	fmt.Fprintf(w, "### The floor's tables (schema `bench_floor`, version %d)\n\n", FloorSchemaVersion)
	for _, st := range floorBuild {
		if st.Name == "schema" || st.Name == "meta" {
			continue
		}
		fmt.Fprintf(w, "```sql\n-- %s", st.Name)
		if st.For != "" {
			fmt.Fprintf(w, " (%s)", st.For)
		}
		fmt.Fprintf(w, "\n%s;\n```\n\n", dedent(st.SQL))
	}
	fmt.Fprintf(w, "### The floor's statements\n\n")
	for _, q := range FloorQueries() {
		fmt.Fprintf(w, "```sql\n-- %s\n%s;\n```\n\n", q.Name, dedent(q.SQL))
	}
}

// dedent removes the tabs Go source indents multi-line SQL with.
func dedent(s string) string {
	out := []byte{}
	for i := 0; i < len(s); i++ {
		if s[i] == '\t' && (i == 0 || s[i-1] == '\n' || s[i-1] == '\t') {
			continue
		}
		out = append(out, s[i])
	}
	return string(out)
}

func (f *Floor) login(w http.ResponseWriter, r *http.Request) {
	var in struct {
		Username string `json:"username"`
		Password string `json:"password"`
	}
	if err := json.NewDecoder(r.Body).Decode(&in); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	type user struct {
		ID           int64       `json:"id"`
		Username     string      `json:"username"`
		DisplayName  string      `json:"display_name"`
		Role         bangfu.Role `json:"role"`
		SchoolID     *int64      `json:"school_id"`
		DepartmentID *int64      `json:"department_id"`
	}
	u := user{Username: in.Username}
	var hash string
	err := f.DB.Pool.QueryRow(r.Context(), floorLoginSQL, in.Username).Scan(&u.ID, &u.Role, &u.DisplayName, &u.SchoolID,
		&u.DepartmentID, &hash)
	if err != nil && !errors.Is(err, pgx.ErrNoRows) {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	ok, err := password.Verify(in.Password, hash)
	if err != nil || !ok {
		http.Error(w, "bad credentials", http.StatusUnauthorized)
		return
	}
	now := f.Clock.Now()
	claims, _ := json.Marshal(map[string]any{"sub": u.ID, "role": u.Role, "school": u.SchoolID, "dept": u.DepartmentID,
		"iat": now.Unix(), "exp": now.Add(15 * time.Minute).Unix()})
	body := base64.RawURLEncoding.EncodeToString(claims)
	token := "eyJhbGciOiJFZERTQSJ9." + body + "." + base64.RawURLEncoding.EncodeToString(ed25519.Sign(f.key, []byte(body)))
	refresh := make([]byte, 32)
	_, _ = rand.Read(refresh)
	sum := sha256.Sum256(refresh)
	if _, err := f.DB.Pool.Exec(r.Context(), floorSessionSQL, sum[:], u.ID, now.Add(30*24*time.Hour)); err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"access_token": token, "token_type": "Bearer", "expires_in": 900,
		"refresh_token": base64.RawURLEncoding.EncodeToString(refresh), "user": u})
}

// caseloadRow is graduate.CaseloadRow's fields.
type caseloadRow struct {
	ID              int64        `json:"id"`
	StudentNumber   string       `json:"student_number"`
	Name            string       `json:"name"`
	DepartmentID    *int64       `json:"department_id"`
	CounselorID     *int64       `json:"counselor_id"`
	Status          string       `json:"status"`
	Categories      []string     `json:"categories"`
	NextFollowupOn  *bangfu.Date `json:"next_followup_on"`
	Overdue         bool         `json:"overdue"`
	LastContactAt   *time.Time   `json:"last_contact_at"`
	EscalationLevel int          `json:"escalation_level"`
	Phase           *string      `json:"phase"`
}

func (f *Floor) caseload(w http.ResponseWriter, r *http.Request, a bangfu.Actor) error {
	if a.Role != bangfu.RoleCounselor {
		return fmt.Errorf("%w: the floor answers a counselor's caseload", errBadRequest)
	}
	n := limit(r)
	today := bangfu.Today(f.Clock)
	rows, err := f.DB.Pool.Query(r.Context(), floorCaseloadSQL, a.UserID, today.Time(), n+1)
	if err != nil {
		return err
	}
	items, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (caseloadRow, error) {
		var c caseloadRow
		var next *time.Time
		err := row.Scan(&c.ID, &c.StudentNumber, &c.Name, &c.DepartmentID, &c.CounselorID, &c.Status, &c.Categories, &next,
			&c.Overdue, &c.LastContactAt, &c.EscalationLevel, &c.Phase)
		c.NextFollowupOn = bangfu.DatePtr(next)
		return c, err
	})
	if err != nil {
		return err
	}
	out := list[caseloadRow]{Items: items}
	if len(items) > n {
		last := items[n-1]
		out.Items = items[:n]
		contact := "n"
		if last.LastContactAt != nil {
			contact = strconv.FormatInt(last.LastContactAt.UnixMicro(), 10)
		}
		out.NextCursor = base64.RawURLEncoding.EncodeToString(fmt.Appendf(nil, "u%d.%d.%d.%s.%d", b2i(!last.Overdue),
			last.EscalationLevel, b2i(last.Phase == nil), contact, last.ID))
	}
	if out.Items == nil {
		out.Items = []caseloadRow{}
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

func (f *Floor) file(w http.ResponseWriter, r *http.Request, a bangfu.Actor) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	var file []byte
	if err := f.DB.Pool.QueryRow(r.Context(), floorFileSQL, id, bangfu.Today(f.Clock).Time(), a.UserID).Scan(&file); err != nil {
		return err
	}
	w.Header().Set("Content-Type", "application/json")
	_, err = w.Write(append(file, '\n'))
	return err
}

func scanFloorEntry(row pgx.CollectableRow, extra ...any) (ledger.Entry, error) {
	var e ledger.Entry
	var due *time.Time
	var referral []byte
	var prev, hash []byte
	err := row.Scan(append([]any{&e.StudentID, &e.Seq, &e.Kind, &e.Channel, &e.OccurredAt, &e.Summary, &e.NextStep, &due,
		&e.Visibility, &referral, &e.CorrectsSeq, &e.CorrectionReason, &e.GroupID, &e.AuthorID, &e.AuthorRole, &e.RecordedAt,
		&prev, &hash, &e.CorrectedBy}, extra...)...)
	if err != nil {
		return e, err
	}
	e.NextFollowupOn = bangfu.DatePtr(due)
	if referral != nil {
		e.Referral = &ledger.Referral{}
		if err := json.Unmarshal(referral, e.Referral); err != nil {
			return e, err
		}
	}
	e.PrevHash, e.Hash = fmt.Sprintf("%x", prev), fmt.Sprintf("%x", hash)
	return e, nil
}

func (f *Floor) ledger(w http.ResponseWriter, r *http.Request, a bangfu.Actor) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	n := limit(r)
	rows, err := f.DB.Pool.Query(r.Context(), floorLedgerSQL, id, a.UserID, n+1)
	if err != nil {
		return err
	}
	items, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (ledger.Entry, error) { return scanFloorEntry(row) })
	if err != nil {
		return err
	}
	out := list[ledger.Entry]{Items: items}
	if len(items) > n {
		out.Items, out.NextCursor = items[:n], strconv.Itoa(items[n-1].Seq)
	}
	if out.Items == nil {
		out.Items = []ledger.Entry{}
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

// supervisorScope returns a supervisor's school and department (nil for
// the whole school).
func supervisorScope(a bangfu.Actor) (int64, *int64, error) {
	if a.Role != bangfu.RoleSupervisor || a.SchoolID == nil {
		return 0, nil, fmt.Errorf("%w: the floor answers this as a supervisor", errBadRequest)
	}
	return *a.SchoolID, a.DepartmentID, nil
}

func (f *Floor) review(w http.ResponseWriter, r *http.Request, a bangfu.Actor) error {
	school, dept, err := supervisorScope(a)
	if err != nil {
		return err
	}
	q := r.URL.Query()
	kind := q.Get("kind")
	since := time.Unix(0, 0)
	if v := q.Get("since"); v != "" {
		if since, err = time.Parse(time.RFC3339, v); err != nil {
			return fmt.Errorf("%w: since: %v", errBadRequest, err)
		}
	}
	if kind == "" {
		return fmt.Errorf("%w: the floor's review needs kind", errBadRequest)
	}
	n := limit(r)
	sql, args := floorReviewSQL, []any{school, kind, since, n + 1}
	if dept != nil {
		sql, args = floorReviewDeptSQL, append(args, *dept)
	}
	rows, err := f.DB.Pool.Query(r.Context(), sql, args...)
	if err != nil {
		return err
	}
	items, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (ledger.ReviewEntry, error) {
		var e ledger.ReviewEntry
		var err error
		e.Entry, err = scanFloorEntry(row, &e.StudentName)
		return e, err
	})
	if err != nil {
		return err
	}
	out := ledger.ReviewPage{Items: items}
	if len(items) > n {
		last := items[n-1]
		out.Items = items[:n]
		out.NextCursor = ledger.ReviewCursor{RecordedAt: last.RecordedAt, StudentID: last.StudentID, Seq: last.Seq}.Encode()
	}
	if out.Items == nil {
		out.Items = []ledger.ReviewEntry{}
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

func (f *Floor) escalations(w http.ResponseWriter, r *http.Request, a bangfu.Actor) error {
	school, dept, err := supervisorScope(a)
	if err != nil {
		return err
	}
	status := r.URL.Query().Get("status")
	if status == "" {
		return fmt.Errorf("%w: the floor's escalation list needs status", errBadRequest)
	}
	n := limit(r)
	sql, args := floorEscalationsSQL, []any{school, status, n + 1}
	if dept != nil {
		sql, args = floorEscalationsDeptSQL, append(args, *dept)
	}
	rows, err := f.DB.Pool.Query(r.Context(), sql, args...)
	if err != nil {
		return err
	}
	items, err := pgx.CollectRows(rows, pgx.RowToStructByPos[escalation.Escalation])
	if err != nil {
		return err
	}
	out := list[escalation.Escalation]{Items: items}
	if len(items) > n {
		out.Items, out.NextCursor = items[:n], strconv.FormatInt(items[n-1].ID, 10)
	}
	if out.Items == nil {
		out.Items = []escalation.Escalation{}
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

// appendContent is what the floor's hash covers besides the previous head
// and the seq (which the statement adds).
type appendContent struct {
	StudentID      int64     `json:"student_id"`
	Kind           string    `json:"kind"`
	Channel        string    `json:"channel"`
	OccurredAt     time.Time `json:"occurred_at"`
	Summary        string    `json:"summary"`
	NextStep       string    `json:"next_step"`
	NextFollowupOn string    `json:"next_followup_on"`
	Visibility     string    `json:"visibility"`
	AuthorID       int64     `json:"author_id"`
	RecordedAt     time.Time `json:"recorded_at"`
}

func (f *Floor) append(w http.ResponseWriter, r *http.Request, a bangfu.Actor) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	if a.Role != bangfu.RoleCounselor {
		return fmt.Errorf("%w: the floor appends as a counselor", errBadRequest)
	}
	var in ledger.Input
	if err := json.NewDecoder(r.Body).Decode(&in); err != nil {
		return fmt.Errorf("%w: %v", errBadRequest, err)
	}
	var p bangfu.Problems
	next := bangfu.ParseDate(&p, "next_followup_on", in.NextFollowupOn)
	if in.Kind == "" || in.Summary == "" {
		p.Add("kind", "kind and summary are required")
	}
	if err := p.Err(); err != nil {
		return fmt.Errorf("%w: %v", errBadRequest, err)
	}
	if in.Visibility == "" {
		in.Visibility = "internal"
	}
	now := f.Clock.Now().Truncate(time.Microsecond)
	e := ledger.Entry{StudentID: id, Kind: in.Kind, Channel: in.Channel, OccurredAt: in.OccurredAt.Truncate(time.Microsecond),
		Summary: in.Summary, NextStep: in.NextStep, NextFollowupOn: next, Visibility: in.Visibility, AuthorID: a.UserID,
		AuthorRole: string(a.Role), RecordedAt: now, CorrectedBy: []int{}}
	c := appendContent{StudentID: id, Kind: e.Kind, Channel: e.Channel, OccurredAt: e.OccurredAt, Summary: e.Summary,
		NextStep: e.NextStep, NextFollowupOn: in.NextFollowupOn, Visibility: e.Visibility, AuthorID: e.AuthorID, RecordedAt: now}
	content, _ := json.Marshal(c)
	var prev, hash []byte
	err = f.DB.Pool.QueryRow(r.Context(), floorAppendSQL, id, string(content), a.UserID, e.Kind, e.Channel, e.OccurredAt,
		e.Summary, e.NextStep, next.TimePtr(), e.Visibility, e.AuthorRole, now).Scan(&e.Seq, &prev, &hash)
	if err != nil {
		return err
	}
	e.PrevHash, e.Hash = fmt.Sprintf("%x", prev), fmt.Sprintf("%x", hash)
	writeJSON(w, http.StatusCreated, e)
	return nil
}

// floorSummary holds the fields of report.Summary the floor counts.
type floorSummary struct {
	GraduationYear int                       `json:"graduation_year"`
	AsOf           bangfu.Date               `json:"as_of"`
	Targets        report.Targets            `json:"targets"`
	Overall        report.Rate               `json:"overall"`
	BySchool       []report.Group            `json:"by_school"`
	ByDepartment   []report.Group            `json:"by_department"`
	ByEducation    []report.Group            `json:"by_education"`
	ByCategory     []report.Group            `json:"by_category"`
	Staffing       []report.Staffing         `json:"staffing"`
	ComputedAt     time.Time                 `json:"computed_at"`
	Scope          string                    `json:"scope"`
	ByYear         []report.Group            `json:"by_year"`
	Process        report.Process            `json:"process"`
	Counselors     []report.CounselorProcess `json:"counselors"`
}

type rateCounts struct{ n, placed, pending, handed int }

func (c *rateCounts) add(o rateCounts) {
	c.n, c.placed, c.pending, c.handed = c.n+o.n, c.placed+o.placed, c.pending+o.pending, c.handed+o.handed
}

func ratio(a, b int) float64 {
	if b == 0 {
		return 0
	}
	return float64(a) / float64(b)
}

func (f *Floor) rate(c rateCounts, year int, day bangfu.Date) report.Rate {
	t := f.Settings.TargetJuly
	if day.After(bangfu.NewDate(year, time.July, 31)) {
		t = f.Settings.TargetDecember
	}
	r := report.Rate{Graduates: c.n, Placed: c.placed, Pending: c.pending, HandedOver: c.handed, Rate: ratio(c.placed, c.n), Target: t}
	r.MeetsTarget = c.n > 0 && r.Rate >= t
	return r
}

func (f *Floor) report(w http.ResponseWriter, r *http.Request, a bangfu.Actor) error {
	school, dept, err := supervisorScope(a)
	if err != nil {
		return err
	}
	today := bangfu.Today(f.Clock)
	year := today.Time().Year()
	since := today.AddDays(-f.Settings.StallDays[0]).Time()
	b := &pgx.Batch{}
	b.Queue(floorReportRatesSQL, school, dept)
	b.Queue(floorReportCategoriesSQL, school, dept, year)
	b.Queue(floorReportStaffingSQL, school, year)
	b.Queue(floorReportCounselorsSQL, school, dept, since)
	b.Queue(floorReportEscalationsSQL, school, dept)
	res := f.DB.Pool.SendBatch(r.Context(), b)
	defer res.Close()

	s := floorSummary{GraduationYear: year, AsOf: today, ComputedAt: f.Clock.Now(), Scope: "school", ByYear: []report.Group{},
		BySchool: []report.Group{}, ByDepartment: []report.Group{}, ByEducation: []report.Group{}, ByCategory: []report.Group{},
		Counselors: []report.CounselorProcess{}}
	if dept != nil {
		s.Scope = "department"
	}
	s.Targets = report.Targets{July: f.Settings.TargetJuly, December: f.Settings.TargetDecember}
	s.Targets.Current = f.rate(rateCounts{}, year, today).Target

	// Rates: add up the rollup's rows of the scope by year, department and
	// education level.
	rows, err := res.Query()
	if err != nil {
		return err
	}
	var overall rateCounts
	years, depts, levels := map[int]*rateCounts{}, map[int64]*rateCounts{}, map[string]*rateCounts{}
	deptNames := map[int64]string{}
	var deptOrder, yearOrder []int64
	var levelOrder []string
	var gy int
	var did int64
	var dname, level string
	var c rateCounts
	_, err = pgx.ForEachRow(rows, []any{&gy, &did, &dname, &level, &c.n, &c.placed, &c.pending, &c.handed}, func() error {
		if years[gy] == nil {
			years[gy] = &rateCounts{}
			yearOrder = append(yearOrder, int64(gy))
		}
		years[gy].add(c)
		if gy != year {
			return nil
		}
		overall.add(c)
		if depts[did] == nil {
			depts[did], deptNames[did] = &rateCounts{}, dname
			deptOrder = append(deptOrder, did)
		}
		depts[did].add(c)
		if levels[level] == nil {
			levels[level] = &rateCounts{}
			levelOrder = append(levelOrder, level)
		}
		levels[level].add(c)
		return nil
	})
	if err != nil {
		return err
	}
	s.Overall = f.rate(overall, year, today)
	for _, y := range yearOrder {
		s.ByYear = append(s.ByYear, report.Group{Year: int(y), Name: strconv.Itoa(int(y)), Rate: f.rate(*years[int(y)], int(y), today)})
	}
	for _, d := range deptOrder {
		s.ByDepartment = append(s.ByDepartment, report.Group{ID: d, Name: deptNames[d], Rate: f.rate(*depts[d], year, today)})
	}
	for _, l := range levelOrder {
		s.ByEducation = append(s.ByEducation, report.Group{Code: l, Name: l, Rate: f.rate(*levels[l], year, today)})
	}

	if rows, err = res.Query(); err != nil {
		return err
	}
	var cat string
	_, err = pgx.ForEachRow(rows, []any{&cat, &c.n, &c.placed, &c.pending, &c.handed}, func() error {
		s.ByCategory = append(s.ByCategory, report.Group{Code: cat, Name: cat, Rate: f.rate(c, year, today)})
		return nil
	})
	if err != nil {
		return err
	}

	var st report.Staffing
	if err := res.QueryRow().Scan(&st.SchoolName, &st.Staff, &st.Graduates); err != nil {
		return err
	}
	st.SchoolID, st.Year, st.Required = school, year, (st.Graduates+499)/500
	if st.Staff != nil && *st.Staff > 0 {
		per := float64(st.Graduates) / float64(*st.Staff)
		st.GraduatesPerStaff = &per
	}
	st.Meets = st.Staff != nil && *st.Staff >= st.Required
	s.Staffing = []report.Staffing{st}
	s.BySchool = []report.Group{{ID: school, Name: st.SchoolName, Rate: s.Overall}}

	if rows, err = res.Query(); err != nil {
		return err
	}
	index := map[int64]int{}
	var cp report.CounselorProcess
	_, err = pgx.ForEachRow(rows, []any{&cp.CounselorID, &cp.Name, &cp.OpenCases, &cp.ContactedRecently, &cp.OverdueFollowups}, func() error {
		cp.Timeliness = ratio(cp.ContactedRecently, cp.OpenCases)
		index[cp.CounselorID] = len(s.Counselors)
		s.Counselors = append(s.Counselors, cp)
		s.Process.OpenCases += cp.OpenCases
		s.Process.ContactedRecently += cp.ContactedRecently
		s.Process.OverdueFollowups += cp.OverdueFollowups
		return nil
	})
	if err != nil {
		return err
	}
	s.Process.Timeliness = ratio(s.Process.ContactedRecently, s.Process.OpenCases)

	if rows, err = res.Query(); err != nil {
		return err
	}
	var counselor int64
	var lvl, cnt int
	_, err = pgx.ForEachRow(rows, []any{&counselor, &lvl, &cnt}, func() error {
		if lvl >= 1 && lvl <= 3 {
			s.Process.OpenEscalations[lvl-1] += cnt
			if i, ok := index[counselor]; ok {
				s.Counselors[i].OpenEscalations[lvl-1] += cnt
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, s)
	return nil
}

// ServeFloor runs the floor on addr against the database at dbURL with at
// most maxConns connections, until ctx is done. The caller has built the
// floor's tables (BuildFloor).
func ServeFloor(ctx context.Context, addr, dbURL string, maxConns int32, log *slog.Logger) error {
	db, err := postgres.Open(ctx, dbURL, maxConns)
	if err != nil {
		return err
	}
	defer db.Close()
	f, err := NewFloor(ctx, db, bangfu.SystemClock{})
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: f.Handler(), ReadHeaderTimeout: 10 * time.Second, ErrorLog: slog.NewLogLogger(log.Handler(), slog.LevelWarn)}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	stop, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	return srv.Shutdown(stop)
}

// DefaultStallDays is the first stall threshold of the default settings,
// which the report's timeliness counts against.
const DefaultStallDays = 14
