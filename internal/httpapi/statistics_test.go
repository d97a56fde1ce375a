package httpapi_test

import (
	"bytes"
	"encoding/csv"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"github.com/xuri/excelize/v2"

	"github.com/bangfu/bangfu"
	"github.com/bangfu/bangfu/internal/apptest"
	"github.com/bangfu/bangfu/internal/destination"
	"github.com/bangfu/bangfu/internal/directory"
	"github.com/bangfu/bangfu/internal/graduate"
	"github.com/bangfu/bangfu/internal/ledger"
	"github.com/bangfu/bangfu/internal/mask"
	"github.com/bangfu/bangfu/internal/plan"
	"github.com/bangfu/bangfu/internal/report"
)

const bom = "\xef\xbb\xbf"

// readCSV checks a CSV export's byte-order mark and returns its records.
func readCSV(t *testing.T, r *apptest.Response) [][]string {
	t.Helper()
	require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
	require.Equal(t, "text/csv; charset=utf-8", r.Header.Get("Content-Type"))
	require.Contains(t, r.Header.Get("Content-Disposition"), "attachment")
	require.True(t, bytes.HasPrefix(r.Body, []byte(bom)), "UTF-8 with a byte-order mark")
	recs, err := csv.NewReader(bytes.NewReader(bytes.TrimPrefix(r.Body, []byte(bom)))).ReadAll()
	require.NoError(t, err)
	return recs
}

// readXLSX opens an XLSX export with excelize.
func readXLSX(t *testing.T, r *apptest.Response) *excelize.File {
	t.Helper()
	require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
	require.Equal(t, "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", r.Header.Get("Content-Type"))
	f, err := excelize.OpenReader(bytes.NewReader(r.Body))
	require.NoError(t, err)
	t.Cleanup(func() { f.Close() })
	return f
}

func sheetRows(t *testing.T, f *excelize.File, sheet string) [][]string {
	t.Helper()
	rows, err := f.GetRows(sheet)
	require.NoError(t, err)
	return rows
}

// TestLedgerExport: the 帮扶台账 as schools file it, CSV (BOM) and XLSX
// (a second sheet of entries), with Chinese headers, formulas written as
// text, scoped like the records, every export audited with its filters.
func TestLedgerExport(t *testing.T) {
	t.Parallel()
	cl := newCaseload(t)
	env := cl.env
	ctx := t.Context()
	const evil = `=HYPERLINK("http://evil.example","点我")`
	dept := env.MustDepartment(t, cl.school.ID)
	mine := env.MustStudent(t, cl.counselor, graduate.Input{Name: evil, DepartmentID: &dept.ID})
	theirs := env.MustStudent(t, cl.colleague, graduate.Input{Name: "-陈", EducationLevel: "shuoshi"})
	elsewhere := env.MustStudent(t, env.MustUser(t, bangfu.RoleCounselor, &cl.other.ID), graduate.Input{Name: "外校生"})
	h, err := env.App.Graduates.AddHardship(ctx, cl.counselor.Actor(), mine.ID, graduate.HardshipInput{Category: "dibao", EvidenceType: "低保证", IssuingAuthority: "民政局"})
	require.NoError(t, err)
	_, err = env.App.Graduates.VerifyHardship(ctx, cl.supervisor.Actor(), mine.ID, h.ID, graduate.Verification{})
	require.NoError(t, err)
	_, err = env.App.Graduates.AddHardship(ctx, cl.colleague.Actor(), theirs.ID, graduate.HardshipInput{Category: "disabled", EvidenceType: "残疾人证", IssuingAuthority: "残联"})
	require.NoError(t, err)
	_, err = env.App.Plans.Put(ctx, cl.counselor.Actor(), mine.ID, nil, plan.Input{Goals: []string{"就业"}, CadenceDays: 7,
		Measures: []plan.MeasureInput{{Kind: "job_referral", Description: "推荐岗位", Owner: "王老师", Status: "in_progress"}}})
	require.NoError(t, err)
	for _, in := range []ledger.Input{
		{Kind: "contact", Channel: "phone", OccurredAt: env.Clock.Now().Add(-48 * time.Hour), Summary: "+86 电话联系，@家长"},
		{Kind: "referral", Channel: "job_fair", OccurredAt: env.Clock.Now().Add(-time.Hour), Summary: "推荐岗位",
			Referral: &ledger.Referral{Employer: "某公司", Position: "文员", Outcome: "=1+1"}},
	} {
		_, err := env.App.Ledger.Append(ctx, cl.counselor.Actor(), mine.ID, in)
		require.NoError(t, err)
	}
	_, err = env.App.Ledger.Append(ctx, cl.colleague.Actor(), theirs.ID, ledger.Input{Kind: "contact", Channel: "wechat", OccurredAt: env.Clock.Now(), Summary: "微信"})
	require.NoError(t, err)
	d, err := env.App.Destinations.Put(ctx, cl.counselor.Actor(), mine.ID, nil, destination.Input{Code: "80", ProofKind: "admission_notice", ProofRef: "LQ-1"})
	require.NoError(t, err)
	_, err = env.App.Destinations.Verify(ctx, cl.supervisor.Actor(), mine.ID, d.ID)
	require.NoError(t, err)
	_, err = env.App.Destinations.Put(ctx, cl.colleague.Actor(), theirs.ID, nil, destination.Input{Code: "76", ProofKind: "signed_statement", ProofRef: "承诺书"})
	require.NoError(t, err)
	_ = elsewhere
	export := func(u directory.User, query string) *apptest.Response {
		t.Helper()
		return env.Get(t, "/api/v1/ledger/export?"+query, cl.tok(t, u))
	}

	// CSV: the graduates, one row each, as the supervisor's school files them.
	recs := readCSV(t, export(cl.supervisor, "format=csv"))
	require.Equal(t, ledger.GraduateHeaders, recs[0])
	require.Len(t, recs, 3, "the school's two graduates")
	byName := map[string][]string{}
	for _, r := range recs[1:] {
		byName[r[2]] = r
		for _, cell := range r {
			if cell != "" {
				require.NotContains(t, "=+-@\t\r", cell[:1], "no cell starts a formula: %q", cell)
			}
		}
	}
	m := byName["'"+evil]
	require.NotNil(t, m, "the name is written as text: %v", byName)
	require.Equal(t, cl.school.Name, m[0])
	require.Equal(t, dept.Name, m[1])
	require.Contains(t, m[4], "*", "the ID number masked")
	require.Equal(t, "低保家庭", m[7])
	require.Equal(t, "岗位推荐（进行中）", m[9])
	require.Equal(t, []string{"1", "1"}, m[10:12], "a contact and a referral")
	require.Equal(t, []string{"80 升学", "已核实", "是"}, m[13:16])
	c := byName["'-陈"]
	require.Equal(t, "残疾（待审核）", c[7])
	require.Equal(t, []string{"76 自由职业", "已登记，待核实", "否"}, c[13:16], "recorded, not verified: not in the rate")

	// XLSX: the same and the entries, every cell text that stays text.
	f := readXLSX(t, export(cl.supervisor, "format=xlsx&graduation_year=2026"))
	require.Equal(t, []string{"帮扶台账", "台账记录"}, f.GetSheetList())
	rows := sheetRows(t, f, "帮扶台账")
	require.Equal(t, ledger.GraduateHeaders, rows[0])
	require.Len(t, rows, 3)
	entries := sheetRows(t, f, "台账记录")
	require.Equal(t, ledger.EntryHeaders, entries[0])
	require.Len(t, entries, 4, "three entries")
	var summaries, outcomes []string
	for i, r := range entries[1:] {
		summaries = append(summaries, r[8])
		outcomes = append(outcomes, r[14])
		cell := fmt.Sprintf("I%d", i+2)
		formula, err := f.GetCellFormula("台账记录", cell)
		require.NoError(t, err)
		require.Empty(t, formula)
		typ, err := f.GetCellType("台账记录", cell)
		require.NoError(t, err)
		require.Equal(t, excelize.CellTypeInlineString, typ)
	}
	require.Contains(t, summaries, "+86 电话联系，@家长", "shown as typed")
	require.Contains(t, outcomes, "=1+1")

	// The window: entries, and the counts, of the days chosen.
	today := bangfu.Today(env.Clock).String()
	f = readXLSX(t, export(cl.supervisor, "format=xlsx&from="+today+"&to="+today))
	require.Len(t, sheetRows(t, f, "台账记录"), 3, "the entries of today")
	for _, r := range sheetRows(t, f, "帮扶台账")[1:] {
		if r[2] == evil {
			require.Equal(t, []string{"0", "1"}, r[10:12], "the contact of two days ago is outside the window")
		}
	}

	// Scope: a counselor their caseload; another school nothing; a
	// department filter within the school.
	recs = readCSV(t, export(cl.counselor, "format=csv"))
	require.Len(t, recs, 2)
	require.Equal(t, "'"+evil, recs[1][2])
	require.Len(t, readCSV(t, export(cl.otherSupervisor, fmt.Sprintf("format=csv&school_id=%d", cl.school.ID))), 1, "another school's: headers only")
	require.Len(t, readCSV(t, export(cl.supervisor, fmt.Sprintf("format=csv&department_id=%d", dept.ID))), 2)

	// Province: every school, masked, no free text.
	f = readXLSX(t, export(cl.province, "format=xlsx"))
	rows = sheetRows(t, f, "帮扶台账")
	require.Len(t, rows, 4)
	for _, r := range rows[1:] {
		require.NotContains(t, []string{evil, "-陈", "外校生"}, r[2])
		require.Contains(t, r[2], "*")
	}
	for _, r := range sheetRows(t, f, "台账记录")[1:] {
		require.Equal(t, mask.Hidden, r[8], "no summary")
	}
	require.NotContains(t, string(export(cl.province, "format=csv").Body), "HYPERLINK")

	// Refused: an unknown or missing format, a student, an admin.
	r := export(cl.supervisor, "format=pdf")
	require.Equal(t, http.StatusBadRequest, r.Status)
	_, fields := r.Error(t)
	require.Equal(t, map[string]string{"format": "must be csv or xlsx"}, fields)
	r = export(cl.supervisor, "")
	require.Equal(t, http.StatusBadRequest, r.Status)
	require.Equal(t, http.StatusForbidden, export(cl.admin, "format=csv").Status)

	var n int
	require.NoError(t, env.App.DB.Pool.QueryRow(ctx, `SELECT count(*) FROM audit_log WHERE action = $1`, ledger.AuditExport).Scan(&n))
	require.Equal(t, 8, n, "every export is audited")
	var detail string
	require.NoError(t, env.App.DB.Pool.QueryRow(ctx, `SELECT detail::text FROM audit_log WHERE action = $1 AND actor_id = $2 AND detail->>'format' = 'xlsx'
		AND detail->>'graduation_year' = '2026'`, ledger.AuditExport, cl.supervisor.ID).Scan(&detail))
	require.Contains(t, detail, `"school_id": null`)
	var school int64
	require.NoError(t, env.App.DB.Pool.QueryRow(ctx, `SELECT school_id FROM audit_log WHERE action = $1 AND actor_id = $2 LIMIT 1`,
		ledger.AuditExport, cl.otherSupervisor.ID).Scan(&school))
	require.Equal(t, cl.other.ID, school)
}

// TestSummaryAndSnapshotExports: the summary and the snapshots export like
// the ledger, their labels saying that only verified destinations count.
func TestSummaryAndSnapshotExports(t *testing.T) {
	t.Parallel()
	cl := newCaseload(t)
	env := cl.env
	ctx := t.Context()
	st := env.MustStudent(t, cl.counselor)
	env.MustStudent(t, cl.counselor, graduate.Input{EducationLevel: "boshi"})
	_, err := env.App.Destinations.Put(ctx, cl.counselor.Actor(), st.ID, nil, destination.Input{Code: "80", ProofKind: "admission_notice", ProofRef: "LQ-1"})
	require.NoError(t, err)

	recs := readCSV(t, env.Get(t, "/api/v1/reports/summary?format=csv", cl.tok(t, cl.supervisor)))
	require.Equal(t, report.FigureHeaders, recs[0])
	require.Contains(t, recs[0][4], "待核实")
	require.Contains(t, recs[0][4], "不计入落实率")
	require.Equal(t, []string{"总体", "2026届", "2", "0", "1"}, recs[1][:5], "the unverified 80 waits apart")
	var dims []string
	for _, r := range recs[1:] {
		dims = append(dims, r[0])
	}
	require.Subset(t, dims, []string{"学校", "院系", "学历层次", "毕业年份"})
	f := readXLSX(t, env.Get(t, "/api/v1/reports/summary?format=xlsx&as_of=2026-05-31", cl.tok(t, cl.supervisor)))
	require.Equal(t, []string{"去向落实率", "专职人员配比"}, f.GetSheetList())
	require.Equal(t, report.StaffingHeaders, sheetRows(t, f, "专职人员配比")[0])
	require.Equal(t, "0", sheetRows(t, f, "去向落实率")[1][2], "no file existed on 31 May")

	env.Clock.Set(time.Date(2026, 6, 8, 0, 30, 0, 0, bangfu.Shanghai))
	_, err = env.App.Reports.Take(ctx, report.Weekly, bangfu.NewDate(2026, time.June, 1))
	require.NoError(t, err)
	var list struct {
		Items []report.SnapshotHead `json:"items"`
	}
	r := env.Get(t, "/api/v1/reports/snapshots", cl.tok(t, cl.supervisor))
	require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
	r.JSON(t, &list)
	require.Len(t, list.Items, 1)
	id := list.Items[0].ID
	require.Equal(t, cl.school.ID, *list.Items[0].SchoolID)
	r = env.Get(t, fmt.Sprintf("/api/v1/reports/snapshots/%d", id), cl.tok(t, cl.supervisor))
	require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
	require.Equal(t, http.StatusNotFound, env.Get(t, fmt.Sprintf("/api/v1/reports/snapshots/%d", id), cl.tok(t, cl.otherSupervisor)).Status)
	require.Equal(t, http.StatusNotFound, env.Get(t, fmt.Sprintf("/api/v1/reports/snapshots?school_id=%d", cl.school.ID), cl.tok(t, cl.otherSupervisor)).Status)
	require.Equal(t, http.StatusForbidden, env.Get(t, "/api/v1/reports/snapshots", cl.tok(t, cl.counselor)).Status)
	r = env.Get(t, "/api/v1/reports/snapshots?period=yearly&from=someday", cl.tok(t, cl.province))
	require.Equal(t, http.StatusBadRequest, r.Status)
	_, fields := r.Error(t)
	require.Equal(t, map[string]string{"from": "must be a date like 2026-07-31"}, fields)

	recs = readCSV(t, env.Get(t, fmt.Sprintf("/api/v1/reports/snapshots?format=csv&school_id=%d", cl.school.ID), cl.tok(t, cl.province)))
	require.Equal(t, report.SnapshotHeaders, recs[0])
	require.Equal(t, []string{"周报", "2026-06-01", "2026-06-07", cl.school.Name}, recs[1][:4])
	f = readXLSX(t, env.Get(t, fmt.Sprintf("/api/v1/reports/snapshots/%d?format=xlsx", id), cl.tok(t, cl.supervisor)))
	require.Equal(t, report.FigureHeaders, sheetRows(t, f, "去向落实率")[0])
	r = env.Get(t, "/api/v1/reports/snapshots?format=csv&limit=5", cl.tok(t, cl.province))
	require.Equal(t, http.StatusBadRequest, r.Status)

	var n int
	require.NoError(t, env.App.DB.Pool.QueryRow(ctx, `SELECT count(*) FROM audit_log WHERE action = $1`, report.AuditExport).Scan(&n))
	require.Equal(t, 4, n, "every export is audited")
}

// TestStaffingRecords: the school's supervisor or an admin records the
// staff of a year, a change based on the version read.
func TestStaffingRecords(t *testing.T) {
	t.Parallel()
	cl := newCaseload(t)
	env := cl.env
	path := fmt.Sprintf("/api/v1/schools/%d/staffing/2026", cl.school.ID)
	put := func(u directory.User, body any, ifMatch string) *apptest.Response {
		t.Helper()
		call := apptest.Call{Method: http.MethodPut, Path: path, Token: cl.tok(t, u), Body: body}
		if ifMatch != "" {
			call.Header = map[string]string{"If-Match": ifMatch}
		}
		return env.Do(t, call)
	}
	r := put(cl.supervisor, map[string]int{"staff": 2}, "")
	require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
	require.Equal(t, 1, r.ETagVersion(t))
	require.Equal(t, http.StatusPreconditionRequired, put(cl.supervisor, map[string]int{"staff": 3}, "").Status)
	require.Equal(t, http.StatusPreconditionFailed, put(cl.admin, map[string]int{"staff": 3}, `"9"`).Status)
	r = put(cl.admin, map[string]int{"staff": 3}, `"1"`)
	require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
	require.Equal(t, 2, r.ETagVersion(t))
	r = put(cl.supervisor, map[string]any{"staff": -1}, `"2"`)
	require.Equal(t, http.StatusBadRequest, r.Status)
	_, fields := r.Error(t)
	require.Equal(t, map[string]string{"staff": "must be a whole number from 0 to 100000"}, fields)
	require.Equal(t, http.StatusNotFound, put(cl.otherSupervisor, map[string]int{"staff": 1}, `"2"`).Status)
	require.Equal(t, http.StatusForbidden, put(cl.province, map[string]int{"staff": 1}, `"2"`).Status)

	r = env.Get(t, path, cl.tok(t, cl.province))
	require.Equal(t, http.StatusOK, r.Status)
	require.Equal(t, 2, r.ETagVersion(t))
	require.Equal(t, http.StatusNotFound, env.Get(t, path, cl.tok(t, cl.otherSupervisor)).Status)
	require.Equal(t, http.StatusNotFound, env.Get(t, strings.Replace(path, "2026", "2025", 1), cl.tok(t, cl.province)).Status)

	var l report.StaffingList
	r = env.Get(t, "/api/v1/reports/staffing?year=2026", cl.tok(t, cl.admin))
	require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
	r.JSON(t, &l)
	require.Len(t, l.Items, 2, "every school")
	require.Equal(t, report.StaffingCheck{Schools: 2, NotRecorded: 1}, l.Check)
	r = env.Get(t, "/api/v1/reports/staffing", cl.tok(t, cl.otherSupervisor))
	require.Equal(t, http.StatusOK, r.Status)
	r.JSON(t, &l)
	require.Len(t, l.Items, 1)
	require.Equal(t, cl.other.ID, l.Items[0].SchoolID)
}
