package ledger

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/bangfu/bangfu"
	"github.com/bangfu/bangfu/internal/audit"
	"github.com/bangfu/bangfu/internal/export"
	"github.com/bangfu/bangfu/internal/graduate"
	"github.com/bangfu/bangfu/internal/mask"
	"github.com/bangfu/bangfu/internal/policy"
	"github.com/bangfu/bangfu/internal/postgres"
)

// AuditExport is the audit action of a ledger export.
const AuditExport = "ledger.export"

// Columns of the ledger export: one row per graduate (帮扶台账) and, in
// XLSX, one row per ledger entry on a second sheet.
var (
	GraduateHeaders = []string{"学校", "院系", "姓名", "学号", "身份证号（脱敏）", "学历层次", "毕业年份", "困难类别",
		"帮扶责任人", "帮扶措施", "联系次数", "岗位推荐次数", "最近联系", "毕业去向", "去向状态", "计入去向落实率", "帮扶状态"}
	EntryHeaders = []string{"学校", "院系", "姓名", "学号", "序号", "发生时间", "类型", "方式", "内容摘要", "下一步",
		"下次跟进日期", "可见范围", "推荐单位", "推荐岗位", "推荐结果", "更正第几条", "更正原因", "记录人", "记录人角色", "记录时间"}
)

// ExportFilter chooses the graduates of a ledger export, always within
// the actor's scope (a filter never widens it): a school, a department, a
// graduation year (0: every year); From and To (inclusive days) choose
// the entries, and the counts of contacts and referrals are then those of
// that window.
type ExportFilter struct {
	SchoolID       *int64
	DepartmentID   *int64
	GraduationYear int
	From, To       *bangfu.Date
}

// Export is the 帮扶台账 of the graduates a may see that f chooses, as
// schools file it: one row per graduate — school, department, name,
// student number, ID number (masked), hardship categories, counselor, the
// current plan's measures, contacts, referrals, last contact, destination
// and its status — and, in XLSX, every ledger entry on a second sheet.
// Scoped exactly like the records: a counselor their caseload, a
// supervisor their school or department, province staff every school with
// names and numbers masked and no free text. The export is audited with
// its filters before anything is written.
//
// The file streams: rows are read from one statement per sheet inside a
// read-only, repeatable-read transaction (both sheets see the same
// moment) and written as they come, so memory does not grow with its size.
func (s *Service) Export(ctx context.Context, a bangfu.Actor, f ExportFilter, format export.Format) (*export.File, error) {
	var p bangfu.Problems
	if f.GraduationYear != 0 && (f.GraduationYear < 2000 || f.GraduationYear > 2100) {
		p.Add("graduation_year", "must be a year like 2026")
	}
	if f.From != nil && f.To != nil && f.To.Before(*f.From) {
		p.Add("to", "must not be before from")
	}
	if err := p.Err(); err != nil {
		return nil, err
	}
	switch a.Role {
	case bangfu.RoleCounselor, bangfu.RoleSupervisor, bangfu.RoleProvince:
	default:
		return nil, bangfu.Errorf(bangfu.EFORBIDDEN, "The ledger is exported by counselors, supervisors and province staff.")
	}
	now := s.Clock.Now()
	ev := audit.Event{Action: AuditExport, Detail: map[string]any{"school_id": f.SchoolID, "department_id": f.DepartmentID,
		"graduation_year": f.GraduationYear, "from": f.From, "to": f.To, "format": format}}
	if a.SchoolID != nil {
		ev.SchoolID = *a.SchoolID
	}
	if err := audit.Record(ctx, s.DB.Pool, a, now, ev); err != nil {
		return nil, err
	}
	name := "帮扶台账"
	if f.GraduationYear != 0 {
		name += fmt.Sprintf("-%d届", f.GraduationYear)
	}
	name += "-" + bangfu.DateOf(now).String()
	x := exporter{a: a, f: f, today: bangfu.DateOf(now)}
	return &export.File{Format: format, Name: name, Write: func(w export.Writer) error {
		tx, err := s.DB.Read(ctx).BeginTx(ctx, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly})
		if err != nil {
			return err
		}
		defer tx.Rollback(context.WithoutCancel(ctx))
		if err := x.graduates(ctx, tx, w); err != nil {
			return err
		}
		if w.Multi() {
			return x.entries(ctx, tx, w)
		}
		return nil
	}}, nil
}

type exporter struct {
	a     bangfu.Actor
	f     ExportFilter
	today bangfu.Date
}

// where is the graduates the export holds, on s.
func (x exporter) where(args ...any) *postgres.Where {
	w := &postgres.Where{Args: args}
	graduate.AddScope(w, x.a)
	if x.f.SchoolID != nil {
		w.Add("s.school_id = ?", *x.f.SchoolID)
	}
	if x.f.DepartmentID != nil {
		w.Add("s.department_id = ?", *x.f.DepartmentID)
	}
	if x.f.GraduationYear != 0 {
		w.Add("s.graduation_year = ?", x.f.GraduationYear)
	}
	return w
}

// window is the condition on l.occurred_at of the entries in the window,
// appended to w.
func (x exporter) window(w *postgres.Where) string {
	var conds []string
	if x.f.From != nil {
		w.Args = append(w.Args, x.f.From.At(0, 0))
		conds = append(conds, fmt.Sprintf("l.occurred_at >= $%d", len(w.Args)))
	}
	if x.f.To != nil {
		w.Args = append(w.Args, x.f.To.AddDays(1).At(0, 0))
		conds = append(conds, fmt.Sprintf("l.occurred_at < $%d", len(w.Args)))
	}
	if len(conds) == 0 {
		return "true"
	}
	return strings.Join(conds, " AND ")
}

// graduateOrder lists graduates as a school files them: by school, then
// department, then student number.
const graduateOrder = `ORDER BY s.school_id, s.department_id NULLS FIRST, s.student_number`

// graduates writes the sheet of graduates. Its statement runs before the
// sheet starts, so that a failing one is an error response, not a cut file.
func (x exporter) graduates(ctx context.Context, tx pgx.Tx, w export.Writer) error {
	q := x.where(x.today.Time()) // $1: today, for the hardships that count
	cond := q.String()
	counts := `ca.contacts_count, ca.referrals_count, ca.last_contact_at`
	from := ` JOIN case_activity ca ON ca.student_id = s.id`
	if x.f.From != nil || x.f.To != nil {
		win := x.window(q)
		from = ` LEFT JOIN LATERAL (SELECT count(*) FILTER (WHERE l.kind = 'contact') AS contacts,
				count(*) FILTER (WHERE l.kind = 'referral') AS referrals, max(l.occurred_at) FILTER (WHERE l.kind = 'contact') AS last_contact
			FROM ledger_entries l WHERE l.student_id = s.id AND ` + win + `) c ON true`
		counts = `c.contacts, c.referrals, c.last_contact`
	}
	rows, err := tx.Query(ctx, `SELECT sc.name, coalesce(dp.name, ''), s.name, s.student_number, s.id_number_masked, s.education_level,
			s.graduation_year,
			ARRAY(SELECT h.category || ':' || CASE WHEN h.status = 'verified' AND (h.valid_until IS NULL OR h.valid_until >= $1::date) THEN 'counts'
			                                      WHEN h.status = 'rejected' THEN 'rejected'
			                                      WHEN h.valid_until < $1::date THEN 'expired' ELSE 'unverified' END
			      FROM hardships h WHERE h.student_id = s.id ORDER BY h.id),
			coalesce(u.display_name, ''),
			ARRAY(SELECT m.kind || ':' || m.status FROM plan_measures m
			      WHERE m.student_id = s.id AND m.revision = s.plan_revision ORDER BY m.position),
			`+counts+`, s.destination_code, d.status, s.status
		FROM students s
		JOIN schools sc ON sc.id = s.school_id
		LEFT JOIN departments dp ON dp.id = s.department_id
		LEFT JOIN users u ON u.id = s.counselor_id
		LEFT JOIN destinations d ON d.id = s.destination_id`+from+`
		WHERE `+cond+` `+graduateOrder, q.Args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	if err := w.Sheet("帮扶台账", GraduateHeaders); err != nil {
		return err
	}
	masked := policy.Masked(x.a)
	var (
		school, dept, name, number, idMasked, level, counselor, caseStatus string
		year, contacts, referrals                                          int
		hardships, measures                                                []string
		last                                                               *time.Time
		code, destStatus                                                   *string
	)
	for rows.Next() {
		if err := rows.Scan(&school, &dept, &name, &number, &idMasked, &level, &year, &hardships, &counselor, &measures,
			&contacts, &referrals, &last, &code, &destStatus, &caseStatus); err != nil {
			return err
		}
		if masked {
			name, number, counselor = mask.Name(name), mask.Tail(number, 3), mask.Name(counselor)
		}
		destination, status, counted := "", "", false
		if code != nil {
			destination = *code + " " + export.Name("dest", *code)
			status = export.Name("dest_status", *destStatus)
			counted = *destStatus == "verified" && !unplacedCode(*code)
		}
		if err := w.Row(school, dept, name, number, idMasked, export.Name("edu", level), year, hardshipText(hardships), counselor,
			measureText(measures), contacts, referrals, last, destination, status, counted, export.Name("status", caseStatus)); err != nil {
			return err
		}
	}
	return rows.Err()
}

func unplacedCode(code string) bool { return code == "70" || code == "71" || code == "72" }

// hardshipText names the categories ("category:state"), saying which do
// not count: 待审核 (not verified yet), 已过期 (evidence expired).
// Rejected evidence is left out.
func hardshipText(hs []string) string {
	var parts []string
	for _, h := range hs {
		category, state, _ := strings.Cut(h, ":")
		n := export.Name("category", category)
		switch state {
		case "rejected":
			continue
		case "unverified":
			n += "（待审核）"
		case "expired":
			n += "（已过期）"
		}
		parts = append(parts, n)
	}
	return strings.Join(parts, "；")
}

// measureText names the current plan's measures with their status
// ("kind:status").
func measureText(ms []string) string {
	parts := make([]string, 0, len(ms))
	for _, m := range ms {
		kind, status, _ := strings.Cut(m, ":")
		parts = append(parts, export.Name("measure", kind)+"（"+export.Name("measure_status", status)+"）")
	}
	return strings.Join(parts, "；")
}

func (x exporter) entries(ctx context.Context, tx pgx.Tx, w export.Writer) error {
	q := x.where()
	cond := q.String()
	win := x.window(q)
	rows, err := tx.Query(ctx, `SELECT sc.name, coalesce(dp.name, ''), s.name, s.student_number, l.seq, l.occurred_at, l.kind, l.channel,
			l.summary, l.next_step, l.next_followup_on, l.visibility, coalesce(l.referral->>'employer', ''), coalesce(l.referral->>'position', ''),
			coalesce(l.referral->>'outcome', ''), l.corrects_seq, l.correction_reason, coalesce(u.display_name, ''), coalesce(u.role, ''),
			l.recorded_at
		FROM students s
		JOIN ledger_entries l ON l.student_id = s.id
		JOIN schools sc ON sc.id = s.school_id
		LEFT JOIN departments dp ON dp.id = s.department_id
		LEFT JOIN users u ON u.id = l.author_id
		WHERE `+cond+` AND `+win+` `+graduateOrder+`, l.seq`, q.Args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	if err := w.Sheet("台账记录", EntryHeaders); err != nil {
		return err
	}
	masked := policy.Masked(x.a)
	var (
		school, dept, name, number, kind, channel, summary, next, visibility string
		employer, position, outcome, reason, author, role                    string
		seq                                                                  int
		occurred, recorded                                                   time.Time
		due                                                                  *time.Time
		corrects                                                             *int
	)
	for rows.Next() {
		if err := rows.Scan(&school, &dept, &name, &number, &seq, &occurred, &kind, &channel, &summary, &next, &due, &visibility,
			&employer, &position, &outcome, &corrects, &reason, &author, &role, &recorded); err != nil {
			return err
		}
		if masked {
			// As in the ledger's own view (Entry.maskFor): metadata, no
			// free text, no names.
			name, number, author = mask.Name(name), mask.Tail(number, 3), mask.Name(author)
			summary, next, outcome, reason = mask.Text(summary), mask.Text(next), mask.Text(outcome), mask.Text(reason)
		}
		var correctsCell any
		if corrects != nil {
			correctsCell = *corrects
		}
		channelName := ""
		if channel != "" {
			channelName = export.Name("channel", channel)
		}
		if err := w.Row(school, dept, name, number, seq, occurred, export.Name("ledger.kind", kind), channelName, summary, next,
			bangfu.DatePtr(due), export.Name("visibility", visibility), employer, position, outcome, correctsCell, reason, author,
			export.Name("role", role), recorded); err != nil {
			return err
		}
	}
	return rows.Err()
}
