package httpapi_test

import (
	"fmt"
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/bangfu/bangfu"
	"github.com/bangfu/bangfu/internal/apptest"
	"github.com/bangfu/bangfu/internal/destination"
	"github.com/bangfu/bangfu/internal/directory"
	"github.com/bangfu/bangfu/internal/graduate"
	"github.com/bangfu/bangfu/internal/ledger"
	"github.com/bangfu/bangfu/internal/mask"
	"github.com/bangfu/bangfu/internal/report"
)

type reviewJSON struct {
	Items []struct {
		StudentID   int64  `json:"student_id"`
		StudentName string `json:"student_name"`
		Seq         int    `json:"seq"`
		Kind        string `json:"kind"`
		AuthorID    int64  `json:"author_id"`
		Summary     string `json:"summary"`
	} `json:"items"`
	NextCursor string `json:"next_cursor"`
}

func TestLedgerReview(t *testing.T) {
	t.Parallel()
	cl := newCaseload(t)
	env := cl.env
	ctx := t.Context()
	mine := env.MustStudent(t, cl.counselor)
	theirs := env.MustStudent(t, cl.colleague)
	elsewhereCounselor := env.MustUser(t, bangfu.RoleCounselor, &cl.other.ID)
	elsewhere := env.MustStudent(t, elsewhereCounselor)
	write := func(by directory.User, st graduate.Student, kind, summary string) {
		in := ledger.Input{Kind: kind, Channel: "phone", OccurredAt: env.Clock.Now(), Summary: summary}
		if kind == "referral" {
			in.Referral = &ledger.Referral{Employer: "某公司", Position: "文员"}
		}
		_, err := env.App.Ledger.Append(ctx, by.Actor(), st.ID, in)
		require.NoError(t, err)
		env.Clock.Advance(time.Minute)
	}
	write(cl.counselor, mine, "contact", "一")
	write(cl.colleague, theirs, "contact", "二")
	write(elsewhereCounselor, elsewhere, "contact", "外校")
	write(cl.counselor, mine, "referral", "三")
	write(cl.supervisor, theirs, "note", "四")

	review := func(u directory.User, query string) reviewJSON {
		t.Helper()
		r := env.Get(t, "/api/v1/ledger"+query, env.Token(t, u))
		require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
		var out reviewJSON
		r.JSON(t, &out)
		return out
	}
	summaries := func(r reviewJSON) []string {
		out := []string{}
		for _, it := range r.Items {
			out = append(out, it.Summary)
		}
		return out
	}
	require.Equal(t, []string{"四", "三", "二", "一"}, summaries(review(cl.supervisor, "")), "the school's ledgers, newest first")
	require.Equal(t, []string{"三", "一"}, summaries(review(cl.counselor, "")), "a counselor reviews their own caseload")
	var kinds []string
	for _, it := range review(cl.province, "").Items {
		require.Equal(t, mask.Name(it.StudentName), it.StudentName, "province sees names masked")
		require.Equal(t, "******", it.Summary, "and no free text")
		kinds = append(kinds, it.Kind)
	}
	require.Equal(t, []string{"note", "referral", "contact", "contact", "contact"}, kinds, "every school's entries, newest first")
	require.Equal(t, []string{"二", "一"}, summaries(review(cl.supervisor, "?kind=contact")))
	require.Equal(t, []string{"三", "一"}, summaries(review(cl.supervisor, fmt.Sprintf("?author_id=%d", cl.counselor.ID))))
	require.Equal(t, []string{"四", "二"}, summaries(review(cl.supervisor, fmt.Sprintf("?student_id=%d", theirs.ID))))
	require.Empty(t, summaries(review(cl.supervisor, fmt.Sprintf("?school_id=%d", cl.other.ID))), "a filter never widens the scope")
	since := apptest.Start.Add(90 * time.Second).Format(time.RFC3339)
	require.Equal(t, []string{"四", "三"}, summaries(review(cl.supervisor, "?since="+url.QueryEscape(since))))

	// Pages continue where the last one stopped.
	first := review(cl.supervisor, "?limit=3")
	require.Equal(t, []string{"四", "三", "二"}, summaries(first))
	require.NotEmpty(t, first.NextCursor)
	rest := review(cl.supervisor, "?limit=3&cursor="+first.NextCursor)
	require.Equal(t, []string{"一"}, summaries(rest))
	require.Empty(t, rest.NextCursor)

	r := env.Get(t, "/api/v1/ledger?kind=gossip&since=yesterday&cursor=zzz", env.Token(t, cl.supervisor))
	require.Equal(t, http.StatusBadRequest, r.Status)
	_, fields := r.Error(t)
	require.Equal(t, map[string]string{"since": "must be a date like 2026-07-31 or a time like 2026-07-31T09:00:00+08:00"}, fields)
	r = env.Get(t, "/api/v1/ledger?kind=gossip&cursor=zzz", env.Token(t, cl.supervisor))
	_, fields = r.Error(t)
	require.Equal(t, map[string]string{"kind": "must be one of contact, referral, note, outcome, correction", "cursor": "is not a cursor returned by this list"}, fields)
}

type summaryJSON struct {
	Scope   string `json:"scope"`
	Targets struct {
		Current float64 `json:"current"`
	} `json:"targets"`
	Overall struct {
		Graduates   int     `json:"graduates"`
		Placed      int     `json:"placed"`
		Pending     int     `json:"pending_verification"`
		Rate        float64 `json:"rate"`
		MeetsTarget bool    `json:"meets_target"`
	} `json:"overall"`
	BySchool []struct {
		ID        int64 `json:"id"`
		Graduates int   `json:"graduates"`
		Placed    int   `json:"placed"`
	} `json:"by_school"`
	ByCategory []struct {
		Code      string `json:"code"`
		Graduates int    `json:"graduates"`
		Placed    int    `json:"placed"`
	} `json:"by_category"`
	Process struct {
		OpenCases       int    `json:"open_cases"`
		OpenEscalations [3]int `json:"open_escalations"`
	} `json:"process"`
	Counselors []map[string]any `json:"counselors"`
}

func TestReportSummary(t *testing.T) {
	t.Parallel()
	cl := newCaseload(t)
	env := cl.env
	ctx := t.Context()
	placed := env.MustStudent(t, cl.counselor)
	waiting := env.MustStudent(t, cl.counselor)
	env.MustStudent(t, cl.colleague) // no destination yet: not placed
	elsewhereCounselor := env.MustUser(t, bangfu.RoleCounselor, &cl.other.ID)
	studying := env.MustStudent(t, elsewhereCounselor)
	set := func(by directory.User, st graduate.Student, in destination.Input) {
		_, err := env.App.Destinations.Put(ctx, by.Actor(), st.ID, nil, in)
		require.NoError(t, err)
	}
	set(cl.counselor, placed, destination.Input{Code: "11", Employer: "广州某科技有限公司", CreditCode: creditCode("91440101MA5CXXXX0"),
		ProofKind: "labor_contract", ProofRef: "HT-1"})
	set(cl.counselor, waiting, destination.Input{Code: "70"})
	set(elsewhereCounselor, studying, destination.Input{Code: "80", ProofKind: "admission_notice", ProofRef: "LQ-1"})
	// Only a verified destination places: the supervisor verifies one;
	// the other school's stays reported, 待核实.
	var current int64
	require.NoError(t, env.App.DB.Pool.QueryRow(ctx, `SELECT destination_id FROM students WHERE id = $1`, placed.ID).Scan(&current))
	_, err := env.App.Destinations.Verify(ctx, cl.supervisor.Actor(), placed.ID, current)
	require.NoError(t, err)
	h, err := env.App.Graduates.AddHardship(ctx, cl.counselor.Actor(), placed.ID, graduate.HardshipInput{Category: "dibao", EvidenceType: "低保证", IssuingAuthority: "民政局"})
	require.NoError(t, err)
	_, err = env.App.Graduates.VerifyHardship(ctx, cl.supervisor.Actor(), placed.ID, h.ID, graduate.Verification{})
	require.NoError(t, err)

	summary := func(u directory.User, query string) summaryJSON {
		t.Helper()
		r := env.Get(t, "/api/v1/reports/summary"+query, env.Token(t, u))
		require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
		var s summaryJSON
		r.JSON(t, &s)
		return s
	}
	sup := summary(cl.supervisor, "")
	require.Equal(t, "school", sup.Scope)
	require.Equal(t, 3, sup.Overall.Graduates)
	require.Equal(t, 1, sup.Overall.Placed, "70 and no destination are not placed")
	require.InDelta(t, 1.0/3, sup.Overall.Rate, 1e-9)
	require.Equal(t, 0.7, sup.Targets.Current, "before 31 July the July target applies")
	require.False(t, sup.Overall.MeetsTarget)
	require.Len(t, sup.BySchool, 1)
	require.Equal(t, []struct {
		Code      string `json:"code"`
		Graduates int    `json:"graduates"`
		Placed    int    `json:"placed"`
	}{{"dibao", 1, 1}}, sup.ByCategory)
	require.Len(t, sup.Counselors, 2)
	for _, c := range sup.Counselors {
		require.NotContains(t, c, "rate", "no placement rate per counselor (三不得)")
		require.Contains(t, c, "timeliness")
	}

	prov := summary(cl.province, "")
	require.Equal(t, "province", prov.Scope)
	require.Equal(t, 4, prov.Overall.Graduates)
	require.Equal(t, 1, prov.Overall.Placed, "the verified destination only")
	require.Equal(t, 1, prov.Overall.Pending, "the other school's 80 waits for verification, apart from the rate")
	require.Len(t, prov.BySchool, 2)
	require.Len(t, summary(cl.province, fmt.Sprintf("?school_id=%d", cl.other.ID)).BySchool, 1)

	mine := summary(cl.counselor, "")
	require.Equal(t, "caseload", mine.Scope)
	require.Equal(t, 2, mine.Overall.Graduates)
	require.Empty(t, mine.Counselors)

	// Summaries are counted at most once a minute per scope.
	set(cl.counselor, env.MustStudent(t, cl.counselor), destination.Input{Code: "70"})
	require.Equal(t, 3, summary(cl.supervisor, "").Overall.Graduates, "served from the last count")
	env.Clock.Advance(report.CacheTTL)
	require.Equal(t, 4, summary(cl.supervisor, "").Overall.Graduates, "counted again after a minute")

	env.Clock.Set(time.Date(2026, 8, 1, 9, 0, 0, 0, bangfu.Shanghai))
	require.Equal(t, 0.9, summary(cl.supervisor, "").Targets.Current, "after 31 July the year-end target applies")
	require.Zero(t, summary(cl.supervisor, "?graduation_year=2025").Overall.Graduates)

	r := env.Get(t, "/api/v1/reports/summary?graduation_year=soon", env.Token(t, cl.supervisor))
	require.Equal(t, http.StatusBadRequest, r.Status)
	_, fields := r.Error(t)
	require.Equal(t, "must be a year like 2026", fields["graduation_year"])
	require.Equal(t, http.StatusForbidden, env.Get(t, "/api/v1/reports/summary", env.Token(t, cl.admin)).Status)
}
