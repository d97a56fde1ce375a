package webui

import (
	"github.com/labstack/echo/v4"

	"github.com/bangfu/bangfu/internal/export"
	"github.com/bangfu/bangfu/internal/http/request"
	"github.com/bangfu/bangfu/internal/http/response"
	"github.com/bangfu/bangfu/internal/ledger"
	"github.com/bangfu/bangfu/internal/report"
)

// Downloads for the pages: the same exports as the API's (the ledger, the
// summary, the snapshots), with the browser's session, from the same
// services. A refusal is an error page; a file streams as the API's does.

// fileFormat reads the required format parameter.
func fileFormat(q *request.Query) export.Format {
	f, ok := export.ParseFormat(q.String("format"))
	if !ok {
		q.Problems.Add("format", "must be csv or xlsx")
	}
	return f
}

func (ui *UI) downloadLedger(c echo.Context) error {
	q, err := request.Params(c, "school_id", "department_id", "graduation_year", "from", "to", "format")
	if err != nil {
		return err
	}
	f := ledger.ExportFilter{SchoolID: q.ID("school_id"), DepartmentID: q.ID("department_id"),
		GraduationYear: q.Int("graduation_year", 0), From: q.Date("from"), To: q.Date("to")}
	format := fileFormat(q)
	if err := q.Err(); err != nil {
		return err
	}
	ctx, done := request.ExportContext(c)
	defer done()
	file, err := ui.Ledger.Export(ctx, request.Actor(c), f, format)
	if err != nil {
		return err
	}
	return response.Download(c, file, ui.Logger)
}

func (ui *UI) downloadSummary(c echo.Context) error {
	q, err := request.Params(c, "graduation_year", "school_id", "as_of", "format")
	if err != nil {
		return err
	}
	f := report.Filter{GraduationYear: q.Int("graduation_year", 0), SchoolID: q.ID("school_id"), AsOf: q.Date("as_of")}
	format := fileFormat(q)
	if err := q.Err(); err != nil {
		return err
	}
	ctx, done := request.ExportContext(c)
	defer done()
	file, err := ui.Reports.ExportSummary(ctx, request.Actor(c), f, format)
	if err != nil {
		return err
	}
	return response.Download(c, file, ui.Logger)
}

func (ui *UI) downloadSnapshots(c echo.Context) error {
	q, err := request.Params(c, "period", "school_id", "from", "to", "format")
	if err != nil {
		return err
	}
	f := report.SnapshotFilter{Period: q.String("period"), SchoolID: q.ID("school_id"), From: q.Date("from"), To: q.Date("to")}
	format := fileFormat(q)
	if err := q.Err(); err != nil {
		return err
	}
	ctx, done := request.ExportContext(c)
	defer done()
	file, err := ui.Reports.ExportSnapshots(ctx, request.Actor(c), f, format)
	if err != nil {
		return err
	}
	return response.Download(c, file, ui.Logger)
}

func (ui *UI) downloadSnapshot(c echo.Context) error {
	id, err := request.PathID(c, "id")
	if err != nil {
		return err
	}
	q, err := request.Params(c, "format")
	if err != nil {
		return err
	}
	format := fileFormat(q)
	if err := q.Err(); err != nil {
		return err
	}
	ctx, done := request.ExportContext(c)
	defer done()
	file, err := ui.Reports.ExportSnapshot(ctx, request.Actor(c), id, format)
	if err != nil {
		return err
	}
	return response.Download(c, file, ui.Logger)
}
