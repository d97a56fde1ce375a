package export

import (
	"archive/zip"
	"bufio"
	"compress/flate"
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
	"time"
	"unicode/utf8"
)

// xlsxWriter writes an XLSX workbook (Office Open XML SpreadsheetML) as a
// stream: each sheet is a zip entry written row by row as the rows come,
// and Close adds the parts that list the sheets and the styles, then the
// zip's directory. Nothing but the current row and the compressor's window
// is held, whatever the size of the file.
//
// excelize, which reads the imports, writes a workbook whole: File.Write
// builds the zip in memory, and its StreamWriter keeps each sheet's 16 MiB
// buffer until the end, so the province's ledger (a sheet of graduates and
// five of entries) peaked at 330 MiB through it; this writer holds the
// same file in a few MiB (docs/performance.md). Tests read every file it
// writes back with excelize.
//
// Cells: text is an inline string (t="inlineStr"), never a formula, in
// the form Excel keeps text (XML escaped, characters XML cannot hold
// replaced, cut at Excel's 32,767 characters); numbers are numbers; the
// header row is bold and frozen; Percent cells have the format 0.0%.
type xlsxWriter struct {
	w       io.Writer
	zw      *zip.Writer
	out     *bufio.Writer // the open sheet's entry, nil when none is open
	sheets  []string      // every sheet's name, in order
	name    string        // the current table's name
	headers []string
	part    int // the current sheet's number within its table
	row     int // the last row written on the current sheet
	limit   int // data rows per sheet
	closed  bool
	scratch []byte
}

// Cell styles (cellXfs in styles.xml).
const (
	styleHeader  = 1
	stylePercent = 2
)

// maxText is the longest text an Excel cell holds.
const maxText = 32767

func (x *xlsxWriter) Sheet(name string, headers []string) error {
	if x.closed {
		return errors.New("export: the workbook is closed")
	}
	if x.zw == nil {
		x.zw = zip.NewWriter(x.w)
		// Speed over size: a province's ledger is hundreds of megabytes of
		// XML, and the fastest level still compresses it about eightfold.
		x.zw.RegisterCompressor(zip.Deflate, func(out io.Writer) (io.WriteCloser, error) {
			return flate.NewWriter(out, flate.BestSpeed)
		})
	}
	if err := x.endSheet(); err != nil {
		return err
	}
	x.name, x.headers, x.part = name, headers, 0
	return x.startSheet()
}

// startSheet opens the next sheet of the current table and writes its
// header row.
func (x *xlsxWriter) startSheet() error {
	x.part++
	name := x.name
	if x.part > 1 {
		name = fmt.Sprintf("%s (%d)", x.name, x.part)
	}
	if r := []rune(name); len(r) > 31 { // Excel's limit on a sheet's name
		name = string(r[:31])
	}
	x.sheets = append(x.sheets, name)
	f, err := x.create(fmt.Sprintf("xl/worksheets/sheet%d.xml", len(x.sheets)))
	if err != nil {
		return err
	}
	x.out = bufio.NewWriterSize(f, 64<<10)
	selected := ""
	if len(x.sheets) == 1 {
		selected = ` tabSelected="1"`
	}
	fmt.Fprintf(x.out, `<?xml version="1.0" encoding="UTF-8" standalone="yes"?>`+"\n"+
		`<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">`+
		`<sheetViews><sheetView workbookViewId="0"%s><pane ySplit="1" topLeftCell="A2" activePane="bottomLeft" state="frozen"/>`+
		`<selection pane="bottomLeft"/></sheetView></sheetViews><sheetFormatPr defaultRowHeight="15"/>`+
		`<cols><col min="1" max="%d" width="16" customWidth="1"/></cols><sheetData>`, selected, max(1, len(x.headers)))
	x.row = 0
	cells := make([]any, len(x.headers))
	for i, h := range x.headers {
		cells[i] = h
	}
	return x.writeRow(cells, styleHeader)
}

// endSheet closes the open sheet, if any.
func (x *xlsxWriter) endSheet() error {
	if x.out == nil {
		return nil
	}
	out := x.out
	x.out = nil
	if _, err := out.WriteString(`</sheetData></worksheet>`); err != nil {
		return err
	}
	return out.Flush()
}

func (x *xlsxWriter) Row(cells ...any) error {
	if x.out == nil {
		return errors.New("export: a row before a sheet")
	}
	if x.row > x.limit {
		if err := x.endSheet(); err != nil {
			return err
		}
		if err := x.startSheet(); err != nil {
			return err
		}
	}
	return x.writeRow(cells, 0)
}

// writeRow writes one row; style 0 leaves text cells unstyled.
func (x *xlsxWriter) writeRow(cells []any, style int) error {
	x.row++
	b := x.scratch[:0]
	b = append(b, `<row r="`...)
	b = strconv.AppendInt(b, int64(x.row), 10)
	b = append(b, `">`...)
	for i, v := range cells {
		ref := func(b []byte) []byte {
			b = append(b, `<c r="`...)
			b = appendColumn(b, i+1)
			b = strconv.AppendInt(b, int64(x.row), 10)
			return append(b, '"')
		}
		number := func(b []byte, f float64, s int) []byte {
			b = ref(b)
			if s != 0 {
				b = append(b, ` s="`...)
				b = strconv.AppendInt(b, int64(s), 10)
				b = append(b, '"')
			}
			b = append(b, `><v>`...)
			b = strconv.AppendFloat(b, f, 'g', -1, 64)
			return append(b, `</v></c>`...)
		}
		switch v := v.(type) {
		case nil:
		case int:
			b = number(b, float64(v), 0)
		case int64:
			b = number(b, float64(v), 0)
		case float64:
			if math.IsNaN(v) || math.IsInf(v, 0) {
				continue
			}
			b = number(b, v, 0)
		case Percent:
			if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
				continue
			}
			b = number(b, float64(v), stylePercent)
		default:
			s := text(v)
			if s == "" {
				continue
			}
			b = ref(b)
			if style != 0 {
				b = append(b, ` s="`...)
				b = strconv.AppendInt(b, int64(style), 10)
				b = append(b, '"')
			}
			b = append(b, ` t="inlineStr"><is><t xml:space="preserve">`...)
			b = appendText(b, s)
			b = append(b, `</t></is></c>`...)
		}
	}
	b = append(b, `</row>`...)
	x.scratch = b
	_, err := x.out.Write(b)
	return err
}

// appendColumn appends the letters of column n (1: A, 27: AA).
func appendColumn(b []byte, n int) []byte {
	var s [8]byte
	i := len(s)
	for n > 0 {
		n--
		i--
		s[i] = byte('A' + n%26)
		n /= 26
	}
	return append(b, s[i:]...)
}

// appendText appends s as XML text: escaped, carriage returns kept as
// character references (XML readers would turn them into line feeds),
// characters XML cannot hold (other control characters, invalid UTF-8)
// replaced by U+FFFD, cut at maxText characters.
func appendText(b []byte, s string) []byte { return appendXML(b, s, false) }

// appendAttr appends s escaped for an attribute value.
func appendAttr(b []byte, s string) []byte { return appendXML(b, s, true) }

func appendXML(b []byte, s string, attr bool) []byte {
	for i, n := 0, 0; i < len(s) && n < maxText; n++ {
		r, size := utf8.DecodeRuneInString(s[i:])
		i += size
		switch {
		case r == '&':
			b = append(b, "&amp;"...)
		case r == '<':
			b = append(b, "&lt;"...)
		case r == '>':
			b = append(b, "&gt;"...)
		case r == '"' && attr:
			b = append(b, "&quot;"...)
		case r == '\r':
			b = append(b, "&#13;"...)
		case r == '\t' || r == '\n':
			b = append(b, byte(r))
		case r == utf8.RuneError && size == 1, r < 0x20, r == 0xFFFE, r == 0xFFFF:
			b = utf8.AppendRune(b, utf8.RuneError)
		default:
			b = utf8.AppendRune(b, r)
		}
	}
	return b
}

func (x *xlsxWriter) Close() error {
	if x.closed || x.zw == nil {
		x.closed = true
		return nil
	}
	x.closed = true
	if err := x.endSheet(); err != nil {
		return err
	}
	const (
		ns      = `http://schemas.openxmlformats.org/spreadsheetml/2006/main`
		rels    = `http://schemas.openxmlformats.org/package/2006/relationships`
		relType = `http://schemas.openxmlformats.org/officeDocument/2006/relationships`
		xmlHead = `<?xml version="1.0" encoding="UTF-8" standalone="yes"?>` + "\n"
	)
	var workbook, wbRels, types []byte
	workbook = append(workbook, xmlHead+`<workbook xmlns="`+ns+`" xmlns:r="`+relType+`"><bookViews><workbookView activeTab="0"/></bookViews><sheets>`...)
	wbRels = append(wbRels, xmlHead+`<Relationships xmlns="`+rels+`">`...)
	types = append(types, xmlHead+`<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">`+
		`<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>`+
		`<Default Extension="xml" ContentType="application/xml"/>`+
		`<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>`+
		`<Override PartName="/xl/styles.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"/>`...)
	for i, name := range x.sheets {
		n := strconv.Itoa(i + 1)
		workbook = append(workbook, `<sheet name="`...)
		workbook = appendAttr(workbook, name)
		workbook = append(workbook, `" sheetId="`+n+`" r:id="rId`+n+`"/>`...)
		wbRels = append(wbRels, `<Relationship Id="rId`+n+`" Type="`+relType+`/worksheet" Target="worksheets/sheet`+n+`.xml"/>`...)
		types = append(types, `<Override PartName="/xl/worksheets/sheet`+n+`.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>`...)
	}
	workbook = append(workbook, `</sheets></workbook>`...)
	wbRels = append(wbRels, `<Relationship Id="rId`+strconv.Itoa(len(x.sheets)+1)+`" Type="`+relType+`/styles" Target="styles.xml"/></Relationships>`...)
	types = append(types, `</Types>`...)
	parts := []struct {
		name string
		data []byte
	}{
		{"xl/workbook.xml", workbook},
		{"xl/_rels/workbook.xml.rels", wbRels},
		{"xl/styles.xml", []byte(xmlHead + `<styleSheet xmlns="` + ns + `">` +
			`<numFmts count="1"><numFmt numFmtId="164" formatCode="0.0%"/></numFmts>` +
			`<fonts count="2"><font><sz val="11"/><name val="Calibri"/><family val="2"/></font><font><b/><sz val="11"/><name val="Calibri"/><family val="2"/></font></fonts>` +
			`<fills count="2"><fill><patternFill patternType="none"/></fill><fill><patternFill patternType="gray125"/></fill></fills>` +
			`<borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border></borders>` +
			`<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs>` +
			`<cellXfs count="3"><xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/>` +
			`<xf numFmtId="0" fontId="1" fillId="0" borderId="0" xfId="0" applyFont="1"/>` +
			`<xf numFmtId="164" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/></cellXfs>` +
			`<cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles></styleSheet>`)},
		{"_rels/.rels", []byte(xmlHead + `<Relationships xmlns="` + rels + `"><Relationship Id="rId1" Type="` + relType +
			`/officeDocument" Target="xl/workbook.xml"/></Relationships>`)},
		{"[Content_Types].xml", types},
	}
	for _, p := range parts {
		f, err := x.create(p.name)
		if err != nil {
			return err
		}
		if _, err := f.Write(p.data); err != nil {
			return err
		}
	}
	return x.zw.Close()
}

// create starts the compressed zip entry name, dated now.
func (x *xlsxWriter) create(name string) (io.Writer, error) {
	return x.zw.CreateHeader(&zip.FileHeader{Name: name, Method: zip.Deflate, Modified: time.Now()})
}

func (x *xlsxWriter) Multi() bool { return true }

// Abort stops the workbook where it is: the zip gets no directory, so
// what was written does not open as a workbook.
func (x *xlsxWriter) Abort() { x.closed = true }
