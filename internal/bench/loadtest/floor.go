package loadtest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/bangfu/bangfu"
	"github.com/bangfu/bangfu/internal/escalation"
	"github.com/bangfu/bangfu/internal/graduate"
	"github.com/bangfu/bangfu/internal/ledger"
	"github.com/bangfu/bangfu/internal/password"
	"github.com/bangfu/bangfu/internal/postgres"
	"github.com/bangfu/bangfu/internal/report"
)

// The floor is the least any server can do for each measured endpoint: a
// bare net/http mux on a pgx pool that issues the same SQL as the real
// handler (through the same exported builders) and encodes the rows
// generically as JSON. It has no framework, no authentication, no policy,
// no audit log, no masking and no jobs; the acting user comes from query
// parameters (see actorParams). The server's throughput over the floor's
// is the share of the database's capacity the product keeps.
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

// Floor serves the floor's endpoints on db.
type Floor struct {
	DB    *postgres.DB
	Clock bangfu.Clock
	// StallDays is the first stall threshold the report counts contacts
	// within (the setting's default).
	StallDays int
}

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
	mux.HandleFunc("GET /api/v1/students", f.withActor(f.list))
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
			if errors.Is(err, pgx.ErrNoRows) {
				status = http.StatusNotFound
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

// values collects every row's values.
func values(rows pgx.Rows) ([][]any, error) {
	defer rows.Close()
	out := [][]any{}
	for rows.Next() {
		v, err := rows.Values()
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, rows.Err()
}

func (f *Floor) queryValues(ctx context.Context, sql string, args ...any) ([][]any, error) {
	rows, err := f.DB.Pool.Query(ctx, sql, args...)
	if err != nil {
		return nil, err
	}
	return values(rows)
}

// loginSQL is directory.UserByUsername's statement.
const loginSQL = `SELECT id, username, display_name, role, school_id, department_id, student_id, email, disabled,
	created_at, updated_at, version, password_hash FROM users WHERE username = lower($1)`

func (f *Floor) login(w http.ResponseWriter, r *http.Request) {
	var in struct {
		Username string `json:"username"`
		Password string `json:"password"`
	}
	if err := json.NewDecoder(r.Body).Decode(&in); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	var u struct {
		ID                                 int64
		Username, DisplayName, Role, Email string
		SchoolID, DepartmentID, StudentID  *int64
		Disabled                           bool
		CreatedAt, UpdatedAt               time.Time
		Version                            int
		Hash                               string
	}
	err := f.DB.Pool.QueryRow(r.Context(), loginSQL, in.Username).Scan(&u.ID, &u.Username, &u.DisplayName, &u.Role,
		&u.SchoolID, &u.DepartmentID, &u.StudentID, &u.Email, &u.Disabled, &u.CreatedAt, &u.UpdatedAt, &u.Version, &u.Hash)
	if err != nil && !errors.Is(err, pgx.ErrNoRows) {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	ok, err := password.Verify(in.Password, u.Hash)
	if err != nil || !ok || u.Disabled {
		http.Error(w, "bad credentials", http.StatusUnauthorized)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"id": u.ID, "username": u.Username, "role": u.Role,
		"school_id": u.SchoolID, "department_id": u.DepartmentID})
}

func (f *Floor) list(w http.ResponseWriter, r *http.Request, a bangfu.Actor) error {
	n := limit(r)
	sql, args := graduate.ListQuery(a, graduate.Filter{}, bangfu.Page{Limit: n}, bangfu.Today(f.Clock))
	rows, err := f.queryValues(r.Context(), sql, args...)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, page(rows, n))
	return nil
}

func limit(r *http.Request) int {
	if n, err := strconv.Atoi(r.URL.Query().Get("limit")); err == nil && n > 0 && n <= bangfu.MaxPageLimit {
		return n
	}
	return bangfu.DefaultPageLimit
}

// page is a list response: the builders read limit+1 rows to know whether
// more follow.
func page(rows [][]any, limit int) map[string]any {
	return map[string]any{"items": rows[:min(len(rows), limit)], "more": len(rows) > limit}
}

func pathID(r *http.Request) (int64, error) {
	return strconv.ParseInt(r.PathValue("id"), 10, 64)
}

func (f *Floor) file(w http.ResponseWriter, r *http.Request, _ bangfu.Actor) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	file, err := f.queryValues(r.Context(), graduate.FileSQL, bangfu.Today(f.Clock).Time(), id)
	if err != nil {
		return err
	}
	if len(file) == 0 {
		return pgx.ErrNoRows
	}
	hardships, err := f.queryValues(r.Context(), graduate.HardshipsSQL, id)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"file": file[0], "hardships": hardships})
	return nil
}

func (f *Floor) ledger(w http.ResponseWriter, r *http.Request, _ bangfu.Actor) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	n := limit(r)
	rows, err := f.queryValues(r.Context(), ledger.ListSQL, id, 0, false, n+1)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, page(rows, n))
	return nil
}

// append is ledger.Service.append without its audit entry and its hook
// (follow-up scheduling, escalation resolution): lock the graduate, read
// the head, chain the entry, insert it and advance the head.
func (f *Floor) append(w http.ResponseWriter, r *http.Request, a bangfu.Actor) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	var in ledger.Input
	if err := json.NewDecoder(r.Body).Decode(&in); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return nil
	}
	var p bangfu.Problems
	e := ledger.Entry{Kind: in.Kind, Channel: in.Channel, OccurredAt: in.OccurredAt.Truncate(time.Microsecond),
		Summary: in.Summary, NextStep: in.NextStep, Visibility: in.Visibility,
		NextFollowupOn: bangfu.ParseDate(&p, "next_followup_on", in.NextFollowupOn)}
	if err := p.Err(); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return nil
	}
	err = f.DB.InTx(r.Context(), func(tx pgx.Tx) error {
		var h graduate.Header
		if err := tx.QueryRow(r.Context(), graduate.AccessSQL+" FOR UPDATE", id).Scan(&h.StudentID, &h.SchoolID,
			&h.DepartmentID, &h.CounselorID, &h.Status, &h.GraduationYear, &h.LedgerSeq, &h.LedgerHead, &h.FollowupJobID); err != nil {
			return err
		}
		prev := h.LedgerHead
		e.StudentID, e.Seq, e.AuthorID, e.RecordedAt = id, h.LedgerSeq+1, a.UserID, f.Clock.Now().Truncate(time.Microsecond)
		hash := ledger.ComputeHash(&e, prev)
		e.PrevHash, e.Hash = fmt.Sprintf("%x", prev), fmt.Sprintf("%x", hash)
		contact := e.Kind == "contact"
		b := &pgx.Batch{}
		b.Queue(ledger.InsertSQL,
			e.StudentID, e.Seq, e.Kind, e.Channel, e.OccurredAt, e.Summary, e.NextStep, e.NextFollowupOn.TimePtr(), e.Visibility,
			nil, e.CorrectsSeq, e.CorrectionReason, e.GroupID, e.AuthorID, e.RecordedAt, prev, hash, h.SchoolID, h.DepartmentID)
		b.Queue(graduate.AdvanceSQL, id, e.Seq, hash, b2i(contact), b2i(e.Kind == "referral"), contact, e.OccurredAt)
		return tx.SendBatch(r.Context(), b).Close()
	})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, e)
	return nil
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

func (f *Floor) review(w http.ResponseWriter, r *http.Request, a bangfu.Actor) error {
	q := r.URL.Query()
	filter := ledger.ReviewFilter{Kind: q.Get("kind")}
	if v := q.Get("since"); v != "" {
		t, err := time.Parse(time.RFC3339, v)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return nil
		}
		filter.Since = &t
	}
	n := limit(r)
	sql, args := ledger.ReviewQuery(a, filter, nil, n, bangfu.Today(f.Clock))
	rows, err := f.queryValues(r.Context(), sql, args...)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, page(rows, n))
	return nil
}

func (f *Floor) escalations(w http.ResponseWriter, r *http.Request, a bangfu.Actor) error {
	n := limit(r)
	sql, args := escalation.ListQuery(a, escalation.Filter{Status: r.URL.Query().Get("status")}, bangfu.Page{Limit: n})
	rows, err := f.queryValues(r.Context(), sql, args...)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, page(rows, n))
	return nil
}

func (f *Floor) report(w http.ResponseWriter, r *http.Request, a bangfu.Actor) error {
	today := bangfu.Today(f.Clock)
	out := map[string]any{}
	for _, q := range report.Queries(a, report.Filter{GraduationYear: today.Time().Year()}, today, f.StallDays) {
		rows, err := f.queryValues(r.Context(), q.SQL, q.Args...)
		if err != nil {
			return fmt.Errorf("%s: %w", q.Name, err)
		}
		out[q.Name] = rows
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

// ServeFloor runs the floor on addr against the database at dbURL with at
// most maxConns connections, until ctx is done.
func ServeFloor(ctx context.Context, addr, dbURL string, maxConns int32, log *slog.Logger) error {
	db, err := postgres.Open(ctx, dbURL, maxConns)
	if err != nil {
		return err
	}
	defer db.Close()
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	f := &Floor{DB: db, Clock: bangfu.SystemClock{}, StallDays: DefaultStallDays}
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
