package httpapi_test

import (
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/bangfu/bangfu"
	"github.com/bangfu/bangfu/internal/apptest"
	"github.com/bangfu/bangfu/internal/graduate"
	"github.com/bangfu/bangfu/internal/ledger"
)

type caseloadRowJSON struct {
	ID              int64   `json:"id"`
	Name            string  `json:"name"`
	StudentNumber   string  `json:"student_number"`
	Overdue         bool    `json:"overdue"`
	NextFollowupOn  *string `json:"next_followup_on"`
	EscalationLevel int     `json:"escalation_level"`
}

// TestListByUrgency: the list is the caseload most urgent first by
// default (and with order=urgency), as narrow rows, with keyset paging;
// order=id keeps the id-order list of files with its filters.
func TestListByUrgency(t *testing.T) {
	t.Parallel()
	cl := newCaseload(t)
	env := cl.env
	ctx := t.Context()
	quiet := env.MustStudent(t, cl.counselor, graduate.Input{Name: "张三"})
	late := env.MustStudent(t, cl.counselor, graduate.Input{Name: "李四"})
	fine := env.MustStudent(t, cl.counselor, graduate.Input{Name: "王五"})
	for _, st := range []graduate.Student{late, fine} {
		_, err := env.App.Ledger.Append(ctx, cl.counselor.Actor(), st.ID, ledger.Input{Kind: "contact", Channel: "phone",
			OccurredAt: env.Clock.Now(), Summary: "电话", NextFollowupOn: bangfu.Today(env.Clock).AddDays(2).String()})
		require.NoError(t, err)
	}
	env.Clock.Advance(5 * 24 * time.Hour)
	_, err := env.App.Ledger.Append(ctx, cl.counselor.Actor(), fine.ID, ledger.Input{Kind: "contact", Channel: "phone",
		OccurredAt: env.Clock.Now(), Summary: "电话"})
	require.NoError(t, err)

	get := func(query string) ([]caseloadRowJSON, string) {
		r := env.Get(t, "/api/v1/students"+query, cl.tok(t, cl.counselor))
		require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
		var l struct {
			Items      []caseloadRowJSON `json:"items"`
			NextCursor string            `json:"next_cursor"`
		}
		r.JSON(t, &l)
		return l.Items, l.NextCursor
	}
	ids := func(rows []caseloadRowJSON) []int64 {
		out := []int64{}
		for _, r := range rows {
			out = append(out, r.ID)
		}
		return out
	}
	rows, _ := get("")
	require.Equal(t, []int64{late.ID, quiet.ID, fine.ID}, ids(rows), "by default: overdue, then never contacted, then the rest")
	require.True(t, rows[0].Overdue)
	rows, _ = get("?order=urgency")
	require.Equal(t, []int64{late.ID, quiet.ID, fine.ID}, ids(rows), "order=urgency names the default")
	rows, _ = get("?order=id")
	require.Equal(t, []int64{quiet.ID, late.ID, fine.ID}, ids(rows), "order=id lists in id order")
	// order=id filters on the flag the follow-up job sets when it fires.
	require.NoError(t, graduate.MarkOverdue(ctx, env.App.DB.Pool, late.ID))
	rows, _ = get("?order=id&overdue=true")
	require.Equal(t, []int64{late.ID}, ids(rows), "order=id keeps its overdue filter")
	rows, _ = get("?order=id&overdue=false")
	require.Equal(t, []int64{quiet.ID, fine.ID}, ids(rows))
	// The default row is narrow: what a row shows, not the whole file.
	r0 := env.Get(t, "/api/v1/students?limit=1", cl.tok(t, cl.counselor))
	var narrow struct{ Items []map[string]any }
	r0.JSON(t, &narrow)
	require.Len(t, narrow.Items, 1)
	for _, field := range []string{"id_number", "phone", "version", "hardships", "intention"} {
		require.NotContains(t, narrow.Items[0], field)
	}

	// The page continues in urgency order with no order named.
	d1, dnext := get("?limit=2")
	d2, _ := get("?limit=2&cursor=" + dnext)
	require.Equal(t, []int64{late.ID, quiet.ID, fine.ID}, ids(append(d1, d2...)))

	page1, next := get("?order=urgency&limit=2")
	require.Len(t, page1, 2)
	page2, next2 := get("?order=urgency&limit=2&cursor=" + next)
	require.Empty(t, next2)
	require.Equal(t, []int64{late.ID, quiet.ID, fine.ID}, ids(append(page1, page2...)))

	rows, _ = get("?order=urgency&due=overdue")
	require.Equal(t, []int64{late.ID}, ids(rows))
	rows, _ = get("?order=urgency&overdue=true")
	require.Equal(t, []int64{late.ID}, ids(rows))
	rows, _ = get("?order=urgency&q=王")
	require.Equal(t, []int64{fine.ID}, ids(rows))

	for query, field := range map[string]string{
		"?order=id&due=overdue":         "due",
		"?order=id&escalated=true":      "escalated",
		"?order=id&department_id=1":     "department_id",
		"?overdue=false":                "overdue",
		"?order=id&cursor=x":            "cursor",
		"?order=alphabet":               "order",
		"?order=urgency&due=soon":       "due",
		"?order=urgency&cursor=bad":     "cursor",
		"?order=urgency&overdue=false":  "overdue",
		"?order=urgency&limit=500":      "limit",
		"?order=urgency&cursor=" + "Yw": "cursor",
	} {
		r := env.Get(t, "/api/v1/students"+query, cl.tok(t, cl.counselor))
		require.Equal(t, http.StatusBadRequest, r.Status, "%s: %s", query, r.Body)
		_, fields := r.Error(t)
		require.Contains(t, fields, field, query)
	}

	r := env.Get(t, "/api/v1/students?order=urgency", cl.tok(t, cl.province))
	require.Equal(t, http.StatusOK, r.Status)
	var masked struct{ Items []caseloadRowJSON }
	r.JSON(t, &masked)
	require.Len(t, masked.Items, 3)
	for _, row := range masked.Items {
		require.Contains(t, row.Name, "*")
	}
	r = env.Get(t, "/api/v1/students?order=urgency", cl.tok(t, cl.colleague))
	require.Equal(t, http.StatusOK, r.Status)
	require.JSONEq(t, `{"items":[],"next_cursor":""}`, string(r.Body), "a counselor sees only their own graduates")
}

// TestResetStudentPassword over the API: the graduate's counselor sets a
// new password; the graduate logs in with it; others are refused.
func TestResetStudentPassword(t *testing.T) {
	t.Parallel()
	cl := newCaseload(t)
	env := cl.env
	st := env.MustStudent(t, cl.counselor)
	r := env.Post(t, studentPath(st.ID, "/account"), cl.tok(t, cl.counselor), map[string]string{"username": "grad.reset", "password": apptest.Password})
	require.Equal(t, http.StatusCreated, r.Status, "%s", r.Body)

	path := studentPath(st.ID, "/account/password")
	r = env.Post(t, path, cl.tok(t, cl.colleague), map[string]string{"password": "brand new password"})
	require.Equal(t, http.StatusNotFound, r.Status)
	r = env.Post(t, path, cl.tok(t, cl.otherSupervisor), map[string]string{"password": "brand new password"})
	require.Equal(t, http.StatusNotFound, r.Status)
	r = env.Post(t, path, cl.tok(t, cl.counselor), map[string]string{"password": "short"})
	require.Equal(t, http.StatusBadRequest, r.Status)
	r = env.Post(t, path, cl.tok(t, cl.counselor), map[string]string{"password": "brand new password"})
	require.Equal(t, http.StatusNoContent, r.Status, "%s", r.Body)
	r = env.Post(t, "/api/v1/auth/login", "", map[string]string{"username": "grad.reset", "password": "brand new password"})
	require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
	r = env.Post(t, fmt.Sprintf("/api/v1/students/%d/account/password", env.MustStudent(t, cl.counselor).ID), cl.tok(t, cl.counselor),
		map[string]string{"password": "brand new password"})
	require.Equal(t, http.StatusNotFound, r.Status, "no login to reset")
}
