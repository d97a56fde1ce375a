package roster

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/bangfu/bangfu"
	"github.com/bangfu/bangfu/internal/audit"
	"github.com/bangfu/bangfu/internal/export"
)

// ExportHeaders are the columns of an export, in Chinese.
var ExportHeaders = []string{"序号", "姓名", "学号", "学校", "院系", "专业", "状态", "同校候补位次", "符合条件时间", "最近变更时间", "变更原因"}

// Export reads a's part of cohort id's whole roster for a file (admins the
// whole cohort; supervisors their school's, or department's, part; others
// may not export: forbidden), in the roster's order, and records the
// export in the audit log before anything is written. Hidden fields are
// empty, as in the JSON view.
func (s *Service) Export(ctx context.Context, a bangfu.Actor, id int64, format export.Format) (*export.File, error) {
	if _, ok := export.ParseFormat(string(format)); !ok {
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
	var cells [][]any
	local := func(t time.Time) string { return t.In(bangfu.Shanghai).Format("2006-01-02 15:04") }
	for i, d := range data {
		p := s.shape(a, d)
		pos := ""
		if p.WaitlistPosition != nil {
			pos = strconv.Itoa(*p.WaitlistPosition)
		}
		cells = append(cells, []any{strconv.Itoa(i + 1), p.Name, p.StudentNumber, p.SchoolName, p.Department, p.Major,
			statusText[p.Status], pos, local(p.EligibleSince), local(p.ChangedAt), p.Reason})
	}
	err = audit.Record(ctx, s.DB.Pool, a, s.Clock.Now(), audit.Event{Action: AuditExport, SchoolID: scopeSchool(a),
		Detail: map[string]any{"cohort_id": id, "format": string(format), "rows": len(cells)}})
	if err != nil {
		return nil, err
	}
	// A cohort's roster is at most its eligible graduates of a year: read
	// whole before the audit entry, so that nothing is sent unrecorded.
	return &export.File{Format: format, Name: fmt.Sprintf("roster-%d", id), Write: func(w export.Writer) error {
		if err := w.Sheet("名单", ExportHeaders); err != nil {
			return err
		}
		for _, r := range cells {
			if err := w.Row(r...); err != nil {
				return err
			}
		}
		return nil
	}}, nil
}
