package sqlstore

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sigil-idp/sigil/internal/store"
)

// BenchmarkRotateParallel rotates refresh tokens from 32 goroutines, each on its own chain
// as a worker of the load run has — the store's durable write path alone, no signing — and
// reports how many rotations each fsync carried: on SQLite the committer's batch sizes
// ("writes/commit"), on PostgreSQL the commits per WAL sync of the server
// (pg_stat_wal.wal_sync, "commits/sync"; SIGIL_TEST_POSTGRES set).
//
//	go test ./internal/store/sqlstore -run '^$' -bench RotateParallel -benchtime 3000x
func BenchmarkRotateParallel(b *testing.B) {
	b.Run("sqlite", func(b *testing.B) {
		s, err := OpenSQLite(context.Background(), filepath.Join(b.TempDir(), "sigil.db"))
		if err != nil {
			b.Fatal(err)
		}
		defer s.Close()
		var commits, writes atomic.Int64
		s.SetBatchObserver(func(n int) { commits.Add(1); writes.Add(int64(n)) })
		rotateParallel(b, s, func() {
			commits.Store(0)
			writes.Store(0)
		}, func() {
			b.ReportMetric(float64(writes.Load())/float64(max(commits.Load(), 1)), "writes/commit")
		})
	})
	b.Run("postgres", func(b *testing.B) {
		dsn := os.Getenv("SIGIL_TEST_POSTGRES")
		if dsn == "" {
			b.Skip("SIGIL_TEST_POSTGRES is not set")
		}
		s, _ := freshPostgres(b, dsn)
		var syncs0 int64
		walSyncs := func() int64 {
			var n int64
			if err := s.db.QueryRow(`SELECT wal_sync FROM pg_stat_wal`).Scan(&n); err != nil {
				b.Fatal(err)
			}
			return n
		}
		rotateParallel(b, s, func() { syncs0 = walSyncs() }, func() {
			b.ReportMetric(float64(b.N)/float64(max(walSyncs()-syncs0, 1)), "commits/sync")
		})
	})
}

func rotateParallel(b *testing.B, s *Store, start, stop func()) {
	ctx := context.Background()
	now := time.Now().Truncate(time.Millisecond)
	const workers = 32
	var next atomic.Int64
	chains := make(chan string, workers)
	for w := range workers {
		id := "fam" + strconv.Itoa(w)
		f := store.RefreshFamily{ID: id, Grant: store.Grant{TenantID: "t", ClientID: "c", UserID: "u", SessionID: "s",
			Platform: "spa", Resource: "api://todo", Scopes: []string{"api://todo/Todo.Read"}, AuthTime: now},
			CreatedAt: now, AbsoluteExpiresAt: now.Add(24 * time.Hour)}
		first := store.RefreshToken{Hash: id + "-0", FamilyID: id, CreatedAt: now, ExpiresAt: now.Add(time.Hour)}
		if err := s.CreateRefreshFamily(ctx, f, first); err != nil {
			b.Fatal(err)
		}
		chains <- first.Hash
	}
	b.SetParallelism((workers + 1) / 2) // × GOMAXPROCS goroutines; each takes a chain
	start()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		hash := <-chains
		for pb.Next() {
			n := next.Add(1)
			successor := func(gen int) string { return fmt.Sprintf("%s/%d.%d", hash, n, gen) }
			rt, _, err := s.RotateRefreshToken(ctx, store.Rotation{Hash: hash, Successor: successor, Now: now,
				ReuseUntil: now, Expires: now.Add(time.Hour)})
			if err != nil {
				b.Error(err)
				return
			}
			hash = rt.Hash
		}
	})
	b.StopTimer()
	stop()
}
