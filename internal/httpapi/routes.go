package httpapi

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/bangfu/bangfu/internal/policy"
)

// routes registers every route of the service, each with the action the
// policy must allow. A route added anywhere else has no action and fails
// the route × role test.
func (s *Server) routes() {
	const (
		GET, POST, PUT, PATCH = http.MethodGet, http.MethodPost, http.MethodPut, http.MethodPatch
	)
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
	s.handle(PATCH, "/api/v1/users/:id", policy.UsersManage, s.updateUser)
	s.handle(POST, "/api/v1/schools", policy.SchoolsManage, s.createSchool)
	s.handle(GET, "/api/v1/schools", policy.SchoolsRead, s.listSchools)
	s.handle(POST, "/api/v1/schools/:id/departments", policy.SchoolsManage, s.createDepartment)
	s.handle(GET, "/api/v1/schools/:id/departments", policy.SchoolsRead, s.listDepartments)

	if s.JobsUI != nil {
		h := echo.WrapHandler(s.JobsUI)
		for _, m := range []string{GET, POST, PUT, PATCH, http.MethodDelete} {
			s.handle(m, "/admin/jobs", policy.JobsAdmin, h)
			s.handle(m, "/admin/jobs/*", policy.JobsAdmin, h)
		}
	}
}
