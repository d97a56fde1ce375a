package notify

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptrace"
	"net/url"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/bangfu/bangfu"
)

// The kinds of webhook channel.
const (
	// WeCom is a 企业微信 group bot (群机器人).
	WeCom = "wecom"
	// DingTalk is a 钉钉 custom robot (自定义机器人) with 加签 security.
	DingTalk = "dingtalk"
)

// endpoint is where a kind's webhooks live: the only host and path a real
// webhook URL may have, and the query parameter that holds the bot's key.
type endpoint struct{ host, path, keyParam string }

var endpoints = map[string]endpoint{
	WeCom:    {"qyapi.weixin.qq.com", "/cgi-bin/webhook/send", "key"},
	DingTalk: {"oapi.dingtalk.com", "/robot/send", "access_token"},
}

// Fields sealed in notify_channels (the column names are the associated
// data: a sealed URL cannot be moved into the secret's column).
const (
	fieldURL    = "notify_channels.url"
	fieldSecret = "notify_channels.secret"
)

// checkWebhook records the problems of a webhook URL (field "url") and a
// signing secret (field "secret") for kind, and returns the URL's host. A
// real URL is https on the kind's one host and path with its key and no
// other parameter; with allowLocal, an http(s) URL on a loopback address
// (any path) is accepted too — tests' fake endpoints and the development
// receiver. A 钉钉 robot needs its 加签 secret ("SEC…"); a 企业微信 bot has
// none.
func checkWebhook(p *bangfu.Problems, kind, raw, secret string, allowLocal bool) string {
	ep, ok := endpoints[kind]
	if !ok {
		p.Add("kind", "must be wecom or dingtalk")
		return ""
	}
	host := webhookHost(p, ep, raw, allowLocal)
	switch {
	case kind == WeCom && secret != "":
		p.Add("secret", "is only for 钉钉 robots: a 企业微信 bot has no signing secret")
	case kind == DingTalk && secret == "":
		p.Add("secret", "is required: the robot's 加签 secret (SEC…), from its security settings")
	case kind == DingTalk && (bangfu.HasControl(secret) || strings.ContainsAny(secret, " \t\r\n")):
		p.Add("secret", "must not contain spaces or control characters")
	case kind == DingTalk && (!strings.HasPrefix(secret, "SEC") || len(secret) < 16 || len(secret) > 200):
		p.Add("secret", "must be the 加签 secret shown by the robot, starting with SEC")
	}
	return host
}

func webhookHost(p *bangfu.Problems, ep endpoint, raw string, allowLocal bool) string {
	if raw == "" {
		p.Add("url", "is required")
		return ""
	}
	u, err := url.Parse(raw)
	switch {
	case err != nil || bangfu.HasControl(raw) || len(raw) > 2000 || strings.ContainsAny(raw, " \t\r\n"):
		p.Add("url", "is not a URL")
	case u.User != nil:
		p.Add("url", "must not carry a user name or password")
	case u.Fragment != "":
		p.Add("url", "must not have a #fragment")
	case allowLocal && (u.Scheme == "http" || u.Scheme == "https") && loopback(u.Hostname()):
		return u.Host
	case u.Scheme != "https":
		p.Add("url", "must be an https:// URL")
	case !strings.EqualFold(u.Hostname(), ep.host) || (u.Port() != "" && u.Port() != "443"):
		p.Add("url", "must be a URL on "+ep.host)
	case u.Path != ep.path:
		p.Add("url", "must be the robot's webhook address, https://"+ep.host+ep.path+"?"+ep.keyParam+"=…")
	default:
		q := u.Query()
		if len(q) != 1 || len(q[ep.keyParam]) != 1 || q.Get(ep.keyParam) == "" {
			p.Add("url", "must be the robot's webhook address, https://"+ep.host+ep.path+"?"+ep.keyParam+"=…")
			return ""
		}
		return ep.host
	}
	return ""
}

// loopback reports whether host names this machine: localhost or a
// loopback IP address.
func loopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// DingTalkSign is the signature of a 钉钉 robot request at timestamp (Unix
// milliseconds), as DingTalk specifies: HMAC-SHA256 under the secret of
// timestamp + "\n" + secret, in base64. It goes in the sign query parameter
// (URL-encoded there) beside timestamp.
func DingTalkSign(secret string, timestamp int64) string {
	m := hmac.New(sha256.New, []byte(secret))
	fmt.Fprintf(m, "%d\n%s", timestamp, secret)
	return base64.StdEncoding.EncodeToString(m.Sum(nil))
}

// Outcomes of one attempt.
const (
	outcomeOK        = "ok"
	outcomeRetry     = "retry"     // worth trying again: a network error before the request went out, 5xx, 429, rate limits
	outcomePermanent = "permanent" // will not change by itself: 4xx, the API's own refusal
	outcomeUnknown   = "unknown"   // the request went out and no answer came back: it may have been posted
)

// result is what one attempt came to. err never holds the URL, the bot's
// key or the secret.
type result struct {
	outcome string
	status  int
	err     string
	// broken is set with a permanent outcome that means the channel itself
	// is refused (revoked bot, wrong key or secret), not just this message.
	broken bool
}

// Retriable API error codes in a 200 answer: system busy and rate limits
// (企业微信 -1, 45009, 45033; 钉钉 -1, 130101, 410100).
var retriableCodes = map[int]bool{-1: true, 45009: true, 45033: true, 130101: true, 410100: true}

// webhookMessage is the JSON both 企业微信 and 钉钉 take for a text message.
type webhookMessage struct {
	MsgType string `json:"msgtype"`
	Text    struct {
		Content string `json:"content"`
	} `json:"text"`
}

// apiAnswer is what both APIs answer: {"errcode":0,"errmsg":"ok"} when the
// message was accepted.
type apiAnswer struct {
	ErrCode *int   `json:"errcode"`
	ErrMsg  string `json:"errmsg"`
}

// webhookClient sends webhook requests: a 10 s limit, no redirect
// followed (a redirect is an answer, never a second request to an
// address nobody checked), a fresh connection each time (so that an
// idle connection closed by the server never makes a sent request look
// unsent).
var webhookClient = &http.Client{
	Timeout:       10 * time.Second,
	CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	Transport:     &http.Transport{Proxy: http.ProxyFromEnvironment, DisableKeepAlives: true, TLSHandshakeTimeout: 5 * time.Second},
}

// postWebhook sends text to a kind's webhook at rawURL (signed with secret
// for 钉钉), with key as Idempotency-Key (which 企业微信 and 钉钉 ignore and
// receivers that keep keys use), and says what came of it. The URL is
// checked again first: a URL saved under another configuration (a local
// one, before BANGFU_WEBHOOK_ALLOW_LOCAL was turned off) is refused, not
// called.
func postWebhook(ctx context.Context, client *http.Client, kind, rawURL, secret, key, text string, allowLocal bool) result {
	scrub := scrubber(rawURL, secret)
	var p bangfu.Problems
	checkWebhook(&p, kind, rawURL, secret, allowLocal)
	if len(p) > 0 {
		return result{outcome: outcomePermanent, broken: true, err: "the webhook address is not allowed here"}
	}
	target, _ := url.Parse(rawURL)
	if kind == DingTalk {
		// The wall clock, not a service clock: 钉钉 compares it with its own
		// and refuses a timestamp more than an hour away.
		ts := time.Now().UnixMilli()
		q := target.Query()
		q.Set("timestamp", strconv.FormatInt(ts, 10))
		q.Set("sign", DingTalkSign(secret, ts))
		target.RawQuery = q.Encode()
	}
	var msg webhookMessage
	msg.MsgType = "text"
	msg.Text.Content = text
	body, _ := json.Marshal(msg)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, target.String(), bytes.NewReader(body))
	if err != nil {
		return result{outcome: outcomePermanent, broken: true, err: "the webhook address cannot be called"}
	}
	req.Header.Set("Content-Type", "application/json; charset=utf-8")
	req.Header.Set("User-Agent", "bangfu")
	req.Header.Set("Idempotency-Key", key)
	var wrote atomic.Bool
	req = req.WithContext(httptrace.WithClientTrace(ctx, &httptrace.ClientTrace{
		WroteRequest: func(info httptrace.WroteRequestInfo) {
			if info.Err == nil {
				wrote.Store(true)
			}
		},
	}))
	resp, err := client.Do(req)
	if err != nil {
		reason := scrub(transportError(err))
		if wrote.Load() {
			return result{outcome: outcomeUnknown, err: "no answer after the request was sent: " + reason}
		}
		return result{outcome: outcomeRetry, err: reason}
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	r := result{status: resp.StatusCode}
	switch s := resp.StatusCode; {
	case s >= 200 && s < 300:
		var ans apiAnswer
		if err := json.Unmarshal(raw, &ans); err != nil || ans.ErrCode == nil {
			r.outcome, r.err = outcomeRetry, "the answer is not the API's JSON"
			return r
		}
		switch code := *ans.ErrCode; {
		case code == 0:
			r.outcome = outcomeOK
		case retriableCodes[code]:
			r.outcome, r.err = outcomeRetry, scrub(fmt.Sprintf("errcode %d: %.200s", code, ans.ErrMsg))
		default:
			r.outcome, r.broken, r.err = outcomePermanent, true, scrub(fmt.Sprintf("errcode %d: %.200s", code, ans.ErrMsg))
		}
	case s == http.StatusRequestTimeout || s == http.StatusTooEarly || s == http.StatusTooManyRequests || s >= 500:
		r.outcome, r.err = outcomeRetry, fmt.Sprintf("HTTP %d", s)
	case s >= 300 && s < 400:
		r.outcome, r.broken, r.err = outcomePermanent, true, fmt.Sprintf("HTTP %d: redirects are not followed", s)
	default:
		r.outcome, r.broken, r.err = outcomePermanent, true, fmt.Sprintf("HTTP %d", s)
	}
	return r
}

// transportError describes a failed request without its URL (url.Error
// quotes the whole URL, key included).
func transportError(err error) string {
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err
	}
	if errors.Is(err, context.DeadlineExceeded) {
		return "timed out"
	}
	return err.Error()
}

// scrubber returns a function that removes rawURL, its query values and
// secret from a message, whatever quoted them.
func scrubber(rawURL, secret string) func(string) string {
	var secrets []string
	for _, s := range []string{rawURL, secret} {
		if s != "" {
			secrets = append(secrets, s, url.QueryEscape(s))
		}
	}
	if u, err := url.Parse(rawURL); err == nil {
		for _, vs := range u.Query() {
			for _, v := range vs {
				if len(v) >= 4 {
					secrets = append(secrets, v, url.QueryEscape(v))
				}
			}
		}
	}
	return func(msg string) string {
		for _, s := range secrets {
			msg = strings.ReplaceAll(msg, s, "…")
		}
		return msg
	}
}
