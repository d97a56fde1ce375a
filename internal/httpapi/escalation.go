package httpapi

import (
	"context"
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/bangfu/bangfu"
	"github.com/bangfu/bangfu/internal/escalation"
	"github.com/bangfu/bangfu/internal/http/request"
)

func (api *API) listEscalations(c echo.Context) error {
	q, err := request.Params(c, "kind", "status", "level", "school_id", "limit", "cursor")
	if err != nil {
		return err
	}
	pg := q.Page()
	f := escalation.Filter{Kind: q.String("kind"), Status: q.String("status"), SchoolID: q.ID("school_id"), Level: q.Int("level", 0)}
	if err := q.Err(); err != nil {
		return err
	}
	l, err := api.Escalations.List(request.Context(c), request.Actor(c), f, pg)
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
