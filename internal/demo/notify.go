package demo

import (
	"context"
	"net"
	"time"

	"github.com/bangfu/bangfu"
	"github.com/bangfu/bangfu/internal/app"
	"github.com/bangfu/bangfu/internal/ledger"
	"github.com/bangfu/bangfu/internal/notify"
)

// DemoBot is the key of the demo counselor's 企业微信 channel on the
// development stand-in bot.
const DemoBot = "demo-counselor"

// seedNotifications gives the demo counselor a 企业微信 group bot that is
// bangfu's own development stand-in (POST /dev/webhook/send, mounted only
// in dev; what it received is at /dev/webhook), without quiet hours, and
// the demo school its digest at 00:00 — so that `make run` delivers the
// day's digest as soon as it starts, whatever the hour. So that the digest
// has something to say on the first day, a graduate's next follow-up is
// today. Loading twice changes nothing; without local webhooks (never in
// prod) it does nothing.
func seedNotifications(ctx context.Context, a *app.App) error {
	if !a.Config.WebhookAllowLocal {
		return nil
	}
	counselor, err := a.Directory.UserByUsername(ctx, "counselor")
	if err != nil {
		return err
	}
	supervisor, err := a.Directory.UserByUsername(ctx, "supervisor")
	if err != nil {
		return err
	}
	c, s := counselor.Actor(), supervisor.Actor()
	settings, err := a.Notify.Settings(ctx, c)
	if err != nil || len(settings.Channels) > 0 {
		return err
	}
	_, port, err := net.SplitHostPort(a.Config.Addr)
	if err != nil || port == "" {
		port = "8080"
	}
	if _, err := a.Notify.AddChannel(ctx, c, notify.ChannelInput{Kind: notify.WeCom, Label: "辅导员工作群（开发环境）",
		URL: "http://127.0.0.1:" + port + "/dev/webhook/send?key=" + DemoBot}); err != nil {
		return err
	}
	if _, err := a.Notify.SavePreferences(ctx, c, settings.Preferences.Version, notify.PreferencesInput{
		EmailMode: notify.EmailDigest, QuietStart: "00:00", QuietEnd: "00:00"}); err != nil {
		return err
	}
	school, err := a.Notify.Settings(ctx, s)
	if err != nil {
		return err
	}
	if school.School != nil {
		sc := school.School.School
		if _, err := a.Notify.SaveSchool(ctx, s, sc.Version, notify.SchoolInput{DigestAt: "00:00", QuietStart: sc.QuietStart, QuietEnd: sc.QuietEnd}); err != nil {
			return err
		}
	}
	var id int64
	if err := a.DB.Pool.QueryRow(ctx, `SELECT id FROM students WHERE counselor_id = $1 AND status IN ('open', 'active') ORDER BY id LIMIT 1`,
		counselor.ID).Scan(&id); err != nil {
		return err
	}
	_, err = a.Ledger.Append(ctx, c, id, ledger.Input{Kind: "contact", Channel: "phone", OccurredAt: a.Clock.Now().Add(-time.Hour),
		Summary: "电话联系，约定今天再次沟通面试准备", NextStep: "面试辅导", Visibility: "internal", NextFollowupOn: bangfu.Today(a.Clock).String()})
	return err
}
