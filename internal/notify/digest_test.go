package notify_test

import (
	"io"
	"mime"
	"mime/quotedprintable"
	"net/mail"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"

	"github.com/bangfu/bangfu"
	"github.com/bangfu/bangfu/internal/apptest"
	"github.com/bangfu/bangfu/internal/config"
	"github.com/bangfu/bangfu/internal/destination"
	"github.com/bangfu/bangfu/internal/directory"
	"github.com/bangfu/bangfu/internal/graduate"
	"github.com/bangfu/bangfu/internal/ledger"
	"github.com/bangfu/bangfu/internal/notify"
)

// caseload is a school with a counselor, a supervisor and five graduates
// in every state a digest counts, and everything about them that must
// never leave the system.
type caseload struct {
	env                   *apptest.Env
	school                directory.School
	counselor, supervisor directory.User
	// secrets are the graduates' names, ID numbers and phones and the
	// ledger's text.
	secrets []string
}

func newCaseload(t *testing.T, env *apptest.Env, workers bool) *caseload {
	t.Helper()
	ctx := t.Context()
	if workers {
		// The stall sweep raises one level per run: let the run at start
		// pass before making a case that one run escalates.
		eventually(t, "the stall sweep at start", func() bool {
			var n int
			require.NoError(t, env.App.DB.Pool.QueryRow(ctx, `SELECT count(*) FROM river_job WHERE kind = 'stall_sweep' AND state = 'completed'`).Scan(&n))
			return n > 0
		})
	}
	c := &caseload{env: env, school: env.MustSchool(t)}
	c.counselor = env.MustUser(t, bangfu.RoleCounselor, &c.school.ID)
	c.supervisor = env.MustUser(t, bangfu.RoleSupervisor, &c.school.ID)
	start := env.Clock.Now()
	today := bangfu.Today(env.Clock)
	people := []struct{ name, phone string }{
		{"李明", "13800001001"}, {"陈晓燕", "13800001002"}, {"黄志强", "13800001003"}, {"周婷", "13800001004"}, {"吴俊杰", "13800001005"},
	}
	mk := func(i int) graduate.Student {
		id := env.IDNumber()
		c.secrets = append(c.secrets, people[i].name, people[i].phone, id)
		return env.MustStudent(t, c.counselor, graduate.Input{Name: people[i].name, Phone: people[i].phone, IDNumber: id, GraduationYear: start.Year()})
	}
	// 李明: a follow-up due today.
	due := mk(0)
	const summary = "电话联系李明，约定今天再谈面试准备"
	c.secrets = append(c.secrets, summary)
	_, err := env.App.Ledger.Append(ctx, c.counselor.Actor(), due.ID, ledger.Input{Kind: "contact", Channel: "phone",
		OccurredAt: start.Add(-time.Hour), Summary: summary, NextFollowupOn: today.String()})
	require.NoError(t, err)
	// 陈晓燕: a follow-up overdue.
	late := mk(1)
	require.NoError(t, graduate.MarkOverdue(ctx, env.App.DB.Pool, late.ID))
	// 黄志强: quiet for a month; the stall sweep escalates him (level 1).
	env.Clock.Set(start.AddDate(0, -1, 0))
	mk(2)
	env.Clock.Set(start)
	require.NoError(t, env.App.DB.InTx(ctx, func(tx pgx.Tx) error {
		_, err := env.App.SweepWorker().Sweep(ctx, tx)
		return err
	}))
	// 周婷: hardship evidence expiring in three days.
	st := mk(3)
	h, err := env.App.Graduates.AddHardship(ctx, c.counselor.Actor(), st.ID, graduate.HardshipInput{Category: "dibao",
		EvidenceType: "低保证", IssuingAuthority: "广州市民政局", ValidUntil: today.AddDays(3).String()})
	require.NoError(t, err)
	_, err = env.App.Graduates.VerifyHardship(ctx, c.supervisor.Actor(), st.ID, h.ID, graduate.Verification{Decision: "verified"})
	require.NoError(t, err)
	// 吴俊杰: a destination waiting for the supervisor's verification.
	st = mk(4)
	_, err = env.App.Destinations.Put(ctx, c.counselor.Actor(), st.ID, nil, destination.Input{Code: "80",
		ProofKind: "admission_notice", ProofRef: "录取通知书 001"})
	require.NoError(t, err)
	return c
}

// requireNoPersonalData fails when text holds any of the caseload's
// secrets.
func (c *caseload) requireNoPersonalData(t *testing.T, text string) {
	t.Helper()
	for _, s := range c.secrets {
		require.NotContains(t, text, s, "personal data left the system")
	}
}

// TestDigestReachesWeComAndDingTalk: at 08:00 a counselor's 企业微信 bot,
// a supervisor's 钉钉 robot (signed as DingTalk specifies) and the school's
// shared group each get one digest — counts and a link, no name, ID number,
// phone or ledger text of any graduate — and the inbox gets it too. A
// second run the same day sends nothing more.
func TestDigestReachesWeComAndDingTalk(t *testing.T) {
	t.Parallel()
	env := apptest.New(t, apptest.Options{Workers: true, Now: future})
	c := newCaseload(t, env, true)
	wecom := newFakeBot(t, notify.WeCom, "")
	const dingSecret = "SECb1c2d3e4f5a6b7c8d9e0f1a2b3c4d5e6f7"
	ding := newFakeBot(t, notify.DingTalk, dingSecret)
	addChannel(t, env, c.counselor, notify.ChannelInput{Kind: notify.WeCom, URL: wecom.URL("counselor-bot")})
	addChannel(t, env, c.supervisor, notify.ChannelInput{Kind: notify.DingTalk, URL: ding.URL("supervisor-bot"), Secret: dingSecret})
	addChannel(t, env, c.supervisor, notify.ChannelInput{Scope: notify.ScopeSchool, Kind: notify.WeCom, URL: wecom.URL("school-bot")})

	require.Zero(t, buildDigests(t, env).Scopes, "07:00: no digest is due before 08:00")
	env.Clock.Set(at(future, 8, 0))
	res := buildDigests(t, env)
	require.Equal(t, 2, res.Users, "the counselor and the supervisor have something to say")
	require.Equal(t, 1, res.Schools)
	eventually(t, "the digests to arrive", func() bool { return len(wecom.Messages()) == 2 && len(ding.Messages()) == 1 })

	byBot := map[string]string{}
	for _, m := range append(wecom.Messages(), ding.Messages()...) {
		c.requireNoPersonalData(t, m.Body)
		byBot[m.Query.Get("key")+m.Query.Get("access_token")] = m.Content
		require.NotEmpty(t, m.IdempotencyKey)
	}
	require.Equal(t, "【帮扶每日提醒】今日待跟进 1 人，逾期 1 人，新升级 1 条，本周到期材料 1 份：http://localhost:8080/", byBot["counselor-bot"])
	require.Equal(t, "【帮扶每日提醒】今日待跟进 1 人，逾期 1 人，本周到期材料 1 份，待核验去向 1 条：http://localhost:8080/", byBot["supervisor-bot"],
		"a supervisor's counts are the school's; level-1 escalations are the counselor's")
	require.Equal(t, "【帮扶每日提醒】今日待跟进 1 人，逾期 1 人，新升级 1 条，本周到期材料 1 份，待核验去向 1 条：http://localhost:8080/", byBot["school-bot"])
	require.True(t, ding.Messages()[0].SignatureOK, "the 钉钉 signature verifies")

	inbox, err := env.App.Notify.List(t.Context(), c.counselor.Actor(), false, bangfu.Page{Limit: 50})
	require.NoError(t, err)
	var digests []notify.Notification
	for _, n := range inbox.Items {
		if n.Kind == notify.KindDigest {
			digests = append(digests, n)
		}
	}
	require.Len(t, digests, 1, "the inbox has the digest too")
	require.Equal(t, byBot["counselor-bot"], digests[0].Body)

	env.Clock.Set(at(future, 8, 5))
	require.Zero(t, buildDigests(t, env).Scopes, "one digest per day")
	var n int
	require.NoError(t, env.App.DB.Pool.QueryRow(t.Context(), `SELECT count(*) FROM notify_deliveries`).Scan(&n))
	require.Equal(t, 3, n)
	require.Equal(t, 2, wecom.Requests())
	require.Equal(t, 1, ding.Requests())
}

// TestDigestCatchUp: a digest missed while nothing ran goes out late the
// same day; a day that passed is not made up for; each school has its own
// time; nobody with nothing to say gets one; and a late digest that could
// only go out after its day (the recipient's quiet hours) is not sent.
func TestDigestCatchUp(t *testing.T) {
	t.Parallel()
	env := apptest.New(t, apptest.Options{Now: future})
	c := newCaseload(t, env, false)
	ctx := t.Context()
	bot := newFakeBot(t, notify.WeCom, "")
	ch := addChannel(t, env, c.counselor, notify.ChannelInput{Kind: notify.WeCom, URL: bot.URL("k")})
	other := env.MustSchool(t)
	idle := env.MustUser(t, bangfu.RoleCounselor, &other.ID)
	otherSupervisor := env.MustUser(t, bangfu.RoleSupervisor, &other.ID)
	_, err := env.App.Notify.SaveSchool(ctx, otherSupervisor.Actor(), 1, notify.SchoolInput{DigestAt: "09:30", QuietStart: "22:00", QuietEnd: "07:30"})
	require.NoError(t, err)

	digestDays := func(u directory.User) []string {
		rows, err := env.App.DB.Pool.Query(ctx, `SELECT dedupe_key FROM notifications WHERE user_id = $1 AND kind = 'digest' ORDER BY id`, u.ID)
		require.NoError(t, err)
		keys, err := pgx.CollectRows(rows, pgx.RowTo[string])
		require.NoError(t, err)
		return keys
	}
	ran := func(scope int64) []string {
		rows, err := env.App.DB.Pool.Query(ctx, `SELECT day::text FROM notify_digest_runs WHERE scope = $1 ORDER BY day`, scope)
		require.NoError(t, err)
		days, err := pgx.CollectRows(rows, pgx.RowTo[string])
		require.NoError(t, err)
		return days
	}

	// Down from before 08:00 until 15:00: the digest goes out at 15:00.
	env.Clock.Set(at(future, 15, 0))
	res := buildDigests(t, env)
	require.Equal(t, 2, res.Users, "the counselor and the supervisor")
	require.Equal(t, []string{"digest:2099-06-01"}, digestDays(c.counselor))
	require.Equal(t, []string{"2099-06-01"}, ran(c.school.ID))
	require.Equal(t, []string{"2099-06-01"}, ran(other.ID), "the other school's 09:30 has passed too")
	require.Empty(t, digestDays(idle), "nothing to say: no digest")
	require.Len(t, deliveries(t, env, ch.ID), 1)

	// Down all of 2 June: that day is never built. 3 June at 09:00: the
	// first school's digest (08:00) is due, the other's (09:30) not yet.
	env.Clock.Set(at(future.AddDate(0, 0, 2), 9, 0))
	buildDigests(t, env)
	require.Equal(t, []string{"2099-06-01", "2099-06-03"}, ran(c.school.ID), "2 June was missed and is not made up for")
	require.Equal(t, []string{"2099-06-01"}, ran(other.ID))
	require.Equal(t, []string{"digest:2099-06-01", "digest:2099-06-03"}, digestDays(c.counselor))
	env.Clock.Set(at(future.AddDate(0, 0, 2), 9, 30))
	buildDigests(t, env)
	require.Equal(t, []string{"2099-06-01", "2099-06-03"}, ran(other.ID))

	// 4 June, back at 23:00, inside quiet hours that last until 07:30: the
	// inbox gets the digest, the group does not (it could only go out on
	// the 5th, when the 5th's digest replaces it).
	env.Clock.Set(at(future.AddDate(0, 0, 3), 23, 0))
	buildDigests(t, env)
	require.Equal(t, []string{"digest:2099-06-01", "digest:2099-06-03", "digest:2099-06-04"}, digestDays(c.counselor))
	require.Len(t, deliveries(t, env, ch.ID), 2, "no delivery for the 4th")
}

// TestDigestByEmail: with SMTP, a user gets the digest by e-mail — counts
// and a link — unless they turned e-mail off; one e-mail per notification
// is a choice, and the digest is not e-mailed twice then.
func TestDigestByEmail(t *testing.T) {
	t.Parallel()
	smtpd := apptest.NewSMTPServer(t)
	env := apptest.New(t, apptest.Options{Workers: true, Now: future, Config: func(cfg *config.Config) { cfg.SMTPURL = smtpd.URL() }})
	c := newCaseload(t, env, true)
	ctx := t.Context()
	_, err := env.App.DB.Pool.Exec(ctx, `UPDATE users SET email = 'wang@example.edu.cn' WHERE id = $1`, c.counselor.ID)
	require.NoError(t, err)
	_, err = env.App.DB.Pool.Exec(ctx, `UPDATE users SET email = 'lin@example.edu.cn' WHERE id = $1`, c.supervisor.ID)
	require.NoError(t, err)
	_, err = env.App.Notify.SavePreferences(ctx, c.supervisor.Actor(), 1, notify.PreferencesInput{EmailMode: notify.EmailOff, QuietStart: "22:00", QuietEnd: "07:30"})
	require.NoError(t, err)

	env.Clock.Set(at(future, 8, 0))
	buildDigests(t, env)
	eventually(t, "the digest e-mail", func() bool { return len(smtpd.Messages()) == 1 })
	m := smtpd.Messages()[0]
	require.Equal(t, []string{"wang@example.edu.cn"}, m.To, "not to the supervisor, who turned e-mail off")
	subject, body := readMail(t, m.Data)
	c.requireNoPersonalData(t, subject+body)
	require.Equal(t, "帮扶每日提醒 6月1日", subject)
	require.Contains(t, body, "【帮扶每日提醒】今日待跟进 1 人，逾期 1 人，新升级 1 条，本周到期材料 1 份：http://localhost:8080/")
	eventually(t, "the e-mail's delivery to be recorded", func() bool {
		var state string
		require.NoError(t, env.App.DB.Pool.QueryRow(ctx, `SELECT state FROM notify_deliveries WHERE medium = 'email'`).Scan(&state))
		return state == "sent"
	})
	var perNotification int
	require.NoError(t, env.App.DB.Pool.QueryRow(ctx, `SELECT count(*) FROM river_job WHERE kind = 'notification_email'`).Scan(&perNotification))
	require.Zero(t, perNotification, "the default is the digest, not one e-mail per notification")
}

// readMail decodes a received message's subject and body as a mail reader
// would.
func readMail(t *testing.T, data string) (subject, body string) {
	t.Helper()
	msg, err := mail.ReadMessage(strings.NewReader(data))
	require.NoError(t, err)
	subject, err = new(mime.WordDecoder).DecodeHeader(msg.Header.Get("Subject"))
	require.NoError(t, err)
	var r io.Reader = msg.Body
	if strings.EqualFold(msg.Header.Get("Content-Transfer-Encoding"), "quoted-printable") {
		r = quotedprintable.NewReader(r)
	}
	b, err := io.ReadAll(r)
	require.NoError(t, err)
	return subject, string(b)
}
