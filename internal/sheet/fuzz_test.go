package sheet_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/bangfu/bangfu"
	"github.com/bangfu/bangfu/internal/sheet"
)

// The seed corpus is in testdata/fuzz/<target>: CSV in UTF-8, UTF-8 with
// BOM and CRLF, GB18030, with quoting, blank and ragged rows, too many rows
// and a bad header; XLSX with inline and shared strings, row gaps, too many
// rows, and one written by excelize. The XLSX seeds other than excelize's
// are stored uncompressed, so that mutations reach the XML.
// `make fuzz` runs each target for FUZZTIME.

var fuzzSpec = sheet.Spec{
	Columns: []sheet.Column{
		{Name: "student_number", Aliases: []string{"学号"}, Required: true},
		{Name: "name", Aliases: []string{"姓名"}, Required: true},
		{Name: "major", Aliases: []string{"专业"}},
	},
	MaxBytes: 64 << 10,
	MaxRows:  3,
}

func FuzzReadCSV(f *testing.F) {
	f.Add([]byte("学号,姓名\nS1,陈晓\n"))
	f.Fuzz(func(t *testing.T, data []byte) { checkRead(t, sheet.CSV, data) })
}

func FuzzReadXLSX(f *testing.F) {
	f.Add([]byte("PK\x03\x04"))
	f.Fuzz(func(t *testing.T, data []byte) { checkRead(t, sheet.XLSX, data) })
}

// checkRead asserts what Read promises for any input: no panic; a bad file
// is a *bangfu.Error, too_large or invalid naming the file or the header;
// a table has between 1 and MaxRows rows in file order, with every
// required column and trimmed cells.
func checkRead(t *testing.T, format sheet.Format, data []byte) {
	tb, err := sheet.Read(context.Background(), format, data, fuzzSpec)
	if err != nil {
		var e *bangfu.Error
		if !errors.As(err, &e) {
			t.Fatalf("error %v (%T) is not a *bangfu.Error", err, err)
		}
		switch e.Code {
		case bangfu.ETOOLARGE:
			if len(data) <= fuzzSpec.MaxBytes {
				t.Fatalf("too_large for %d bytes", len(data))
			}
		case bangfu.EINVALID:
			if len(e.Fields) == 0 {
				t.Fatalf("invalid without fields: %v", err)
			}
			for k := range e.Fields {
				if k != "file" && k != "header" && !strings.HasPrefix(k, "header.") {
					t.Fatalf("problem names %q", k)
				}
			}
		default:
			t.Fatalf("code %s is not a client error: %v", e.Code, err)
		}
		return
	}
	if len(data) > fuzzSpec.MaxBytes {
		t.Fatalf("read %d bytes, over the limit", len(data))
	}
	if n := len(tb.Rows); n < 1 || n > fuzzSpec.MaxRows {
		t.Fatalf("%d rows", n)
	}
	for _, c := range fuzzSpec.Columns {
		if c.Required && !tb.Has(c.Name) {
			t.Fatalf("required column %s missing without an error", c.Name)
		}
	}
	line := 1
	for _, r := range tb.Rows {
		if r.Line <= line {
			t.Fatalf("row line %d after %d", r.Line, line)
		}
		line = r.Line
		for _, c := range fuzzSpec.Columns {
			if v := r.Get(c.Name); v != strings.TrimSpace(v) {
				t.Fatalf("cell %q is not trimmed", v)
			}
		}
	}
}
