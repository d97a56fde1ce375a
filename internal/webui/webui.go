// Package webui is bangfu's pages: server-rendered html/template pages for
// every role, in Chinese by default. Its handlers call the same domain
// services as the JSON API (internal/httpapi) — no second copy of a rule, a
// scope check or a query — and every page route is registered on the same
// router, behind the same policy table. Forms work without JavaScript.
package webui

import (
	"bytes"
	"fmt"
	"html/template"
	"io/fs"
	"log/slog"
	"net/http"
	"path"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/bangfu/bangfu"
	"github.com/bangfu/bangfu/internal/audit"
	"github.com/bangfu/bangfu/internal/auth"
	"github.com/bangfu/bangfu/internal/destination"
	"github.com/bangfu/bangfu/internal/directory"
	"github.com/bangfu/bangfu/internal/escalation"
	"github.com/bangfu/bangfu/internal/graduate"
	"github.com/bangfu/bangfu/internal/handover"
	"github.com/bangfu/bangfu/internal/http/request"
	"github.com/bangfu/bangfu/internal/http/response"
	"github.com/bangfu/bangfu/internal/http/router"
	"github.com/bangfu/bangfu/internal/http/session"
	"github.com/bangfu/bangfu/internal/ledger"
	"github.com/bangfu/bangfu/internal/notify"
	"github.com/bangfu/bangfu/internal/plan"
	"github.com/bangfu/bangfu/internal/report"
	"github.com/bangfu/bangfu/internal/roster"
	"github.com/bangfu/bangfu/internal/settings"
	"github.com/bangfu/bangfu/web"
)

// Deps are the services the pages call: the same ones the API calls.
type Deps struct {
	Logger       *slog.Logger
	Clock        bangfu.Clock
	Sessions     *session.Manager
	Auth         *auth.Service
	Directory    *directory.Service
	Graduates    *graduate.Service
	Plans        *plan.Service
	Ledger       *ledger.Service
	Destinations *destination.Service
	Escalations  *escalation.Service
	Reports      *report.Service
	Settings     *settings.Store
	Audit        *audit.Service
	Notify       *notify.Service
	Roster       *roster.Service
	Handovers    *handover.Service
	// Receiver, when set (development only), is the stand-in 企业微信 bot
	// whose messages /dev/webhook shows.
	Receiver *notify.Receiver
}

// UI holds the pages' handlers, their parsed templates and catalogues.
type UI struct {
	Deps
	r        *router.Router
	pages    map[string]*template.Template
	cats     map[string]Catalogue
	problems map[string]*problemCatalogue
}

// Mount parses the templates and catalogues (once, at start-up) and
// registers every page route on r; r's errors on page routes are then
// rendered as pages.
func Mount(r *router.Router, d Deps) error {
	ui := &UI{Deps: d, r: r}
	var err error
	if ui.cats, err = loadCatalogues(); err != nil {
		return fmt.Errorf("message catalogues: %w", err)
	}
	if ui.pages, err = parseTemplates(); err != nil {
		return fmt.Errorf("page templates: %w", err)
	}
	ui.problems = map[string]*problemCatalogue{}
	for _, lang := range Languages {
		if ui.problems[lang], err = loadProblems(lang); err != nil {
			return err
		}
	}
	r.Pages = ui
	ui.routes()
	return nil
}

// parseTemplates parses every page with the layout and the partials.
func parseTemplates() (map[string]*template.Template, error) {
	files, err := fs.Glob(web.Templates, "templates/*.html")
	if err != nil {
		return nil, err
	}
	shared := []string{"templates/layout.html"}
	var pages []string
	for _, f := range files {
		switch name := path.Base(f); {
		case name == "layout.html":
		case strings.HasPrefix(name, "_"):
			shared = append(shared, f)
		default:
			pages = append(pages, f)
		}
	}
	out := map[string]*template.Template{}
	for _, p := range pages {
		t, err := template.New(path.Base(p)).Funcs(funcs).ParseFS(web.Templates, append(shared, p)...)
		if err != nil {
			return nil, err
		}
		out[strings.TrimSuffix(path.Base(p), ".html")] = t
	}
	return out, nil
}

// recordPage starts the page of the record the path's :id names, for the
// logged-in actor, after refusing any query parameter: the opening of every
// page about one record (a file, a base, a user…).
func (ui *UI) recordPage(c echo.Context) (int64, *Page, error) {
	id, err := request.PathID(c, "id")
	if err != nil {
		return 0, nil, err
	}
	if _, err := request.Params(c); err != nil {
		return 0, nil, err
	}
	p, err := ui.userPage(c)
	return id, p, err
}

// funcs are the templates' functions besides Page's methods.
var funcs = template.FuncMap{
	"add": func(a, b int) int { return a + b },
	// list makes a slice for range in a template.
	"list": func(v ...any) []any { return v },
}

// newPage starts a page in the request's language, taking the flash
// message the previous request left.
func (ui *UI) newPage(c echo.Context) *Page {
	lang := language(c)
	p := &Page{Lang: lang, cat: ui.cats[lang], problems: ui.problems[lang]}
	p.Path = c.Request().URL.Path
	if key := takeFlash(c); key != "" {
		if _, ok := p.cat[key]; ok {
			p.Flash = p.T(key)
		}
	}
	return p
}

// userPage starts a page for the logged-in actor: their name, their
// navigation and how many notifications they have not read.
func (ui *UI) userPage(c echo.Context) (*Page, error) {
	a := request.Actor(c)
	u, err := ui.Directory.User(request.Context(c), a.UserID)
	if err != nil {
		return nil, err
	}
	p := ui.newPage(c)
	p.User = &u
	p.Actor = a
	p.Nav = navFor(a.Role, p.Path)
	if p.Unread, err = ui.Notify.Unread(request.Context(c), a); err != nil {
		return nil, err
	}
	return p, nil
}

// render writes page name with p and status. It renders into a buffer, so
// a template error becomes an error page rather than half a page.
func (ui *UI) render(c echo.Context, status int, name string, p *Page) error {
	t, ok := ui.pages[name]
	if !ok {
		return fmt.Errorf("no page template %q", name)
	}
	var buf bytes.Buffer
	if err := t.ExecuteTemplate(&buf, "layout", p); err != nil {
		return fmt.Errorf("render %s: %w", name, err)
	}
	c.Response().Header().Set(echo.HeaderContentType, echo.MIMETextHTMLCharsetUTF8)
	c.Response().Header().Set("Cache-Control", "no-store")
	return c.HTMLBlob(status, buf.Bytes())
}

// Login sends the browser to the login form, to come back to next.
func (ui *UI) Login(c echo.Context, next string) error {
	return c.Redirect(http.StatusSeeOther, router.LoginURL(safeNext(next)))
}

// Error renders a failed page request as a page.
func (ui *UI) Error(c echo.Context, prob response.Problem) error {
	if prob.Detail.Code == bangfu.EUNAUTHENTICATED {
		return ui.Login(c, c.Request().URL.RequestURI())
	}
	p := ui.newPage(c)
	if _, ok := bangfu.ActorFrom(request.Context(c)); ok && prob.Detail.Code != bangfu.EINTERNAL {
		if up, err := ui.userPage(c); err == nil {
			p = up
		}
	}
	switch prob.Detail.Code {
	case bangfu.EFORBIDDEN:
		p.Title, p.Error = p.T("error.forbidden.title"), p.T("error.forbidden")
	case bangfu.ENOTFOUND:
		p.Title, p.Error = p.T("error.not_found.title"), p.T("error.not_found")
	case bangfu.EINTERNAL:
		p.Title, p.Error = p.T("error.title"), p.T("error.internal")
		p.Data = c.Response().Header().Get(echo.HeaderXRequestID)
	default:
		p.Title, p.Error = p.T("error.title"), p.Problem(prob.Detail.Message)
	}
	if prob.RetryAfterSeconds > 0 {
		c.Response().Header().Set("Retry-After", fmt.Sprint(prob.RetryAfterSeconds))
	}
	return ui.render(c, prob.Status, "error", p)
}
