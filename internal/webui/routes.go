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
	ui.counselorRoutes()
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
