package sqlstore

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/sigil-idp/sigil/internal/store"
	"github.com/sigil-idp/sigil/internal/store/storetest"
)

func TestSQLite(t *testing.T) {
	storetest.Run(t, func(tb testing.TB) store.Store {
		s, err := OpenSQLite(context.Background(), filepath.Join(tb.TempDir(), "sigil.db"))
		if err != nil {
			tb.Fatal(err)
		}
		tb.Cleanup(func() { s.Close() })
		return s
	})
}

// TestPostgres runs the suite on PostgreSQL when SIGIL_TEST_POSTGRES names a database URL the
// test may create databases through; each subtest gets a fresh database.
func TestPostgres(t *testing.T) {
	dsn := os.Getenv("SIGIL_TEST_POSTGRES")
	if dsn == "" {
		t.Skip("SIGIL_TEST_POSTGRES is not set")
	}
	storetest.Run(t, func(tb testing.TB) store.Store { return freshPostgres(tb, dsn) })
}

func TestMigrationsAreIdempotent(t *testing.T) {
	path := filepath.Join(t.TempDir(), "sigil.db")
	for range 2 {
		s, err := OpenSQLite(context.Background(), path)
		if err != nil {
			t.Fatal(err)
		}
		s.Close()
	}
}
