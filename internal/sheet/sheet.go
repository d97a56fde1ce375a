// Package sheet reads an uploaded table — a CSV file or the first sheet of
// an XLSX workbook — into rows of named columns. It streams the file row by
// row and stops at the caller's limits, so a hostile file costs bounded
// time and memory. It knows nothing of what the columns mean: the caller
// names them (with aliases) in a Spec and applies its own rules to the
// values.
//
// Every error Read returns for a bad file is a *bangfu.Error: too_large for
// a file over Spec.MaxBytes, otherwise invalid naming "file" (unreadable,
// empty, too many rows, too big when unpacked) or "header.<column>"
// (unknown, missing or repeated columns). When ctx ends, Read returns
// ctx.Err(); when it cannot make a temporary directory (XLSX), that error.
package sheet

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/bangfu/bangfu"
)

// Format is the kind of file.
type Format string

// The formats Read understands.
const (
	CSV  Format = "csv"
	XLSX Format = "xlsx"
)

// Column is a column the caller understands.
type Column struct {
	// Name is the column's canonical name, matched case-insensitively.
	Name string
	// Aliases are other headers accepted for it (such as Chinese ones),
	// matched exactly.
	Aliases []string
	// Required columns must be in the header.
	Required bool
}

// Spec says which columns a file may have and how big it may be.
type Spec struct {
	Columns []Column
	// MaxBytes is the largest file accepted (larger: too_large). Required.
	MaxBytes int
	// MaxRows is the most data rows (blank rows not counted) a file may
	// have; reading stops as soon as one more is found. Required.
	MaxRows int
}

// Limits of the file itself, whatever the spec.
const (
	// MaxColumns is the most cells a row may have (CSV) or the header may
	// name (both formats).
	MaxColumns = 1024
	// MaxUnpacked is the most an XLSX workbook may unpack to, all parts
	// together. Spreadsheet XML packs about 10:1, and a sheet of the rows
	// an import takes unpacks to a few MB; much more means a padded or
	// hostile file (a highly repetitive sheet packs 300:1).
	MaxUnpacked = 32 << 20
	// maxInMemory is the largest worksheet or shared-string table kept in
	// memory; larger ones are unpacked to a temporary file and streamed.
	maxInMemory = 8 << 20
	// MaxSharedStrings is the most entries the shared-string table may
	// have: excelize indexes every entry in memory (about 200 bytes each).
	MaxSharedStrings = 200_000
	// maxElements is the most XML elements all other parts but the
	// worksheets may have together: excelize parses the styles, theme,
	// workbook and content types whole when it opens a file, at up to 400
	// bytes of memory an element.
	maxElements = 100_000
	// maxParts is the most parts (files) a workbook may hold.
	maxParts = 1000
	// maxHeaderProblems is the most unknown columns reported one by one.
	maxHeaderProblems = 20
)

// Table is what Read found: the columns the header named and the non-blank
// rows below it.
type Table struct {
	cols *columns
	Rows []Row
}

// Has reports whether the header named the column (by its Name).
func (t *Table) Has(name string) bool {
	i, ok := t.cols.byName[name]
	return ok && t.cols.present[i]
}

// Row is one non-blank data row.
type Row struct {
	// Line is the row's number in the file, counting the header and blank
	// rows: the sheet's row number (XLSX) or the line the record starts on
	// (CSV).
	Line  int
	cols  *columns
	cells []string // by index in Spec.Columns
}

// Get returns the cell of the named column, trimmed; "" if the column is
// absent or not in the spec.
func (r Row) Get(name string) string {
	if i, ok := r.cols.byName[name]; ok {
		return r.cells[i]
	}
	return ""
}

type columns struct {
	byName  map[string]int
	present []bool
	at      []int // at[j] is the spec index of file column j, or -1
}

// source yields the rows of a file in order: cells and the row's line
// number; errEOF after the last.
type source interface {
	next() (cells []string, line int, err error)
	close()
}

// Read reads the table in data. See the package comment for its errors.
func Read(ctx context.Context, format Format, data []byte, spec Spec) (*Table, error) {
	if spec.MaxBytes <= 0 || spec.MaxRows <= 0 {
		panic("sheet: Spec.MaxBytes and Spec.MaxRows must be positive")
	}
	if len(data) > spec.MaxBytes {
		return nil, tooLarge(spec.MaxBytes)
	}
	var src source
	var err error
	switch format {
	case CSV:
		src = openCSV(data)
	case XLSX:
		if src, err = openXLSX(data, spec.MaxRows); err != nil {
			return nil, err
		}
	default:
		return nil, fileProblem("must be a CSV or XLSX file")
	}
	defer src.close()

	t := &Table{}
	for {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		cells, line, err := src.next()
		if errors.Is(err, errEOF) {
			break
		} else if err != nil {
			return nil, err
		}
		if blank(cells) {
			continue
		}
		if t.cols == nil {
			if t.cols, err = mapHeader(cells, spec.Columns); err != nil {
				return nil, err
			}
			continue
		}
		if len(t.Rows) == spec.MaxRows {
			return nil, fileProblem(fmt.Sprintf("has more than %d rows; import at most %d rows at a time", spec.MaxRows, spec.MaxRows))
		}
		row := Row{Line: line, cols: t.cols, cells: make([]string, len(spec.Columns))}
		for j, c := range cells {
			if j < len(t.cols.at) && t.cols.at[j] >= 0 {
				row.cells[t.cols.at[j]] = strings.TrimSpace(c)
			}
		}
		t.Rows = append(t.Rows, row)
	}
	switch {
	case t.cols == nil:
		return nil, fileProblem("is empty")
	case len(t.Rows) == 0:
		return nil, fileProblem("has a header but no rows")
	}
	return t, nil
}

// errEOF ends a source. (io.EOF is not used so that an io.EOF leaking from
// a parser cannot end the file early.)
var errEOF = errors.New("sheet: end of rows")

func blank(cells []string) bool {
	return !slices.ContainsFunc(cells, func(c string) bool { return strings.TrimSpace(c) != "" })
}

// mapHeader finds each spec column in the header row.
func mapHeader(header []string, spec []Column) (*columns, error) {
	if len(header) > MaxColumns {
		return nil, fileProblem(fmt.Sprintf("has more than %d columns", MaxColumns))
	}
	cols := &columns{byName: make(map[string]int, len(spec)), present: make([]bool, len(spec)), at: make([]int, len(header))}
	for i, c := range spec {
		cols.byName[c.Name] = i
	}
	var p bangfu.Problems
	unknown := 0
	for j, h := range header {
		cols.at[j] = -1
		h = strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(h), "\ufeff"))
		if h == "" {
			continue
		}
		i := slices.IndexFunc(spec, func(c Column) bool { return strings.EqualFold(h, c.Name) || slices.Contains(c.Aliases, h) })
		switch {
		case i < 0:
			if unknown++; unknown <= maxHeaderProblems {
				p.Add("header."+printable(h), "is not a known column (see docs/import.md)")
			}
		case cols.present[i]:
			p.Add("header."+spec[i].Name, "appears more than once")
		default:
			cols.present[i], cols.at[j] = true, i
		}
	}
	if unknown > maxHeaderProblems {
		p.Add("header", fmt.Sprintf("has %d more columns that are not known", unknown-maxHeaderProblems))
	}
	for i, c := range spec {
		if c.Required && !cols.present[i] {
			p.Add("header."+c.Name, "is a required column that is missing")
		}
	}
	return cols, p.Err()
}

// printable shortens a header to name it in a problem: at most 40
// characters, invalid UTF-8 replaced.
func printable(h string) string {
	h = strings.ToValidUTF8(h, "\ufffd")
	if utf8.RuneCountInString(h) > 40 {
		h = string([]rune(h)[:40]) + "…"
	}
	return h
}

func fileProblem(msg string) error {
	return (bangfu.Problems{"file": msg}).Err()
}

func tooLarge(max int) error {
	return bangfu.Errorf(bangfu.ETOOLARGE, "The file may be at most %s.", size(max))
}

// size says n bytes in MB, or KB below a megabyte.
func size(n int) string {
	if n >= 1<<20 && n%(1<<20) == 0 {
		return fmt.Sprintf("%d MB", n>>20)
	}
	if n >= 1<<20 {
		return fmt.Sprintf("%.1f MB", float64(n)/(1<<20))
	}
	return fmt.Sprintf("%d KB", (n+1023)>>10)
}
