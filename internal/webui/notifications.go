package webui

import (
	"fmt"
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/bangfu/bangfu"
	"github.com/bangfu/bangfu/internal/http/request"
	"github.com/bangfu/bangfu/internal/notify"
)

type inboxData struct {
	Items      []notify.Notification
	UnreadOnly bool
	Next       string
}

// notifications is the inbox: newest first, each linking to the case it is
// about, each unread one with a button that marks it read.
func (ui *UI) notifications(c echo.Context) error {
	q, err := request.Params(c, "unread", "cursor")
	if err != nil {
		return err
	}
	unread := q.Bool("unread")
	pg := q.Page()
	if err := q.Err(); err != nil {
		return err
	}
	p, err := ui.userPage(c)
	if err != nil {
		return err
	}
	l, err := ui.Notify.List(request.Context(c), p.Actor, unread != nil && *unread, pg)
	if err != nil {
		return err
	}
	p.Title = p.T("inbox.title")
	p.Data = inboxData{Items: l.Items, UnreadOnly: unread != nil && *unread, Next: l.NextCursor}
	return ui.render(c, http.StatusOK, "notifications", p)
}

// CaseLink is where a notification about graduate id leads the actor: the
// graduate's file for staff, their own page for the graduate.
func (p *Page) CaseLink(id *int64) string {
	if id == nil {
		return ""
	}
	if p.Actor.Role == bangfu.RoleStudent {
		return "/"
	}
	return fmt.Sprintf("/students/%d", *id)
}

func (ui *UI) readNotification(c echo.Context) error {
	if err := postForm(c); err != nil {
		return err
	}
	id, err := request.PathID(c, "id")
	if err != nil {
		return err
	}
	if _, err := ui.Notify.MarkRead(request.Context(c), request.Actor(c), id); err != nil {
		return err
	}
	back := "/notifications"
	if c.FormValue("unread") == "true" {
		back += "?unread=true"
	}
	return done(c, "inbox.marked", back)
}
