package ledger_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/bangfu/bangfu/internal/ledger"
)

func TestHashCoversContentAndChain(t *testing.T) {
	t.Parallel()
	at := time.Date(2026, 6, 1, 9, 0, 0, 123456789, time.UTC)
	e := ledger.Entry{StudentID: 1, Seq: 1, Kind: "contact", Channel: "phone", OccurredAt: at, Summary: "a", Visibility: "shared", AuthorID: 2, RecordedAt: at}
	h := ledger.ComputeHash(&e, nil)
	require.Len(t, h, 32)

	same := e
	same.OccurredAt = at.Truncate(time.Microsecond)
	require.Equal(t, h, ledger.ComputeHash(&same, nil), "times count to the microsecond, as stored")

	changed := e
	changed.Summary = "b"
	require.NotEqual(t, h, ledger.ComputeHash(&changed, nil))
	require.NotEqual(t, h, ledger.ComputeHash(&e, []byte{1}), "the previous hash is covered")
}
