// Package request reads what a client sent: the acting user, path
// parameters, query parameters, paging, JSON bodies and If-Match. Both the
// JSON API (internal/httpapi) and the pages (internal/webui) use it, so the
// two read input the same way and name the same problems.
package request

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/bangfu/bangfu"
)

// Actor returns the authenticated actor of c. Routes behind the policy
// check (internal/http/router) always have one.
func Actor(c echo.Context) bangfu.Actor {
	a, _ := bangfu.ActorFrom(c.Request().Context())
	return a
}

// Context returns the request's context.
func Context(c echo.Context) context.Context { return c.Request().Context() }

// PathID reads the path parameter name as a record id. Anything that is not
// a positive 64-bit number names no record: not_found, like a missing one.
func PathID(c echo.Context, name string) (int64, error) {
	id, err := strconv.ParseInt(c.Param(name), 10, 64)
	if err != nil || id <= 0 {
		return 0, bangfu.NotFound(strings.TrimSuffix(name, "_id"))
	}
	return id, nil
}

// PathInt reads the path parameter name as a positive number that fits an
// int32 (a revision, a ledger seq); anything else is not_found as what.
func PathInt(c echo.Context, name, what string) (int, error) {
	n, err := strconv.ParseInt(c.Param(name), 10, 32)
	if err != nil || n <= 0 {
		return 0, bangfu.NotFound(what)
	}
	return int(n), nil
}

// ExportTimeout bounds the work of one file export: far longer than a
// request's (BANGFU_REQUEST_TIMEOUT), since a province's ledger is large.
const ExportTimeout = 15 * time.Minute

// ExportContext returns the context a file export runs in: it ends when
// the client goes away or after ExportTimeout, but not at the request
// timeout. The caller calls the returned function when done.
func ExportContext(c echo.Context) (context.Context, func()) {
	req := c.Request().Context()
	ctx, cancel := context.WithTimeout(context.WithoutCancel(req), ExportTimeout)
	stop := context.AfterFunc(req, func() {
		if !errors.Is(req.Err(), context.DeadlineExceeded) {
			cancel()
		}
	})
	return ctx, func() { stop(); cancel() }
}

// Invalid returns an invalid error naming one field and its problem.
func Invalid(field, problem string) error {
	return (bangfu.Problems{field: problem}).Err()
}

// IfMatch reads the version a write is based on from If-Match. Without it
// the write is refused (precondition_required): a client must say which
// version it edits.
func IfMatch(c echo.Context) (int, error) {
	h := strings.TrimSpace(c.Request().Header.Get("If-Match"))
	if h == "" {
		return 0, bangfu.Errorf(bangfu.EPRECONDITIONREQ, "Send If-Match with the ETag of the version you are changing.")
	}
	v, err := strconv.ParseInt(strings.Trim(strings.TrimPrefix(h, "W/"), `"`), 10, 32)
	if err != nil || v < 1 {
		return 0, Invalid("If-Match", "must be an ETag returned by this API, like \"3\"")
	}
	return int(v), nil
}

// OptionalIfMatch reads If-Match when present: the first plan or
// destination of a graduate needs none.
func OptionalIfMatch(c echo.Context) (*int, error) {
	if c.Request().Header.Get("If-Match") == "" {
		return nil, nil
	}
	v, err := IfMatch(c)
	return &v, err
}

// Query is a request's query parameters, checked against the names a
// route accepts. Its readers record problems instead of failing one by
// one, so that a client learns of every bad parameter at once.
type Query struct {
	c        echo.Context
	Problems bangfu.Problems
}

// Params returns the query of c after refusing any parameter not in known
// (invalid, naming it): a misspelt filter must not silently show everything.
// "lang" is always accepted: pages read it to switch language.
func Params(c echo.Context, known ...string) (*Query, error) {
	q := &Query{c: c}
	for name := range c.QueryParams() {
		if name != "lang" && !contains(known, name) {
			q.Problems.Add(name, "is not a parameter of this request")
		}
	}
	return q, q.Problems.Err()
}

func contains(l []string, s string) bool {
	for _, v := range l {
		if v == s {
			return true
		}
	}
	return false
}

// String returns parameter name, trimmed; a value holding a control
// character is recorded as a problem and read as empty.
func (q *Query) String(name string) string {
	v := strings.TrimSpace(q.c.QueryParam(name))
	if bangfu.HasControl(v) {
		q.Problems.Add(name, "must not contain control characters")
		return ""
	}
	return v
}

// ID returns parameter name as a record id, or nil when absent.
func (q *Query) ID(name string) *int64 {
	v := q.c.QueryParam(name)
	if v == "" {
		return nil
	}
	id, err := strconv.ParseInt(v, 10, 64)
	if err != nil || id < 1 {
		q.Problems.Add(name, "must be a whole number")
		return nil
	}
	return &id
}

// Int returns parameter name as a number, or def when absent. A value
// that is not a whole number reads as -1, outside every range a service
// accepts, so that the service names the problem with the others.
func (q *Query) Int(name string, def int) int {
	v := q.c.QueryParam(name)
	if v == "" {
		return def
	}
	n, err := strconv.ParseInt(v, 10, 32)
	if err != nil {
		return -1
	}
	return int(n)
}

// Limit returns the limit parameter of a list (DefaultPageLimit when
// absent), for lists whose cursor is not an id.
func (q *Query) Limit() int {
	p, err := bangfu.ParsePage(q.c.QueryParam("limit"), "")
	if err != nil {
		for k, v := range bangfu.FieldsOf(err) {
			q.Problems.Add(k, v)
		}
	}
	return p.Limit
}

// Bool returns parameter name as true or false, or nil when absent.
func (q *Query) Bool(name string) *bool {
	v := q.c.QueryParam(name)
	if v == "" {
		return nil
	}
	b, err := strconv.ParseBool(v)
	if err != nil {
		q.Problems.Add(name, "must be true or false")
		return nil
	}
	return &b
}

// Time returns parameter name as an RFC 3339 time or a date (midnight in
// Asia/Shanghai), or nil when absent.
func (q *Query) Time(name string) *time.Time {
	v := q.c.QueryParam(name)
	if v == "" {
		return nil
	}
	if t, err := time.Parse(time.RFC3339, v); err == nil {
		return &t
	}
	if t, err := time.ParseInLocation(time.DateOnly, v, bangfu.Shanghai); err == nil && t.Year() >= 2000 && t.Year() <= 2100 {
		return &t
	}
	q.Problems.Add(name, "must be a date like 2026-07-31 or a time like 2026-07-31T09:00:00+08:00")
	return nil
}

// Date returns parameter name as a calendar day (2026-07-31), or nil when
// absent.
func (q *Query) Date(name string) *bangfu.Date {
	v := q.c.QueryParam(name)
	if v == "" {
		return nil
	}
	t, err := time.Parse(time.DateOnly, v)
	if err != nil || t.Year() < 2000 || t.Year() > 2100 {
		q.Problems.Add(name, "must be a date like 2026-07-31")
		return nil
	}
	d := bangfu.DateFromDB(t)
	return &d
}

// Page returns the limit and cursor parameters.
func (q *Query) Page() bangfu.Page {
	p, err := bangfu.ParsePage(q.c.QueryParam("limit"), q.c.QueryParam("cursor"))
	if err != nil {
		for k, v := range bangfu.FieldsOf(err) {
			q.Problems.Add(k, v)
		}
	}
	return p
}

// Err returns the recorded problems as one invalid error, or nil.
func (q *Query) Err() error { return q.Problems.Err() }
