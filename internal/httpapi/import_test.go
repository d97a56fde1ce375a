package httpapi_test

import (
	"bytes"
	"context"
	"fmt"
	"mime/multipart"
	"net/http"
	"runtime/metrics"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"
	"github.com/xuri/excelize/v2"
	"golang.org/x/text/encoding/simplifiedchinese"

	"github.com/bangfu/bangfu"
	"github.com/bangfu/bangfu/internal/apptest"
	"github.com/bangfu/bangfu/internal/graduate"
	"github.com/bangfu/bangfu/internal/sheet/sheettest"
)

type importReport struct {
	DryRun    bool `json:"dry_run"`
	Rows      int  `json:"rows"`
	Created   int  `json:"created"`
	Updated   int  `json:"updated"`
	Unchanged int  `json:"unchanged"`
	Problems  []struct {
		Row     int    `json:"row"`
		Column  string `json:"column"`
		Problem string `json:"problem"`
	} `json:"problems"`
}

func csvFile(env *apptest.Env, n int, mutate func(i int, row []string) []string) string {
	var b strings.Builder
	b.WriteString("student_number,name,id_number,education_level,graduation_year,major,phone,consent\n")
	for i := range n {
		row := []string{fmt.Sprintf("S%05d", i), fmt.Sprintf("学生%d", i), env.IDNumber(), "本科", "2026", "会计", "13800000000", "是"}
		if mutate != nil {
			row = mutate(i, row)
		}
		b.WriteString(strings.Join(row, ",") + "\n")
	}
	return b.String()
}

func importCall(env *apptest.Env, token, query, contentType string, body []byte) apptest.Call {
	return apptest.Call{Method: http.MethodPost, Path: "/api/v1/students/import" + query, Token: token, Body: body, ContentType: contentType}
}

func countStudents(t *testing.T, env *apptest.Env) int {
	var n int
	require.NoError(t, env.App.DB.Pool.QueryRow(t.Context(), `SELECT count(*) FROM students`).Scan(&n))
	return n
}

func TestImportDryRunReportsEveryProblem(t *testing.T) {
	t.Parallel()
	cl := newCaseload(t)
	env := cl.env
	file := csvFile(env, 4, func(i int, row []string) []string {
		switch i {
		case 1:
			row[2] = "110105194912310021"
		case 2:
			row[3], row[4] = "大专生", "1999"
		case 3:
			row[0] = "S00000"
		}
		return row
	})
	r := env.Do(t, importCall(env, cl.tok(t, cl.supervisor), "?dry_run=true", "text/csv", []byte(file)))
	require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
	var rep importReport
	r.JSON(t, &rep)
	require.True(t, rep.DryRun)
	require.Equal(t, 4, rep.Rows)
	require.Equal(t, 4, rep.Created)
	type p struct {
		Row             int
		Column, Problem string
	}
	var got []p
	for _, pr := range rep.Problems {
		got = append(got, p{pr.Row, pr.Column, pr.Problem})
	}
	require.Equal(t, []p{
		{3, "id_number", "has a wrong check digit"},
		{4, "education_level", "must be one of zhongzhi, zhuanke, benke, shuoshi, boshi"},
		{4, "graduation_year", "must be a year from 2021 to 2031"},
		{5, "student_number", "repeats row 2"},
	}, got)
	require.Zero(t, countStudents(t, env), "a dry run writes nothing")
}

func TestImportIsAllOrNothingAndIdempotent(t *testing.T) {
	t.Parallel()
	cl := newCaseload(t)
	env := cl.env
	tok := cl.tok(t, cl.supervisor)
	rows := csvFile(env, 1000, nil)
	badLines := strings.Split(rows, "\n")
	badLines[700] = strings.Replace(badLines[700], "本科", "博士后", 1) // file line 701
	r := env.Do(t, importCall(env, tok, "", "text/csv", []byte(strings.Join(badLines, "\n"))))
	require.Equal(t, http.StatusBadRequest, r.Status, "%s", r.Body)
	_, fields := r.Error(t)
	require.Equal(t, "must be one of zhongzhi, zhuanke, benke, shuoshi, boshi", fields["rows.701.education_level"])
	require.Zero(t, countStudents(t, env), "one bad row in 1,000 writes nothing")

	r = env.Do(t, importCall(env, tok, "", "text/csv", []byte(rows)))
	require.Equal(t, http.StatusCreated, r.Status, "%s", r.Body)
	var rep importReport
	r.JSON(t, &rep)
	require.Equal(t, 1000, rep.Created)
	require.Equal(t, 1000, countStudents(t, env))

	r = env.Do(t, importCall(env, tok, "", "text/csv", []byte(rows)))
	require.Equal(t, http.StatusCreated, r.Status)
	r.JSON(t, &rep)
	require.Equal(t, importReport{Rows: 1000, Unchanged: 1000, Problems: rep.Problems}, rep, "importing the same file twice changes nothing")

	changed := strings.Replace(rows, "学生5,", "学生五,", 1)
	r = env.Do(t, importCall(env, tok, "", "text/csv", []byte(changed)))
	r.JSON(t, &rep)
	require.Equal(t, 1, rep.Updated)
	require.Equal(t, 999, rep.Unchanged)
	var name string
	require.NoError(t, env.App.DB.Pool.QueryRow(t.Context(), `SELECT name FROM students WHERE student_number = 'S00005'`).Scan(&name))
	require.Equal(t, "学生五", name)
}

func TestImportFormats(t *testing.T) {
	t.Parallel()
	cl := newCaseload(t)
	env := cl.env
	tok := cl.tok(t, cl.counselor)

	// Chinese headers, GB18030 as Excel in China saves CSV.
	gbk := "学号,姓名,身份证号,学历,毕业年份,辅导员账号\nG1,陈晓,%s,专科,2026,%s\n"
	encoded, err := simplifiedchinese.GB18030.NewEncoder().String(fmt.Sprintf(gbk, env.IDNumber(), cl.counselor.Username))
	require.NoError(t, err)
	r := env.Do(t, importCall(env, tok, "", "text/csv", []byte(encoded)))
	require.Equal(t, http.StatusCreated, r.Status, "%s", r.Body)
	var name string
	var counselor int64
	require.NoError(t, env.App.DB.Pool.QueryRow(t.Context(), `SELECT name, counselor_id FROM students WHERE student_number = 'G1'`).Scan(&name, &counselor))
	require.Equal(t, "陈晓", name)
	require.Equal(t, cl.counselor.ID, counselor)

	// XLSX, uploaded as a browser form would.
	x := excelize.NewFile()
	for i, row := range [][]any{
		{"student_number", "name", "id_number", "education_level", "graduation_year"},
		{"X1", "林一", env.IDNumber(), "benke", 2026},
		{"X2", "林二", env.IDNumber(), "shuoshi", 2027},
	} {
		require.NoError(t, x.SetSheetRow("Sheet1", fmt.Sprintf("A%d", i+1), &row))
	}
	var xb bytes.Buffer
	require.NoError(t, x.Write(&xb))
	var form bytes.Buffer
	mw := multipart.NewWriter(&form)
	fw, err := mw.CreateFormFile("file", "毕业生名单.xlsx")
	require.NoError(t, err)
	_, err = fw.Write(xb.Bytes())
	require.NoError(t, err)
	require.NoError(t, mw.Close())
	r = env.Do(t, importCall(env, tok, "", mw.FormDataContentType(), form.Bytes()))
	require.Equal(t, http.StatusCreated, r.Status, "%s", r.Body)
	var rep importReport
	r.JSON(t, &rep)
	require.Equal(t, 2, rep.Created)

	r = env.Do(t, importCall(env, tok, "", "text/csv", []byte("student_number,nickname\n1,x\n")))
	require.Equal(t, http.StatusBadRequest, r.Status)
	_, fields := r.Error(t)
	require.Equal(t, "is not a known column (see docs/import.md)", fields["header.nickname"])
	require.Equal(t, "is a required column that is missing", fields["header.id_number"])

	r = env.Do(t, importCall(env, tok, "", "application/pdf", []byte("%PDF")))
	require.Equal(t, http.StatusBadRequest, r.Status)

	big := bytes.Repeat([]byte("x"), 5<<20+1)
	r = env.Do(t, importCall(env, tok, "", "text/csv", big))
	require.Equal(t, http.StatusRequestEntityTooLarge, r.Status, "%s", r.Body)

	// A counselor cannot assign imported graduates to a colleague.
	r = env.Do(t, importCall(env, tok, "?dry_run=true", "text/csv",
		[]byte(fmt.Sprintf("student_number,name,id_number,education_level,graduation_year,counselor\nC1,x,%s,benke,2026,%s\n", env.IDNumber(), cl.colleague.Username))))
	r.JSON(t, &rep)
	require.Len(t, rep.Problems, 1)
	require.Equal(t, "counselor", rep.Problems[0].Column)
}

// importHeader is every column an import file may have.
var importHeader = []string{"student_number", "name", "id_number", "education_level", "graduation_year", "department", "major",
	"phone", "email", "intention_industry", "intention_region", "intention_job_type", "counselor", "consent"}

// TestImportOfAHugeSheetIsCutShort replays the file that once took the
// server from 148 MB to 1.06 GB for 71 s: an XLSX of 1,000,000 rows × 20
// cells in 1.3 MB. It is not parallel: it measures the memory of the whole
// test process, which other tests would add to.
func TestImportOfAHugeSheetIsCutShort(t *testing.T) {
	cl := newCaseload(t)
	env := cl.env
	tok := cl.tok(t, cl.supervisor)
	row := make([]any, 20)
	for i := range row {
		row[i] = i + 1
	}
	for _, tc := range []struct {
		rows    int
		problem string
	}{
		// Refused from the zip directory: it unpacks to 341 MB.
		{1_000_000, "unpacks to more than 32 MB, far more than 10000 rows need; import at most 10000 rows at a time"},
		// Within the unpacking limit (20 MB): streamed, and cut at row 10,002.
		{60_000, "has more than 10000 rows; import at most 10000 rows at a time"},
	} {
		start := time.Now()
		file := sheettest.RepeatedRows(t, importHeader, row, tc.rows)
		t.Logf("%d rows × 20 cells: %d bytes, built in %v", tc.rows, len(file), time.Since(start))

		var r *apptest.Response
		start = time.Now()
		peak := peakMemory(t, func() {
			r = env.Do(t, importCall(env, tok, "?dry_run=true", xlsxType, file))
		})
		took := time.Since(start)
		t.Logf("%d rows: answered %d in %v; process memory peaked at %d MB", tc.rows, r.Status, took, peak>>20)
		require.Equal(t, http.StatusBadRequest, r.Status, "%s", r.Body)
		_, fields := r.Error(t)
		require.Equal(t, map[string]string{"file": tc.problem}, fields)
		require.Less(t, took, env.App.Config.RequestTimeout, "answered within the request timeout")
		require.Less(t, peak, uint64(300<<20), "the process stays under 300 MB")
	}
}

const xlsxType = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

// peakMemory runs f and returns the most memory the Go runtime held from
// the operating system meanwhile (mapped and not released), sampled every
// few milliseconds.
func peakMemory(t *testing.T, f func()) uint64 {
	t.Helper()
	samples := []metrics.Sample{{Name: "/memory/classes/total:bytes"}, {Name: "/memory/classes/heap/released:bytes"}}
	held := func() uint64 {
		metrics.Read(samples)
		return samples[0].Value.Uint64() - samples[1].Value.Uint64()
	}
	var peak atomic.Uint64
	peak.Store(held())
	stop, stopped := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(stopped)
		tick := time.NewTicker(2 * time.Millisecond)
		defer tick.Stop()
		for {
			if m := held(); m > peak.Load() {
				peak.Store(m)
			}
			select {
			case <-stop:
				return
			case <-tick.C:
			}
		}
	}()
	f()
	close(stop)
	<-stopped
	if m := held(); m > peak.Load() {
		peak.Store(m)
	}
	return peak.Load()
}

func TestImportsWaitForASlot(t *testing.T) {
	t.Parallel()
	cl := newCaseload(t)
	env := cl.env
	tok := cl.tok(t, cl.supervisor)
	file := []byte(csvFile(env, 2, nil))
	gate := env.App.Graduates.Imports
	var held []func()
	for range graduate.ImportSlots {
		release, err := gate.Acquire(t.Context())
		require.NoError(t, err)
		held = append(held, release)
	}
	start := time.Now()
	r := env.Do(t, importCall(env, tok, "?dry_run=true", "text/csv", file))
	require.Equal(t, http.StatusTooManyRequests, r.Status, "%s", r.Body)
	require.Equal(t, "5", r.Header.Get("Retry-After"))
	require.GreaterOrEqual(t, time.Since(start), graduate.ImportWait, "it waited for a slot first")
	code, _ := r.Error(t)
	require.Equal(t, "too_many_requests", code)
	cancelled, cancel := context.WithCancel(t.Context())
	cancel()
	_, err := gate.Acquire(cancelled)
	require.ErrorIs(t, err, context.Canceled, "a request that ends stops waiting")

	held[0]()
	r = env.Do(t, importCall(env, tok, "?dry_run=true", "text/csv", file))
	require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
	r = env.Do(t, importCall(env, tok, "?dry_run=true", "text/csv", file))
	require.Equal(t, http.StatusOK, r.Status, "a slot comes back when an import ends: %s", r.Body)
	held[1]()
}

// TestImportNamesNoOtherGraduate: a dry run answers whether the school has
// an ID number on file; it must say no more, the same whoever's it is, and
// leave a trace.
func TestImportNamesNoOtherGraduate(t *testing.T) {
	t.Parallel()
	cl := newCaseload(t)
	env := cl.env
	mine := env.MustStudent(t, cl.counselor)
	colleagues := env.MustStudent(t, cl.colleague)
	elsewhere := env.MustStudent(t, cl.otherSupervisor)
	idOf := func(st graduate.Student) string {
		var sealed []byte
		require.NoError(t, env.App.DB.Pool.QueryRow(t.Context(), `SELECT id_number_sealed FROM students WHERE id = $1`, st.ID).Scan(&sealed))
		id, err := env.App.Box.Open(graduate.FieldIDNumber, sealed)
		require.NoError(t, err)
		return id
	}
	file := "student_number,name,id_number,education_level,graduation_year\n" +
		fmt.Sprintf("N1,新一,%s,benke,2026\n", idOf(mine)) +
		fmt.Sprintf("N2,新二,%s,benke,2026\n", idOf(colleagues)) +
		fmt.Sprintf("N3,新三,%s,benke,2026\n", idOf(elsewhere))
	tok := cl.tok(t, cl.counselor)
	r := env.Do(t, importCall(env, tok, "?dry_run=true", "text/csv", []byte(file)))
	require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
	var rep importReport
	r.JSON(t, &rep)
	type p struct {
		Row             int
		Column, Problem string
	}
	var got []p
	for _, pr := range rep.Problems {
		got = append(got, p{pr.Row, pr.Column, pr.Problem})
	}
	require.Equal(t, []p{
		{2, "id_number", "is already on file in this school"},
		{3, "id_number", "is already on file in this school"},
	}, got, "one answer whether the actor may see the file that has the number or not; another school's files do not count")
	for _, st := range []graduate.Student{mine, colleagues} {
		for _, s := range []string{st.Name, st.StudentNumber} {
			require.NotContains(t, string(r.Body), s, "the report names no graduate")
		}
	}

	r = env.Do(t, importCall(env, tok, "", "text/csv", []byte(file)))
	require.Equal(t, http.StatusBadRequest, r.Status, "%s", r.Body)
	_, fields := r.Error(t)
	require.Equal(t, map[string]string{"rows.2.id_number": "is already on file in this school", "rows.3.id_number": "is already on file in this school"}, fields)

	rows, err := env.App.DB.Pool.Query(t.Context(), `SELECT actor_role, school_id, student_id, detail FROM audit_log
		WHERE action = 'student.import' AND actor_id = $1 ORDER BY id`, cl.counselor.ID)
	require.NoError(t, err)
	type entry struct {
		Role      string
		School    int64
		StudentID *int64
		Detail    map[string]any
	}
	entries, err := pgx.CollectRows(rows, pgx.RowToStructByPos[entry])
	require.NoError(t, err)
	require.Equal(t, []entry{
		{"counselor", cl.school.ID, nil, map[string]any{"dry_run": true, "rows": float64(3), "problems": float64(2)}},
		{"counselor", cl.school.ID, nil, map[string]any{"dry_run": false, "rows": float64(3), "problems": float64(2)}},
	}, entries, "the dry run and the refused import are audited")
}

func TestImportsAreRateLimitedPerUser(t *testing.T) {
	t.Parallel()
	cl := newCaseload(t)
	env := cl.env
	tok := cl.tok(t, cl.counselor)
	file := []byte(csvFile(env, 1, nil))
	for i := range graduate.ImportsPerWindow {
		r := env.Do(t, importCall(env, tok, "?dry_run=true", "text/csv", file))
		require.Equal(t, http.StatusOK, r.Status, "dry run %d: %s", i+1, r.Body)
		env.Clock.Advance(time.Second)
	}
	r := env.Do(t, importCall(env, tok, "?dry_run=true", "text/csv", file))
	require.Equal(t, http.StatusTooManyRequests, r.Status, "%s", r.Body)
	require.Equal(t, "50", r.Header.Get("Retry-After"), "until a minute after the first")
	r = env.Do(t, importCall(env, tok, "", "text/csv", file))
	require.Equal(t, http.StatusTooManyRequests, r.Status, "a real import counts too: its refusal tells as much as a dry run")

	r = env.Do(t, importCall(env, cl.tok(t, cl.colleague), "?dry_run=true", "text/csv", file))
	require.Equal(t, http.StatusOK, r.Status, "the limit is per user: %s", r.Body)

	// Another process (its own service, on the same database) counts with
	// the others.
	other := &graduate.Service{DB: env.App.DB, Box: env.App.Box, Clock: env.Clock, Reads: env.App.AuditReads}
	_, err := other.Import(t.Context(), cl.counselor.Actor(), graduate.FormatCSV, file, true)
	var e *bangfu.Error
	require.ErrorAs(t, err, &e)
	require.Equal(t, bangfu.ETOOMANYREQUESTS, e.Code)

	env.Clock.Advance(50 * time.Second)
	r = env.Do(t, importCall(env, tok, "?dry_run=true", "text/csv", file))
	require.Equal(t, http.StatusOK, r.Status, "a minute after the first, the count starts again: %s", r.Body)
}
