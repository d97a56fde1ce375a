package httpapi_test

import (
	"fmt"
	"net/http"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/bangfu/bangfu"
	"github.com/bangfu/bangfu/internal/apptest"
	"github.com/bangfu/bangfu/internal/config"
	"github.com/bangfu/bangfu/internal/directory"
)

// TestChannelAddresses: a webhook address is the kind's real endpoint over
// https — nothing else is called from the server, whoever asks — and the
// address and secret are never shown again.
func TestChannelAddresses(t *testing.T) {
	t.Parallel()
	env := apptest.New(t)
	school := env.MustSchool(t)
	token := env.Token(t, env.MustUser(t, bangfu.RoleCounselor, &school.ID))
	const wecom, ding = "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=693a91f6-7xxx-4bc4-97a0-0ec2sifa5aaa",
		"https://oapi.dingtalk.com/robot/send?access_token=f7e5b1c0d9a84e6b"
	const secret = "SEC0f1e2d3c4b5a69788796a5b4c3d2e1f0"
	env.NeverShow("693a91f6-7xxx-4bc4-97a0-0ec2sifa5aaa")
	env.NeverShow("f7e5b1c0d9a84e6b")
	env.NeverShow(secret)

	for name, tc := range map[string]struct {
		body  map[string]any
		field string
		want  string
	}{
		"http":           {map[string]any{"kind": "wecom", "url": "http://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=k"}, "url", "must be an https:// URL"},
		"another host":   {map[string]any{"kind": "wecom", "url": "https://qyapi.weixin.qq.com.evil.example/cgi-bin/webhook/send?key=k"}, "url", "must be a URL on qyapi.weixin.qq.com"},
		"internal host":  {map[string]any{"kind": "dingtalk", "url": "https://10.0.0.5/robot/send?access_token=t", "secret": secret}, "url", "must be a URL on oapi.dingtalk.com"},
		"wrong kind":     {map[string]any{"kind": "wecom", "url": ding}, "url", "must be a URL on qyapi.weixin.qq.com"},
		"another path":   {map[string]any{"kind": "wecom", "url": "https://qyapi.weixin.qq.com/cgi-bin/gettoken?key=k"}, "url", "must be the robot's webhook address, https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=…"},
		"no key":         {map[string]any{"kind": "wecom", "url": "https://qyapi.weixin.qq.com/cgi-bin/webhook/send"}, "url", "must be the robot's webhook address, https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=…"},
		"extra query":    {map[string]any{"kind": "wecom", "url": wecom + "&debug=1"}, "url", "must be the robot's webhook address, https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=…"},
		"user info":      {map[string]any{"kind": "wecom", "url": "https://a:b@qyapi.weixin.qq.com/cgi-bin/webhook/send?key=k"}, "url", "must not carry a user name or password"},
		"other port":     {map[string]any{"kind": "wecom", "url": "https://qyapi.weixin.qq.com:8443/cgi-bin/webhook/send?key=k"}, "url", "must be a URL on qyapi.weixin.qq.com"},
		"no secret":      {map[string]any{"kind": "dingtalk", "url": ding}, "secret", "is required: the robot's 加签 secret (SEC…), from its security settings"},
		"bad secret":     {map[string]any{"kind": "dingtalk", "url": ding, "secret": "letmein-letmein-letmein"}, "secret", "must be the 加签 secret shown by the robot, starting with SEC"},
		"wecom secret":   {map[string]any{"kind": "wecom", "url": wecom, "secret": secret}, "secret", "is only for 钉钉 robots: a 企业微信 bot has no signing secret"},
		"unknown kind":   {map[string]any{"kind": "feishu", "url": wecom}, "kind", "must be wecom or dingtalk"},
		"no label":       {map[string]any{"kind": "wecom", "url": wecom, "label": ""}, "label", "is required"},
		"scope of other": {map[string]any{"kind": "wecom", "url": wecom, "scope": "province"}, "scope", "must be user or school"},
	} {
		t.Run(name, func(t *testing.T) {
			if _, ok := tc.body["label"]; !ok {
				tc.body["label"] = "群"
			}
			resp := env.Post(t, "/api/v1/notification-channels", token, tc.body)
			require.Equal(t, http.StatusBadRequest, resp.Status, "%s", resp.Body)
			_, fields := resp.Error(t)
			require.Equal(t, tc.want, fields[tc.field], "%v", fields)
		})
	}

	resp := env.Post(t, "/api/v1/notification-channels", token, map[string]any{"kind": "wecom", "label": "辅导员群", "url": wecom})
	require.Equal(t, http.StatusCreated, resp.Status, "%s", resp.Body)
	ch := resp.Map(t)
	require.Equal(t, "qyapi.weixin.qq.com", ch["host"])
	require.Equal(t, true, ch["digest"])
	resp = env.Post(t, "/api/v1/notification-channels", token, map[string]any{"kind": "dingtalk", "label": "钉钉群", "url": ding, "secret": secret, "urgent": false})
	require.Equal(t, http.StatusCreated, resp.Status, "%s", resp.Body)
	require.Equal(t, false, resp.Map(t)["urgent"])
	settings := env.Get(t, "/api/v1/notification-settings", token)
	require.Equal(t, http.StatusOK, settings.Status)
	require.Len(t, settings.Map(t)["channels"], 2)

	for range 3 {
		require.Equal(t, http.StatusCreated, env.Post(t, "/api/v1/notification-channels", token, map[string]any{"kind": "wecom", "label": "群", "url": wecom}).Status)
	}
	resp = env.Post(t, "/api/v1/notification-channels", token, map[string]any{"kind": "wecom", "label": "第六个", "url": wecom})
	require.Equal(t, http.StatusBadRequest, resp.Status, "at most five")

	// Sealed at rest: neither the key nor the secret is in the table.
	var clear int
	require.NoError(t, env.App.DB.Pool.QueryRow(t.Context(), `SELECT count(*) FROM notify_channels
		WHERE position('693a91f6' in encode(url_sealed, 'escape')) > 0 OR position('SEC0f1e' in encode(coalesce(secret_sealed, ''), 'escape')) > 0`).Scan(&clear))
	require.Zero(t, clear)
}

// TestLocalWebhooksOnlyInDevelopment: with BANGFU_WEBHOOK_ALLOW_LOCAL off
// (always in prod), an address on this machine is refused like any other
// that is not the real endpoint, and the development bot does not exist.
func TestLocalWebhooksOnlyInDevelopment(t *testing.T) {
	t.Parallel()
	env := apptest.New(t, apptest.Options{Config: func(c *config.Config) { c.Env, c.WebhookAllowLocal = config.EnvProd, false }})
	school := env.MustSchool(t)
	token := env.Token(t, env.MustUser(t, bangfu.RoleCounselor, &school.ID))
	for _, u := range []string{"http://127.0.0.1:8080/dev/webhook/send?key=k", "https://localhost/cgi-bin/webhook/send?key=k", "http://[::1]:9/x"} {
		resp := env.Post(t, "/api/v1/notification-channels", token, map[string]any{"kind": "wecom", "label": "群", "url": u})
		require.Equal(t, http.StatusBadRequest, resp.Status, "%s: %s", u, resp.Body)
	}
	resp := env.Do(t, apptest.Call{Method: http.MethodPost, Path: "/dev/webhook/send?key=k", Body: `{"msgtype":"text","text":{"content":"x"}}`, Unchecked: true})
	require.Equal(t, http.StatusNotFound, resp.Status)
	resp = env.Do(t, apptest.Call{Method: http.MethodGet, Path: "/dev/webhook", Token: token, Unchecked: true})
	require.Equal(t, http.StatusNotFound, resp.Status)
}

// TestChannelsBelongToTheirOwner: a user's channels are theirs: another
// user's is not found, whatever their role; only a supervisor of the whole
// school sets its shared group and times.
func TestChannelsBelongToTheirOwner(t *testing.T) {
	t.Parallel()
	env := apptest.New(t)
	school, other := env.MustSchool(t), env.MustSchool(t)
	dept := env.MustDepartment(t, school.ID)
	owner := env.MustUser(t, bangfu.RoleCounselor, &school.ID)
	supervisor := env.MustUser(t, bangfu.RoleSupervisor, &school.ID)
	deptSupervisor, err := env.App.Directory.CreateUser(t.Context(), bangfu.Actor{}, directory.UserInput{Username: "dept.sup", Role: bangfu.RoleSupervisor,
		SchoolID: &school.ID, DepartmentID: &dept.ID, Password: apptest.Password})
	require.NoError(t, err)
	otherSupervisor := env.MustUser(t, bangfu.RoleSupervisor, &other.ID)
	url := "http://127.0.0.1:1/cgi-bin/webhook/send?key=k"

	resp := env.Post(t, "/api/v1/notification-channels", env.Token(t, owner), map[string]any{"kind": "wecom", "label": "我的群", "url": url})
	require.Equal(t, http.StatusCreated, resp.Status)
	mine := fmt.Sprint(resp.Map(t)["id"])
	resp = env.Post(t, "/api/v1/notification-channels", env.Token(t, supervisor), map[string]any{"scope": "school", "kind": "wecom", "label": "全校群", "url": url})
	require.Equal(t, http.StatusCreated, resp.Status, "%s", resp.Body)
	shared := fmt.Sprint(resp.Map(t)["id"])
	require.Equal(t, "school", resp.Map(t)["scope"])

	for _, u := range []directory.User{supervisor, otherSupervisor, env.MustUser(t, bangfu.RoleCounselor, &school.ID), env.MustUser(t, bangfu.RoleProvince, nil)} {
		tok := env.Token(t, u)
		require.Equal(t, http.StatusNotFound, env.Do(t, apptest.Call{Method: http.MethodDelete, Path: "/api/v1/notification-channels/" + mine, Token: tok}).Status, u.Username)
		require.Equal(t, http.StatusNotFound, env.Post(t, "/api/v1/notification-channels/"+mine+"/test", tok, nil).Status, u.Username)
	}
	for _, u := range []directory.User{owner, deptSupervisor, otherSupervisor} {
		require.Equal(t, http.StatusNotFound, env.Do(t, apptest.Call{Method: http.MethodDelete, Path: "/api/v1/notification-channels/" + shared, Token: env.Token(t, u)}).Status, u.Username)
	}
	resp = env.Post(t, "/api/v1/notification-channels", env.Token(t, deptSupervisor), map[string]any{"scope": "school", "kind": "wecom", "label": "系群", "url": url})
	require.Equal(t, http.StatusForbidden, resp.Status, "a department's supervisor does not set the school's group")
	resp = env.Do(t, apptest.Call{Method: http.MethodPut, Path: "/api/v1/notification-settings/school", Token: env.Token(t, deptSupervisor),
		Header: map[string]string{"If-Match": `"1"`}, Body: map[string]any{"digest_at": "07:00", "quiet_start": "22:00", "quiet_end": "07:30"}})
	require.Equal(t, http.StatusForbidden, resp.Status)
	s := env.Get(t, "/api/v1/notification-settings", env.Token(t, deptSupervisor)).Map(t)
	require.Nil(t, s["school"])

	// The school's settings: a time on five minutes, and versions.
	tok := env.Token(t, supervisor)
	put := func(version string, body map[string]any) *apptest.Response {
		return env.Do(t, apptest.Call{Method: http.MethodPut, Path: "/api/v1/notification-settings/school", Token: tok, Header: map[string]string{"If-Match": version}, Body: body})
	}
	resp = put(`"1"`, map[string]any{"digest_at": "07:07", "quiet_start": "22:00", "quiet_end": "07:30"})
	require.Equal(t, http.StatusBadRequest, resp.Status)
	resp = put(`"1"`, map[string]any{"digest_at": "07:00", "quiet_start": "23:00", "quiet_end": "06:00"})
	require.Equal(t, http.StatusOK, resp.Status, "%s", resp.Body)
	require.Equal(t, 2, resp.ETagVersion(t))
	require.Equal(t, http.StatusPreconditionFailed, put(`"1"`, map[string]any{"digest_at": "09:00", "quiet_start": "23:00", "quiet_end": "06:00"}).Status)
	var audited int
	require.NoError(t, env.App.DB.Pool.QueryRow(t.Context(), `SELECT count(*) FROM audit_log WHERE action = 'notify.school' AND school_id = $1`, school.ID).Scan(&audited))
	require.Equal(t, 2, audited, "the shared group's addition and the new times")

	require.Equal(t, http.StatusNoContent, env.Do(t, apptest.Call{Method: http.MethodDelete, Path: "/api/v1/notification-channels/" + mine, Token: env.Token(t, owner)}).Status)
	require.Equal(t, http.StatusNotFound, env.Do(t, apptest.Call{Method: http.MethodDelete, Path: "/api/v1/notification-channels/" + mine, Token: env.Token(t, owner)}).Status, "gone")
	var erased bool
	require.NoError(t, env.App.DB.Pool.QueryRow(t.Context(), `SELECT url_sealed IS NULL AND secret_sealed IS NULL FROM notify_channels WHERE id = $1`, mine).Scan(&erased))
	require.True(t, erased, "removing a channel erases its address")
}
