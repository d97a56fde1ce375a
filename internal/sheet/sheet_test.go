package sheet_test

import (
	"archive/zip"
	"bytes"
	"compress/flate"
	"context"
	"fmt"
	"io"
	"os"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	"github.com/xuri/excelize/v2"
	"golang.org/x/text/encoding/simplifiedchinese"

	"github.com/bangfu/bangfu"
	"github.com/bangfu/bangfu/internal/sheet"
	"github.com/bangfu/bangfu/internal/sheet/sheettest"
)

var spec = sheet.Spec{
	Columns: []sheet.Column{
		{Name: "student_number", Aliases: []string{"学号"}, Required: true},
		{Name: "name", Aliases: []string{"姓名"}, Required: true},
		{Name: "major", Aliases: []string{"专业"}},
	},
	MaxBytes: 1 << 20,
	MaxRows:  100,
}

// cells returns each row's line and cells (student_number, name, major).
func cells(tb *sheet.Table) [][]string {
	var out [][]string
	for _, r := range tb.Rows {
		out = append(out, []string{fmt.Sprint(r.Line), r.Get("student_number"), r.Get("name"), r.Get("major")})
	}
	return out
}

// problems returns the fields of an invalid error, failing otherwise.
func problems(t *testing.T, err error) map[string]string {
	t.Helper()
	var e *bangfu.Error
	require.ErrorAs(t, err, &e)
	require.Equal(t, bangfu.EINVALID, e.Code, "%v", err)
	return e.Fields
}

func read(t *testing.T, format sheet.Format, data []byte) (*sheet.Table, error) {
	t.Helper()
	return sheet.Read(t.Context(), format, data, spec)
}

func TestCSVEncodings(t *testing.T) {
	t.Parallel()
	want := [][]string{{"2", "S1", "陈晓", "会计"}, {"3", "S2", "林一", ""}}
	text := "学号,姓名,专业\nS1, 陈晓 ,会计\nS2,林一,\n"
	gb, err := simplifiedchinese.GB18030.NewEncoder().String(text)
	require.NoError(t, err)
	for name, data := range map[string]string{
		"UTF-8":           text,
		"UTF-8 with BOM":  "\ufeff" + text,
		"GB18030":         gb,
		"English headers": "Student_Number,NAME,major\r\nS1,陈晓,会计\r\nS2,林一,\r\n",
	} {
		tb, err := read(t, sheet.CSV, []byte(data))
		require.NoError(t, err, name)
		require.Equal(t, want, cells(tb), name)
		require.True(t, tb.Has("major"), name)
	}

	tb, err := read(t, sheet.CSV, []byte("学号,姓名\nS1,陈晓\n"))
	require.NoError(t, err)
	require.False(t, tb.Has("major"), "an optional column the header does not name")
	require.Equal(t, "", tb.Rows[0].Get("major"))
	require.Equal(t, "", tb.Rows[0].Get("no such column"))

	gbHeader, err := simplifiedchinese.GB18030.NewEncoder().String("学号,姓名\n")
	require.NoError(t, err)
	_, err = read(t, sheet.CSV, []byte(gbHeader+"S1,\xff\xff\n"))
	require.Equal(t, "is neither UTF-8 nor GB18030 text (line 2)", problems(t, err)["file"])

	_, err = read(t, sheet.CSV, []byte("学号,姓名\nS1,\"陈晓\n"))
	require.Contains(t, problems(t, err)["file"], "is not valid CSV at line")
}

func xlsxFile(t *testing.T, sheets map[string][][]any, order ...string) []byte {
	t.Helper()
	f := excelize.NewFile()
	for i, name := range order {
		if i == 0 {
			require.NoError(t, f.SetSheetName("Sheet1", name))
		} else {
			_, err := f.NewSheet(name)
			require.NoError(t, err)
		}
		for r, row := range sheets[name] {
			if row != nil {
				require.NoError(t, f.SetSheetRow(name, fmt.Sprintf("A%d", r+1), &row))
			}
		}
	}
	var b bytes.Buffer
	require.NoError(t, f.Write(&b))
	return b.Bytes()
}

func TestXLSXReadsTheFirstSheet(t *testing.T) {
	t.Parallel()
	data := xlsxFile(t, map[string][][]any{
		"名单": {{"学号", "姓名", "专业"}, {"S1", "陈晓", "会计"}, nil, {2026001, " 林一 ", nil}},
		"说明": {{"nickname"}, {"x"}},
	}, "名单", "说明")
	tb, err := read(t, sheet.XLSX, data)
	require.NoError(t, err)
	require.Equal(t, [][]string{{"2", "S1", "陈晓", "会计"}, {"4", "2026001", "林一", ""}}, cells(tb),
		"numbers read as shown, blank row 3 skipped, lines are the sheet's row numbers")
}

func TestBlankRows(t *testing.T) {
	t.Parallel()
	tb, err := read(t, sheet.CSV, []byte("\n , ,\n学号,姓名\n\nS1,陈晓\n,,\n  ,\t\nS2,林一\n"))
	require.NoError(t, err)
	require.Equal(t, [][]string{{"5", "S1", "陈晓", ""}, {"8", "S2", "林一", ""}}, cells(tb),
		"blank rows before the header and between rows are skipped; lines are the file's")

	_, err = read(t, sheet.CSV, []byte(""))
	require.Equal(t, map[string]string{"file": "is empty"}, problems(t, err))
	_, err = read(t, sheet.CSV, []byte(",,\n ,\n"))
	require.Equal(t, map[string]string{"file": "is empty"}, problems(t, err))
	_, err = read(t, sheet.CSV, []byte("学号,姓名\n,\n"))
	require.Equal(t, map[string]string{"file": "has a header but no rows"}, problems(t, err))
	_, err = read(t, sheet.XLSX, xlsxFile(t, map[string][][]any{"S": {nil, {"学号", "姓名"}}}, "S"))
	require.Equal(t, map[string]string{"file": "has a header but no rows"}, problems(t, err))
}

func TestHeaderProblems(t *testing.T) {
	t.Parallel()
	_, err := read(t, sheet.CSV, []byte("学号,nickname,,专业,MAJOR\n1,x,,y,z\n"))
	require.Equal(t, map[string]string{
		"header.nickname": "is not a known column (see docs/import.md)",
		"header.name":     "is a required column that is missing",
		"header.major":    "appears more than once",
	}, problems(t, err))

	var many []string
	for i := range 30 {
		many = append(many, fmt.Sprintf("x%d", i))
	}
	_, err = read(t, sheet.CSV, []byte("学号,姓名,"+strings.Join(many, ",")+"\n1,a\n"))
	p := problems(t, err)
	require.Len(t, p, 21, "at most 20 unknown columns are named one by one")
	require.Equal(t, "has 10 more columns that are not known", p["header"])
}

func TestLimits(t *testing.T) {
	t.Parallel()
	var e *bangfu.Error
	_, err := read(t, sheet.CSV, bytes.Repeat([]byte("x"), spec.MaxBytes+1))
	require.ErrorAs(t, err, &e)
	require.Equal(t, bangfu.ETOOLARGE, e.Code)
	require.Equal(t, "The file may be at most 1 MB.", e.Message)

	// The row after the limit is not valid CSV: the reader stops before it.
	var b strings.Builder
	b.WriteString("学号,姓名\n")
	for i := range spec.MaxRows + 1 {
		fmt.Fprintf(&b, "S%d,x\n", i)
	}
	b.WriteString("\"broken\n")
	_, err = read(t, sheet.CSV, []byte(b.String()))
	require.Equal(t, map[string]string{"file": "has more than 100 rows; import at most 100 rows at a time"}, problems(t, err))

	var rows [][]any
	rows = append(rows, []any{"学号", "姓名"})
	for i := range spec.MaxRows {
		rows = append(rows, []any{fmt.Sprint("S", i), "x"})
	}
	tb, err := read(t, sheet.XLSX, xlsxFile(t, map[string][][]any{"S": rows}, "S"))
	require.NoError(t, err)
	require.Len(t, tb.Rows, spec.MaxRows, "exactly the limit is fine")
	// One more, and then a row excelize cannot read (a cell reference
	// that does not exist): the reader stops before it.
	sheetXML := sheetOf(len(rows)+1, `<c t="inlineStr"><is><t>S</t></is></c>`) +
		`<row><c r="A0"><v>1</v></c></row></sheetData></worksheet>`
	_, err = read(t, sheet.XLSX, workbook(t, map[string]string{"xl/worksheets/sheet1.xml": sheetXML}))
	require.Equal(t, map[string]string{"file": "has more than 100 rows; import at most 100 rows at a time"}, problems(t, err))
	sheetXML = sheetOf(3, `<c t="inlineStr"><is><t>S</t></is></c>`) + `<row><c r="A0"><v>1</v></c></row></sheetData></worksheet>`
	_, err = read(t, sheet.XLSX, workbook(t, map[string]string{"xl/worksheets/sheet1.xml": sheetXML}))
	require.Equal(t, map[string]string{"file": "has a row 4 that cannot be read"}, problems(t, err), "which the control shows")

	_, err = read(t, sheet.CSV, []byte("学号,姓名\nS1,x"+strings.Repeat(",", sheet.MaxColumns)+"\n"))
	require.Equal(t, map[string]string{"file": fmt.Sprintf("has a row with more than %d columns", sheet.MaxColumns)}, problems(t, err))
	_, err = read(t, sheet.CSV, []byte("学号,姓名\nS1,\""+strings.Repeat(",", sheet.MaxColumns)+"\"\n"))
	require.NoError(t, err, "commas inside quotes are not columns")

	_, err = read(t, sheet.CSV, []byte("学号,姓名\nS1,x\n"))
	require.NoError(t, err)
	_, err = sheet.Read(t.Context(), "pdf", []byte("%PDF"), spec)
	require.Equal(t, map[string]string{"file": "must be a CSV or XLSX file"}, problems(t, err))
}

func TestContextCancelled(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	_, err := sheet.Read(ctx, sheet.CSV, []byte("学号,姓名\nS1,x\n"), spec)
	require.ErrorIs(t, err, context.Canceled)
	_, err = sheet.Read(ctx, sheet.XLSX, xlsxFile(t, map[string][][]any{"S": {{"学号", "姓名"}, {"S1", "x"}}}, "S"), spec)
	require.ErrorIs(t, err, context.Canceled)
}

// workbook is a small workbook made by excelize whose parts are replaced or
// added, packed at the highest compression.
func workbook(t *testing.T, parts map[string]string) []byte {
	t.Helper()
	gens := map[string]func(io.Writer){}
	for name, text := range parts {
		gens[name] = func(w io.Writer) { _, _ = io.WriteString(w, text) }
	}
	return workbookOf(t, gens)
}

func workbookOf(t *testing.T, parts map[string]func(io.Writer)) []byte {
	t.Helper()
	base := xlsxFile(t, map[string][][]any{"Sheet1": {{"学号", "姓名"}}}, "Sheet1")
	zr, err := zip.NewReader(bytes.NewReader(base), int64(len(base)))
	require.NoError(t, err)
	var out bytes.Buffer
	zw := zip.NewWriter(&out)
	zw.RegisterCompressor(zip.Deflate, func(w io.Writer) (io.WriteCloser, error) { return flate.NewWriter(w, flate.BestCompression) })
	write := func(name string, gen func(io.Writer)) {
		w, err := zw.Create(name)
		require.NoError(t, err)
		gen(w)
	}
	seen := map[string]bool{}
	for _, zf := range zr.File {
		seen[zf.Name] = true
		if gen, ok := parts[zf.Name]; ok {
			write(zf.Name, gen)
			continue
		}
		write(zf.Name, func(w io.Writer) {
			rc, err := zf.Open()
			require.NoError(t, err)
			_, err = io.Copy(w, rc)
			require.NoError(t, err)
			require.NoError(t, rc.Close())
		})
	}
	for name, gen := range parts {
		if !seen[name] {
			write(name, gen)
		}
	}
	require.NoError(t, zw.Close())
	return out.Bytes()
}

const sheetHead = `<?xml version="1.0" encoding="UTF-8" standalone="yes"?>` +
	`<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>` +
	`<row><c t="inlineStr"><is><t>学号</t></is></c><c t="inlineStr"><is><t>姓名</t></is></c></row>`

// sheetOf is the start of a sheet with the header and rows-1 rows of
// cells, without row or cell references (both are optional), left open.
func sheetOf(rows int, cells string) string {
	return sheetHead + strings.Repeat("<row>"+cells+"</row>", rows-1)
}

func TestXLSXUnpackLimits(t *testing.T) {
	t.Parallel()
	// A million rows of 20 cells pack into about 1.3 MB.
	twenty := make([]any, 20)
	for i := range twenty {
		twenty[i] = i
	}
	bomb := sheettest.RepeatedRows(t, []string{"学号", "姓名"}, twenty, 1_000_000)
	require.Less(t, len(bomb), 2<<20)
	big := spec
	big.MaxBytes = 5 << 20
	_, err := sheet.Read(t.Context(), sheet.XLSX, bomb, big)
	// Refused from the zip directory's sizes, without unpacking.
	require.Equal(t, map[string]string{"file": "unpacks to more than 32 MB, far more than 100 rows need; import at most 100 rows at a time"}, problems(t, err))

	// 60,000 such rows unpack to 20 MB: the sheet is unpacked to a
	// temporary file and streamed, and reading stops after row 101.
	_, err = sheet.Read(t.Context(), sheet.XLSX, sheettest.RepeatedRows(t, []string{"学号", "姓名"}, twenty, 60_000), big)
	require.Equal(t, map[string]string{"file": "has more than 100 rows; import at most 100 rows at a time"}, problems(t, err))

	sst := func(n int) string {
		return `<?xml version="1.0" encoding="UTF-8"?><sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">` +
			strings.Repeat("<si><t>a</t></si>", n) + "</sst>"
	}
	_, err = read(t, sheet.XLSX, workbook(t, map[string]string{"xl/sharedStrings.xml": sst(sheet.MaxSharedStrings + 1)}))
	require.Equal(t, map[string]string{"file": fmt.Sprintf("has %d shared strings; at most %d are read", sheet.MaxSharedStrings+1, sheet.MaxSharedStrings)}, problems(t, err))

	styles := `<?xml version="1.0" encoding="UTF-8"?><styleSheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><cellXfs>` +
		strings.Repeat("<xf/>", 100_000) + "</cellXfs></styleSheet>"
	_, err = read(t, sheet.XLSX, workbook(t, map[string]string{"xl/styles.xml": styles}))
	require.Equal(t, map[string]string{"file": "has more than 100000 XML elements besides its sheets; save the rows in a new workbook"}, problems(t, err))

	parts := map[string]string{}
	for i := range 1000 {
		parts[fmt.Sprintf("docProps/extra%d.txt", i)] = "x"
	}
	_, err = read(t, sheet.XLSX, workbook(t, parts))
	require.Contains(t, problems(t, err)["file"], "parts; a workbook has far fewer")

	_, err = read(t, sheet.XLSX, []byte("PK\x03\x04 not a zip"))
	require.Equal(t, map[string]string{"file": "is not a readable .xlsx workbook"}, problems(t, err))
	_, err = read(t, sheet.XLSX, workbook(t, map[string]string{"xl/workbook.xml": "<workbook"}))
	require.Equal(t, map[string]string{"file": "is not a readable .xlsx workbook"}, problems(t, err))
}

// TestXLSXLeavesNoTemporaryFiles is not parallel: it points TMPDIR at a
// directory of its own to see what reading leaves there.
func TestXLSXLeavesNoTemporaryFiles(t *testing.T) {
	tmp := t.TempDir()
	t.Setenv("TMPDIR", tmp)
	big := spec
	big.MaxBytes = 5 << 20
	twenty := make([]any, 20)
	for i := range twenty {
		twenty[i] = i
	}
	// A sheet over 8 MB unpacked is unpacked to a temporary file.
	streamed := sheettest.RepeatedRows(t, []string{"学号", "姓名"}, twenty, 60_000)
	_, err := sheet.Read(t.Context(), sheet.XLSX, streamed, big)
	require.Contains(t, problems(t, err)["file"], "has more than 100 rows")

	// The same sheet under a compression method no reader knows: excelize
	// has made the temporary file when it finds out, and drops it.
	zr, err := zip.NewReader(bytes.NewReader(streamed), int64(len(streamed)))
	require.NoError(t, err)
	var out bytes.Buffer
	zw := zip.NewWriter(&out)
	for _, zf := range zr.File {
		if zf.Name != "xl/worksheets/sheet1.xml" {
			require.NoError(t, zw.Copy(zf))
			continue
		}
		raw, err := zf.OpenRaw()
		require.NoError(t, err)
		h := zf.FileHeader
		h.Method = 99
		w, err := zw.CreateRaw(&h)
		require.NoError(t, err)
		_, err = io.Copy(w, raw)
		require.NoError(t, err)
	}
	require.NoError(t, zw.Close())
	_, err = sheet.Read(t.Context(), sheet.XLSX, out.Bytes(), big)
	require.Equal(t, map[string]string{"file": "is not a readable .xlsx workbook"}, problems(t, err))

	left, err := os.ReadDir(tmp)
	require.NoError(t, err)
	require.Empty(t, left, "temporary files are removed")
}
