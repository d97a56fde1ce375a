package webui

import (
	"fmt"
	"html/template"
	"strings"
)

// Charts the server draws: inline SVG built here from numbers and escaped
// labels, so that a page needs no script and no image file. Every chart
// carries a <title> and a <desc> for screen readers, and the page shows the
// same figures in a table beside it.

// Bar is one bar: a rate with the counts it comes from.
type Bar struct {
	Label             string
	Rate              float64 // 0..1
	Placed, Graduates int
	// Value is the text shown at the bar's end ("72.5%  29/40").
	Value string
	// Meets marks a bar at or above the target in force.
	Meets bool
}

// Target is a vertical line across the bars (the July and December
// targets).
type Target struct {
	Label string
	Rate  float64
}

// BarChart is a horizontal bar chart of rates from 0 to 100%, one bar per
// row with its label above it, so that long names fit a 360-pixel phone.
type BarChart struct {
	// ID makes the ids of the title and description unique on the page.
	ID          string
	Title, Desc string
	Bars        []Bar
	Targets     []Target
}

// Geometry of a chart. Horizontal positions are percentages of the
// chart's width, so that bars stretch with the page while text keeps the
// page's size (the SVG has no viewBox); vertical ones are pixels.
const (
	chartLeft   = 0.5  // % where bars start
	chartRight  = 76.0 // % where 100% ends; values are written after it
	headHeight  = 24.0 // room for the target labels
	rowHeight   = 44.0
	labelHeight = 18.0
	barHeight   = 16.0
)

// x is the horizontal position, in percent, of rate r.
func (BarChart) x(r float64) float64 {
	if r < 0 {
		r = 0
	}
	if r > 1 {
		r = 1
	}
	return chartLeft + r*(chartRight-chartLeft)
}

// SVG returns the chart as inline SVG. Labels and titles are escaped;
// everything else is numbers.
func (ch BarChart) SVG() template.HTML {
	esc := template.HTMLEscapeString
	height := headHeight + rowHeight*float64(len(ch.Bars)) + 4
	var b strings.Builder
	fmt.Fprintf(&b, `<svg class="chart" width="100%%" height="%.0f" role="img" aria-labelledby="%s-title %s-desc" xmlns="http://www.w3.org/2000/svg">`,
		height, esc(ch.ID), esc(ch.ID))
	fmt.Fprintf(&b, `<title id="%s-title">%s</title><desc id="%s-desc">%s</desc>`, esc(ch.ID), esc(ch.Title), esc(ch.ID), esc(ch.Desc))
	// A faint grid every 10%.
	for i := 0; i <= 10; i++ {
		x := ch.x(float64(i) / 10)
		fmt.Fprintf(&b, `<line x1="%.2f%%" y1="%.1f" x2="%.2f%%" y2="%.1f" class="grid"/>`, x, headHeight, x, height-2)
	}
	for i, bar := range ch.Bars {
		y := headHeight + rowHeight*float64(i)
		fmt.Fprintf(&b, `<text x="%.2f%%" y="%.1f" class="label">%s</text>`, chartLeft, y+labelHeight-4, esc(bar.Label))
		cls := "bar"
		if bar.Meets {
			cls = "bar meets"
		}
		fmt.Fprintf(&b, `<rect x="%.2f%%" y="%.1f" width="%.2f%%" height="%.1f" class="track"/>`, chartLeft, y+labelHeight, chartRight-chartLeft, barHeight)
		fmt.Fprintf(&b, `<rect x="%.2f%%" y="%.1f" width="%.2f%%" height="%.1f" class="%s"/>`, chartLeft, y+labelHeight, ch.x(bar.Rate)-chartLeft, barHeight, cls)
		fmt.Fprintf(&b, `<text x="%.2f%%" y="%.1f" class="value">%s</text>`, chartRight+1.5, y+labelHeight+barHeight-3, esc(bar.Value))
	}
	// Targets last, over the bars. Their labels sit on one row, the lower
	// target's to the left of its line and the higher's to the right, so
	// that close targets (70% and 90%) never overlap, even on a phone.
	for i, t := range ch.Targets {
		x := ch.x(t.Rate)
		tx, anchor := x, "middle"
		switch {
		case len(ch.Targets) > 1 && i == 0:
			tx, anchor = x-0.8, "end"
		case len(ch.Targets) > 1 && i == len(ch.Targets)-1:
			tx, anchor = x+0.8, "start"
		}
		fmt.Fprintf(&b, `<line x1="%.2f%%" y1="%.1f" x2="%.2f%%" y2="%.1f" class="target target-%d"/>`, x, 6.0, x, height-2, i)
		fmt.Fprintf(&b, `<text x="%.2f%%" y="%.1f" text-anchor="%s" class="target-label">%s</text>`, tx, 16.0, anchor, esc(t.Label))
	}
	b.WriteString(`</svg>`)
	return template.HTML(b.String()) // built above from numbers and escaped text only
}

// TrendPoint is one period of a trend: its rate and whether it met the
// target in force then.
type TrendPoint struct {
	Label string
	Rate  float64 // 0..1
	Meets bool
}

// TrendChart is the rate of successive periods (the snapshots) as a line
// against the targets, drawn as horizontal lines. Like BarChart, its
// horizontal positions are percentages and its text keeps the page's
// size, so that it reads on a 360-pixel phone; the page shows the same
// figures in a table.
type TrendChart struct {
	ID          string
	Title, Desc string
	Points      []TrendPoint
	Targets     []Target
}

// Geometry of a trend chart: vertical positions in pixels.
const (
	trendTop    = 12.0  // above 100%
	trendHeight = 160.0 // 0% to 100%
	trendLeft   = 1.0   // % where the first point may sit
	trendRight  = 97.0  // % where the last point sits
	trendLabels = 6     // at most this many period labels under the axis
)

// y is the vertical position, in pixels, of rate r.
func (TrendChart) y(r float64) float64 {
	r = min(max(r, 0), 1)
	return trendTop + (1-r)*trendHeight
}

// x is the horizontal position, in percent, of point i.
func (ch TrendChart) x(i int) float64 {
	if len(ch.Points) == 1 {
		return (trendLeft + trendRight) / 2
	}
	return trendLeft + 2 + float64(i)*(trendRight-trendLeft-2)/float64(len(ch.Points)-1)
}

// SVG returns the chart as inline SVG. Labels and titles are escaped;
// everything else is numbers.
func (ch TrendChart) SVG() template.HTML {
	esc := template.HTMLEscapeString
	bottom := trendTop + trendHeight
	height := bottom + 26
	var b strings.Builder
	fmt.Fprintf(&b, `<svg class="chart trend" width="100%%" height="%.0f" role="img" aria-labelledby="%s-title %s-desc" xmlns="http://www.w3.org/2000/svg">`,
		height, esc(ch.ID), esc(ch.ID))
	fmt.Fprintf(&b, `<title id="%s-title">%s</title><desc id="%s-desc">%s</desc>`, esc(ch.ID), esc(ch.Title), esc(ch.ID), esc(ch.Desc))
	// A grid every 20%, labelled at the left above its line.
	for i := 0; i <= 5; i++ {
		r := float64(i) / 5
		y := ch.y(r)
		fmt.Fprintf(&b, `<line x1="0%%" y1="%.1f" x2="100%%" y2="%.1f" class="grid"/>`, y, y)
		if i > 0 {
			fmt.Fprintf(&b, `<text x="0%%" y="%.1f" class="axis">%d%%</text>`, y-3, i*20)
		}
	}
	for i, t := range ch.Targets {
		y := ch.y(t.Rate)
		fmt.Fprintf(&b, `<line x1="0%%" y1="%.1f" x2="100%%" y2="%.1f" class="target target-%d"/>`, y, y, i)
		fmt.Fprintf(&b, `<text x="100%%" y="%.1f" text-anchor="end" class="target-label">%s</text>`, y-4, esc(t.Label))
	}
	for i := 1; i < len(ch.Points); i++ {
		fmt.Fprintf(&b, `<line x1="%.2f%%" y1="%.1f" x2="%.2f%%" y2="%.1f" class="trend-line"/>`,
			ch.x(i-1), ch.y(ch.Points[i-1].Rate), ch.x(i), ch.y(ch.Points[i].Rate))
	}
	every := (len(ch.Points) + trendLabels - 1) / trendLabels
	for i, pt := range ch.Points {
		cls := "point"
		if pt.Meets {
			cls = "point meets"
		}
		fmt.Fprintf(&b, `<circle cx="%.2f%%" cy="%.1f" r="4" class="%s"/>`, ch.x(i), ch.y(pt.Rate), cls)
		if every > 0 && ((len(ch.Points)-1-i)%every == 0) {
			anchor := "middle"
			switch {
			case len(ch.Points) == 1:
			case i == 0:
				anchor = "start"
			case i == len(ch.Points)-1:
				anchor = "end"
			}
			fmt.Fprintf(&b, `<text x="%.2f%%" y="%.1f" text-anchor="%s" class="label">%s</text>`, ch.x(i), bottom+18, anchor, esc(pt.Label))
		}
	}
	b.WriteString(`</svg>`)
	return template.HTML(b.String()) // built above from numbers and escaped text only
}
