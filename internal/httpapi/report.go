package httpapi

import (
	"fmt"
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/bangfu/bangfu/internal/http/request"
	"github.com/bangfu/bangfu/internal/http/response"
	"github.com/bangfu/bangfu/internal/report"
)

func (api *API) reportSummary(c echo.Context) error {
	q, err := request.Params(c, "school_id", "graduation_year", "as_of", "format")
	if err != nil {
		return err
	}
	f := report.Filter{SchoolID: q.ID("school_id"), GraduationYear: q.Int("graduation_year", 0), AsOf: q.Date("as_of")}
	format := readFormat(q, true)
	if err := q.Err(); err != nil {
		return err
	}
	if format != "" {
		ctx, done := request.ExportContext(c)
		defer done()
		file, err := api.Reports.ExportSummary(ctx, request.Actor(c), f, format)
		if err != nil {
			return err
		}
		return response.Download(c, file, api.Logger)
	}
	sum, err := api.Reports.Summary(request.Context(c), request.Actor(c), f)
	if err != nil {
		return err
	}
	c.Response().Header().Set("Cache-Control", fmt.Sprintf("private, max-age=%d", int(report.CacheTTL.Seconds())))
	return c.JSON(http.StatusOK, sum)
}
