package pgtest

import (
	"context"
	"os"
	"testing"

	"github.com/bangfu/bangfu/internal/postgres"
)

// BenchDB opens the province-scale database that `make bench` loads
// (BANGFU_BENCH_DATABASE_URL). Benchmarks that need its size skip without
// it: `make bench` sets it.
func BenchDB(b *testing.B) *postgres.DB {
	b.Helper()
	url := os.Getenv("BANGFU_BENCH_DATABASE_URL")
	if url == "" {
		b.Skip("BANGFU_BENCH_DATABASE_URL is not set: run `make bench`, which loads the synthetic province")
	}
	db, err := postgres.Open(context.Background(), url, 8)
	if err != nil {
		b.Fatalf("open bench database: %v", err)
	}
	b.Cleanup(db.Close)
	return db
}
