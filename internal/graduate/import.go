package graduate

import (
	"bytes"
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/jackc/pgx/v5"
	"github.com/xuri/excelize/v2"
	"golang.org/x/text/encoding/simplifiedchinese"

	"github.com/bangfu/bangfu"
	"github.com/bangfu/bangfu/internal/audit"
	"github.com/bangfu/bangfu/internal/cnid"
	"github.com/bangfu/bangfu/internal/policy"
)

// Import limits (documented in docs/import.md).
const (
	MaxImportBytes = 5 << 20
	MaxImportRows  = 10000
)

// Import file formats.
const (
	FormatCSV  = "csv"
	FormatXLSX = "xlsx"
)

// importColumns are the columns an import file may have, by their English
// name, with the Chinese headers also accepted. Required ones are marked.
var importColumns = []struct {
	name     string
	aliases  []string
	required bool
}{
	{"student_number", []string{"学号"}, true},
	{"name", []string{"姓名"}, true},
	{"id_number", []string{"身份证号", "身份证号码"}, true},
	{"education_level", []string{"学历", "学历层次"}, true},
	{"graduation_year", []string{"毕业年份", "毕业届别"}, true},
	{"department", []string{"院系"}, false},
	{"major", []string{"专业"}, false},
	{"phone", []string{"手机", "联系电话"}, false},
	{"email", []string{"邮箱", "电子邮箱"}, false},
	{"intention_industry", []string{"意向行业"}, false},
	{"intention_region", []string{"意向地区"}, false},
	{"intention_job_type", []string{"意向岗位"}, false},
	{"counselor", []string{"辅导员账号"}, false},
	{"consent", []string{"同意", "授权同意"}, false},
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
func (s *Service) Import(ctx context.Context, a bangfu.Actor, format string, data []byte, dryRun bool) (ImportReport, error) {
	rep := ImportReport{DryRun: dryRun, Problems: []ImportProblem{}}
	if len(data) > MaxImportBytes {
		return rep, bangfu.Errorf(bangfu.ETOOLARGE, "Import files may be at most %d MB.", MaxImportBytes>>20)
	}
	if a.SchoolID == nil {
		return rep, bangfu.Errorf(bangfu.EFORBIDDEN, "You belong to no school.")
	}
	table, err := readTable(format, data)
	if err != nil {
		return rep, err
	}
	cols, err := mapColumns(table[0])
	if err != nil {
		return rep, err
	}
	body := table[1:]
	if len(body) == 0 {
		return rep, (bangfu.Problems{"file": "has a header but no rows"}).Err()
	}
	if len(body) > MaxImportRows {
		return rep, (bangfu.Problems{"file": fmt.Sprintf("has %d rows; import at most %d at a time", len(body), MaxImportRows)}).Err()
	}
	rep.Rows = len(body)
	school := *a.SchoolID
	thisYear := s.Clock.Now().In(bangfu.Shanghai).Year()
	problem := func(line int, col, msg string) {
		rep.Problems = append(rep.Problems, ImportProblem{Row: line, Column: col, Problem: msg})
	}

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
		for i, rec := range body {
			line := i + 2 // 1-based, after the header
			cell := func(name string) string {
				if j, ok := cols[name]; ok && j < len(rec) {
					return strings.TrimSpace(rec[j])
				}
				return ""
			}
			if slices.IndexFunc(rec, func(c string) bool { return strings.TrimSpace(c) != "" }) < 0 {
				rep.Rows--
				continue
			}
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
	if err != nil {
		return ImportReport{}, err
	}
	return rep, nil
}

var errDryRun = errors.New("dry run: roll back")

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

// readTable reads the rows of a CSV (UTF-8, with or without BOM, or
// GB18030 as Excel in China saves it) or the first sheet of an XLSX file.
func readTable(format string, data []byte) ([][]string, error) {
	var table [][]string
	switch format {
	case FormatCSV:
		data = bytes.TrimPrefix(data, []byte("\xef\xbb\xbf"))
		if !utf8.Valid(data) {
			decoded, err := simplifiedchinese.GB18030.NewDecoder().Bytes(data)
			if err != nil {
				return nil, (bangfu.Problems{"file": "is neither UTF-8 nor GB18030 text"}).Err()
			}
			data = decoded
		}
		r := csv.NewReader(bytes.NewReader(data))
		r.FieldsPerRecord = -1
		for {
			rec, err := r.Read()
			if errors.Is(err, io.EOF) {
				break
			}
			var pe *csv.ParseError
			if errors.As(err, &pe) {
				return nil, (bangfu.Problems{"file": fmt.Sprintf("is not valid CSV at line %d: %v", pe.Line, pe.Err)}).Err()
			} else if err != nil {
				return nil, err
			}
			table = append(table, rec)
		}
	case FormatXLSX:
		f, err := excelize.OpenReader(bytes.NewReader(data))
		if err != nil {
			return nil, (bangfu.Problems{"file": "is not a readable .xlsx workbook"}).Err()
		}
		defer f.Close()
		sheets := f.GetSheetList()
		if len(sheets) == 0 {
			return nil, (bangfu.Problems{"file": "has no sheets"}).Err()
		}
		if table, err = f.GetRows(sheets[0]); err != nil {
			return nil, (bangfu.Problems{"file": "first sheet cannot be read"}).Err()
		}
	default:
		return nil, (bangfu.Problems{"Content-Type": "must be text/csv or application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}).Err()
	}
	if len(table) == 0 {
		return nil, (bangfu.Problems{"file": "is empty"}).Err()
	}
	return table, nil
}

// mapColumns finds each known column in the header row.
func mapColumns(header []string) (map[string]int, error) {
	cols := map[string]int{}
	var p bangfu.Problems
	for j, h := range header {
		h = strings.TrimSpace(strings.TrimPrefix(h, "\ufeff"))
		matched := false
		for _, c := range importColumns {
			if strings.EqualFold(h, c.name) || slices.Contains(c.aliases, h) {
				cols[c.name] = j
				matched = true
			}
		}
		if !matched && h != "" {
			p.Add("header."+h, "is not a known column (see docs/import.md)")
		}
	}
	for _, c := range importColumns {
		if _, ok := cols[c.name]; c.required && !ok {
			p.Add("header."+c.name, "is a required column that is missing")
		}
	}
	return cols, p.Err()
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
				problem(r.line, "id_number", "belongs to another graduate of this school")
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
