package loadtest

import (
	"bufio"
	"io"
	"strconv"
	"strings"
)

// ParseGoBench reads the benchmark lines of `go test -bench` output:
//
//	pkg: github.com/bangfu/bangfu/internal/ledger
//	BenchmarkAppend-2   	    1234	    956789 ns/op	  2048 B/op	  31 allocs/op
//
// Every "value unit" pair after the iteration count becomes a metric.
// Other lines are ignored.
func ParseGoBench(r io.Reader) ([]GoBenchmark, error) {
	var out []GoBenchmark
	var pkg string
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64*1024), 1024*1024)
	for sc.Scan() {
		line := sc.Text()
		if p, ok := strings.CutPrefix(line, "pkg: "); ok {
			pkg = strings.TrimSpace(p)
			continue
		}
		f := strings.Fields(line)
		if len(f) < 4 || !strings.HasPrefix(f[0], "Benchmark") || len(f)%2 != 0 {
			continue
		}
		n, err := strconv.ParseInt(f[1], 10, 64)
		if err != nil {
			continue
		}
		b := GoBenchmark{Package: pkg, Name: f[0], Iterations: n, Metrics: map[string]float64{}}
		for i := 2; i+1 < len(f); i += 2 {
			v, err := strconv.ParseFloat(f[i], 64)
			if err != nil {
				b.Metrics = nil
				break
			}
			b.Metrics[f[i+1]] = v
		}
		if b.Metrics != nil {
			out = append(out, b)
		}
	}
	return out, sc.Err()
}
