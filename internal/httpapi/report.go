package httpapi

import (
	"fmt"
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/bangfu/bangfu/internal/http/request"
	"github.com/bangfu/bangfu/internal/report"
)

func (api *API) reportSummary(c echo.Context) error {
	q, err := request.Params(c, "school_id", "graduation_year")
	if err != nil {
		return err
	}
	f := report.Filter{SchoolID: q.ID("school_id"), GraduationYear: q.Int("graduation_year", 0)}
	if err := q.Err(); err != nil {
		return err
	}
	sum, err := api.Reports.Summary(request.Context(c), request.Actor(c), f)
	if err != nil {
		return err
	}
	c.Response().Header().Set("Cache-Control", fmt.Sprintf("private, max-age=%d", int(report.CacheTTL.Seconds())))
	return c.JSON(http.StatusOK, sum)
}
