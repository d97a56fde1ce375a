package httpapi_test

import (
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/bangfu/bangfu"
	"github.com/bangfu/bangfu/internal/apptest"
)

// allowed is, written out independently of internal/policy, which roles may
// call each route. A route the router has and this table lacks fails the
// test: every new route needs a decision here.
var allowed = map[string][]bangfu.Role{
	"GET /healthz":               nil, // public
	"GET /readyz":                nil,
	"GET /.well-known/jwks.json": nil,
	"GET /metrics":               {admin},
	"POST /api/v1/auth/login":    nil,
	"POST /api/v1/auth/refresh":  nil,
	"POST /api/v1/auth/logout":   everyone,
	"GET /api/v1/me":             everyone,

	"POST /api/v1/users":                   {admin},
	"GET /api/v1/users":                    {admin},
	"GET /api/v1/users/:id":                {admin},
	"PATCH /api/v1/users/:id":              {admin},
	"POST /api/v1/schools":                 {admin},
	"GET /api/v1/schools":                  {counselor, supervisor, province, admin},
	"POST /api/v1/schools/:id/departments": {admin},
	"GET /api/v1/schools/:id/departments":  {counselor, supervisor, province, admin},
}

var (
	counselor  = bangfu.RoleCounselor
	supervisor = bangfu.RoleSupervisor
	province   = bangfu.RoleProvince
	admin      = bangfu.RoleAdmin
	everyone   = bangfu.Roles
)

// public routes answer anyone; the rest need a token.
var public = map[string]bool{
	"GET /healthz": true, "GET /readyz": true, "GET /.well-known/jwks.json": true,
	"POST /api/v1/auth/login": true, "POST /api/v1/auth/refresh": true,
}

func TestEveryRouteHasAPolicy(t *testing.T) {
	t.Parallel()
	env := apptest.New(t)
	school := env.MustSchool(t)
	tokens := map[bangfu.Role]string{}
	for _, role := range bangfu.Roles {
		var sch *int64
		if role.NeedsSchool() {
			sch = &school.ID
		}
		tokens[role] = env.Token(t, env.MustUser(t, role, sch))
	}

	for _, r := range env.App.Server.Routes() {
		key := r.Method + " " + r.Path
		if strings.HasPrefix(r.Path, "/admin/jobs") {
			key = r.Method + " /admin/jobs"
		}
		t.Run(key, func(t *testing.T) {
			require.NotEmpty(t, r.Action, "route has no policy action: register it with handle()")
			roles, listed := allowed[key]
			if strings.HasPrefix(key, r.Method+" /admin/jobs") {
				roles, listed = []bangfu.Role{admin}, true
			}
			require.True(t, listed, "route is missing from the test's allowed table: decide who may call it")
			path := strings.NewReplacer(":id", "1", ":hid", "1", ":seq", "1", ":n", "1", "*", "").Replace(r.Path)

			anon := env.Do(t, apptest.Call{Method: r.Method, Path: path, Unchecked: true})
			if public[key] {
				require.NotEqual(t, http.StatusUnauthorized, anon.Status, "public route refused an anonymous call")
				return
			}
			require.Equal(t, http.StatusUnauthorized, anon.Status, "anonymous call: %s", anon.Body)
			for _, role := range bangfu.Roles {
				resp := env.Do(t, apptest.Call{Method: r.Method, Path: path, Token: tokens[role], Unchecked: true})
				if slices.Contains(roles, role) {
					require.NotContains(t, []int{http.StatusUnauthorized, http.StatusForbidden}, resp.Status, "%s should be allowed: %s", role, resp.Body)
				} else {
					require.Equal(t, http.StatusForbidden, resp.Status, "%s should be refused: %s", role, resp.Body)
				}
			}
		})
	}
}
