package httpapi

import (
	"errors"
	"io"
	"mime"
	"net/http"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/bangfu/bangfu"
	"github.com/bangfu/bangfu/internal/graduate"
)

func (s *Server) createStudent(c echo.Context) error {
	var in graduate.Input
	if err := bind(c, &in); err != nil {
		return err
	}
	st, err := s.Graduates.Create(ctx(c), actor(c), in)
	if err != nil {
		return err
	}
	setETag(c, st.Version)
	return c.JSON(http.StatusCreated, st)
}

func (s *Server) listStudents(c echo.Context) error {
	pg, err := page(c)
	if err != nil {
		return err
	}
	f := graduate.Filter{Q: c.QueryParam("q"), Status: c.QueryParam("status"), Category: c.QueryParam("category")}
	var p bangfu.Problems
	f.CounselorID = queryID(c, &p, "counselor_id")
	f.SchoolID = queryID(c, &p, "school_id")
	if v := c.QueryParam("overdue"); v != "" {
		b, err := strconv.ParseBool(v)
		if err != nil {
			p.Add("overdue", "must be true or false")
		}
		f.Overdue = &b
	}
	if err := p.Err(); err != nil {
		return err
	}
	l, err := s.Graduates.List(ctx(c), actor(c), f, pg)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, l)
}

func queryID(c echo.Context, p *bangfu.Problems, name string) *int64 {
	v := c.QueryParam(name)
	if v == "" {
		return nil
	}
	id, err := strconv.ParseInt(v, 10, 64)
	if err != nil || id < 1 {
		p.Add(name, "must be a whole number")
		return nil
	}
	return &id
}

func (s *Server) getStudent(c echo.Context) error {
	id, err := pathID(c, "id")
	if err != nil {
		return err
	}
	st, err := s.Graduates.Get(ctx(c), actor(c), id)
	if err != nil {
		return err
	}
	setETag(c, st.Version)
	return c.JSON(http.StatusOK, st)
}

type unmaskRequest struct {
	Field  string `json:"field"`
	Reason string `json:"reason"`
}

func (s *Server) unmaskStudent(c echo.Context) error {
	id, err := pathID(c, "id")
	if err != nil {
		return err
	}
	var req unmaskRequest
	if err := bind(c, &req); err != nil {
		return err
	}
	v, err := s.Graduates.Unmask(ctx(c), actor(c), id, req.Field, req.Reason)
	if err != nil {
		return err
	}
	c.Response().Header().Set("Cache-Control", "no-store")
	return c.JSON(http.StatusOK, map[string]string{"field": req.Field, "value": v})
}

func (s *Server) createAccount(c echo.Context) error {
	id, err := pathID(c, "id")
	if err != nil {
		return err
	}
	var in graduate.AccountInput
	if err := bind(c, &in); err != nil {
		return err
	}
	u, err := s.Graduates.CreateAccount(ctx(c), s.Directory, actor(c), id, in)
	if err != nil {
		return err
	}
	setETag(c, u.Version)
	return c.JSON(http.StatusCreated, u)
}

func (s *Server) verifyHardship(c echo.Context) error {
	id, err := pathID(c, "id")
	if err != nil {
		return err
	}
	hid, err := pathID(c, "hid")
	if err != nil {
		return err
	}
	var v graduate.Verification
	if err := bind(c, &v); err != nil {
		return err
	}
	h, err := s.Graduates.VerifyHardship(ctx(c), actor(c), id, hid, v)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, h)
}

// importStudents takes the file as the request body (Content-Type text/csv
// or the XLSX type) or as the "file" part of a multipart form.
func (s *Server) importStudents(c echo.Context) error {
	dryRun := false
	if v := c.QueryParam("dry_run"); v != "" {
		b, err := strconv.ParseBool(v)
		if err != nil {
			return invalid("dry_run", "must be true or false")
		}
		dryRun = b
	}
	format, data, err := readUpload(c)
	if err != nil {
		return err
	}
	rep, err := s.Graduates.Import(ctx(c), actor(c), format, data, dryRun)
	if err != nil {
		return err
	}
	status := http.StatusOK
	if !dryRun {
		status = http.StatusCreated
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
			return "", nil, invalid("file", "is required: send the CSV or XLSX file as the form field 'file'")
		}
		switch strings.ToLower(filepath.Ext(fh.Filename)) {
		case ".csv":
			format = graduate.FormatCSV
		case ".xlsx":
			format = graduate.FormatXLSX
		default:
			return "", nil, invalid("file", "must be a .csv or .xlsx file")
		}
		f, ferr := fh.Open()
		if ferr != nil {
			return "", nil, ferr
		}
		defer f.Close()
		body = f
	default:
		return "", nil, invalid("Content-Type", "must be text/csv, "+xlsxType+" or multipart/form-data")
	}
	data, err = io.ReadAll(io.LimitReader(body, graduate.MaxImportBytes+1))
	var tooBig *http.MaxBytesError
	if errors.As(err, &tooBig) || len(data) > graduate.MaxImportBytes {
		return "", nil, bangfu.Errorf(bangfu.ETOOLARGE, "Import files may be at most %d MB.", graduate.MaxImportBytes>>20)
	}
	return format, data, err
}

func (s *Server) writeFile(c echo.Context, id int64) error {
	st, err := s.Graduates.Get(ctx(c), actor(c), id)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, st)
}

func (s *Server) listAudit(c echo.Context) error {
	pg, err := page(c)
	if err != nil {
		return err
	}
	var p bangfu.Problems
	f := auditFilter(c, &p)
	if err := p.Err(); err != nil {
		return err
	}
	l, err := s.Audit.List(ctx(c), actor(c), f, pg)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, l)
}
