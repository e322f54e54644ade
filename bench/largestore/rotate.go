package main

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/sigil-idp/sigil/internal/directory"
	"github.com/sigil-idp/sigil/internal/store"
)

// timePrune runs DeleteExpired n times, at now+after, now+2·after, …, and prints how long
// each run took and what it left.
func timePrune(ctx context.Context, storage string, now time.Time, after time.Duration, n int) error {
	st, err := openStore(ctx, storage)
	if err != nil {
		return err
	}
	defer st.Close()
	for i := 1; i <= n; i++ {
		at := now.Add(time.Duration(i) * after)
		start := time.Now()
		if err := st.DeleteExpired(ctx, at); err != nil {
			return err
		}
		fmt.Printf("DeleteExpired at now+%v: %.0f ms\n", time.Duration(i)*after, float64(time.Since(start).Microseconds())/1000)
	}
	return nil
}

type rotateOptions struct {
	families, rotations, workers int
	rate                         float64
	prune                        bool
}

// rotate creates families through the store and rotates their tokens round-robin, on a
// simulated clock that advances 1/rate per rotation (each family is refreshed every
// families/rate seconds, past the 30 s reuse interval as long as that is above 30), and runs
// DeleteExpired every 10 simulated minutes when asked, as every node does. It reports the
// rows and the database size before and after.
func rotate(ctx context.Context, storage string, o rotateOptions) error {
	st, err := openStore(ctx, storage)
	if err != nil {
		return err
	}
	start := time.Now().Truncate(time.Millisecond)
	fmt.Printf("rotate: %d families, %d rotations, %d workers, %.0f/s simulated, prune=%v; a family refreshes every %.0f s\n",
		o.families, o.rotations, o.workers, o.rate, o.prune, float64(o.families)/o.rate)
	live := make([]string, o.families)
	for i := range live {
		id := b64(16, "grow", strconv.Itoa(i))
		live[i] = b64(32, "token", id)
		f := store.RefreshFamily{ID: id, CreatedAt: start, AbsoluteExpiresAt: start.Add(webAbs),
			Grant: store.Grant{TenantID: tenantID, ClientID: oboClient, UserID: "u" + strconv.Itoa(i%1000), Platform: directory.PlatformWeb,
				Resource: "api://mail", Scopes: strings.Fields(oboScopes), AuthTime: start}}
		if err := st.CreateRefreshFamily(ctx, f, store.RefreshToken{Hash: live[i], FamilyID: id, CreatedAt: start, ExpiresAt: start.Add(idle)}); err != nil {
			return err
		}
	}
	st.Close()
	if err := printSize(ctx, storage, "before"); err != nil {
		return err
	}
	if st, err = openStore(ctx, storage); err != nil {
		return err
	}
	defer st.Close()
	var count atomic.Int64
	simNow := func(n int64) time.Time { return start.Add(time.Duration(float64(n) / o.rate * float64(time.Second))) }
	// Workers own the families i ≡ w (mod workers) and take them in turn.
	var wg sync.WaitGroup
	var mu sync.Mutex
	var firstErr error
	fail := func(err error) {
		mu.Lock()
		if firstErr == nil {
			firstErr = err
		}
		mu.Unlock()
	}
	prunes := make(chan time.Time, 1)
	var pruneTime time.Duration
	var pruneRuns int
	var pruner sync.WaitGroup
	pruner.Go(func() {
		for at := range prunes {
			t0 := time.Now()
			if err := st.DeleteExpired(ctx, at); err != nil {
				fail(err)
			}
			pruneTime += time.Since(t0)
			pruneRuns++
		}
	})
	nextPrune := start.Add(pruneEvery)
	var pruneMu sync.Mutex
	t0 := time.Now()
	for w := range o.workers {
		wg.Go(func() {
			for k := 0; ctx.Err() == nil; k++ {
				i := w + k*o.workers
				if i >= o.families {
					k, i = 0, w
				}
				n := count.Add(1)
				if n > int64(o.rotations) {
					return
				}
				now := simNow(n)
				if o.prune {
					pruneMu.Lock()
					if !now.Before(nextPrune) {
						select {
						case prunes <- nextPrune:
						default: // the previous run is still going
						}
						nextPrune = nextPrune.Add(pruneEvery)
					}
					pruneMu.Unlock()
				}
				cur := live[i]
				next, _, err := st.RotateRefreshToken(ctx, store.Rotation{Hash: cur, Now: now, ReuseUntil: now.Add(reuse),
					Expires: now.Add(idle), Successor: func(gen int) string { return successor(cur, gen) }})
				if err != nil {
					fail(fmt.Errorf("rotation %d of family %d: %w", n, i, err))
					return
				}
				live[i] = next.Hash
			}
		})
	}
	wg.Wait()
	close(prunes)
	pruner.Wait()
	elapsed := time.Since(t0)
	if firstErr != nil {
		return firstErr
	}
	if ctx.Err() != nil {
		return errors.New("rotate: timed out")
	}
	fmt.Printf("rotate: %d rotations in %.1fs (%.0f/s), simulated %.0f s; DeleteExpired ran %d times, %.0f ms each on average\n",
		o.rotations, elapsed.Seconds(), float64(o.rotations)/elapsed.Seconds(), simNow(int64(o.rotations)).Sub(start).Seconds(),
		pruneRuns, float64(pruneTime.Milliseconds())/float64(max(pruneRuns, 1)))
	st.Close()
	return printSize(ctx, storage, "after")
}

// printSize prints the refresh tables' rows and the space the database uses: for SQLite the
// pages in use (page_count − freelist_count, after a checkpoint) and the file; for
// PostgreSQL pg_total_relation_size of the two tables (with their indexes and TOAST).
func printSize(ctx context.Context, storage, label string) error {
	pg := strings.HasPrefix(storage, "postgres")
	var db *sql.DB
	var err error
	if pg {
		db, err = sql.Open("pgx", storage)
	} else {
		db, err = sql.Open("sqlite", "file:"+strings.TrimPrefix(storage, "sqlite:"))
	}
	if err != nil {
		return err
	}
	defer db.Close()
	var tokens, families int64
	if err := db.QueryRowContext(ctx, `SELECT (SELECT COUNT(*) FROM refresh_tokens), (SELECT COUNT(*) FROM refresh_families)`).Scan(&tokens, &families); err != nil {
		return err
	}
	if pg {
		var tsize, fsize, dbsize int64
		if _, err := db.ExecContext(ctx, `VACUUM refresh_tokens`); err != nil {
			return err
		}
		if err := db.QueryRowContext(ctx, `SELECT pg_total_relation_size('refresh_tokens'), pg_total_relation_size('refresh_families'),
			pg_database_size(current_database())`).Scan(&tsize, &fsize, &dbsize); err != nil {
			return err
		}
		fmt.Printf("size %s: refresh_tokens %d rows, %.1f MiB; refresh_families %d rows, %.1f MiB; database %.1f MiB\n",
			label, tokens, mib(tsize), families, mib(fsize), mib(dbsize))
		return nil
	}
	if _, err := db.ExecContext(ctx, `PRAGMA wal_checkpoint(TRUNCATE)`); err != nil {
		return err
	}
	var pages, free, size int64
	if err := db.QueryRowContext(ctx, `SELECT page_count, freelist_count, page_size FROM pragma_page_count, pragma_freelist_count, pragma_page_size`).Scan(&pages, &free, &size); err != nil {
		return err
	}
	var tsize int64
	// dbstat is compiled into modernc's SQLite: the pages of the tokens table and its indexes.
	if err := db.QueryRowContext(ctx, `SELECT COALESCE(SUM(pgsize), 0) FROM dbstat WHERE name = 'refresh_tokens' OR name IN
		(SELECT name FROM sqlite_schema WHERE tbl_name = 'refresh_tokens' AND type = 'index')`).Scan(&tsize); err != nil {
		tsize = -1
	}
	fmt.Printf("size %s: refresh_tokens %d rows (%.1f MiB with its indexes); refresh_families %d rows; in use %.1f MiB, file %.1f MiB (%.1f MiB free pages)\n",
		label, tokens, mib(tsize), families, mib((pages-free)*size), mib(pages*size), mib(free*size))
	return nil
}

func mib(b int64) float64 { return float64(b) / (1 << 20) }
