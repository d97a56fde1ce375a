package webui

import (
	"errors"
	"io"
	"net/http"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/bangfu/bangfu"
	"github.com/bangfu/bangfu/internal/graduate"
	"github.com/bangfu/bangfu/internal/http/request"
)

// The import page: upload a CSV or XLSX file of graduates, see what a dry
// run finds row by row, then import — all rows or none. The server reads
// the file synchronously, so a large file keeps the form busy for a while
// (data-busy says so). The import is committed by sending the same file
// again with "import": the file is not kept on the server, where it would
// hold ID numbers in clear; the commit checks every row again and writes
// nothing if any row has a problem.

type importData struct {
	// Report is the last check or import; Committed says which.
	Report    *graduate.ImportReport
	Committed bool
	// Failed: the import found problems and wrote nothing.
	Failed bool
	// File is the name of the file checked.
	File string
	// MaxMB and MaxRows are the limits of one file.
	MaxMB, MaxRows int
}

func newImportData() importData {
	return importData{MaxMB: graduate.MaxImportBytes >> 20, MaxRows: graduate.MaxImportRows}
}

func (ui *UI) importPage(c echo.Context) error {
	if _, err := request.Params(c); err != nil {
		return err
	}
	p, err := ui.userPage(c)
	if err != nil {
		return err
	}
	p.Title = p.T("import.title")
	p.Data = newImportData()
	return ui.render(c, http.StatusOK, "import", p)
}

// importFile checks (action "check": a dry run) or imports (action
// "import") the uploaded file with graduate.Service.Import.
func (ui *UI) importFile(c echo.Context) error {
	if err := postForm(c); err != nil {
		return err
	}
	p, err := ui.userPage(c)
	if err != nil {
		return err
	}
	p.Title = p.T("import.title")
	d := newImportData()
	p.Data = &d
	format, data, name, err := readImportFile(c)
	commit := c.FormValue("action") == "import"
	d.File = name
	var rep graduate.ImportReport
	if err == nil {
		rep, err = ui.Graduates.Import(request.Context(c), p.Actor, format, data, !commit)
	}
	switch {
	case err == nil:
		d.Report, d.Committed = &rep, commit
		if commit {
			p.Flash = p.T("import.done")
		}
		return ui.render(c, http.StatusOK, "import", p)
	case !FormProblem(err):
		return err
	}
	status := ui.formFailed(c, p, err)
	// An import with problems names each as rows.<row>.<column>: show
	// them as the dry run's report does.
	var problems []graduate.ImportProblem
	for k, msg := range bangfu.FieldsOf(err) {
		rest, ok := strings.CutPrefix(k, "rows.")
		if !ok {
			continue
		}
		r, col, _ := strings.Cut(rest, ".")
		row, aerr := strconv.Atoi(r)
		if aerr != nil {
			continue
		}
		problems = append(problems, graduate.ImportProblem{Row: row, Column: col, Problem: msg})
		delete(p.Fields, k)
	}
	if len(problems) > 0 {
		slices.SortFunc(problems, func(a, b graduate.ImportProblem) int {
			if a.Row != b.Row {
				return a.Row - b.Row
			}
			return strings.Compare(a.Column, b.Column)
		})
		d.Report, d.Failed = &graduate.ImportReport{Problems: problems}, true
		p.Error = p.Tf("import.failed", len(problems))
	}
	return ui.render(c, status, "import", p)
}

// readImportFile reads the "file" field of the form: its format (by its
// extension), its bytes and its name.
func readImportFile(c echo.Context) (format string, data []byte, name string, err error) {
	fh, err := c.FormFile("file")
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return "", nil, "", bangfu.Errorf(bangfu.ETOOLARGE, "Import files may be at most %d MB.", graduate.MaxImportBytes>>20)
		}
		return "", nil, "", request.Invalid("file", "is required: choose a .csv or .xlsx file")
	}
	switch strings.ToLower(filepath.Ext(fh.Filename)) {
	case ".csv":
		format = graduate.FormatCSV
	case ".xlsx":
		format = graduate.FormatXLSX
	default:
		return "", nil, fh.Filename, request.Invalid("file", "must be a .csv or .xlsx file")
	}
	if fh.Size > graduate.MaxImportBytes {
		return "", nil, fh.Filename, bangfu.Errorf(bangfu.ETOOLARGE, "Import files may be at most %d MB.", graduate.MaxImportBytes>>20)
	}
	f, err := fh.Open()
	if err != nil {
		return "", nil, fh.Filename, err
	}
	defer f.Close()
	data, err = io.ReadAll(io.LimitReader(f, graduate.MaxImportBytes+1))
	return format, data, fh.Filename, err
}
