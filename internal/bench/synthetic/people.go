package synthetic

import (
	"math/rand/v2"
	"strconv"
	"strings"
	"time"

	"github.com/bangfu/bangfu/internal/cnid"
)

// surnameTable is surnames as a cumulative distribution.
var surnameTable = func() (t struct {
	names []string
	cum   []float64
}) {
	var total float64
	for _, s := range surnames {
		total += s.w
		t.names = append(t.names, s.v)
		t.cum = append(t.cum, total)
	}
	for i := range t.cum {
		t.cum[i] /= total
	}
	return t
}()

func surname(r *rand.Rand) string {
	x := r.Float64()
	lo, hi := 0, len(surnameTable.cum)-1
	for lo < hi {
		mid := (lo + hi) / 2
		if surnameTable.cum[mid] <= x {
			lo = mid + 1
		} else {
			hi = mid
		}
	}
	return surnameTable.names[lo]
}

// personName returns a Chinese name: a surname by its frequency and one
// or two given characters.
func personName(r *rand.Rand, male bool) string {
	pool := femaleGiven
	if male {
		pool = maleGiven
	}
	var b strings.Builder
	b.WriteString(surname(r))
	b.WriteString(pick(r, pool))
	if r.IntN(5) != 0 {
		b.WriteString(pick(r, pool))
	}
	return b.String()
}

// idSpace numbers every (region, birth day, sequence) a generated 身份证号
// can take. Graduate i gets number (idStep*i + offset) mod idSpace: a
// permutation of the space, so no two graduates share an ID number.
type idSpace struct {
	first  time.Time // earliest birth day
	days   int64
	size   uint64
	step   uint64
	offset uint64
}

func newIDSpace(seed uint64) idSpace {
	first := time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)
	days := int64(time.Date(2006, 1, 1, 0, 0, 0, 0, time.UTC).Sub(first) / (24 * time.Hour))
	s := idSpace{first: first, days: days}
	s.size = uint64(len(residentRegions)) * uint64(days) * 1000
	s.step = 2_654_435_761 // Knuth's multiplicative constant, made coprime below
	for gcd(s.step, s.size) != 1 {
		s.step++
	}
	s.offset = splitmix64(seed^0x1d) % s.size
	return s
}

func gcd(a, b uint64) uint64 {
	for b != 0 {
		a, b = b, a%b
	}
	return a
}

// number returns graduate i's 身份证号 and whether it is a man's (the
// sequence's last digit is odd).
func (s idSpace) number(i int) (string, bool) {
	n := (s.step*uint64(i) + s.offset) % s.size
	seq := n % 1000
	n /= 1000
	birth := s.first.AddDate(0, 0, int(n%uint64(s.days)))
	region := residentRegions[n/uint64(s.days)]
	b := make([]byte, 0, 18)
	b = append(b, region...)
	b = birth.AppendFormat(b, "20060102")
	b = append(b, byte('0'+seq/100), byte('0'+seq/10%10), byte('0'+seq%10))
	b = append(b, cnid.ResidentIDCheck(string(b)))
	return string(b), seq%2 == 1
}

func phone(r *rand.Rand) string {
	return pick(r, phonePrefixes) + strconv.Itoa(10_000_000+r.IntN(90_000_000))
}

// creditCode returns a valid 统一社会信用代码 of a company registered in
// the county with the given six-digit code: 91, the county, a nine-character
// organisation code (the MA… form of newer registrations) and the check
// character.
func creditCode(r *rand.Rand, county string) string {
	const alphabet = "0123456789ABCDEFGHJKLMNPQRTUWXY"
	b := make([]byte, 0, 18)
	b = append(b, "91"...)
	b = append(b, county...)
	b = append(b, "MA"...)
	for range 7 {
		b = append(b, alphabet[r.IntN(len(alphabet))])
	}
	b = append(b, cnid.CreditCodeCheck(string(b)))
	return string(b)
}
