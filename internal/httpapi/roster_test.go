package httpapi_test

import (
	"bytes"
	"context"
	"encoding/csv"
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"github.com/xuri/excelize/v2"

	"github.com/bangfu/bangfu"
	"github.com/bangfu/bangfu/internal/apptest"
	"github.com/bangfu/bangfu/internal/directory"
	"github.com/bangfu/bangfu/internal/graduate"
	"github.com/bangfu/bangfu/internal/plan"
	"github.com/bangfu/bangfu/internal/roster"
)

// rosterWorld is two schools, each with a supervisor, a counselor and
// eligible graduates with logins, two bases with their staff, and an
// admin; every ID number and certificate number is one no response shows.
type rosterWorld struct {
	env              *apptest.Env
	admin, baseStaff directory.User
	otherBaseStaff   directory.User
	base, otherBase  roster.Base
	schools          [2]directory.School
	supervisors      [2]directory.User
	counselors       [2]directory.User
	graduates        [2][]graduate.Student
	logins           map[int64]directory.User
}

func newRosterWorld(t *testing.T, perSchool int, names ...string) *rosterWorld {
	t.Helper()
	env := apptest.New(t)
	ctx := t.Context()
	w := &rosterWorld{env: env, admin: env.MustUser(t, bangfu.RoleAdmin, nil), logins: map[int64]directory.User{}}
	w.base = env.MustBase(t, roster.BaseInput{WebhookURL: "https://hooks.example.cn/bangfu?token=tok-9f8e", WebhookSecret: "a-secret-of-the-base-123"})
	env.NeverShow("tok-9f8e")
	env.NeverShow("a-secret-of-the-base-123")
	w.otherBase = env.MustBase(t)
	for _, b := range []*directory.User{&w.baseStaff, &w.otherBaseStaff} {
		id := w.base.ID
		if b == &w.otherBaseStaff {
			id = w.otherBase.ID
		}
		u, err := env.App.Directory.CreateUser(ctx, bangfu.Actor{}, directory.UserInput{Username: fmt.Sprintf("base.staff%d", env.Unique()),
			Role: bangfu.RoleBase, BaseID: &id, Password: apptest.Password})
		require.NoError(t, err)
		*b = u
	}
	n := 0
	for i := range 2 {
		w.schools[i] = env.MustSchool(t)
		w.supervisors[i] = env.MustUser(t, bangfu.RoleSupervisor, &w.schools[i].ID)
		w.counselors[i] = env.MustUser(t, bangfu.RoleCounselor, &w.schools[i].ID)
		for range perSchool {
			in := graduate.Input{Consent: true, IDNumber: env.IDNumber(), Phone: fmt.Sprintf("1390000%04d", env.Unique())}
			if n < len(names) {
				in.Name = names[n]
			}
			n++
			env.NeverShow(in.IDNumber)
			st := env.MustStudent(t, w.counselors[i], in)
			cert := fmt.Sprintf("MZ-%06d", env.Unique())
			env.NeverShow(cert)
			h, err := env.App.Graduates.AddHardship(ctx, w.counselors[i].Actor(), st.ID, graduate.HardshipInput{
				Category: "poverty_alleviated", EvidenceType: "脱贫户证明", IssuingAuthority: "乡村振兴局", CertificateNo: cert})
			require.NoError(t, err)
			_, err = env.App.Graduates.VerifyHardship(ctx, w.supervisors[i].Actor(), st.ID, h.ID, graduate.Verification{Decision: "verified"})
			require.NoError(t, err)
			_, err = env.App.Plans.Put(ctx, w.counselors[i].Actor(), st.ID, nil, plan.Input{Goals: []string{"就业"}, CadenceDays: 14,
				Measures: []plan.MeasureInput{{Kind: "hongzhi_training", Description: "宏志助航", Owner: "本人"}}})
			require.NoError(t, err)
			w.logins[st.ID], err = env.App.Graduates.CreateAccount(ctx, env.App.Directory, w.counselors[i].Actor(), st.ID,
				graduate.AccountInput{Username: fmt.Sprintf("grad%d", env.Unique()), Password: apptest.Password})
			require.NoError(t, err)
			w.graduates[i] = append(w.graduates[i], st)
			env.Clock.Advance(time.Second)
		}
	}
	return w
}

func (w *rosterWorld) tok(t *testing.T, u directory.User) string { return w.env.Token(t, u) }

// cohort creates, opens (over the API, with If-Match) and builds a cohort
// of base with capacity places.
func (w *rosterWorld) cohort(t *testing.T, baseID int64, capacity int) roster.Cohort {
	t.Helper()
	env := w.env
	today := bangfu.Today(env.Clock)
	r := env.Post(t, "/api/v1/cohorts", w.tok(t, w.admin), map[string]any{"base_id": baseID, "name": fmt.Sprintf("2026年第%d期", env.Unique()),
		"mode": "offline", "starts_on": today.AddDays(30).String(), "ends_on": today.AddDays(40).String(), "capacity": capacity,
		"target_year": 2026, "nomination_deadline": today.AddDays(20).String()})
	require.Equal(t, http.StatusCreated, r.Status, "%s", r.Body)
	var c roster.Cohort
	r.JSON(t, &c)
	require.Equal(t, roster.Draft, c.State)
	r = env.Do(t, apptest.Call{Method: http.MethodPatch, Path: fmt.Sprintf("/api/v1/cohorts/%d", c.ID), Token: w.tok(t, w.admin),
		Body: map[string]any{"state": "open"}, Header: map[string]string{"If-Match": r.Header.Get("ETag")}})
	require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
	r.JSON(t, &c)
	require.Equal(t, roster.Open, c.State)
	_, err := env.App.Roster.Build(t.Context(), c.ID)
	require.NoError(t, err)
	return c
}

func (w *rosterWorld) roster(t *testing.T, u directory.User, cohortID int64, query string) []roster.Place {
	t.Helper()
	r := w.env.Get(t, fmt.Sprintf("/api/v1/cohorts/%d/roster%s", cohortID, query), w.tok(t, u))
	require.Equal(t, http.StatusOK, r.Status, "%s: %s", u.Role, r.Body)
	var l bangfu.List[roster.Place]
	r.JSON(t, &l)
	return l.Items
}

func (w *rosterWorld) placeOf(t *testing.T, cohortID, studentID int64) roster.Place {
	t.Helper()
	for _, p := range w.roster(t, w.admin, cohortID, "?limit=200") {
		if *p.StudentID == studentID {
			return p
		}
	}
	t.Fatalf("graduate %d has no place in cohort %d", studentID, cohortID)
	return roster.Place{}
}

// TestRosterRoles walks each role through its part of a roster: admins
// see it whole, supervisors and counselors their own, the base only its
// cohorts' confirmed places; another school's place is 404.
func TestRosterRoles(t *testing.T) {
	t.Parallel()
	w := newRosterWorld(t, 3)
	env := w.env
	c := w.cohort(t, w.base.ID, 4)
	otherCohort := w.cohort(t, w.otherBase.ID, 2)

	all := w.roster(t, w.admin, c.ID, "")
	require.Len(t, all, 6)
	held := 0
	for _, p := range all {
		require.Empty(t, p.StudentNumber, "admins are not case workers: names and schools only")
		require.Empty(t, p.Phone)
		if p.Status == roster.Nominated {
			held++
		}
	}
	require.Equal(t, 4, held)

	for i := range 2 {
		mine := w.roster(t, w.supervisors[i], c.ID, "")
		require.Len(t, mine, 3, "a supervisor sees their school's part")
		for _, p := range mine {
			require.Equal(t, w.schools[i].ID, p.SchoolID)
			require.NotEmpty(t, p.StudentNumber)
			require.Contains(t, p.Actions, "withdraw")
		}
		require.Len(t, w.roster(t, w.counselors[i], c.ID, "?status=nominated"), 2, "a counselor sees their graduates")
	}

	// Another school's place is not found, for reading and for withdrawing.
	theirs := w.placeOf(t, c.ID, w.graduates[0][0].ID)
	r := env.Get(t, fmt.Sprintf("/api/v1/places/%d", theirs.ID), w.tok(t, w.supervisors[1]))
	require.Equal(t, http.StatusNotFound, r.Status)
	r = env.Post(t, fmt.Sprintf("/api/v1/places/%d/withdraw", theirs.ID), w.tok(t, w.supervisors[1]), map[string]string{"reason": "不是我校学生"})
	require.Equal(t, http.StatusNotFound, r.Status)
	r = env.Get(t, fmt.Sprintf("/api/v1/places/%d", theirs.ID), w.tok(t, w.logins[w.graduates[1][0].ID]))
	require.Equal(t, http.StatusNotFound, r.Status, "another graduate's place")
	r = env.Post(t, fmt.Sprintf("/api/v1/places/%d/confirm", theirs.ID), w.tok(t, w.logins[w.graduates[1][0].ID]), nil)
	require.Equal(t, http.StatusNotFound, r.Status)

	// The base sees nothing until a graduate confirms.
	require.Empty(t, w.roster(t, w.baseStaff, c.ID, ""))
	r = env.Get(t, fmt.Sprintf("/api/v1/places/%d", theirs.ID), w.tok(t, w.baseStaff))
	require.Equal(t, http.StatusNotFound, r.Status, "a nomination is not the base's")
	me := w.logins[w.graduates[0][0].ID]
	r = env.Get(t, "/api/v1/me/roster", w.tok(t, me))
	require.Equal(t, http.StatusOK, r.Status)
	var mine bangfu.List[roster.Place]
	r.JSON(t, &mine)
	require.Len(t, mine.Items, 2, "both cohorts")
	r = env.Post(t, fmt.Sprintf("/api/v1/places/%d/confirm", theirs.ID), w.tok(t, me), nil)
	require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
	seen := w.roster(t, w.baseStaff, c.ID, "")
	require.Len(t, seen, 1)
	require.Equal(t, roster.Confirmed, seen[0].Status)
	require.Nil(t, seen[0].StudentID, "the base gets no file ids")
	require.Empty(t, seen[0].StudentNumber)
	require.Equal(t, w.graduates[0][0].Name, seen[0].Name)
	require.Equal(t, w.graduates[0][0].Phone, seen[0].Phone, "the base may call the graduate")
	r = env.Get(t, fmt.Sprintf("/api/v1/places/%d", theirs.ID), w.tok(t, w.baseStaff))
	require.Equal(t, http.StatusOK, r.Status)
	require.NotContains(t, string(r.Body), `"history"`)

	// Another base sees neither the cohort nor the place.
	r = env.Get(t, fmt.Sprintf("/api/v1/cohorts/%d", c.ID), w.tok(t, w.otherBaseStaff))
	require.Equal(t, http.StatusNotFound, r.Status)
	r = env.Get(t, fmt.Sprintf("/api/v1/cohorts/%d/roster", c.ID), w.tok(t, w.otherBaseStaff))
	require.Equal(t, http.StatusNotFound, r.Status)
	r = env.Get(t, fmt.Sprintf("/api/v1/places/%d", theirs.ID), w.tok(t, w.otherBaseStaff))
	require.Equal(t, http.StatusNotFound, r.Status)
	r = env.Get(t, "/api/v1/cohorts", w.tok(t, w.otherBaseStaff))
	var cohorts bangfu.List[roster.Cohort]
	r.JSON(t, &cohorts)
	require.Len(t, cohorts.Items, 1)
	require.Equal(t, otherCohort.ID, cohorts.Items[0].ID)
	r = env.Post(t, fmt.Sprintf("/api/v1/places/%d/attend", theirs.ID), w.tok(t, w.otherBaseStaff), nil)
	require.Equal(t, http.StatusNotFound, r.Status)

	// The summary: admins every school's quota, supervisors their own.
	r = env.Get(t, fmt.Sprintf("/api/v1/cohorts/%d/summary", c.ID), w.tok(t, w.admin))
	var sum roster.Summary
	r.JSON(t, &sum)
	require.Len(t, sum.Schools, 2)
	require.Equal(t, 2, sum.Schools[0].Quota)
	r = env.Get(t, fmt.Sprintf("/api/v1/cohorts/%d/summary", c.ID), w.tok(t, w.supervisors[1]))
	r.JSON(t, &sum)
	require.Len(t, sum.Schools, 1)
	require.Equal(t, w.schools[1].ID, sum.Schools[0].SchoolID)

	// The counselor's view of the file: the places, and why not eligible.
	r = env.Get(t, studentPath(w.graduates[0][0].ID, "/training"), w.tok(t, w.counselors[0]))
	require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
	var tr roster.Training
	r.JSON(t, &tr)
	require.Len(t, tr.Places, 2)
	require.Len(t, tr.Open, 2)
	r = env.Get(t, studentPath(w.graduates[0][0].ID, "/training"), w.tok(t, w.counselors[1]))
	require.Equal(t, http.StatusNotFound, r.Status)

	// A counselor withdraws their graduate's waiting place, with a reason.
	waiting := w.placeOf(t, c.ID, w.graduates[1][2].ID)
	require.Equal(t, roster.Waitlisted, waiting.Status)
	r = env.Post(t, fmt.Sprintf("/api/v1/places/%d/withdraw", waiting.ID), w.tok(t, w.counselors[1]), map[string]string{"reason": ""})
	require.Equal(t, http.StatusBadRequest, r.Status)
	_, fields := r.Error(t)
	require.Equal(t, "is required", fields["reason"])
	r = env.Post(t, fmt.Sprintf("/api/v1/places/%d/withdraw", waiting.ID), w.tok(t, w.counselors[1]), map[string]string{"reason": "已升学"})
	require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
	var p roster.Place
	r.JSON(t, &p)
	require.Equal(t, roster.Withdrawn, p.Status)
	require.Equal(t, "已升学", p.Reason)
	require.Equal(t, w.counselors[1].ID, *p.ChangedBy)
	require.Len(t, p.History, 2)

	// Admins read the deliveries, and the bases, without their secrets.
	r = env.Get(t, fmt.Sprintf("/api/v1/cohorts/%d/deliveries", c.ID), w.tok(t, w.admin))
	require.Equal(t, http.StatusOK, r.Status)
	var ds bangfu.List[roster.Delivery]
	r.JSON(t, &ds)
	require.Len(t, ds.Items, 5, "4 nominations and a confirmation")
	r = env.Get(t, "/api/v1/bases", w.tok(t, w.admin))
	require.Equal(t, http.StatusOK, r.Status)
	require.Contains(t, string(r.Body), `"host":"hooks.example.cn"`)
}

// TestRosterExport: CSV (UTF-8 with BOM) and XLSX with Chinese headers,
// the admin's whole cohort and a supervisor's school, formulas written as
// text, each export audited; others may not export.
func TestRosterExport(t *testing.T) {
	t.Parallel()
	w := newRosterWorld(t, 2, "=HYPERLINK(\"http://evil\")", "+李明", "@SUM(A1)", "-陈")
	env := w.env
	c := w.cohort(t, w.base.ID, 3)
	path := fmt.Sprintf("/api/v1/cohorts/%d/roster", c.ID)

	r := env.Get(t, path+"?format=csv", w.tok(t, w.admin))
	require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
	require.Equal(t, "text/csv; charset=utf-8", r.Header.Get("Content-Type"))
	require.Contains(t, r.Header.Get("Content-Disposition"), fmt.Sprintf("roster-%d.csv", c.ID))
	require.True(t, bytes.HasPrefix(r.Body, []byte("\xef\xbb\xbf")), "UTF-8 with a byte-order mark")
	recs, err := csv.NewReader(bytes.NewReader(bytes.TrimPrefix(r.Body, []byte("\xef\xbb\xbf")))).ReadAll()
	require.NoError(t, err)
	require.Equal(t, roster.ExportHeaders, recs[0])
	require.Equal(t, "姓名", recs[0][1])
	require.Len(t, recs, 5, "the whole cohort")
	names := map[string]bool{}
	for _, rec := range recs[1:] {
		names[rec[1]] = true
		require.NotContains(t, "=+-@", rec[1][:1], "no cell starts a formula")
	}
	require.True(t, names[`'=HYPERLINK("http://evil")`])
	require.True(t, names["'+李明"])
	require.True(t, names["'@SUM(A1)"])
	require.True(t, names["'-陈"])

	r = env.Get(t, path+"?format=xlsx", w.tok(t, w.supervisors[0]))
	require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
	f, err := excelize.OpenReader(bytes.NewReader(r.Body))
	require.NoError(t, err)
	sheet := f.GetSheetName(0)
	rows, err := f.GetRows(sheet)
	require.NoError(t, err)
	require.Equal(t, roster.ExportHeaders, rows[0])
	require.Len(t, rows, 3, "the supervisor's school only")
	for i := 2; i <= 3; i++ {
		cell := fmt.Sprintf("B%d", i)
		formula, err := f.GetCellFormula(sheet, cell)
		require.NoError(t, err)
		require.Empty(t, formula, "a name is never a formula")
		typ, err := f.GetCellType(sheet, cell)
		require.NoError(t, err)
		require.Equal(t, excelize.CellTypeInlineString, typ)
	}
	require.ElementsMatch(t, []string{`=HYPERLINK("http://evil")`, "+李明"}, []string{rows[1][1], rows[2][1]}, "shown as typed")

	for _, u := range []directory.User{w.counselors[0], w.baseStaff} {
		r = env.Get(t, path+"?format=csv", w.tok(t, u))
		require.Equal(t, http.StatusForbidden, r.Status, "%s may not export", u.Role)
	}
	r = env.Get(t, path+"?format=pdf", w.tok(t, w.admin))
	require.Equal(t, http.StatusBadRequest, r.Status)

	var n int
	require.NoError(t, env.App.DB.Pool.QueryRow(context.Background(), `SELECT count(*) FROM audit_log WHERE action = 'roster.export'`).Scan(&n))
	require.Equal(t, 2, n, "each export is audited")
	var school *int64
	require.NoError(t, env.App.DB.Pool.QueryRow(context.Background(), `SELECT school_id FROM audit_log WHERE action = 'roster.export' AND actor_id = $1`,
		w.supervisors[0].ID).Scan(&school))
	require.Equal(t, w.schools[0].ID, *school)
}
