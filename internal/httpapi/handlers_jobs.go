package httpapi

import (
	"context"
	"net/http"
	"strconv"

	"github.com/labstack/echo/v4"

	"github.com/bangfu/bangfu"
	"github.com/bangfu/bangfu/internal/escalation"
	"github.com/bangfu/bangfu/internal/settings"
)

func (s *Server) listEscalations(c echo.Context) error {
	pg, err := page(c)
	if err != nil {
		return err
	}
	var p bangfu.Problems
	f := escalation.Filter{Kind: c.QueryParam("kind"), Status: c.QueryParam("status"), SchoolID: queryID(c, &p, "school_id")}
	if v := c.QueryParam("level"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil {
			n = -1 // the service names the problem with the others
		}
		f.Level = n
	}
	if err := p.Err(); err != nil {
		return err
	}
	l, err := s.Escalations.List(ctx(c), actor(c), f, pg)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, l)
}

type noteRequest struct {
	Note string `json:"note"`
}

// escalationAct adapts Acknowledge or Resolve to a {note} body.
func escalationAct(act func(context.Context, bangfu.Actor, int64, string) (escalation.Escalation, error)) echo.HandlerFunc {
	return withIDAndBody(http.StatusOK, func(ctx context.Context, a bangfu.Actor, id int64, req noteRequest) (escalation.Escalation, error) {
		return act(ctx, a, id, req.Note)
	})
}

func (s *Server) listNotifications(c echo.Context) error {
	pg, err := page(c)
	if err != nil {
		return err
	}
	unread := false
	if v := c.QueryParam("unread"); v != "" {
		if unread, err = strconv.ParseBool(v); err != nil {
			return invalid("unread", "must be true or false")
		}
	}
	l, err := s.Notify.List(ctx(c), actor(c), unread, pg)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, l)
}

func (s *Server) readNotification(c echo.Context) error {
	id, err := pathID(c, "id")
	if err != nil {
		return err
	}
	n, err := s.Notify.MarkRead(ctx(c), actor(c), id)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, n)
}

func (s *Server) getSettings(c echo.Context) error {
	r, err := s.Settings.Get(ctx(c), s.DB.Pool)
	if err != nil {
		return err
	}
	setETag(c, r.Version)
	return c.JSON(http.StatusOK, r)
}

func (s *Server) putSettings(c echo.Context) error {
	version, err := ifMatch(c)
	if err != nil {
		return err
	}
	var in settings.Settings
	if err := bind(c, &in); err != nil {
		return err
	}
	r, err := s.Settings.Put(ctx(c), actor(c), version, in)
	if err != nil {
		return err
	}
	setETag(c, r.Version)
	return c.JSON(http.StatusOK, r)
}
