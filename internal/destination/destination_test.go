package destination_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/bangfu/bangfu"
	"github.com/bangfu/bangfu/internal/apptest"
	"github.com/bangfu/bangfu/internal/destination"
	"github.com/bangfu/bangfu/internal/directory"
	"github.com/bangfu/bangfu/internal/graduate"
)

type world struct {
	env                   *apptest.Env
	supervisor, counselor directory.User
	student               graduate.Student
}

func newWorld(t *testing.T) *world {
	t.Helper()
	env := apptest.New(t)
	school := env.MustSchool(t)
	w := &world{env: env,
		supervisor: env.MustUser(t, bangfu.RoleSupervisor, &school.ID),
		counselor:  env.MustUser(t, bangfu.RoleCounselor, &school.ID),
	}
	w.student = env.MustActiveCase(t, w.counselor)
	return w
}

func (w *world) file(t *testing.T) graduate.Student {
	t.Helper()
	st, err := w.env.App.Graduates.Get(t.Context(), w.counselor.Actor(), w.student.ID)
	require.NoError(t, err)
	return st
}

var (
	further = destination.Input{Code: "80", ProofKind: "admission_notice", ProofRef: "LQ-2026-001"}
	waiting = destination.Input{Code: "70"}
)

func TestRecordVerifyAndHistory(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	ctx := t.Context()
	d, err := w.env.App.Destinations.Put(ctx, w.counselor.Actor(), w.student.ID, nil, waiting)
	require.NoError(t, err)
	require.Equal(t, "recorded", d.Status)
	require.Equal(t, "待就业", d.CodeName)
	require.Equal(t, "active", w.file(t).Status, "70 does not place")

	_, err = w.env.App.Destinations.Put(ctx, w.counselor.Actor(), w.student.ID, nil, further)
	require.Equal(t, bangfu.EPRECONDITIONREQ, bangfu.ErrorCode(err), "replacing a record needs the one read")
	stale := d.ID + 100
	_, err = w.env.App.Destinations.Put(ctx, w.counselor.Actor(), w.student.ID, &stale, further)
	require.Equal(t, bangfu.EPRECONDITIONFAILED, bangfu.ErrorCode(err))
	d2, err := w.env.App.Destinations.Put(ctx, w.counselor.Actor(), w.student.ID, &d.ID, further)
	require.NoError(t, err)
	require.Equal(t, "placed", w.file(t).Status, "a recorded placement places the case")

	_, err = w.env.App.Destinations.Verify(ctx, w.counselor.Actor(), w.student.ID, d2.ID)
	require.Error(t, err, "a counselor does not verify")
	_, err = w.env.App.Destinations.Verify(ctx, w.supervisor.Actor(), w.student.ID, d.ID)
	require.Equal(t, bangfu.EPRECONDITIONFAILED, bangfu.ErrorCode(err), "verifying a superseded record is refused")
	v, err := w.env.App.Destinations.Verify(ctx, w.supervisor.Actor(), w.student.ID, d2.ID)
	require.NoError(t, err)
	require.Equal(t, "verified", v.Status)
	require.Equal(t, &w.supervisor.ID, v.VerifiedBy)

	h, err := w.env.App.Destinations.Get(ctx, w.counselor.Actor(), w.student.ID)
	require.NoError(t, err)
	require.Equal(t, d2.ID, h.Current.ID)
	require.Len(t, h.History, 1)
	require.Equal(t, "70", h.History[0].Code)

	// After 31 August only a supervisor changes it.
	w.env.Clock.Set(time.Date(2026, 9, 1, 9, 0, 0, 0, bangfu.Shanghai))
	_, err = w.env.App.Destinations.Put(ctx, w.counselor.Actor(), w.student.ID, &d2.ID, waiting)
	require.Equal(t, bangfu.EFORBIDDEN, bangfu.ErrorCode(err))
}

// TestPlacementFallingThroughReopensTheCase: a new record of 70, 71 or 72
// after a placement reopens the case and its follow-ups; a case becomes
// placed only through a destination record, never by changing its status.
func TestPlacementFallingThroughReopensTheCase(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	ctx := t.Context()
	c := w.counselor.Actor()
	placed := "placed"
	_, err := w.env.App.Graduates.Update(ctx, c, w.student.ID, w.student.Version, graduate.Patch{Status: &placed})
	require.Equal(t, map[string]string{"status": "a case is placed by recording its destination"}, bangfu.FieldsOf(err))

	d, err := w.env.App.Destinations.Put(ctx, c, w.student.ID, nil, further)
	require.NoError(t, err)
	st := w.file(t)
	require.Equal(t, "placed", st.Status)
	require.Nil(t, st.NextFollowupOn, "a placed case has no follow-up")
	active := "active"
	_, err = w.env.App.Graduates.Update(ctx, c, w.student.ID, st.Version, graduate.Patch{Status: &active})
	require.Equal(t, map[string]string{"status": "a placement that fell through is recorded as a new destination (70, 71 or 72), which reopens the case"},
		bangfu.FieldsOf(err))

	w.env.Clock.Set(time.Date(2026, 6, 10, 15, 0, 0, 0, bangfu.Shanghai))
	_, err = w.env.App.Destinations.Put(ctx, c, w.student.ID, &d.ID, destination.Input{Code: "71"})
	require.NoError(t, err)
	st = w.file(t)
	require.Equal(t, "active", st.Status, "the placement fell through: the case is open again")
	require.NotNil(t, st.NextFollowupOn, "and followed again")
	require.Equal(t, "2026-06-24", st.NextFollowupOn.String())
}
