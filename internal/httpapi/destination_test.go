package httpapi_test

import (
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/bangfu/bangfu"
	"github.com/bangfu/bangfu/internal/apptest"
	"github.com/bangfu/bangfu/internal/cnid"
)

func creditCode(first17 string) string { return first17 + string(cnid.CreditCodeCheck(first17)) }

func TestDestinationRules(t *testing.T) {
	t.Parallel()
	cl := newCaseload(t)
	env := cl.env
	st := env.MustStudent(t, cl.counselor)
	tok := cl.tok(t, cl.counselor)
	put := func(token, etag string, body any) *apptest.Response {
		c := apptest.Call{Method: http.MethodPut, Path: studentPath(st.ID, "/destination"), Token: token, Body: body}
		if etag != "" {
			c.Header = map[string]string{"If-Match": etag}
		}
		return env.Do(t, c)
	}
	fields := func(r *apptest.Response) map[string]string {
		require.Equal(t, http.StatusBadRequest, r.Status, "%s", r.Body)
		_, f := r.Error(t)
		return f
	}

	require.Equal(t, map[string]string{
		"employer":    "is required for code 10",
		"credit_code": "is required for code 10: the employer's 统一社会信用代码",
		"proof_kind":  "code 10 needs proof of kind employment_agreement",
		"proof_ref":   "is required for code 10: the proof's number or file reference",
	}, fields(put(tok, "", map[string]string{"code": "10"})))
	require.Equal(t, map[string]string{"proof_kind": "an internship or traineeship certificate is never proof of employment (四不准)"},
		fields(put(tok, "", map[string]string{"code": "11", "employer": "某公司", "credit_code": creditCode("91440101MA5CXXXX0"), "proof_kind": "internship_certificate", "proof_ref": "SX-1"})))
	require.Equal(t, map[string]string{"credit_code": "has a wrong check character"},
		fields(put(tok, "", map[string]string{"code": "11", "employer": "某公司", "credit_code": "91440101MA5CXXXX00", "proof_kind": "labor_contract", "proof_ref": "HT-1"})))
	require.Equal(t, map[string]string{"proof_kind": "code 76 needs proof of kind signed_statement", "proof_ref": "is required for code 76: the proof's number or file reference"},
		fields(put(tok, "", map[string]string{"code": "76"})))
	require.Contains(t, fields(put(tok, "", map[string]string{"code": "99"}))["code"], "must be a national destination code")

	// The graduate reports their own destination.
	require.Equal(t, http.StatusCreated, env.Post(t, studentPath(st.ID, "/account"), tok, map[string]string{"username": "zhao.lei", "password": "student password"}).Status)
	stu := mustLoginAs(t, env, "zhao.lei", "student password")
	r := put(stu.AccessToken, "", map[string]string{"code": "76", "proof_kind": "signed_statement", "proof_ref": "本人声明2026-06-01"})
	require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
	reported := r.Map(t)
	require.Equal(t, "reported", reported["status"])
	require.Equal(t, "student", reported["entered_role"], "who entered it is always recorded")
	etag := r.Header.Get("ETag")

	// The counselor records the signed contract; the earlier report stays as history.
	require.Equal(t, http.StatusPreconditionRequired, put(tok, "", map[string]string{"code": "70"}).Status)
	r = put(tok, etag, map[string]string{"code": "11", "employer": "广州某科技有限公司", "credit_code": creditCode("91440101MA5CXXXX0"),
		"proof_kind": "labor_contract", "proof_ref": "HT-2026-001", "position": "运维工程师"})
	require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
	require.Equal(t, "recorded", r.Map(t)["status"])
	etag = r.Header.Get("ETag")
	require.Equal(t, http.StatusPreconditionFailed, put(tok, `"1"`, map[string]string{"code": "70"}).Status)

	require.Equal(t, http.StatusForbidden, env.Post(t, studentPath(st.ID, "/destination/verify"), tok, nil).Status, "a supervisor verifies")
	require.Equal(t, http.StatusPreconditionRequired, env.Post(t, studentPath(st.ID, "/destination/verify"), cl.tok(t, cl.supervisor), nil).Status,
		"verifying says which record was checked")
	before := env.Get(t, studentPath(st.ID), tok).ETagVersion(t)
	r = env.Do(t, apptest.Call{Method: http.MethodPost, Path: studentPath(st.ID, "/destination/verify"), Token: cl.tok(t, cl.supervisor), Header: map[string]string{"If-Match": etag}})
	require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
	require.Equal(t, "verified", r.Map(t)["status"])
	require.Greater(t, env.Get(t, studentPath(st.ID), tok).ETagVersion(t), before, "verifying changes the file's version")

	r = env.Get(t, studentPath(st.ID, "/destination"), tok)
	require.Equal(t, http.StatusOK, r.Status)
	var h struct {
		Current struct{ Code, Status string }   `json:"current"`
		History []struct{ Code, Status string } `json:"history"`
	}
	r.JSON(t, &h)
	require.Equal(t, "11", h.Current.Code)
	require.Equal(t, []struct{ Code, Status string }{{"76", "reported"}}, h.History)
	require.Equal(t, "placed", env.Get(t, studentPath(st.ID), tok).Map(t)["status"], "a recorded destination places the case")

	// After 31 August of the graduation year only a supervisor may change it.
	env.Clock.Set(time.Date(2026, 9, 1, 9, 0, 0, 0, bangfu.Shanghai))
	tok = cl.tok(t, cl.counselor) // the old token expired with the clock
	r = put(tok, etag, map[string]string{"code": "70"})
	require.Equal(t, http.StatusForbidden, r.Status)
	require.Equal(t, http.StatusOK, put(cl.tok(t, cl.supervisor), etag, map[string]string{"code": "70"}).Status)
}
