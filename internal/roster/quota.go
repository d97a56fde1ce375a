package roster

import "sort"

// Demand is one school's standing in a cohort, as the quotas see it.
type Demand struct {
	SchoolID int64
	// Weight is the school's graduates in the running for the cohort:
	// eligible and holding or waiting for a place, or out of it by their
	// own choice (declined, withdrawn by a person). A graduate who stopped
	// being eligible does not count.
	Weight int
	// Held is how many places the school's graduates hold already
	// (nominated, confirmed, attending, completed): a quota never takes a
	// place back.
	Held int
}

// Apportion returns each school's quota of capacity places, in the order
// of d, by the largest-remainder (Hamilton) method on the weights:
//
//   - When the weights total W is at most the capacity, each school's
//     quota is its weight: everyone can have a place.
//   - Otherwise each school's exact share is capacity × weight / W. A
//     school holding more places than its share keeps them: its quota is
//     what it holds, it leaves the apportionment, and the shares of the
//     others are computed again on the capacity left (repeated until no
//     school holds more than its share).
//   - Each remaining school gets the whole part of its share; the places
//     left over (fewer than the number of schools) go one each to the
//     schools with the largest fractional parts. Ties go to the school
//     with the larger weight, then to the lower school id, so the result
//     is the same on every run.
//
// The quotas sum to min(capacity, W) unless schools hold more than their
// shares, and with nothing held no quota is a place or more away from its
// exact share of min(capacity, W). Shares are compared exactly, as integers.
func Apportion(capacity int, d []Demand) []int {
	q := make([]int, len(d))
	fixed := make([]bool, len(d))
	for {
		rest := int64(capacity)
		var total int64
		for i, x := range d {
			if fixed[i] {
				rest -= int64(q[i])
			} else {
				total += int64(x.Weight)
			}
		}
		if total <= rest {
			for i, x := range d {
				if !fixed[i] {
					q[i] = x.Weight
				}
			}
			return q
		}
		// A school whose held places exceed its share keeps them.
		again := false
		for i, x := range d {
			if !fixed[i] && int64(x.Held)*total > rest*int64(x.Weight) {
				q[i], fixed[i], again = x.Held, true, true
			}
		}
		if again {
			continue
		}
		// Every share has the denominator total: fractional parts compare
		// by their numerators, exactly.
		type part struct {
			i   int
			rem int64
		}
		var parts []part
		given := int64(0)
		for i, x := range d {
			if fixed[i] {
				continue
			}
			num := rest * int64(x.Weight)
			q[i] = int(num / total)
			given += num / total
			parts = append(parts, part{i, num % total})
		}
		sort.SliceStable(parts, func(a, b int) bool {
			if parts[a].rem != parts[b].rem {
				return parts[a].rem > parts[b].rem
			}
			da, db := d[parts[a].i], d[parts[b].i]
			if da.Weight != db.Weight {
				return da.Weight > db.Weight
			}
			return da.SchoolID < db.SchoolID
		})
		for k := int64(0); k < rest-given; k++ {
			q[parts[k].i]++
		}
		return q
	}
}
