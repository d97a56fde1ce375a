package export

import (
	"bytes"
	"encoding/csv"
	"io"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/stretchr/testify/require"
	"github.com/xuri/excelize/v2"

	"github.com/bangfu/bangfu"
)

var hostile = []string{"=1+1", "+86 138", "-5", "@SUM(A1)", "\tx", "\rx", "普通文本", ""}

// TestCSV: a byte-order mark, CRLF lines, Chinese as UTF-8, and every
// text cell a spreadsheet would run written as text; numbers stay numbers.
func TestCSV(t *testing.T) {
	t.Parallel()
	var b bytes.Buffer
	w := New(&b, CSV)
	require.NoError(t, w.Sheet("表", []string{"姓名", "数", "比例", "日期", "是否"}))
	for _, h := range hostile {
		require.NoError(t, w.Row(h, -3, Percent(0.725), bangfu.NewDate(2026, time.July, 31), true))
	}
	require.ErrorIs(t, w.Sheet("第二张", []string{"x"}), ErrOneSheet)
	require.NoError(t, w.Close())
	require.True(t, bytes.HasPrefix(b.Bytes(), []byte("\ufeff姓名,数,比例,日期,是否\r\n")))
	recs, err := csv.NewReader(bytes.NewReader(bytes.TrimPrefix(b.Bytes(), []byte("\ufeff")))).ReadAll()
	require.NoError(t, err)
	var names []string
	for _, r := range recs[1:] {
		names = append(names, r[0])
		require.Equal(t, []string{"-3", "72.5%", "2026-07-31", "是"}, r[1:], "a number is not text")
	}
	// (encoding/csv, writing CRLF lines, drops a carriage return inside a
	// cell; the apostrophe before it stays.)
	require.Equal(t, []string{"'=1+1", "'+86 138", "'-5", "'@SUM(A1)", "'\tx", "'x", "普通文本", ""}, names)
}

// TestXLSX: sheets with Chinese headers; text cells are inline strings,
// never formulas, shown as typed; numbers and percentages are numbers; a
// table longer than a sheet continues on the next.
func TestXLSX(t *testing.T) {
	t.Parallel()
	var b bytes.Buffer
	w := New(&b, XLSX).(*xlsxWriter)
	w.limit = 3
	require.NoError(t, w.Sheet("帮扶台账", []string{"姓名", "数", "比例"}))
	for _, h := range hostile {
		require.NoError(t, w.Row(h, 7, Percent(0.5)))
	}
	require.NoError(t, w.Sheet("台账记录", []string{"摘要"}))
	require.NoError(t, w.Row("=cmd|' /C calc'!A0"))
	require.NoError(t, w.Close())
	w.Abort() // after Close: nothing

	f, err := excelize.OpenReader(&b)
	require.NoError(t, err)
	defer f.Close()
	require.Equal(t, []string{"帮扶台账", "帮扶台账 (2)", "帮扶台账 (3)", "台账记录"}, f.GetSheetList())
	var names []string
	for _, sheet := range f.GetSheetList()[:3] {
		rows, err := f.GetRows(sheet)
		require.NoError(t, err)
		require.Equal(t, []string{"姓名", "数", "比例"}, rows[0], "each part repeats the headers")
		require.LessOrEqual(t, len(rows)-1, 3)
		for i, r := range rows[1:] {
			names = append(names, r[0])
			cell, _ := excelize.CoordinatesToCellName(1, i+2)
			formula, err := f.GetCellFormula(sheet, cell)
			require.NoError(t, err)
			require.Empty(t, formula)
			if r[0] != "" {
				typ, err := f.GetCellType(sheet, cell)
				require.NoError(t, err)
				require.Equal(t, excelize.CellTypeInlineString, typ)
			}
			typ, err := f.GetCellType(sheet, "B2")
			require.NoError(t, err)
			require.Equal(t, excelize.CellTypeUnset, typ, "a number (no type attribute)")
			v, err := f.GetCellValue(sheet, "C2", excelize.Options{RawCellValue: true})
			require.NoError(t, err)
			require.Equal(t, "0.5", v)
		}
	}
	require.Equal(t, []string{"=1+1", "+86 138", "-5", "@SUM(A1)", "\tx", "\rx", "普通文本", ""}, names, "shown as typed")
	rows, err := f.GetRows("台账记录")
	require.NoError(t, err)
	require.Equal(t, "=cmd|' /C calc'!A0", rows[1][0])
}

// TestAbort: a writer stopped early writes nothing more, and what it
// wrote does not open as a workbook.
func TestAbort(t *testing.T) {
	t.Parallel()
	var b bytes.Buffer
	w := New(&b, XLSX)
	require.NoError(t, w.Sheet("表", []string{"a"}))
	require.NoError(t, w.Row("x"))
	w.Abort()
	n := b.Len()
	require.NoError(t, w.Close(), "Close after Abort does nothing")
	require.Equal(t, n, b.Len())
	_, err := excelize.OpenReader(&b)
	require.Error(t, err, "a cut workbook is no workbook")
}

// TestXLSXText: text reads back as written — markup characters, line
// breaks, carriage returns, Chinese — characters XML cannot hold are
// replaced, and a cell stops at Excel's 32,767 characters.
func TestXLSXText(t *testing.T) {
	t.Parallel()
	var b bytes.Buffer
	w := New(&b, XLSX)
	long := strings.Repeat("长", maxText+10)
	require.NoError(t, w.Sheet(`台账 <"&">`, []string{"值"}))
	for _, v := range []string{`<b>&amp;"'</b>`, "第一行\n第二行", "a\rb", "x\x01y\xffz", long} {
		require.NoError(t, w.Row(v))
	}
	require.NoError(t, w.Close())
	f, err := excelize.OpenReader(&b)
	require.NoError(t, err)
	defer f.Close()
	require.Equal(t, []string{`台账 <"&">`}, f.GetSheetList())
	rows, err := f.GetRows(`台账 <"&">`)
	require.NoError(t, err)
	require.Equal(t, `<b>&amp;"'</b>`, rows[1][0])
	require.Equal(t, "第一行\n第二行", rows[2][0])
	require.Equal(t, "a\rb", rows[3][0])
	require.Equal(t, "x\uFFFDy\uFFFDz", rows[4][0])
	require.Equal(t, maxText, utf8.RuneCountInString(rows[5][0]))
}

// BenchmarkXLSX writes a sheet of 100,000 rows of 17 cells, like the
// ledger's graduates, to nowhere.
func BenchmarkXLSX(b *testing.B) {
	row := []any{"广东某职业技术学院", "信息工程学院", "李明", "2026123456", "440***********1234", "本科", 2026, "低保家庭",
		"王老师", "岗位推荐（进行中）；就业指导（已完成）", 3, 2, time.Date(2026, 6, 1, 9, 0, 0, 0, bangfu.Shanghai), "80 升学", "已核实", true, "已落实"}
	for b.Loop() {
		w := New(io.Discard, XLSX)
		if err := w.Sheet("帮扶台账", make([]string, len(row))); err != nil {
			b.Fatal(err)
		}
		for range 100000 {
			if err := w.Row(row...); err != nil {
				b.Fatal(err)
			}
		}
		if err := w.Close(); err != nil {
			b.Fatal(err)
		}
	}
}
