// Package export writes tables as the files schools file them: CSV in
// UTF-8 with a byte-order mark, or an XLSX workbook, with Chinese headers,
// streaming — a row is written as it comes and never kept, so an export of
// a million rows runs in bounded memory — and safe to open: a cell that a
// spreadsheet would take for a formula is always written as text.
//
// The roster, the ledger and the reports export through it; it knows
// nothing of their records.
package export

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strconv"
	"time"

	"github.com/bangfu/bangfu"
)

// Format is a file format of an export.
type Format string

// The formats.
const (
	CSV  Format = "csv"
	XLSX Format = "xlsx"
)

// ParseFormat reads a format parameter; ok is false for anything but csv
// and xlsx.
func ParseFormat(s string) (Format, bool) {
	switch f := Format(s); f {
	case CSV, XLSX:
		return f, true
	}
	return "", false
}

// ContentType is the format's media type.
func (f Format) ContentType() string {
	if f == XLSX {
		return "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
	}
	return "text/csv; charset=utf-8"
}

// MultiSheet reports whether the format holds more than one sheet: an
// XLSX workbook does, a CSV file holds its first sheet only.
func (f Format) MultiSheet() bool { return f == XLSX }

// Filename is name with the format's extension.
func (f Format) Filename(name string) string { return name + "." + string(f) }

// MaxSheetRows is how many data rows one XLSX sheet holds (Excel's
// 1,048,576 rows less the header); a longer table continues on a sheet of
// the same name numbered "(2)", "(3)"…, each with the headers again.
const MaxSheetRows = 1<<20 - 1

// ErrOneSheet is returned by a second Sheet call on a CSV writer.
var ErrOneSheet = errors.New("export: a CSV file holds one sheet")

// Percent is a fraction shown as a percentage: 0.725 is 72.5%.
type Percent float64

// Writer writes the sheets of one file. Row takes cells of these types:
// string (always text), int, int64, float64 (numbers), Percent, bool
// (是/否), bangfu.Date and *bangfu.Date (2006-01-02), time.Time and
// *time.Time (2006-01-02 15:04 in Asia/Shanghai), and nil (empty); any
// other value is written as text with fmt.Sprint.
//
// Close finishes the file. A caller that stops early (an error) calls
// Abort instead, which writes nothing more: what was written is not a
// whole file (an XLSX without its directory does not open). Abort after
// Close does nothing, so it can be deferred.
type Writer interface {
	// Sheet starts a sheet called name with a header row.
	Sheet(name string, headers []string) error
	// Row appends one row to the current sheet.
	Row(cells ...any) error
	// Close writes what is left and releases the writer's resources.
	Close() error
	// Abort releases the writer's resources without finishing the file.
	Abort()
	// Multi reports whether the file holds more than one sheet.
	Multi() bool
}

// New returns a writer of format f to w. Rows reach w as they are written
// (through a small buffer); Close writes what ends the file (for XLSX the
// workbook's other parts and the zip's directory).
func New(w io.Writer, f Format) Writer {
	if f == XLSX {
		return &xlsxWriter{w: w, limit: MaxSheetRows}
	}
	return &csvWriter{w: w}
}

// Neutralize returns v so that a spreadsheet opening a CSV file shows it
// as text, never runs it: a value starting with = + - @, a tab or a
// carriage return gets a leading apostrophe.
func Neutralize(v string) string {
	if v != "" && (v[0] == '=' || v[0] == '+' || v[0] == '-' || v[0] == '@' || v[0] == '\t' || v[0] == '\r') {
		return "'" + v
	}
	return v
}

// text is how a cell reads as text (in CSV, and for the types XLSX writes
// as text).
func text(v any) string {
	switch v := v.(type) {
	case nil:
		return ""
	case string:
		return v
	case int:
		return strconv.Itoa(v)
	case int64:
		return strconv.FormatInt(v, 10)
	case float64:
		return strconv.FormatFloat(v, 'f', -1, 64)
	case Percent:
		return strconv.FormatFloat(float64(v)*100, 'f', 1, 64) + "%"
	case bool:
		if v {
			return "是"
		}
		return "否"
	case bangfu.Date:
		if v.IsZero() {
			return ""
		}
		return v.String()
	case *bangfu.Date:
		if v == nil || v.IsZero() {
			return ""
		}
		return v.String()
	case time.Time:
		if v.IsZero() {
			return ""
		}
		return v.In(bangfu.Shanghai).Format("2006-01-02 15:04")
	case *time.Time:
		if v == nil {
			return ""
		}
		return text(*v)
	}
	return fmt.Sprint(v)
}

// csvWriter writes RFC 4180 CSV with CRLF line ends, after a UTF-8
// byte-order mark so that Excel reads it as UTF-8.
type csvWriter struct {
	w      io.Writer
	cw     *csv.Writer
	sheets int
	rec    []string
}

func (c *csvWriter) Sheet(_ string, headers []string) error {
	if c.sheets > 0 {
		return ErrOneSheet
	}
	c.sheets++
	if _, err := io.WriteString(c.w, "\ufeff"); err != nil {
		return err
	}
	c.cw = csv.NewWriter(c.w)
	c.cw.UseCRLF = true
	return c.Row(anys(headers)...)
}

func (c *csvWriter) Row(cells ...any) error {
	if c.cw == nil {
		return errors.New("export: a row before a sheet")
	}
	c.rec = c.rec[:0]
	for _, v := range cells {
		s := text(v)
		if _, ok := v.(string); ok {
			s = Neutralize(s)
		}
		c.rec = append(c.rec, s)
	}
	if err := c.cw.Write(c.rec); err != nil {
		return err
	}
	// csv.Writer buffers 4 KB: the rows reach the client as they come.
	return nil
}

func (c *csvWriter) Close() error {
	if c.cw == nil {
		return nil
	}
	c.cw.Flush()
	err := c.cw.Error()
	c.cw = nil
	return err
}

func (c *csvWriter) Abort() { c.cw = nil }

func (c *csvWriter) Multi() bool { return false }

func anys(ss []string) []any {
	out := make([]any, len(ss))
	for i, s := range ss {
		out[i] = s
	}
	return out
}

// File is an export ready to be written: its format, its name (without
// extension) and what it holds. Services return one after checking who
// asks and recording the export, so that a refusal is an error response
// and not half a file.
type File struct {
	Format Format
	Name   string
	Write  func(Writer) error
}

// Filename is the file's name with its extension.
func (f *File) Filename() string { return f.Format.Filename(f.Name) }

// Send writes the file to w: Write, then Close, or Abort on an error.
func (f *File) Send(w io.Writer) error {
	out := New(w, f.Format)
	defer out.Abort()
	if err := f.Write(out); err != nil {
		return err
	}
	return out.Close()
}
