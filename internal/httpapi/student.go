package httpapi

import (
	"errors"
	"io"
	"mime"
	"net/http"
	"path/filepath"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/bangfu/bangfu"
	"github.com/bangfu/bangfu/internal/graduate"
	"github.com/bangfu/bangfu/internal/http/request"
	"github.com/bangfu/bangfu/internal/http/response"
)

func (api *API) createStudent(c echo.Context) error {
	var in graduate.Input
	if err := request.Bind(c, &in); err != nil {
		return err
	}
	st, err := api.Graduates.Create(request.Context(c), request.Actor(c), in)
	if err != nil {
		return err
	}
	response.SetETag(c, st.Version)
	return c.JSON(http.StatusCreated, st)
}

// listStudents lists the caseload in urgency order (the default): narrow
// rows, keyset paging, and the due, escalated and department_id filters;
// or, with order=id, the files in id order.
func (api *API) listStudents(c echo.Context) error {
	q, err := request.Params(c, "limit", "cursor", "q", "status", "category", "counselor_id", "school_id", "overdue",
		"order", "department_id", "due", "escalated")
	if err != nil {
		return err
	}
	switch order := q.String("order"); order {
	case "", "urgency":
		return api.listCaseload(c, q)
	case "id":
	default:
		q.Problems.Add("order", "must be urgency or id")
	}
	for _, name := range []string{"department_id", "due", "escalated"} {
		if c.QueryParam(name) != "" {
			q.Problems.Add(name, "is a filter of the urgency order, not of order=id")
		}
	}
	pg := q.Page()
	f := graduate.Filter{Q: q.String("q"), Status: q.String("status"), Category: q.String("category"),
		CounselorID: q.ID("counselor_id"), SchoolID: q.ID("school_id"), Overdue: q.Bool("overdue")}
	if err := q.Err(); err != nil {
		return err
	}
	l, err := api.Graduates.List(request.Context(c), request.Actor(c), f, pg)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, l)
}

// reassignStudents hands one or many graduates over to another counselor.
func (api *API) reassignStudents(c echo.Context) error {
	var in graduate.Reassignment
	if err := request.Bind(c, &in); err != nil {
		return err
	}
	out, err := api.Graduates.Reassign(request.Context(c), request.Actor(c), in)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, out)
}

func (api *API) listCaseload(c echo.Context, q *request.Query) error {
	f := graduate.CaseloadFilter{Q: q.String("q"), Status: q.String("status"), Category: q.String("category"),
		CounselorID: q.ID("counselor_id"), SchoolID: q.ID("school_id"), DepartmentID: q.ID("department_id"), Due: q.String("due")}
	if overdue := q.Bool("overdue"); overdue != nil {
		if !*overdue {
			q.Problems.Add("overdue", "in the urgency order may only be true (or use due=overdue; overdue=false needs order=id)")
		} else if f.Due == "" {
			f.Due = graduate.DueOverdue
		}
	}
	if e := q.Bool("escalated"); e != nil {
		f.Escalated = *e
	}
	limit := q.Limit()
	if err := q.Err(); err != nil {
		return err
	}
	l, err := api.Graduates.Caseload(request.Context(c), request.Actor(c), f, c.QueryParam("cursor"), limit)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, l)
}

func (api *API) getStudent(c echo.Context) error {
	id, err := request.PathID(c, "id")
	if err != nil {
		return err
	}
	if err := noParams(c); err != nil {
		return err
	}
	st, err := api.Graduates.Get(request.Context(c), request.Actor(c), id)
	if err != nil {
		return err
	}
	response.SetETag(c, st.Version)
	return c.JSON(http.StatusOK, st)
}

// writeFile answers the graduate's own file, as theirs to see.
func (api *API) writeFile(c echo.Context, id int64) error {
	if err := noParams(c); err != nil {
		return err
	}
	st, err := api.Graduates.OwnFile(request.Context(c), request.Actor(c), id)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, st)
}

type unmaskRequest struct {
	Field  string `json:"field"`
	Reason string `json:"reason"`
}

func (api *API) unmaskStudent(c echo.Context) error {
	id, err := request.PathID(c, "id")
	if err != nil {
		return err
	}
	var req unmaskRequest
	if err := request.Bind(c, &req); err != nil {
		return err
	}
	v, err := api.Graduates.Unmask(request.Context(c), request.Actor(c), id, req.Field, req.Reason)
	if err != nil {
		return err
	}
	response.NoStore(c)
	return c.JSON(http.StatusOK, map[string]string{"field": req.Field, "value": v})
}

func (api *API) createAccount(c echo.Context) error {
	id, err := request.PathID(c, "id")
	if err != nil {
		return err
	}
	var in graduate.AccountInput
	if err := request.Bind(c, &in); err != nil {
		return err
	}
	u, err := api.Graduates.CreateAccount(request.Context(c), api.Directory, request.Actor(c), id, in)
	if err != nil {
		return err
	}
	response.SetETag(c, u.Version)
	return c.JSON(http.StatusCreated, u)
}

func (api *API) resetAccountPassword(c echo.Context) error {
	id, err := request.PathID(c, "id")
	if err != nil {
		return err
	}
	var in graduate.PasswordInput
	if err := request.Bind(c, &in); err != nil {
		return err
	}
	if err := api.Graduates.ResetAccountPassword(request.Context(c), api.Directory, request.Actor(c), id, in); err != nil {
		return err
	}
	response.NoStore(c)
	return c.NoContent(http.StatusNoContent)
}

func (api *API) verifyHardship(c echo.Context) error {
	id, err := request.PathID(c, "id")
	if err != nil {
		return err
	}
	hid, err := request.PathID(c, "hid")
	if err != nil {
		return err
	}
	var v graduate.Verification
	if err := request.Bind(c, &v); err != nil {
		return err
	}
	h, err := api.Graduates.VerifyHardship(request.Context(c), request.Actor(c), id, hid, v)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, h)
}

// importStudents takes the file as the request body (Content-Type text/csv
// or the XLSX type) or as the "file" part of a multipart form.
func (api *API) importStudents(c echo.Context) error {
	q, err := request.Params(c, "dry_run")
	if err != nil {
		return err
	}
	dryRun := q.Bool("dry_run")
	if err := q.Err(); err != nil {
		return err
	}
	format, data, err := readUpload(c)
	if err != nil {
		return err
	}
	rep, err := api.Graduates.Import(request.Context(c), request.Actor(c), format, data, dryRun != nil && *dryRun)
	if err != nil {
		return err
	}
	status := http.StatusCreated
	if rep.DryRun {
		status = http.StatusOK
	}
	return c.JSON(status, rep)
}

const xlsxType = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

func readUpload(c echo.Context) (format string, data []byte, err error) {
	req := c.Request()
	mt, _, _ := mime.ParseMediaType(req.Header.Get(echo.HeaderContentType))
	body := req.Body
	switch mt {
	case "text/csv", "application/csv":
		format = graduate.FormatCSV
	case xlsxType:
		format = graduate.FormatXLSX
	case echo.MIMEMultipartForm:
		fh, ferr := c.FormFile("file")
		if ferr != nil {
			var tooBig *http.MaxBytesError
			if errors.As(ferr, &tooBig) {
				return "", nil, bangfu.Errorf(bangfu.ETOOLARGE, "Import files may be at most %d MB.", graduate.MaxImportBytes>>20)
			}
			return "", nil, request.Invalid("file", "is required: send the CSV or XLSX file as the form field 'file'")
		}
		switch strings.ToLower(filepath.Ext(fh.Filename)) {
		case ".csv":
			format = graduate.FormatCSV
		case ".xlsx":
			format = graduate.FormatXLSX
		default:
			return "", nil, request.Invalid("file", "must be a .csv or .xlsx file")
		}
		f, ferr := fh.Open()
		if ferr != nil {
			return "", nil, ferr
		}
		defer f.Close()
		body = f
	default:
		return "", nil, request.Invalid("Content-Type", "must be text/csv, "+xlsxType+" or multipart/form-data")
	}
	data, err = io.ReadAll(io.LimitReader(body, graduate.MaxImportBytes+1))
	var tooBig *http.MaxBytesError
	if errors.As(err, &tooBig) || len(data) > graduate.MaxImportBytes {
		return "", nil, bangfu.Errorf(bangfu.ETOOLARGE, "Import files may be at most %d MB.", graduate.MaxImportBytes>>20)
	}
	return format, data, err
}
