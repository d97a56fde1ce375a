package webui

import (
	"encoding/xml"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestBarChart: the SVG is well-formed, names itself for screen readers,
// draws one bar per group at its rate and a line per target, and escapes
// every label.
func TestBarChart(t *testing.T) {
	t.Parallel()
	ch := BarChart{ID: "by-dept", Title: `去向落实率 <script>alert(1)</script>`, Desc: "信息工程学院 72.5%",
		Bars: []Bar{
			{Label: `信息工程学院 & "机电"`, Rate: 0.725, Value: "72.5% 29/40", Meets: true},
			{Label: "<b>管理</b>", Rate: 0.5, Value: "50.0% 1/2"},
			{Label: "满", Rate: 1.2, Value: "—"},
		},
		Targets: []Target{{Label: "7月目标 70%", Rate: 0.7}, {Label: "12月目标 90%", Rate: 0.9}},
	}
	svg := string(ch.SVG())
	require.NotContains(t, svg, "<script>", "text is escaped")
	require.NotContains(t, svg, "<b>")
	require.Contains(t, svg, `aria-labelledby="by-dept-title by-dept-desc"`)

	var doc struct {
		XMLName xml.Name
		Title   struct {
			ID   string `xml:"id,attr"`
			Text string `xml:",chardata"`
		} `xml:"title"`
		Desc  string `xml:"desc"`
		Rects []struct {
			Class string `xml:"class,attr"`
			Width string `xml:"width,attr"`
		} `xml:"rect"`
		Lines []struct {
			Class string `xml:"class,attr"`
			X1    string `xml:"x1,attr"`
		} `xml:"line"`
		Texts []string `xml:"text"`
	}
	require.NoError(t, xml.Unmarshal([]byte(svg), &doc), "the SVG is well-formed XML")
	require.Equal(t, "svg", doc.XMLName.Local)
	require.Equal(t, `去向落实率 <script>alert(1)</script>`, doc.Title.Text, "the title reads as written")
	require.Equal(t, "by-dept-title", doc.Title.ID)

	var bars []float64
	for _, r := range doc.Rects {
		if strings.HasPrefix(r.Class, "bar") {
			bars = append(bars, percent(t, r.Width))
		}
	}
	full := chartRight - chartLeft
	require.InDeltaSlice(t, []float64{0.725 * full, 0.5 * full, full}, bars, 0.1, "bar widths follow the rates, capped at 100%")
	var targets []float64
	for _, l := range doc.Lines {
		if strings.HasPrefix(l.Class, "target") {
			targets = append(targets, percent(t, l.X1))
		}
	}
	require.InDeltaSlice(t, []float64{chartLeft + 0.7*full, chartLeft + 0.9*full}, targets, 0.1)
	require.Contains(t, doc.Texts, `信息工程学院 & "机电"`)
	require.Contains(t, doc.Texts, "12月目标 90%")
}

// percent reads an SVG length in percent of the chart's width.
func percent(t *testing.T, v string) float64 {
	t.Helper()
	require.True(t, strings.HasSuffix(v, "%"), "%q is a percentage", v)
	f, err := strconv.ParseFloat(strings.TrimSuffix(v, "%"), 64)
	require.NoError(t, err)
	return f
}

// TestTrendChart: the SVG is well-formed and names itself, draws a point
// per period at its rate and a line between each two, the targets as
// horizontal lines, and escapes every label.
func TestTrendChart(t *testing.T) {
	t.Parallel()
	ch := TrendChart{ID: "trend", Title: `周报 <script>`, Desc: "5/4 16.7%",
		Points:  []TrendPoint{{Label: "5/4", Rate: 0.167}, {Label: "<b>5/11</b>", Rate: 0.5}, {Label: "5/18", Rate: 0.75, Meets: true}},
		Targets: []Target{{Label: "7月 70%", Rate: 0.7}, {Label: "12月 90%", Rate: 0.9}},
	}
	svg := string(ch.SVG())
	require.NotContains(t, svg, "<script>")
	require.NotContains(t, svg, "<b>")
	var doc struct {
		Title   string `xml:"title"`
		Circles []struct {
			Class string `xml:"class,attr"`
			CX    string `xml:"cx,attr"`
			CY    string `xml:"cy,attr"`
		} `xml:"circle"`
		Lines []struct {
			Class string `xml:"class,attr"`
			Y1    string `xml:"y1,attr"`
		} `xml:"line"`
		Texts []string `xml:"text"`
	}
	require.NoError(t, xml.Unmarshal([]byte(svg), &doc))
	require.Equal(t, `周报 <script>`, doc.Title)
	require.Len(t, doc.Circles, 3)
	var xs, ys []float64
	for _, c := range doc.Circles {
		xs = append(xs, percent(t, c.CX))
		y, err := strconv.ParseFloat(c.CY, 64)
		require.NoError(t, err)
		ys = append(ys, y)
	}
	require.True(t, xs[0] < xs[1] && xs[1] < xs[2], "periods left to right")
	require.InDeltaSlice(t, []float64{trendTop + (1-0.167)*trendHeight, trendTop + 0.5*trendHeight, trendTop + 0.25*trendHeight}, ys, 0.1)
	require.Equal(t, "point meets", doc.Circles[2].Class)
	var segments, targets int
	for _, l := range doc.Lines {
		switch {
		case l.Class == "trend-line":
			segments++
		case strings.HasPrefix(l.Class, "target"):
			targets++
			y, _ := strconv.ParseFloat(l.Y1, 64)
			require.Contains(t, []float64{trendTop + 0.3*trendHeight, trendTop + 0.1*trendHeight}, y)
		}
	}
	require.Equal(t, 2, segments)
	require.Equal(t, 2, targets)
	require.Contains(t, doc.Texts, "<b>5/11</b>", "labels read as written")
}
