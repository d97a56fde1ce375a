package httpapi_test

import (
	"net/http"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestReassignStudents(t *testing.T) {
	t.Parallel()
	cl := newCaseload(t)
	env := cl.env
	a, b := env.MustStudent(t, cl.counselor), env.MustStudent(t, cl.counselor)
	far := env.MustStudent(t, env.MustUser(t, counselor, &cl.other.ID))
	body := func(to int64, ids ...int64) map[string]any {
		return map[string]any{"student_ids": ids, "counselor_id": to}
	}

	r := env.Post(t, "/api/v1/students/reassign", cl.tok(t, cl.counselor), body(cl.colleague.ID, a.ID))
	require.Equal(t, http.StatusForbidden, r.Status, "only supervisors reassign")

	r = env.Post(t, "/api/v1/students/reassign", cl.tok(t, cl.supervisor), body(cl.colleague.ID, a.ID, far.ID))
	require.Equal(t, http.StatusBadRequest, r.Status)
	_, fields := r.Error(t)
	require.Equal(t, map[string]string{"student_ids.1": "is not a graduate you can see"}, fields, "another school's graduate is not revealed")

	r = env.Post(t, "/api/v1/students/reassign", cl.tok(t, cl.supervisor), body(cl.colleague.ID, b.ID, a.ID))
	require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
	var out struct {
		Items []struct {
			ID          int64 `json:"id"`
			CounselorID int64 `json:"counselor_id"`
		} `json:"items"`
	}
	r.JSON(t, &out)
	require.Len(t, out.Items, 2)
	for _, st := range out.Items {
		require.Equal(t, cl.colleague.ID, st.CounselorID)
	}
	r = env.Get(t, studentPath(a.ID), cl.tok(t, cl.counselor))
	require.Equal(t, http.StatusNotFound, r.Status, "the former counselor no longer sees the file")
}
