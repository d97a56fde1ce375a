package httpapi

import (
	"context"
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/bangfu/bangfu"
	"github.com/bangfu/bangfu/internal/directory"
	"github.com/bangfu/bangfu/internal/policy"
)

// routes registers every route of the service, each with the action the
// policy must allow. A route added anywhere else has no action and fails
// the route × role test.
func (s *Server) routes() {
	const (
		GET, POST, PUT, PATCH = http.MethodGet, http.MethodPost, http.MethodPut, http.MethodPatch
	)
	s.handle(GET, "/", policy.Public, s.home)
	s.handle(POST, "/login", policy.Public, s.loginForm)
	s.handle(POST, "/logout", policy.Public, s.logoutForm)
	s.handle(GET, "/static/*", policy.Public, staticHandler())
	s.handle(GET, "/healthz", policy.Public, s.healthz)
	s.handle(GET, "/readyz", policy.Public, s.readyz)
	s.handle(GET, "/.well-known/jwks.json", policy.Public, s.jwks)
	if s.Config.MetricsAddr == "" {
		s.handle(GET, "/metrics", policy.MetricsRead, s.metricsHandler())
	}

	s.handle(POST, "/api/v1/auth/login", policy.Public, s.login)
	s.handle(POST, "/api/v1/auth/refresh", policy.Public, s.refresh)
	s.handle(POST, "/api/v1/auth/logout", policy.Self, s.logout)
	s.handle(GET, "/api/v1/me", policy.Self, s.me)

	s.handle(POST, "/api/v1/users", policy.UsersManage, s.createUser)
	s.handle(GET, "/api/v1/users", policy.UsersManage, s.listUsers)
	s.handle(GET, "/api/v1/users/:id", policy.UsersManage, s.getUser)
	s.handle(PATCH, "/api/v1/users/:id", policy.UsersManage, patchVersioned(
		func(ctx context.Context, _ bangfu.Actor, id int64, version int, p directory.UserPatch) (directory.User, error) {
			return s.Directory.UpdateUser(ctx, id, version, p)
		}))
	s.handle(POST, "/api/v1/schools", policy.SchoolsManage, s.createSchool)
	s.handle(GET, "/api/v1/schools", policy.SchoolsRead, s.listSchools)
	s.handle(POST, "/api/v1/schools/:id/departments", policy.SchoolsManage, s.createDepartment)
	s.handle(GET, "/api/v1/schools/:id/departments", policy.SchoolsRead, s.listDepartments)

	s.handle(POST, "/api/v1/students", policy.StudentsWrite, s.createStudent)
	s.handle(GET, "/api/v1/students", policy.StudentsRead, s.listStudents)
	s.handle(POST, "/api/v1/students/import", policy.StudentsImport, s.importStudents)
	s.handle(GET, "/api/v1/students/:id", policy.StudentsRead, s.getStudent)
	s.handle(PATCH, "/api/v1/students/:id", policy.StudentsWrite, patchVersioned(s.Graduates.Update))
	s.handle(POST, "/api/v1/students/:id/unmask", policy.StudentsUnmask, s.unmaskStudent)
	s.handle(POST, "/api/v1/students/:id/account", policy.AccountsCreate, s.createAccount)
	s.handle(POST, "/api/v1/students/:id/hardships", policy.HardshipsWrite, withIDAndBody(http.StatusCreated, s.Graduates.AddHardship))
	s.handle(POST, "/api/v1/students/:id/hardships/:hid/verify", policy.HardshipsVerify, s.verifyHardship)
	s.handle(GET, "/api/v1/students/:id/plan", policy.PlansRead, s.getPlan)
	s.handle(PUT, "/api/v1/students/:id/plan", policy.PlansWrite, s.putPlan)
	s.handle(GET, "/api/v1/students/:id/plan/revisions/:n", policy.PlansRead, s.getPlanRevision)
	s.handle(POST, "/api/v1/students/:id/plan/acknowledge", policy.PlansAcknowledge, s.acknowledgePlan)
	s.handle(POST, "/api/v1/students/:id/ledger", policy.LedgerAppend, withIDAndBody(http.StatusCreated, s.Ledger.Append))
	s.handle(GET, "/api/v1/students/:id/ledger", policy.LedgerRead, s.listLedger)
	s.handle(GET, "/api/v1/students/:id/ledger/verify", policy.LedgerVerify, s.verifyLedger)
	s.handle(POST, "/api/v1/students/:id/ledger/:seq/corrections", policy.LedgerAppend, s.correctLedger)
	s.handle(POST, "/api/v1/ledger/group", policy.LedgerAppend, s.appendLedgerGroup)
	s.handle(GET, "/api/v1/ledger", policy.LedgerReview, s.reviewLedger)
	s.handle(GET, "/api/v1/reports/summary", policy.ReportsRead, s.reportSummary)
	s.handle(GET, "/api/v1/students/:id/destination", policy.StudentsRead, s.getDestination)
	s.handle(PUT, "/api/v1/students/:id/destination", policy.DestinationWrite, s.putDestination)
	s.handle(POST, "/api/v1/students/:id/destination/verify", policy.DestinationVerify, s.verifyDestination)
	s.handle(GET, "/api/v1/me/file", policy.OwnFile, own("graduate file", s.writeFile))
	s.handle(GET, "/api/v1/me/plan", policy.OwnFile, own("plan", s.writePlan))
	s.handle(GET, "/api/v1/me/ledger", policy.OwnFile, own("ledger", s.writeLedger))
	s.handle(GET, "/api/v1/audit", policy.AuditRead, s.listAudit)

	s.handle(GET, "/api/v1/escalations", policy.EscalationsRead, s.listEscalations)
	s.handle(POST, "/api/v1/escalations/:id/acknowledge", policy.EscalationsAct, escalationAct(s.Escalations.Acknowledge))
	s.handle(POST, "/api/v1/escalations/:id/resolve", policy.EscalationsAct, escalationAct(s.Escalations.Resolve))
	s.handle(GET, "/api/v1/notifications", policy.Self, s.listNotifications)
	s.handle(POST, "/api/v1/notifications/:id/read", policy.Self, s.readNotification)
	s.handle(GET, "/api/v1/settings", policy.SettingsRead, s.getSettings)
	s.handle(PUT, "/api/v1/settings", policy.SettingsWrite, s.putSettings)

	if s.JobsUI != nil {
		h := echo.WrapHandler(s.JobsUI)
		for _, m := range []string{GET, POST, PUT, PATCH, http.MethodDelete} {
			s.handle(m, "/admin/jobs", policy.JobsAdmin, h)
			s.handle(m, "/admin/jobs/*", policy.JobsAdmin, h)
		}
	}
}
