package notify

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"
	gomail "github.com/wneessen/go-mail"

	"github.com/bangfu/bangfu/internal/postgres"
)

// EmailArgs is the job that e-mails one notification. It carries the id
// only; the address and text are read when the job runs.
type EmailArgs struct {
	NotificationID int64 `json:"notification_id"`
}

// Kind is the job's name in River.
func (EmailArgs) Kind() string { return "notification_email" }

// InsertOpts retries e-mail for about a day.
func (EmailArgs) InsertOpts() river.InsertOpts { return river.InsertOpts{MaxAttempts: 20} }

// Mail is one message to send.
type Mail struct {
	To, Subject, Body string
	// Key names the event the message is about ("notification-42"): a
	// message sent twice for one key has the same Message-ID, so that mail
	// systems can tell the copies apart from two messages.
	Key string
}

// Mailer sends one message. It returns nil once the server has accepted
// the message, even if closing the session afterwards fails: the message
// is on its way, and sending it again would deliver it twice.
type Mailer interface {
	Send(ctx context.Context, m Mail) error
}

// EmailWorker sends a notification's e-mail, for users who chose one
// e-mail per notification (EmailEach): the notification is locked while
// sending and marked emailed after, and a job for an already-emailed
// notification, or for a user who no longer wants one, does nothing. Only a
// crash between the server accepting the message and the commit can send it
// twice (SMTP offers no better); both copies then carry one Message-ID. The
// e-mail names the kind of notification and links to it; its title and body,
// which name the graduate, stay in the inbox.
type EmailWorker struct {
	river.WorkerDefaults[EmailArgs]
	DB     *postgres.DB
	Mailer Mailer
	// Notify writes the message (its links).
	Notify *Service
}

// Work sends the e-mail.
func (w *EmailWorker) Work(ctx context.Context, job *river.Job[EmailArgs]) error {
	return w.DB.InTx(ctx, func(tx pgx.Tx) error {
		var to, kind, mode string
		var student *int64
		var emailed *time.Time
		err := tx.QueryRow(ctx, `SELECT u.email, n.kind, n.student_id, n.emailed_at, coalesce(p.email_mode, 'digest')
			FROM notifications n JOIN users u ON u.id = n.user_id LEFT JOIN notify_preferences p ON p.user_id = n.user_id
			WHERE n.id = $1 FOR UPDATE OF n`, job.Args.NotificationID).Scan(&to, &kind, &student, &emailed, &mode)
		if errors.Is(err, pgx.ErrNoRows) {
			return river.JobCancel(fmt.Errorf("notification %d no longer exists", job.Args.NotificationID))
		} else if err != nil {
			return err
		}
		if emailed != nil || to == "" || mode != EmailEach {
			return nil
		}
		title, body := w.Notify.eachMail(kind, student)
		if err := w.Mailer.Send(ctx, Mail{To: to, Subject: title, Body: body + "\n\n— bangfu 帮扶",
			Key: fmt.Sprintf("notification-%d", job.Args.NotificationID)}); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `UPDATE notifications SET emailed_at = now() WHERE id = $1`, job.Args.NotificationID); err != nil {
			return err
		}
		return nil
	})
}

// SMTP sends mail through the server in a smtp:// or smtps:// URL, with
// github.com/wneessen/go-mail (docs/architecture.md, Dependencies).
type SMTP struct {
	URL  *url.URL
	From string
}

// NewSMTP parses rawURL (smtp://user:pass@host:port).
func NewSMTP(rawURL, from string) (*SMTP, error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		return nil, err
	}
	return &SMTP{URL: u, From: from}, nil
}

// Send delivers one plain-text message with Date and Message-ID headers,
// with STARTTLS when the server offers it (smtp://) or over TLS (smtps://),
// authenticating when the URL names a user. A message the server accepted
// is sent, whatever happens to the session after; an address that is not
// one cancels the job, since retrying cannot mend it.
func (m *SMTP) Send(ctx context.Context, mail Mail) error {
	msg := gomail.NewMsg(gomail.WithNoDefaultUserAgent())
	if err := msg.From(m.From); err != nil {
		return river.JobCancel(fmt.Errorf("BANGFU_SMTP_FROM: %w", err))
	}
	if err := msg.To(mail.To); err != nil {
		return river.JobCancel(fmt.Errorf("recipient: %w", err))
	}
	msg.Subject(mail.Subject)
	msg.SetBodyString(gomail.TypeTextPlain, mail.Body)
	msg.SetDate()
	domain := "localhost"
	if _, d, ok := strings.Cut(m.From, "@"); ok {
		domain = strings.Trim(d, "> ")
	}
	if mail.Key != "" {
		msg.SetMessageIDWithValue("bangfu." + mail.Key + "@" + domain)
	} else {
		msg.SetMessageID()
	}

	host := m.URL.Hostname()
	opts := []gomail.Option{gomail.WithTimeout(30 * time.Second), gomail.WithTLSConfig(&tls.Config{ServerName: host, MinVersion: tls.VersionTLS12})}
	port := 25
	if m.URL.Scheme == "smtps" {
		port = 465
		opts = append(opts, gomail.WithSSL())
	} else {
		opts = append(opts, gomail.WithTLSPolicy(gomail.TLSOpportunistic))
	}
	if p := m.URL.Port(); p != "" {
		n, err := strconv.Atoi(p)
		if err != nil {
			return fmt.Errorf("BANGFU_SMTP_URL: port %q", p)
		}
		port = n
	}
	opts = append(opts, gomail.WithPort(port))
	if user := m.URL.User; user != nil {
		pass, _ := user.Password()
		opts = append(opts, gomail.WithSMTPAuth(gomail.SMTPAuthAutoDiscover), gomail.WithUsername(user.Username()), gomail.WithPassword(pass))
	}
	c, err := gomail.NewClient(host, opts...)
	if err != nil {
		return err
	}
	err = c.DialAndSendWithContext(ctx, msg)
	if err != nil && msg.IsDelivered() {
		// Accepted; only the goodbye failed. Not an error: see Mailer.
		return nil
	}
	return err
}

// Refuse is the Mailer when no SMTP server is configured: e-mail jobs are
// not enqueued then, so it is reached only by jobs left from an earlier
// configuration, which it cancels.
type Refuse struct{}

// Send refuses.
func (Refuse) Send(context.Context, Mail) error {
	return river.JobCancel(errors.New("BANGFU_SMTP_URL is not set: e-mail is off"))
}
