package bangfu

import (
	"time"
	_ "time/tzdata" // Asia/Shanghai must resolve on machines without zoneinfo
)

// Clock tells the time. Services take one so that tests can move time.
type Clock interface {
	Now() time.Time
}

// SystemClock is the real clock.
type SystemClock struct{}

// Now returns the current time.
func (SystemClock) Now() time.Time { return time.Now() }

// Shanghai is the time zone in which every calendar date of the product
// (follow-up days, 31 July and 31 August deadlines) is computed.
var Shanghai = mustLoadShanghai()

func mustLoadShanghai() *time.Location {
	loc, err := time.LoadLocation("Asia/Shanghai")
	if err != nil {
		// China has had no daylight saving since 1991.
		return time.FixedZone("CST", 8*60*60)
	}
	return loc
}
