package webui

import (
	"fmt"
	"net/http"
	"net/url"

	"github.com/labstack/echo/v4"

	"github.com/bangfu/bangfu"
	"github.com/bangfu/bangfu/internal/http/request"
	"github.com/bangfu/bangfu/internal/notify"
)

// The forms of the notification settings page.
const (
	formPreferences   = "preferences"
	formSchool        = "school"
	formChannel       = "channel"
	formSchoolChannel = "school-channel"
)

// notifyData is the notification settings page: the actor's settings and,
// after a form that did not go through, which form it was with the input
// and problems (the page has several forms with the same field names).
type notifyData struct {
	notify.Settings
	Kinds  []string
	Failed string
	form   url.Values
	fields map[string]string
	// Theirs is the current version of what the user edited when someone
	// changed it meanwhile (a stale form).
	Theirs any
}

// Val is the value of field in form: what the user sent when that form
// failed, else def.
func (d notifyData) Val(form, field, def string) string {
	if d.Failed == form {
		return d.form.Get(field)
	}
	return def
}

// On says whether a checkbox of form is checked: as sent when that form
// failed, else def.
func (d notifyData) On(form, field string, def bool) bool {
	if d.Failed == form {
		return d.form.Get(field) != ""
	}
	return def
}

// Err is the problem with field of form, in the page's language.
func (d notifyData) Err(form, field string) string {
	if d.Failed == form {
		return d.fields[field]
	}
	return ""
}

// Staff reports whether the logged-in user has notification settings (the
// header links to them).
func (p *Page) Staff() bool {
	switch p.Actor.Role {
	case bangfu.RoleCounselor, bangfu.RoleSupervisor, bangfu.RoleProvince:
		return true
	}
	return false
}

// notifyPage builds the settings page; failed names the form that did not
// go through (err), "" for none.
func (ui *UI) notifyPage(c echo.Context, failed string, err error) (*Page, int, error) {
	p, perr := ui.userPage(c)
	if perr != nil {
		return nil, 0, perr
	}
	s, serr := ui.Notify.Settings(request.Context(c), p.Actor)
	if serr != nil {
		return nil, 0, serr
	}
	p.Title = p.T("notify.title")
	d := notifyData{Settings: s, Kinds: []string{notify.WeCom, notify.DingTalk}}
	status := http.StatusOK
	if err != nil {
		status = ui.formFailed(c, p, err)
		d.Failed, d.form, d.fields = failed, p.Form, p.Fields
		p.Form, p.Fields = nil, nil
		if bangfu.ErrorCode(err) == bangfu.EPRECONDITIONFAILED {
			switch failed {
			case formPreferences:
				d.Theirs = s.Preferences
			case formSchool:
				if s.School != nil {
					d.Theirs = s.School.School
				}
			}
		}
	}
	p.Data = d
	return p, status, nil
}

// notifySettings is where a staff member chooses where reminders go: the
// inbox (always), e-mail, 企业微信 and 钉钉 group bots (add, test, remove;
// a broken one is shown as such), and quiet hours; a supervisor of the
// whole school also sets the school's shared channel and digest time.
func (ui *UI) notifySettings(c echo.Context) error {
	if _, err := request.Params(c); err != nil {
		return err
	}
	p, status, err := ui.notifyPage(c, "", nil)
	if err != nil {
		return err
	}
	return ui.render(c, status, "notify_settings", p)
}

// formVersion reads the hidden version field of a form (the ETag the page
// was built with).
func formVersion(c echo.Context) int {
	var v int
	if _, err := fmt.Sscanf(c.FormValue("version"), "%d", &v); err != nil {
		return 0
	}
	return v
}

func (ui *UI) saveNotifyPreferences(c echo.Context) error {
	if err := postForm(c); err != nil {
		return err
	}
	_, err := ui.Notify.SavePreferences(request.Context(c), request.Actor(c), formVersion(c), notify.PreferencesInput{
		EmailMode: c.FormValue("email_mode"), QuietStart: c.FormValue("quiet_start"), QuietEnd: c.FormValue("quiet_end"),
	})
	return ui.notifyDone(c, formPreferences, err, "notify.saved")
}

func (ui *UI) saveNotifySchool(c echo.Context) error {
	if err := postForm(c); err != nil {
		return err
	}
	_, err := ui.Notify.SaveSchool(request.Context(c), request.Actor(c), formVersion(c), notify.SchoolInput{
		DigestAt: c.FormValue("digest_at"), QuietStart: c.FormValue("quiet_start"), QuietEnd: c.FormValue("quiet_end"),
	})
	return ui.notifyDone(c, formSchool, err, "notify.saved")
}

func (ui *UI) addNotifyChannel(c echo.Context) error {
	if err := postForm(c); err != nil {
		return err
	}
	digest, urgent := c.FormValue("digest") != "", c.FormValue("urgent") != ""
	in := notify.ChannelInput{Scope: c.FormValue("scope"), Kind: c.FormValue("kind"), Label: c.FormValue("label"),
		URL: c.FormValue("url"), Secret: c.FormValue("secret"), Digest: &digest, Urgent: &urgent}
	form := formChannel
	if in.Scope == notify.ScopeSchool {
		form = formSchoolChannel
	}
	_, err := ui.Notify.AddChannel(request.Context(c), request.Actor(c), in)
	return ui.notifyDone(c, form, err, "notify.added")
}

func (ui *UI) testNotifyChannel(c echo.Context) error {
	if err := postForm(c); err != nil {
		return err
	}
	id, err := request.PathID(c, "id")
	if err != nil {
		return err
	}
	r, err := ui.Notify.TestChannel(request.Context(c), request.Actor(c), id)
	key := "notify.tested.ok"
	switch {
	case err != nil:
	case r.Channel.Broken:
		key = "notify.tested.broken"
	case !r.Delivered:
		key = "notify.tested.failed"
	}
	return ui.notifyDone(c, "", err, key)
}

func (ui *UI) removeNotifyChannel(c echo.Context) error {
	if err := postForm(c); err != nil {
		return err
	}
	id, err := request.PathID(c, "id")
	if err != nil {
		return err
	}
	err = ui.Notify.RemoveChannel(request.Context(c), request.Actor(c), id)
	return ui.notifyDone(c, "", err, "notify.removed")
}

// notifyDone ends a form of the settings page: back to the page with a
// message, or the page again with the problems next to form's fields.
func (ui *UI) notifyDone(c echo.Context, form string, err error, flashKey string) error {
	if FormProblem(err) {
		p, status, perr := ui.notifyPage(c, form, err)
		if perr != nil {
			return perr
		}
		return ui.render(c, status, "notify_settings", p)
	}
	if err != nil {
		return err
	}
	return done(c, flashKey, "/settings/notifications")
}

type deliveriesData struct {
	Items  []notify.Delivery
	State  string
	States []string
	Next   string
}

// deliveries shows admins what was sent where, attempt by attempt: status,
// latency and error (never the message or the address).
func (ui *UI) deliveries(c echo.Context) error {
	q, err := request.Params(c, "state", "cursor")
	if err != nil {
		return err
	}
	pg := q.Page()
	state := q.String("state")
	if err := q.Err(); err != nil {
		return err
	}
	p, err := ui.userPage(c)
	if err != nil {
		return err
	}
	l, err := ui.Notify.Deliveries(request.Context(c), p.Actor, state, pg)
	if err != nil {
		return err
	}
	p.Title = p.T("deliveries.title")
	p.Data = deliveriesData{Items: l.Items, State: state, States: notify.DeliveryStates, Next: l.NextCursor}
	return ui.render(c, http.StatusOK, "deliveries", p)
}

// devWebhook shows what the development stand-in for a 企业微信 bot
// received (mounted only when BANGFU_ENV=dev).
func (ui *UI) devWebhook(c echo.Context) error {
	if _, err := request.Params(c); err != nil {
		return err
	}
	p, err := ui.userPage(c)
	if err != nil {
		return err
	}
	p.Title = p.T("devhook.title")
	p.Data = ui.Receiver.Received()
	return ui.render(c, http.StatusOK, "dev_webhook", p)
}
