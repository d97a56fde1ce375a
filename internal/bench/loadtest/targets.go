package loadtest

import (
	"fmt"
	"io"
	"text/tabwriter"
)

// TargetResult is one target of issue 14 against this run's figure.
type TargetResult struct {
	Name   string `json:"name"`
	Target string `json:"target"`
	// Measured is the figure, or why there is none.
	Measured string `json:"measured"`
	// Met is nil when the run did not measure it.
	Met *bool `json:"met"`
}

// TargetConcurrency is the concurrency the latency targets hold at.
const TargetConcurrency = 16

// cellAt returns the cell of endpoint at concurrency c, or nil.
func (r *Result) cellAt(endpoint string, c int) *Cell {
	for i := range r.HTTP {
		if r.HTTP[i].Endpoint == endpoint && r.HTTP[i].Concurrency == c {
			return &r.HTTP[i]
		}
	}
	return nil
}

// EvaluateTargets checks the run's figures against the targets.
func (r *Result) EvaluateTargets() []TargetResult {
	var out []TargetResult
	add := func(name, target string, measured string, met *bool) {
		out = append(out, TargetResult{name, target, measured, met})
	}
	yes := func(b bool) *bool { return &b }
	c := TargetConcurrency
	latency := func(endpoint, name string) {
		t := cellTargets[endpoint]
		target := fmt.Sprintf("p95 < %g ms at c=%d", t.p95, c)
		if t.ratio > 0 {
			target += fmt.Sprintf(", ≥ %.1f× the floor", t.ratio)
		}
		cell := r.cellAt(endpoint, c)
		if cell == nil {
			add(name, target, fmt.Sprintf("not measured (no c=%d cell)", c), nil)
			return
		}
		measured := fmt.Sprintf("p95 %.1f ms", cell.Server.P95Ms)
		if t.ratio > 0 {
			measured += fmt.Sprintf(", %.2f× the floor", cell.Ratio)
		}
		_, verdict := cellTarget(*cell)
		add(name, target, measured, yes(verdict == "met"))
	}
	latency("caseload", "counselor's caseload")
	latency("append", "ledger append")
	latency("ledger", "graduate's ledger")
	latency("review", "ledger review")
	latency("escalations", "escalation list")
	if j := r.Jobs; j != nil && len(j.Report.RateRuns) > 0 {
		add("province 去向落实率, uncached", "< 0.5 s", fmt.Sprintf("%.3f s (median of %d)", j.Report.RateMedianSeconds, len(j.Report.RateRuns)),
			yes(j.Report.RateMedianSeconds < 0.5))
	} else {
		add("province 去向落实率, uncached", "< 0.5 s", "not measured (jobs off)", nil)
	}
	if j := r.Jobs; j != nil {
		add("stall sweep", "< 3 s", fmt.Sprintf("%.2f s (raised %d, cleared %d)", j.Sweep.Seconds, sumMap(j.Sweep.Raised), j.Sweep.Cleared),
			yes(j.Sweep.Seconds < 3))
	} else {
		add("stall sweep", "< 3 s", "not measured (jobs off)", nil)
	}
	if r.SeedSeconds > 0 {
		add("seed 1,000,000 graduates", "< 120 s", fmt.Sprintf("%.0f s", r.SeedSeconds), yes(r.SeedSeconds < 120))
	} else {
		add("seed 1,000,000 graduates", "< 120 s", "not measured (the database was seeded already)", nil)
	}
	if peak := r.RSS.Server.PeakBytes; peak > 0 {
		add("server peak RSS", "< 200 MB", mib(peak), yes(peak < 200<<20))
	} else {
		add("server peak RSS", "< 200 MB", "not measured (no HTTP load)", nil)
	}
	return out
}

func sumMap(m map[string]int) int {
	n := 0
	for _, v := range m {
		n += v
	}
	return n
}

// PrintTargets writes the targets table.
func PrintTargets(w io.Writer, ts []TargetResult) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "target\tgoal\tmeasured\t")
	for _, t := range ts {
		verdict := "—"
		if t.Met != nil {
			verdict = "MISSED"
			if *t.Met {
				verdict = "met"
			}
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", t.Name, t.Target, t.Measured, verdict)
	}
	tw.Flush()
}
