package handover_test

import (
	"strings"
	"testing"
	"time"

	"github.com/riverqueue/river"
	"github.com/stretchr/testify/require"

	"github.com/bangfu/bangfu"
	"github.com/bangfu/bangfu/internal/apptest"
	"github.com/bangfu/bangfu/internal/destination"
	"github.com/bangfu/bangfu/internal/directory"
	"github.com/bangfu/bangfu/internal/graduate"
	"github.com/bangfu/bangfu/internal/handover"
	"github.com/bangfu/bangfu/internal/report"
)

type world struct {
	env                             *apptest.Env
	supervisor, counselor, province directory.User
	student                         graduate.Student
}

func newWorld(t *testing.T) *world {
	t.Helper()
	env := apptest.New(t)
	school := env.MustSchool(t)
	w := &world{env: env,
		supervisor: env.MustUser(t, bangfu.RoleSupervisor, &school.ID),
		counselor:  env.MustUser(t, bangfu.RoleCounselor, &school.ID),
		province:   env.MustUser(t, bangfu.RoleProvince, nil),
	}
	w.student = env.MustActiveCase(t, w.counselor, graduate.Input{Consent: true})
	return w
}

func input() handover.Input {
	return handover.Input{
		Agency: "广州市天河区公共就业服务中心", AgencyRegion: "广州市天河区", HandedOverOn: "2026-07-15",
		SharedFields: []string{"name", "id_number", "phone", "education_level", "major", "intention"},
		Note:         "已电话告知毕业生，由街道就业专员对接",
	}
}

func TestHandOver(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	env := w.env
	ctx := t.Context()
	c := w.counselor.Actor()
	env.Clock.Set(time.Date(2026, 7, 16, 10, 0, 0, 0, bangfu.Shanghai))
	before, err := env.App.Graduates.Get(ctx, c, w.student.ID)
	require.NoError(t, err)
	require.NotNil(t, before.NextFollowupOn)
	job := env.FollowupJob(t, w.student.ID)

	h, err := env.App.Handovers.Create(ctx, c, w.student.ID, input())
	require.NoError(t, err)
	require.Equal(t, "广州市天河区公共就业服务中心", h.Agency)
	require.Equal(t, "2026-07-15", h.HandedOverOn.String())
	require.Equal(t, w.counselor.ID, h.HandedOverBy)
	require.Equal(t, "counselor", h.HandedOverRole)
	require.Equal(t, []string{"name", "id_number", "phone", "education_level", "major", "intention"}, h.SharedFields)
	require.NotNil(t, h.ConsentAt, "the graduate's consent, as checked")
	require.Nil(t, h.Acknowledgement)

	// The case leaves the active caseload but stays readable.
	after, err := env.App.Graduates.Get(ctx, c, w.student.ID)
	require.NoError(t, err)
	require.Equal(t, "handed_over", after.Status)
	require.Nil(t, after.Phase)
	require.Nil(t, after.NextFollowupOn, "no follow-up any more")
	require.Greater(t, after.Version, before.Version)
	_, err = env.App.River.JobGet(ctx, job.ID)
	require.ErrorIs(t, err, river.ErrNotFound, "the pending follow-up is withdrawn")

	// The ledger records it, for the graduate to see too.
	entries, err := env.App.Ledger.List(ctx, c, w.student.ID, bangfu.Page{Limit: 50})
	require.NoError(t, err)
	last := entries.Items[len(entries.Items)-1]
	require.Equal(t, h.LedgerSeq, last.Seq)
	require.Equal(t, "outcome", last.Kind)
	require.Equal(t, "shared", last.Visibility)
	require.Contains(t, last.Summary, "离校未就业实名衔接")
	require.Contains(t, last.Summary, "广州市天河区公共就业服务中心")

	// Once only, and the agency's acknowledgement is recorded once.
	_, err = env.App.Handovers.Create(ctx, c, w.student.ID, input())
	require.Equal(t, bangfu.ECONFLICT, bangfu.ErrorCode(err))
	env.Clock.Set(time.Date(2026, 7, 21, 10, 0, 0, 0, bangfu.Shanghai))
	ack, err := env.App.Handovers.Acknowledge(ctx, w.supervisor.Actor(), w.student.ID,
		handover.AcknowledgementInput{AcknowledgedOn: "2026-07-20", AcknowledgedBy: "就业专员 周科员", Reference: "天人社衔接〔2026〕15号"})
	require.NoError(t, err)
	require.Equal(t, "2026-07-20", ack.Acknowledgement.AcknowledgedOn.String())
	require.Equal(t, w.supervisor.ID, ack.Acknowledgement.RecordedBy)
	_, err = env.App.Handovers.Acknowledge(ctx, c, w.student.ID, handover.AcknowledgementInput{AcknowledgedOn: "2026-07-21", AcknowledgedBy: "x"})
	require.Equal(t, bangfu.ECONFLICT, bangfu.ErrorCode(err))

	list, err := env.App.Handovers.List(ctx, c, w.student.ID)
	require.NoError(t, err)
	require.Len(t, list, 1)
	require.Equal(t, "就业专员 周科员", list[0].Acknowledgement.AcknowledgedBy)

	// Province reads the record, without free text or names.
	prov, err := env.App.Handovers.List(ctx, w.province.Actor(), w.student.ID)
	require.NoError(t, err)
	require.Equal(t, "广州市天河区公共就业服务中心", prov[0].Agency)
	require.Equal(t, graduate.Masked, prov[0].Note)
	require.Equal(t, graduate.Masked, prov[0].Acknowledgement.AcknowledgedBy)

	// The report counts it.
	sum, err := env.App.Reports.Count(ctx, w.supervisor.Actor(), report.Filter{})
	require.NoError(t, err)
	require.Equal(t, 1, sum.Overall.HandedOver)
	require.Equal(t, 1, sum.BySchool[0].HandedOver)
	require.Zero(t, sum.Process.OpenCases, "it left the active caseload")

	var audited int
	require.NoError(t, env.App.DB.Pool.QueryRow(ctx, `SELECT count(*) FROM audit_log WHERE student_id = $1 AND action IN ('handover.create', 'handover.acknowledge')`,
		w.student.ID).Scan(&audited))
	require.Equal(t, 2, audited)
}

func TestHandOverRules(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	env := w.env
	ctx := t.Context()
	c := w.counselor.Actor()

	_, err := env.App.Handovers.Create(ctx, c, w.student.ID, input())
	require.Equal(t, bangfu.ECONFLICT, bangfu.ErrorCode(err), "before graduation the school follows the graduate itself")
	require.Contains(t, bangfu.ErrorMessage(err), "1 July 2026")

	env.Clock.Set(time.Date(2026, 7, 16, 10, 0, 0, 0, bangfu.Shanghai))
	_, err = env.App.Handovers.Create(ctx, c, w.student.ID, handover.Input{HandedOverOn: "2026-08-01", SharedFields: []string{"salary"}})
	require.Equal(t, map[string]string{
		"agency":         "is required",
		"handed_over_on": "cannot be in the future",
		"shared_fields":  "must name fields from: name, student_number, id_number, phone, email, education_level, major, graduation_year, intention, skills, hardship_categories",
	}, bangfu.FieldsOf(err))

	noConsent := env.MustActiveCase(t, w.counselor)
	_, err = env.App.Handovers.Create(ctx, c, noConsent.ID, input())
	require.Equal(t, map[string]string{"consent": "the graduate has not consented to sharing their data: record their consent on the file first"},
		bangfu.FieldsOf(err))

	placed := env.MustActiveCase(t, w.counselor, graduate.Input{Consent: true})
	_, err = env.App.Destinations.Put(ctx, c, placed.ID, nil, destination.Input{Code: "80", ProofKind: "admission_notice", ProofRef: "LQ-1"})
	require.NoError(t, err)
	_, err = env.App.Handovers.Create(ctx, c, placed.ID, input())
	require.Equal(t, bangfu.ECONFLICT, bangfu.ErrorCode(err), "a placed graduate is not handed over")

	colleague := env.MustUser(t, bangfu.RoleCounselor, &w.student.SchoolID)
	_, err = env.App.Handovers.Create(ctx, colleague.Actor(), w.student.ID, input())
	require.Equal(t, bangfu.ENOTFOUND, bangfu.ErrorCode(err), "another counselor's graduate")
	_, err = env.App.Handovers.Create(ctx, w.province.Actor(), w.student.ID, input())
	require.Equal(t, bangfu.EFORBIDDEN, bangfu.ErrorCode(err), "province staff read only")
	_, err = env.App.Handovers.Acknowledge(ctx, c, w.student.ID, handover.AcknowledgementInput{AcknowledgedOn: "2026-07-16"})
	require.Equal(t, bangfu.ECONFLICT, bangfu.ErrorCode(err), "nothing handed over yet")

	// A hand-over that did not hold: the case is reopened and followed again.
	_, err = env.App.Handovers.Create(ctx, c, w.student.ID, input())
	require.NoError(t, err)
	st, err := env.App.Graduates.Get(ctx, c, w.student.ID)
	require.NoError(t, err)
	active := "active"
	st, err = env.App.Graduates.Update(ctx, c, st.ID, st.Version, graduate.Patch{Status: &active})
	require.NoError(t, err)
	require.NotNil(t, st.NextFollowupOn)
	handedOver := "handed_over"
	_, err = env.App.Graduates.Update(ctx, c, st.ID, st.Version, graduate.Patch{Status: &handedOver})
	require.True(t, strings.Contains(bangfu.FieldsOf(err)["status"], "recording the hand-over"), "%v", err)
}
