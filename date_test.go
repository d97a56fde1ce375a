package bangfu_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/bangfu/bangfu"
)

func TestParseDate(t *testing.T) {
	t.Parallel()
	for in, ok := range map[string]bool{
		"2026-07-31": true, "1900-01-01": true, "2100-12-31": true,
		// Issue 11: year 0 passed validation.
		"0000-01-01": false, "1899-12-31": false, "2101-01-01": false, "9999-12-31": false,
		"2026-02-30": false, "2026-7-31": false, "2026-07-31T00:00:00Z": false, "\x002026-07-31": false,
	} {
		var p bangfu.Problems
		d := bangfu.ParseDate(&p, "due_on", in)
		if ok {
			require.NotNil(t, d, in)
			require.Equal(t, in, d.String())
			require.NoError(t, p.Err(), in)
		} else {
			require.Nil(t, d, in)
			require.Contains(t, p, "due_on", in)
		}
	}
	var p bangfu.Problems
	require.Nil(t, bangfu.ParseDate(&p, "due_on", ""))
	require.NoError(t, p.Err())
}
