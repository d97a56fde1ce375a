package httpapi_test

import (
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/bangfu/bangfu"
	"github.com/bangfu/bangfu/internal/graduate"
)

func TestHandOverThroughTheAPI(t *testing.T) {
	t.Parallel()
	cl := newCaseload(t)
	env := cl.env
	st := env.MustActiveCase(t, cl.counselor, graduate.Input{Consent: true})
	env.Clock.Set(time.Date(2026, 7, 20, 10, 0, 0, 0, bangfu.Shanghai))
	tok := cl.tok(t, cl.counselor)
	body := map[string]any{"agency": "广州市天河区公共就业服务中心", "agency_region": "广州市天河区", "handed_over_on": "2026-07-20",
		"shared_fields": []string{"name", "phone", "major"}, "note": "街道就业专员对接"}

	require.Equal(t, http.StatusForbidden, env.Post(t, studentPath(st.ID, "/handover"), cl.tok(t, cl.province), body).Status)
	require.Equal(t, http.StatusNotFound, env.Post(t, studentPath(st.ID, "/handover"), cl.tok(t, cl.otherSupervisor), body).Status)
	require.Equal(t, http.StatusNotFound, env.Post(t, studentPath(st.ID, "/handover"), cl.tok(t, cl.colleague), body).Status)
	r := env.Post(t, studentPath(st.ID, "/handover"), tok, body)
	require.Equal(t, http.StatusCreated, r.Status, "%s", r.Body)
	require.Equal(t, "handed_over", env.Get(t, studentPath(st.ID), tok).Map(t)["status"])

	r = env.Post(t, studentPath(st.ID, "/handover/acknowledge"), cl.tok(t, cl.supervisor),
		map[string]string{"acknowledged_on": "2026-07-20", "acknowledged_by": "周科员"})
	require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
	r = env.Get(t, studentPath(st.ID, "/handover"), cl.tok(t, cl.province))
	require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
	var l struct {
		Items []struct {
			Agency          string         `json:"agency"`
			Note            string         `json:"note"`
			Acknowledgement map[string]any `json:"acknowledgement"`
		} `json:"items"`
	}
	r.JSON(t, &l)
	require.Len(t, l.Items, 1)
	require.Equal(t, "广州市天河区公共就业服务中心", l.Items[0].Agency)
	require.Equal(t, "******", l.Items[0].Note, "province: no free text")
	require.Equal(t, "******", l.Items[0].Acknowledgement["acknowledged_by"], "province: no names")

	var sum struct {
		Overall struct {
			HandedOver int `json:"handed_over"`
		} `json:"overall"`
	}
	env.Get(t, "/api/v1/reports/summary", cl.tok(t, cl.supervisor)).JSON(t, &sum)
	require.Equal(t, 1, sum.Overall.HandedOver, "the report shows how many were handed over")
}
