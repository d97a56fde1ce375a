// Package response turns results and errors into HTTP answers: the one map
// from domain error codes to statuses, the JSON error envelope every API
// error uses, and ETags of versioned records.
package response

import (
	"context"
	"errors"
	"log/slog"
	"mime"
	"net/http"
	"strconv"

	"github.com/labstack/echo/v4"

	"github.com/bangfu/bangfu"
	"github.com/bangfu/bangfu/internal/export"
)

// statuses maps each domain error code to its one HTTP status.
var statuses = map[string]int{
	bangfu.EINVALID:            http.StatusBadRequest,
	bangfu.EUNAUTHENTICATED:    http.StatusUnauthorized,
	bangfu.EFORBIDDEN:          http.StatusForbidden,
	bangfu.ENOTFOUND:           http.StatusNotFound,
	bangfu.ECONFLICT:           http.StatusConflict,
	bangfu.EPRECONDITIONFAILED: http.StatusPreconditionFailed,
	bangfu.EPRECONDITIONREQ:    http.StatusPreconditionRequired,
	bangfu.ETOOLARGE:           http.StatusRequestEntityTooLarge,
	bangfu.ETOOMANYREQUESTS:    http.StatusTooManyRequests,
	bangfu.EUNAVAILABLE:        http.StatusServiceUnavailable,
	bangfu.EINTERNAL:           http.StatusInternalServerError,
}

// codes maps the statuses Echo itself produces back to domain codes.
var codes = map[int]string{
	http.StatusBadRequest:            bangfu.EINVALID,
	http.StatusUnauthorized:          bangfu.EUNAUTHENTICATED,
	http.StatusForbidden:             bangfu.EFORBIDDEN,
	http.StatusNotFound:              bangfu.ENOTFOUND,
	http.StatusMethodNotAllowed:      bangfu.ENOTFOUND,
	http.StatusRequestEntityTooLarge: bangfu.ETOOLARGE,
	http.StatusServiceUnavailable:    bangfu.EUNAVAILABLE,
}

// Status returns the HTTP status of a domain error code.
func Status(code string) int {
	if s, ok := statuses[code]; ok {
		return s
	}
	return http.StatusInternalServerError
}

// ErrorBody is the envelope of every API error.
type ErrorBody struct {
	Error ErrorDetail `json:"error"`
}

// ErrorDetail says what went wrong and, for invalid input, with which field.
type ErrorDetail struct {
	Code    string            `json:"code"`
	Message string            `json:"message"`
	Fields  map[string]string `json:"fields,omitempty"`
}

// Problem is an error as a client may see it.
type Problem struct {
	Status int
	Detail ErrorDetail
	// RetryAfterSeconds, when positive, goes out as Retry-After.
	RetryAfterSeconds int
	// Unexpected is set when err was not a domain error (or was internal):
	// the caller logs it, and the client sees only "internal".
	Unexpected bool
}

// Describe translates any error into what the client may see. Echo's own
// errors (unknown route, body too large) get their domain codes; a request
// that ran out of time is internal with a message saying so; any error that
// is not a *bangfu.Error is internal, with no detail.
func Describe(err error) Problem {
	var he *echo.HTTPError
	if errors.As(err, &he) && !isDomainError(err) {
		code, ok := codes[he.Code]
		if !ok {
			code = bangfu.EINTERNAL
		}
		msg := http.StatusText(he.Code)
		if m, ok := he.Message.(string); ok && he.Code < 500 {
			msg = m
		}
		if he.Code == http.StatusRequestEntityTooLarge {
			msg = "The request body is too large."
		}
		p := Problem{Status: Status(code), Detail: ErrorDetail{Code: code, Message: msg}}
		p.Unexpected = he.Code >= 500
		return p
	}
	if errors.Is(err, context.DeadlineExceeded) && !isDomainError(err) {
		return Problem{Status: http.StatusInternalServerError, Unexpected: true,
			Detail: ErrorDetail{Code: bangfu.EINTERNAL, Message: "The request took too long."}}
	}
	code := bangfu.ErrorCode(err)
	p := Problem{Status: Status(code), Detail: ErrorDetail{Code: code, Message: bangfu.ErrorMessage(err)}}
	var de *bangfu.Error
	if errors.As(err, &de) {
		p.Detail.Fields = de.Fields
		p.RetryAfterSeconds = de.RetryAfterSeconds
	}
	p.Unexpected = de == nil || code == bangfu.EINTERNAL
	return p
}

func isDomainError(err error) bool {
	var e *bangfu.Error
	return errors.As(err, &e)
}

// WriteError answers p as the JSON envelope (headers only for HEAD).
func WriteError(c echo.Context, p Problem) error {
	if p.RetryAfterSeconds > 0 {
		c.Response().Header().Set("Retry-After", strconv.Itoa(p.RetryAfterSeconds))
	}
	if c.Request().Method == http.MethodHead {
		return c.NoContent(p.Status)
	}
	return c.JSON(p.Status, ErrorBody{Error: p.Detail})
}

// SetETag sets the ETag of a versioned record: its version, quoted.
func SetETag(c echo.Context, version int) {
	c.Response().Header().Set("ETag", `"`+strconv.Itoa(version)+`"`)
}

// Download sends f as an attachment. Its status and headers go out with
// the first bytes of the file, so a failure before then (a database that
// fails before the first row, an XLSX workbook that is written whole at
// the end) is an ordinary error response. A failure after them is logged
// and the connection cut (http.ErrAbortHandler): a client must never take
// half a file for a whole one.
func Download(c echo.Context, f *export.File, log *slog.Logger) error {
	h := c.Response().Header()
	h.Set(echo.HeaderContentType, f.Format.ContentType())
	h.Set(echo.HeaderContentDisposition, mime.FormatMediaType("attachment", map[string]string{"filename": f.Filename()}))
	NoStore(c)
	out := &lazyBody{c: c}
	err := f.Send(out)
	switch {
	case err == nil && !out.started:
		return c.NoContent(http.StatusOK)
	case err == nil:
		return nil
	case !out.started:
		h.Del(echo.HeaderContentDisposition)
		h.Del(echo.HeaderContentType)
		h.Del("Cache-Control")
		return err
	}
	log.Error("download cut short", "request_id", c.Response().Header().Get(echo.HeaderXRequestID), "route", c.Path(), "error", err)
	panic(http.ErrAbortHandler)
}

// lazyBody writes the status with the first bytes of the body.
type lazyBody struct {
	c       echo.Context
	started bool
}

func (l *lazyBody) Write(p []byte) (int, error) {
	if !l.started {
		l.started = true
		l.c.Response().WriteHeader(http.StatusOK)
	}
	return l.c.Response().Write(p)
}

// NoStore forbids caches to keep the response (tokens, clear values).
func NoStore(c echo.Context) { c.Response().Header().Set("Cache-Control", "no-store") }
