package httpapi_test

import (
	"fmt"
	"net/http"
	"strconv"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/bangfu/bangfu"
	"github.com/bangfu/bangfu/internal/apptest"
)

func TestAdminBuildsDirectory(t *testing.T) {
	t.Parallel()
	env := apptest.New(t)
	admin := env.Token(t, env.MustUser(t, bangfu.RoleAdmin, nil))

	r := env.Post(t, "/api/v1/schools", admin, map[string]string{"code": "4144010001", "name": "华南示范大学", "region": "广州"})
	require.Equal(t, http.StatusCreated, r.Status, "%s", r.Body)
	schoolID := int64(r.Map(t)["id"].(float64))

	r = env.Post(t, "/api/v1/schools", admin, map[string]string{"code": "4144010001", "name": "另一所"})
	require.Equal(t, http.StatusConflict, r.Status)
	_, fields := r.Error(t)
	require.Contains(t, fields["code"], "already used")

	r = env.Post(t, "/api/v1/schools", admin, map[string]string{"code": "12", "name": ""})
	require.Equal(t, http.StatusBadRequest, r.Status)
	_, fields = r.Error(t)
	require.Equal(t, map[string]string{"code": "must be the ten-digit 学校标识码", "name": "is required"}, fields)

	r = env.Post(t, fmt.Sprintf("/api/v1/schools/%d/departments", schoolID), admin, map[string]string{"name": "计算机学院"})
	require.Equal(t, http.StatusCreated, r.Status, "%s", r.Body)
	deptID := int64(r.Map(t)["id"].(float64))
	require.Equal(t, http.StatusNotFound, env.Post(t, "/api/v1/schools/999999/departments", admin, map[string]string{"name": "x"}).Status)

	r = env.Post(t, "/api/v1/users", admin, map[string]any{
		"username": "wang.laoshi", "display_name": "王老师", "role": "counselor",
		"school_id": schoolID, "department_id": deptID, "password": "a long enough password",
	})
	require.Equal(t, http.StatusCreated, r.Status, "%s", r.Body)
	counselor := r.Map(t)
	require.Equal(t, "counselor", counselor["role"])
	require.Equal(t, `"1"`, r.Header.Get("ETag"))

	// The new counselor logs in and sees their school, and only it.
	cl := login(t, env, "wang.laoshi", "a long enough password")
	require.Equal(t, http.StatusOK, cl.Status)
	var lr loginResult
	cl.JSON(t, &lr)
	other := env.MustSchool(t)
	r = env.Get(t, "/api/v1/schools", lr.AccessToken)
	require.Equal(t, http.StatusOK, r.Status)
	var schools struct {
		Items []struct{ ID int64 } `json:"items"`
	}
	r.JSON(t, &schools)
	require.Len(t, schools.Items, 1)
	require.Equal(t, schoolID, schools.Items[0].ID)
	require.Equal(t, http.StatusNotFound, env.Get(t, fmt.Sprintf("/api/v1/schools/%d/departments", other.ID), lr.AccessToken).Status)
	require.Equal(t, http.StatusOK, env.Get(t, fmt.Sprintf("/api/v1/schools/%d/departments", schoolID), lr.AccessToken).Status)
}

func TestCreateUserValidation(t *testing.T) {
	t.Parallel()
	env := apptest.New(t)
	admin := env.Token(t, env.MustUser(t, bangfu.RoleAdmin, nil))
	school := env.MustSchool(t)
	otherDept := env.MustDepartment(t, env.MustSchool(t).ID)

	for name, tc := range map[string]struct {
		body   map[string]any
		status int
		fields map[string]string
	}{
		"nothing": {map[string]any{}, 400, map[string]string{"username": "is required", "role": "is required", "password": "must be at least 10 characters"}},
		"bad role": {map[string]any{"username": "abc", "role": "root", "password": "0123456789"}, 400,
			map[string]string{"role": "must be one of student, counselor, supervisor, province, admin, base"}},
		"counselor without school": {map[string]any{"username": "abc", "role": "counselor", "password": "0123456789"}, 400,
			map[string]string{"school_id": "is required for role counselor"}},
		"province with school": {map[string]any{"username": "abc", "role": "province", "school_id": school.ID, "password": "0123456789"}, 400,
			map[string]string{"school_id": "must be empty for role province"}},
		"department of another school": {map[string]any{"username": "abc", "role": "counselor", "school_id": school.ID, "department_id": otherDept.ID, "password": "0123456789"}, 400,
			map[string]string{"department_id": "is not a department of the user's school"}},
		"unknown school": {map[string]any{"username": "abc", "role": "counselor", "school_id": 99999, "password": "0123456789"}, 400,
			map[string]string{"school_id": "is not a known school"}},
		"base staff without a base": {map[string]any{"username": "abc", "role": "base", "password": "0123456789"}, 400,
			map[string]string{"base_id": "is required for role base: the training base the user works for"}},
		"counselor with a base": {map[string]any{"username": "abc", "role": "counselor", "school_id": school.ID, "base_id": 1, "password": "0123456789"}, 400,
			map[string]string{"base_id": "must be empty for role counselor"}},
		"unknown base": {map[string]any{"username": "abc", "role": "base", "base_id": 99999, "password": "0123456789"}, 400,
			map[string]string{"base_id": "is not a known training base"}},
		"base staff with a school": {map[string]any{"username": "abc", "role": "base", "base_id": 1, "school_id": school.ID, "password": "0123456789"}, 400,
			map[string]string{"school_id": "must be empty for role base"}},
		"bad username": {map[string]any{"username": "A B", "role": "admin", "password": "0123456789"}, 400,
			map[string]string{"username": "must be 3-64 lowercase letters, digits, '.', '_' or '-'"}},
	} {
		t.Run(name, func(t *testing.T) {
			r := env.Post(t, "/api/v1/users", admin, tc.body)
			require.Equal(t, tc.status, r.Status, "%s", r.Body)
			_, fields := r.Error(t)
			require.Equal(t, tc.fields, fields)
		})
	}

	t.Run("duplicate username", func(t *testing.T) {
		body := map[string]any{"username": "dup.user", "role": "admin", "password": "0123456789"}
		require.Equal(t, http.StatusCreated, env.Post(t, "/api/v1/users", admin, body).Status)
		r := env.Post(t, "/api/v1/users", admin, body)
		require.Equal(t, http.StatusConflict, r.Status)
		_, fields := r.Error(t)
		require.Equal(t, "is already taken", fields["username"])
	})

	var n int
	require.NoError(t, env.App.DB.Pool.QueryRow(t.Context(), `SELECT count(*) FROM users WHERE username = 'abc'`).Scan(&n))
	require.Zero(t, n, "no refused input is half-written")
}

func TestListUsersPaginates(t *testing.T) {
	t.Parallel()
	env := apptest.New(t)
	adminUser := env.MustUser(t, bangfu.RoleAdmin, nil)
	admin := env.Token(t, adminUser)
	school := env.MustSchool(t)
	want := map[int64]bool{adminUser.ID: true}
	for range 7 {
		want[env.MustUser(t, bangfu.RoleCounselor, &school.ID).ID] = true
	}
	got := map[int64]bool{}
	cursor := ""
	pages := 0
	for {
		r := env.Get(t, "/api/v1/users?limit=3&cursor="+cursor, admin)
		require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
		var l struct {
			Items      []struct{ ID int64 } `json:"items"`
			NextCursor string               `json:"next_cursor"`
		}
		r.JSON(t, &l)
		pages++
		for _, it := range l.Items {
			require.False(t, got[it.ID], "user %d listed twice", it.ID)
			got[it.ID] = true
		}
		if l.NextCursor == "" {
			break
		}
		cursor = l.NextCursor
	}
	require.Equal(t, want, got)
	require.Equal(t, 3, pages)

	r := env.Get(t, "/api/v1/users?role=counselor&school_id="+strconv.FormatInt(school.ID, 10)+"&limit=200", admin)
	require.Equal(t, http.StatusOK, r.Status)
	var l struct{ Items []any }
	r.JSON(t, &l)
	require.Len(t, l.Items, 7)

	for q, field := range map[string]string{"limit=0": "limit", "limit=201": "limit", "cursor=zzz": "cursor", "role=x": "role", "school_id=x": "school_id"} {
		r := env.Get(t, "/api/v1/users?"+q, admin)
		require.Equal(t, http.StatusBadRequest, r.Status, q)
		_, fields := r.Error(t)
		require.Contains(t, fields, field, q)
	}
}

func TestUpdateUserConcurrency(t *testing.T) {
	t.Parallel()
	env := apptest.New(t)
	admin := env.Token(t, env.MustUser(t, bangfu.RoleAdmin, nil))
	school := env.MustSchool(t)
	u := env.MustUser(t, bangfu.RoleCounselor, &school.ID)
	path := "/api/v1/users/" + strconv.FormatInt(u.ID, 10)

	r := env.Do(t, apptest.Call{Method: http.MethodPatch, Path: path, Token: admin, Body: map[string]any{"display_name": "x"}})
	require.Equal(t, http.StatusPreconditionRequired, r.Status)

	get := env.Get(t, path, admin)
	require.Equal(t, http.StatusOK, get.Status)
	v := get.ETagVersion(t)

	var wg sync.WaitGroup
	statuses := make([]int, 2)
	for i := range statuses {
		wg.Add(1)
		go func() {
			defer wg.Done()
			statuses[i] = env.Do(t, apptest.Call{Method: http.MethodPatch, Path: path, Token: admin,
				Body:   map[string]any{"display_name": fmt.Sprintf("老师%d", i)},
				Header: map[string]string{"If-Match": fmt.Sprintf(`"%d"`, v)}}).Status
		}()
	}
	wg.Wait()
	require.ElementsMatch(t, []int{http.StatusOK, http.StatusPreconditionFailed}, statuses)

	after := env.Get(t, path, admin)
	require.Equal(t, v+1, after.ETagVersion(t))

	r = env.Do(t, apptest.Call{Method: http.MethodPatch, Path: path, Token: admin,
		Body: map[string]any{"school_id": nil}, Header: map[string]string{"If-Match": after.Header.Get("ETag")}})
	require.Equal(t, http.StatusBadRequest, r.Status)
	_, fields := r.Error(t)
	require.Equal(t, "is required for role counselor", fields["school_id"])

	r = env.Do(t, apptest.Call{Method: http.MethodPatch, Path: path, Token: admin,
		Body: map[string]any{"role": "province"}, Header: map[string]string{"If-Match": after.Header.Get("ETag")}})
	require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
	require.Nil(t, r.Map(t)["school_id"], "a province user belongs to no school")

	require.Equal(t, http.StatusNotFound, env.Do(t, apptest.Call{Method: http.MethodPatch, Path: "/api/v1/users/99999", Token: admin,
		Body: map[string]any{}, Header: map[string]string{"If-Match": `"1"`}}).Status)
}
