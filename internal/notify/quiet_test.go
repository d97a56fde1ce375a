package notify

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/bangfu/bangfu"
)

func TestQuietHours(t *testing.T) {
	t.Parallel()
	day := func(d, h, m int) time.Time { return time.Date(2026, 6, d, h, m, 0, 0, bangfu.Shanghai) }
	for name, tc := range map[string]struct {
		q     Quiet
		at    time.Time
		until time.Time // zero: not quiet
	}{
		"evening, over midnight":     {DefaultQuiet, day(1, 23, 0), day(2, 7, 30)},
		"at the start":               {DefaultQuiet, day(1, 22, 0), day(2, 7, 30)},
		"after midnight":             {DefaultQuiet, day(2, 3, 0), day(2, 7, 30)},
		"at the end":                 {DefaultQuiet, day(2, 7, 30), time.Time{}},
		"daytime":                    {DefaultQuiet, day(2, 12, 0), time.Time{}},
		"within a day":               {Quiet{Start: 12 * 60, End: 14 * 60}, day(2, 13, 0), day(2, 14, 0)},
		"outside a window in a day":  {Quiet{Start: 12 * 60, End: 14 * 60}, day(2, 23, 0), time.Time{}},
		"none":                       {Quiet{Start: 0, End: 0}, day(2, 3, 0), time.Time{}},
		"UTC input, Shanghai window": {DefaultQuiet, time.Date(2026, 6, 1, 15, 0, 0, 0, time.UTC), day(2, 7, 30)},
	} {
		until, quiet := tc.q.Until(tc.at)
		require.Equal(t, !tc.until.IsZero(), quiet, name)
		require.True(t, until.Equal(tc.until), "%s: %s", name, until)
		want := tc.until
		if want.IsZero() {
			want = tc.at
		}
		require.True(t, tc.q.NotBefore(tc.at).Equal(want), name)
	}
}

// TestDingTalkSign checks the signature against one computed independently
// (Python's hmac, hashlib and base64, as DingTalk's documentation shows).
func TestDingTalkSign(t *testing.T) {
	t.Parallel()
	require.Equal(t, "TSZbRFUuvaSQaRKUpF970OPCb2/LcQAP3wOvwZIzBZk=", DingTalkSign("SEC0123456789abcdef", 1700000000000))
}

func TestEveryFiveMinutes(t *testing.T) {
	t.Parallel()
	e := EveryMinutes{N: 5}
	at := time.Date(2026, 6, 1, 7, 58, 30, 0, bangfu.Shanghai)
	require.True(t, e.Next(at).Equal(time.Date(2026, 6, 1, 8, 0, 0, 0, bangfu.Shanghai)))
	require.True(t, e.Next(e.Next(at)).Equal(time.Date(2026, 6, 1, 8, 5, 0, 0, bangfu.Shanghai)))
}

// TestTexts: what goes out is built from counts and
// fixed words only.
func TestTexts(t *testing.T) {
	t.Parallel()
	s := &Service{PublicURL: "https://bangfu.example.edu.cn"}
	require.Equal(t, "【帮扶每日提醒】今日待跟进 7 人，逾期 2 人，新升级 1 条：https://bangfu.example.edu.cn/",
		s.digestText(Counts{DueToday: 7, Overdue: 2, Escalations: 1}, "/"))
	require.Equal(t, "【帮扶每日提醒】本周到期材料 3 份，待核验去向 4 条。请登录帮扶系统查看。",
		(&Service{}).digestText(Counts{Expiring: 3, ToVerify: 4}, "/"), "without a public URL, no link")
	subject, body := s.eachMail("followup_due", ptr(int64(42)))
	require.Equal(t, "帮扶跟进提醒", subject)
	require.Equal(t, "您有一条新的跟进提醒：https://bangfu.example.edu.cn/students/42", body)
}

func ptr[T any](v T) *T { return &v }
