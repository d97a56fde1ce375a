package app_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/bangfu/bangfu"
	"github.com/bangfu/bangfu/internal/apptest"
	"github.com/bangfu/bangfu/internal/config"
	"github.com/bangfu/bangfu/internal/directory"
	"github.com/bangfu/bangfu/internal/graduate"
	"github.com/bangfu/bangfu/internal/notify"
)

// The jobs' own tests live next to their workers (internal/followup,
// internal/escalation, internal/graduate); this file keeps the test of the
// wiring: a real River client working the e-mail job against an SMTP server.

// bundle is one test's world: a school with a supervisor and a counselor,
// province staff, and an active case assigned to the counselor.
type bundle struct {
	env                             *apptest.Env
	supervisor, counselor, province directory.User
	student                         graduate.Student
}

func setup(t *testing.T, opts ...apptest.Options) *bundle {
	t.Helper()
	env := apptest.New(t, opts...)
	school := env.MustSchool(t)
	b := &bundle{env: env,
		supervisor: env.MustUser(t, bangfu.RoleSupervisor, &school.ID),
		counselor:  env.MustUser(t, bangfu.RoleCounselor, &school.ID),
		province:   env.MustUser(t, bangfu.RoleProvince, nil),
	}
	b.student = b.newCase(t)
	return b
}

// newCase creates an active case for the counselor.
func (b *bundle) newCase(t *testing.T) graduate.Student {
	t.Helper()
	st := b.env.MustStudent(t, b.counselor)
	active := "active"
	st, err := b.env.App.Graduates.Update(t.Context(), b.counselor.Actor(), st.ID, st.Version, graduate.Patch{Status: &active})
	require.NoError(t, err)
	return st
}

func TestEmailArrivesExactlyOnce(t *testing.T) {
	t.Parallel()
	smtpd := apptest.NewSMTPServer(t)
	b := setup(t, apptest.Options{Workers: true, Config: func(c *config.Config) { c.SMTPURL = smtpd.URL() }})
	env := b.env
	_, err := env.App.DB.Pool.Exec(t.Context(), `UPDATE users SET email = 'wang@example.edu.cn' WHERE id = $1`, b.counselor.ID)
	require.NoError(t, err)
	emailEach(t, env, b.counselor)
	st := b.student.ID
	require.NoError(t, env.App.DB.InTx(t.Context(), func(tx pgx.Tx) error {
		n, err := env.App.Notify.Send(t.Context(), tx, notify.Message{UserID: b.counselor.ID, Kind: "followup_due", StudentID: st, Title: "跟进提醒：张三", Body: "请联系张三", Key: "k1"},
			notify.Message{UserID: b.counselor.ID, Kind: "followup_due", StudentID: st, Title: "跟进提醒：张三", Body: "请联系张三", Key: "k1"})
		require.Equal(t, 1, n, "one event, one notification")
		return err
	}))
	require.EventuallyWithT(t, func(c *assert.CollectT) {
		var done int
		require.NoError(c, env.App.DB.Pool.QueryRow(context.Background(),
			`SELECT count(*) FROM river_job WHERE kind = 'notification_email' AND state = 'completed'`).Scan(&done))
		assert.Equal(c, 1, done)
	}, 20*time.Second, 20*time.Millisecond)
	msgs := smtpd.Messages()
	require.Len(t, msgs, 1, "exactly once")
	require.Equal(t, []string{"wang@example.edu.cn"}, msgs[0].To)
	m := readMail(t, msgs[0].Data)
	require.Equal(t, "帮扶跟进提醒", m.subject, "the kind of notification")
	require.Contains(t, m.body, fmt.Sprintf("http://localhost:8080/students/%d", st), "and a link to it")
	require.NotContains(t, m.body+m.subject, "张三", "never the graduate's name: it stays in the inbox")
}
