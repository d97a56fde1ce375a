package httpapi_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/bangfu/bangfu"
	"github.com/bangfu/bangfu/internal/apptest"
	"github.com/bangfu/bangfu/internal/auth"
	"github.com/bangfu/bangfu/internal/directory"
	"github.com/bangfu/bangfu/internal/graduate"
	"github.com/bangfu/bangfu/internal/http/router"
	"github.com/bangfu/bangfu/internal/ledger"
	"github.com/bangfu/bangfu/internal/notify"
	"github.com/bangfu/bangfu/internal/plan"
	"github.com/bangfu/bangfu/internal/policy"
)

// hostileWorld is a school with one of everything, so that every route
// has a record to act on, and a user of every role.
type hostileWorld struct {
	env     *apptest.Env
	school  directory.School
	users   map[bangfu.Role]directory.User
	student graduate.Student
	// fresh has no account yet: the account route acts on it.
	fresh                graduate.Student
	hardshipID, escID    int64
	notificationID       int64
	refreshToken, userID string
	// channelID is the counselor's 企业微信 channel (to a closed local port).
	channelID int64
}

func newHostileWorld(t *testing.T) *hostileWorld {
	t.Helper()
	env := apptest.New(t)
	// Lockouts would stop hostile logins before they reach the database.
	env.App.Auth.Throttle = auth.ThrottlePolicy{AccountFailures: 1 << 30, IPFailures: 1 << 30, Window: time.Minute, Lockout: time.Minute}
	ctx := t.Context()
	w := &hostileWorld{env: env, school: env.MustSchool(t), users: map[bangfu.Role]directory.User{}}
	for _, role := range bangfu.Roles {
		if role == bangfu.RoleStudent {
			continue
		}
		var sch *int64
		if role.NeedsSchool() {
			sch = &w.school.ID
		}
		w.users[role] = env.MustUser(t, role, sch)
	}
	c := w.users[bangfu.RoleCounselor]
	w.student = env.MustStudent(t, c)
	active := "active"
	st, err := env.App.Graduates.Update(ctx, c.Actor(), w.student.ID, w.student.Version, graduate.Patch{Status: &active})
	require.NoError(t, err)
	w.student = st
	w.fresh = env.MustStudent(t, c)
	acc, err := env.App.Graduates.CreateAccount(ctx, env.App.Directory, c.Actor(), st.ID, graduate.AccountInput{Username: "hostile.student", Password: apptest.Password})
	require.NoError(t, err)
	w.users[bangfu.RoleStudent] = acc
	h, err := env.App.Graduates.AddHardship(ctx, c.Actor(), st.ID, graduate.HardshipInput{Category: "dibao", EvidenceType: "低保证", IssuingAuthority: "民政局"})
	require.NoError(t, err)
	w.hardshipID = h.ID
	_, err = env.App.Plans.Put(ctx, c.Actor(), st.ID, nil, plan.Input{Goals: []string{"就业"}, CadenceDays: 7})
	require.NoError(t, err)
	_, err = env.App.Ledger.Append(ctx, c.Actor(), st.ID, ledger.Input{Kind: "note", OccurredAt: env.Clock.Now(), Summary: "建档"})
	require.NoError(t, err)
	// Two weeks of quiet raise a level-1 escalation and notify the counselor.
	env.Clock.Set(apptest.Start.AddDate(0, 0, 14).Add(time.Hour))
	require.NoError(t, env.App.DB.InTx(ctx, func(tx pgx.Tx) error {
		_, err := env.App.SweepWorker().Sweep(ctx, tx)
		return err
	}))
	require.NoError(t, env.App.DB.Pool.QueryRow(ctx, `SELECT id FROM escalations WHERE student_id = $1 AND level = 1`, st.ID).Scan(&w.escID))
	require.NoError(t, env.App.DB.Pool.QueryRow(ctx, `SELECT id FROM notifications WHERE user_id = $1 LIMIT 1`, c.ID).Scan(&w.notificationID))
	sess, err := env.App.Auth.Login(ctx, c.Username, apptest.Password, "")
	require.NoError(t, err)
	w.refreshToken = sess.RefreshToken
	w.userID = strconv.FormatInt(w.users[bangfu.RoleProvince].ID, 10)
	ch, err := env.App.Notify.AddChannel(ctx, c.Actor(), notify.ChannelInput{Kind: notify.WeCom, Label: "辅导员群", URL: closedWebhook})
	require.NoError(t, err)
	w.channelID = ch.ID
	return w
}

// closedWebhook is a webhook address on which nothing listens: tests fail
// at once, and nothing leaves the machine.
const closedWebhook = "http://127.0.0.1:1/cgi-bin/webhook/send?key=hostile"

// path fills a route's parameters with records of the world.
func (w *hostileWorld) path(route string) string {
	id := strconv.FormatInt(w.student.ID, 10)
	switch {
	case strings.HasPrefix(route, "/api/v1/users/"):
		id = w.userID
	case strings.HasPrefix(route, "/api/v1/schools/"):
		id = strconv.FormatInt(w.school.ID, 10)
	case strings.HasPrefix(route, "/api/v1/escalations/"):
		id = strconv.FormatInt(w.escID, 10)
	case strings.HasPrefix(route, "/api/v1/notifications/"):
		id = strconv.FormatInt(w.notificationID, 10)
	case strings.HasPrefix(route, "/api/v1/notification-channels/"), strings.HasPrefix(route, "/settings/notifications/channels/"):
		id = strconv.FormatInt(w.channelID, 10)
	}
	if strings.HasSuffix(route, "/account") {
		id = strconv.FormatInt(w.fresh.ID, 10)
	}
	if route == "/dev/webhook/send" {
		return route + "?key=hostile" // the stand-in bot's key, as in a webhook address
	}
	return strings.NewReplacer(":id", id, ":hid", strconv.FormatInt(w.hardshipID, 10), ":seq", "1", ":n", "1").Replace(route)
}

// actor returns a user whose role the route allows and who may act on the
// world's records.
func (w *hostileWorld) actor(t *testing.T, r routeInfo) directory.User {
	t.Helper()
	if r.Action == policy.Public {
		return directory.User{}
	}
	for _, role := range []bangfu.Role{bangfu.RoleCounselor, bangfu.RoleSupervisor, bangfu.RoleAdmin, bangfu.RoleStudent, bangfu.RoleProvince, bangfu.RoleBase} {
		if policy.Allowed(role, r.Action) {
			return w.users[role]
		}
	}
	t.Fatalf("no role may call %s %s", r.Method, r.Path)
	return directory.User{}
}

type routeInfo struct {
	Method, Path string
	Action       policy.Action
	Page         bool
}

// validBodies are bodies that each write route accepts, so that a hostile
// value in one field meets every check a real request meets, down to the
// database. A write route missing here is attacked through the field names
// of its request schema in docs/openapi.yaml instead.
func (w *hostileWorld) validBodies() map[string]any {
	return map[string]any{
		"POST /api/v1/auth/login":   map[string]any{"username": w.users[bangfu.RoleCounselor].Username, "password": "wrong password"},
		"POST /api/v1/auth/refresh": map[string]any{"refresh_token": w.refreshToken},
		"POST /api/v1/auth/logout":  map[string]any{"refresh_token": "not a token"},
		"POST /api/v1/users": map[string]any{"username": "hostile.user", "display_name": "某人", "role": "counselor",
			"school_id": w.school.ID, "email": "a@example.edu.cn", "password": "a long password"},
		"PATCH /api/v1/users/:id":              map[string]any{"display_name": "省厅", "email": "p@example.gov.cn"},
		"POST /api/v1/schools":                 map[string]any{"code": "4144010001", "name": "某学院", "region": "广州"},
		"POST /api/v1/schools/:id/departments": map[string]any{"name": "机电系"},
		"POST /api/v1/students": map[string]any{"student_number": "2026999001", "name": "张三", "id_number": w.env.IDNumber(),
			"major": "机电", "education_level": "benke", "graduation_year": 2026, "phone": "13800138000", "email": "z@example.com",
			"intention": map[string]any{"industry": "制造", "region": "广州", "job_type": "技术"}, "skills": []any{"CAD"},
			"certificates": []any{"电工证"}, "accommodations": "无", "consent": true},
		"PATCH /api/v1/students/:id": map[string]any{"name": "李四", "major": "电气", "graduation_year": 2026, "phone": "13900139000",
			"skills": []any{"PLC"}, "intention": map[string]any{"industry": "能源", "region": "深圳", "job_type": "运维"}},
		"POST /api/v1/students/:id/unmask":  map[string]any{"field": "id_number", "reason": "核实身份"},
		"POST /api/v1/students/:id/account": map[string]any{"username": "hostile.account", "password": "a long password"},
		"POST /api/v1/students/:id/hardships": map[string]any{"category": "disabled", "evidence_type": "残疾证",
			"issuing_authority": "残联", "certificate_no": "C123", "valid_until": "2027-12-31"},
		"POST /api/v1/students/:id/hardships/:hid/verify": map[string]any{"decision": "verified", "note": "材料齐全"},
		"PUT /api/v1/students/:id/plan": map[string]any{"goals": []any{"就业"}, "cadence_days": 14, "note": "更新",
			"measures": []any{map[string]any{"kind": "job_referral", "description": "推荐岗位", "owner": "辅导员", "due_on": "2026-08-01", "status": "planned"}}},
		"POST /api/v1/students/:id/plan/acknowledge": map[string]any{"revision": 1},
		"POST /api/v1/students/:id/ledger": map[string]any{"kind": "contact", "channel": "phone", "occurred_at": "2026-06-15T09:00:00+08:00",
			"summary": "电话联系", "next_step": "面试", "next_followup_on": "2026-06-20", "visibility": "shared"},
		"POST /api/v1/students/:id/ledger/:seq/corrections": map[string]any{"summary": "更正", "reason": "笔误"},
		"POST /api/v1/ledger/group": map[string]any{"student_ids": []any{w.student.ID}, "entry": map[string]any{"kind": "referral",
			"occurred_at": "2026-06-15T09:00:00+08:00", "summary": "招聘会",
			"referral": map[string]any{"employer": "某公司", "credit_code": "9144030071526726XG", "position": "技术员", "outcome": "面试"}}},
		"PUT /api/v1/students/:id/destination": map[string]any{"code": "10", "employer": "某公司", "credit_code": "9144030071526726XG",
			"position": "技术员", "region": "广州", "proof_kind": "employment_agreement", "proof_ref": "HT-1", "note": "已签约"},
		"PUT /api/v1/schools/:id/staffing/:year":   map[string]any{"staff": 3},
		"POST /api/v1/escalations/:id/acknowledge": map[string]any{"note": "在跟进"},
		"POST /api/v1/escalations/:id/resolve":     map[string]any{"note": "已联系"},
		"POST /login":                              map[string]any{"username": w.users[bangfu.RoleCounselor].Username, "password": "wrong password", "next": "/"},
		"POST /logout":                             map[string]any{},
		"POST /admin/bases": map[string]any{"name": "某培训基地", "host_school": "某大学", "contact.name": "张老师", "contact.phone": "020-1",
			"contact.email": "a@example.edu.cn", "webhook_url": "https://example.edu.cn/hook", "webhook_secret": "a secret of 16 chars"},
		"POST /cohorts": map[string]any{"base_id": 1, "name": "第一期", "mode": "online", "starts_on": "2026-07-01", "ends_on": "2026-07-08",
			"nomination_deadline": "2026-06-20", "capacity": 10, "target_year": 2026},
		"POST /students/:id/handover": map[string]any{"agency": "某公共就业服务中心", "agency_region": "广州", "handed_over_on": "2026-07-02",
			"shared_fields": "name", "note": "已电话告知"},
		"POST /students/:id/handover/acknowledge": map[string]any{"acknowledged_on": "2026-07-03", "acknowledged_by": "王老师", "reference": "R-1"},
		"PUT /api/v1/settings": map[string]any{"stall_days": []any{14, 21, 35}, "sweep_interval_minutes": 30, "default_cadence_days": 14,
			"referral_minimum": 3, "referral_window_days": 30, "evidence_warning_days": 30, "target_july": 0.7, "target_december": 0.9},
		"PUT /api/v1/notification-settings/preferences": map[string]any{"email_mode": "each", "quiet_start": "22:00", "quiet_end": "07:30"},
		"PUT /api/v1/notification-settings/school":      map[string]any{"digest_at": "08:00", "quiet_start": "22:00", "quiet_end": "07:30"},
		"POST /api/v1/notification-channels": map[string]any{"scope": "user", "kind": "dingtalk", "label": "钉钉群", "url": closedWebhook,
			"secret": "SEC0123456789abcdef0123", "digest": true, "urgent": false},
		"POST /settings/notifications/preferences": map[string]any{"version": 1, "email_mode": "off", "quiet_start": "21:00", "quiet_end": "08:00"},
		"POST /settings/notifications/school":      map[string]any{"version": 1, "digest_at": "07:45", "quiet_start": "21:00", "quiet_end": "08:00"},
		"POST /settings/notifications/channels": map[string]any{"scope": "user", "kind": "wecom", "label": "企业微信群", "url": closedWebhook,
			"secret": "", "digest": "on", "urgent": "on"},
		"POST /dev/webhook/send": map[string]any{"msgtype": "text", "text": map[string]any{"content": "【帮扶】测试"}},
	}
}

// etagOf is where a versioned write reads the version it edits.
var etagOf = map[string]string{
	"PATCH /api/v1/users/:id":                      "/api/v1/users/:id",
	"PATCH /api/v1/students/:id":                   "/api/v1/students/:id",
	"PUT /api/v1/students/:id/plan":                "/api/v1/students/:id/plan",
	"PUT /api/v1/students/:id/destination":         "/api/v1/students/:id/destination",
	"PUT /api/v1/settings":                         "/api/v1/settings",
	"POST /api/v1/students/:id/destination/verify": "/api/v1/students/:id/destination",

	"PUT /api/v1/notification-settings/preferences": "/api/v1/notification-settings",
	"PUT /api/v1/notification-settings/school":      "/api/v1/notification-settings",
}

// hostileValues replace one value of a valid body at a time.
var hostileValues = []any{
	"\x00", "a\x00b", "\u0007bell", "\u001b[31m", "\ufffe", strings.Repeat("长", 70_000), strings.Repeat("x", 3_000),
	json.Number("9223372036854775807"), json.Number("-9223372036854775808"), json.Number("2147483648"), json.Number("-2147483649"),
	json.Number("1e308"), json.Number("-1"), json.Number("0"), json.Number("1.5"), json.Number("99999999999999999999999"),
	true, nil, []any{}, map[string]any{}, []any{[]any{"x"}}, map[string]any{"\x00": 1},
	"0000-01-01", "9999-12-31", "2026-06-15", "-1", "9223372036854775808",
}

// hostileBodies replace the whole body.
var hostileBodies = []string{
	``, `null`, `[]`, `"x"`, `1`, `{}`, `{"a":`, `{"x":1}`, `{"\u0000":1}`, `[{}]`, "\xff\xfe{}", "{}\x00",
	`{"a":1}{"b":2}`, strings.Repeat(`[`, 100_000), `{"` + strings.Repeat("k", 100_000) + `":1}`,
	`{"username":"a","username":"b"}`, `{"id":1e999999}`,
}

// leaves returns the path of every value in v (a decoded JSON body).
func leaves(v any, path []any) [][]any {
	var out [][]any
	switch x := v.(type) {
	case map[string]any:
		out = append(out, path) // the object itself
		for k, e := range x {
			out = append(out, leaves(e, append(slices.Clone(path), k))...)
		}
	case []any:
		out = append(out, path)
		for i, e := range x {
			out = append(out, leaves(e, append(slices.Clone(path), i))...)
		}
	default:
		out = append(out, path)
	}
	return out
}

// replaced returns a copy of body with the value at path replaced by v.
func replaced(body any, path []any, v any) any {
	if len(path) == 0 {
		return v
	}
	switch x := body.(type) {
	case map[string]any:
		c := make(map[string]any, len(x))
		for k, e := range x {
			c[k] = e
		}
		c[path[0].(string)] = replaced(x[path[0].(string)], path[1:], v)
		return c
	case []any:
		c := slices.Clone(x)
		i := path[0].(int)
		c[i] = replaced(x[i], path[1:], v)
		return c
	}
	return v
}

// TestHostileBodies sends every write route, as a user it allows, bodies a
// valid request would never hold: control characters, strings far past any
// cap, numbers beyond 64 bits, wrong types, arrays for objects, broken
// JSON. None may be answered with a 5xx, and every API refusal must be the
// error envelope. The routes are the router's, so a new route is attacked
// as soon as it exists.
func TestHostileBodies(t *testing.T) {
	t.Parallel()
	w := newHostileWorld(t)
	env := w.env
	spec := apptest.RequestSchemas(t)
	bodies := w.validBodies()
	var requests int
	for _, rt := range env.App.Router.Routes() {
		r := routeInfo{Method: rt.Method, Path: rt.Path, Action: rt.Action, Page: rt.Kind == router.Page}
		if r.Method == http.MethodGet || r.Method == http.MethodHead || strings.HasPrefix(r.Path, "/admin/jobs") {
			continue
		}
		key := r.Method + " " + r.Path
		u := w.actor(t, r)
		var token string
		if u.ID != 0 {
			token = env.Token(t, u)
		}
		base, known := bodies[key]
		if !known {
			// Attack the fields the description names, one at a time.
			fields := map[string]any{}
			for _, name := range spec[key] {
				fields[name] = "x"
			}
			base = fields
		}
		send := func(body []byte, what string) {
			t.Helper()
			requests++
			hdr := map[string]string{}
			if src, ok := etagOf[key]; ok {
				resp := env.Do(t, apptest.Call{Method: http.MethodGet, Path: w.path(src), Token: env.Token(t, w.users[bangfu.RoleCounselor]), Unchecked: true})
				if key == "PUT /api/v1/settings" || key == "PATCH /api/v1/users/:id" {
					resp = env.Do(t, apptest.Call{Method: http.MethodGet, Path: w.path(src), Token: env.Token(t, w.users[bangfu.RoleAdmin]), Unchecked: true})
				}
				if tag := resp.Header.Get("ETag"); tag != "" {
					hdr["If-Match"] = tag
				}
			}
			ct := "application/json"
			if r.Page {
				ct = "application/x-www-form-urlencoded"
				body = formOf(body)
			}
			resp := env.Do(t, apptest.Call{Method: r.Method, Path: w.path(r.Path), Token: token, Body: body, ContentType: ct, Header: hdr, Unchecked: true})
			checkRefusal(t, r, resp, what)
			if what == "the valid body" {
				t.Logf("%s: valid body answered %d %.200s", key, resp.Status, resp.Body)
			}
		}
		t.Run(key, func(t *testing.T) {
			valid, err := json.Marshal(base)
			require.NoError(t, err)
			send(valid, "the valid body")
			for _, b := range hostileBodies {
				send([]byte(b), fmt.Sprintf("body %.40q", b))
			}
			for _, path := range leaves(base, nil) {
				for _, v := range hostileValues {
					b, err := json.Marshal(replaced(base, path, v))
					require.NoError(t, err)
					send(b, fmt.Sprintf("%v = %.40q", path, fmt.Sprint(v)))
				}
			}
		})
	}
	t.Logf("%d hostile requests", requests)
}

// TestHostilePathsAndQueries sends every route numbers beyond 32 and 64
// bits, negative and malformed ids in its path, and every GET route
// hostile values in each of its query parameters (and in others): none
// may be a 5xx.
func TestHostilePathsAndQueries(t *testing.T) {
	t.Parallel()
	w := newHostileWorld(t)
	env := w.env
	badIDs := []string{"9223372036854775807", "9223372036854775808", "2147483648", "4294967296", "-1", "0", "1e3", "%00", "x", "1.5", "%20%201"}
	badQuery := []string{"\x00", "a\x00", strings.Repeat("长", 5000), "9223372036854775807", "9223372036854775808", "2147483648",
		"-1", "0", "0000-01-01", "9999-12-31T00:00:00Z", "true", "[]", bangfu.EncodeCursor(1<<63 - 1), bangfu.EncodeCursor(1 << 31), bangfu.EncodeCursor(-5)}
	// Each route's own parameters (as docs/openapi.yaml describes them),
	// the pages' and one no route has.
	described := apptest.QueryParameters(t)
	var requests int
	for _, rt := range env.App.Router.Routes() {
		r := routeInfo{Method: rt.Method, Path: rt.Path, Action: rt.Action, Page: rt.Kind == router.Page}
		if strings.HasPrefix(r.Path, "/admin/jobs") || r.Path == "/static/*" {
			continue
		}
		u := w.actor(t, r)
		var token string
		if u.ID != 0 {
			token = env.Token(t, u)
		}
		call := func(path, what string) {
			t.Helper()
			requests++
			resp := env.Do(t, apptest.Call{Method: r.Method, Path: path, Token: token, Body: []byte(`{}`),
				Header: map[string]string{"If-Match": `"1"`}, Unchecked: true})
			checkRefusal(t, r, resp, what)
		}
		t.Run(r.Method+" "+r.Path, func(t *testing.T) {
			for _, name := range []string{":id", ":hid", ":seq", ":n"} {
				if !strings.Contains(r.Path, name) {
					continue
				}
				for _, bad := range badIDs {
					p := strings.Replace(r.Path, name, bad, 1)
					call(w.path(p), name+"="+bad)
				}
			}
			if r.Method != http.MethodGet {
				return
			}
			params := append([]string{"lang", "next", "cursor", "limit", "no_such_parameter"}, described[r.Method+" "+r.Path]...)
			for _, name := range params {
				for _, v := range badQuery {
					call(w.path(r.Path)+"?"+url.Values{name: {v}}.Encode(), fmt.Sprintf("?%s=%.30q", name, v))
				}
			}
		})
	}
	t.Logf("%d hostile requests", requests)
}

// checkRefusal fails t when resp is a 5xx, or an API error that is not the
// envelope with a known code.
func checkRefusal(t *testing.T, r routeInfo, resp *apptest.Response, what string) {
	t.Helper()
	if !assert.Less(t, resp.Status, 500, "%s %s with %s: %s", r.Method, r.Path, what, resp.Body) {
		return
	}
	if resp.Status < 400 || r.Page || strings.Contains(resp.Header.Get("Content-Type"), "text/html") {
		return
	}
	var env struct {
		Error *struct {
			Code    string            `json:"code"`
			Message string            `json:"message"`
			Fields  map[string]string `json:"fields"`
		} `json:"error"`
	}
	if !assert.NoError(t, json.Unmarshal(resp.Body, &env), "%s %s with %s: not JSON: %s", r.Method, r.Path, what, resp.Body) {
		return
	}
	if !assert.NotNil(t, env.Error, "%s %s with %s: no error envelope: %s", r.Method, r.Path, what, resp.Body) {
		return
	}
	assert.NotEmpty(t, env.Error.Code, "%s %s with %s: %s", r.Method, r.Path, what, resp.Body)
	assert.NotEmpty(t, env.Error.Message, "%s %s with %s: %s", r.Method, r.Path, what, resp.Body)
	assert.NotEqual(t, bangfu.EINTERNAL, env.Error.Code)
}

// formOf turns a JSON object into a form body (for page routes); other
// bodies are sent as they are.
func formOf(body []byte) []byte {
	var m map[string]any
	if json.Unmarshal(body, &m) != nil {
		return body
	}
	f := url.Values{}
	for k, v := range m {
		f.Set(k, fmt.Sprint(v))
	}
	return []byte(f.Encode())
}
