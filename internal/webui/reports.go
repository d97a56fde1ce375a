package webui

import (
	"fmt"
	"html/template"
	"net/http"
	"net/url"
	"strconv"

	"github.com/labstack/echo/v4"

	"github.com/bangfu/bangfu"
	"github.com/bangfu/bangfu/internal/http/request"
	"github.com/bangfu/bangfu/internal/policy"
	"github.com/bangfu/bangfu/internal/report"
)

// 去向落实率 against the July and December targets, overall and by school,
// department, education level, hardship category and graduation year, as
// of any day: charts the server draws, with the same figures in tables.
// Only verified destinations count; those waiting for verification (待核实)
// are shown beside the rate. Province staff see every school (their home
// page); supervisors their school or department; counselors their
// caseload. Supervisors and province also see the staffing check, the
// trend of the weekly snapshots, and links to the exports.

func init() { homes[bangfu.RoleProvince] = (*UI).reports }

type reportsData struct {
	Summary report.Summary
	Years   []int
	// School is the school province chose to look into (nil: the province).
	School   *report.Group
	SchoolID int64
	// AsOf is the day asked for ("" for today).
	AsOf      string
	Charts    []reportChart
	Trend     template.HTML
	Weeks     int
	Downloads []download
	// Flagged are the schools below 1:500 or without staff recorded.
	Flagged []report.Staffing
}

// reportChart is one breakdown: its chart and its table.
type reportChart struct {
	ID, Kind, Title string
	Chart           template.HTML
	Groups          []report.Group
	Hint            string
}

// download is an export a page offers, in both formats: its catalogue
// label, the id of its list item and its two links.
type download struct {
	Label, ID, XLSX, CSV string
}

// newDownload links path with query in both formats.
func newDownload(label, id, path string, query url.Values) download {
	link := func(f string) string {
		q := url.Values{}
		for k, v := range query {
			if len(v) > 0 && v[0] != "" {
				q[k] = v
			}
		}
		q.Set("format", f)
		return path + "?" + q.Encode()
	}
	return download{Label: label, ID: id, XLSX: link("xlsx"), CSV: link("csv")}
}

func (ui *UI) reports(c echo.Context) error {
	q, err := request.Params(c, "graduation_year", "school_id", "as_of")
	if err != nil {
		return err
	}
	f := report.Filter{GraduationYear: q.Int("graduation_year", 0), SchoolID: q.ID("school_id"), AsOf: q.Date("as_of")}
	if err := q.Err(); err != nil {
		return err
	}
	p, err := ui.userPage(c)
	if err != nil {
		return err
	}
	ctx := request.Context(c)
	sum, err := ui.Reports.Summary(ctx, p.Actor, f)
	if err != nil {
		return err
	}
	this := bangfu.Today(ui.Clock).Time().Year()
	d := reportsData{Summary: sum}
	for y := this + 1; y >= this-4; y-- {
		d.Years = append(d.Years, y)
	}
	if f.SchoolID != nil {
		d.SchoolID = *f.SchoolID
		for i := range sum.BySchool {
			if sum.BySchool[i].ID == *f.SchoolID {
				d.School = &sum.BySchool[i]
			}
		}
	}
	if f.AsOf != nil {
		d.AsOf = f.AsOf.String()
	}
	name := func(g report.Group) string { return g.Name }
	add := func(id, kind string, groups []report.Group, label func(report.Group) string, hint string) {
		if len(groups) == 0 {
			return
		}
		title := p.T("reports.by_" + kind)
		d.Charts = append(d.Charts, reportChart{ID: id, Kind: kind, Title: title, Groups: groups, Hint: hint,
			Chart: rateChart(p, "chart-"+id, title, groups, label, sum.Targets)})
	}
	overall := []report.Group{{Name: p.T("reports.overall"), Rate: sum.Overall}}
	d.Charts = append(d.Charts, reportChart{ID: "overall", Kind: "overall", Title: p.Tf("reports.chart_overall", sum.GraduationYear),
		Chart: rateChart(p, "chart-overall", p.Tf("reports.chart_overall", sum.GraduationYear), overall, name, sum.Targets)})
	if len(sum.BySchool) > 1 || p.Actor.Role == bangfu.RoleProvince && f.SchoolID == nil {
		add("school", "school", sum.BySchool, name, "")
	}
	add("department", "department", sum.ByDepartment, p.GroupName, "")
	add("education", "education", sum.ByEducation, func(g report.Group) string { return p.Name("edu", g.Code) }, "")
	add("category", "category", sum.ByCategory, func(g report.Group) string { return p.Name("category", g.Code) }, p.T("reports.category_hint"))
	add("year", "year", sum.ByYear, func(g report.Group) string { return p.Tf("reports.year_option", g.Year) }, p.T("reports.year_hint"))
	for _, s := range sum.Staffing {
		if !s.Meets {
			d.Flagged = append(d.Flagged, s)
		}
	}

	// The weekly snapshots of the last quarter, and the downloads.
	query := url.Values{"graduation_year": {strconv.Itoa(sum.GraduationYear)}}
	if f.SchoolID != nil {
		query.Set("school_id", strconv.FormatInt(*f.SchoolID, 10))
	}
	ledger := url.Values{"graduation_year": query["graduation_year"], "school_id": query["school_id"]}
	if f.AsOf != nil {
		query.Set("as_of", f.AsOf.String())
	}
	d.Downloads = []download{
		newDownload("exports.summary", "download-summary", "/reports/export", query),
		newDownload("exports.ledger", "download-ledger", "/ledger/export", ledger),
	}
	if p.Actor.Role != bangfu.RoleCounselor {
		snaps := url.Values{"period": {report.Weekly}}
		if f.SchoolID != nil {
			snaps.Set("school_id", strconv.FormatInt(*f.SchoolID, 10))
		}
		d.Downloads = append(d.Downloads, newDownload("exports.weekly", "download-weekly", "/reports/snapshots/export", snaps))
		from := bangfu.Today(ui.Clock).AddDays(-13 * 7)
		weeks, err := ui.Reports.Snapshots(ctx, p.Actor, report.SnapshotFilter{Period: report.Weekly, SchoolID: f.SchoolID, From: &from},
			bangfu.Page{Limit: bangfu.MaxPageLimit})
		if err != nil {
			return err
		}
		d.Weeks = len(weeks.Items)
		if d.Weeks > 0 {
			d.Trend = trendChart(p, "chart-trend", p.T("reports.trend_title"), weeks.Items, report.Weekly)
		}
	}
	p.Title = p.T("reports.title")
	p.Form = c.QueryParams()
	if p.Form.Get("graduation_year") == "" {
		p.Form.Set("graduation_year", strconv.Itoa(sum.GraduationYear))
	}
	if p.Form.Get("as_of") == "" {
		p.Form.Set("as_of", sum.AsOf.String())
	}
	p.Data = d
	return ui.render(c, http.StatusOK, "reports", p)
}

// rateChart draws groups' rates against the targets.
func rateChart(p *Page, id, title string, groups []report.Group, name func(report.Group) string, targets report.Targets) template.HTML {
	ch := BarChart{ID: id, Title: title, Targets: []Target{
		{Label: p.Tf("reports.target_july", p.Percent(targets.July)), Rate: targets.July},
		{Label: p.Tf("reports.target_december", p.Percent(targets.December)), Rate: targets.December},
	}}
	desc := ""
	for _, g := range groups {
		label := name(g)
		value := fmt.Sprintf("%s  %d/%d", p.Percent(g.Rate.Rate), g.Placed, g.Graduates)
		ch.Bars = append(ch.Bars, Bar{Label: label, Rate: g.Rate.Rate, Placed: g.Placed, Graduates: g.Graduates, Value: value, Meets: g.MeetsTarget})
		if desc != "" {
			desc += p.T("reports.desc_sep")
		}
		desc += p.Tf("reports.desc_item", label, p.Percent(g.Rate.Rate), g.Placed, g.Graduates, g.Pending)
	}
	ch.Desc = p.Tf("reports.desc", desc, p.Percent(targets.July), p.Percent(targets.December))
	return ch.SVG()
}

// trendChart draws the rate of each snapshot against the targets.
func trendChart(p *Page, id, title string, snaps []report.SnapshotHead, period string) template.HTML {
	ch := TrendChart{ID: id, Title: title}
	var targets report.Targets
	desc := ""
	for _, s := range snaps {
		label := p.Tf("snapshots.point_"+period, int(s.PeriodStart.Time().Month()), s.PeriodStart.Time().Day())
		ch.Points = append(ch.Points, TrendPoint{Label: label, Rate: s.Overall.Rate, Meets: s.Overall.MeetsTarget})
		if desc != "" {
			desc += p.T("reports.desc_sep")
		}
		desc += p.Tf("snapshots.desc_item", p.Date(s.PeriodEnd), p.Percent(s.Overall.Rate), s.Overall.Placed, s.Overall.Graduates, s.Overall.Pending)
		targets = s.Targets
	}
	ch.Targets = []Target{
		{Label: p.Tf("reports.target_july", p.Percent(targets.July)), Rate: targets.July},
		{Label: p.Tf("reports.target_december", p.Percent(targets.December)), Rate: targets.December},
	}
	ch.Desc = p.Tf("reports.desc", desc, p.Percent(targets.July), p.Percent(targets.December))
	return ch.SVG()
}

// GroupName is a department's name; the files in no department have a
// name of their own in each language.
func (p *Page) GroupName(g report.Group) string {
	if g.ID == 0 {
		return p.T("reports.no_department")
	}
	return g.Name
}

// PerStaff is how many graduates each staff member of s serves, or "—"
// without staff.
func (p *Page) PerStaff(s report.Staffing) string {
	if s.GraduatesPerStaff == nil {
		return "—"
	}
	return strconv.FormatFloat(*s.GraduatesPerStaff, 'f', 1, 64)
}

// GroupLabel is how a table row names group g of kind.
func (p *Page) GroupLabel(kind string, g report.Group) string {
	switch kind {
	case "department":
		return p.GroupName(g)
	case "education":
		return p.Name("edu", g.Code)
	case "category":
		return p.Name("category", g.Code)
	case "year":
		return p.Tf("reports.year_option", g.Year)
	case "overall":
		return p.T("reports.overall")
	}
	return g.Name
}

// statisticsRoutes are the pages of the statistics (issue 13): the
// snapshots, the staffing check and the downloads. /reports itself is in
// routes.
func (ui *UI) statisticsRoutes() {
	const GET, POST = http.MethodGet, http.MethodPost
	r := ui.r
	r.Page(GET, "/reports/export", policy.ReportsRead, ui.downloadSummary)
	r.Page(GET, "/reports/snapshots", policy.SnapshotsRead, ui.snapshots)
	r.Page(GET, "/reports/snapshots/export", policy.SnapshotsRead, ui.downloadSnapshots)
	r.Page(GET, "/reports/snapshots/:id", policy.SnapshotsRead, ui.snapshot)
	r.Page(GET, "/reports/snapshots/:id/export", policy.SnapshotsRead, ui.downloadSnapshot)
	r.Page(GET, "/reports/staffing", policy.StaffingRead, ui.staffingPage)
	r.Page(POST, "/reports/staffing", policy.StaffingWrite, ui.saveStaffing)
	r.Page(GET, "/ledger/export", policy.LedgerExport, ui.downloadLedger)
}
