package httpapi

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/bangfu/bangfu/internal/http/request"
	"github.com/bangfu/bangfu/internal/ledger"
)

func (api *API) appendLedgerGroup(c echo.Context) error {
	var in ledger.GroupInput
	if err := request.Bind(c, &in); err != nil {
		return err
	}
	es, err := api.Ledger.AppendGroup(request.Context(c), request.Actor(c), in)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusCreated, map[string]any{"entries": es})
}

func (api *API) correctLedger(c echo.Context) error {
	id, err := request.PathID(c, "id")
	if err != nil {
		return err
	}
	seq, err := request.PathInt(c, "seq", "ledger entry")
	if err != nil {
		return err
	}
	var in ledger.CorrectionInput
	if err := request.Bind(c, &in); err != nil {
		return err
	}
	e, err := api.Ledger.Correct(request.Context(c), request.Actor(c), id, seq, in)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusCreated, e)
}

func (api *API) listLedger(c echo.Context) error {
	id, err := request.PathID(c, "id")
	if err != nil {
		return err
	}
	return api.writeLedger(c, id)
}

func (api *API) writeLedger(c echo.Context, studentID int64) error {
	q, err := request.Params(c, "limit", "cursor")
	if err != nil {
		return err
	}
	pg := q.Page()
	if err := q.Err(); err != nil {
		return err
	}
	l, err := api.Ledger.List(request.Context(c), request.Actor(c), studentID, pg)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, l)
}

func (api *API) verifyLedger(c echo.Context) error {
	id, err := request.PathID(c, "id")
	if err != nil {
		return err
	}
	if err := noParams(c); err != nil {
		return err
	}
	v, err := api.Ledger.Verify(request.Context(c), request.Actor(c), id)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, v)
}

func (api *API) reviewLedger(c echo.Context) error {
	q, err := request.Params(c, "school_id", "student_id", "author_id", "department_id", "counselor_id", "category", "overdue",
		"kind", "since", "until", "limit", "cursor")
	if err != nil {
		return err
	}
	f := ledger.ReviewFilter{
		SchoolID: q.ID("school_id"), StudentID: q.ID("student_id"), AuthorID: q.ID("author_id"),
		DepartmentID: q.ID("department_id"), CounselorID: q.ID("counselor_id"), Category: q.String("category"), Overdue: q.Bool("overdue"),
		Kind: q.String("kind"), Since: q.Time("since"), Until: q.Time("until"),
	}
	limit := q.Limit()
	if err := q.Err(); err != nil {
		return err
	}
	page, err := api.Ledger.Review(request.Context(c), request.Actor(c), f, c.QueryParam("cursor"), limit)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, page)
}
