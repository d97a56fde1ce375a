package webui

import (
	"io/fs"
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/bangfu/bangfu/internal/policy"
	"github.com/bangfu/bangfu/web"
)

// routes registers every page route, each with the action the policy must
// allow; the API registers its routes in internal/httpapi.
func (ui *UI) routes() {
	const GET, POST = http.MethodGet, http.MethodPost
	r := ui.r
	r.Page(GET, "/", policy.Public, ui.home)
	r.Page(GET, "/login", policy.Public, ui.loginPage)
	r.Page(POST, "/login", policy.Public, ui.login)
	r.Page(POST, "/logout", policy.Public, ui.logout)
	r.Page(GET, "/static/*", policy.Public, staticHandler())
	r.Page(GET, "/notifications", policy.Self, ui.notifications)
	r.Page(POST, "/notifications/:id/read", policy.Self, ui.readNotification)
	r.Page(GET, "/settings/notifications", policy.NotifySettings, ui.notifySettings)
	r.Page(POST, "/settings/notifications/preferences", policy.NotifySettings, ui.saveNotifyPreferences)
	r.Page(POST, "/settings/notifications/school", policy.NotifySchool, ui.saveNotifySchool)
	r.Page(POST, "/settings/notifications/channels", policy.NotifySettings, ui.addNotifyChannel)
	r.Page(POST, "/settings/notifications/channels/:id/test", policy.NotifySettings, ui.testNotifyChannel)
	r.Page(POST, "/settings/notifications/channels/:id/remove", policy.NotifySettings, ui.removeNotifyChannel)
	r.Page(GET, "/admin/deliveries", policy.NotifyDeliveries, ui.deliveries)
	if ui.Receiver != nil {
		r.Page(GET, "/dev/webhook", policy.Self, ui.devWebhook) // development only
	}
}

func staticHandler() echo.HandlerFunc {
	sub, _ := fs.Sub(web.Static, "static")
	h := http.StripPrefix("/static/", http.FileServer(http.FS(sub)))
	return func(c echo.Context) error {
		c.Response().Header().Set("Cache-Control", "public, max-age=3600")
		h.ServeHTTP(c.Response(), c.Request())
		return nil
	}
}
