package httpapi

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/bangfu/bangfu/internal/config"
	"github.com/bangfu/bangfu/internal/policy"
	"github.com/bangfu/bangfu/internal/roster"
)

// routes registers every API and operational route, each with the action
// the policy must allow. The pages register theirs in internal/webui.
func (api *API) routes() {
	const (
		GET, POST, PUT, PATCH, DELETE = http.MethodGet, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete
	)
	r := api.r
	r.Handle(GET, "/healthz", policy.Public, api.healthz)
	r.Handle(GET, "/readyz", policy.Public, api.readyz)
	r.Handle(GET, "/.well-known/jwks.json", policy.Public, api.jwks)
	if api.Config.MetricsAddr == "" {
		r.Handle(GET, "/metrics", policy.MetricsRead, api.metricsHandler())
	}

	r.Handle(POST, "/api/v1/auth/login", policy.Public, api.login)
	r.Handle(POST, "/api/v1/auth/refresh", policy.Public, api.refresh)
	r.Handle(POST, "/api/v1/auth/logout", policy.Self, api.logout)
	r.Handle(GET, "/api/v1/me", policy.Self, api.me)

	r.Handle(POST, "/api/v1/users", policy.UsersManage, api.createUser)
	r.Handle(GET, "/api/v1/users", policy.UsersManage, api.listUsers)
	r.Handle(GET, "/api/v1/users/:id", policy.UsersManage, api.getUser)
	r.Handle(PATCH, "/api/v1/users/:id", policy.UsersManage, patchVersioned(api.Directory.UpdateUser))
	r.Handle(POST, "/api/v1/schools", policy.SchoolsManage, api.createSchool)
	r.Handle(GET, "/api/v1/schools", policy.SchoolsRead, list(api.Directory.ListSchools))
	r.Handle(POST, "/api/v1/schools/:id/departments", policy.SchoolsManage, api.createDepartment)
	r.Handle(GET, "/api/v1/schools/:id/departments", policy.SchoolsRead, api.listDepartments)

	r.Handle(POST, "/api/v1/students", policy.StudentsWrite, api.createStudent)
	r.Handle(GET, "/api/v1/students", policy.StudentsRead, api.listStudents)
	r.Handle(POST, "/api/v1/students/import", policy.StudentsImport, api.importStudents)
	r.Handle(POST, "/api/v1/students/reassign", policy.StudentsReassign, api.reassignStudents)
	r.Handle(GET, "/api/v1/students/:id", policy.StudentsRead, api.getStudent)
	r.Handle(PATCH, "/api/v1/students/:id", policy.StudentsWrite, patchVersioned(api.Graduates.Update))
	r.Handle(POST, "/api/v1/students/:id/unmask", policy.StudentsUnmask, api.unmaskStudent)
	r.Handle(POST, "/api/v1/students/:id/account", policy.AccountsCreate, api.createAccount)
	r.Handle(POST, "/api/v1/students/:id/account/password", policy.AccountsReset, api.resetAccountPassword)
	r.Handle(POST, "/api/v1/students/:id/hardships", policy.HardshipsWrite, withIDAndBody(http.StatusCreated, api.Graduates.AddHardship))
	r.Handle(POST, "/api/v1/students/:id/hardships/:hid/verify", policy.HardshipsVerify, api.verifyHardship)
	r.Handle(GET, "/api/v1/students/:id/plan", policy.PlansRead, api.getPlan)
	r.Handle(PUT, "/api/v1/students/:id/plan", policy.PlansWrite, api.putPlan)
	r.Handle(GET, "/api/v1/students/:id/plan/revisions/:n", policy.PlansRead, api.getPlanRevision)
	r.Handle(POST, "/api/v1/students/:id/plan/acknowledge", policy.PlansAcknowledge, api.acknowledgePlan)
	r.Handle(POST, "/api/v1/students/:id/ledger", policy.LedgerAppend, withIDAndBody(http.StatusCreated, api.Ledger.Append))
	r.Handle(GET, "/api/v1/students/:id/ledger", policy.LedgerRead, api.listLedger)
	r.Handle(GET, "/api/v1/students/:id/ledger/verify", policy.LedgerVerify, api.verifyLedger)
	r.Handle(POST, "/api/v1/students/:id/ledger/:seq/corrections", policy.LedgerAppend, api.correctLedger)
	r.Handle(POST, "/api/v1/ledger/group", policy.LedgerAppend, api.appendLedgerGroup)
	r.Handle(GET, "/api/v1/ledger", policy.LedgerReview, api.reviewLedger)
	r.Handle(GET, "/api/v1/reports/summary", policy.ReportsRead, api.reportSummary)
	r.Handle(GET, "/api/v1/reports/snapshots", policy.SnapshotsRead, api.listSnapshots)
	r.Handle(GET, "/api/v1/reports/snapshots/:id", policy.SnapshotsRead, api.getSnapshot)
	r.Handle(GET, "/api/v1/reports/staffing", policy.StaffingRead, api.staffingCheck)
	r.Handle(GET, "/api/v1/schools/:id/staffing/:year", policy.StaffingRead, api.getStaffing)
	r.Handle(PUT, "/api/v1/schools/:id/staffing/:year", policy.StaffingWrite, api.putStaffing)
	r.Handle(GET, "/api/v1/ledger/export", policy.LedgerExport, api.exportLedger)
	r.Handle(GET, "/api/v1/students/:id/destination", policy.StudentsRead, api.getDestination)
	r.Handle(PUT, "/api/v1/students/:id/destination", policy.DestinationWrite, api.putDestination)
	r.Handle(POST, "/api/v1/students/:id/destination/verify", policy.DestinationVerify, api.verifyDestination)
	r.Handle(GET, "/api/v1/students/:id/handover", policy.StudentsRead, api.listHandovers)
	r.Handle(POST, "/api/v1/students/:id/handover", policy.HandoverWrite, withIDAndBody(http.StatusCreated, api.Handovers.Create))
	r.Handle(POST, "/api/v1/students/:id/handover/acknowledge", policy.HandoverWrite, withIDAndBody(http.StatusOK, api.Handovers.Acknowledge))
	r.Handle(GET, "/api/v1/me/file", policy.OwnFile, own("graduate file", api.writeFile))
	r.Handle(GET, "/api/v1/me/plan", policy.OwnFile, own("plan", api.writePlan))
	r.Handle(GET, "/api/v1/me/ledger", policy.OwnFile, own("ledger", api.writeLedger))
	r.Handle(GET, "/api/v1/me/destination", policy.OwnFile, own("destination", api.writeDestination))
	r.Handle(GET, "/api/v1/audit", policy.AuditRead, api.listAudit)

	r.Handle(GET, "/api/v1/escalations", policy.EscalationsRead, api.listEscalations)
	r.Handle(POST, "/api/v1/escalations/:id/acknowledge", policy.EscalationsAct, escalationAct(api.Escalations.Acknowledge))
	r.Handle(POST, "/api/v1/escalations/:id/resolve", policy.EscalationsAct, escalationAct(api.Escalations.Resolve))
	r.Handle(GET, "/api/v1/notifications", policy.Self, api.listNotifications)
	r.Handle(POST, "/api/v1/notifications/:id/read", policy.Self, api.readNotification)
	r.Handle(GET, "/api/v1/settings", policy.SettingsRead, api.getSettings)
	r.Handle(PUT, "/api/v1/settings", policy.SettingsWrite, api.putSettings)

	// The 宏志助航 training roster.
	r.Handle(POST, "/api/v1/bases", policy.RosterManage, api.createBase)
	r.Handle(GET, "/api/v1/bases", policy.RosterManage, list(api.Roster.ListBases))
	r.Handle(GET, "/api/v1/bases/:id", policy.RosterManage, getVersioned(api.Roster.Base))
	r.Handle(PATCH, "/api/v1/bases/:id", policy.RosterManage, patchVersioned(api.Roster.UpdateBase))
	r.Handle(POST, "/api/v1/cohorts", policy.RosterManage, api.createCohort)
	r.Handle(GET, "/api/v1/cohorts", policy.RosterRead, api.listCohorts)
	r.Handle(GET, "/api/v1/cohorts/:id", policy.RosterRead, getVersioned(api.Roster.Cohort))
	r.Handle(PATCH, "/api/v1/cohorts/:id", policy.RosterManage, patchVersioned(api.Roster.UpdateCohort))
	r.Handle(POST, "/api/v1/cohorts/:id/build", policy.RosterManage, api.buildCohort)
	r.Handle(GET, "/api/v1/cohorts/:id/roster", policy.RosterRead, api.getRoster)
	r.Handle(GET, "/api/v1/cohorts/:id/summary", policy.RosterRead, api.getRosterSummary)
	r.Handle(GET, "/api/v1/cohorts/:id/deliveries", policy.RosterManage, api.listDeliveries)
	r.Handle(GET, "/api/v1/places/:id", policy.PlacesRead, getVersioned(api.Roster.Place))
	r.Handle(POST, "/api/v1/places/:id/withdraw", policy.PlacesWithdraw, api.withdrawPlace)
	r.Handle(POST, "/api/v1/places/:id/confirm", policy.PlacesRespond, getVersioned(api.Roster.Confirm))
	r.Handle(POST, "/api/v1/places/:id/decline", policy.PlacesRespond, api.declinePlace)
	r.Handle(POST, "/api/v1/places/:id/attend", policy.PlacesAttend, getVersioned(api.Roster.Attend))
	r.Handle(POST, "/api/v1/places/:id/complete", policy.PlacesAttend, getVersioned(api.Roster.Complete))
	r.Handle(GET, "/api/v1/me/roster", policy.OwnFile, api.myRoster)
	r.Handle(GET, "/api/v1/students/:id/training", policy.StudentsRead, api.studentTraining)
	if api.Config.Env == config.EnvDev {
		// A receiver for the demo base's webhook, so that `make run`
		// delivers the roster's changes with no other service.
		api.receiver = &roster.Receiver{Roster: api.Roster}
		r.Handle(POST, "/dev/roster-webhook/:id", policy.Public, api.receiveWebhook)
		r.Handle(GET, "/dev/roster-webhook/:id", policy.RosterManage, api.receivedWebhooks)
	}
	// Where reminders go besides the inbox (internal/notify).
	r.Handle(GET, "/api/v1/notification-settings", policy.NotifySettings, api.notifySettings)
	r.Handle(PUT, "/api/v1/notification-settings/preferences", policy.NotifySettings, api.putNotifyPreferences)
	r.Handle(PUT, "/api/v1/notification-settings/school", policy.NotifySchool, api.putNotifySchool)
	r.Handle(POST, "/api/v1/notification-channels", policy.NotifySettings, api.addNotifyChannel)
	r.Handle(DELETE, "/api/v1/notification-channels/:id", policy.NotifySettings, api.removeNotifyChannel)
	r.Handle(POST, "/api/v1/notification-channels/:id/test", policy.NotifySettings, api.testNotifyChannel)
	r.Handle(GET, "/api/v1/notification-deliveries", policy.NotifyDeliveries, api.listNotifyDeliveries)
	if api.Receiver != nil {
		// Development only: a stand-in 企业微信 bot for the demo's channel.
		r.Handle(POST, "/dev/webhook/send", policy.Public, api.receiveDevWebhook)
	}

	if api.JobsUI != nil {
		h := echo.WrapHandler(api.JobsUI)
		for _, m := range []string{GET, POST, PUT, PATCH, DELETE} {
			r.Page(m, "/admin/jobs", policy.JobsAdmin, h)
			r.Page(m, "/admin/jobs/*", policy.JobsAdmin, h)
		}
	}
}
