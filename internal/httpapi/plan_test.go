package httpapi_test

import (
	"net/http"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/bangfu/bangfu/internal/apptest"
)

func planBody(goal string) map[string]any {
	return map[string]any{
		"goals":        []string{goal},
		"cadence_days": 7,
		"measures": []map[string]any{
			{"kind": "job_referral", "description": "推荐3个以上目标岗位", "owner": "辅导员", "due_on": "2026-06-30"},
			{"kind": "hongzhi_training", "description": "参加宏志助航培训", "owner": "学生本人", "status": "in_progress"},
		},
	}
}

func TestPlanRevisions(t *testing.T) {
	t.Parallel()
	cl := newCaseload(t)
	env := cl.env
	st := env.MustStudent(t, cl.counselor)
	tok := cl.tok(t, cl.counselor)
	put := func(etag string, body any) *apptest.Response {
		c := apptest.Call{Method: http.MethodPut, Path: studentPath(st.ID, "/plan"), Token: tok, Body: body}
		if etag != "" {
			c.Header = map[string]string{"If-Match": etag}
		}
		return env.Do(t, c)
	}
	require.Equal(t, http.StatusNotFound, env.Get(t, studentPath(st.ID, "/plan"), tok).Status)

	r := put("", planBody("7月底前落实就业岗位"))
	require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
	require.Equal(t, `"1"`, r.Header.Get("ETag"))
	require.Equal(t, float64(1), r.Map(t)["revision"])

	require.Equal(t, http.StatusPreconditionRequired, put("", planBody("x")).Status, "editing an existing plan needs If-Match")
	r = put(`"1"`, planBody("8月底前落实就业岗位"))
	require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
	require.Equal(t, http.StatusPreconditionFailed, put(`"1"`, planBody("y")).Status, "a stale revision never overwrites")

	r = env.Get(t, studentPath(st.ID, "/plan"), tok)
	require.Equal(t, http.StatusOK, r.Status)
	var pl struct {
		Current struct {
			Revision int      `json:"revision"`
			Goals    []string `json:"goals"`
			Measures []struct {
				Kind   string  `json:"kind"`
				DueOn  *string `json:"due_on"`
				Status string  `json:"status"`
			} `json:"measures"`
		} `json:"current"`
		Revisions []struct{ Revision int } `json:"revisions"`
	}
	r.JSON(t, &pl)
	require.Equal(t, 2, pl.Current.Revision)
	require.Equal(t, []string{"8月底前落实就业岗位"}, pl.Current.Goals)
	require.Equal(t, "2026-06-30", *pl.Current.Measures[0].DueOn)
	require.Equal(t, "planned", pl.Current.Measures[0].Status)
	require.Len(t, pl.Revisions, 2)

	old := env.Get(t, studentPath(st.ID, "/plan/revisions/1"), tok)
	require.Equal(t, http.StatusOK, old.Status)
	require.Equal(t, []any{"7月底前落实就业岗位"}, old.Map(t)["goals"], "old revisions stay readable")
	require.Equal(t, http.StatusNotFound, env.Get(t, studentPath(st.ID, "/plan/revisions/9"), tok).Status)

	r = put(`"2"`, map[string]any{"goals": []string{""}, "cadence_days": 0, "measures": []map[string]any{{"kind": "lottery", "due_on": "soon"}}})
	require.Equal(t, http.StatusBadRequest, r.Status)
	_, fields := r.Error(t)
	require.Equal(t, map[string]string{
		"goals.0":                "is empty",
		"cadence_days":           "must be a number of days from 1 to 90",
		"measures.0.kind":        "must be one of career_guidance, job_referral, skills_training, hongzhi_training, psychological_support, job_seeking_subsidy, internship, grassroots_project, enlistment, further_study",
		"measures.0.description": "is required",
		"measures.0.owner":       "is required: who carries this measure out",
		"measures.0.due_on":      "must be a date like 2026-07-31",
	}, fields)
}

func TestStudentAcknowledgesOwnCurrentPlan(t *testing.T) {
	t.Parallel()
	cl := newCaseload(t)
	env := cl.env
	st := env.MustStudent(t, cl.counselor)
	tok := cl.tok(t, cl.counselor)
	require.Equal(t, http.StatusCreated, env.Post(t, studentPath(st.ID, "/account"), tok, map[string]string{"username": "wang.fang", "password": "student password"}).Status)
	stu := mustLoginAs(t, env, "wang.fang", "student password")
	require.Equal(t, st.ID, *lrStudentID(t, env, stu))

	require.Equal(t, http.StatusNotFound, env.Get(t, "/api/v1/me/plan", stu.AccessToken).Status)
	require.Equal(t, http.StatusOK, env.Do(t, apptest.Call{Method: http.MethodPut, Path: studentPath(st.ID, "/plan"), Token: tok, Body: planBody("a")}).Status)
	require.Equal(t, http.StatusOK, env.Do(t, apptest.Call{Method: http.MethodPut, Path: studentPath(st.ID, "/plan"), Token: tok, Body: planBody("b"),
		Header: map[string]string{"If-Match": `"1"`}}).Status)

	r := env.Get(t, "/api/v1/me/plan", stu.AccessToken)
	require.Equal(t, http.StatusOK, r.Status)
	require.Equal(t, []any{"b"}, r.Map(t)["current"].(map[string]any)["goals"])

	ack := func(token string, id int64, rev int) *apptest.Response {
		return env.Post(t, studentPath(id, "/plan/acknowledge"), token, map[string]int{"revision": rev})
	}
	require.Equal(t, http.StatusConflict, ack(stu.AccessToken, st.ID, 1).Status, "only the current revision")
	r = ack(stu.AccessToken, st.ID, 2)
	require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
	require.NotNil(t, r.Map(t)["acknowledged_at"])
	require.Equal(t, http.StatusForbidden, ack(tok, st.ID, 2).Status, "staff cannot acknowledge for the student")

	other := env.MustStudent(t, cl.counselor)
	require.Equal(t, http.StatusNotFound, ack(stu.AccessToken, other.ID, 1).Status, "only their own plan")
	require.Equal(t, http.StatusForbidden, env.Get(t, studentPath(st.ID, "/plan"), stu.AccessToken).Status, "students read their plan at /me/plan")

	file := env.Get(t, "/api/v1/me/file", stu.AccessToken)
	require.Equal(t, http.StatusOK, file.Status)
	require.Equal(t, st.Name, file.Map(t)["name"])
}

func lrStudentID(t *testing.T, env *apptest.Env, lr loginResult) *int64 {
	t.Helper()
	var me struct {
		StudentID *int64 `json:"student_id"`
	}
	env.Get(t, "/api/v1/me", lr.AccessToken).JSON(t, &me)
	return me.StudentID
}
