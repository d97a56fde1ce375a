package postgres_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/bangfu/bangfu/internal/pgtest"
	"github.com/bangfu/bangfu/internal/postgres"
)

func TestLSNText(t *testing.T) {
	t.Parallel()
	for _, s := range []string{"0/0", "16/B374D848", "FFFFFFFF/FFFFFFFF"} {
		l, ok := postgres.ParseLSN(s)
		require.True(t, ok, s)
		require.Equal(t, s, l.String())
	}
	l, _ := postgres.ParseLSN("1/0")
	require.Equal(t, postgres.LSN(1<<32), l)
	for _, s := range []string{"", "x", "1", "1/", "/1", "-1/0", "100000000/0", "1/2/3/4/5/6/7/8/9/10"} {
		_, ok := postgres.ParseLSN(s)
		require.False(t, ok, "%q", s)
	}
}

// Without a replica every routed read is the primary's, and nothing is
// added to the answers.
func TestNoReplicaReadsThePrimary(t *testing.T) {
	t.Parallel()
	db := pgtest.NewDB(t)
	require.False(t, db.HasReplica())
	require.Same(t, db.Pool, db.Read(context.Background()))
	require.Same(t, db.Pool, db.ReadIf(context.Background(), true))
	require.Equal(t, postgres.ReplicaState{}, db.Replica())
	h := db.ReadYourWrites(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusCreated) }))
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodPost, "/", nil))
	require.Equal(t, http.StatusCreated, rec.Code)
	require.Empty(t, rec.Header().Get(postgres.LSNHeader))
	require.Empty(t, rec.Result().Cookies())
}
