package notify

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"mime"
	"net"
	"net/smtp"
	"net/url"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"

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

// Mailer sends one message.
type Mailer interface {
	Send(ctx context.Context, to, subject, body string) error
}

// EmailWorker sends a notification's e-mail: the notification is locked
// while sending and marked emailed after, and a job for an already-emailed
// notification does nothing. Only a crash between the server accepting the
// message and the commit can send it twice (SMTP offers no better).
type EmailWorker struct {
	river.WorkerDefaults[EmailArgs]
	DB     *postgres.DB
	Mailer Mailer
}

// Work sends the e-mail.
func (w *EmailWorker) Work(ctx context.Context, job *river.Job[EmailArgs]) error {
	return w.DB.InTx(ctx, func(tx pgx.Tx) error {
		var to, title, body string
		var emailed *time.Time
		err := tx.QueryRow(ctx, `SELECT u.email, n.title, n.body, n.emailed_at FROM notifications n JOIN users u ON u.id = n.user_id
			WHERE n.id = $1 FOR UPDATE OF n`, job.Args.NotificationID).Scan(&to, &title, &body, &emailed)
		if errors.Is(err, pgx.ErrNoRows) {
			return river.JobCancel(fmt.Errorf("notification %d no longer exists", job.Args.NotificationID))
		} else if err != nil {
			return err
		}
		if emailed != nil || to == "" {
			return nil
		}
		if err := w.Mailer.Send(ctx, to, title, body+"\n\n— bangfu 帮扶"); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `UPDATE notifications SET emailed_at = now() WHERE id = $1`, job.Args.NotificationID); err != nil {
			return err
		}
		return nil
	})
}

// SMTP sends mail through the server in a smtp:// or smtps:// URL.
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

// Send delivers one plain-text message, with STARTTLS when the server
// offers it (smtp://) or over TLS (smtps://).
func (m *SMTP) Send(ctx context.Context, to, subject, body string) error {
	host := m.URL.Hostname()
	addr := m.URL.Host
	if m.URL.Port() == "" {
		port := "25"
		if m.URL.Scheme == "smtps" {
			port = "465"
		}
		addr = net.JoinHostPort(host, port)
	}
	d := net.Dialer{Timeout: 15 * time.Second}
	var conn net.Conn
	var err error
	if m.URL.Scheme == "smtps" {
		conn, err = (&tls.Dialer{NetDialer: &d, Config: &tls.Config{ServerName: host}}).DialContext(ctx, "tcp", addr)
	} else {
		conn, err = d.DialContext(ctx, "tcp", addr)
	}
	if err != nil {
		return err
	}
	if deadline, ok := ctx.Deadline(); ok {
		_ = conn.SetDeadline(deadline)
	}
	c, err := smtp.NewClient(conn, host)
	if err != nil {
		conn.Close()
		return err
	}
	defer c.Close()
	if ok, _ := c.Extension("STARTTLS"); ok && m.URL.Scheme == "smtp" {
		if err := c.StartTLS(&tls.Config{ServerName: host}); err != nil {
			return err
		}
	}
	if user := m.URL.User; user != nil {
		pass, _ := user.Password()
		if err := c.Auth(smtp.PlainAuth("", user.Username(), pass, host)); err != nil {
			return err
		}
	}
	if err := c.Mail(m.From); err != nil {
		return err
	}
	if err := c.Rcpt(to); err != nil {
		return err
	}
	w, err := c.Data()
	if err != nil {
		return err
	}
	msg := "From: " + m.From + "\r\nTo: " + to + "\r\nSubject: " + mime.BEncoding.Encode("UTF-8", subject) +
		"\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=UTF-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n" +
		strings.ReplaceAll(body, "\n", "\r\n") + "\r\n"
	if _, err := w.Write([]byte(msg)); err != nil {
		return err
	}
	if err := w.Close(); err != nil {
		return err
	}
	return c.Quit()
}

// Refuse is the Mailer when no SMTP server is configured: e-mail jobs are
// not enqueued then, so it is reached only by jobs left from an earlier
// configuration, which it cancels.
type Refuse struct{}

// Send refuses.
func (Refuse) Send(context.Context, string, string, string) error {
	return river.JobCancel(errors.New("BANGFU_SMTP_URL is not set: e-mail is off"))
}
