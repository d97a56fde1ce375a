// Package sheettest builds spreadsheet files for tests, among them huge
// ones, quickly.
package sheettest

import (
	"archive/zip"
	"bytes"
	"compress/flate"
	"encoding/xml"
	"fmt"
	"hash/crc32"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	"github.com/xuri/excelize/v2"
)

// RepeatedRows returns an XLSX workbook whose one sheet has the header row
// and then n copies of row (numbers as values, anything else as text). The workbook and the header are written by
// excelize's StreamWriter (into tb's temporary directory); the n rows are
// then added to the sheet without row or cell references, which
// SpreadsheetML allows, as a hostile file may: identical rows pack at
// deflate's best ratio, about 1000:1, so a million rows of 20 cells make a
// file of about 1.3 MB (of numbers). The packed rows are assembled from one packed chunk
// of rows instead of compressing them all, so that building even a
// million rows takes a fraction of a second (it took about 40 s to deflate
// them under the race detector).
func RepeatedRows(tb testing.TB, header []string, row []any, n int) []byte {
	tb.Helper()
	f := excelize.NewFile()
	sw, err := f.NewStreamWriter("Sheet1")
	require.NoError(tb, err)
	cells := make([]any, len(header))
	for i, h := range header {
		cells[i] = h
	}
	require.NoError(tb, sw.SetRow("A1", cells))
	require.NoError(tb, sw.Flush())
	path := filepath.Join(tb.TempDir(), "rows.xlsx")
	require.NoError(tb, f.SaveAs(path))
	require.NoError(tb, f.Close())
	written, err := os.ReadFile(path)
	require.NoError(tb, err)

	zr, err := zip.NewReader(bytes.NewReader(written), int64(len(written)))
	require.NoError(tb, err)
	var out bytes.Buffer
	zw := zip.NewWriter(&out)
	for _, zf := range zr.File {
		if zf.Name != "xl/worksheets/sheet1.xml" {
			require.NoError(tb, zw.Copy(zf))
			continue
		}
		rc, err := zf.Open()
		require.NoError(tb, err)
		sheet, err := io.ReadAll(rc)
		require.NoError(tb, err)
		require.NoError(tb, rc.Close())
		end := bytes.Index(sheet, []byte("</sheetData>"))
		require.Positive(tb, end, "the sheet excelize wrote has its rows")
		packed, crc, size := deflateRepeated(tb, sheet[:end], rowXML(row), n, sheet[end:])
		w, err := zw.CreateRaw(&zip.FileHeader{Name: zf.Name, Method: zip.Deflate, CRC32: crc,
			CompressedSize64: uint64(len(packed)), UncompressedSize64: size})
		require.NoError(tb, err)
		_, err = w.Write(packed)
		require.NoError(tb, err)
	}
	require.NoError(tb, zw.Close())
	return out.Bytes()
}

// rowXML writes numbers as values and anything else as an inline string.
func rowXML(row []any) []byte {
	var b strings.Builder
	b.WriteString("<row>")
	for _, c := range row {
		switch c.(type) {
		case int, int64, float64:
			fmt.Fprintf(&b, "<c><v>%v</v></c>", c)
		default:
			b.WriteString(`<c t="inlineStr"><is><t>`)
			_ = xml.EscapeText(&b, []byte(fmt.Sprint(c)))
			b.WriteString("</t></is></c>")
		}
	}
	b.WriteString("</row>")
	return []byte(b.String())
}

// deflateRepeated packs head, n copies of row and tail as one deflate
// stream. The rows are grouped in chunks longer than deflate's 32 KB
// window. Each piece of the stream is packed with the 32 KB before it as
// its preset dictionary and flushed (which ends it on a byte boundary
// without ending the stream), so the pieces concatenate; a decoder
// reaching a piece has just produced those 32 KB, which is all a
// back-reference may reach. So one packed chunk serves every chunk after
// the first.
func deflateRepeated(tb testing.TB, head, row []byte, n int, tail []byte) (packed []byte, crc uint32, size uint64) {
	tb.Helper()
	perChunk := (1<<20)/len(row) + 1
	chunk := bytes.Repeat(row, perChunk)
	chunks, rest := n/perChunk, bytes.Repeat(row, n%perChunk)
	window := func(b []byte) []byte { return b[max(0, len(b)-32<<10):] }
	piece := func(before []byte, text ...[]byte) []byte {
		var b bytes.Buffer
		w, err := flate.NewWriterDict(&b, flate.BestCompression, window(before))
		require.NoError(tb, err)
		for _, t := range text {
			_, err := w.Write(t)
			require.NoError(tb, err)
		}
		require.NoError(tb, w.Flush())
		return b.Bytes()
	}
	var out bytes.Buffer
	sum := crc32.NewIEEE()
	text := func(t []byte) {
		sum.Write(t)
		size += uint64(len(t))
	}
	out.Write(piece(nil, head))
	text(head)
	last := head
	if chunks > 0 {
		out.Write(piece(head, chunk))
		again := piece(chunk, chunk)
		for range chunks - 1 {
			out.Write(again)
		}
		for range chunks {
			text(chunk)
		}
		last = chunk
	}
	w, err := flate.NewWriterDict(&out, flate.BestCompression, window(last))
	require.NoError(tb, err)
	for _, t := range [][]byte{rest, tail} {
		_, err = w.Write(t)
		require.NoError(tb, err)
		text(t)
	}
	require.NoError(tb, w.Close())
	return out.Bytes(), sum.Sum32(), size
}
