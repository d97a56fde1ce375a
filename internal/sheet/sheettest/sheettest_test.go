package sheettest_test

import (
	"archive/zip"
	"bytes"
	"fmt"
	"io"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"github.com/xuri/excelize/v2"

	"github.com/bangfu/bangfu/internal/sheet/sheettest"
)

func TestRepeatedRowsReadBack(t *testing.T) {
	t.Parallel()
	for _, n := range []int{0, 1, 5, 1000, 2345} {
		data := sheettest.RepeatedRows(t, []string{"学号", "姓名"}, []any{"S<1>", "陈晓", 2026}, n)
		f, err := excelize.OpenReader(bytes.NewReader(data))
		require.NoError(t, err)
		rows, err := f.GetRows("Sheet1")
		require.NoError(t, err)
		require.Len(t, rows, n+1, "n=%d", n)
		require.Equal(t, []string{"学号", "姓名"}, rows[0])
		if n > 0 {
			require.Equal(t, []string{"S<1>", "陈晓", "2026"}, rows[n], fmt.Sprint(n))
		}
		require.NoError(t, f.Close())
		zr, err := zip.NewReader(bytes.NewReader(data), int64(len(data)))
		require.NoError(t, err)
		for _, zf := range zr.File {
			rc, err := zf.Open()
			require.NoError(t, err)
			_, err = io.Copy(io.Discard, rc)
			require.NoError(t, err, "%s: sizes and checksum as declared", zf.Name)
			require.NoError(t, rc.Close())
		}
	}
}

func TestAMillionRowsPackSmall(t *testing.T) {
	t.Parallel()
	row := make([]any, 20)
	for i := range row {
		row[i] = 1
	}
	start := time.Now()
	data := sheettest.RepeatedRows(t, []string{"学号"}, row, 1_000_000)
	t.Logf("built in %v", time.Since(start))
	require.Less(t, len(data), 2<<20, "%d bytes", len(data))
	zr, err := zip.NewReader(bytes.NewReader(data), int64(len(data)))
	require.NoError(t, err)
	for _, zf := range zr.File {
		if zf.Name == "xl/worksheets/sheet1.xml" {
			rc, err := zf.Open()
			require.NoError(t, err)
			n, err := io.Copy(io.Discard, rc)
			require.NoError(t, err)
			require.Greater(t, n, int64(1_000_000*20*len(`<c><v>1</v></c>`)))
		}
	}
}
