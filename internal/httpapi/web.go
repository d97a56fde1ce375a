package httpapi

import (
	"errors"
	"html/template"
	"io/fs"
	"net/http"
	"net/url"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/bangfu/bangfu"
	"github.com/bangfu/bangfu/internal/auth"
	"github.com/bangfu/bangfu/internal/directory"
	"github.com/bangfu/bangfu/internal/notify"
	"github.com/bangfu/bangfu/web"
)

// Browser sessions keep the access and refresh tokens in HttpOnly,
// SameSite=Strict cookies. A request authenticated by cookie that changes
// state must also pass the cross-origin check (Sec-Fetch-Site / Origin), so
// another site cannot ride the session (CSRF), including River UI's own
// API calls under /admin/jobs.
const (
	accessCookie  = "bangfu_access"
	refreshCookie = "bangfu_refresh"
	langCookie    = "bangfu_lang"
)

// sessionFromCookies verifies the access cookie; when it is missing or
// expired and a refresh cookie is present, it refreshes the session and
// sets new cookies. It returns false when there is no valid session.
func (s *Server) sessionFromCookies(c echo.Context) (bangfu.Actor, bool) {
	if ck, err := c.Cookie(accessCookie); err == nil && ck.Value != "" {
		if a, err := s.Tokens.Verify(ck.Value); err == nil {
			return a, true
		}
	}
	ck, err := c.Cookie(refreshCookie)
	if err != nil || ck.Value == "" {
		return bangfu.Actor{}, false
	}
	sess, err := s.Auth.Refresh(ctx(c), ck.Value)
	if err != nil {
		s.clearSession(c)
		return bangfu.Actor{}, false
	}
	s.setSession(c, sess)
	a, err := s.Tokens.Verify(sess.AccessToken)
	return a, err == nil
}

func (s *Server) setSession(c echo.Context, sess auth.Session) {
	secure := c.Scheme() == "https"
	c.SetCookie(&http.Cookie{Name: accessCookie, Value: sess.AccessToken, Path: "/", HttpOnly: true, Secure: secure,
		SameSite: http.SameSiteStrictMode, MaxAge: sess.ExpiresIn})
	c.SetCookie(&http.Cookie{Name: refreshCookie, Value: sess.RefreshToken, Path: "/", HttpOnly: true, Secure: secure,
		SameSite: http.SameSiteStrictMode, MaxAge: int(s.Config.RefreshTokenTTL.Seconds())})
}

func (s *Server) clearSession(c echo.Context) {
	for _, name := range []string{accessCookie, refreshCookie} {
		c.SetCookie(&http.Cookie{Name: name, Value: "", Path: "/", HttpOnly: true, SameSite: http.SameSiteStrictMode, MaxAge: -1})
	}
}

var crossOrigin = http.NewCrossOriginProtection()

// checkCrossOrigin refuses a state-changing request authenticated by cookie
// that a browser says came from another origin.
func checkCrossOrigin(c echo.Context) error {
	if err := crossOrigin.Check(c.Request()); err != nil {
		return bangfu.Errorf(bangfu.EFORBIDDEN, "Cross-origin request refused.")
	}
	return nil
}

// pageData is what every page template gets.
type pageData struct {
	Lang          string
	User          *directory.User
	Error         string
	Title         string
	Fields        map[string]string
	Username      string
	Next          string
	Notifications []notify.Notification
	dict          map[string]string
}

// T translates a page string.
func (p pageData) T(key string) string {
	if v, ok := p.dict[key]; ok {
		return v
	}
	return key
}

var dictionaries = map[string]map[string]string{
	"zh-CN": {
		"title": "帮扶 · 困难毕业生就业帮扶", "brand": "帮扶", "logout": "退出登录", "back": "返回首页",
		"login.heading": "登录", "login.username": "用户名", "login.password": "密码", "login.submit": "登录",
		"home.hello": "您好，", "home.role": "角色", "home.jobs": "后台任务（River）", "home.api": "我的账户（API）",
		"home.notifications": "通知", "home.none": "暂无通知。",
		"role.student": "毕业生", "role.counselor": "辅导员", "role.supervisor": "就业中心负责人", "role.province": "省级", "role.admin": "系统管理员",
		"forbidden.title": "无权访问", "forbidden": "您的角色无权访问此页面。",
		"login.failed": "用户名或密码错误。", "login.locked": "登录失败次数过多，请稍后再试。",
		"field.required": "必填",
	},
	"en": {
		"title": "bangfu · graduate employment assistance", "brand": "bangfu", "logout": "Log out", "back": "Back to start",
		"login.heading": "Log in", "login.username": "Username", "login.password": "Password", "login.submit": "Log in",
		"home.hello": "Hello,", "home.role": "Role", "home.jobs": "Background jobs (River)", "home.api": "My account (API)",
		"home.notifications": "Notifications", "home.none": "No notifications.",
		"role.student": "Graduate", "role.counselor": "Counselor", "role.supervisor": "Supervisor", "role.province": "Province", "role.admin": "Administrator",
		"forbidden.title": "Forbidden", "forbidden": "Your role may not open this page.",
		"login.failed": "Wrong username or password.", "login.locked": "Too many failed logins; try again later.",
		"field.required": "required",
	},
}

var templates = template.Must(template.ParseFS(web.Templates, "templates/*.html"))

// lang picks the page language: Chinese, unless English was chosen with
// ?lang=en (remembered in a cookie).
func lang(c echo.Context) string {
	switch q := c.QueryParam("lang"); q {
	case "en", "zh":
		c.SetCookie(&http.Cookie{Name: langCookie, Value: q, Path: "/", SameSite: http.SameSiteLaxMode, MaxAge: 365 * 24 * 3600})
		if q == "en" {
			return "en"
		}
		return "zh-CN"
	}
	if ck, err := c.Cookie(langCookie); err == nil && ck.Value == "en" {
		return "en"
	}
	return "zh-CN"
}

func newPage(c echo.Context) pageData {
	l := lang(c)
	return pageData{Lang: l, dict: dictionaries[l]}
}

func (s *Server) render(c echo.Context, status int, name string, p pageData) error {
	// Each page template defines "content"; clone so they don't clash.
	t, err := templates.Clone()
	if err == nil {
		_, err = t.ParseFS(web.Templates, "templates/"+name+".html")
	}
	if err != nil {
		return err
	}
	c.Response().Header().Set(echo.HeaderContentType, echo.MIMETextHTMLCharsetUTF8)
	c.Response().Header().Set("Cache-Control", "no-store")
	c.Response().WriteHeader(status)
	return t.ExecuteTemplate(c.Response(), "layout", p)
}

// home shows the login form, or the user's start page when logged in.
func (s *Server) home(c echo.Context) error {
	p := newPage(c)
	a, ok := bangfu.ActorFrom(ctx(c))
	if !ok {
		p.Next = safeNext(c.QueryParam("next"))
		return s.render(c, http.StatusOK, "login", p)
	}
	u, err := s.Directory.User(ctx(c), a.UserID)
	if err != nil {
		return err
	}
	p.User = &u
	l, err := s.Notify.List(ctx(c), a, true, bangfu.Page{Limit: 20})
	if err != nil {
		return err
	}
	p.Notifications = l.Items
	return s.render(c, http.StatusOK, "home", p)
}

// login handles the login form: on success it sets the session cookies and
// goes to next; otherwise it shows the form again with the problem.
func (s *Server) loginForm(c echo.Context) error {
	p := newPage(c)
	p.Username = strings.TrimSpace(c.FormValue("username"))
	p.Next = safeNext(c.FormValue("next"))
	sess, err := s.Auth.Login(ctx(c), p.Username, c.FormValue("password"), c.RealIP())
	if err != nil {
		var e *bangfu.Error
		if !errors.As(err, &e) {
			return err
		}
		status := statuses[e.Code]
		switch e.Code {
		case bangfu.EINVALID:
			p.Fields = map[string]string{}
			for f := range e.Fields {
				p.Fields[f] = p.T("field.required")
			}
		case bangfu.ETOOMANYREQUESTS:
			p.Error = p.T("login.locked")
		default:
			p.Error = p.T("login.failed")
		}
		return s.render(c, status, "login", p)
	}
	s.setSession(c, sess)
	next := p.Next
	if next == "" {
		next = "/"
	}
	return c.Redirect(http.StatusSeeOther, next)
}

func (s *Server) logoutForm(c echo.Context) error {
	if ck, err := c.Cookie(refreshCookie); err == nil && ck.Value != "" {
		if a, ok := bangfu.ActorFrom(ctx(c)); ok {
			if err := s.Auth.Logout(ctx(c), a, ck.Value); err != nil {
				return err
			}
		}
	}
	s.clearSession(c)
	return c.Redirect(http.StatusSeeOther, "/")
}

// safeNext keeps a post-login redirect on this site.
func safeNext(next string) string {
	u, err := url.Parse(next)
	if err != nil || next == "" || u.IsAbs() || u.Host != "" || !strings.HasPrefix(u.Path, "/") || strings.HasPrefix(next, "//") {
		return ""
	}
	return u.RequestURI()
}

// wantsHTML reports whether the client is a browser navigating to a page.
func wantsHTML(c echo.Context) bool {
	return strings.Contains(c.Request().Header.Get("Accept"), "text/html")
}

// pageError answers a browser's page request that failed authorization
// with a page instead of JSON: to the login form when not logged in, a
// forbidden page otherwise.
func (s *Server) pageError(c echo.Context, code string) error {
	if code == bangfu.EUNAUTHENTICATED {
		return c.Redirect(http.StatusSeeOther, "/?next="+url.QueryEscape(c.Request().URL.RequestURI()))
	}
	p := newPage(c)
	p.Title, p.Error = p.T("forbidden.title"), p.T("forbidden")
	return s.render(c, http.StatusForbidden, "error", p)
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
