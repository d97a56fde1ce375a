// Package demo loads the demonstration data that `make run` shows, so that
// every demo user can do their daily work at once: one school with two
// departments, users of every role, the cohort now being placed, last
// year's cohort, and the cases, escalations and queues that make a
// working day, and the 宏志助航 roster. Each area's data is its own
// function in its own file; Seed runs them in order. Loading twice
// changes nothing.
//
// Graduates' histories are replayed through the services as they ran on
// the day each step happened (at), so that every row — audit, follow-up
// jobs, hash chain — is what the product would have written then.
package demo

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/bangfu/bangfu"
	"github.com/bangfu/bangfu/internal/app"
	"github.com/bangfu/bangfu/internal/destination"
	"github.com/bangfu/bangfu/internal/graduate"
	"github.com/bangfu/bangfu/internal/ledger"
	"github.com/bangfu/bangfu/internal/plan"
)

// Login is a demo user's credentials.
type Login struct {
	Role     bangfu.Role
	Username string
	Password string
}

// School is the demo school's national code.
const School = "4144010564"

// Seed loads the demo data and returns the demo logins. The passwords are
// public, which is why `seed demo` refuses to run in prod.
func Seed(ctx context.Context, a *app.App) ([]Login, error) {
	d := &demo{app: a, now: a.Clock.Now()}
	d.cohort = CurrentCohort(d.now)
	for _, step := range []struct {
		name string
		run  func(context.Context) error
	}{
		{"people", d.people},
		{"demo student", d.demoStudent},
		{"current cohort", d.currentCohort},
		{"last year's cohort", d.lastYear},
		{"second counselor's caseload", d.secondCaseload},
		{"escalations", d.escalations},
		{"hand-over", d.handover},
		{"notification channels", func(ctx context.Context) error { return seedNotifications(ctx, d.app) }},
		{"roster", d.roster},
	} {
		if err := step.run(ctx); err != nil {
			return nil, fmt.Errorf("demo %s: %w", step.name, err)
		}
	}
	return d.logins, nil
}

// CurrentCohort is the graduation year now being placed at now: this
// year's until 31 August (while counselors and students may still record
// destinations), next year's after it.
func CurrentCohort(now time.Time) int {
	y := now.In(bangfu.Shanghai).Year()
	if bangfu.DateOf(now).After(destination.ChangeDeadline(y)) {
		return y + 1
	}
	return y
}

// demo is one run of Seed: the app, the time it runs at, and what earlier
// steps made for later ones.
type demo struct {
	app    *app.App
	now    time.Time
	cohort int
	logins []Login
	school int64
	depts  map[string]int64 // by name
	users  map[string]bangfu.Actor
}

// fixed is a clock stopped at one moment.
type fixed time.Time

func (c fixed) Now() time.Time { return time.Time(c) }

// services are the app's services as they run at one moment.
type services struct {
	Graduates    *graduate.Service
	Plans        *plan.Service
	Ledger       *ledger.Service
	Destinations *destination.Service
}

// at returns the app's services with their clock (and the follow-up and
// escalation hooks' clocks) stopped at t.
func (d *demo) at(t time.Time) services {
	clk := fixed(t)
	a := d.app
	fs := *a.Followups
	fs.Clock = clk
	es := *a.Escalations
	es.Clock = clk
	g := *a.Graduates
	g.Clock = clk
	p := *a.Plans
	p.Clock, p.AfterRevise = clk, fs.OnRevise
	l := *a.Ledger
	l.Clock = clk
	l.AfterAppend = func(ctx context.Context, tx pgx.Tx, actor bangfu.Actor, h graduate.Header, e ledger.Entry, pe *ledger.Pending) error {
		if err := fs.OnAppend(ctx, tx, actor, h, e, pe); err != nil {
			return err
		}
		return es.ResolveOnContact(ctx, tx, actor, h, e, pe)
	}
	g.AfterCaseChange = fs.OnCaseChange
	dst := *a.Destinations
	dst.Clock, dst.AfterCaseChange = clk, fs.OnCaseChange
	return services{Graduates: &g, Plans: &p, Ledger: &l, Destinations: &dst}
}

// day returns the moment days before now (after, when negative) at hour
// in Shanghai.
func (d *demo) day(days, hour int) time.Time {
	return bangfu.DateOf(d.now).AddDays(-days).At(hour, 0)
}

// exists reports whether the school already has a file with number.
func (d *demo) exists(ctx context.Context, number string) (bool, error) {
	var ok bool
	err := d.app.DB.Pool.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM students WHERE school_id = $1 AND student_number = $2)`,
		d.school, number).Scan(&ok)
	return ok, err
}

func ptr[T any](v T) *T { return &v }
