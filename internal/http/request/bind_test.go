package request_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/bangfu/bangfu"
	"github.com/bangfu/bangfu/internal/http/request"
)

type entry struct {
	OccurredAt time.Time `json:"occurred_at"`
	Summary    string    `json:"summary"`
}

type group struct {
	IDs   []int64 `json:"student_ids"`
	Entry entry   `json:"entry"`
	Days  int     `json:"days"`
}

func TestBindNamesTheField(t *testing.T) {
	t.Parallel()
	for body, want := range map[string]map[string]string{
		// Issue 11: a date alone answered a Go parse error under "body".
		`{"entry":{"occurred_at":"2026-07-31"}}`:         {"entry.occurred_at": "must be a time like 2026-07-31T09:00:00+08:00"},
		`{"entry":{"summary":"a\u0000b"}}`:               {"entry.summary": "must not contain control characters"},
		`{"days":9223372036854775807}`:                   {"days": "is out of range"},
		`{"days":2147483648}`:                            {"days": "is out of range"},
		`{"student_ids":[9223372036854775807],"days":1}`: nil,
		`{"days":"7"}`:                                   {"days": "must be a whole number"},
		`{"":1}`:                                         {"body": "has a field that is not a known one"},
		`{"nope":1}`:                                     {"nope": "is not a known field"},
	} {
		var g group
		err := request.BindBytes([]byte(body), &g)
		if want == nil {
			require.NoError(t, err, body)
			continue
		}
		require.Equal(t, bangfu.EINVALID, bangfu.ErrorCode(err), body)
		require.Equal(t, want, bangfu.FieldsOf(err), body)
	}
	var e entry
	require.NoError(t, request.BindBytes([]byte(`{"occurred_at":"2026-07-31T09:00:00+08:00","summary":"电话\n联系"}`), &e))
	require.Equal(t, "电话\n联系", e.Summary)
}
