package webui

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/bangfu/bangfu"
	"github.com/bangfu/bangfu/internal/http/request"
	"github.com/bangfu/bangfu/internal/settings"
)

// The rule settings admins tune (settings.Store): the form carries the
// version it was made from, and a save after someone else's shows both
// versions and saves nothing.

type settingsData struct {
	Record settings.Record
	// Fields are the form's fields in order, with the current and, after a
	// stale save, the submitted values.
	Fields []settingField
	Stale  bool
	// Orig is the values the form was made with (hidden "orig." fields).
	Orig url.Values
}

type settingField struct {
	Name, Label, Hint string
	Theirs, Yours     string
	// Changed: the user changed this field in the stale save.
	Changed bool
	Step    string // "1" for whole numbers, "0.01" for fractions
}

// settingNames are the form's fields: the settings' JSON names, the three
// stall thresholds as stall_days.0 to .2.
var settingNames = []string{"stall_days.0", "stall_days.1", "stall_days.2", "sweep_interval_minutes", "default_cadence_days",
	"after_graduation_cadence_days", "referral_minimum", "referral_window_days", "evidence_warning_days", "target_july", "target_december"}

func settingValues(s settings.Settings) url.Values {
	f := func(v float64) string { return strconv.FormatFloat(v, 'f', -1, 64) }
	i := strconv.Itoa
	return url.Values{
		"stall_days.0": {i(s.StallDays[0])}, "stall_days.1": {i(s.StallDays[1])}, "stall_days.2": {i(s.StallDays[2])},
		"sweep_interval_minutes": {i(s.SweepIntervalMinutes)}, "default_cadence_days": {i(s.DefaultCadenceDays)},
		"after_graduation_cadence_days": {i(s.AfterGraduationCadenceDays)},
		"referral_minimum":              {i(s.ReferralMinimum)}, "referral_window_days": {i(s.ReferralWindowDays)},
		"evidence_warning_days": {i(s.EvidenceWarningDays)}, "target_july": {f(s.TargetJuly)}, "target_december": {f(s.TargetDecember)},
	}
}

// settingsInput reads the form. A field that is empty or not a number
// reads as -1, outside every range, so that the store names its problem.
func settingsInput(c echo.Context) settings.Settings {
	n := func(name string) int {
		v, err := strconv.Atoi(strings.TrimSpace(c.FormValue(name)))
		if err != nil {
			return -1
		}
		return v
	}
	f := func(name string) float64 {
		v, err := strconv.ParseFloat(strings.TrimSpace(c.FormValue(name)), 64)
		if err != nil {
			return -1
		}
		return v
	}
	return settings.Settings{
		StallDays:            [3]int{n("stall_days.0"), n("stall_days.1"), n("stall_days.2")},
		SweepIntervalMinutes: n("sweep_interval_minutes"), DefaultCadenceDays: n("default_cadence_days"),
		AfterGraduationCadenceDays: n("after_graduation_cadence_days"),
		ReferralMinimum:            n("referral_minimum"), ReferralWindowDays: n("referral_window_days"),
		EvidenceWarningDays: n("evidence_warning_days"), TargetJuly: f("target_july"), TargetDecember: f("target_december"),
	}
}

func (ui *UI) settingsPage(c echo.Context) error {
	if _, err := request.Params(c); err != nil {
		return err
	}
	p, err := ui.userPage(c)
	if err != nil {
		return err
	}
	rec, err := ui.Settings.Get(request.Context(c), ui.Settings.DB.Pool)
	if err != nil {
		return err
	}
	p.Form = settingValues(rec.Settings)
	ui.fillSettings(p, rec, nil, origValues(p.Form, settingNames))
	return ui.render(c, http.StatusOK, "admin_settings", p)
}

// fillSettings describes the form for rec; yours is the stale save's
// input (nil when none), orig the values the form is made with.
func (ui *UI) fillSettings(p *Page, rec settings.Record, yours, orig url.Values) {
	theirs := settingValues(rec.Settings)
	d := &settingsData{Record: rec, Stale: yours != nil, Orig: orig}
	for _, name := range settingNames {
		key := strings.ReplaceAll(name, ".", "_")
		sf := settingField{Name: name, Label: p.T("settings." + key), Hint: p.T("settings." + key + "_hint"), Theirs: theirs.Get(name), Step: "1"}
		if strings.HasPrefix(name, "target_") {
			sf.Step = "0.01"
		}
		if yours != nil {
			sf.Yours = yours.Get(name)
			sf.Changed = yours.Get(name) != yours.Get("orig."+name)
		}
		d.Fields = append(d.Fields, sf)
	}
	p.Title = p.T("settings.title")
	p.Data = d
}

func (ui *UI) saveSettings(c echo.Context) error {
	if err := postForm(c); err != nil {
		return err
	}
	version, err := strconv.Atoi(c.FormValue("version"))
	if err != nil || version < 1 {
		return bangfu.Errorf(bangfu.EPRECONDITIONREQ, "Send If-Match with the ETag of the version you are changing.")
	}
	ctx := request.Context(c)
	_, err = ui.Settings.Put(ctx, request.Actor(c), version, settingsInput(c))
	if FormProblem(err) {
		p, perr := ui.userPage(c)
		if perr != nil {
			return perr
		}
		cur, perr := ui.Settings.Get(ctx, ui.Settings.DB.Pool)
		if perr != nil {
			return perr
		}
		status := ui.formFailed(c, p, err)
		if bangfu.ErrorCode(err) == bangfu.EPRECONDITIONFAILED {
			// Based on the current version, with the user's changes.
			sent, now := p.Form, settingValues(cur.Settings)
			p.Form = mergeStale(sent, now, settingNames)
			ui.fillSettings(p, cur, sent, origValues(now, settingNames))
		} else {
			ui.fillSettings(p, cur, nil, sentOrig(p.Form, settingNames))
		}
		return ui.render(c, status, "admin_settings", p)
	}
	if err != nil {
		return err
	}
	return done(c, "settings.saved", "/admin/settings")
}
