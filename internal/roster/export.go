package roster

import (
	"context"
	"fmt"
	"io"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/bangfu/bangfu"
	"github.com/bangfu/bangfu/internal/audit"
	"github.com/bangfu/bangfu/internal/export"
)

// Export formats.
const (
	CSV  = string(export.CSV)
	XLSX = string(export.XLSX)
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
func (e *Export) ContentType() string { return export.Format(e.Format).ContentType() }

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

// WriteTo writes the export (internal/export): CSV in UTF-8 with a
// byte-order mark, or an XLSX workbook; a cell a spreadsheet would take
// for a formula is written as text.
func (e *Export) WriteTo(w io.Writer) (int64, error) {
	cw := &countWriter{w: w}
	out := export.New(cw, export.Format(e.Format))
	defer out.Abort()
	if err := out.Sheet("名单", ExportHeaders); err != nil {
		return cw.n, err
	}
	for _, r := range e.rows {
		cells := make([]any, len(r))
		for i, v := range r {
			cells[i] = v
		}
		if err := out.Row(cells...); err != nil {
			return cw.n, err
		}
	}
	return cw.n, out.Close()
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
