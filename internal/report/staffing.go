package report

import (
	"context"
	"errors"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/bangfu/bangfu"
	"github.com/bangfu/bangfu/internal/audit"
	"github.com/bangfu/bangfu/internal/postgres"
)

// GraduatesPerStaff is the most graduates of a year one full-time
// employment guidance staff member may serve: 专职就业指导教师和专职就业工作
// 人员与应届毕业生（含研究生）比例不低于 1:500 (item 二十二).
const GraduatesPerStaff = 500

// AuditStaffing is the audit action of a change of a school's staff.
const AuditStaffing = "staffing.change"

// Staffing is one school's staffing check for a graduation year: its
// full-time employment guidance staff against its graduates of the year,
// postgraduates included.
type Staffing struct {
	SchoolID   int64  `json:"school_id"`
	SchoolName string `json:"school_name"`
	Year       int    `json:"year"`
	// Staff is nil when nobody recorded it for the year.
	Staff     *int `json:"staff"`
	Graduates int  `json:"graduates"`
	// Required is the staff the school needs: one per 500 graduates,
	// rounded up.
	Required int `json:"required"`
	// GraduatesPerStaff is nil without staff.
	GraduatesPerStaff *float64 `json:"graduates_per_staff"`
	// Meets is true when the staff is recorded and at least Required.
	Meets bool `json:"meets"`
}

// StaffingCheck counts the schools of a staffing list that fall short:
// below 1:500, or with no staff recorded for the year.
type StaffingCheck struct {
	Schools     int `json:"schools"`
	Below       int `json:"below"`
	NotRecorded int `json:"not_recorded"`
}

// newStaffing checks staff against graduates.
func newStaffing(school int64, name string, year int, staff *int, graduates int) Staffing {
	st := Staffing{SchoolID: school, SchoolName: name, Year: year, Staff: staff, Graduates: graduates,
		Required: (graduates + GraduatesPerStaff - 1) / GraduatesPerStaff}
	if staff != nil {
		st.Meets = *staff >= st.Required
		if *staff > 0 {
			per := float64(graduates) / float64(*staff)
			st.GraduatesPerStaff = &per
		}
	}
	return st
}

func scanStaffing(rows pgx.Rows, year int) ([]Staffing, error) {
	out := []Staffing{}
	var id int64
	var name string
	var staff *int
	var n int
	_, err := pgx.ForEachRow(rows, []any{&id, &name, &staff, &n}, func() error {
		out = append(out, newStaffing(id, name, year, staff, n))
		return nil
	})
	return out, err
}

func checkStaffing(list []Staffing) StaffingCheck {
	c := StaffingCheck{Schools: len(list)}
	for _, s := range list {
		switch {
		case s.Staff == nil:
			c.NotRecorded++
		case !s.Meets:
			c.Below++
		}
	}
	return c
}

// StaffingList is the staffing check of a year.
type StaffingList struct {
	Year  int           `json:"year"`
	AsOf  bangfu.Date   `json:"as_of"`
	Items []Staffing    `json:"items"`
	Check StaffingCheck `json:"check"`
}

// StaffingOf checks the staff of the schools a may see against their
// graduates of year (this year when 0), today: admins and province staff
// every school, a supervisor their own. Counselors see none (forbidden).
// Reads are audited.
func (s *Service) StaffingOf(ctx context.Context, a bangfu.Actor, year int) (StaffingList, error) {
	today := bangfu.Today(s.Clock)
	if year == 0 {
		year = today.Time().Year()
	}
	if year < 2000 || year > 2100 {
		return StaffingList{}, (bangfu.Problems{"year": "must be a year like 2026"}).Err()
	}
	w := &staffingScope{}
	if err := w.of(a); err != nil {
		return StaffingList{}, err
	}
	c := counting{At: EndOf(today), Day: today, Live: true}
	cond := "true"
	args := []any{year, c.At}
	if w.school != nil {
		cond = "sc.id = $3"
		args = append(args, *w.school)
	}
	rows, err := s.DB.Read(ctx).Query(ctx, c.staffingSQL(cond), args...)
	if err != nil {
		return StaffingList{}, err
	}
	items, err := scanStaffing(rows, year)
	if err != nil {
		return StaffingList{}, err
	}
	ev := audit.Event{Action: audit.ReportRead, Detail: map[string]any{"staffing_year": year}}
	if a.SchoolID != nil {
		ev.SchoolID = *a.SchoolID
	}
	if err := s.Reads.Record(ctx, a, s.Clock.Now(), ev); err != nil {
		return StaffingList{}, err
	}
	return StaffingList{Year: year, AsOf: today, Items: items, Check: checkStaffing(items)}, nil
}

// staffingScope is which schools' staffing an actor reads.
type staffingScope struct{ school *int64 }

func (w *staffingScope) of(a bangfu.Actor) error {
	switch a.Role {
	case bangfu.RoleAdmin, bangfu.RoleProvince:
	case bangfu.RoleSupervisor:
		if a.SchoolID == nil {
			return bangfu.NotFound("school")
		}
		w.school = a.SchoolID
	default:
		return bangfu.Errorf(bangfu.EFORBIDDEN, "Staffing is read by supervisors, province staff and admins.")
	}
	return nil
}

// StaffingRecord is the staff a school recorded for a year.
type StaffingRecord struct {
	SchoolID  int64     `json:"school_id"`
	Year      int       `json:"year"`
	Staff     int       `json:"staff"`
	Version   int       `json:"version"`
	UpdatedBy int64     `json:"updated_by"`
	UpdatedAt time.Time `json:"updated_at"`
}

// StaffingInput is a school's full-time employment guidance staff for a
// year.
type StaffingInput struct {
	Staff *int `json:"staff"`
}

// mayRecord reports whether a records school's staff: an admin, or a
// supervisor of the whole school (a department's supervisor does not).
// Another school's supervisor finds no such school.
func mayRecord(a bangfu.Actor, school int64) error {
	switch {
	case a.Role == bangfu.RoleAdmin:
		return nil
	case a.Role != bangfu.RoleSupervisor:
		return bangfu.Errorf(bangfu.EFORBIDDEN, "An admin or the school's supervisor records its staff.")
	case a.SchoolID == nil || *a.SchoolID != school:
		return bangfu.NotFound("school")
	case a.DepartmentID != nil:
		return bangfu.Errorf(bangfu.EFORBIDDEN, "The school's supervisor records its staff, not a department's.")
	}
	return nil
}

// StaffingRecordOf returns the staff recorded for school and year, to
// those who may read it (admins, province staff, the school's
// supervisors): not_found when none is recorded.
func (s *Service) StaffingRecordOf(ctx context.Context, a bangfu.Actor, school int64, year int) (StaffingRecord, error) {
	w := &staffingScope{}
	if err := w.of(a); err != nil {
		return StaffingRecord{}, err
	}
	if w.school != nil && *w.school != school {
		return StaffingRecord{}, bangfu.NotFound("staffing record")
	}
	return staffingRecord(ctx, s.DB.Pool, school, year, false)
}

func staffingRecord(ctx context.Context, q postgres.Querier, school int64, year int, lock bool) (StaffingRecord, error) {
	sql := `SELECT school_id, year, staff, version, updated_by, updated_at FROM school_staffing WHERE school_id = $1 AND year = $2`
	if lock {
		sql += ` FOR UPDATE`
	}
	var r StaffingRecord
	err := q.QueryRow(ctx, sql, school, year).Scan(&r.SchoolID, &r.Year, &r.Staff, &r.Version, &r.UpdatedBy, &r.UpdatedAt)
	if errors.Is(err, pgx.ErrNoRows) {
		return r, bangfu.NotFound("staffing record")
	}
	return r, err
}

// PutStaffing records school's full-time employment guidance staff for
// year (an admin, or the school's supervisor). base is the version being
// replaced (from If-Match): required when a record exists
// (precondition_required), and it must still be current
// (precondition_failed); a first record takes none. The change is
// audited with the number before and after.
func (s *Service) PutStaffing(ctx context.Context, a bangfu.Actor, school int64, year int, base *int, in StaffingInput) (StaffingRecord, error) {
	if err := mayRecord(a, school); err != nil {
		return StaffingRecord{}, err
	}
	var p bangfu.Problems
	if year < 2000 || year > 2100 {
		p.Add("year", "must be a year like 2026")
	}
	switch {
	case in.Staff == nil:
		p.Add("staff", "is required: the number of full-time employment guidance staff")
	case *in.Staff < 0 || *in.Staff > 100000:
		p.Add("staff", "must be a whole number from 0 to 100000")
	}
	var out StaffingRecord
	err := s.DB.InTx(ctx, func(tx pgx.Tx) error {
		var exists bool
		if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM schools WHERE id = $1)`, school).Scan(&exists); err != nil {
			return err
		}
		if !exists {
			return bangfu.NotFound("school")
		}
		if err := p.Err(); err != nil {
			return err
		}
		cur, err := staffingRecord(ctx, tx, school, year, true)
		found := err == nil
		if err != nil && bangfu.ErrorCode(err) != bangfu.ENOTFOUND {
			return err
		}
		switch {
		case found && base == nil:
			return bangfu.Errorf(bangfu.EPRECONDITIONREQ, "Staff are recorded for %d already: send If-Match with the record's ETag.", year)
		case found && *base != cur.Version, !found && base != nil:
			return bangfu.Errorf(bangfu.EPRECONDITIONFAILED, "The staff of %d were changed since you read them; reload and apply your change again.", year)
		}
		now := s.Clock.Now()
		// A first record never replaces one written meanwhile: of two
		// writers who found none, one inserts and the other is told.
		sql := `INSERT INTO school_staffing (school_id, year, staff, updated_by, updated_at) VALUES ($1, $2, $3, $4, $5)
			ON CONFLICT (school_id, year) DO NOTHING
			RETURNING school_id, year, staff, version, updated_by, updated_at`
		if found {
			sql = `UPDATE school_staffing SET staff = $3, updated_by = $4, updated_at = $5, version = version + 1
				WHERE school_id = $1 AND year = $2
				RETURNING school_id, year, staff, version, updated_by, updated_at`
		}
		err = tx.QueryRow(ctx, sql, school, year, *in.Staff, a.UserID, now).
			Scan(&out.SchoolID, &out.Year, &out.Staff, &out.Version, &out.UpdatedBy, &out.UpdatedAt)
		if errors.Is(err, pgx.ErrNoRows) {
			return bangfu.Errorf(bangfu.EPRECONDITIONFAILED, "The staff of %d were recorded by someone else meanwhile; reload and apply your change again.", year)
		}
		if err != nil {
			return postgres.FormatError(err, "staffing record")
		}
		detail := map[string]any{"year": year, "after": *in.Staff}
		if found {
			detail["before"] = cur.Staff
		}
		return audit.Record(ctx, tx, a, now, audit.Event{Action: AuditStaffing, SchoolID: school, Fields: []string{"staff"}, Detail: detail})
	})
	return out, err
}
