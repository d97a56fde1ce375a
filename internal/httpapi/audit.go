package httpapi

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/bangfu/bangfu/internal/audit"
	"github.com/bangfu/bangfu/internal/http/request"
)

func (api *API) listAudit(c echo.Context) error {
	q, err := request.Params(c, "student_id", "school_id", "limit", "cursor")
	if err != nil {
		return err
	}
	pg := q.Page()
	f := audit.Filter{StudentID: q.ID("student_id"), SchoolID: q.ID("school_id")}
	if err := q.Err(); err != nil {
		return err
	}
	l, err := api.Audit.List(request.Context(c), request.Actor(c), f, pg)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, l)
}
