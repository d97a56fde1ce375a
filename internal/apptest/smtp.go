package apptest

import (
	"bytes"
	"io"
	"net"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/emersion/go-smtp"
)

// Mail is a message an SMTPServer received.
type Mail struct {
	From string
	To   []string
	Data string
}

// SMTPServer is a real SMTP server on a loopback port that keeps what it
// receives, for tests of e-mail delivery.
type SMTPServer struct {
	Addr string
	// Hold, when set, is called when a message's data starts arriving; the
	// message is accepted only if it returns true (a test can block in it).
	Hold func() bool
	// FailQuit, when set, makes the server drop the connection when the
	// client says QUIT, before answering: the message was accepted, the
	// goodbye fails.
	FailQuit atomic.Bool

	mu       sync.Mutex
	messages []Mail
}

// NewSMTPServer starts a server that stops when t ends.
func NewSMTPServer(t testing.TB) *SMTPServer {
	t.Helper()
	s := &SMTPServer{}
	srv := smtp.NewServer(s)
	srv.Domain = "localhost"
	srv.AllowInsecureAuth = true
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s.Addr = ln.Addr().String()
	go func() { _ = srv.Serve(quitListener{ln, s}) }()
	t.Cleanup(func() { _ = srv.Close() })
	return s
}

// quitListener hands the server connections that drop on QUIT when the
// server's FailQuit is set.
type quitListener struct {
	net.Listener
	s *SMTPServer
}

func (l quitListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	return &quitConn{Conn: c, s: l.s}, nil
}

type quitConn struct {
	net.Conn
	s *SMTPServer
}

func (c *quitConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	if c.s.FailQuit.Load() && bytes.Contains(bytes.ToUpper(p[:n]), []byte("QUIT\r\n")) {
		c.Conn.Close()
		return 0, io.EOF
	}
	return n, err
}

// URL is the server's smtp:// URL, for BANGFU_SMTP_URL.
func (s *SMTPServer) URL() string { return "smtp://" + s.Addr }

// Messages returns what the server has received so far.
func (s *SMTPServer) Messages() []Mail {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Mail(nil), s.messages...)
}

// NewSession implements smtp.Backend.
func (s *SMTPServer) NewSession(*smtp.Conn) (smtp.Session, error) { return &smtpSession{srv: s}, nil }

type smtpSession struct {
	srv *SMTPServer
	msg Mail
}

func (ss *smtpSession) Reset()        { ss.msg = Mail{} }
func (ss *smtpSession) Logout() error { return nil }
func (ss *smtpSession) Mail(from string, _ *smtp.MailOptions) error {
	ss.msg.From = from
	return nil
}
func (ss *smtpSession) Rcpt(to string, _ *smtp.RcptOptions) error {
	ss.msg.To = append(ss.msg.To, to)
	return nil
}
func (ss *smtpSession) Data(r io.Reader) error {
	if hold := ss.srv.Hold; hold != nil && !hold() {
		return &smtp.SMTPError{Code: 451, Message: "try again later"}
	}
	b, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	ss.msg.Data = string(b)
	ss.srv.mu.Lock()
	ss.srv.messages = append(ss.srv.messages, ss.msg)
	ss.srv.mu.Unlock()
	return nil
}
