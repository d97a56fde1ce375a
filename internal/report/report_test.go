package report_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/bangfu/bangfu"
	"github.com/bangfu/bangfu/internal/apptest"
	"github.com/bangfu/bangfu/internal/destination"
	"github.com/bangfu/bangfu/internal/graduate"
	"github.com/bangfu/bangfu/internal/report"
)

func TestRatesAndProcessMeasures(t *testing.T) {
	t.Parallel()
	env := apptest.New(t)
	ctx := t.Context()
	school, other := env.MustSchool(t), env.MustSchool(t)
	supervisor := env.MustUser(t, bangfu.RoleSupervisor, &school.ID)
	counselor := env.MustUser(t, bangfu.RoleCounselor, &school.ID)
	elsewhere := env.MustUser(t, bangfu.RoleCounselor, &other.ID)
	province := env.MustUser(t, bangfu.RoleProvince, nil)
	c := counselor.Actor()

	placed := env.MustActiveCase(t, counselor)
	_, err := env.App.Destinations.Put(ctx, c, placed.ID, nil, destination.Input{Code: "80", ProofKind: "admission_notice", ProofRef: "LQ-1"})
	require.NoError(t, err)
	waiting := env.MustActiveCase(t, counselor)
	_, err = env.App.Destinations.Put(ctx, c, waiting.ID, nil, destination.Input{Code: "72"})
	require.NoError(t, err)
	h, err := env.App.Graduates.AddHardship(ctx, c, waiting.ID, graduate.HardshipInput{Category: "disabled", EvidenceType: "残疾人证", IssuingAuthority: "残联"})
	require.NoError(t, err)
	_, err = env.App.Graduates.VerifyHardship(ctx, supervisor.Actor(), waiting.ID, h.ID, graduate.Verification{})
	require.NoError(t, err)
	env.MustActiveCase(t, counselor, graduate.Input{GraduationYear: 2027}) // another year: not in 2026's rate
	env.MustActiveCase(t, elsewhere)

	sum, err := env.App.Reports.Count(ctx, supervisor.Actor(), report.Filter{})
	require.NoError(t, err)
	require.Equal(t, "school", sum.Scope)
	require.Equal(t, 2026, sum.GraduationYear)
	require.Equal(t, report.Rate{Graduates: 2, Placed: 1, Rate: 0.5}, sum.Overall, "72 is not placed")
	require.Equal(t, []report.Group{{Code: "disabled", Name: "残疾", Rate: report.Rate{Graduates: 1}}}, sum.ByCategory)
	require.Equal(t, 2, sum.Process.OpenCases, "open cases of every year; the placed one left")
	require.Len(t, sum.Counselors, 1)
	require.Equal(t, 2, sum.Counselors[0].OpenCases)

	prov, err := env.App.Reports.Count(ctx, province.Actor(), report.Filter{})
	require.NoError(t, err)
	require.Equal(t, 3, prov.Overall.Graduates)
	require.Len(t, prov.BySchool, 2)
	require.Empty(t, prov.Counselors, "no per-counselor rows across the province")

	// After 31 July the December target applies.
	env.Clock.Set(time.Date(2026, 8, 1, 9, 0, 0, 0, bangfu.Shanghai))
	sum, err = env.App.Reports.Count(ctx, supervisor.Actor(), report.Filter{})
	require.NoError(t, err)
	require.Equal(t, 0.9, sum.Targets.Current)
	_, err = env.App.Reports.Summary(ctx, supervisor.Actor(), report.Filter{GraduationYear: 1999})
	require.Equal(t, map[string]string{"graduation_year": "must be a year like 2026"}, bangfu.FieldsOf(err))
}

// TestEveryReadOfASummaryIsAudited: a summary served from the cache is a
// read of case data all the same.
func TestEveryReadOfASummaryIsAudited(t *testing.T) {
	t.Parallel()
	env := apptest.New(t)
	ctx := t.Context()
	school := env.MustSchool(t)
	supervisor := env.MustUser(t, bangfu.RoleSupervisor, &school.ID)
	counselor := env.MustUser(t, bangfu.RoleCounselor, &school.ID)
	env.MustActiveCase(t, counselor)
	first, err := env.App.Reports.Summary(ctx, supervisor.Actor(), report.Filter{})
	require.NoError(t, err)
	env.MustActiveCase(t, counselor)
	again, err := env.App.Reports.Summary(ctx, supervisor.Actor(), report.Filter{})
	require.NoError(t, err)
	require.Equal(t, first.ComputedAt, again.ComputedAt, "served from the cache")
	env.App.AuditReads.Flush()
	var n int
	require.NoError(t, env.App.DB.Pool.QueryRow(ctx, `SELECT count(*) FROM audit_log WHERE action = 'report.read' AND actor_id = $1 AND school_id = $2`,
		supervisor.ID, school.ID).Scan(&n))
	require.Equal(t, 2, n)
}
