package httpapi_test

import (
	"net/http"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/bangfu/bangfu"
	"github.com/bangfu/bangfu/internal/apptest"
	"github.com/bangfu/bangfu/internal/destination"
	"github.com/bangfu/bangfu/internal/directory"
	"github.com/bangfu/bangfu/internal/graduate"
	"github.com/bangfu/bangfu/internal/ledger"
	"github.com/bangfu/bangfu/internal/plan"
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

	"POST /api/v1/students":                             {counselor, supervisor},
	"GET /api/v1/students":                              {counselor, supervisor, province},
	"POST /api/v1/students/import":                      {counselor, supervisor},
	"POST /api/v1/students/reassign":                    {supervisor},
	"GET /api/v1/students/:id":                          {counselor, supervisor, province},
	"PATCH /api/v1/students/:id":                        {counselor, supervisor},
	"POST /api/v1/students/:id/unmask":                  {counselor, supervisor},
	"POST /api/v1/students/:id/account":                 {counselor, supervisor},
	"POST /api/v1/students/:id/account/password":        {counselor, supervisor},
	"POST /api/v1/students/:id/hardships":               {counselor, supervisor},
	"POST /api/v1/students/:id/hardships/:hid/verify":   {supervisor},
	"GET /api/v1/students/:id/plan":                     {counselor, supervisor, province},
	"PUT /api/v1/students/:id/plan":                     {counselor, supervisor},
	"GET /api/v1/students/:id/plan/revisions/:n":        {counselor, supervisor, province},
	"POST /api/v1/students/:id/plan/acknowledge":        {student},
	"POST /api/v1/students/:id/ledger":                  {counselor, supervisor},
	"GET /api/v1/students/:id/ledger":                   {student, counselor, supervisor, province},
	"GET /api/v1/students/:id/ledger/verify":            {counselor, supervisor, province},
	"POST /api/v1/students/:id/ledger/:seq/corrections": {counselor, supervisor},
	"POST /api/v1/ledger/group":                         {counselor, supervisor},
	"GET /api/v1/ledger":                                {counselor, supervisor, province},
	"GET /api/v1/reports/summary":                       {counselor, supervisor, province},
	"GET /api/v1/reports/snapshots":                     {supervisor, province},
	"GET /api/v1/reports/snapshots/:id":                 {supervisor, province},
	"GET /api/v1/reports/staffing":                      {supervisor, province, admin},
	"GET /api/v1/schools/:id/staffing/:year":            {supervisor, province, admin},
	"PUT /api/v1/schools/:id/staffing/:year":            {supervisor, admin},
	"GET /api/v1/ledger/export":                         {counselor, supervisor, province},
	"GET /api/v1/students/:id/destination":              {counselor, supervisor, province},
	"PUT /api/v1/students/:id/destination":              {student, counselor, supervisor},
	"POST /api/v1/students/:id/destination/verify":      {supervisor},
	"GET /api/v1/students/:id/handover":                 {counselor, supervisor, province},
	"POST /api/v1/students/:id/handover":                {counselor, supervisor},
	"POST /api/v1/students/:id/handover/acknowledge":    {counselor, supervisor},
	"GET /api/v1/me/file":                               {student},
	"GET /api/v1/me/plan":                               {student},
	"GET /api/v1/me/ledger":                             {student},
	"GET /api/v1/me/destination":                        {student},
	"GET /api/v1/audit":                                 {supervisor, admin},

	"GET /api/v1/escalations":                  {counselor, supervisor, province},
	"POST /api/v1/escalations/:id/acknowledge": {counselor, supervisor, province},
	"POST /api/v1/escalations/:id/resolve":     {counselor, supervisor, province},
	"GET /api/v1/notifications":                everyone,
	"POST /api/v1/notifications/:id/read":      everyone,
	"GET /api/v1/settings":                     {admin},
	"PUT /api/v1/settings":                     {admin},

	"POST /api/v1/bases":                               {admin},
	"GET /api/v1/bases":                                {admin},
	"GET /api/v1/bases/:id":                            {admin},
	"PATCH /api/v1/bases/:id":                          {admin},
	"POST /api/v1/cohorts":                             {admin},
	"GET /api/v1/cohorts":                              {counselor, supervisor, admin, base},
	"GET /api/v1/cohorts/:id":                          {counselor, supervisor, admin, base},
	"PATCH /api/v1/cohorts/:id":                        {admin},
	"POST /api/v1/cohorts/:id/build":                   {admin},
	"GET /api/v1/cohorts/:id/roster":                   {counselor, supervisor, admin, base},
	"GET /api/v1/cohorts/:id/summary":                  {counselor, supervisor, admin, base},
	"GET /api/v1/cohorts/:id/deliveries":               {admin},
	"GET /api/v1/places/:id":                           {student, counselor, supervisor, admin, base},
	"POST /api/v1/places/:id/withdraw":                 {counselor, supervisor},
	"POST /api/v1/places/:id/confirm":                  {student},
	"POST /api/v1/places/:id/decline":                  {student},
	"POST /api/v1/places/:id/attend":                   {base},
	"POST /api/v1/places/:id/complete":                 {base},
	"GET /api/v1/me/roster":                            {student},
	"GET /api/v1/students/:id/training":                {counselor, supervisor, province},
	"POST /dev/roster-webhook/:id":                     nil, // development only
	"GET /dev/roster-webhook/:id":                      {admin},
	"GET /api/v1/notification-settings":                {counselor, supervisor, province},
	"PUT /api/v1/notification-settings/preferences":    {counselor, supervisor, province},
	"PUT /api/v1/notification-settings/school":         {supervisor},
	"POST /api/v1/notification-channels":               {counselor, supervisor, province},
	"DELETE /api/v1/notification-channels/:id":         {counselor, supervisor, province},
	"POST /api/v1/notification-channels/:id/test":      {counselor, supervisor, province},
	"GET /api/v1/notification-deliveries":              {admin},
	"GET /settings/notifications":                      {counselor, supervisor, province},
	"POST /settings/notifications/preferences":         {counselor, supervisor, province},
	"POST /settings/notifications/school":              {supervisor},
	"POST /settings/notifications/channels":            {counselor, supervisor, province},
	"POST /settings/notifications/channels/:id/test":   {counselor, supervisor, province},
	"POST /settings/notifications/channels/:id/remove": {counselor, supervisor, province},
	"GET /admin/deliveries":                            {admin},
	"POST /dev/webhook/send":                           nil, // development only
	"GET /dev/webhook":                                 everyone,

	"GET /":         nil,
	"GET /login":    nil,
	"POST /login":   nil,
	"POST /logout":  nil,
	"GET /static/*": nil,

	"GET /notifications":           everyone,
	"POST /notifications/:id/read": everyone,

	"POST /my/plan/acknowledge":                  {student},
	"POST /my/destination":                       {student},
	"GET /escalations":                           {counselor, supervisor, province},
	"POST /escalations/:id/acknowledge":          {counselor, supervisor, province},
	"POST /escalations/:id/resolve":              {counselor, supervisor, province},
	"GET /review":                                {counselor, supervisor, province},
	"GET /counselors":                            {supervisor},
	"POST /counselors/reassign":                  {supervisor},
	"GET /verify":                                {supervisor},
	"POST /verify/destinations/:id":              {supervisor},
	"POST /verify/hardships/:id/:hid":            {supervisor},
	"GET /reports":                               {counselor, supervisor, province},
	"GET /reports/export":                        {counselor, supervisor, province},
	"GET /reports/snapshots":                     {supervisor, province},
	"GET /reports/snapshots/export":              {supervisor, province},
	"GET /reports/snapshots/:id":                 {supervisor, province},
	"GET /reports/snapshots/:id/export":          {supervisor, province},
	"GET /reports/staffing":                      {supervisor, province, admin},
	"POST /reports/staffing":                     {supervisor, admin},
	"GET /ledger/export":                         {counselor, supervisor, province},
	"GET /admin/users/new":                       {admin},
	"POST /admin/users":                          {admin},
	"GET /admin/users/:id":                       {admin},
	"POST /admin/users/:id":                      {admin},
	"POST /admin/users/:id/password":             {admin},
	"POST /admin/users/:id/disabled":             {admin},
	"GET /admin/schools":                         {admin},
	"POST /admin/schools":                        {admin},
	"GET /admin/schools/:id":                     {admin},
	"POST /admin/schools/:id/departments":        {admin},
	"GET /admin/settings":                        {admin},
	"POST /admin/settings":                       {admin},
	"GET /students/new":                          {counselor, supervisor},
	"POST /students":                             {counselor, supervisor},
	"GET /students/:id":                          {counselor, supervisor, province},
	"POST /students/:id/unmask":                  {counselor, supervisor},
	"GET /students/:id/hardships/new":            {counselor, supervisor},
	"POST /students/:id/hardships":               {counselor, supervisor},
	"GET /students/:id/plan/edit":                {counselor, supervisor},
	"POST /students/:id/plan":                    {counselor, supervisor},
	"GET /students/:id/plan/revisions/:n":        {counselor, supervisor, province},
	"GET /students/:id/plan/diff":                {counselor, supervisor, province},
	"GET /students/:id/ledger/new":               {counselor, supervisor},
	"POST /students/:id/ledger":                  {counselor, supervisor},
	"GET /students/:id/ledger/:seq/correct":      {counselor, supervisor},
	"POST /students/:id/ledger/:seq/corrections": {counselor, supervisor},
	"GET /students/:id/destination/edit":         {student, counselor, supervisor},
	"POST /students/:id/destination":             {student, counselor, supervisor},
	"POST /students/:id/destination/verify":      {supervisor},
	"GET /students/:id/handover":                 {counselor, supervisor},
	"POST /students/:id/handover":                {counselor, supervisor},
	"POST /students/:id/handover/acknowledge":    {counselor, supervisor},
	"GET /students/:id/account":                  {counselor, supervisor},
	"POST /students/:id/account":                 {counselor, supervisor},
	"POST /students/:id/account/password":        {counselor, supervisor},
	"GET /contacts/group":                        {counselor, supervisor},
	"POST /contacts/group":                       {counselor, supervisor},
	"GET /import":                                {counselor, supervisor},
	"POST /import":                               {counselor, supervisor},

	"GET /admin/bases":            {admin},
	"POST /admin/bases":           {admin},
	"GET /admin/bases/:id":        {admin},
	"POST /admin/bases/:id":       {admin},
	"GET /cohorts":                {counselor, supervisor, admin, base},
	"GET /cohorts/new":            {admin},
	"POST /cohorts":               {admin},
	"GET /cohorts/:id":            {counselor, supervisor, admin, base},
	"GET /cohorts/:id/edit":       {admin},
	"POST /cohorts/:id":           {admin},
	"POST /cohorts/:id/state":     {admin},
	"GET /cohorts/:id/deliveries": {admin},
	"GET /cohorts/:id/export":     {counselor, supervisor, admin, base},
	"POST /places/:id/withdraw":   {counselor, supervisor},
	"POST /places/:id/attend":     {base},
	"POST /places/:id/complete":   {base},
	"POST /places/:id/confirm":    {student},
	"POST /places/:id/decline":    {student},
}

var (
	student    = bangfu.RoleStudent
	counselor  = bangfu.RoleCounselor
	supervisor = bangfu.RoleSupervisor
	province   = bangfu.RoleProvince
	admin      = bangfu.RoleAdmin
	base       = bangfu.RoleBase
	everyone   = bangfu.Roles
)

// public routes answer anyone; the rest need a token.
var public = map[string]bool{
	"GET /": true, "GET /login": true, "POST /login": true, "POST /logout": true, "GET /static/*": true,
	"GET /healthz": true, "GET /readyz": true, "GET /.well-known/jwks.json": true,
	"POST /api/v1/auth/login": true, "POST /api/v1/auth/refresh": true,
	"POST /dev/roster-webhook/:id": true,
	"POST /dev/webhook/send":       true,
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

	for _, r := range env.App.Router.Routes() {
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

// TestRecordRules walks every route about one graduate with actors in each
// relation to that graduate: a role the route refuses is 403; a graduate
// the actor may not see is 404 (never 403, so existence is not revealed);
// otherwise the request passes both checks.
func TestRecordRules(t *testing.T) {
	t.Parallel()
	env := apptest.New(t)
	ctx := t.Context()
	school, other := env.MustSchool(t), env.MustSchool(t)
	d1, d2 := env.MustDepartment(t, school.ID), env.MustDepartment(t, school.ID)
	assigned := env.MustUser(t, bangfu.RoleCounselor, &school.ID)
	supervisor := env.MustUser(t, bangfu.RoleSupervisor, &school.ID)
	idNumber := env.IDNumber()
	env.NeverShow(idNumber) // on any route, to anyone
	st := env.MustStudent(t, assigned, graduate.Input{DepartmentID: &d1.ID, IDNumber: idNumber, Accommodations: "轮椅通道"})
	env.NeverShow("轮椅通道")
	neighbour := env.MustStudent(t, assigned)
	own, err := env.App.Graduates.CreateAccount(ctx, env.App.Directory, assigned.Actor(), st.ID, graduate.AccountInput{Username: "own.student", Password: apptest.Password})
	require.NoError(t, err)
	otherStudent, err := env.App.Graduates.CreateAccount(ctx, env.App.Directory, assigned.Actor(), neighbour.ID, graduate.AccountInput{Username: "other.student", Password: apptest.Password})
	require.NoError(t, err)
	deptSupervisor, err := env.App.Directory.CreateUser(ctx, bangfu.Actor{}, directory.UserInput{Username: "dept.supervisor", Role: bangfu.RoleSupervisor,
		SchoolID: &school.ID, DepartmentID: &d2.ID, Password: apptest.Password})
	require.NoError(t, err)
	h, err := env.App.Graduates.AddHardship(ctx, assigned.Actor(), st.ID, graduate.HardshipInput{Category: "dibao", EvidenceType: "低保证", IssuingAuthority: "民政局"})
	require.NoError(t, err)
	_, err = env.App.Plans.Put(ctx, assigned.Actor(), st.ID, nil, plan.Input{Goals: []string{"就业"}, CadenceDays: 7})
	require.NoError(t, err)
	_, err = env.App.Ledger.Append(ctx, assigned.Actor(), st.ID, ledger.Input{Kind: "note", OccurredAt: env.Clock.Now(), Summary: "建档"})
	require.NoError(t, err)
	_, err = env.App.Destinations.Put(ctx, assigned.Actor(), st.ID, nil, destination.Input{Code: "70"})
	require.NoError(t, err)

	actors := []struct {
		name   string
		user   directory.User
		hidden bool
	}{
		{"own student", own, false},
		{"another student", otherStudent, true},
		{"assigned counselor", assigned, false},
		{"counselor of the same school", env.MustUser(t, bangfu.RoleCounselor, &school.ID), true},
		{"supervisor of the school", supervisor, false},
		{"supervisor of another department", deptSupervisor, true},
		{"supervisor of another school", env.MustUser(t, bangfu.RoleSupervisor, &other.ID), true},
		{"province", env.MustUser(t, bangfu.RoleProvince, nil), false},
		{"admin", env.MustUser(t, bangfu.RoleAdmin, nil), true},
	}
	path := strings.NewReplacer(":id", strconv.FormatInt(st.ID, 10), ":hid", strconv.FormatInt(h.ID, 10), ":n", "1", ":seq", "1")
	for _, r := range env.App.Router.Routes() {
		if !strings.HasPrefix(r.Path, "/api/v1/students/:id") {
			continue
		}
		key := r.Method + " " + r.Path
		t.Run(key, func(t *testing.T) {
			for _, ac := range actors {
				resp := env.Do(t, apptest.Call{Method: r.Method, Path: path.Replace(r.Path), Token: env.Token(t, ac.user), Unchecked: true,
					Body: map[string]any{}, Header: map[string]string{"If-Match": `"1"`}})
				switch {
				case !slices.Contains(allowed[key], ac.user.Role):
					require.Equal(t, http.StatusForbidden, resp.Status, "%s: %s", ac.name, resp.Body)
				case ac.hidden:
					require.Equal(t, http.StatusNotFound, resp.Status, "%s: %s", ac.name, resp.Body)
				default:
					require.NotContains(t, []int{http.StatusUnauthorized, http.StatusForbidden, http.StatusNotFound}, resp.Status, "%s: %s", ac.name, resp.Body)
				}
			}
		})
	}
}

// TestUnknownQueryParametersAreRefused: a misspelt or unsupported filter is
// refused with 400 naming it, on every GET of the API, rather than
// silently ignored (which would show more than was asked for).
func TestUnknownQueryParametersAreRefused(t *testing.T) {
	t.Parallel()
	env := apptest.New(t)
	school := env.MustSchool(t)
	counselorUser := env.MustUser(t, counselor, &school.ID)
	st := env.MustStudent(t, counselorUser)
	users := map[bangfu.Role]directory.User{counselor: counselorUser}
	for _, role := range bangfu.Roles {
		if _, ok := users[role]; !ok {
			var sch *int64
			if role.NeedsSchool() {
				sch = &school.ID
			}
			users[role] = env.MustUser(t, role, sch)
		}
	}
	acc, err := env.App.Graduates.CreateAccount(t.Context(), env.App.Directory, counselorUser.Actor(), st.ID,
		graduate.AccountInput{Username: "query.student", Password: apptest.Password})
	require.NoError(t, err)
	users[student] = acc
	path := strings.NewReplacer(":id", strconv.FormatInt(st.ID, 10), ":hid", "1", ":seq", "1", ":n", "1")
	for _, r := range env.App.Router.Routes() {
		key := r.Method + " " + r.Path
		if r.Method != http.MethodGet || !strings.HasPrefix(r.Path, "/api/v1/") {
			continue
		}
		t.Run(key, func(t *testing.T) {
			roles := allowed[key]
			if key == "GET /api/v1/students/:id" || strings.HasPrefix(key, "GET /api/v1/students/:id/") {
				roles = []bangfu.Role{counselor} // the one who sees st
			}
			require.NotEmpty(t, roles)
			u := users[roles[0]]
			resp := env.Do(t, apptest.Call{Method: http.MethodGet, Path: path.Replace(r.Path) + "?counselor_idd=9", Token: env.Token(t, u), Unchecked: true})
			require.Equal(t, http.StatusBadRequest, resp.Status, "%s", resp.Body)
			code, fields := resp.Error(t)
			require.Equal(t, bangfu.EINVALID, code)
			require.Equal(t, "is not a parameter of this request", fields["counselor_idd"])
		})
	}
}
