package roster_test

import (
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/bangfu/bangfu/internal/roster"
)

// TestApportionProperties checks the quota arithmetic over many random
// provinces: the quotas sum to the capacity, or to the eligible total when
// that is smaller; no school is a place or more away from its exact share
// of that sum; and the result does not depend on the order of the schools.
func TestApportionProperties(t *testing.T) {
	t.Parallel()
	r := rand.New(rand.NewPCG(12, 2026))
	for run := range 5000 {
		n := 1 + r.IntN(40)
		d := make([]roster.Demand, n)
		total := 0
		for i := range d {
			w := r.IntN(300)
			if r.IntN(4) == 0 {
				w = r.IntN(5) // small schools
			}
			d[i] = roster.Demand{SchoolID: int64(1000 + i), Weight: w}
			total += w
		}
		capacity := 1 + r.IntN(2500)
		q := roster.Apportion(capacity, d)
		sum := 0
		target := min(capacity, total)
		for i, x := range q {
			sum += x
			require.GreaterOrEqual(t, x, 0)
			require.LessOrEqual(t, x, d[i].Weight, "run %d: a quota beyond the school's graduates", run)
			if total > 0 {
				// |x - target·w/total| < 1, in integers.
				diff := int64(x)*int64(total) - int64(target)*int64(d[i].Weight)
				require.Less(t, abs(diff), int64(total), "run %d: school %d gets %d of %d (weight %d of %d)", run, i, x, target, d[i].Weight, total)
			}
		}
		require.Equal(t, target, sum, "run %d: quotas sum to min(capacity, eligible)", run)

		// The same province in another order gets the same quotas.
		perm := r.Perm(n)
		shuffled := make([]roster.Demand, n)
		for i, j := range perm {
			shuffled[i] = d[j]
		}
		q2 := roster.Apportion(capacity, shuffled)
		for i, j := range perm {
			require.Equal(t, q[j], q2[i], "run %d: order changed a quota", run)
		}
	}
}

// TestApportionWithHeldPlaces: places already held are never taken back;
// the others share what is left, and the quotas still fill the capacity.
func TestApportionWithHeldPlaces(t *testing.T) {
	t.Parallel()
	r := rand.New(rand.NewPCG(7, 11))
	for run := range 3000 {
		n := 1 + r.IntN(20)
		capacity := 1 + r.IntN(200)
		d := make([]roster.Demand, n)
		total, heldAll := 0, 0
		for i := range d {
			w := r.IntN(50)
			h := 0
			if w > 0 && heldAll < capacity {
				h = min(r.IntN(w+1), capacity-heldAll)
			}
			d[i] = roster.Demand{SchoolID: int64(i + 1), Weight: w, Held: h}
			total += w
			heldAll += h
		}
		q := roster.Apportion(capacity, d)
		sum := 0
		for i, x := range q {
			sum += x
			require.GreaterOrEqual(t, x, d[i].Held, "run %d: a held place taken back", run)
			require.LessOrEqual(t, x, d[i].Weight, "run %d", run)
		}
		require.Equal(t, min(capacity, total), sum, "run %d: %v", run, d)
	}
}

// TestApportionExamples pins the method and its tie-break.
func TestApportionExamples(t *testing.T) {
	t.Parallel()
	for name, tc := range map[string]struct {
		capacity int
		d        []roster.Demand
		want     []int
	}{
		"exact shares":              {10, []roster.Demand{{SchoolID: 1, Weight: 30}, {SchoolID: 2, Weight: 20}}, []int{6, 4}},
		"largest remainder":         {10, []roster.Demand{{SchoolID: 1, Weight: 47}, {SchoolID: 2, Weight: 33}, {SchoolID: 3, Weight: 20}}, []int{5, 3, 2}},
		"tie: larger school":        {3, []roster.Demand{{SchoolID: 1, Weight: 1}, {SchoolID: 2, Weight: 5}}, []int{0, 3}},
		"tie: lower id":             {1, []roster.Demand{{SchoolID: 9, Weight: 2}, {SchoolID: 4, Weight: 2}}, []int{0, 1}},
		"room for all":              {50, []roster.Demand{{SchoolID: 1, Weight: 7}, {SchoolID: 2, Weight: 3}}, []int{7, 3}},
		"held beyond share is kept": {4, []roster.Demand{{SchoolID: 1, Weight: 4, Held: 3}, {SchoolID: 2, Weight: 12}}, []int{3, 1}},
		"no one":                    {5, nil, []int{}},
	} {
		require.Equal(t, tc.want, roster.Apportion(tc.capacity, tc.d), name)
	}
}

func abs(x int64) int64 {
	if x < 0 {
		return -x
	}
	return x
}
