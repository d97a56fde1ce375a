package notify

import (
	"fmt"
	"time"

	"github.com/bangfu/bangfu"
)

// Quiet is a daily quiet window in Asia/Shanghai, from Start to End (minutes
// after midnight). A window whose Start is after its End runs over
// midnight; Start == End means no quiet hours.
type Quiet struct{ Start, End int }

// DefaultQuiet is 22:00–07:30.
var DefaultQuiet = Quiet{Start: 22 * 60, End: 7*60 + 30}

// parseClock reads "15:04" as minutes after midnight.
func parseClock(s string) (int, bool) {
	t, err := time.Parse("15:04", s)
	if err != nil || len(s) != 5 {
		return 0, false
	}
	return t.Hour()*60 + t.Minute(), true
}

// formatClock writes minutes after midnight as "15:04".
func formatClock(m int) string { return fmt.Sprintf("%02d:%02d", m/60, m%60) }

// quietFrom reads a window stored as two "15:04" values; a value that does
// not read (never stored: the columns are times) counts as the default.
func quietFrom(start, end string) Quiet {
	s, ok1 := parseClock(start)
	e, ok2 := parseClock(end)
	if !ok1 || !ok2 {
		return DefaultQuiet
	}
	return Quiet{Start: s, End: e}
}

// Until returns the end of the quiet window that t falls in, and whether it
// falls in one. The end is the next End after t, in Shanghai.
func (q Quiet) Until(t time.Time) (time.Time, bool) {
	if q.Start == q.End {
		return time.Time{}, false
	}
	local := t.In(bangfu.Shanghai)
	m := local.Hour()*60 + local.Minute()
	var in bool
	if q.Start < q.End {
		in = m >= q.Start && m < q.End
	} else {
		in = m >= q.Start || m < q.End
	}
	if !in {
		return time.Time{}, false
	}
	end := time.Date(local.Year(), local.Month(), local.Day(), q.End/60, q.End%60, 0, 0, bangfu.Shanghai)
	if !end.After(t) {
		end = end.AddDate(0, 0, 1)
	}
	return end, true
}

// NotBefore is when a message created at t may go out: t, or the end of the
// quiet window t falls in.
func (q Quiet) NotBefore(t time.Time) time.Time {
	if end, ok := q.Until(t); ok {
		return end
	}
	return t
}
