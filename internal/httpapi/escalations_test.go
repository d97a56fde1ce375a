package httpapi_test

import (
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"

	"github.com/bangfu/bangfu"
	"github.com/bangfu/bangfu/internal/apptest"
	"github.com/bangfu/bangfu/internal/directory"
	"github.com/bangfu/bangfu/internal/graduate"
)

// quietCases makes active cases (of next year's graduates, in school
// throughout) and moves the clock until the sweep has raised them to level 3.
func quietCases(t *testing.T, cl *caseload, counselors ...directory.User) {
	t.Helper()
	for _, c := range counselors {
		st := cl.env.MustStudent(t, c, graduate.Input{GraduationYear: 2027})
		active := "active"
		_, err := cl.env.App.Graduates.Update(t.Context(), c.Actor(), st.ID, st.Version, graduate.Patch{Status: &active})
		require.NoError(t, err)
	}
	for _, day := range []int{14, 21, 35} {
		cl.env.Clock.Set(apptest.Start.AddDate(0, 0, day).Add(time.Hour))
		require.NoError(t, cl.env.App.DB.InTx(t.Context(), func(tx pgx.Tx) error {
			_, err := cl.env.App.SweepWorker().Sweep(t.Context(), tx)
			return err
		}))
	}
}

type escalationJSON struct {
	ID          int64  `json:"id"`
	StudentID   int64  `json:"student_id"`
	StudentName string `json:"student_name"`
	Level       int    `json:"level"`
	Status      string `json:"status"`
}

func listEscalations(t *testing.T, env *apptest.Env, query string, u directory.User) []escalationJSON {
	t.Helper()
	r := env.Get(t, "/api/v1/escalations"+query, env.Token(t, u))
	require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
	var l struct{ Items []escalationJSON }
	r.JSON(t, &l)
	return l.Items
}

func TestEscalationsAreScopedLikeFiles(t *testing.T) {
	t.Parallel()
	cl := newCaseload(t)
	env := cl.env
	elsewhere := env.MustUser(t, bangfu.RoleCounselor, &cl.other.ID)
	quietCases(t, cl, cl.counselor, cl.colleague, elsewhere)

	const quiet = "?kind=no_contact"
	require.Len(t, listEscalations(t, env, quiet, cl.counselor), 3, "a counselor sees their own graduate's three levels")
	require.Len(t, listEscalations(t, env, quiet, cl.supervisor), 6, "a supervisor sees the school's")
	require.Len(t, listEscalations(t, env, quiet, cl.province), 9, "province sees every school")
	require.Len(t, listEscalations(t, env, quiet+"&level=3", cl.province), 3)
	require.Len(t, listEscalations(t, env, fmt.Sprintf("?school_id=%d", cl.other.ID), cl.supervisor), 0, "a filter never widens the scope")
	for _, e := range listEscalations(t, env, "", cl.province) {
		require.Contains(t, e.StudentName, "*", "province sees names masked")
	}

	mine := listEscalations(t, env, quiet+"&level=1", cl.counselor)[0]
	theirs := listEscalations(t, env, quiet+"&level=1", elsewhere)[0]
	ack := func(u directory.User, id int64, action string, note string) *apptest.Response {
		return env.Post(t, fmt.Sprintf("/api/v1/escalations/%d/%s", id, action), env.Token(t, u), map[string]string{"note": note})
	}
	require.Equal(t, http.StatusNotFound, ack(cl.colleague, mine.ID, "acknowledge", "").Status, "another counselor's graduate")
	require.Equal(t, http.StatusNotFound, ack(cl.supervisor, theirs.ID, "acknowledge", "").Status, "another school's graduate")
	require.Equal(t, http.StatusNotFound, ack(cl.counselor, 999999, "acknowledge", "").Status)
	require.Equal(t, http.StatusForbidden, ack(cl.admin, mine.ID, "acknowledge", "").Status)

	r := ack(cl.counselor, mine.ID, "resolve", "")
	require.Equal(t, http.StatusBadRequest, r.Status)
	_, fields := r.Error(t)
	require.Equal(t, "is required: say how it was resolved", fields["note"])
	r = ack(cl.counselor, mine.ID, "resolve", "学生已回复，约定下周面谈")
	require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
	require.Equal(t, "resolved", r.Map(t)["status"])
	require.Equal(t, http.StatusConflict, ack(cl.counselor, mine.ID, "acknowledge", "").Status)

	level3 := listEscalations(t, env, "?level=3", cl.counselor)[0]
	require.Equal(t, http.StatusForbidden, ack(cl.supervisor, level3.ID, "acknowledge", "").Status, "level 3 is the province's")
	require.Equal(t, http.StatusOK, ack(cl.province, level3.ID, "acknowledge", "已督办").Status)
	require.Len(t, listEscalations(t, env, "?status=acknowledged", cl.supervisor), 1)

	r = env.Get(t, "/api/v1/escalations?level=9&status=lost&kind=bored", env.Token(t, cl.supervisor))
	_, fields = r.Error(t)
	require.Equal(t, map[string]string{"level": "must be 1, 2 or 3", "status": "must be one of open, acknowledged, resolved",
		"kind": "must be one of no_contact, measure_overdue, referrals_short, unplaced_after_july"}, fields)
}

func TestNotificationsInbox(t *testing.T) {
	t.Parallel()
	cl := newCaseload(t)
	env := cl.env
	quietCases(t, cl, cl.counselor)
	tok := env.Token(t, cl.counselor)
	r := env.Get(t, "/api/v1/notifications?unread=true", tok)
	require.Equal(t, http.StatusOK, r.Status)
	var l struct {
		Items []struct {
			ID     int64   `json:"id"`
			Title  string  `json:"title"`
			ReadAt *string `json:"read_at"`
		} `json:"items"`
	}
	r.JSON(t, &l)
	require.Len(t, l.Items, 2, "level 1 goes to the counselor: no contact, and too few referrals after 30 days")
	for _, n := range l.Items {
		require.Contains(t, n.Title, "一级升级")
	}
	l.Items = l.Items[:1]

	require.Equal(t, http.StatusNotFound, env.Post(t, fmt.Sprintf("/api/v1/notifications/%d/read", l.Items[0].ID), env.Token(t, cl.colleague), nil).Status,
		"someone else's notification")
	r = env.Post(t, fmt.Sprintf("/api/v1/notifications/%d/read", l.Items[0].ID), tok, nil)
	require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
	require.NotNil(t, r.Map(t)["read_at"])
	env.Get(t, "/api/v1/notifications?unread=true", tok).JSON(t, &l)
	require.Len(t, l.Items, 1)
	env.Get(t, "/api/v1/notifications", tok).JSON(t, &l)
	require.Len(t, l.Items, 2)

	env.Get(t, "/api/v1/notifications", env.Token(t, cl.supervisor)).JSON(t, &l)
	require.Len(t, l.Items, 1, "level 2 goes to the school's supervisors")
	env.Get(t, "/api/v1/notifications", env.Token(t, cl.province)).JSON(t, &l)
	require.Len(t, l.Items, 1, "level 3: one digest for province")
}

func TestSettings(t *testing.T) {
	t.Parallel()
	cl := newCaseload(t)
	env := cl.env
	admin := env.Token(t, cl.admin)
	r := env.Get(t, "/api/v1/settings", admin)
	require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
	s := r.Map(t)
	require.Equal(t, []any{14.0, 21.0, 35.0}, s["stall_days"])
	require.Equal(t, 0.7, s["target_july"])
	require.Equal(t, 3.0, s["referral_minimum"])
	require.Equal(t, 30.0, s["after_graduation_cadence_days"], "monthly follow-ups after graduation")

	put := func(etag string, body any) *apptest.Response {
		return env.Do(t, apptest.Call{Method: http.MethodPut, Path: "/api/v1/settings", Token: admin, Body: body, Header: map[string]string{"If-Match": etag}})
	}
	r = put(r.Header.Get("ETag"), map[string]any{"stall_days": []int{10, 9, 40}, "target_july": 1.5, "sweep_interval_minutes": -1})
	require.Equal(t, http.StatusBadRequest, r.Status)
	_, fields := r.Error(t)
	require.Equal(t, map[string]string{
		"stall_days":             "must be three increasing numbers of days, from 1 to 365",
		"target_july":            "must be a fraction above 0 and at most 1, like 0.7",
		"sweep_interval_minutes": "must be from 1 to 1440",
		"target_december":        "must be a fraction at most 1 and not below target_july, like 0.9",
	}, fields)

	r = put(`"1"`, map[string]any{"stall_days": []int{7, 14, 28}, "referral_minimum": 0})
	require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
	require.Equal(t, []any{7.0, 14.0, 28.0}, r.Map(t)["stall_days"])
	require.Equal(t, 0.0, r.Map(t)["referral_minimum"], "a zero sent stays zero")
	require.Equal(t, 0.9, r.Map(t)["target_december"], "absent fields take their defaults")
	require.Equal(t, http.StatusPreconditionFailed, put(`"1"`, map[string]any{}).Status)
	require.Equal(t, http.StatusPreconditionRequired, env.Do(t, apptest.Call{Method: http.MethodPut, Path: "/api/v1/settings", Token: admin, Body: map[string]any{}}).Status)

	// The sweep uses the new thresholds at once: 7 days is now level 1.
	quietCaseAt(t, cl, 8)
	var n int
	require.NoError(t, env.App.DB.Pool.QueryRow(t.Context(), `SELECT count(*) FROM escalations WHERE kind = 'no_contact'`).Scan(&n))
	require.Equal(t, 1, n)

	var audited int
	require.NoError(t, env.App.DB.Pool.QueryRow(t.Context(), `SELECT count(*) FROM audit_log WHERE action = 'settings.change'`).Scan(&audited))
	require.Equal(t, 1, audited, "changes are audited")
}

func quietCaseAt(t *testing.T, cl *caseload, day int) {
	t.Helper()
	st := cl.env.MustStudent(t, cl.counselor)
	require.Equal(t, "open", st.Status)
	cl.env.Clock.Set(apptest.Start.AddDate(0, 0, day))
	require.NoError(t, cl.env.App.DB.InTx(t.Context(), func(tx pgx.Tx) error {
		_, err := cl.env.App.SweepWorker().Sweep(t.Context(), tx)
		return err
	}))
}
