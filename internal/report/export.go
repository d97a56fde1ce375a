package report

import (
	"context"
	"fmt"

	"github.com/bangfu/bangfu"
	"github.com/bangfu/bangfu/internal/audit"
	"github.com/bangfu/bangfu/internal/export"
)

// AuditExport is the audit action of an export of figures (a summary, a
// snapshot, a list of snapshots).
const AuditExport = "report.export"

// Column headers of the exports. Their labels say the rule: only verified
// destinations count, 待核实 is apart.
var (
	FigureHeaders = []string{"统计维度", "名称", "毕业生数", "已落实（已核实去向，不含70/71/72）",
		"待核实（已上报或登记、尚未核实，不计入落实率）", "已衔接公共就业服务", "去向落实率（仅计已核实去向）", "当前目标", "是否达到目标",
		"统计截至", "口径版本"}
	StaffingHeaders = []string{"学校", "毕业年份", "专职就业指导人员（人）", "应届毕业生（含研究生）", "按1:500应配（人）",
		"每名专职人员对应毕业生", "是否达到1:500", "统计截至"}
	SnapshotHeaders = []string{"周期", "起始日期", "截止日期", "学校", "毕业年份", "毕业生数", "已落实（已核实去向，不含70/71/72）",
		"待核实（已上报或登记、尚未核实，不计入落实率）", "去向落实率（仅计已核实去向）", "当前目标", "是否达到目标",
		"低于1:500的学校数", "未填报专职人员的学校数", "生成时间", "补生成（停机后补记）", "口径版本"}
)

var periodNames = map[string]string{Weekly: "周报", Monthly: "月报"}

// writeFigures writes f (and, from a summary, the rates by graduation
// year) as one table, and on a second sheet the staffing check when the
// format holds one.
func writeFigures(w export.Writer, f Figures, byYear []Group) error {
	if err := w.Sheet("去向落实率", FigureHeaders); err != nil {
		return err
	}
	row := func(dimension, name string, r Rate) error {
		return w.Row(dimension, name, r.Graduates, r.Placed, r.Pending, r.HandedOver, export.Percent(r.Rate), export.Percent(r.Target),
			r.MeetsTarget, f.AsOf, fmt.Sprintf("%d（仅计已核实去向）", f.RuleVersion))
	}
	if err := row("总体", fmt.Sprintf("%d届", f.GraduationYear), f.Overall); err != nil {
		return err
	}
	for _, part := range []struct {
		dimension string
		groups    []Group
	}{{"学校", f.BySchool}, {"院系", f.ByDepartment}, {"学历层次", f.ByEducation}, {"困难类别", f.ByCategory}, {"毕业年份", byYear}} {
		for _, g := range part.groups {
			if err := row(part.dimension, g.Name, g.Rate); err != nil {
				return err
			}
		}
	}
	if !w.Multi() {
		return nil
	}
	if err := w.Sheet("专职人员配比", StaffingHeaders); err != nil {
		return err
	}
	for _, st := range f.Staffing {
		var staff, per any
		if st.Staff != nil {
			staff = *st.Staff
		} else {
			staff = "未填报"
		}
		if st.GraduatesPerStaff != nil {
			per = *st.GraduatesPerStaff
		}
		if err := w.Row(st.SchoolName, st.Year, staff, st.Graduates, st.Required, per, st.Meets, f.AsOf); err != nil {
			return err
		}
	}
	return nil
}

// ExportSummary is the summary f chooses (see Summary: the same scope and
// figures) as a file: its rates by every dimension, and in XLSX the
// staffing check. The export is audited with its filters.
func (s *Service) ExportSummary(ctx context.Context, a bangfu.Actor, f Filter, format export.Format) (*export.File, error) {
	sum, err := s.Summary(ctx, a, f)
	if err != nil {
		return nil, err
	}
	if err := s.auditExport(ctx, a, map[string]any{"summary": map[string]any{"graduation_year": sum.GraduationYear,
		"school_id": f.SchoolID, "as_of": sum.AsOf}, "format": format}); err != nil {
		return nil, err
	}
	name := fmt.Sprintf("去向落实率-%d届-截至%s", sum.GraduationYear, sum.AsOf)
	return &export.File{Format: format, Name: name, Write: func(w export.Writer) error {
		return writeFigures(w, sum.Figures, sum.ByYear)
	}}, nil
}

// ExportSnapshot is one snapshot (see Snapshot) as a file, like a summary.
func (s *Service) ExportSnapshot(ctx context.Context, a bangfu.Actor, id int64, format export.Format) (*export.File, error) {
	snap, err := s.Snapshot(ctx, a, id)
	if err != nil {
		return nil, err
	}
	if err := s.auditExport(ctx, a, map[string]any{"snapshot_id": id, "format": format}); err != nil {
		return nil, err
	}
	who := "全省"
	if snap.SchoolID != nil {
		who = snap.SchoolName
	}
	name := fmt.Sprintf("%s-%s-%s至%s", periodNames[snap.Period], who, snap.PeriodStart, snap.PeriodEnd)
	return &export.File{Format: format, Name: name, Write: func(w export.Writer) error {
		return writeFigures(w, snap.Figures.Figures, nil)
	}}, nil
}

// ExportSnapshots is every snapshot f chooses (see Snapshots), one row
// each, oldest first: the trend as a file.
func (s *Service) ExportSnapshots(ctx context.Context, a bangfu.Actor, f SnapshotFilter, format export.Format) (*export.File, error) {
	if f.Period == "" {
		f.Period = Weekly
	}
	first, err := s.Snapshots(ctx, a, f, bangfu.Page{Limit: bangfu.MaxPageLimit})
	if err != nil {
		return nil, err
	}
	if err := s.auditExport(ctx, a, map[string]any{"snapshots": map[string]any{"period": f.Period, "school_id": f.SchoolID,
		"from": f.From, "to": f.To}, "format": format}); err != nil {
		return nil, err
	}
	return &export.File{Format: format, Name: "去向落实率" + periodNames[f.Period], Write: func(w export.Writer) error {
		if err := w.Sheet(periodNames[f.Period], SnapshotHeaders); err != nil {
			return err
		}
		page := first
		for {
			for _, h := range page.Items {
				who := "全省"
				if h.SchoolID != nil {
					who = h.SchoolName
				}
				if err := w.Row(periodNames[h.Period], h.PeriodStart, h.PeriodEnd, who, h.GraduationYear, h.Overall.Graduates,
					h.Overall.Placed, h.Overall.Pending, export.Percent(h.Overall.Rate), export.Percent(h.Targets.Current),
					h.Overall.MeetsTarget, h.StaffingCheck.Below, h.StaffingCheck.NotRecorded, h.TakenAt, h.Late, h.RuleVersion); err != nil {
					return err
				}
			}
			if page.NextCursor == "" {
				return nil
			}
			after, _ := bangfu.DecodeCursor(page.NextCursor)
			if page, err = s.Snapshots(ctx, a, f, bangfu.Page{Limit: bangfu.MaxPageLimit, After: after}); err != nil {
				return err
			}
		}
	}}, nil
}

func (s *Service) auditExport(ctx context.Context, a bangfu.Actor, detail map[string]any) error {
	ev := audit.Event{Action: AuditExport, Detail: detail}
	if a.SchoolID != nil {
		ev.SchoolID = *a.SchoolID
	}
	return audit.Record(ctx, s.DB.Pool, a, s.Clock.Now(), ev)
}
