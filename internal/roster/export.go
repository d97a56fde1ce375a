package roster

import (
	"context"
	"encoding/csv"
	"fmt"
	"io"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/xuri/excelize/v2"

	"github.com/bangfu/bangfu"
	"github.com/bangfu/bangfu/internal/audit"
)

// Export formats.
const (
	CSV  = "csv"
	XLSX = "xlsx"
)

// ExportHeaders are the columns of an export, in Chinese.
var ExportHeaders = []string{"序号", "姓名", "学号", "学校", "院系", "专业", "状态", "同校候补位次", "符合条件时间", "最近变更时间", "变更原因"}

// Export is a roster export ready to write.
type Export struct {
	Format   string
	Filename string
	rows     [][]string
}

// ContentType is the export's media type.
func (e *Export) ContentType() string {
	if e.Format == XLSX {
		return "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
	}
	return "text/csv; charset=utf-8"
}

// Rows is the number of places exported.
func (e *Export) Rows() int { return len(e.rows) }

// Export reads a's part of cohort id's whole roster for a file (admins the
// whole cohort; supervisors their school's, or department's, part; others
// may not export: forbidden), in the roster's order, and records the
// export in the audit log before anything is written. Hidden fields are
// empty, as in the JSON view.
func (s *Service) Export(ctx context.Context, a bangfu.Actor, id int64, format string) (*Export, error) {
	if format != CSV && format != XLSX {
		return nil, (bangfu.Problems{"format": "must be json, csv or xlsx"}).Err()
	}
	c, err := s.Cohort(ctx, a, id)
	if err != nil {
		return nil, err
	}
	if a.Role != bangfu.RoleAdmin && a.Role != bangfu.RoleSupervisor {
		return nil, bangfu.Errorf(bangfu.EFORBIDDEN, "Only admins and supervisors export rosters.")
	}
	w := rosterWhere(a, c, RosterFilter{})
	rows, err := s.DB.Pool.Query(ctx, placeSQL+` WHERE `+w.String()+` ORDER BY `+statusOrder+`, p.eligible_since, p.id`, w.Args...)
	if err != nil {
		return nil, err
	}
	data, err := pgx.CollectRows(rows, scanPlace)
	if err != nil {
		return nil, err
	}
	e := &Export{Format: format, Filename: fmt.Sprintf("roster-%d.%s", id, format)}
	local := func(t time.Time) string { return t.In(bangfu.Shanghai).Format("2006-01-02 15:04") }
	for i, d := range data {
		p := s.shape(a, d)
		pos := ""
		if p.WaitlistPosition != nil {
			pos = strconv.Itoa(*p.WaitlistPosition)
		}
		e.rows = append(e.rows, []string{strconv.Itoa(i + 1), p.Name, p.StudentNumber, p.SchoolName, p.Department, p.Major,
			statusText[p.Status], pos, local(p.EligibleSince), local(p.ChangedAt), p.Reason})
	}
	err = audit.Record(ctx, s.DB.Pool, a, s.Clock.Now(), audit.Event{Action: AuditExport, SchoolID: scopeSchool(a),
		Detail: map[string]any{"cohort_id": id, "format": format, "rows": len(e.rows)}})
	return e, err
}

// WriteTo writes the export: CSV in UTF-8 with a byte-order mark (so that
// Excel reads it as UTF-8), or an XLSX workbook written with excelize's
// StreamWriter. A cell that a spreadsheet would take for a formula (it
// starts with = + - @, a tab or a carriage return) is written as text: in
// CSV with a leading apostrophe, in XLSX as an inline string, never a
// formula.
func (e *Export) WriteTo(w io.Writer) (int64, error) {
	cw := &countWriter{w: w}
	var err error
	if e.Format == XLSX {
		err = e.writeXLSX(cw)
	} else {
		err = e.writeCSV(cw)
	}
	return cw.n, err
}

func (e *Export) writeCSV(w io.Writer) error {
	if _, err := io.WriteString(w, "\ufeff"); err != nil {
		return err
	}
	cw := csv.NewWriter(w)
	cw.UseCRLF = true
	if err := cw.Write(ExportHeaders); err != nil {
		return err
	}
	for _, r := range e.rows {
		safe := make([]string, len(r))
		for i, v := range r {
			safe[i] = NeutralizeCSV(v)
		}
		if err := cw.Write(safe); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}

// NeutralizeCSV returns v so that a spreadsheet opening the CSV shows it
// as text: a value starting with = + - @, a tab or a carriage return gets
// a leading apostrophe.
func NeutralizeCSV(v string) string {
	if v != "" && (v[0] == '=' || v[0] == '+' || v[0] == '-' || v[0] == '@' || v[0] == '\t' || v[0] == '\r') {
		return "'" + v
	}
	return v
}

func (e *Export) writeXLSX(w io.Writer) error {
	f := excelize.NewFile()
	defer f.Close()
	const sheet = "名单"
	if err := f.SetSheetName("Sheet1", sheet); err != nil {
		return err
	}
	sw, err := f.NewStreamWriter(sheet)
	if err != nil {
		return err
	}
	row := func(n int, vals []string) error {
		cells := make([]any, len(vals))
		for i, v := range vals {
			// A string cell is an inline string: text, never a formula.
			cells[i] = excelize.Cell{Value: v}
		}
		cell, err := excelize.CoordinatesToCellName(1, n)
		if err != nil {
			return err
		}
		return sw.SetRow(cell, cells)
	}
	if err := row(1, ExportHeaders); err != nil {
		return err
	}
	for i, r := range e.rows {
		if err := row(i+2, r); err != nil {
			return err
		}
	}
	if err := sw.Flush(); err != nil {
		return err
	}
	return f.Write(w)
}

type countWriter struct {
	w io.Writer
	n int64
}

func (c *countWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}
