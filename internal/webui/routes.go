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
	ui.statisticsRoutes()
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
	// Where reminders go besides the inbox (notification channels).
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
	ui.counselorRoutes()
	ui.rosterRoutes()
}

// rosterRoutes are the 宏志助航 roster's pages: bases (admin), cohorts and
// their rosters (each role its part; the base staff's home is their
// cohorts' confirmed places, at /), exports, deliveries (admin), and what
// each role does to a place.
func (ui *UI) rosterRoutes() {
	const GET, POST = http.MethodGet, http.MethodPost
	r := ui.r
	r.Page(GET, "/admin/bases", policy.RosterManage, ui.bases)
	r.Page(POST, "/admin/bases", policy.RosterManage, ui.createBase)
	r.Page(GET, "/admin/bases/:id", policy.RosterManage, ui.basePage)
	r.Page(POST, "/admin/bases/:id", policy.RosterManage, ui.updateBase)
	r.Page(GET, "/cohorts", policy.RosterRead, ui.cohorts)
	r.Page(GET, "/cohorts/new", policy.RosterManage, ui.newCohortPage)
	r.Page(POST, "/cohorts", policy.RosterManage, ui.createCohort)
	r.Page(GET, "/cohorts/:id", policy.RosterRead, ui.cohortPage)
	r.Page(GET, "/cohorts/:id/edit", policy.RosterManage, ui.editCohortPage)
	r.Page(POST, "/cohorts/:id", policy.RosterManage, ui.updateCohort)
	r.Page(POST, "/cohorts/:id/state", policy.RosterManage, ui.moveCohort)
	r.Page(GET, "/cohorts/:id/deliveries", policy.RosterManage, ui.cohortDeliveries)
	r.Page(GET, "/cohorts/:id/export", policy.RosterRead, ui.exportRoster)
	r.Page(POST, "/places/:id/withdraw", policy.PlacesWithdraw, ui.withdrawPlace)
	r.Page(POST, "/places/:id/attend", policy.PlacesAttend, ui.progressPlace("attend"))
	r.Page(POST, "/places/:id/complete", policy.PlacesAttend, ui.progressPlace("complete"))
	r.Page(POST, "/places/:id/confirm", policy.PlacesRespond, ui.answerPlace("confirm"))
	r.Page(POST, "/places/:id/decline", policy.PlacesRespond, ui.answerPlace("decline"))
}

// counselorRoutes are the counselor's pages: the graduate file (also the
// supervisor's and, read-only, the province's), group contact and import.
// The workbench is the counselor's home at / (homes).
func (ui *UI) counselorRoutes() {
	const GET, POST = http.MethodGet, http.MethodPost
	r := ui.r
	r.Page(GET, "/students/new", policy.StudentsWrite, ui.newFile)
	r.Page(POST, "/students", policy.StudentsWrite, ui.createFile)
	r.Page(GET, "/students/:id", policy.StudentsRead, ui.file)
	r.Page(POST, "/students/:id/unmask", policy.StudentsUnmask, ui.unmask)
	r.Page(GET, "/students/:id/hardships/new", policy.HardshipsWrite, ui.hardshipPage)
	r.Page(POST, "/students/:id/hardships", policy.HardshipsWrite, ui.addHardship)
	r.Page(GET, "/students/:id/plan/edit", policy.PlansWrite, ui.planEdit)
	r.Page(POST, "/students/:id/plan", policy.PlansWrite, ui.savePlan)
	r.Page(GET, "/students/:id/plan/revisions/:n", policy.PlansRead, ui.planRevision)
	r.Page(GET, "/students/:id/plan/diff", policy.PlansRead, ui.planDiff)
	r.Page(GET, "/students/:id/ledger/new", policy.LedgerAppend, ui.newEntry)
	r.Page(POST, "/students/:id/ledger", policy.LedgerAppend, ui.appendEntry)
	r.Page(GET, "/students/:id/ledger/:seq/correct", policy.LedgerAppend, ui.correctPage)
	r.Page(POST, "/students/:id/ledger/:seq/corrections", policy.LedgerAppend, ui.correct)
	r.Page(GET, "/students/:id/destination/edit", policy.DestinationWrite, ui.destinationPage)
	r.Page(POST, "/students/:id/destination", policy.DestinationWrite, ui.putDestination)
	r.Page(POST, "/students/:id/destination/verify", policy.DestinationVerify, ui.verifyFileDestination)
	r.Page(GET, "/students/:id/handover", policy.HandoverWrite, ui.handoverPage)
	r.Page(POST, "/students/:id/handover", policy.HandoverWrite, ui.createHandover)
	r.Page(POST, "/students/:id/handover/acknowledge", policy.HandoverWrite, ui.acknowledgeHandover)
	r.Page(GET, "/students/:id/account", policy.AccountsCreate, ui.accountPage)
	r.Page(POST, "/students/:id/account", policy.AccountsCreate, ui.createAccount)
	r.Page(POST, "/students/:id/account/password", policy.AccountsReset, ui.resetPassword)
	r.Page(GET, "/contacts/group", policy.LedgerAppend, ui.group)
	r.Page(POST, "/contacts/group", policy.LedgerAppend, ui.groupAppend)
	r.Page(GET, "/import", policy.StudentsImport, ui.importPage)
	r.Page(POST, "/import", policy.StudentsImport, ui.importFile)
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
