package webui

import (
	"html/template"
	"net/http"
	"net/url"
	"strconv"

	"github.com/labstack/echo/v4"

	"github.com/bangfu/bangfu"
	"github.com/bangfu/bangfu/internal/directory"
	"github.com/bangfu/bangfu/internal/http/request"
	"github.com/bangfu/bangfu/internal/report"
)

// The weekly and monthly snapshots (周报/月报): the trend of the rate
// against the targets, each period as it stood at its end and as it was
// counted then, and one snapshot's figures. Supervisors see their school's,
// province staff the province's and any school's.

type snapshotsData struct {
	Period    string
	SchoolID  int64
	Schools   []directory.School
	Items     []report.SnapshotHead
	Trend     template.HTML
	Downloads []download
	From      bangfu.Date
}

func (ui *UI) snapshots(c echo.Context) error {
	q, err := request.Params(c, "period", "school_id")
	if err != nil {
		return err
	}
	period, school := q.String("period"), q.ID("school_id")
	if period == "" {
		period = report.Weekly
	}
	if err := q.Err(); err != nil {
		return err
	}
	p, err := ui.userPage(c)
	if err != nil {
		return err
	}
	ctx := request.Context(c)
	d := snapshotsData{Period: period}
	if school != nil {
		d.SchoolID = *school
	}
	// The last half year of weeks, or the last two years of months.
	d.From = bangfu.Today(ui.Clock).AddDays(-26 * 7)
	if period == report.Monthly {
		d.From = bangfu.Today(ui.Clock).AddDays(-2 * 365)
	}
	l, err := ui.Reports.Snapshots(ctx, p.Actor, report.SnapshotFilter{Period: period, SchoolID: school, From: &d.From}, bangfu.Page{Limit: bangfu.MaxPageLimit})
	if err != nil {
		return err
	}
	d.Items = l.Items
	if len(d.Items) > 0 {
		d.Trend = trendChart(p, "chart-trend", p.T("snapshots.trend_"+period), d.Items, period)
	}
	if p.Actor.Role == bangfu.RoleProvince {
		schools, err := ui.Directory.ListSchools(ctx, p.Actor, bangfu.Page{Limit: bangfu.MaxPageLimit})
		if err != nil {
			return err
		}
		d.Schools = schools.Items
	}
	ex := url.Values{"period": {period}, "from": {d.From.String()}}
	if school != nil {
		ex.Set("school_id", strconv.FormatInt(*school, 10))
	}
	d.Downloads = []download{newDownload("exports.snapshots_"+period, "download-snapshots", "/reports/snapshots/export", ex)}
	p.Title = p.T("snapshots.title")
	p.Form = c.QueryParams()
	p.Data = d
	return ui.render(c, http.StatusOK, "snapshots", p)
}

type snapshotData struct {
	Snapshot  report.Snapshot
	Charts    []reportChart
	Downloads []download
}

func (ui *UI) snapshot(c echo.Context) error {
	id, err := request.PathID(c, "id")
	if err != nil {
		return err
	}
	if _, err := request.Params(c); err != nil {
		return err
	}
	p, err := ui.userPage(c)
	if err != nil {
		return err
	}
	snap, err := ui.Reports.Snapshot(request.Context(c), p.Actor, id)
	if err != nil {
		return err
	}
	f := snap.Figures
	d := snapshotData{Snapshot: snap}
	name := func(g report.Group) string { return g.Name }
	add := func(kind string, groups []report.Group, label func(report.Group) string) {
		if len(groups) == 0 {
			return
		}
		title := p.T("reports.by_" + kind)
		d.Charts = append(d.Charts, reportChart{ID: kind, Kind: kind, Title: title, Groups: groups,
			Chart: rateChart(p, "chart-"+kind, title, groups, label, f.Targets)})
	}
	if snap.SchoolID == nil {
		add("school", f.BySchool, name)
	}
	add("department", f.ByDepartment, p.GroupName)
	add("education", f.ByEducation, func(g report.Group) string { return p.Name("edu", g.Code) })
	add("category", f.ByCategory, func(g report.Group) string { return p.Name("category", g.Code) })
	d.Downloads = []download{newDownload("exports.snapshot", "download-snapshot", "/reports/snapshots/"+strconv.FormatInt(id, 10)+"/export", nil)}
	p.Title = p.Tf("snapshots.one_title", p.T("snapshots.period_"+snap.Period), p.Date(snap.PeriodStart), p.Date(snap.PeriodEnd))
	p.Data = d
	return ui.render(c, http.StatusOK, "snapshot", p)
}
