package httpapi

import (
	"context"
	"errors"
	"net/http"
	"strconv"

	"github.com/labstack/echo/v4"

	"github.com/bangfu/bangfu"
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
	http.StatusServiceUnavailable:    bangfu.EINTERNAL,
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

// handleError is Echo's error handler: it writes the envelope for err and
// logs internal errors, which clients see only as "internal".
func (s *Server) handleError(err error, c echo.Context) {
	if c.Response().Committed {
		return
	}
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
		err = &bangfu.Error{Code: code, Message: msg}
		if he.Code >= 500 && he.Internal != nil {
			s.log.Error("request failed", "request_id", requestID(c), "error", he.Internal)
		}
	}
	if errors.Is(err, context.DeadlineExceeded) {
		err = &bangfu.Error{Code: bangfu.EINTERNAL, Message: "The request took too long."}
		s.log.Warn("request timed out", "request_id", requestID(c), "route", c.Path())
	}
	code := bangfu.ErrorCode(err)
	var de *bangfu.Error
	detail := ErrorDetail{Code: code, Message: bangfu.ErrorMessage(err)}
	if errors.As(err, &de) {
		detail.Fields = de.Fields
		if de.RetryAfterSeconds > 0 {
			c.Response().Header().Set("Retry-After", strconv.Itoa(de.RetryAfterSeconds))
		}
	} else {
		s.log.Error("request failed", "request_id", requestID(c), "route", c.Path(), "error", err)
	}
	status := statuses[code]
	if c.Request().Method == http.MethodHead {
		_ = c.NoContent(status)
		return
	}
	if werr := c.JSON(status, ErrorBody{Error: detail}); werr != nil {
		s.log.Debug("write error response", "error", werr)
	}
}

func isDomainError(err error) bool {
	var e *bangfu.Error
	return errors.As(err, &e)
}

func requestID(c echo.Context) string {
	return c.Response().Header().Get(echo.HeaderXRequestID)
}
