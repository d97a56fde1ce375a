package httpapi_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/bangfu/bangfu/internal/apptest"
	"github.com/bangfu/bangfu/internal/destination"
	"github.com/bangfu/bangfu/internal/graduate"
	"github.com/bangfu/bangfu/internal/ledger"
	"github.com/bangfu/bangfu/internal/plan"
)

// TestOwnFileShowsOnlyWhatWasShared compares, field by field, the file a
// counselor reads with the one the graduate reads of themselves: the
// graduate's follow-up date and counts come from the entries shared with
// them only, and internal state is not theirs to see.
func TestOwnFileShowsOnlyWhatWasShared(t *testing.T) {
	t.Parallel()
	cl := newCaseload(t)
	env := cl.env
	ctx := t.Context()
	c := cl.counselor.Actor()
	st := env.MustActiveCase(t, cl.counselor, graduate.Input{Name: "李明", Accommodations: "轮椅通道"})
	appendEntry := func(kind, visibility, next string, at time.Time) {
		in := ledger.Input{Kind: kind, Channel: "phone", OccurredAt: at, Summary: "记录", Visibility: visibility, NextFollowupOn: next}
		if kind == "referral" {
			in.Referral = &ledger.Referral{Employer: "某公司", Position: "文员"}
		}
		_, err := env.App.Ledger.Append(ctx, c, st.ID, in)
		require.NoError(t, err)
	}
	now := env.Clock.Now()
	appendEntry("contact", "shared", "2026-06-10", now.Add(-3*time.Hour))
	appendEntry("referral", "shared", "", now.Add(-2*time.Hour))
	appendEntry("contact", "internal", "2026-06-05", now.Add(-time.Hour)) // an internal note of the next step
	appendEntry("referral", "internal", "", now)
	require.Equal(t, http.StatusCreated, env.Post(t, studentPath(st.ID, "/account"), cl.tok(t, cl.counselor),
		map[string]string{"username": "li.ming", "password": "student password"}).Status)
	stu := mustLoginAs(t, env, "li.ming", "student password")

	staff := env.Get(t, studentPath(st.ID), cl.tok(t, cl.counselor)).Map(t)
	r := env.Get(t, "/api/v1/me/file", stu.AccessToken)
	require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
	own := r.Map(t)

	// What the graduate's view derives from shared entries only.
	derived := map[string]any{
		"contacts_count":   float64(1),
		"referrals_count":  float64(1),
		"next_followup_on": "2026-06-10",
		"last_contact_at":  now.Add(-3 * time.Hour).UTC().Format(time.RFC3339),
	}
	require.Equal(t, float64(2), staff["contacts_count"], "staff count every contact")
	require.Equal(t, float64(2), staff["referrals_count"])
	require.Equal(t, "2026-06-05", staff["next_followup_on"], "staff see the internal next step")
	// What is the staff's alone.
	staffOnly := []string{"overdue", "version", "accommodations", "hardships", "updated_at", "counselor_id", "plan_revision"}
	for k, v := range own {
		if want, ok := derived[k]; ok {
			require.Equal(t, want, v, "the graduate's %s comes from shared entries", k)
			continue
		}
		require.Contains(t, staff, k, "the graduate's view has no field of its own but the derived ones: %s", k)
		require.Equal(t, staff[k], v, "the graduate sees the staff's %s", k)
	}
	for _, k := range staffOnly {
		require.NotContains(t, own, k, "the graduate's view leaves out %s", k)
	}
	for k := range derived {
		require.Contains(t, own, k)
	}
}

func TestOwnDestination(t *testing.T) {
	t.Parallel()
	cl := newCaseload(t)
	env := cl.env
	st := env.MustActiveCase(t, cl.counselor)
	require.Equal(t, http.StatusCreated, env.Post(t, studentPath(st.ID, "/account"), cl.tok(t, cl.counselor),
		map[string]string{"username": "zhao.lei", "password": "student password"}).Status)
	stu := mustLoginAs(t, env, "zhao.lei", "student password")

	r := env.Get(t, "/api/v1/me/destination", stu.AccessToken)
	require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
	require.Nil(t, r.Map(t)["current"], "nothing recorded yet")

	_, err := env.App.Destinations.Put(t.Context(), cl.counselor.Actor(), st.ID, nil, destination.Input{Code: "80", ProofKind: "admission_notice",
		ProofRef: "LQ-1", Note: "辅导员内部备注：家长来电确认"})
	require.NoError(t, err)
	r = env.Get(t, "/api/v1/me/destination", stu.AccessToken)
	require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
	var h struct {
		Current struct {
			Code, Status, Note string
		} `json:"current"`
	}
	r.JSON(t, &h)
	require.Equal(t, "80", h.Current.Code)
	require.Equal(t, "recorded", h.Current.Status, "the graduate sees the record's status")
	require.Empty(t, h.Current.Note, "a staff note is not the graduate's to read")
	require.NotEmpty(t, r.Header.Get("ETag"), "to report a change with If-Match")
	require.Equal(t, http.StatusForbidden, env.Get(t, "/api/v1/me/destination", cl.tok(t, cl.counselor)).Status)
}

// TestProvinceSeesNoFreeTextNorNames: province staff read every school's
// cases as metadata — kinds, channels, dates, roles, codes — never the free
// text that may hold names, and no name in clear anywhere.
func TestProvinceSeesNoFreeTextNorNames(t *testing.T) {
	t.Parallel()
	cl := newCaseload(t)
	env := cl.env
	ctx := t.Context()
	c := cl.counselor.Actor()
	counselorName := "辅导员王芳"
	_, err := env.App.DB.Pool.Exec(ctx, `UPDATE users SET display_name = $2 WHERE id = $1`, cl.counselor.ID, counselorName)
	require.NoError(t, err)
	st := env.MustActiveCase(t, cl.counselor, graduate.Input{Name: "欧阳明远", GraduationYear: 2027})
	_, err = env.App.Plans.Put(ctx, c, st.ID, nil, plan.Input{Goals: []string{"帮欧阳明远找到运维岗位"}, CadenceDays: 7, Note: "家长陈女士希望留在广州",
		Measures: []plan.MeasureInput{{Kind: "career_guidance", Description: "和欧阳明远一起改简历", Owner: "王芳老师", DueOn: "2026-06-05"}}})
	require.NoError(t, err)
	_, err = env.App.Ledger.Append(ctx, c, st.ID, ledger.Input{Kind: "contact", Channel: "phone", OccurredAt: env.Clock.Now(),
		Summary: "与欧阳明远通话，其母陈女士在场", NextStep: "下周约欧阳明远面谈"})
	require.NoError(t, err)
	h, err := env.App.Graduates.AddHardship(ctx, c, st.ID, graduate.HardshipInput{Category: "dibao", EvidenceType: "低保证", IssuingAuthority: "民政局"})
	require.NoError(t, err)
	_, err = env.App.Graduates.VerifyHardship(ctx, cl.supervisor.Actor(), st.ID, h.ID, graduate.Verification{Note: "核对了陈女士的低保证"})
	require.NoError(t, err)
	_, err = env.App.Destinations.Put(ctx, c, st.ID, nil, destination.Input{Code: "70", Note: "欧阳明远暂缓求职"})
	require.NoError(t, err)
	env.Clock.Set(apptest.Start.AddDate(0, 0, 15))
	env.Sweep(t) // no contact for 15 days, a measure past its day
	var esc int64
	require.NoError(t, env.App.DB.Pool.QueryRow(ctx, `SELECT id FROM escalations WHERE kind = 'measure_overdue'`).Scan(&esc))
	_, err = env.App.Escalations.Acknowledge(ctx, c, esc, "已提醒欧阳明远")
	require.NoError(t, err)

	for _, secret := range []string{"欧阳明远", "明远", "陈女士", counselorName, "王芳", st.StudentNumber} {
		env.NeverShow(secret)
	}
	tok := cl.tok(t, cl.province)
	get := func(path string) *apptest.Response {
		r := env.Get(t, path, tok)
		require.Equal(t, http.StatusOK, r.Status, "%s: %s", path, r.Body)
		return r
	}
	file := get(studentPath(st.ID)).Map(t)
	require.Equal(t, "辅****", file["counselor_name"], "the counselor's name is masked too")
	require.Equal(t, "******", file["hardships"].([]any)[0].(map[string]any)["verification_note"])
	get(studentPath(st.ID, "/plan"))
	get(studentPath(st.ID, "/destination"))
	get("/api/v1/reports/summary?school_id=" + fmt.Sprint(cl.school.ID))

	var entries struct {
		Items []map[string]any `json:"items"`
	}
	get(studentPath(st.ID, "/ledger")).JSON(t, &entries)
	require.Len(t, entries.Items, 1)
	e := entries.Items[0]
	require.Equal(t, "contact", e["kind"])
	require.Equal(t, "phone", e["channel"])
	require.Equal(t, "counselor", e["author_role"], "who wrote it, by role")
	require.NotEmpty(t, e["occurred_at"])
	require.Equal(t, "******", e["summary"])
	require.Equal(t, "******", e["next_step"])
	require.Empty(t, e["hash"], "a hash of short text could confirm a guess of it")

	get("/api/v1/ledger").JSON(t, &entries)
	require.Len(t, entries.Items, 1)
	require.Equal(t, "******", entries.Items[0]["summary"])
	require.Equal(t, "counselor", entries.Items[0]["author_role"])

	var escalations struct {
		Items []map[string]any `json:"items"`
	}
	get("/api/v1/escalations").JSON(t, &escalations)
	require.NotEmpty(t, escalations.Items)
	for _, it := range escalations.Items {
		if it["kind"] == "measure_overdue" {
			require.Equal(t, "帮扶措施已过截止日期（2026-06-05）", it["reason"], "the system's words only")
			require.Equal(t, "******", it["acknowledge_note"])
		}
	}
}

// TestEveryStaffReadIsAudited: lists and reports are reads of case data
// too; each staff read leaves a row in the audit log.
func TestEveryStaffReadIsAudited(t *testing.T) {
	t.Parallel()
	cl := newCaseload(t)
	env := cl.env
	st := env.MustActiveCase(t, cl.counselor)
	tok := cl.tok(t, cl.supervisor)
	reads := map[string]string{
		"/api/v1/ledger":                   "ledger.review",
		"/api/v1/escalations":              "escalation.list",
		"/api/v1/reports/summary":          "report.read",
		studentPath(st.ID, "/destination"): "destination.read",
		studentPath(st.ID, "/handover"):    "handover.read",
	}
	for path := range reads {
		require.Equal(t, http.StatusOK, env.Get(t, path, tok).Status, path)
	}
	// A cached report is a read all the same.
	require.Equal(t, http.StatusOK, env.Get(t, "/api/v1/reports/summary", tok).Status)
	env.App.AuditReads.Flush()
	for path, action := range reads {
		var n int
		require.NoError(t, env.App.DB.Pool.QueryRow(t.Context(), `SELECT count(*) FROM audit_log WHERE action = $1 AND actor_id = $2`,
			action, cl.supervisor.ID).Scan(&n))
		want := 1
		if action == "report.read" {
			want = 2
		}
		require.Equal(t, want, n, "%s is audited as %s", path, action)
	}
}

// TestProvinceCannotSearchMaskedFields: what a role sees masked it cannot
// search by — else it could rebuild a masked student number one character
// at a time, or confirm a guessed name (issue 11.4).
func TestProvinceCannotSearchMaskedFields(t *testing.T) {
	t.Parallel()
	cl := newCaseload(t)
	env := cl.env
	st := env.MustStudent(t, cl.counselor, graduate.Input{StudentNumber: "D2026731", Name: "欧阳明远"})
	tok := cl.tok(t, cl.province)

	// The attack: extend a known prefix one character at a time and keep
	// the character that still matches.
	known := ""
	for range len(st.StudentNumber) {
		found := false
		for _, ch := range "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ-" {
			r := env.Get(t, "/api/v1/students?q="+known+string(ch), tok)
			if r.Status == http.StatusOK {
				var l struct{ Items []any }
				r.JSON(t, &l)
				if len(l.Items) > 0 {
					known, found = known+string(ch), true
					break
				}
				continue
			}
			require.Equal(t, http.StatusBadRequest, r.Status, "%s", r.Body)
			_, fields := r.Error(t)
			require.Equal(t, map[string]string{"q": "cannot be used by province staff, who see names and student numbers masked"}, fields)
		}
		if !found {
			break
		}
	}
	require.Empty(t, known, "nothing of the masked number %s is learnt", st.StudentNumber)
	for _, guess := range []string{"欧阳", "欧阳明远"} {
		require.Equal(t, http.StatusBadRequest, env.Get(t, "/api/v1/students?q="+guess, tok).Status, "a guessed name is not confirmed")
	}
	// Filters on what province sees in clear still work.
	var l struct {
		Items []struct {
			ID            int64  `json:"id"`
			StudentNumber string `json:"student_number"`
		} `json:"items"`
	}
	r := env.Get(t, "/api/v1/students?status=open", tok)
	require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
	r.JSON(t, &l)
	require.Len(t, l.Items, 1)
	require.True(t, strings.HasPrefix(l.Items[0].StudentNumber, "*"))
	// Staff who see the number in clear search by it.
	r = env.Get(t, "/api/v1/students?q=D2026", cl.tok(t, cl.counselor))
	require.Equal(t, http.StatusOK, r.Status)
	r.JSON(t, &l)
	require.Len(t, l.Items, 1)
}

func TestUnknownFilterOnEscalationsIsRefused(t *testing.T) {
	t.Parallel()
	cl := newCaseload(t)
	r := cl.env.Get(t, "/api/v1/escalations?counselor_id=999", cl.tok(t, cl.supervisor))
	require.Equal(t, http.StatusBadRequest, r.Status)
	_, fields := r.Error(t)
	require.Equal(t, map[string]string{"counselor_id": "is not a parameter of this request"}, fields)
}
