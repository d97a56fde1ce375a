// Package bangfu holds the domain vocabulary shared by every part of the
// service: error kinds, roles, the acting user and the clock. It imports
// nothing from the technologies (HTTP, PostgreSQL, River) that implement it.
package bangfu

import (
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"unicode/utf8"
)

// Error codes. Each is mapped to exactly one HTTP status in internal/http/response;
// domain code returns these and never an HTTP type.
const (
	EINVALID            = "invalid"
	EUNAUTHENTICATED    = "unauthenticated"
	EFORBIDDEN          = "forbidden"
	ENOTFOUND           = "not_found"
	ECONFLICT           = "conflict"
	EPRECONDITIONFAILED = "precondition_failed"
	EPRECONDITIONREQ    = "precondition_required"
	ETOOLARGE           = "too_large"
	ETOOMANYREQUESTS    = "too_many_requests"
	// EUNAVAILABLE: a service the request needs (the database) cannot be
	// reached; the request may succeed if retried later. Not a bug.
	EUNAVAILABLE = "unavailable"
	EINTERNAL    = "internal"
)

// Error is an error a user can act on: a code, a human message and, for
// invalid input, the problem with each named field.
type Error struct {
	Code    string
	Message string
	// Fields maps an input field (dotted path for nested values, e.g.
	// "measures.0.kind") to what is wrong with it.
	Fields map[string]string
	// RetryAfterSeconds is set on too_many_requests and unavailable.
	RetryAfterSeconds int
	// Cause is the underlying failure, for logs; clients never see it.
	Cause error
}

// Unwrap returns the cause.
func (e *Error) Unwrap() error { return e.Cause }

func (e *Error) Error() string {
	if len(e.Fields) == 0 {
		return fmt.Sprintf("%s: %s", e.Code, e.Message)
	}
	parts := make([]string, 0, len(e.Fields))
	for _, k := range slices.Sorted(maps.Keys(e.Fields)) {
		parts = append(parts, k+" "+e.Fields[k])
	}
	return fmt.Sprintf("%s: %s (%s)", e.Code, e.Message, strings.Join(parts, "; "))
}

// Errorf returns an *Error with the given code and formatted message.
func Errorf(code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// NotFound returns a not_found error naming what was looked for.
func NotFound(what string) *Error {
	return &Error{Code: ENOTFOUND, Message: what + " not found"}
}

// ErrorCode returns the code of the first *Error in err's chain, EINTERNAL for
// any other non-nil error, and "" for nil.
func ErrorCode(err error) string {
	if err == nil {
		return ""
	}
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return EINTERNAL
}

// ErrorMessage returns the message of the first *Error in err's chain, or a
// generic message that reveals nothing about other errors.
func ErrorMessage(err error) string {
	if err == nil {
		return ""
	}
	var e *Error
	if errors.As(err, &e) {
		return e.Message
	}
	return "Internal error."
}

// FieldsOf returns the field problems of the first *Error in err's chain,
// or nil.
func FieldsOf(err error) map[string]string {
	var e *Error
	if errors.As(err, &e) {
		return e.Fields
	}
	return nil
}

// HasControl reports whether s is not valid UTF-8 or holds a control
// character other than tab, line feed and carriage return (a NUL byte, an
// escape…). Such text is refused at the edge: PostgreSQL cannot store a NUL
// and nobody types one.
func HasControl(s string) bool {
	if !utf8.ValidString(s) {
		return true
	}
	for _, r := range s {
		if (r < 0x20 && r != '\t' && r != '\n' && r != '\r') || r == 0x7f || (r >= 0x80 && r < 0xa0) {
			return true
		}
	}
	return false
}

// Problems collects field problems while validating input. The zero value is
// ready to use.
type Problems map[string]string

// Add records a problem with field unless one is already recorded for it.
func (p *Problems) Add(field, problem string) {
	if *p == nil {
		*p = Problems{}
	}
	if _, ok := (*p)[field]; !ok {
		(*p)[field] = problem
	}
}

// Check records problem for field when ok is false.
func (p *Problems) Check(ok bool, field, problem string) {
	if !ok {
		p.Add(field, problem)
	}
}

// Text records a problem with a text field that is required but empty,
// longer than max characters, or holding control characters.
func (p *Problems) Text(field, v string, max int, required bool) {
	switch {
	case HasControl(v):
		p.Add(field, "must not contain control characters")
	case required && strings.TrimSpace(v) == "":
		p.Add(field, "is required")
	case utf8.RuneCountInString(v) > max:
		p.Add(field, fmt.Sprintf("must be at most %d characters", max))
	}
}

// Email records a problem with an e-mail address field that is set but is
// not an address.
func (p *Problems) Email(field, v string) {
	if v != "" && (len(v) > 254 || !strings.Contains(v, "@") || strings.ContainsAny(v, " \r\n") || HasControl(v)) {
		p.Add(field, "is not an e-mail address")
	}
}

// Err returns an invalid *Error carrying the problems, or nil if there are none.
func (p Problems) Err() error {
	if len(p) == 0 {
		return nil
	}
	return &Error{Code: EINVALID, Message: "The request has invalid fields.", Fields: p}
}
