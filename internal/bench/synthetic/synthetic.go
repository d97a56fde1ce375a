// Package synthetic generates a realistic province — schools, staff, a
// million graduates with their hardship evidence, plans, hash-chained
// ledgers, destinations, escalations and notifications — straight into an
// empty, migrated database, for benchmarks at province scale. It is bench
// tooling: `bangfu-bench seed` runs it, and nothing in the service imports
// it (docs/decisions/0002-bench-tooling-outside-the-service.md), so the
// production binary has no code path that writes users with a public
// password.
//
// Every value is drawn from math/rand/v2 PCG streams derived from the seed,
// one stream per graduate and record family, so the same seed and
// reference date give the same province (only ciphertexts, which use
// random nonces, and the password hash, which uses a random salt, differ),
// and the tables can be generated independently and in parallel.
//
// The load is one transaction: the secondary indexes and foreign keys of
// the loaded tables are dropped, every table is filled with COPY, and the
// indexes and constraints are recreated from their exact definitions
// (validating every reference) before it commits; a failure leaves the
// database as it was. VACUUM (ANALYZE) follows.
//
// The records are consistent with what the services would have written:
// ledgers chained with ledger.ComputeHash and their heads and counts on
// the files, follow-up dates and overdue flags as the follow-up jobs set
// them, and the escalations and notifications the stall sweep, the
// follow-up jobs and the evidence-expiry job produced, modelled as live
// for the last three weeks and last run three days before the reference
// time, so that the next sweep has work. Nothing is written to River's
// tables: no follow-up job is pending.
package synthetic

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/bangfu/bangfu"
	"github.com/bangfu/bangfu/internal/password"
	"github.com/bangfu/bangfu/internal/postgres"
	"github.com/bangfu/bangfu/internal/sealed"
	"github.com/bangfu/bangfu/internal/settings"
)

// Password is every generated user's password.
const Password = "bangfu-synthetic"

// Options size the province.
type Options struct {
	Students int // graduates, default 1,000,000
	Schools  int // default 160
	Seed     uint64
	// Now is the reference date: the graduation year is its year in
	// Shanghai, and every record lies before it. Default: the clock.
	Now time.Time
	// Progress receives a line per phase and periodic row counts; nil
	// discards them.
	Progress io.Writer
	// AnalyzeOnly ends the load with ANALYZE instead of VACUUM (ANALYZE),
	// leaving the visibility map and hint bits to the first readers.
	AnalyzeOnly bool
}

// Defaults for Options.
const (
	DefaultStudents = 1_000_000
	DefaultSchools  = 160
)

// Phase is one step of a load.
type Phase struct {
	Name    string
	Rows    int64
	Elapsed time.Duration
}

// Stats report what a load did.
type Stats struct {
	Rows    map[string]int64 // by table
	Phases  []Phase
	Elapsed time.Duration
	// DatabaseBytes is pg_database_size after the load.
	DatabaseBytes int64
	// Logins are sample usernames, one of each kind; all have Password.
	Logins []Login
}

// Login is a sample user.
type Login struct {
	Role, Username, Note string
}

// ErrNotEmpty is returned when the database already holds graduates.
var ErrNotEmpty = errors.New("the database already holds graduates: load a synthetic province into a freshly migrated database")

// gen holds the province while it is generated.
type gen struct {
	opts Options
	box  *sealed.Box

	now          int64 // the reference time, µs
	year         int   // graduation year
	termStart    int64 // the start of the academic year's records
	destFrom     int64 // destinations are recorded from here on
	featureStart int64 // the follow-up jobs and the sweep went live: nothing of theirs is older
	lastSweep    int64 // the sweep's last run: what became due after is left for the next
	idSpace      idSpace
	passwordHash string
	// rules are the stored settings (thresholds, cadence, intervals) the
	// sweep and the follow-ups applied.
	rules settings.Settings

	ids struct {
		schools, departments, users, students, hardships, destinations, escalations, notifications, audit int64
	}

	schools      []school
	universities []int // schools graduates go on to study at
	users        []user
	employers    []employer
	students     []student
	cases        []*caseInfo

	// Per chunk of students: the id of the chunk's first hardship and
	// destination.
	hardshipBase, destinationBase []int64
}

// chunk is how many graduates one unit of parallel work covers.
const chunk = 500

func (g *gen) chunks() int { return (len(g.students) + chunk - 1) / chunk }

func (g *gen) chunkRange(c int) (int, int) { return c * chunk, min((c+1)*chunk, len(g.students)) }

// Generate loads a province into db, which must be migrated and hold no
// graduates. box seals the ID numbers as the app would.
func Generate(ctx context.Context, db *postgres.DB, box *sealed.Box, opts Options) (Stats, error) {
	if opts.Students == 0 {
		opts.Students = DefaultStudents
	}
	if opts.Schools == 0 {
		opts.Schools = DefaultSchools
	}
	if opts.Now.IsZero() {
		opts.Now = time.Now()
	}
	if opts.Progress == nil {
		opts.Progress = io.Discard
	}
	switch {
	case opts.Students < 1 || opts.Students > 20_000_000:
		return Stats{}, errors.New("students must be from 1 to 20,000,000")
	case opts.Schools < 1 || opts.Schools > 2000:
		return Stats{}, errors.New("schools must be from 1 to 2,000")
	}
	g := &gen{opts: opts, box: box}
	g.setClock(opts.Now)
	l := &loader{db: db, g: g, out: opts.Progress, start: time.Now(), stats: Stats{Rows: map[string]int64{}}}
	err := l.run(ctx)
	l.stats.Elapsed = time.Since(l.start)
	return l.stats, err
}

func (g *gen) setClock(now time.Time) {
	g.now = micros(now.Truncate(time.Microsecond))
	local := now.In(bangfu.Shanghai)
	g.year = local.Year()
	g.termStart = max(micros(time.Date(g.year-1, time.September, 1, 8, 0, 0, 0, bangfu.Shanghai)), g.now-360*day)
	g.destFrom = min(max(g.termStart+60*day, micros(time.Date(g.year, time.April, 1, 0, 0, 0, 0, bangfu.Shanghai))), g.now-2*day)
	g.featureStart = g.now - 21*day
	g.idSpace = newIDSpace(g.opts.Seed)
}

// prepare draws the province, once the id bases and the rule settings
// are known.
func (g *gen) prepare() error {
	g.lastSweep = g.sweepRun(g.now - 3*day - g.sweepEvery())
	if err := g.province(); err != nil {
		return err
	}
	for si := range g.schools {
		sc := &g.schools[si]
		sc.id = g.ids.schools + int64(si)
		if !sc.kind.vocational {
			g.universities = append(g.universities, si)
		}
	}
	var next int64
	for si := range g.schools {
		for k := range g.schools[si].depts {
			g.schools[si].depts[k].id = g.ids.departments + next
			next++
		}
	}
	g.graduates()
	g.staff()
	g.events()
	hid, did := g.ids.hardships, g.ids.destinations
	for c := range g.chunks() {
		g.hardshipBase = append(g.hardshipBase, hid)
		g.destinationBase = append(g.destinationBase, did)
		lo, hi := g.chunkRange(c)
		for i := lo; i < hi; i++ {
			s := &g.students[i]
			if s.caseIdx >= 0 {
				hid += int64(g.cases[s.caseIdx].hardships)
			}
			if s.code >= 0 {
				did++
			}
			if s.prevCode >= 0 {
				did++
			}
		}
	}
	h, err := password.Hash(Password, password.DefaultParams)
	g.passwordHash = h
	return err
}

func (l *loader) logf(format string, args ...any) {
	fmt.Fprintf(l.out, "%7.1fs  ", time.Since(l.start).Seconds())
	fmt.Fprintf(l.out, format, args...)
	fmt.Fprintln(l.out)
}
