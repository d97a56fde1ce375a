package graduate

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/bangfu/bangfu"
	"github.com/bangfu/bangfu/internal/audit"
	"github.com/bangfu/bangfu/internal/cnid"
	"github.com/bangfu/bangfu/internal/policy"
	"github.com/bangfu/bangfu/internal/sheet"
)

// Import limits (documented in docs/import.md).
const (
	MaxImportBytes = 5 << 20
	MaxImportRows  = 10000
)

// Import file formats.
const (
	FormatCSV  = string(sheet.CSV)
	FormatXLSX = string(sheet.XLSX)
)

// importSpec is the columns an import file may have, by their English
// name, with the Chinese headers also accepted.
var importSpec = sheet.Spec{
	Columns: []sheet.Column{
		{Name: "student_number", Aliases: []string{"学号"}, Required: true},
		{Name: "name", Aliases: []string{"姓名"}, Required: true},
		{Name: "id_number", Aliases: []string{"身份证号", "身份证号码"}, Required: true},
		{Name: "education_level", Aliases: []string{"学历", "学历层次"}, Required: true},
		{Name: "graduation_year", Aliases: []string{"毕业年份", "毕业届别"}, Required: true},
		{Name: "department", Aliases: []string{"院系"}},
		{Name: "major", Aliases: []string{"专业"}},
		{Name: "phone", Aliases: []string{"手机", "联系电话"}},
		{Name: "email", Aliases: []string{"邮箱", "电子邮箱"}},
		{Name: "intention_industry", Aliases: []string{"意向行业"}},
		{Name: "intention_region", Aliases: []string{"意向地区"}},
		{Name: "intention_job_type", Aliases: []string{"意向岗位"}},
		{Name: "counselor", Aliases: []string{"辅导员账号"}},
		{Name: "consent", Aliases: []string{"同意", "授权同意"}},
	},
	MaxBytes: MaxImportBytes,
	MaxRows:  MaxImportRows,
}

// Imports per user: at most ImportsPerWindow within ImportWindow of the
// first, counted in import_throttle, so every process shares the count.
const (
	ImportsPerWindow = 10
	ImportWindow     = time.Minute
)

// Imports one process runs at once (ImportGate).
const (
	ImportSlots = 2
	// ImportWait is how long an import waits for a slot before it is
	// refused.
	ImportWait = 2 * time.Second
	// importRetryAfter is what a request refused for want of a slot is
	// told to wait: an import of the largest file takes about a second.
	importRetryAfter = 5
)

// ImportGate caps the imports one process reads and checks at once, since
// each holds a file and its rows in memory. A nil gate admits every import.
type ImportGate struct {
	slots chan struct{}
}

// NewImportGate returns a gate of n slots.
func NewImportGate(n int) *ImportGate { return &ImportGate{slots: make(chan struct{}, n)} }

// Acquire takes a slot, waiting at most ImportWait for one, and returns
// the function that gives it back. Without a slot by then it returns
// too_many_requests (with a Retry-After); when ctx ends first, ctx.Err().
func (g *ImportGate) Acquire(ctx context.Context) (release func(), err error) {
	if g == nil {
		return func() {}, nil
	}
	timer := time.NewTimer(ImportWait)
	defer timer.Stop()
	select {
	case g.slots <- struct{}{}:
		var once sync.Once
		return func() { once.Do(func() { <-g.slots }) }, nil
	case <-timer.C:
		return nil, &bangfu.Error{Code: bangfu.ETOOMANYREQUESTS, RetryAfterSeconds: importRetryAfter,
			Message: "Other imports are running; try again in a few seconds."}
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

var levelNames = map[string]string{"中职": "zhongzhi", "专科": "zhuanke", "高职": "zhuanke", "本科": "benke", "硕士": "shuoshi", "博士": "boshi"}

// ImportProblem is one problem with one cell (or row) of an import file.
type ImportProblem struct {
	Row     int    `json:"row"`
	Column  string `json:"column"`
	Problem string `json:"problem"`
}

// ImportReport says what an import did, or would do.
type ImportReport struct {
	DryRun    bool            `json:"dry_run"`
	Rows      int             `json:"rows"`
	Created   int             `json:"created"`
	Updated   int             `json:"updated"`
	Unchanged int             `json:"unchanged"`
	Problems  []ImportProblem `json:"problems"`
}

type importRow struct {
	line      int
	in        Input
	placement PlacementChange
	existing  *existingFile
	changed   []string
}

type existingFile struct {
	id                               int64
	counselorID                      *int64
	departmentID                     *int64
	name, major, level, phone, email string
	industry, region, jobType        string
	year                             int
	consent                          bool
	hash                             []byte
}

// Import creates or updates the graduate files in a CSV or XLSX file, for
// the actor's school. Rows are matched to files by student number, so
// importing a file twice changes nothing the second time. With dryRun it
// only reports; otherwise it writes all rows or, if any row has a problem,
// none (invalid, with each problem named "rows.<row>.<column>").
//
// Every import counts against the actor's ImportsPerWindow, dry or not
// (too_many_requests beyond it), and waits for a slot of s.Imports. A dry
// run, and an import refused for its problems, are audited as one
// student.import entry with the row and problem counts, since they tell
// the actor which ID numbers the school already has. File errors are those
// of sheet.Read.
func (s *Service) Import(ctx context.Context, a bangfu.Actor, format string, data []byte, dryRun bool) (ImportReport, error) {
	rep := ImportReport{DryRun: dryRun, Problems: []ImportProblem{}}
	if len(data) > MaxImportBytes {
		return rep, bangfu.Errorf(bangfu.ETOOLARGE, "Import files may be at most %d MB.", MaxImportBytes>>20)
	}
	if a.SchoolID == nil {
		return rep, bangfu.Errorf(bangfu.EFORBIDDEN, "You belong to no school.")
	}
	if err := s.countImport(ctx, a); err != nil {
		return rep, err
	}
	release, err := s.Imports.Acquire(ctx)
	if err != nil {
		return rep, err
	}
	defer release()
	table, err := sheet.Read(ctx, sheet.Format(format), data, importSpec)
	if err != nil {
		return rep, err
	}
	rep.Rows = len(table.Rows)
	school := *a.SchoolID
	thisYear := s.Clock.Now().In(bangfu.Shanghai).Year()
	problem := func(line int, col, msg string) {
		rep.Problems = append(rep.Problems, ImportProblem{Row: line, Column: col, Problem: msg})
	}

	refused := false
	err = s.DB.InTx(ctx, func(tx pgx.Tx) error {
		depts, err := schoolDepartments(ctx, tx, school)
		if err != nil {
			return err
		}
		counselors, err := schoolCounselors(ctx, tx, school)
		if err != nil {
			return err
		}
		var rows []*importRow
		seenNumber, seenID := map[string]int{}, map[string]int{}
		for _, rec := range table.Rows {
			line, cell := rec.Line, rec.Get
			r := &importRow{line: line, in: Input{
				StudentNumber: cell("student_number"), Name: cell("name"), IDNumber: cell("id_number"),
				SchoolID: &school, Major: cell("major"), Phone: cell("phone"), Email: cell("email"),
				Intention: Intention{Industry: cell("intention_industry"), Region: cell("intention_region"), JobType: cell("intention_job_type")},
				Skills:    []string{}, Certificates: []string{},
			}}
			var p bangfu.Problems
			level := cell("education_level")
			if code, ok := levelNames[level]; ok {
				level = code
			}
			r.in.EducationLevel = level
			if y, err := strconv.Atoi(strings.TrimSuffix(cell("graduation_year"), "届")); err == nil {
				r.in.GraduationYear = y
			}
			switch c := strings.ToLower(cell("consent")); c {
			case "", "0", "no", "false", "否", "n":
			case "1", "yes", "true", "是", "y":
				r.in.Consent = true
			default:
				p.Add("consent", "must be yes or no (是/否)")
			}
			if d := cell("department"); d != "" {
				if id, ok := depts[d]; ok {
					r.placement.DepartmentID = nullable(&id)
				} else {
					p.Add("department", "is not a department of your school")
				}
			}
			if u := cell("counselor"); u != "" {
				id, ok := counselors.ByUsername[strings.ToLower(u)]
				switch {
				case ok:
					r.placement.CounselorID = nullable(&id)
				case a.Role == bangfu.RoleCounselor:
					p.Add("counselor", "only a supervisor may assign a graduate to another counselor")
				default:
					p.Add("counselor", "is not the username of a counselor of your school")
				}
			}
			r.in.normalize()
			r.in.check(&p, thisYear, true)
			if r.in.StudentNumber != "" {
				if first, dup := seenNumber[r.in.StudentNumber]; dup {
					p.Add("student_number", fmt.Sprintf("repeats row %d", first))
				} else {
					seenNumber[r.in.StudentNumber] = line
				}
			}
			if r.in.IDNumber != "" && p["id_number"] == "" {
				if first, dup := seenID[r.in.IDNumber]; dup {
					p.Add("id_number", fmt.Sprintf("repeats row %d", first))
				} else {
					seenID[r.in.IDNumber] = line
				}
			}
			for col, msg := range p {
				problem(line, importColumn(col), msg)
			}
			rows = append(rows, r)
		}
		if err := s.matchExisting(ctx, tx, a, school, rows, problem); err != nil {
			return err
		}
		for _, r := range rows {
			var cur *Placement
			if r.existing != nil {
				cur = &Placement{SchoolID: school, DepartmentID: r.existing.departmentID, CounselorID: r.existing.counselorID}
			}
			var p bangfu.Problems
			pl := Place(a, cur, r.placement, counselors, &p)
			r.in.DepartmentID, r.in.CounselorID = pl.DepartmentID, pl.CounselorID
			for col, msg := range p {
				problem(r.line, importColumn(col), msg)
			}
			if r.existing != nil {
				r.changed = r.existing.diff(r.in, s.Box.Hashes(FieldIDNumber, r.in.IDNumber))
			}
		}
		slices.SortFunc(rep.Problems, func(x, y ImportProblem) int {
			if x.Row != y.Row {
				return x.Row - y.Row
			}
			return strings.Compare(x.Column, y.Column)
		})
		for _, r := range rows {
			switch {
			case r.existing == nil:
				rep.Created++
			case len(r.changed) > 0:
				rep.Updated++
			default:
				rep.Unchanged++
			}
		}
		if dryRun {
			return errDryRun
		}
		if len(rep.Problems) > 0 {
			refused = true
			var p bangfu.Problems
			for _, pr := range rep.Problems {
				p.Add(fmt.Sprintf("rows.%d.%s", pr.Row, pr.Column), pr.Problem)
			}
			return &bangfu.Error{Code: bangfu.EINVALID, Fields: p,
				Message: fmt.Sprintf("The file has %d problems; nothing was imported. Fix them and import again (try ?dry_run=true first).", len(rep.Problems))}
		}
		return s.writeImport(ctx, tx, a, school, rows)
	})
	if errors.Is(err, errDryRun) {
		err = nil
	}
	if (err == nil && dryRun) || refused {
		if aerr := audit.Record(ctx, s.DB.Pool, a, s.Clock.Now(), audit.Event{Action: audit.StudentImport, SchoolID: school,
			Detail: map[string]any{"dry_run": dryRun, "rows": rep.Rows, "problems": len(rep.Problems)}}); aerr != nil {
			return ImportReport{}, aerr
		}
	}
	if err != nil {
		return ImportReport{}, err
	}
	return rep, nil
}

// countImport counts an import of a in import_throttle and refuses it
// (too_many_requests, with the seconds until the window ends) when it is
// more than ImportsPerWindow within ImportWindow.
func (s *Service) countImport(ctx context.Context, a bangfu.Actor) error {
	now := s.Clock.Now()
	var n int
	var started time.Time
	if err := s.DB.Pool.QueryRow(ctx, `
		INSERT INTO import_throttle AS t (user_id, window_started_at, imports) VALUES ($1, $2, 1)
		ON CONFLICT (user_id) DO UPDATE SET
			imports = CASE WHEN t.window_started_at <= $3 THEN 1 ELSE t.imports + 1 END,
			window_started_at = CASE WHEN t.window_started_at <= $3 THEN $2 ELSE t.window_started_at END
		RETURNING imports, window_started_at`, a.UserID, now, now.Add(-ImportWindow)).Scan(&n, &started); err != nil {
		return err
	}
	if n <= ImportsPerWindow {
		return nil
	}
	wait := int(started.Add(ImportWindow).Sub(now).Seconds() + 0.999)
	return &bangfu.Error{Code: bangfu.ETOOMANYREQUESTS, RetryAfterSeconds: max(wait, 1),
		Message: fmt.Sprintf("You may import at most %d files a minute (dry runs included); try again later.", ImportsPerWindow)}
}

var errDryRun = errors.New("dry run: roll back")

// idNumberOnFile is the one answer for an ID number that another file of
// the school already has, whether or not the actor may see that file: it
// names no graduate.
const idNumberOnFile = "is already on file in this school"

func importColumn(field string) string {
	switch {
	case strings.HasPrefix(field, "intention."):
		return "intention_" + strings.TrimPrefix(field, "intention.")
	case field == "department_id":
		return "department"
	case field == "counselor_id":
		return "counselor"
	case field == "school_id":
		return "school"
	}
	return field
}

func schoolDepartments(ctx context.Context, tx pgx.Tx, school int64) (map[string]int64, error) {
	depts := map[string]int64{}
	rows, err := tx.Query(ctx, `SELECT name, id FROM departments WHERE school_id = $1`, school)
	if err != nil {
		return nil, err
	}
	var name string
	var id int64
	_, err = pgx.ForEachRow(rows, []any{&name, &id}, func() error { depts[name] = id; return nil })
	return depts, err
}

// matchExisting finds the files the rows update, locks them, and records
// which fields each row changes; it reports rows the actor may not update
// and ID numbers that belong to another graduate.
func (s *Service) matchExisting(ctx context.Context, tx pgx.Tx, a bangfu.Actor, school int64, rows []*importRow, problem func(int, string, string)) error {
	numbers := make([]string, 0, len(rows))
	for _, r := range rows {
		numbers = append(numbers, r.in.StudentNumber)
	}
	q, err := tx.Query(ctx, `SELECT student_number, id, counselor_id, department_id, name, major, education_level, phone, email,
			intention_industry, intention_region, intention_job_type, graduation_year, consent, id_number_hash
		FROM students WHERE school_id = $1 AND student_number = ANY($2) ORDER BY id FOR UPDATE`, school, numbers)
	if err != nil {
		return err
	}
	existing := map[string]*existingFile{}
	var number string
	var e existingFile
	if _, err := pgx.ForEachRow(q, []any{&number, &e.id, &e.counselorID, &e.departmentID, &e.name, &e.major, &e.level, &e.phone, &e.email,
		&e.industry, &e.region, &e.jobType, &e.year, &e.consent, &e.hash}, func() error {
		ef := e
		existing[number] = &ef
		return nil
	}); err != nil {
		return err
	}
	for _, r := range rows {
		ex := existing[r.in.StudentNumber]
		if ex != nil {
			if !policy.Sees(a, policy.Record{StudentID: ex.id, SchoolID: school, DepartmentID: ex.departmentID, CounselorID: ex.counselorID}) {
				problem(r.line, "student_number", "belongs to a graduate you cannot update")
				continue
			}
			r.existing = ex
		}
	}
	// Whose are the file's ID numbers already? One query for all rows.
	owner := map[string]int64{}
	var hashes [][]byte
	for _, r := range rows {
		if cnid.ResidentIDProblem(r.in.IDNumber) == "" {
			hashes = append(hashes, s.Box.Hashes(FieldIDNumber, r.in.IDNumber)...)
		}
	}
	q, err = tx.Query(ctx, `SELECT id_number_hash, id FROM students WHERE school_id = $1 AND id_number_hash = ANY($2)`, school, hashes)
	if err != nil {
		return err
	}
	var hash []byte
	var id int64
	if _, err := pgx.ForEachRow(q, []any{&hash, &id}, func() error { owner[string(hash)] = id; return nil }); err != nil {
		return err
	}
	for _, r := range rows {
		if cnid.ResidentIDProblem(r.in.IDNumber) != "" {
			continue
		}
		for _, h := range s.Box.Hashes(FieldIDNumber, r.in.IDNumber) {
			if id, ok := owner[string(h)]; ok && (r.existing == nil || r.existing.id != id) {
				problem(r.line, "id_number", idNumberOnFile)
				break
			}
		}
	}
	return nil
}

func (e *existingFile) diff(in Input, idHashes [][]byte) []string {
	var changed []string
	add := func(field string, differs bool) {
		if differs {
			changed = append(changed, field)
		}
	}
	add("name", e.name != in.Name)
	add("major", e.major != in.Major)
	add("education_level", e.level != in.EducationLevel)
	add("graduation_year", e.year != in.GraduationYear)
	add("phone", e.phone != in.Phone)
	add("email", e.email != in.Email)
	add("intention", e.industry != in.Intention.Industry || e.region != in.Intention.Region || e.jobType != in.Intention.JobType)
	add("department_id", !sameID(e.departmentID, in.DepartmentID))
	add("counselor_id", !sameID(e.counselorID, in.CounselorID))
	add("consent", e.consent != in.Consent)
	add("id_number", !slices.ContainsFunc(idHashes, func(h []byte) bool { return bytes.Equal(h, e.hash) }))
	return changed
}

func sameID(a, b *int64) bool {
	if a == nil || b == nil {
		return a == b
	}
	return *a == *b
}

func (s *Service) writeImport(ctx context.Context, tx pgx.Tx, a bangfu.Actor, school int64, rows []*importRow) error {
	now := s.Clock.Now()
	var events []audit.Event
	var eligibility []int64
	for _, r := range rows {
		switch {
		case r.existing == nil:
			id, err := s.insert(ctx, tx, r.in)
			if err != nil {
				return err
			}
			events = append(events, audit.Event{Action: audit.StudentImport, StudentID: id, SchoolID: school, Detail: map[string]any{"row": r.line, "created": true}})
		case len(r.changed) > 0:
			in := r.in
			if _, err := tx.Exec(ctx, `UPDATE students SET name = $2, major = $3, education_level = $4, graduation_year = $5,
					phone = $6, email = $7, intention_industry = $8, intention_region = $9, intention_job_type = $10,
					department_id = $11, counselor_id = $12, consent = $13,
					consent_at = CASE WHEN $13 AND NOT consent THEN $14 WHEN NOT $13 THEN NULL ELSE consent_at END,
					id_number_sealed = CASE WHEN $15 THEN $16 ELSE id_number_sealed END,
					id_number_hash = CASE WHEN $15 THEN $17 ELSE id_number_hash END,
					id_number_masked = CASE WHEN $15 THEN $18 ELSE id_number_masked END,
					updated_at = $14, version = version + 1
				WHERE id = $1`,
				r.existing.id, in.Name, in.Major, in.EducationLevel, in.GraduationYear, in.Phone, in.Email,
				in.Intention.Industry, in.Intention.Region, in.Intention.JobType, in.DepartmentID, in.CounselorID, in.Consent, now,
				slices.Contains(r.changed, "id_number"), s.Box.Seal(FieldIDNumber, in.IDNumber), s.Box.Hash(FieldIDNumber, in.IDNumber),
				cnid.MaskResidentID(in.IDNumber)); err != nil {
				return err
			}
			if slices.Contains(r.changed, "graduation_year") {
				if err := syncCase(ctx, tx, r.existing.id); err != nil {
					return err
				}
			}
			if slices.Contains(r.changed, "department_id") {
				if err := s.moved(ctx, tx, r.existing.id, in.DepartmentID); err != nil {
					return err
				}
			}
			events = append(events, audit.Event{Action: audit.StudentImport, StudentID: r.existing.id, SchoolID: school,
				Fields: r.changed, Detail: map[string]any{"row": r.line}})
			if consentOrYearChanged(r.changed) {
				eligibility = append(eligibility, r.existing.id)
			}
		}
	}
	if err := audit.RecordMany(ctx, tx, a, now, events); err != nil {
		return err
	}
	return s.AfterEligibility.call(ctx, tx, eligibility...)
}
