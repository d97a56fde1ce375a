package app_test

import (
	"context"
	"io"
	"mime"
	"mime/quotedprintable"
	"net/mail"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/bangfu/bangfu/internal/apptest"
	"github.com/bangfu/bangfu/internal/config"
	"github.com/bangfu/bangfu/internal/directory"
	"github.com/bangfu/bangfu/internal/notify"
)

// TestEmailQuitFailureIsNoResend: the server accepts the message, then the
// connection drops when the worker says QUIT. The message is sent: the job
// completes, the notification is marked e-mailed, and nothing is sent again.
// The message carries Date and Message-ID headers.
func TestEmailQuitFailureIsNoResend(t *testing.T) {
	t.Parallel()
	smtpd := apptest.NewSMTPServer(t)
	smtpd.FailQuit.Store(true)
	b := setup(t, apptest.Options{Workers: true, Config: func(c *config.Config) { c.SMTPURL = smtpd.URL(); c.SMTPFrom = "bangfu@school.example.cn" }})
	env := b.env
	ctx := t.Context()
	_, err := env.App.DB.Pool.Exec(ctx, `UPDATE users SET email = 'li@example.edu.cn' WHERE id = $1`, b.counselor.ID)
	require.NoError(t, err)
	emailEach(t, env, b.counselor)
	const notifications = 5
	require.NoError(t, env.App.DB.InTx(ctx, func(tx pgx.Tx) error {
		var msgs []notify.Message
		for i := range notifications {
			msgs = append(msgs, notify.Message{UserID: b.counselor.ID, Kind: "test", Title: "跟进提醒", Body: "请联系学生", Key: "quit-" + string(rune('a'+i))})
		}
		_, err := env.App.Notify.Send(ctx, tx, msgs...)
		return err
	}))
	require.EventuallyWithT(t, func(c *assert.CollectT) {
		var done, emailed int
		require.NoError(c, env.App.DB.Pool.QueryRow(context.Background(), `SELECT
			(SELECT count(*) FROM river_job WHERE kind = 'notification_email' AND state = 'completed'),
			(SELECT count(*) FROM notifications WHERE user_id = $1 AND emailed_at IS NOT NULL)`, b.counselor.ID).Scan(&done, &emailed))
		assert.Equal(c, notifications, done, "jobs completed")
		assert.Equal(c, notifications, emailed, "notifications marked e-mailed")
	}, 30*time.Second, 20*time.Millisecond)
	var attempts int
	require.NoError(t, env.App.DB.Pool.QueryRow(ctx, `SELECT max(attempt) FROM river_job WHERE kind = 'notification_email'`).Scan(&attempts))
	require.Equal(t, 1, attempts, "no job was retried")
	msgs := smtpd.Messages()
	require.Len(t, msgs, notifications, "each message delivered once")
	ids := map[string]bool{}
	for _, m := range msgs {
		r := readMail(t, m.Data)
		require.WithinDuration(t, time.Now(), r.date, time.Minute)
		require.Regexp(t, `^<bangfu\.notification-\d+@school\.example\.cn>$`, r.messageID)
		ids[r.messageID] = true
	}
	require.Len(t, ids, notifications, "one Message-ID per notification")
}

type readMessage struct {
	subject, body, messageID string
	date                     time.Time
}

// readMail parses a received message as a mail reader would: headers
// decoded, body transfer-decoded.
func readMail(t *testing.T, data string) readMessage {
	t.Helper()
	msg, err := mail.ReadMessage(strings.NewReader(data))
	require.NoError(t, err)
	var r readMessage
	r.subject, err = new(mime.WordDecoder).DecodeHeader(msg.Header.Get("Subject"))
	require.NoError(t, err)
	r.date, err = msg.Header.Date()
	require.NoError(t, err, "a Date header")
	r.messageID = msg.Header.Get("Message-ID")
	var body io.Reader = msg.Body
	if strings.EqualFold(msg.Header.Get("Content-Transfer-Encoding"), "quoted-printable") {
		body = quotedprintable.NewReader(body)
	}
	b, err := io.ReadAll(body)
	require.NoError(t, err)
	r.body = string(b)
	return r
}

// emailEach makes u choose one e-mail per notification (the default is the
// daily digest).
func emailEach(t *testing.T, env *apptest.Env, u directory.User) {
	t.Helper()
	_, err := env.App.Notify.SavePreferences(t.Context(), u.Actor(), 1, notify.PreferencesInput{EmailMode: notify.EmailEach, QuietStart: "22:00", QuietEnd: "07:30"})
	require.NoError(t, err)
}
