package web_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/require"

	"github.com/bangfu/bangfu"
	"github.com/bangfu/bangfu/internal/apptest"
	"github.com/bangfu/bangfu/internal/notify"
)

// bot is a local stand-in for a 企业微信 group bot: it answers as the API
// does, or with status when set.
type bot struct {
	srv      *httptest.Server
	mu       sync.Mutex
	status   int
	received []string
}

func newBot(t *testing.T) *bot {
	b := &bot{}
	b.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		b.mu.Lock()
		defer b.mu.Unlock()
		if b.status != 0 {
			w.WriteHeader(b.status)
			return
		}
		b.received = append(b.received, string(body))
		_, _ = io.WriteString(w, `{"errcode":0,"errmsg":"ok"}`)
	}))
	t.Cleanup(b.srv.Close)
	return b
}

func (b *bot) refuse(status int) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.status = status
}

func (b *bot) messages() []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]string(nil), b.received...)
}

// TestNotificationSettings: a counselor adds a 企业微信 group bot (a wrong
// address is refused next to its field), tests it, sees it break when the
// bot is revoked, sets quiet hours and removes it — on a phone, without
// any of it failing the accessibility check; user text stays text.
func TestNotificationSettings(t *testing.T) {
	t.Parallel()
	env := apptest.New(t)
	school := env.MustSchool(t)
	counselor := env.MustUser(t, bangfu.RoleCounselor, &school.ID)
	wecom := newBot(t)
	ctx := tab(t, phone)
	loginAs(t, ctx, env, counselor)

	require.NoError(t, chromedp.Do(ctx, chromedp.Click("#notify-settings-link"), chromedp.WaitVisible("#channels")))
	require.Equal(t, env.URL+"/settings/notifications", location(t, ctx))
	require.Equal(t, "提醒设置", text(t, ctx, "h1"))
	require.Contains(t, text(t, ctx, "#notify-intro"), "不含毕业生的姓名")
	accessible(t, ctx)

	// A wrong address is refused, next to its field, and what was typed stays.
	require.NoError(t, chromedp.Do(ctx,
		chromedp.Click("#channel-add > summary"),
		chromedp.WaitVisible("#channel-label"),
		chromedp.SendKeys("#channel-label", "<script>alert(1)</script>辅导员群"),
		chromedp.SendKeys("#channel-url", "https://example.com/cgi-bin/webhook/send?key=x"),
		chromedp.Click("#channel-submit"),
		chromedp.WaitVisible("#channel-url-error"),
	))
	require.Equal(t, "必须是 qyapi.weixin.qq.com 上的地址", text(t, ctx, "#channel-url-error"))
	invalid, err := chromedp.Run(ctx, chromedp.AttributeValue("#channel-url", "aria-invalid"))
	require.NoError(t, err)
	require.Equal(t, "true", invalid.Value)
	label, err := chromedp.Run(ctx, chromedp.Value("#channel-label"))
	require.NoError(t, err)
	require.Equal(t, "<script>alert(1)</script>辅导员群", label)
	accessible(t, ctx)

	// Add.
	require.NoError(t, chromedp.Do(ctx,
		chromedp.SetValue("#channel-url", wecom.srv.URL+"/cgi-bin/webhook/send?key=counselor"),
	))
	flashAfter(t, ctx, "#channel-submit")
	require.Contains(t, text(t, ctx, "#flash"), "已添加")
	require.Equal(t, 1, count(t, ctx, "#channels li.channel[data-kind=wecom]"))
	require.Equal(t, "<script>alert(1)</script>辅导员群", text(t, ctx, "#channels .channel-label"), "user text is shown as text")
	require.NotContains(t, text(t, ctx, "#channels"), "key=counselor", "the address is never shown again")
	accessible(t, ctx)

	// Test: it arrives.
	flashAfter(t, ctx, `#channels button[id$="-test"]`)
	require.Equal(t, "测试消息已送达。", text(t, ctx, "#flash"))
	require.Len(t, wecom.messages(), 1)
	require.Contains(t, wecom.messages()[0], "测试消息")
	require.Equal(t, "正常", text(t, ctx, `#channels [id$="-status"]`))

	// The bot is revoked: the test is refused and the channel shows broken.
	wecom.refuse(http.StatusNotFound)
	env.Clock.Advance(time.Minute)
	flashAfter(t, ctx, `#channels button[id$="-test"]`)
	require.Equal(t, "测试消息被拒绝，该渠道已标记为失效。", text(t, ctx, "#flash"))
	require.Equal(t, "已失效", text(t, ctx, `#channels [id$="-status"]`))
	require.Contains(t, text(t, ctx, `#channels [id$="-reason"]`), "HTTP 404")
	accessible(t, ctx)
	screenshot(t, ctx, "notify-settings-phone")

	// Quiet hours, changed elsewhere meanwhile: both versions are shown,
	// nothing is overwritten, and the form keeps what was typed.
	_, err = env.App.Notify.SavePreferences(t.Context(), counselor.Actor(), 1, notify.PreferencesInput{EmailMode: "each", QuietStart: "23:00", QuietEnd: "06:00"})
	require.NoError(t, err)
	require.NoError(t, chromedp.Do(ctx,
		chromedp.SetValue("#pref-quiet_start", "21:30"),
		chromedp.Click(`#preferences-form input[value="off"]`),
		chromedp.Click("#save-preferences"),
		chromedp.WaitVisible("#theirs"),
	))
	require.Equal(t, "您编辑期间，有人修改了这条记录。请查看最新内容后再保存。", text(t, ctx, "#form-error"))
	require.Contains(t, text(t, ctx, "#theirs"), "23:00–06:00")
	start, err := chromedp.Run(ctx, chromedp.Value("#pref-quiet_start"))
	require.NoError(t, err)
	require.Equal(t, "21:30", start, "what was typed is kept")
	accessible(t, ctx)
	flashAfter(t, ctx, "#save-preferences")
	require.Equal(t, "已保存。", text(t, ctx, "#flash"))
	start, err = chromedp.Run(ctx, chromedp.Value("#pref-quiet_start"))
	require.NoError(t, err)
	require.Equal(t, "21:30", start)
	s, err := env.App.Notify.Settings(t.Context(), counselor.Actor())
	require.NoError(t, err)
	require.Equal(t, "off", s.Preferences.EmailMode)

	// Remove.
	flashAfter(t, ctx, `#channels button[id$="-remove"]`)
	require.Equal(t, "已删除，不再向该群发送。", text(t, ctx, "#flash"))
	require.Zero(t, count(t, ctx, "#channels li.channel[data-kind]"))
	accessible(t, ctx)
}

// TestSchoolChannelAndDeliveries: a supervisor of the whole school also
// manages the school's shared group and its digest time; the admin sees
// every attempt; the development stand-in bot shows what it received.
func TestSchoolChannelAndDeliveries(t *testing.T) {
	t.Parallel()
	env := apptest.New(t)
	school := env.MustSchool(t)
	supervisor := env.MustUser(t, bangfu.RoleSupervisor, &school.ID)
	admin := env.MustUser(t, bangfu.RoleAdmin, nil)
	ctx := tab(t, desktop)
	loginAs(t, ctx, env, supervisor)
	require.NoError(t, chromedp.Do(ctx, chromedp.Navigate(env.URL+"/settings/notifications"), chromedp.WaitVisible("#school")))
	require.Contains(t, text(t, ctx, "#school-channels"), "尚未设置学校工作群")

	// The school's group points at the development stand-in bot.
	require.NoError(t, chromedp.Do(ctx,
		chromedp.Click("#school-channel-add > summary"),
		chromedp.WaitVisible("#school-channel-label"),
		chromedp.SendKeys("#school-channel-label", "就业工作群"),
		chromedp.SendKeys("#school-channel-url", env.URL+"/dev/webhook/send?key=school-group"),
	))
	flashAfter(t, ctx, "#school-channel-submit")
	require.Equal(t, 1, count(t, ctx, "#school-channels li.channel"))
	flashAfter(t, ctx, `#school-channels button[id$="-test"]`)
	require.Equal(t, "测试消息已送达。", text(t, ctx, "#flash"))

	require.NoError(t, chromedp.Do(ctx,
		chromedp.SetValue("#school-digest_at", "07:45"),
	))
	flashAfter(t, ctx, "#save-school")
	at, err := chromedp.Run(ctx, chromedp.Value("#school-digest_at"))
	require.NoError(t, err)
	require.Equal(t, "07:45", at)
	accessible(t, ctx)
	screenshot(t, ctx, "notify-settings-school")

	require.NoError(t, chromedp.Do(ctx, chromedp.Navigate(env.URL+"/dev/webhook"), chromedp.WaitVisible("#received")))
	require.Contains(t, text(t, ctx, "#dev-only"), "仅开发环境")
	require.Contains(t, text(t, ctx, "#received"), "测试消息")
	accessible(t, ctx)

	actx := tab(t, phone)
	loginAs(t, actx, env, admin)
	require.NoError(t, chromedp.Do(actx, chromedp.Navigate(env.URL+"/admin/deliveries"), chromedp.WaitVisible("#deliveries")))
	rows := text(t, actx, "#deliveries")
	require.Contains(t, rows, "测试消息")
	require.Contains(t, rows, "已送达")
	require.True(t, strings.Contains(rows, "HTTP 200") || strings.Contains(rows, "成功"), "the attempt's outcome: %s", rows)
	require.NotContains(t, rows, "school-group", "never the address or its key")
	accessible(t, actx)
	screenshot(t, actx, "deliveries-phone")
}

// flashAfter clicks sel and waits for the next page's message (the current
// one is removed first, so that it is not taken for the next).
func flashAfter(t *testing.T, ctx context.Context, sel string) {
	t.Helper()
	_, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`document.getElementById("flash")?.remove(); true`))
	require.NoError(t, err)
	require.NoError(t, chromedp.Do(ctx, chromedp.Click(sel), chromedp.WaitVisible("#flash")))
}
