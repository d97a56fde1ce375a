package escalation_test

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/bangfu/bangfu"
	"github.com/bangfu/bangfu/internal/apptest"
	"github.com/bangfu/bangfu/internal/escalation"
	"github.com/bangfu/bangfu/internal/graduate"
	"github.com/bangfu/bangfu/internal/notify"
)

// firstLevel raises level 1 for w's case and returns it.
func firstLevel(t *testing.T, w *world) escalation.Escalation {
	t.Helper()
	w.env.Clock.Set(apptest.Start.AddDate(0, 0, 15))
	w.env.Sweep(t)
	l, err := w.env.App.Escalations.List(t.Context(), w.counselor.Actor(), escalation.Filter{Kind: "no_contact"}, bangfu.Page{Limit: 50})
	require.NoError(t, err)
	for _, e := range l.Items {
		if e.StudentID == w.student.ID {
			return e
		}
	}
	t.Fatal("no level 1 for the case")
	return escalation.Escalation{}
}

func TestActOnAnEscalation(t *testing.T) {
	t.Parallel()
	w := newWorld(t, nextYear)
	ctx := t.Context()
	e := firstLevel(t, w)
	require.Equal(t, 1, e.Level)
	require.Equal(t, "open", e.Status)

	_, err := w.env.App.Escalations.Acknowledge(ctx, w.province.Actor(), e.ID, "")
	require.Equal(t, bangfu.EFORBIDDEN, bangfu.ErrorCode(err), "level 1 is the counselor's and the supervisors'")
	got, err := w.env.App.Escalations.Acknowledge(ctx, w.counselor.Actor(), e.ID, "今天联系")
	require.NoError(t, err)
	require.Equal(t, "acknowledged", got.Status)
	require.Equal(t, &w.counselor.ID, got.AcknowledgedBy)
	_, err = w.env.App.Escalations.Resolve(ctx, w.counselor.Actor(), e.ID, "")
	require.Equal(t, map[string]string{"note": "is required: say how it was resolved"}, bangfu.FieldsOf(err))
	got, err = w.env.App.Escalations.Resolve(ctx, w.supervisor.Actor(), e.ID, "已约谈")
	require.NoError(t, err)
	require.Equal(t, "resolved", got.Status)
	_, err = w.env.App.Escalations.Resolve(ctx, w.supervisor.Actor(), e.ID, "再次")
	require.Equal(t, bangfu.ECONFLICT, bangfu.ErrorCode(err))
	_, err = w.env.App.Escalations.Resolve(ctx, w.counselor.Actor(), 999999, "x")
	require.Equal(t, bangfu.ENOTFOUND, bangfu.ErrorCode(err))
}

// escalationNote returns the counselor's escalation notification about a graduate.
func escalationNote(t *testing.T, w *world, studentID int64) notify.Notification {
	t.Helper()
	for _, n := range w.env.Notifications(t, w.counselor, "escalation") {
		if n.StudentID != nil && *n.StudentID == studentID {
			return n
		}
	}
	t.Fatalf("no escalation notification for graduate %d", studentID)
	return notify.Notification{}
}

// TestResolvedEscalationsNotificationSaysSo: however an escalation is
// resolved — by someone, by a contact, by the sweep — the notification that
// announced it says, in the inbox, that it was resolved and how; nobody is
// notified again.
func TestResolvedEscalationsNotificationSaysSo(t *testing.T) {
	t.Parallel()
	w := newWorld(t, nextYear)
	ctx := t.Context()
	byContact := w.env.MustActiveCase(t, w.counselor, nextYear)
	bySweep := w.env.MustActiveCase(t, w.counselor, nextYear)
	e := firstLevel(t, w)
	before := len(w.env.Notifications(t, w.counselor, ""))
	n := escalationNote(t, w, w.student.ID)
	require.Nil(t, n.ResolvedAt)
	require.False(t, strings.HasPrefix(n.Title, "【已解决】"))

	_, err := w.env.App.Escalations.Resolve(ctx, w.counselor.Actor(), e.ID, "学生已回电，约定面谈")
	require.NoError(t, err)
	n = escalationNote(t, w, w.student.ID)
	require.NotNil(t, n.ResolvedAt)
	require.True(t, strings.HasPrefix(n.Title, "【已解决】"), n.Title)
	require.Contains(t, n.Body, "学生已回电，约定面谈")

	w.contact(t, byContact.ID, "")
	n = escalationNote(t, w, byContact.ID)
	require.True(t, strings.HasPrefix(n.Title, "【已解决】"), n.Title)
	require.Contains(t, n.Body, "已恢复联系")

	st, err := w.env.App.Graduates.Get(ctx, w.counselor.Actor(), bySweep.ID)
	require.NoError(t, err)
	closed := "closed"
	_, err = w.env.App.Graduates.Update(ctx, w.counselor.Actor(), st.ID, st.Version, graduate.Patch{Status: &closed})
	require.NoError(t, err)
	w.env.Clock.Advance(time.Hour)
	w.env.Sweep(t)
	n = escalationNote(t, w, bySweep.ID)
	require.True(t, strings.HasPrefix(n.Title, "【已解决】"), n.Title)
	require.Contains(t, n.Body, "条件已消除")

	require.Len(t, w.env.Notifications(t, w.counselor, ""), before, "said in place: no new notification")
}
