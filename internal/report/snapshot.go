package report

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/riverqueue/river"

	"github.com/bangfu/bangfu"
	"github.com/bangfu/bangfu/internal/audit"
	"github.com/bangfu/bangfu/internal/postgres"
)

// Periods of snapshots: 周报 (a week from Monday to Sunday) and 月报 (a
// calendar month), in Asia/Shanghai.
const (
	Weekly  = "weekly"
	Monthly = "monthly"
)

// Catch-up bounds: after downtime, at most this many missed periods of
// each kind are taken (a year); a fresh install takes only the last.
const (
	maxWeeklyCatchUp  = 53
	maxMonthlyCatchUp = 13
)

// LateAfter is how long after its period a snapshot may be taken and
// still record the process measures (contact timeliness, overdue
// follow-ups, open escalations), which exist only as they are now. A
// snapshot taken later, catching up after downtime, leaves them out.
const LateAfter = 24 * time.Hour

// PeriodBounds returns the first and last day of the period of kind that
// starts on start, or invalid when start does not begin one (a weekly
// period starts on a Monday, a monthly one on the 1st).
func PeriodBounds(kind string, start bangfu.Date) (bangfu.Date, bangfu.Date, error) {
	t := start.Time()
	switch kind {
	case Weekly:
		if t.Weekday() != time.Monday {
			return start, start, (bangfu.Problems{"period_start": "a week starts on a Monday"}).Err()
		}
		return start, start.AddDays(6), nil
	case Monthly:
		if t.Day() != 1 {
			return start, start, (bangfu.Problems{"period_start": "a month starts on its 1st"}).Err()
		}
		return start, bangfu.DateFromDB(t.AddDate(0, 1, -1)), nil
	}
	return start, start, (bangfu.Problems{"period": "must be weekly or monthly"}).Err()
}

// LastEnded returns the start of the last period of kind that had ended
// by now: at Monday 00:00 the week before, on the 1st the month before.
func LastEnded(kind string, now time.Time) bangfu.Date {
	today := bangfu.DateOf(now)
	if kind == Monthly {
		y, m, _ := today.Time().Date()
		return bangfu.DateFromDB(time.Date(y, m-1, 1, 0, 0, 0, 0, time.UTC))
	}
	monday := today.AddDays(-((int(today.Time().Weekday()) + 6) % 7))
	return monday.AddDays(-7)
}

// next returns the start of the period after the one starting on start.
func next(kind string, start bangfu.Date) bangfu.Date {
	if kind == Monthly {
		return bangfu.DateFromDB(start.Time().AddDate(0, 1, 0))
	}
	return start.AddDays(7)
}

// SnapshotFigures are the figures a snapshot keeps: Figures, and the
// process measures when it was taken on time (nil when it caught up
// later: they cannot be counted for a past day).
type SnapshotFigures struct {
	Figures
	Process *Process `json:"process"`
}

// SnapshotHead is what a list of snapshots shows of each.
type SnapshotHead struct {
	ID          int64       `json:"id"`
	Period      string      `json:"period"`
	PeriodStart bangfu.Date `json:"period_start"`
	PeriodEnd   bangfu.Date `json:"period_end"`
	// SchoolID is nil for the province's snapshot.
	SchoolID       *int64    `json:"school_id"`
	SchoolName     string    `json:"school_name"`
	GraduationYear int       `json:"graduation_year"`
	RuleVersion    int       `json:"rule_version"`
	TakenAt        time.Time `json:"taken_at"`
	// Late is true for a snapshot taken more than LateAfter after its
	// period (catching up after downtime): its figures come from the
	// history, its process measures are missing.
	Late          bool          `json:"late"`
	Overall       Rate          `json:"overall"`
	Targets       Targets       `json:"targets"`
	StaffingCheck StaffingCheck `json:"staffing_check"`
}

// Snapshot is a stored 周报 or 月报 of one school or the province: the
// figures as they stood at the end of its period, as they were counted
// when it was taken, never changed since.
type Snapshot struct {
	SnapshotHead
	Figures SnapshotFigures `json:"figures"`
}

// SnapshotArgs takes the snapshots of one period: every school's and the
// province's.
type SnapshotArgs struct {
	Period string `json:"period"`
	Start  string `json:"start"` // 2006-01-02
}

// Kind is the job's name in River.
func (SnapshotArgs) Kind() string { return "report_snapshot" }

// InsertOpts make the job unique per period: however many times the
// period is enqueued (a rerun, a second process catching up), River keeps
// one job (and the table one row per school and period besides).
func (SnapshotArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{MaxAttempts: 10, UniqueOpts: river.UniqueOpts{ByArgs: true}}
}

// SnapshotWorker works SnapshotArgs.
type SnapshotWorker struct {
	river.WorkerDefaults[SnapshotArgs]
	Reports *Service
}

// Timeout bounds the snapshots of one period: the province's history is
// read a few times over.
func (w *SnapshotWorker) Timeout(*river.Job[SnapshotArgs]) time.Duration { return 10 * time.Minute }

// Work takes the period's snapshots (nothing when they exist).
func (w *SnapshotWorker) Work(ctx context.Context, job *river.Job[SnapshotArgs]) error {
	start, err := time.Parse(time.DateOnly, job.Args.Start)
	if err != nil {
		return river.JobCancel(fmt.Errorf("report_snapshot: start %q: %w", job.Args.Start, err))
	}
	_, err = w.Reports.Take(ctx, job.Args.Period, bangfu.DateFromDB(start))
	return err
}

// SnapshotsDueArgs enqueues the snapshots due: the periods that ended
// since the last one taken (at most a year of them).
type SnapshotsDueArgs struct{}

// Kind is the job's name in River.
func (SnapshotsDueArgs) Kind() string { return "report_snapshots_due" }

// SnapshotsDueWorker works SnapshotsDueArgs.
type SnapshotsDueWorker struct {
	river.WorkerDefaults[SnapshotsDueArgs]
	Reports *Service
}

// Work enqueues a report_snapshot job for each period due, in one
// transaction.
func (w *SnapshotsDueWorker) Work(ctx context.Context, _ *river.Job[SnapshotsDueArgs]) error {
	client, err := river.ClientFromContextSafely[pgx.Tx](ctx)
	if err != nil {
		return err
	}
	return w.Reports.DB.InTx(ctx, func(tx pgx.Tx) error {
		due, err := w.Reports.Due(ctx, tx)
		if err != nil || len(due) == 0 {
			return err
		}
		params := make([]river.InsertManyParams, len(due))
		for i, d := range due {
			params[i] = river.InsertManyParams{Args: d}
		}
		_, err = client.InsertManyTx(ctx, tx, params)
		return err
	})
}

// SnapshotSchedule fires at Monday 00:00 and on the 1st at 00:00
// (Asia/Shanghai): when a week or a month has ended.
type SnapshotSchedule struct{}

// Next returns the first Monday or 1st at midnight after current.
func (SnapshotSchedule) Next(current time.Time) time.Time {
	day := bangfu.DateOf(current).AddDays(1)
	for {
		if t := day.Time(); t.Weekday() == time.Monday || t.Day() == 1 {
			return day.At(0, 0)
		}
		day = day.AddDays(1)
	}
}

// Due returns the periods whose snapshots are missing: for each kind,
// those after the last one stored, up to the last period that has ended
// (at most a year of them); with none stored yet, only the last ended.
func (s *Service) Due(ctx context.Context, q postgres.Querier) ([]SnapshotArgs, error) {
	now := s.Clock.Now()
	var out []SnapshotArgs
	for _, kind := range []string{Weekly, Monthly} {
		last := LastEnded(kind, now)
		var latest *time.Time
		if err := q.QueryRow(ctx, `SELECT max(period_start) FROM report_snapshots WHERE school_id IS NULL AND period = $1`, kind).
			Scan(&latest); err != nil {
			return nil, err
		}
		var starts []bangfu.Date
		if latest == nil {
			starts = []bangfu.Date{last}
		} else {
			for d := next(kind, bangfu.DateFromDB(*latest)); !d.After(last); d = next(kind, d) {
				starts = append(starts, d)
			}
		}
		limit := maxWeeklyCatchUp
		if kind == Monthly {
			limit = maxMonthlyCatchUp
		}
		if len(starts) > limit {
			starts = starts[len(starts)-limit:]
		}
		for _, d := range starts {
			out = append(out, SnapshotArgs{Period: kind, Start: d.String()})
		}
	}
	return out, nil
}

// Take stores the snapshots of the period of kind starting on start: one
// per school and one for the province, counted as
// of the end of the period from the history, in one transaction. It
// returns how many it stored: none when they exist already. Takers of the
// same period take turns (an advisory lock), and the table keeps one row
// per school and period whatever happens.
func (s *Service) Take(ctx context.Context, kind string, start bangfu.Date) (int, error) {
	start, end, err := PeriodBounds(kind, start)
	if err != nil {
		return 0, err
	}
	at := EndOf(end)
	now := s.Clock.Now()
	if now.Before(at) {
		return 0, fmt.Errorf("report: the %s period from %s has not ended", kind, start)
	}
	stored := 0
	err = s.DB.InTx(ctx, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock(hashtext('report_snapshot'), hashtext($1))`, kind+start.String()); err != nil {
			return err
		}
		var exists bool
		if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM report_snapshots WHERE school_id IS NULL AND period = $1 AND period_start = $2)`,
			kind, start.Time()).Scan(&exists); err != nil || exists {
			return err
		}
		rows, err := s.count(ctx, tx, end, now.Sub(at) <= LateAfter)
		if err != nil {
			return err
		}
		b := &pgx.Batch{}
		for _, r := range rows {
			data, err := json.Marshal(r.figures)
			if err != nil {
				return err
			}
			b.Queue(`INSERT INTO report_snapshots (period, period_start, period_end, school_id, graduation_year, rule_version, taken_at, figures)
				VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT DO NOTHING`,
				kind, start.Time(), end.Time(), r.school, r.figures.GraduationYear, RuleVersion, now, data).
				Exec(func(ct pgconn.CommandTag) error {
					stored += int(ct.RowsAffected())
					return nil
				})
		}
		return tx.SendBatch(ctx, b).Close()
	})
	return stored, err
}

type snapshotRow struct {
	school  *int64
	figures SnapshotFigures
}

// count counts the figures of every school and of the province as of the
// end of day, for the graduation year of day; with process, the process
// measures now.
func (s *Service) count(ctx context.Context, tx pgx.Tx, day bangfu.Date, process bool) ([]snapshotRow, error) {
	cfg, err := s.Settings.Get(ctx, tx)
	if err != nil {
		return nil, err
	}
	year := day.Time().Year()
	c := counting{At: EndOf(day), Day: day}
	t := newTally(cfg.Settings, day)
	rows, err := tx.Query(ctx, c.ratesSQL("s.graduation_year = $2"), c.At, year)
	if err == nil {
		err = t.scanRates(rows)
	}
	if err != nil {
		return nil, fmt.Errorf("snapshot rates: %w", err)
	}
	rows, err = tx.Query(ctx, c.categorySQL("true", true), c.At, year, day.Time())
	if err == nil {
		err = t.scanCategories(rows)
	}
	if err != nil {
		return nil, fmt.Errorf("snapshot categories: %w", err)
	}
	rows, err = tx.Query(ctx, c.staffingSQL("true"), year, c.At)
	var staffing []Staffing
	if err == nil {
		staffing, err = scanStaffing(rows, year)
	}
	if err != nil {
		return nil, fmt.Errorf("snapshot staffing: %w", err)
	}
	var procs map[int64]*Process
	if process {
		if procs, err = processBySchool(ctx, tx, bangfu.Today(s.Clock).AddDays(-cfg.StallDays[0])); err != nil {
			return nil, err
		}
	}
	var out []snapshotRow
	province := SnapshotFigures{Figures: newFigures(cfg.Settings, year, day)}
	t.fill(&province.Figures, 0)
	province.ByDepartment = []Group{}
	province.Staffing = staffing
	province.StaffingCheck = checkStaffing(staffing)
	if process {
		province.Process = &Process{}
		for _, p := range procs {
			province.Process.OpenCases += p.OpenCases
			province.Process.ContactedRecently += p.ContactedRecently
			province.Process.OverdueFollowups += p.OverdueFollowups
			for i := range p.OpenEscalations {
				province.Process.OpenEscalations[i] += p.OpenEscalations[i]
			}
		}
		province.Process.Timeliness = ratio(province.Process.ContactedRecently, province.Process.OpenCases)
	}
	out = append(out, snapshotRow{figures: province})
	for _, st := range staffing {
		f := SnapshotFigures{Figures: newFigures(cfg.Settings, year, day)}
		t.fill(&f.Figures, st.SchoolID)
		f.BySchool = []Group{{ID: st.SchoolID, Name: st.SchoolName, Rate: f.Overall}}
		f.Staffing = []Staffing{st}
		f.StaffingCheck = checkStaffing(f.Staffing)
		if process {
			f.Process = &Process{}
			if p := procs[st.SchoolID]; p != nil {
				f.Process = p
			}
		}
		id := st.SchoolID
		out = append(out, snapshotRow{school: &id, figures: f})
	}
	return out, nil
}

// processBySchool counts each school's process measures now; a contact
// since since is timely.
func processBySchool(ctx context.Context, tx pgx.Tx, since bangfu.Date) (map[int64]*Process, error) {
	out := map[int64]*Process{}
	get := func(id int64) *Process {
		if out[id] == nil {
			out[id] = &Process{}
		}
		return out[id]
	}
	rows, err := tx.Query(ctx, `SELECT s.school_id, count(*), count(*) FILTER (WHERE ca.last_contact_at >= $1), count(*) FILTER (WHERE ca.overdue)
		FROM students s JOIN case_activity ca ON ca.student_id = s.id WHERE s.status IN ('open', 'active') GROUP BY 1`, since.Time())
	if err != nil {
		return nil, err
	}
	var id int64
	var n1, n2, n3 int
	if _, err := pgx.ForEachRow(rows, []any{&id, &n1, &n2, &n3}, func() error {
		p := get(id)
		p.OpenCases, p.ContactedRecently, p.OverdueFollowups, p.Timeliness = n1, n2, n3, ratio(n2, n1)
		return nil
	}); err != nil {
		return nil, err
	}
	rows, err = tx.Query(ctx, `SELECT e.school_id, e.level, count(*) FROM escalations e WHERE e.status <> 'resolved' GROUP BY 1, 2`)
	if err != nil {
		return nil, err
	}
	_, err = pgx.ForEachRow(rows, []any{&id, &n1, &n2}, func() error {
		get(id).OpenEscalations[n1-1] += n2
		return nil
	})
	return out, err
}

// SnapshotFilter chooses snapshots: of one kind, of one school (nil: the
// province's for province staff, their own school's for a supervisor),
// whose periods start from From to To.
type SnapshotFilter struct {
	Period   string
	SchoolID *int64
	From, To *bangfu.Date
}

// snapshotSchool is the school whose snapshots a reads under f: nil for
// the province's (province staff only).
func snapshotSchool(a bangfu.Actor, school *int64) (*int64, error) {
	switch a.Role {
	case bangfu.RoleProvince:
		return school, nil
	case bangfu.RoleSupervisor:
		if a.SchoolID == nil || (school != nil && *school != *a.SchoolID) {
			return nil, bangfu.NotFound("school")
		}
		return a.SchoolID, nil
	}
	return nil, bangfu.Errorf(bangfu.EFORBIDDEN, "Snapshots are read by supervisors and province staff.")
}

const snapshotHead = `r.id, r.period, r.period_start, r.period_end, r.school_id, coalesce(sc.name, ''), r.graduation_year, r.rule_version,
	r.taken_at, r.figures->'overall', r.figures->'targets', r.figures->'staffing_check'`

func scanHead(row pgx.CollectableRow, extra ...any) (SnapshotHead, error) {
	var h SnapshotHead
	var start, end time.Time
	var overall, targets, check []byte
	err := row.Scan(append([]any{&h.ID, &h.Period, &start, &end, &h.SchoolID, &h.SchoolName, &h.GraduationYear, &h.RuleVersion,
		&h.TakenAt, &overall, &targets, &check}, extra...)...)
	if err != nil {
		return h, err
	}
	h.PeriodStart, h.PeriodEnd = bangfu.DateFromDB(start), bangfu.DateFromDB(end)
	h.Late = h.TakenAt.Sub(EndOf(h.PeriodEnd)) > LateAfter
	if err := json.Unmarshal(overall, &h.Overall); err != nil {
		return h, err
	}
	if err := json.Unmarshal(targets, &h.Targets); err != nil {
		return h, err
	}
	if check != nil {
		err = json.Unmarshal(check, &h.StaffingCheck)
	}
	return h, err
}

// Snapshots lists the snapshots f chooses, oldest period first, a page at
// a time: province staff any school's or (no school) the province's, a
// supervisor their own school's (another school is not_found). Each first
// page is audited as a read of reports.
func (s *Service) Snapshots(ctx context.Context, a bangfu.Actor, f SnapshotFilter, pg bangfu.Page) (bangfu.List[SnapshotHead], error) {
	var p bangfu.Problems
	if f.Period == "" {
		f.Period = Weekly
	}
	if f.Period != Weekly && f.Period != Monthly {
		p.Add("period", "must be weekly or monthly")
	}
	if f.From != nil && f.To != nil && f.To.Before(*f.From) {
		p.Add("to", "must not be before from")
	}
	if err := p.Err(); err != nil {
		return bangfu.List[SnapshotHead]{}, err
	}
	school, err := snapshotSchool(a, f.SchoolID)
	if err != nil {
		return bangfu.List[SnapshotHead]{}, err
	}
	w := &postgres.Where{}
	w.Add("r.period = ?", f.Period)
	if school == nil {
		w.Add("r.school_id IS NULL")
	} else {
		w.Add("r.school_id = ?", *school)
	}
	if f.From != nil {
		w.Add("r.period_start >= ?", f.From.Time())
	}
	if f.To != nil {
		w.Add("r.period_start <= ?", f.To.Time())
	}
	if pg.After > 0 {
		after, ok := cursorDate(pg.After)
		if !ok {
			return bangfu.List[SnapshotHead]{}, (bangfu.Problems{"cursor": "is not a cursor returned by this list"}).Err()
		}
		w.Add("r.period_start > ?", after.Time())
	}
	w.Args = append(w.Args, pg.Limit+1)
	rows, err := s.DB.Read(ctx).Query(ctx, `SELECT `+snapshotHead+` FROM report_snapshots r LEFT JOIN schools sc ON sc.id = r.school_id
		WHERE `+w.String()+fmt.Sprintf(` ORDER BY r.period_start LIMIT $%d`, len(w.Args)), w.Args...)
	if err != nil {
		return bangfu.List[SnapshotHead]{}, err
	}
	items, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (SnapshotHead, error) { return scanHead(row) })
	if err != nil {
		return bangfu.List[SnapshotHead]{}, err
	}
	if pg.After == 0 {
		if err := s.auditSnapshots(ctx, a, school, map[string]any{"period": f.Period, "from": f.From, "to": f.To}); err != nil {
			return bangfu.List[SnapshotHead]{}, err
		}
	}
	return bangfu.NewList(items, pg.Limit, func(h SnapshotHead) int64 { return dateCursor(h.PeriodStart) }), nil
}

// Snapshot returns one snapshot with its figures, to those who may read
// it (see Snapshots); others find none. The read is audited.
func (s *Service) Snapshot(ctx context.Context, a bangfu.Actor, id int64) (Snapshot, error) {
	rows, err := s.DB.Read(ctx).Query(ctx, `SELECT `+snapshotHead+`, r.figures FROM report_snapshots r LEFT JOIN schools sc ON sc.id = r.school_id
		WHERE r.id = $1`, id)
	if err != nil {
		return Snapshot{}, err
	}
	snap, err := pgx.CollectExactlyOneRow(rows, func(row pgx.CollectableRow) (Snapshot, error) {
		var out Snapshot
		var figures []byte
		var err error
		if out.SnapshotHead, err = scanHead(row, &figures); err != nil {
			return out, err
		}
		return out, json.Unmarshal(figures, &out.Figures)
	})
	if errors.Is(err, pgx.ErrNoRows) {
		return Snapshot{}, bangfu.NotFound("snapshot")
	}
	if err != nil {
		return Snapshot{}, err
	}
	mine, err := snapshotSchool(a, snap.SchoolID)
	switch {
	case bangfu.ErrorCode(err) == bangfu.ENOTFOUND:
		return Snapshot{}, bangfu.NotFound("snapshot")
	case err != nil:
		return Snapshot{}, err
	case a.Role == bangfu.RoleSupervisor && snap.SchoolID == nil:
		return Snapshot{}, bangfu.NotFound("snapshot")
	}
	if err := s.auditSnapshots(ctx, a, mine, map[string]any{"snapshot_id": id}); err != nil {
		return Snapshot{}, err
	}
	return snap, nil
}

func (s *Service) auditSnapshots(ctx context.Context, a bangfu.Actor, school *int64, detail map[string]any) error {
	ev := audit.Event{Action: audit.ReportRead, Detail: map[string]any{"snapshots": detail}}
	if school != nil {
		ev.SchoolID = *school
	}
	return s.Reads.Record(ctx, a, s.Clock.Now(), ev)
}

// dateCursor and cursorDate turn a period's first day into a list cursor
// and back: snapshots of one kind and school are ordered by it.
func dateCursor(d bangfu.Date) int64 {
	y, m, day := d.Time().Date()
	return int64(y*10000 + int(m)*100 + day)
}

func cursorDate(c int64) (bangfu.Date, bool) {
	y, m, d := int(c/10000), time.Month(c/100%100), int(c%100)
	t := time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
	if y < 2000 || y > 2100 || t.Month() != m || t.Day() != d {
		return bangfu.Date{}, false
	}
	return bangfu.NewDate(y, m, d), true
}
