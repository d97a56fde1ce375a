package httpapi

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/bangfu/bangfu/internal/export"
	"github.com/bangfu/bangfu/internal/http/request"
	"github.com/bangfu/bangfu/internal/http/response"
	"github.com/bangfu/bangfu/internal/ledger"
	"github.com/bangfu/bangfu/internal/report"
)

// Statistics over time and the exports (docs/domain.md, "去向落实率"):
// snapshots (周报/月报), the 1:500 staffing check, and the ledger and the
// figures as files.

// readFormat reads the format parameter: "" (JSON) when absent, or a file
// format; allowJSON says whether json may be named.
func readFormat(q *request.Query, allowJSON bool) export.Format {
	v := q.String("format")
	if v == "" || (allowJSON && v == "json") {
		return ""
	}
	f, ok := export.ParseFormat(v)
	if !ok {
		if allowJSON {
			q.Problems.Add("format", "must be json, csv or xlsx")
		} else {
			q.Problems.Add("format", "must be csv or xlsx")
		}
	}
	return f
}

func (api *API) listSnapshots(c echo.Context) error {
	q, err := request.Params(c, "period", "school_id", "from", "to", "limit", "cursor", "format")
	if err != nil {
		return err
	}
	f := report.SnapshotFilter{Period: q.String("period"), SchoolID: q.ID("school_id"), From: q.Date("from"), To: q.Date("to")}
	pg := q.Page()
	format := readFormat(q, true)
	if err := q.Err(); err != nil {
		return err
	}
	if format != "" {
		if pg.After != 0 || c.QueryParam("limit") != "" {
			return request.Invalid("format", "exports every snapshot chosen: leave out limit and cursor")
		}
		ctx, done := request.ExportContext(c)
		defer done()
		file, err := api.Reports.ExportSnapshots(ctx, request.Actor(c), f, format)
		if err != nil {
			return err
		}
		return response.Download(c, file, api.Logger)
	}
	l, err := api.Reports.Snapshots(request.Context(c), request.Actor(c), f, pg)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, l)
}

func (api *API) getSnapshot(c echo.Context) error {
	id, err := request.PathID(c, "id")
	if err != nil {
		return err
	}
	q, err := request.Params(c, "format")
	if err != nil {
		return err
	}
	format := readFormat(q, true)
	if err := q.Err(); err != nil {
		return err
	}
	if format != "" {
		ctx, done := request.ExportContext(c)
		defer done()
		file, err := api.Reports.ExportSnapshot(ctx, request.Actor(c), id, format)
		if err != nil {
			return err
		}
		return response.Download(c, file, api.Logger)
	}
	snap, err := api.Reports.Snapshot(request.Context(c), request.Actor(c), id)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, snap)
}

func (api *API) staffingCheck(c echo.Context) error {
	q, err := request.Params(c, "year")
	if err != nil {
		return err
	}
	year := q.Int("year", 0)
	if err := q.Err(); err != nil {
		return err
	}
	l, err := api.Reports.StaffingOf(request.Context(c), request.Actor(c), year)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, l)
}

// staffingPath reads a school id and a year from the path.
func staffingPath(c echo.Context) (int64, int, error) {
	id, err := request.PathID(c, "id")
	if err != nil {
		return 0, 0, err
	}
	year, err := request.PathInt(c, "year", "staffing record")
	return id, year, err
}

func (api *API) getStaffing(c echo.Context) error {
	if err := noParams(c); err != nil {
		return err
	}
	id, year, err := staffingPath(c)
	if err != nil {
		return err
	}
	r, err := api.Reports.StaffingRecordOf(request.Context(c), request.Actor(c), id, year)
	if err != nil {
		return err
	}
	response.SetETag(c, r.Version)
	return c.JSON(http.StatusOK, r)
}

func (api *API) putStaffing(c echo.Context) error {
	if err := noParams(c); err != nil {
		return err
	}
	id, year, err := staffingPath(c)
	if err != nil {
		return err
	}
	base, err := request.OptionalIfMatch(c)
	if err != nil {
		return err
	}
	var in report.StaffingInput
	if err := request.Bind(c, &in); err != nil {
		return err
	}
	r, err := api.Reports.PutStaffing(request.Context(c), request.Actor(c), id, year, base, in)
	if err != nil {
		return err
	}
	response.SetETag(c, r.Version)
	return c.JSON(http.StatusOK, r)
}

func (api *API) exportLedger(c echo.Context) error {
	q, err := request.Params(c, "school_id", "department_id", "graduation_year", "from", "to", "format")
	if err != nil {
		return err
	}
	f := ledger.ExportFilter{SchoolID: q.ID("school_id"), DepartmentID: q.ID("department_id"),
		GraduationYear: q.Int("graduation_year", 0), From: q.Date("from"), To: q.Date("to")}
	format := readFormat(q, false)
	if format == "" && q.Problems["format"] == "" {
		q.Problems.Add("format", "is required: csv or xlsx")
	}
	if err := q.Err(); err != nil {
		return err
	}
	ctx, done := request.ExportContext(c)
	defer done()
	file, err := api.Ledger.Export(ctx, request.Actor(c), f, format)
	if err != nil {
		return err
	}
	return response.Download(c, file, api.Logger)
}
