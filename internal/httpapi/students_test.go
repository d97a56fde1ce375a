package httpapi_test

import (
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/bangfu/bangfu"
	"github.com/bangfu/bangfu/internal/apptest"
	"github.com/bangfu/bangfu/internal/directory"
	"github.com/bangfu/bangfu/internal/graduate"
)

// caseload is a school with a supervisor, two counselors and a graduate
// assigned to the first, plus another school.
type caseload struct {
	env                   *apptest.Env
	school, other         directory.School
	supervisor, counselor directory.User
	colleague             directory.User // a counselor of the same school
	province, admin       directory.User
	otherSupervisor       directory.User
}

func newCaseload(t *testing.T) *caseload {
	t.Helper()
	env := apptest.New(t)
	cl := &caseload{env: env, school: env.MustSchool(t), other: env.MustSchool(t)}
	cl.supervisor = env.MustUser(t, bangfu.RoleSupervisor, &cl.school.ID)
	cl.counselor = env.MustUser(t, bangfu.RoleCounselor, &cl.school.ID)
	cl.colleague = env.MustUser(t, bangfu.RoleCounselor, &cl.school.ID)
	cl.province = env.MustUser(t, bangfu.RoleProvince, nil)
	cl.admin = env.MustUser(t, bangfu.RoleAdmin, nil)
	cl.otherSupervisor = env.MustUser(t, bangfu.RoleSupervisor, &cl.other.ID)
	return cl
}

func (cl *caseload) tok(t *testing.T, u directory.User) string { return cl.env.Token(t, u) }

func studentPath(id int64, rest ...string) string {
	return fmt.Sprintf("/api/v1/students/%d", id) + strings.Join(rest, "")
}

func TestCreateAndReadFile(t *testing.T) {
	t.Parallel()
	cl := newCaseload(t)
	env := cl.env
	id := env.IDNumber()
	env.NeverShow(id)
	env.NeverShow("需要无障碍通道")
	r := env.Post(t, "/api/v1/students", cl.tok(t, cl.counselor), map[string]any{
		"student_number": "20261234", "name": "李明", "id_number": id, "education_level": "zhuanke",
		"graduation_year": 2026, "major": "软件技术", "phone": "13812345678",
		"intention": map[string]string{"industry": "信息技术", "region": "广州", "job_type": "运维"},
		"skills":    []string{"Linux", "Python"}, "accommodations": "需要无障碍通道", "consent": true,
	})
	require.Equal(t, http.StatusCreated, r.Status, "%s", r.Body)
	st := r.Map(t)
	require.Equal(t, id[:3]+"***********"+id[14:], st["id_number"], "the ID number is masked: first 3 and last 4")
	require.Equal(t, "******", st["accommodations"], "accommodations are sensitive: masked")
	require.Equal(t, float64(cl.counselor.ID), st["counselor_id"], "a counselor's new graduate is assigned to them")
	require.Equal(t, "open", st["status"])
	require.Equal(t, `"1"`, r.Header.Get("ETag"))
	sid := int64(st["id"].(float64))

	var stored []byte
	require.NoError(t, env.App.DB.Pool.QueryRow(t.Context(), `SELECT id_number_sealed FROM students WHERE id = $1`, sid).Scan(&stored))
	require.NotContains(t, string(stored), id[:10], "encrypted at rest")

	for _, u := range []directory.User{cl.counselor, cl.supervisor, cl.province} {
		r := env.Get(t, studentPath(sid), cl.tok(t, u))
		require.Equal(t, http.StatusOK, r.Status, "%s: %s", u.Role, r.Body)
		require.NotContains(t, string(r.Body), id, "%s sees the ID number masked", u.Role)
	}
	prov := env.Get(t, studentPath(sid), cl.tok(t, cl.province)).Map(t)
	require.Equal(t, "李*", prov["name"], "province sees names masked")
	require.Equal(t, "*****234", prov["student_number"])
	require.Equal(t, "*******5678", prov["phone"])

	require.Equal(t, http.StatusNotFound, env.Get(t, studentPath(sid), cl.tok(t, cl.colleague)).Status, "a counselor sees only their own graduates")
	require.Equal(t, http.StatusNotFound, env.Get(t, studentPath(sid), cl.tok(t, cl.otherSupervisor)).Status, "another school's graduate is not found")
	require.Equal(t, http.StatusForbidden, env.Get(t, studentPath(sid), cl.tok(t, cl.admin)).Status, "admin is not a case worker")

	// Same school, same ID number: refused; the student number too.
	r = env.Post(t, "/api/v1/students", cl.tok(t, cl.counselor), map[string]any{
		"student_number": "20261234", "name": "王五", "id_number": id, "education_level": "zhuanke", "graduation_year": 2026,
	})
	require.Equal(t, http.StatusBadRequest, r.Status)
	_, fields := r.Error(t)
	require.Equal(t, "belongs to another graduate of this school", fields["id_number"])
}

func TestCreateFileValidation(t *testing.T) {
	t.Parallel()
	cl := newCaseload(t)
	r := cl.env.Post(t, "/api/v1/students", cl.tok(t, cl.counselor), map[string]any{
		"student_number": "2026 01", "id_number": "110105194912310021", "education_level": "college",
		"graduation_year": 1999, "phone": "call me", "email": "nope", "counselor_id": cl.colleague.ID,
	})
	require.Equal(t, http.StatusBadRequest, r.Status)
	_, fields := r.Error(t)
	require.Equal(t, map[string]string{
		"student_number":  "must be 1-32 letters, digits or '-'",
		"name":            "is required",
		"id_number":       "has a wrong check digit",
		"education_level": "must be one of zhongzhi, zhuanke, benke, shuoshi, boshi",
		"graduation_year": "must be a year from 2021 to 2031",
		"phone":           "must be a phone number (digits, '+', '-')",
		"email":           "is not an e-mail address",
		"counselor_id":    "only a supervisor may assign a graduate to another counselor",
	}, fields)

	r = cl.env.Post(t, "/api/v1/students", cl.tok(t, cl.supervisor), map[string]any{
		"student_number": "1", "name": "x", "id_number": cl.env.IDNumber(), "education_level": "benke",
		"graduation_year": 2026, "counselor_id": cl.supervisor.ID,
	})
	_, fields = r.Error(t)
	require.Equal(t, map[string]string{"counselor_id": "is not an enabled counselor of the graduate's school"}, fields)

	var n int
	require.NoError(t, cl.env.App.DB.Pool.QueryRow(t.Context(), `SELECT count(*) FROM students`).Scan(&n))
	require.Zero(t, n)
}

func TestUpdateFile(t *testing.T) {
	t.Parallel()
	cl := newCaseload(t)
	env := cl.env
	st := env.MustStudent(t, cl.counselor)
	tok := cl.tok(t, cl.counselor)
	patch := func(token string, etag string, body any) *apptest.Response {
		return env.Do(t, apptest.Call{Method: http.MethodPatch, Path: studentPath(st.ID), Token: token, Body: body,
			Header: map[string]string{"If-Match": etag}})
	}
	require.Equal(t, http.StatusPreconditionRequired, env.Do(t, apptest.Call{Method: http.MethodPatch, Path: studentPath(st.ID), Token: tok, Body: map[string]any{}}).Status)

	r := patch(tok, `"1"`, map[string]any{"major": "电子商务", "status": "active", "intention": map[string]string{"region": "深圳"}})
	require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
	require.Equal(t, `"2"`, r.Header.Get("ETag"))
	require.Equal(t, "active", r.Map(t)["status"])

	r = patch(tok, `"1"`, map[string]any{"major": "物流"})
	require.Equal(t, http.StatusPreconditionFailed, r.Status, "a stale version never overwrites")

	r = patch(tok, `"2"`, map[string]any{"status": "transferred"})
	require.Equal(t, http.StatusOK, r.Status)
	r = patch(tok, `"3"`, map[string]any{"status": "active"})
	require.Equal(t, http.StatusBadRequest, r.Status)
	_, fields := r.Error(t)
	require.Equal(t, "cannot change from transferred to active", fields["status"])

	r = patch(tok, `"3"`, map[string]any{"counselor_id": cl.colleague.ID})
	_, fields = r.Error(t)
	require.Equal(t, "only a supervisor may reassign a graduate", fields["counselor_id"])

	// The supervisor reassigns the caseload: the colleague now sees the file, the counselor no longer does.
	r = patch(cl.tok(t, cl.supervisor), `"3"`, map[string]any{"counselor_id": cl.colleague.ID})
	require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
	require.Equal(t, http.StatusOK, env.Get(t, studentPath(st.ID), cl.tok(t, cl.colleague)).Status)
	require.Equal(t, http.StatusNotFound, env.Get(t, studentPath(st.ID), tok).Status)

	require.Equal(t, http.StatusForbidden, patch(cl.tok(t, cl.province), `"4"`, map[string]any{"major": "x"}).Status)
}

func TestConcurrentPatchOneWins(t *testing.T) {
	t.Parallel()
	cl := newCaseload(t)
	st := cl.env.MustStudent(t, cl.counselor)
	tokens := []string{cl.tok(t, cl.counselor), cl.tok(t, cl.supervisor)}
	var wg sync.WaitGroup
	statuses := make([]int, 2)
	for i := range statuses {
		wg.Add(1)
		go func() {
			defer wg.Done()
			statuses[i] = cl.env.Do(t, apptest.Call{Method: http.MethodPatch, Path: studentPath(st.ID), Token: tokens[i],
				Body: map[string]any{"major": fmt.Sprintf("专业%d", i)}, Header: map[string]string{"If-Match": `"1"`}}).Status
		}()
	}
	wg.Wait()
	require.ElementsMatch(t, []int{http.StatusOK, http.StatusPreconditionFailed}, statuses)
}

func TestUnmaskIsAudited(t *testing.T) {
	t.Parallel()
	cl := newCaseload(t)
	env := cl.env
	id := env.IDNumber()
	env.NeverShow(id)
	st := env.MustStudent(t, cl.counselor, graduateInput(id))
	body := map[string]string{"field": "id_number", "reason": "办理求职创业补贴申请"}

	r := env.Post(t, studentPath(st.ID, "/unmask"), cl.tok(t, cl.counselor), body)
	require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
	require.Equal(t, id, r.Map(t)["value"])
	require.Equal(t, "no-store", r.Header.Get("Cache-Control"))

	require.Equal(t, http.StatusOK, env.Post(t, studentPath(st.ID, "/unmask"), cl.tok(t, cl.supervisor), body).Status)
	require.Equal(t, http.StatusForbidden, env.Post(t, studentPath(st.ID, "/unmask"), cl.tok(t, cl.province), body).Status)
	require.Equal(t, http.StatusNotFound, env.Post(t, studentPath(st.ID, "/unmask"), cl.tok(t, cl.colleague), body).Status)
	require.Equal(t, http.StatusNotFound, env.Post(t, studentPath(st.ID, "/unmask"), cl.tok(t, cl.otherSupervisor), body).Status)

	r = env.Post(t, studentPath(st.ID, "/unmask"), cl.tok(t, cl.counselor), map[string]string{"field": "salary"})
	require.Equal(t, http.StatusBadRequest, r.Status)
	_, fields := r.Error(t)
	require.Equal(t, map[string]string{"field": "must be id_number or accommodations", "reason": "is required: say why you need the clear value"}, fields)

	r = env.Get(t, fmt.Sprintf("/api/v1/audit?student_id=%d", st.ID), cl.tok(t, cl.supervisor))
	require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
	var log struct {
		Items []struct {
			Action  string   `json:"action"`
			ActorID int64    `json:"actor_id"`
			Fields  []string `json:"fields"`
			Reason  string   `json:"reason"`
			IP      string   `json:"ip"`
		} `json:"items"`
	}
	r.JSON(t, &log)
	var unmasks []int64
	for _, e := range log.Items {
		if e.Action == "student.unmask" {
			unmasks = append(unmasks, e.ActorID)
			require.Equal(t, "办理求职创业补贴申请", e.Reason)
			require.Equal(t, []string{"id_number"}, e.Fields)
			require.NotEmpty(t, e.IP)
		}
	}
	require.ElementsMatch(t, []int64{cl.counselor.ID, cl.supervisor.ID}, unmasks, "each unmasking is recorded, newest first")
	require.Equal(t, "student.unmask", log.Items[0].Action)

	require.Equal(t, http.StatusNotFound, env.Get(t, fmt.Sprintf("/api/v1/audit?student_id=%d", st.ID), cl.tok(t, cl.otherSupervisor)).Status)
	require.Equal(t, http.StatusForbidden, env.Get(t, "/api/v1/audit", cl.tok(t, cl.counselor)).Status)
	require.Equal(t, http.StatusOK, env.Get(t, "/api/v1/audit", cl.tok(t, cl.admin)).Status)
}

func TestReadsAreAudited(t *testing.T) {
	t.Parallel()
	cl := newCaseload(t)
	st := cl.env.MustStudent(t, cl.counselor)
	require.Equal(t, http.StatusOK, cl.env.Get(t, studentPath(st.ID), cl.tok(t, cl.province)).Status)
	cl.env.App.AuditReads.Flush()
	var n int
	require.NoError(t, cl.env.App.DB.Pool.QueryRow(t.Context(),
		`SELECT count(*) FROM audit_log WHERE action = 'student.read' AND student_id = $1 AND actor_id = $2`, st.ID, cl.province.ID).Scan(&n))
	require.Equal(t, 1, n)
	_, err := cl.env.App.DB.Pool.Exec(t.Context(), `DELETE FROM audit_log`)
	require.ErrorContains(t, err, "audit_log is append-only")
}

func TestListStudents(t *testing.T) {
	t.Parallel()
	cl := newCaseload(t)
	env := cl.env
	mine := []int64{
		env.MustStudent(t, cl.counselor, graduateInput("", "张三")).ID,
		env.MustStudent(t, cl.counselor, graduateInput("", "张三丰")).ID,
		env.MustStudent(t, cl.counselor, graduateInput("", "李四")).ID,
	}
	theirs := env.MustStudent(t, cl.colleague).ID
	elsewhereCounselor := env.MustUser(t, bangfu.RoleCounselor, &cl.other.ID)
	elsewhere := env.MustStudent(t, elsewhereCounselor).ID

	ids := func(path string, u directory.User) []int64 {
		t.Helper()
		r := env.Get(t, path, cl.tok(t, u))
		require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
		var l struct {
			Items []struct {
				ID       int64  `json:"id"`
				IDNumber string `json:"id_number"`
			} `json:"items"`
		}
		r.JSON(t, &l)
		out := []int64{}
		for _, it := range l.Items {
			require.Contains(t, it.IDNumber, "***", "lists mask the ID number")
			out = append(out, it.ID)
		}
		return out
	}
	require.Equal(t, mine, ids("/api/v1/students?order=id", cl.counselor), "a counselor lists only their own graduates")
	require.Equal(t, append(append([]int64{}, mine...), theirs), ids("/api/v1/students?order=id", cl.supervisor))
	require.Equal(t, append(append([]int64{}, mine...), theirs, elsewhere), ids("/api/v1/students?order=id", cl.province))
	require.Equal(t, []int64{elsewhere}, ids(fmt.Sprintf("/api/v1/students?order=id&school_id=%d", cl.other.ID), cl.province))
	require.Empty(t, ids(fmt.Sprintf("/api/v1/students?order=id&school_id=%d", cl.other.ID), cl.supervisor), "a filter never widens the scope")
	require.Equal(t, mine[:2], ids("/api/v1/students?order=id&q="+"张三", cl.counselor))
	require.Equal(t, []int64{theirs}, ids(fmt.Sprintf("/api/v1/students?order=id&counselor_id=%d", cl.colleague.ID), cl.supervisor))
	require.Empty(t, ids("/api/v1/students?order=id&status=placed", cl.supervisor))
	require.Empty(t, ids("/api/v1/students?order=id&overdue=true", cl.supervisor))
	require.Empty(t, ids("/api/v1/students?order=id&q=%25", cl.supervisor), "LIKE wildcards are literal")

	// Category counts only verified, unexpired evidence.
	r := env.Post(t, studentPath(mine[2], "/hardships"), cl.tok(t, cl.counselor), map[string]any{
		"category": "dibao", "evidence_type": "低保证", "issuing_authority": "广州市民政局", "certificate_no": "DB2026001", "valid_until": "2027-06-30",
	})
	require.Equal(t, http.StatusCreated, r.Status, "%s", r.Body)
	hid := int64(r.Map(t)["id"].(float64))
	require.Empty(t, ids("/api/v1/students?order=id&category=dibao", cl.supervisor), "unverified evidence does not count")
	r = env.Post(t, studentPath(mine[2], fmt.Sprintf("/hardships/%d/verify", hid)), cl.tok(t, cl.supervisor), map[string]any{})
	require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
	require.True(t, r.Map(t)["counts"].(bool))
	require.Equal(t, "******", r.Map(t)["certificate_no"])
	require.Equal(t, []int64{mine[2]}, ids("/api/v1/students?order=id&category=dibao", cl.supervisor))
	env.Clock.Set(apptest.Start.AddDate(1, 1, 0))
	require.Empty(t, ids("/api/v1/students?order=id&category=dibao", cl.supervisor), "expired evidence does not count")

	for q, field := range map[string]string{"status=lost": "status", "category=rich": "category", "overdue=maybe": "overdue", "counselor_id=me": "counselor_id"} {
		r := env.Get(t, "/api/v1/students?order=id&"+q, cl.tok(t, cl.supervisor))
		require.Equal(t, http.StatusBadRequest, r.Status, q)
		_, fields := r.Error(t)
		require.Contains(t, fields, field)
	}
}

func TestHardshipVerification(t *testing.T) {
	t.Parallel()
	cl := newCaseload(t)
	env := cl.env
	st := env.MustStudent(t, cl.counselor)
	r := env.Post(t, studentPath(st.ID, "/hardships"), cl.tok(t, cl.counselor), map[string]any{"category": "rich", "valid_until": "tomorrow"})
	require.Equal(t, http.StatusBadRequest, r.Status)
	_, fields := r.Error(t)
	require.Equal(t, map[string]string{
		"category":          "must be one of poverty_alleviated, dibao, zero_employment, disabled, tekun, orphan, disabled_parent, other_certified",
		"evidence_type":     "is required",
		"issuing_authority": "is required",
		"valid_until":       "must be a date like 2026-07-31",
	}, fields)

	r = env.Post(t, studentPath(st.ID, "/hardships"), cl.tok(t, cl.counselor), map[string]any{
		"category": "disabled", "evidence_type": "残疾人证", "issuing_authority": "广州市残联", "valid_until": "2026-06-30",
	})
	require.Equal(t, http.StatusCreated, r.Status, "%s", r.Body)
	hid := int64(r.Map(t)["id"].(float64))
	verify := func(u directory.User, body any) *apptest.Response {
		return env.Post(t, studentPath(st.ID, fmt.Sprintf("/hardships/%d/verify", hid)), cl.tok(t, u), body)
	}
	require.Equal(t, http.StatusForbidden, verify(cl.counselor, map[string]any{}).Status, "a supervisor verifies")
	require.Equal(t, http.StatusNotFound, verify(cl.otherSupervisor, map[string]any{}).Status)
	r = verify(cl.supervisor, map[string]any{"decision": "rejected"})
	_, fields = r.Error(t)
	require.Equal(t, "is required", fields["note"])

	env.Clock.Set(apptest.Start.AddDate(0, 1, 0))
	r = verify(cl.supervisor, map[string]any{})
	require.Equal(t, http.StatusBadRequest, r.Status)
	_, fields = r.Error(t)
	require.Equal(t, "the evidence expired on 2026-06-30: add new evidence instead", fields["decision"])
}

func graduateInput(idNumber string, name ...string) graduate.Input {
	in := graduate.Input{IDNumber: idNumber}
	if len(name) > 0 {
		in.Name = name[0]
	}
	return in
}
