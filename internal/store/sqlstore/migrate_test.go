package sqlstore

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
)

// openers are the two engines, each opening the same (empty at first) database every time
// it is called; PostgreSQL only when SIGIL_TEST_POSTGRES is set.
func openers(t *testing.T) map[string]func() (*Store, error) {
	out := map[string]func() (*Store, error){}
	path := filepath.Join(t.TempDir(), "sigil.db")
	out["sqlite"] = func() (*Store, error) { return OpenSQLite(context.Background(), path) }
	if dsn := os.Getenv("SIGIL_TEST_POSTGRES"); dsn != "" {
		db := emptyPostgres(t, dsn)
		out["postgres"] = func() (*Store, error) { return OpenPostgres(context.Background(), db) }
	} else {
		t.Log("SIGIL_TEST_POSTGRES is not set: PostgreSQL not tested")
	}
	return out
}

// TestMigrateConcurrently opens one empty database from several stores at once, as nodes
// starting together do: every open succeeds and every migration is applied exactly once.
func TestMigrateConcurrently(t *testing.T) {
	all, err := embeddedMigrations()
	if err != nil {
		t.Fatal(err)
	}
	for engine, open := range openers(t) {
		t.Run(engine, func(t *testing.T) {
			const nodes = 6
			var wg sync.WaitGroup
			var mu sync.Mutex
			var applied []int64
			errs := make([]error, nodes)
			start := make(chan struct{})
			for i := range nodes {
				wg.Go(func() {
					<-start
					s, err := open()
					if err != nil {
						errs[i] = err
						return
					}
					defer s.Close()
					a, v := s.Migrations()
					mu.Lock()
					defer mu.Unlock()
					applied = append(applied, a...)
					if v != all[len(all)-1].version {
						errs[i] = errors.New("schema version after open is not the newest migration")
					}
				})
			}
			close(start)
			wg.Wait()
			if err := errors.Join(errs...); err != nil {
				t.Fatal(err)
			}
			slices.Sort(applied)
			var want []int64
			for _, m := range all {
				want = append(want, m.version)
			}
			if !slices.Equal(applied, want) {
				t.Fatalf("migrations applied across %d concurrent opens: %v, want each of %v exactly once", nodes, applied, want)
			}
		})
	}
}

// TestSchemaTooNew: a database that a newer binary migrated is refused with an error that
// says so, before anything is changed.
func TestSchemaTooNew(t *testing.T) {
	for engine, open := range openers(t) {
		t.Run(engine, func(t *testing.T) {
			s, err := open()
			if err != nil {
				t.Fatal(err)
			}
			if _, err := s.db.Exec(`INSERT INTO schema_migrations (version, applied_at) VALUES (9999, 0)`); err != nil {
				t.Fatal(err)
			}
			s.Close()
			_, err = open()
			var tooNew *SchemaTooNewError
			if !errors.As(err, &tooNew) || tooNew.Database != 9999 || !strings.Contains(err.Error(), "newer than this sigil knows") {
				t.Fatalf("open on a newer schema: %v, want a SchemaTooNewError for 9999", err)
			}
		})
	}
}
