package loadtest

import (
	"fmt"
	"math"
	"slices"
	"sort"
	"strconv"
	"time"
)

// Percentile returns the p-th percentile (0 < p <= 100) of sorted by the
// nearest-rank method: the smallest sample such that at least p% of the
// samples are at or below it. It returns 0 for no samples.
func Percentile(sorted []time.Duration, p float64) time.Duration {
	n := len(sorted)
	if n == 0 {
		return 0
	}
	rank := int(math.Ceil(p / 100 * float64(n)))
	rank = max(1, min(rank, n))
	return sorted[rank-1]
}

// Median returns the middle value of xs (the mean of the two middle values
// when there is an even number), without changing xs; 0 for none.
func Median(xs []float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

// Stats summarise one measured run of one endpoint against one target.
type Stats struct {
	Requests int     `json:"requests"`
	Seconds  float64 `json:"seconds"`
	// Throughput is completed requests (errors included) per second.
	Throughput float64 `json:"throughput"`
	MeanMs     float64 `json:"mean_ms"`
	P50Ms      float64 `json:"p50_ms"`
	P95Ms      float64 `json:"p95_ms"`
	P99Ms      float64 `json:"p99_ms"`
	MaxMs      float64 `json:"max_ms"`
	// Errors counts responses that were not 2xx and requests that got no
	// response at all; ErrorsByStatus splits them by status code
	// ("transport" for no response).
	Errors         int            `json:"errors"`
	ErrorsByStatus map[string]int `json:"errors_by_status,omitempty"`
	// ErrorSamples are the first few error bodies, to say what went wrong.
	ErrorSamples  []string `json:"error_samples,omitempty"`
	ResponseBytes int64    `json:"response_bytes"`
}

// tally is what one worker records; tallies merge into Stats.
type tally struct {
	latencies []time.Duration
	errors    map[string]int
	samples   []string
	bytes     int64
}

const maxErrorSamples = 5

func (t *tally) ok(d time.Duration, n int64) {
	t.latencies = append(t.latencies, d)
	t.bytes += n
}

// fail records a failed request. status is 0 when no response came.
func (t *tally) fail(d time.Duration, status int, sample string) {
	t.latencies = append(t.latencies, d)
	if t.errors == nil {
		t.errors = map[string]int{}
	}
	key := "transport"
	if status != 0 {
		key = strconv.Itoa(status)
	}
	t.errors[key]++
	if len(t.samples) < maxErrorSamples {
		t.samples = append(t.samples, fmt.Sprintf("%s: %s", key, sample))
	}
}

func (t *tally) merge(o *tally) {
	t.latencies = append(t.latencies, o.latencies...)
	t.bytes += o.bytes
	for k, v := range o.errors {
		if t.errors == nil {
			t.errors = map[string]int{}
		}
		t.errors[k] += v
	}
	for _, s := range o.samples {
		if len(t.samples) < maxErrorSamples {
			t.samples = append(t.samples, s)
		}
	}
}

// Summarize turns the latencies of every request of a run that took
// elapsed (errors included) into Stats.
func Summarize(latencies []time.Duration, elapsed time.Duration, errorsByStatus map[string]int, samples []string, bytes int64) Stats {
	sorted := slices.Clone(latencies)
	slices.Sort(sorted)
	s := Stats{Requests: len(sorted), Seconds: elapsed.Seconds(), ResponseBytes: bytes, ErrorSamples: samples}
	if elapsed > 0 {
		s.Throughput = float64(len(sorted)) / elapsed.Seconds()
	}
	if len(sorted) > 0 {
		var sum time.Duration
		for _, d := range sorted {
			sum += d
		}
		s.MeanMs = ms(sum / time.Duration(len(sorted)))
		s.P50Ms = ms(Percentile(sorted, 50))
		s.P95Ms = ms(Percentile(sorted, 95))
		s.P99Ms = ms(Percentile(sorted, 99))
		s.MaxMs = ms(sorted[len(sorted)-1])
	}
	if len(errorsByStatus) > 0 {
		s.ErrorsByStatus = map[string]int{}
		keys := make([]string, 0, len(errorsByStatus))
		for k := range errorsByStatus {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			s.ErrorsByStatus[k] = errorsByStatus[k]
			s.Errors += errorsByStatus[k]
		}
	}
	return s
}

func (t *tally) stats(elapsed time.Duration) Stats {
	return Summarize(t.latencies, elapsed, t.errors, t.samples, t.bytes)
}

// ms is d in milliseconds, rounded to the microsecond.
func ms(d time.Duration) float64 { return math.Round(float64(d)/float64(time.Microsecond)) / 1000 }
