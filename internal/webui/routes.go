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

	// The student portal (its page is the student's home, /).
	r.Page(POST, "/my/plan/acknowledge", policy.PlansAcknowledge, ui.acknowledgePlan)
	r.Page(POST, "/my/destination", policy.OwnFile, ui.reportDestination)
	// The escalation queue of counselors, supervisors and province.
	r.Page(GET, "/escalations", policy.EscalationsRead, ui.escalations)
	r.Page(POST, "/escalations/:id/acknowledge", policy.EscalationsAct, ui.actOnEscalation("acknowledge"))
	r.Page(POST, "/escalations/:id/resolve", policy.EscalationsAct, ui.actOnEscalation("resolve"))
	// Supervisors (their overview is their home) and province (reports).
	r.Page(GET, "/review", policy.LedgerReview, ui.review)
	r.Page(GET, "/counselors", policy.StudentsReassign, ui.caseloads)
	r.Page(POST, "/counselors/reassign", policy.StudentsReassign, ui.reassign)
	r.Page(GET, "/verify", policy.DestinationVerify, ui.verify)
	r.Page(POST, "/verify/destinations/:id", policy.DestinationVerify, ui.verifyDestination)
	r.Page(POST, "/verify/hardships/:id/:hid", policy.HardshipsVerify, ui.verifyHardship)
	r.Page(GET, "/reports", policy.ReportsRead, ui.reports)
	// Admin (the user list is their home).
	r.Page(GET, "/admin/users/new", policy.UsersManage, ui.newUserPage)
	r.Page(POST, "/admin/users", policy.UsersManage, ui.createUser)
	r.Page(GET, "/admin/users/:id", policy.UsersManage, ui.editUserPage)
	r.Page(POST, "/admin/users/:id", policy.UsersManage, ui.changeUser("profile"))
	r.Page(POST, "/admin/users/:id/password", policy.UsersManage, ui.changeUser("password"))
	r.Page(POST, "/admin/users/:id/disabled", policy.UsersManage, ui.changeUser("disabled"))
	r.Page(GET, "/admin/schools", policy.SchoolsManage, ui.schools)
	r.Page(POST, "/admin/schools", policy.SchoolsManage, ui.createSchool)
	r.Page(GET, "/admin/schools/:id", policy.SchoolsManage, ui.school)
	r.Page(POST, "/admin/schools/:id/departments", policy.SchoolsManage, ui.createDepartment)
	r.Page(GET, "/admin/settings", policy.SettingsRead, ui.settingsPage)
	r.Page(POST, "/admin/settings", policy.SettingsWrite, ui.saveSettings)
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
