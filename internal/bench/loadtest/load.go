package loadtest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/bangfu/bangfu"
)

// request is one HTTP request of the load, as the API sees it; the target
// adds how the actor is named (a bearer token, or query parameters for the
// floor).
type request struct {
	method string
	// path is the API path with its query.
	path string
	body []byte
	// as is the acting user; nil for login.
	as *User
}

// Endpoint is one measured API operation.
type Endpoint struct {
	Name string
	// What says what is measured, for people.
	What string
	next func(rng *rand.Rand, s *Sample, password string, now time.Time) request
}

// Endpoints returns the measured endpoints, in the order they run.
func Endpoints() []Endpoint {
	pick := func(rng *rand.Rand, users []*User) *User { return users[rng.IntN(len(users))] }
	pair := func(rng *rand.Rand, s *Sample) Pair { return s.Pairs[rng.IntN(len(s.Pairs))] }
	return []Endpoint{
		{"login", "POST /api/v1/auth/login as a random counselor",
			func(rng *rand.Rand, s *Sample, password string, _ time.Time) request {
				body, _ := json.Marshal(map[string]string{"username": pick(rng, s.Counselors).Username, "password": password})
				return request{method: http.MethodPost, path: "/api/v1/auth/login", body: body}
			}},
		{"caseload", "a random counselor's caseload in urgency order: GET /api/v1/students?limit=50 (or ?order=urgency&limit=50 where urgency is not yet the default)",
			func(rng *rand.Rand, s *Sample, _ string, _ time.Time) request {
				return request{method: http.MethodGet, path: s.caseloadPath(), as: pick(rng, s.Counselors)}
			}},
		{"file", "GET /api/v1/students/{id}: a graduate of the counselor",
			func(rng *rand.Rand, s *Sample, _ string, _ time.Time) request {
				p := pair(rng, s)
				return request{method: http.MethodGet, path: fmt.Sprintf("/api/v1/students/%d", p.StudentID), as: p.Counselor}
			}},
		{"append", "POST /api/v1/students/{id}/ledger: a phone contact with a follow-up in a week",
			func(rng *rand.Rand, s *Sample, _ string, now time.Time) request {
				p := pair(rng, s)
				body, _ := json.Marshal(map[string]any{
					"kind": "contact", "channel": "phone", "occurred_at": now.Format(time.RFC3339Nano),
					"summary": "电话联系，了解求职进展（压测）", "next_step": "推荐岗位",
					"next_followup_on": bangfu.DateOf(now).AddDays(7).String(), "visibility": "internal",
				})
				return request{method: http.MethodPost, path: fmt.Sprintf("/api/v1/students/%d/ledger", p.StudentID), body: body, as: p.Counselor}
			}},
		{"ledger", "GET /api/v1/students/{id}/ledger: a graduate of the counselor",
			func(rng *rand.Rand, s *Sample, _ string, _ time.Time) request {
				p := pair(rng, s)
				return request{method: http.MethodGet, path: fmt.Sprintf("/api/v1/students/%d/ledger", p.StudentID), as: p.Counselor}
			}},
		{"review", "GET /api/v1/ledger?kind=contact&since=<30 days ago>&limit=50 as a random supervisor",
			func(rng *rand.Rand, s *Sample, _ string, now time.Time) request {
				since := now.AddDate(0, 0, -30).UTC().Truncate(time.Second).Format(time.RFC3339)
				return request{method: http.MethodGet, path: "/api/v1/ledger?kind=contact&since=" + url.QueryEscape(since) + "&limit=50",
					as: pick(rng, s.Supervisors)}
			}},
		{"escalations", "GET /api/v1/escalations?status=open as a random supervisor",
			func(rng *rand.Rand, s *Sample, _ string, _ time.Time) request {
				return request{method: http.MethodGet, path: "/api/v1/escalations?status=open", as: pick(rng, s.Supervisors)}
			}},
		{"report", "GET /api/v1/reports/summary as a random supervisor, uncached (the server runs with BANGFU_REPORT_CACHE=false)",
			func(rng *rand.Rand, s *Sample, _ string, _ time.Time) request {
				return request{method: http.MethodGet, path: "/api/v1/reports/summary", as: pick(rng, s.Supervisors)}
			}},
		{ReportCached, "GET /api/v1/reports/summary as a random supervisor, from the cache (a second server with the cache on)",
			func(rng *rand.Rand, s *Sample, _ string, _ time.Time) request {
				return request{method: http.MethodGet, path: "/api/v1/reports/summary", as: pick(rng, s.Supervisors)}
			}},
	}
}

// ReportCached is the endpoint of the cached report, measured on a server
// of its own (the main one counts every report afresh).
const ReportCached = "report-cached"

// EndpointNames lists the names of Endpoints.
func EndpointNames() []string {
	var names []string
	for _, e := range Endpoints() {
		names = append(names, e.Name)
	}
	return names
}

// Target is a server the load is sent to.
type Target struct {
	Name   string
	Base   string
	Client *http.Client
	// Floor makes the target name the actor in query parameters instead of
	// a bearer token.
	Floor  bool
	tokens *Tokens
}

// NewTarget returns a target for base with a client that keeps enough
// connections open for maxConcurrency.
func NewTarget(name, base string, floor bool, maxConcurrency int) *Target {
	tr := &http.Transport{
		Proxy:               nil,
		DialContext:         (&net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		MaxIdleConns:        maxConcurrency * 2,
		MaxIdleConnsPerHost: maxConcurrency * 2,
		IdleConnTimeout:     90 * time.Second,
		DisableCompression:  true,
	}
	return &Target{Name: name, Base: base, Floor: floor, Client: &http.Client{Transport: tr, Timeout: 60 * time.Second}}
}

// outcome is one request's result.
type outcome struct {
	status int
	bytes  int64
	// body is the start of a failed response.
	body string
	err  error
}

// send sends r, naming its actor as the target expects.
func (t *Target) send(ctx context.Context, r request) (*http.Response, error) {
	path := r.path
	var token string
	if r.as != nil {
		if t.Floor {
			sep := "?"
			if strings.Contains(path, "?") {
				sep = "&"
			}
			path += sep + actorParams(r.as.Actor)
		} else {
			token = t.tokens.get(r.as)
		}
	}
	var body io.Reader
	if r.body != nil {
		body = bytes.NewReader(r.body)
	}
	req, err := http.NewRequestWithContext(ctx, r.method, t.Base+path, body)
	if err != nil {
		return nil, err
	}
	if r.body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	return t.Client.Do(req)
}

// do sends r and reads the whole response.
func (t *Target) do(ctx context.Context, r request) outcome {
	resp, err := t.send(ctx, r)
	if err != nil {
		return outcome{err: err}
	}
	defer resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
		_, _ = io.Copy(io.Discard, resp.Body)
		return outcome{status: resp.StatusCode, body: string(b)}
	}
	n, err := io.Copy(io.Discard, resp.Body)
	return outcome{status: resp.StatusCode, bytes: n, err: err}
}

// Tokens holds an access token per user, logging in on demand.
type Tokens struct {
	target   *Target
	password string
	mu       sync.RWMutex
	tokens   map[int]token
}

type token struct {
	value  string
	issued time.Time
}

// UseTokens makes t log users in with password.
func (t *Target) UseTokens(password string) *Tokens {
	t.tokens = &Tokens{target: t, password: password, tokens: map[int]token{}}
	return t.tokens
}

func (k *Tokens) get(u *User) string {
	k.mu.RLock()
	defer k.mu.RUnlock()
	return k.tokens[u.index].value
}

// Login logs u in and keeps its token.
func (k *Tokens) Login(ctx context.Context, u *User) error {
	body, _ := json.Marshal(map[string]string{"username": u.Username, "password": k.password})
	issued := time.Now()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, k.target.Base+"/api/v1/auth/login", bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := k.target.Client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("log in as %s: %d %s", u.Username, resp.StatusCode, oneLine(string(b), 300))
	}
	var sess struct {
		AccessToken string `json:"access_token"`
	}
	if err := json.Unmarshal(b, &sess); err != nil || sess.AccessToken == "" {
		return fmt.Errorf("log in as %s: no access token in %s", u.Username, oneLine(string(b), 300))
	}
	k.mu.Lock()
	k.tokens[u.index] = token{sess.AccessToken, issued}
	k.mu.Unlock()
	return nil
}

// LoginAll logs in every user whose token is missing or older than maxAge,
// parallel at a time.
func (k *Tokens) LoginAll(ctx context.Context, users []*User, maxAge time.Duration, parallel int) error {
	var todo []*User
	k.mu.Lock()
	for _, u := range users {
		if t, ok := k.tokens[u.index]; !ok || time.Since(t.issued) > maxAge {
			todo = append(todo, u)
		}
	}
	k.mu.Unlock()
	work := make(chan *User)
	errs := make([]error, parallel)
	var wg sync.WaitGroup
	for i := range parallel {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for u := range work {
				if err := k.Login(ctx, u); err != nil && errs[i] == nil {
					errs[i] = err
				}
			}
		}()
	}
	for _, u := range todo {
		work <- u
	}
	close(work)
	wg.Wait()
	return errors.Join(errs...)
}

// Load is one run of one endpoint against one target.
type Load struct {
	Target      *Target
	Endpoint    Endpoint
	Sample      *Sample
	Password    string
	Concurrency int
	Seed        uint64
}

// Warm sends the endpoint's requests from Concurrency workers for d and
// forgets them: connections open, caches fill.
func (l *Load) Warm(ctx context.Context, d time.Duration) {
	if d > 0 {
		l.phase(ctx, d, l.Seed^0x5741524d)
	}
}

// Measure sends the endpoint's requests from Concurrency workers, each
// one after the other, for d, and summarises them. A worker starts no
// request after the deadline; the run's time ends when the last one
// finishes.
func (l *Load) Measure(ctx context.Context, d time.Duration) Stats {
	t, elapsed := l.phase(ctx, d, l.Seed)
	return t.stats(elapsed)
}

// Run is Warm for warmup, then Measure for duration.
func (l *Load) Run(ctx context.Context, warmup, duration time.Duration) Stats {
	l.Warm(ctx, warmup)
	return l.Measure(ctx, duration)
}

func (l *Load) phase(ctx context.Context, d time.Duration, seed uint64) (*tally, time.Duration) {
	tallies := make([]tally, l.Concurrency)
	var wg sync.WaitGroup
	start := time.Now()
	deadline := start.Add(d)
	for w := range l.Concurrency {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(seed, uint64(w)))
			t := &tallies[w]
			for ctx.Err() == nil {
				now := time.Now()
				if !now.Before(deadline) {
					return
				}
				r := l.Endpoint.next(rng, l.Sample, l.Password, now)
				began := time.Now()
				o := l.Target.do(ctx, r)
				took := time.Since(began)
				switch {
				case o.err != nil:
					if ctx.Err() != nil {
						return
					}
					t.fail(took, o.status, o.err.Error())
				case o.status/100 != 2:
					t.fail(took, o.status, r.method+" "+r.path+": "+o.body)
					if o.status == http.StatusUnauthorized && r.as != nil && l.Target.tokens != nil {
						// The token expired: counted as an error, then renewed.
						_ = l.Target.tokens.Login(ctx, r.as)
					}
				default:
					t.ok(took, o.bytes)
				}
			}
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	all := &tally{}
	for i := range tallies {
		all.merge(&tallies[i])
	}
	return all, elapsed
}

// DetectCaseloadDefault reports whether the server at t answers a plain
// GET /api/v1/students with the caseload's narrow rows in urgency order
// (rows with escalation_level) rather than whole files in id order.
func DetectCaseloadDefault(ctx context.Context, t *Target, as *User) (bool, error) {
	resp, err := t.send(ctx, request{method: http.MethodGet, path: "/api/v1/students?limit=5", as: as})
	if err != nil {
		return false, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
		return false, fmt.Errorf("GET /api/v1/students: %d %s", resp.StatusCode, oneLine(string(b), 200))
	}
	var body struct {
		Items []map[string]json.RawMessage `json:"items"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
		return false, err
	}
	for _, it := range body.Items {
		_, narrow := it["escalation_level"]
		return narrow, nil
	}
	return false, nil
}
