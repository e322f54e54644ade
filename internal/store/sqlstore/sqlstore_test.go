package sqlstore

import (
	"context"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/sigil-idp/sigil/internal/store"
	"github.com/sigil-idp/sigil/internal/store/storetest"
)

func TestSQLite(t *testing.T) {
	var paths sync.Map // *Store → its file
	open := func(tb testing.TB, path string) store.Store {
		s, err := OpenSQLite(context.Background(), path)
		if err != nil {
			tb.Fatal(err)
		}
		tb.Cleanup(func() { s.Close() })
		s.pruneBatch, s.pruneRead = 2, 3 // every pruning test crosses batches and reads
		paths.Store(s, path)
		return s
	}
	storetest.Run(t, func(tb testing.TB) store.Store { return open(tb, filepath.Join(tb.TempDir(), "sigil.db")) },
		func(tb testing.TB, s store.Store) store.Store { // a second *sql.DB on the file, as a second process
			path, _ := paths.Load(s)
			return open(tb, path.(string))
		})
}

// TestPostgres runs the suite on PostgreSQL when SIGIL_TEST_POSTGRES names a database URL the
// test may create databases through; each subtest gets a fresh database.
func TestPostgres(t *testing.T) {
	dsn := os.Getenv("SIGIL_TEST_POSTGRES")
	if dsn == "" {
		t.Skip("SIGIL_TEST_POSTGRES is not set")
	}
	var dsns sync.Map // *Store → its database URL
	storetest.Run(t, func(tb testing.TB) store.Store {
		s, u := freshPostgres(tb, dsn)
		s.pruneBatch, s.pruneRead = 2, 3 // every pruning test crosses batches and reads
		dsns.Store(s, u)
		return s
	}, func(tb testing.TB, s store.Store) store.Store { // a second pool on the database, as a second node
		u, _ := dsns.Load(s)
		s2, err := OpenPostgres(context.Background(), u.(string))
		if err != nil {
			tb.Fatal(err)
		}
		tb.Cleanup(func() { s2.Close() })
		return s2
	})
}

// TestReserveRaceSQLite races reservations through two stores (two *sql.DB, as two
// processes would have) on one SQLite file.
func TestReserveRaceSQLite(t *testing.T) {
	path := filepath.Join(t.TempDir(), "sigil.db")
	raceTwoStores(t, func() (*Store, error) { return OpenSQLite(context.Background(), path) })
}

// TestReserveRacePostgres races reservations through two stores on one PostgreSQL database
// (two nodes) when SIGIL_TEST_POSTGRES is set.
func TestReserveRacePostgres(t *testing.T) {
	dsn := os.Getenv("SIGIL_TEST_POSTGRES")
	if dsn == "" {
		t.Skip("SIGIL_TEST_POSTGRES is not set")
	}
	url := emptyPostgres(t, dsn)
	raceTwoStores(t, func() (*Store, error) { return OpenPostgres(context.Background(), url) })
}

// raceTwoStores runs storetest.RaceTwoStores on two stores that open opens on one database.
func raceTwoStores(t *testing.T, open func() (*Store, error)) {
	var two [2]*Store
	for i := range two {
		s, err := open()
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		two[i] = s
	}
	storetest.RaceTwoStores(t, two[0], two[1])
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

// TestSQLitePragmas: every connection of a SQLite store is durable (WAL, synchronous=FULL),
// checks foreign keys, waits on a busy database, and keeps its WAL file from staying large.
func TestSQLitePragmas(t *testing.T) {
	s, err := OpenSQLite(context.Background(), filepath.Join(t.TempDir(), "sigil.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	for pragma, want := range map[string]string{"journal_mode": "wal", "synchronous": "2", "foreign_keys": "1",
		"busy_timeout": "10000", "journal_size_limit": "67108864"} {
		var got string
		if err := s.db.QueryRow("PRAGMA " + pragma).Scan(&got); err != nil {
			t.Fatal(err)
		}
		if got != want {
			t.Errorf("PRAGMA %s = %s, want %s", pragma, got, want)
		}
	}
}
