package bangfu

import (
	"encoding/json"
	"fmt"
	"time"
)

// Date is a calendar day, written "2026-07-31" in JSON and held as UTC
// midnight (the form pgx reads and writes PostgreSQL dates in).
type Date struct{ t time.Time }

// DateOf returns the calendar day of t in Asia/Shanghai.
func DateOf(t time.Time) Date {
	y, m, d := t.In(Shanghai).Date()
	return Date{time.Date(y, m, d, 0, 0, 0, 0, time.UTC)}
}

// NewDate returns the day y-m-d.
func NewDate(y int, m time.Month, d int) Date { return Date{time.Date(y, m, d, 0, 0, 0, 0, time.UTC)} }

// DateFromDB wraps a date read from PostgreSQL.
func DateFromDB(t time.Time) Date { y, m, d := t.Date(); return NewDate(y, m, d) }

// Today is the current day in Asia/Shanghai by c.
func Today(c Clock) Date { return DateOf(c.Now()) }

// Time returns the day at UTC midnight, for storing.
func (d Date) Time() time.Time { return d.t }

// At returns the given time of day on d in Asia/Shanghai.
func (d Date) At(hour, minute int) time.Time {
	y, m, day := d.t.Date()
	return time.Date(y, m, day, hour, minute, 0, 0, Shanghai)
}

// AddDays returns the day n days later.
func (d Date) AddDays(n int) Date { return Date{d.t.AddDate(0, 0, n)} }

// Before reports whether d is an earlier day than e.
func (d Date) Before(e Date) bool { return d.t.Before(e.t) }

// After reports whether d is a later day than e.
func (d Date) After(e Date) bool { return d.t.After(e.t) }

// DaysUntil returns the number of days from d to e.
func (d Date) DaysUntil(e Date) int { return int(e.t.Sub(d.t).Hours() / 24) }

// IsZero reports whether d is unset.
func (d Date) IsZero() bool { return d.t.IsZero() }

// String formats the day as 2006-01-02.
func (d Date) String() string { return d.t.Format(time.DateOnly) }

// MarshalJSON writes "2006-01-02".
func (d Date) MarshalJSON() ([]byte, error) { return json.Marshal(d.String()) }

// Years outside MinYear..MaxYear name no day bangfu deals with (a birth, a
// contact, a certificate's expiry): ParseDate refuses them.
const (
	MinYear = 1900
	MaxYear = 2100
)

// UnmarshalJSON reads "2006-01-02", as MarshalJSON writes it.
func (d *Date) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return err
	}
	t, err := time.Parse(time.DateOnly, s)
	if err != nil {
		return err
	}
	*d = Date{t}
	return nil
}

// ParseDate reads "2006-01-02" input for field, recording a problem when it
// is not a date from MinYear to MaxYear. Empty input is nil.
func ParseDate(p *Problems, field, s string) *Date {
	if s == "" {
		return nil
	}
	t, err := time.Parse(time.DateOnly, s)
	switch {
	case err != nil:
		p.Add(field, "must be a date like 2026-07-31")
		return nil
	case t.Year() < MinYear || t.Year() > MaxYear:
		p.Add(field, fmt.Sprintf("must be a date from %d to %d", MinYear, MaxYear))
		return nil
	}
	return &Date{t}
}

// DatePtr wraps a nullable date read from PostgreSQL.
func DatePtr(t *time.Time) *Date {
	if t == nil {
		return nil
	}
	d := DateFromDB(*t)
	return &d
}

// TimePtr returns the stored form of a nullable date.
func (d *Date) TimePtr() *time.Time {
	if d == nil {
		return nil
	}
	t := d.t
	return &t
}
