package notify_test

import (
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"

	"github.com/bangfu/bangfu"
	"github.com/bangfu/bangfu/internal/apptest"
	"github.com/bangfu/bangfu/internal/notify"
)

func TestSendListAndRead(t *testing.T) {
	t.Parallel()
	env := apptest.New(t)
	ctx := t.Context()
	school := env.MustSchool(t)
	wang := env.MustUser(t, bangfu.RoleCounselor, &school.ID)
	li := env.MustUser(t, bangfu.RoleCounselor, &school.ID)
	send := func(msgs ...notify.Message) int {
		var n int
		require.NoError(t, env.App.DB.InTx(ctx, func(tx pgx.Tx) error {
			var err error
			n, err = env.App.Notify.Send(ctx, tx, msgs...)
			return err
		}))
		return n
	}
	require.Equal(t, 2, send(notify.Message{UserID: wang.ID, Kind: "test", Title: "一", Key: "k1"},
		notify.Message{UserID: li.ID, Kind: "test", Title: "一", Key: "k1"}), "one event, each user once")
	require.Zero(t, send(notify.Message{UserID: wang.ID, Kind: "test", Title: "一（重复）", Key: "k1"}), "the same event never twice")
	require.Equal(t, 1, send(notify.Message{UserID: wang.ID, Kind: "test", Title: "二", Key: "k2"}))

	l, err := env.App.Notify.List(ctx, wang.Actor(), true, bangfu.Page{Limit: 1})
	require.NoError(t, err)
	require.Len(t, l.Items, 1)
	require.Equal(t, "二", l.Items[0].Title, "newest first")
	require.NotEmpty(t, l.NextCursor)

	_, err = env.App.Notify.MarkRead(ctx, li.Actor(), l.Items[0].ID)
	require.Equal(t, bangfu.ENOTFOUND, bangfu.ErrorCode(err), "someone else's")
	read, err := env.App.Notify.MarkRead(ctx, wang.Actor(), l.Items[0].ID)
	require.NoError(t, err)
	require.NotNil(t, read.ReadAt)
	again, err := env.App.Notify.MarkRead(ctx, wang.Actor(), l.Items[0].ID)
	require.NoError(t, err)
	require.Equal(t, read.ReadAt, again.ReadAt, "the first reading stays")
	l, err = env.App.Notify.List(ctx, wang.Actor(), true, bangfu.Page{Limit: 50})
	require.NoError(t, err)
	require.Len(t, l.Items, 1)
}

func TestResolveSaysSoInPlace(t *testing.T) {
	t.Parallel()
	env := apptest.New(t)
	ctx := t.Context()
	school := env.MustSchool(t)
	wang := env.MustUser(t, bangfu.RoleCounselor, &school.ID)
	lin := env.MustUser(t, bangfu.RoleSupervisor, &school.ID)
	resolve := func(rs ...notify.Resolution) int {
		var n int
		require.NoError(t, env.App.DB.InTx(ctx, func(tx pgx.Tx) error {
			var err error
			n, err = env.App.Notify.Resolve(ctx, tx, "escalation", rs...)
			return err
		}))
		return n
	}
	require.NoError(t, env.App.DB.InTx(ctx, func(tx pgx.Tx) error {
		_, err := env.App.Notify.Send(ctx, tx,
			notify.Message{UserID: wang.ID, Kind: "escalation", Title: "一级升级：张三", Body: "已 15 天未联系", Key: "escalation:7"},
			notify.Message{UserID: lin.ID, Kind: "escalation", Title: "一级升级：张三", Body: "已 15 天未联系", Key: "escalation:7"},
			notify.Message{UserID: wang.ID, Kind: "followup_due", Title: "跟进提醒", Key: "escalation:7"})
		return err
	}))
	require.Equal(t, 2, resolve(notify.Resolution{Key: "escalation:7", Note: "已恢复联系"}), "every recipient's, of that kind only")
	require.Zero(t, resolve(notify.Resolution{Key: "escalation:7", Note: "再次"}), "once")
	for _, u := range []bangfu.Actor{wang.Actor(), lin.Actor()} {
		l, err := env.App.Notify.List(ctx, u, false, bangfu.Page{Limit: 50})
		require.NoError(t, err)
		for _, n := range l.Items {
			if n.Kind != "escalation" {
				require.Nil(t, n.ResolvedAt)
				continue
			}
			require.Equal(t, "【已解决】一级升级：张三", n.Title)
			require.Equal(t, "已 15 天未联系\n已于 2026-06-01 09:00 解决：已恢复联系", n.Body)
			require.NotNil(t, n.ResolvedAt)
			require.Nil(t, n.ReadAt, "still for its reader to see")
		}
	}
}
