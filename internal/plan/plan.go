// Package plan keeps each graduate's individual plan (一人一策): goals,
// measures with owner, due date and status, and a follow-up cadence. Every
// change is a new revision; old revisions stay readable; the graduate
// acknowledges the current one.
package plan

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/jackc/pgx/v5"

	"github.com/bangfu/bangfu"
	"github.com/bangfu/bangfu/internal/audit"
	"github.com/bangfu/bangfu/internal/graduate"
	"github.com/bangfu/bangfu/internal/mask"
	"github.com/bangfu/bangfu/internal/policy"
	"github.com/bangfu/bangfu/internal/postgres"
)

// MeasureKinds are the kinds of help a plan may hold (docs/domain.md).
var MeasureKinds = []string{
	"career_guidance",       // 就业指导
	"job_referral",          // 岗位推荐
	"skills_training",       // 技能培训
	"hongzhi_training",      // 宏志助航
	"psychological_support", // 心理疏导
	"job_seeking_subsidy",   // 求职创业补贴
	"internship",            // 见习
	"grassroots_project",    // 基层项目 (三支一扶, 西部计划, 山区计划)
	"enlistment",            // 参军
	"further_study",         // 升学
}

// MeasureStatuses are the states of a measure.
var MeasureStatuses = []string{"planned", "in_progress", "done", "dropped"}

// Measure is one thing the plan will do.
type Measure struct {
	Kind        string       `json:"kind"`
	Description string       `json:"description"`
	Owner       string       `json:"owner"`
	DueOn       *bangfu.Date `json:"due_on"`
	Status      string       `json:"status"`
}

// Revision is one version of a plan.
type Revision struct {
	StudentID      int64      `json:"student_id"`
	Revision       int        `json:"revision"`
	Goals          []string   `json:"goals"`
	Measures       []Measure  `json:"measures"`
	CadenceDays    int        `json:"cadence_days"`
	Note           string     `json:"note"`
	AuthorID       int64      `json:"author_id"`
	CreatedAt      time.Time  `json:"created_at"`
	AcknowledgedAt *time.Time `json:"acknowledged_at"`
}

// Summary names an earlier revision.
type Summary struct {
	Revision       int        `json:"revision"`
	AuthorID       int64      `json:"author_id"`
	CreatedAt      time.Time  `json:"created_at"`
	AcknowledgedAt *time.Time `json:"acknowledged_at"`
}

// Plan is the current revision and the list of all revisions, newest first.
type Plan struct {
	Current   Revision  `json:"current"`
	Revisions []Summary `json:"revisions"`
}

// Service keeps plans.
type Service struct {
	DB    *postgres.DB
	Clock bangfu.Clock
	// Reads records the audit entries of reads.
	Reads *audit.Reads
	// AfterRevise runs in the transaction of a new revision; the follow-up
	// scheduler uses it to apply the cadence.
	AfterRevise func(ctx context.Context, tx pgx.Tx, a bangfu.Actor, r Revision) error
}

// MeasureInput is a measure as submitted.
type MeasureInput struct {
	Kind        string `json:"kind"`
	Description string `json:"description"`
	Owner       string `json:"owner"`
	DueOn       string `json:"due_on"`
	Status      string `json:"status"`
}

// Input is a new revision.
type Input struct {
	Goals       []string       `json:"goals"`
	Measures    []MeasureInput `json:"measures"`
	CadenceDays int            `json:"cadence_days"`
	Note        string         `json:"note"`
}

func (in Input) check() (Revision, error) {
	var p bangfu.Problems
	r := Revision{CadenceDays: in.CadenceDays, Note: strings.TrimSpace(in.Note), Goals: []string{}, Measures: []Measure{}}
	for i, g := range in.Goals {
		g = strings.TrimSpace(g)
		field := fmt.Sprintf("goals.%d", i)
		switch {
		case g == "":
			p.Add(field, "is empty")
		case utf8.RuneCountInString(g) > 500:
			p.Add(field, "must be at most 500 characters")
		}
		r.Goals = append(r.Goals, g)
	}
	switch {
	case len(r.Goals) == 0:
		p.Add("goals", "needs at least one goal")
	case len(r.Goals) > 20:
		p.Add("goals", "may hold at most 20 goals")
	}
	if len(in.Measures) > 50 {
		p.Add("measures", "may hold at most 50 measures")
	}
	for i, m := range in.Measures {
		f := func(name string) string { return fmt.Sprintf("measures.%d.%s", i, name) }
		mm := Measure{Kind: m.Kind, Description: strings.TrimSpace(m.Description), Owner: strings.TrimSpace(m.Owner), Status: m.Status}
		if mm.Status == "" {
			mm.Status = "planned"
		}
		if !slices.Contains(MeasureKinds, mm.Kind) {
			p.Add(f("kind"), "must be one of "+strings.Join(MeasureKinds, ", "))
		}
		p.Text(f("description"), mm.Description, 1000, true)
		if mm.Owner == "" {
			p.Add(f("owner"), "is required: who carries this measure out")
		}
		p.Text(f("owner"), mm.Owner, 100, false)
		if !slices.Contains(MeasureStatuses, mm.Status) {
			p.Add(f("status"), "must be one of "+strings.Join(MeasureStatuses, ", "))
		}
		mm.DueOn = bangfu.ParseDate(&p, f("due_on"), m.DueOn)
		r.Measures = append(r.Measures, mm)
	}
	if in.CadenceDays < 1 || in.CadenceDays > 90 {
		p.Add("cadence_days", "must be a number of days from 1 to 90")
	}
	p.Text("note", r.Note, 2000, false)
	return r, p.Err()
}

// Get returns a graduate's current plan and the list of its revisions.
func (s *Service) Get(ctx context.Context, a bangfu.Actor, studentID int64) (Plan, error) {
	h, err := graduate.Access(ctx, s.DB.Pool, a, studentID, false)
	if err != nil {
		return Plan{}, err
	}
	var pl Plan
	rows, err := s.DB.Pool.Query(ctx, `SELECT revision, author_id, created_at, acknowledged_at FROM plan_revisions
		WHERE student_id = $1 ORDER BY revision DESC`, studentID)
	if err != nil {
		return Plan{}, err
	}
	if pl.Revisions, err = pgx.CollectRows(rows, pgx.RowToStructByPos[Summary]); err != nil {
		return Plan{}, err
	}
	if len(pl.Revisions) == 0 {
		return Plan{}, bangfu.NotFound("plan")
	}
	if pl.Current, err = s.revision(ctx, s.DB.Pool, studentID, pl.Revisions[0].Revision); err != nil {
		return Plan{}, err
	}
	pl.Current.maskFor(a)
	return pl, s.recordRead(ctx, a, h)
}

// maskFor leaves province staff (policy.Masked) a revision's metadata —
// measure kinds, due dates, statuses, the cadence — and hides its free text
// (goals, descriptions, owners, the note), which may hold names.
func (r *Revision) maskFor(a bangfu.Actor) {
	if !policy.Masked(a) {
		return
	}
	for i := range r.Goals {
		r.Goals[i] = mask.Text(r.Goals[i])
	}
	for i := range r.Measures {
		r.Measures[i].Description, r.Measures[i].Owner = mask.Text(r.Measures[i].Description), mask.Text(r.Measures[i].Owner)
	}
	r.Note = mask.Text(r.Note)
}

// Revision returns revision n of a graduate's plan.
func (s *Service) Revision(ctx context.Context, a bangfu.Actor, studentID int64, n int) (Revision, error) {
	h, err := graduate.Access(ctx, s.DB.Pool, a, studentID, false)
	if err != nil {
		return Revision{}, err
	}
	r, err := s.revision(ctx, s.DB.Pool, studentID, n)
	if err != nil {
		return Revision{}, err
	}
	r.maskFor(a)
	return r, s.recordRead(ctx, a, h)
}

func (s *Service) recordRead(ctx context.Context, a bangfu.Actor, h graduate.Header) error {
	if a.Role == bangfu.RoleStudent {
		return nil
	}
	return s.Reads.Record(ctx, a, s.Clock.Now(), audit.Event{Action: audit.PlanRead, StudentID: h.StudentID, SchoolID: h.SchoolID})
}

func (s *Service) revision(ctx context.Context, q postgres.Querier, studentID int64, n int) (Revision, error) {
	r := Revision{StudentID: studentID, Revision: n}
	err := q.QueryRow(ctx, `SELECT goals, cadence_days, note, author_id, created_at, acknowledged_at
		FROM plan_revisions WHERE student_id = $1 AND revision = $2`, studentID, n).
		Scan(&r.Goals, &r.CadenceDays, &r.Note, &r.AuthorID, &r.CreatedAt, &r.AcknowledgedAt)
	if err != nil {
		return Revision{}, postgres.FormatError(err, "plan revision")
	}
	rows, err := q.Query(ctx, `SELECT kind, description, owner, due_on, status FROM plan_measures
		WHERE student_id = $1 AND revision = $2 ORDER BY position`, studentID, n)
	if err != nil {
		return Revision{}, err
	}
	r.Measures, err = pgx.CollectRows(rows, func(row pgx.CollectableRow) (Measure, error) {
		var m Measure
		var due *time.Time
		err := row.Scan(&m.Kind, &m.Description, &m.Owner, &due, &m.Status)
		m.DueOn = bangfu.DatePtr(due)
		return m, err
	})
	return r, err
}

// Put makes a new revision. base is the revision the caller edited (from
// If-Match); it may be nil only when the graduate has no plan yet. A stale
// base is precondition_failed.
func (s *Service) Put(ctx context.Context, a bangfu.Actor, studentID int64, base *int, in Input) (Revision, error) {
	r, verr := in.check()
	err := s.DB.InTx(ctx, func(tx pgx.Tx) error {
		h, err := graduate.Access(ctx, tx, a, studentID, true)
		if err != nil {
			return err
		}
		var current int
		if err := tx.QueryRow(ctx, `SELECT plan_revision FROM students WHERE id = $1`, studentID).Scan(&current); err != nil {
			return err
		}
		switch {
		case base == nil && current > 0:
			return bangfu.Errorf(bangfu.EPRECONDITIONREQ, "This graduate has a plan (revision %d): send If-Match with the revision you edited.", current)
		case base != nil && *base != current:
			return bangfu.Errorf(bangfu.EPRECONDITIONFAILED, "The plan was revised since revision %d (it is now at revision %d); reload it and apply your change again.", *base, current)
		}
		if verr != nil {
			return verr
		}
		return s.write(ctx, tx, a, h, current+1, &r)
	})
	if err != nil {
		return Revision{}, err
	}
	return r, nil
}

// write stores r as revision n of h's plan, on tx (which holds the
// graduate's row lock), makes it current, audits it and runs AfterRevise.
// It is the one path by which revisions are written.
func (s *Service) write(ctx context.Context, tx pgx.Tx, a bangfu.Actor, h graduate.Header, n int, r *Revision) error {
	now := s.Clock.Now()
	studentID := h.StudentID
	r.StudentID, r.Revision, r.AuthorID, r.CreatedAt, r.AcknowledgedAt = studentID, n, a.UserID, now, nil
	if _, err := tx.Exec(ctx, `INSERT INTO plan_revisions (student_id, revision, goals, cadence_days, note, author_id, created_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7)`, studentID, r.Revision, r.Goals, r.CadenceDays, r.Note, a.UserID, now); err != nil {
		return err
	}
	_, err := tx.CopyFrom(ctx, pgx.Identifier{"plan_measures"},
		[]string{"student_id", "revision", "position", "kind", "description", "owner", "due_on", "status"},
		pgx.CopyFromSlice(len(r.Measures), func(i int) ([]any, error) {
			m := r.Measures[i]
			return []any{studentID, r.Revision, i, m.Kind, m.Description, m.Owner, m.DueOn.TimePtr(), m.Status}, nil
		}))
	if err != nil {
		return err
	}
	if err := graduate.SetPlanRevision(ctx, tx, studentID, r.Revision, now); err != nil {
		return err
	}
	if err := audit.Record(ctx, tx, a, now, audit.Event{Action: audit.PlanRevise, StudentID: studentID, SchoolID: h.SchoolID,
		Detail: map[string]any{"revision": r.Revision}}); err != nil {
		return err
	}
	if s.AfterRevise != nil {
		return s.AfterRevise(ctx, tx, a, *r)
	}
	return nil
}

// Acknowledge records that the graduate read their current plan. A student
// may acknowledge only their own plan, and only its current revision.
func (s *Service) Acknowledge(ctx context.Context, a bangfu.Actor, studentID int64, revision int) (Revision, error) {
	if a.Role != bangfu.RoleStudent || a.StudentID == nil || *a.StudentID != studentID {
		return Revision{}, bangfu.NotFound("plan")
	}
	if revision < 1 {
		return Revision{}, (bangfu.Problems{"revision": "is required: the revision you read"}).Err()
	}
	var r Revision
	err := s.DB.InTx(ctx, func(tx pgx.Tx) error {
		h, err := graduate.Access(ctx, tx, a, studentID, true)
		if err != nil {
			return err
		}
		var current int
		if err := tx.QueryRow(ctx, `SELECT plan_revision FROM students WHERE id = $1`, studentID).Scan(&current); err != nil {
			return err
		}
		if current == 0 {
			return bangfu.NotFound("plan")
		}
		if revision != current {
			return bangfu.Errorf(bangfu.ECONFLICT, "Revision %d is not your current plan (revision %d is); read the current plan first.", revision, current)
		}
		now := s.Clock.Now()
		if _, err := tx.Exec(ctx, `UPDATE plan_revisions SET acknowledged_at = coalesce(acknowledged_at, $3), acknowledged_by = coalesce(acknowledged_by, $4)
			WHERE student_id = $1 AND revision = $2`, studentID, current, now, a.UserID); err != nil {
			return err
		}
		if err := audit.Record(ctx, tx, a, now, audit.Event{Action: audit.PlanAcknowledge, StudentID: studentID, SchoolID: h.SchoolID,
			Detail: map[string]any{"revision": current}}); err != nil {
			return err
		}
		r, err = s.revision(ctx, tx, studentID, current)
		return err
	})
	return r, err
}
