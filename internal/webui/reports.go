package webui

import (
	"fmt"
	"html/template"
	"net/http"
	"strconv"

	"github.com/labstack/echo/v4"

	"github.com/bangfu/bangfu"
	"github.com/bangfu/bangfu/internal/http/request"
	"github.com/bangfu/bangfu/internal/report"
)

// 去向落实率 against the July and December targets, overall and by school,
// department and hardship category, for a graduation year: charts the
// server draws, with the same figures in tables. Province staff see every
// school (their home page); supervisors their school or department.

func init() { homes[bangfu.RoleProvince] = (*UI).reports }

type reportsData struct {
	Summary report.Summary
	Years   []int
	// School is the school province chose to look into (nil: the province).
	School     *report.Group
	SchoolID   int64
	Overall    template.HTML
	BySchool   template.HTML
	ByDept     template.HTML
	ByCategory template.HTML
}

func (ui *UI) reports(c echo.Context) error {
	q, err := request.Params(c, "graduation_year", "school_id")
	if err != nil {
		return err
	}
	f := report.Filter{GraduationYear: q.Int("graduation_year", 0), SchoolID: q.ID("school_id")}
	if err := q.Err(); err != nil {
		return err
	}
	p, err := ui.userPage(c)
	if err != nil {
		return err
	}
	sum, err := ui.Reports.Summary(request.Context(c), p.Actor, f)
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
	targets := []Target{
		{Label: p.Tf("reports.target_july", p.Percent(sum.Targets.July)), Rate: sum.Targets.July},
		{Label: p.Tf("reports.target_december", p.Percent(sum.Targets.December)), Rate: sum.Targets.December},
	}
	chart := func(id, title string, groups []report.Group, name func(report.Group) string) template.HTML {
		ch := BarChart{ID: id, Title: title, Targets: targets}
		desc := ""
		for _, g := range groups {
			label := name(g)
			value := fmt.Sprintf("%s  %d/%d", p.Percent(g.Rate.Rate), g.Placed, g.Graduates)
			ch.Bars = append(ch.Bars, Bar{Label: label, Rate: g.Rate.Rate, Placed: g.Placed, Graduates: g.Graduates, Value: value, Meets: g.MeetsTarget})
			if desc != "" {
				desc += p.T("reports.desc_sep")
			}
			desc += p.Tf("reports.desc_item", label, p.Percent(g.Rate.Rate), g.Placed, g.Graduates)
		}
		ch.Desc = p.Tf("reports.desc", desc, p.Percent(sum.Targets.July), p.Percent(sum.Targets.December))
		return ch.SVG()
	}
	overall := []report.Group{{Name: p.T("reports.overall"), Rate: sum.Overall}}
	d.Overall = chart("chart-overall", p.Tf("reports.chart_overall", sum.GraduationYear), overall, func(g report.Group) string { return g.Name })
	if len(sum.BySchool) > 1 || p.Actor.Role == bangfu.RoleProvince && f.SchoolID == nil {
		d.BySchool = chart("chart-schools", p.T("reports.by_school"), sum.BySchool, func(g report.Group) string { return g.Name })
	}
	if len(sum.ByDepartment) > 0 {
		d.ByDept = chart("chart-departments", p.T("reports.by_department"), sum.ByDepartment, p.GroupName)
	}
	if len(sum.ByCategory) > 0 {
		d.ByCategory = chart("chart-categories", p.T("reports.by_category"), sum.ByCategory, func(g report.Group) string { return p.Name("category", g.Code) })
	}
	p.Title = p.T("reports.title")
	p.Form = c.QueryParams()
	if p.Form.Get("graduation_year") == "" {
		p.Form.Set("graduation_year", strconv.Itoa(sum.GraduationYear))
	}
	p.Data = d
	return ui.render(c, http.StatusOK, "reports", p)
}

// GroupName is a department's name; the files in no department have a
// name of their own in each language.
func (p *Page) GroupName(g report.Group) string {
	if g.ID == 0 {
		return p.T("reports.no_department")
	}
	return g.Name
}
