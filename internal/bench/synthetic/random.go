package synthetic

import (
	"math/rand/v2"
	"time"

	"github.com/google/uuid"

	"github.com/bangfu/bangfu"
)

// Streams of randomness. Each record family of each graduate draws from
// its own PCG stream, derived from the seed, the family and the
// graduate's index, so that any table can be generated on its own, in any
// order and in parallel, and still agree with the others and with the
// previous run.
const (
	streamProvince uint64 = iota + 1
	streamSchool
	streamStudent
	streamIdentity
	streamLedger
	streamPlan
	streamHardship
	streamDestination
	streamEscalation
	streamNotification
)

// splitmix64 scrambles x (Steele, Lea and Flood), so that neighbouring
// indexes give unrelated PCG seeds.
func splitmix64(x uint64) uint64 {
	x += 0x9e3779b97f4a7c15
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9
	x = (x ^ (x >> 27)) * 0x94d049bb133111eb
	return x ^ (x >> 31)
}

func newRand(seed, stream uint64, i int) *rand.Rand {
	return rand.New(rand.NewPCG(splitmix64(seed^splitmix64(stream)), splitmix64(stream<<40^uint64(i))))
}

func pick[T any](r *rand.Rand, l []T) T { return l[r.IntN(len(l))] }

func pickWeighted[T any](r *rand.Rand, l []weighted[T]) T {
	var total float64
	for _, w := range l {
		total += w.w
	}
	x := r.Float64() * total
	for _, w := range l {
		if x < w.w {
			return w.v
		}
		x -= w.w
	}
	return l[len(l)-1].v
}

// between returns a whole number from lo to hi inclusive.
func between(r *rand.Rand, lo, hi int) int {
	if hi <= lo {
		return lo
	}
	return lo + r.IntN(hi-lo+1)
}

func chance(r *rand.Rand, p float64) bool { return r.Float64() < p }

func newUUID(r *rand.Rand) uuid.UUID {
	var u uuid.UUID
	for i := 0; i < 16; i += 8 {
		x := r.Uint64()
		for j := 0; j < 8; j++ {
			u[i+j] = byte(x >> (8 * j))
		}
	}
	u[6] = u[6]&0x0f | 0x40 // version 4
	u[8] = u[8]&0x3f | 0x80 // RFC 4122 variant
	return u
}

// Times are int64 microseconds since the epoch: PostgreSQL's precision,
// which the ledger's hashes count on.
const (
	second = int64(time.Second / time.Microsecond)
	minute = 60 * second
	hour   = 60 * minute
	day    = 24 * hour
)

func at(us int64) time.Time { return time.UnixMicro(us).UTC() }

func atPtr(us int64) *time.Time {
	if us == 0 {
		return nil
	}
	t := at(us)
	return &t
}

func micros(t time.Time) int64 { return t.UnixMicro() }

// uniform returns a time from lo to hi (lo when hi <= lo).
func uniform(r *rand.Rand, lo, hi int64) int64 {
	if hi <= lo {
		return lo
	}
	return lo + r.Int64N(hi-lo)
}

// workTime moves t to a random moment of office hours (08:30–18:30,
// Shanghai) on its day, to the microsecond.
func workTime(r *rand.Rand, t int64) int64 {
	d := bangfu.DateOf(at(t))
	return micros(d.At(8, 30)) + r.Int64N(10*hour)
}

func dateOf(us int64) bangfu.Date { return bangfu.DateOf(at(us)) }

// sweepRun returns when the first sweep at or after t ran: sweeps are
// modelled on a grid of the configured interval, each taking a couple of
// seconds to reach its INSERT.
func (g *gen) sweepRun(t int64) int64 {
	const offset = 2*second + 137_000
	every := g.sweepEvery()
	return (t-offset+every-1)/every*every + offset
}

func (g *gen) sweepEvery() int64 { return int64(g.rules.SweepIntervalMinutes) * minute }

// epochText is extract(epoch FROM t)::bigint::text: the no_contact
// episode. The cast rounds half away from zero.
func epochText(us int64) string {
	s := us / second
	if us%second >= second/2 {
		s++
	}
	return itoa(s)
}

func itoa(n int64) string {
	if n == 0 {
		return "0"
	}
	var b [20]byte
	i := len(b)
	neg := n < 0
	if neg {
		n = -n
	}
	for n > 0 {
		i--
		b[i] = byte('0' + n%10)
		n /= 10
	}
	if neg {
		i--
		b[i] = '-'
	}
	return string(b[i:])
}
