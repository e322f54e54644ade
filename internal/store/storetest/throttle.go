package storetest

import (
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sigil-idp/sigil/internal/store"
)

// attempt is a reservation of key with limit at now, in a 15-minute window, lapsing after a
// minute.
func attempt(id, key string, limit int, now time.Time) store.Attempt {
	return store.Attempt{ID: id, Key: key, Limit: limit, Since: now.Add(-15 * time.Minute), Now: now, Until: now.Add(time.Minute)}
}

func reserve(tb testing.TB, s store.Store, a store.Attempt) bool {
	tb.Helper()
	ok, err := s.ReserveAttempt(ctx(tb), a)
	must(tb, err)
	return ok
}

// testReservations: reservations count with failures against the limit; failing one keeps
// the count, releasing one frees it, a lapsed one stops counting, failures count only within
// the window, and keys are independent.
func testReservations(t *testing.T, s store.Store) {
	const key, limit = "account:a", 3
	for i := range limit {
		if !reserve(t, s, attempt(fmt.Sprint("r", i), key, limit, base)) {
			t.Fatalf("reservation %d refused below the limit", i)
		}
	}
	if reserve(t, s, attempt("over", key, limit, base)) {
		t.Fatal("a reservation at the limit was made")
	}
	if !reserve(t, s, attempt("other", "account:b", limit, base)) {
		t.Fatal("another key's reservation was refused")
	}
	must(t, s.FailAttempt(ctx(t), "r0", key, base.Add(time.Second)))
	if n, err := s.LoginFailures(ctx(t), key, base.Add(-time.Hour)); err != nil || n != 1 {
		t.Fatalf("after one failed reservation: %d failures (%v), want 1", n, err)
	}
	if reserve(t, s, attempt("over", key, limit, base.Add(2*time.Second))) {
		t.Fatal("a failed reservation stopped counting")
	}
	must(t, s.ReleaseAttempt(ctx(t), "r1"))
	if !reserve(t, s, attempt("r3", key, limit, base.Add(2*time.Second))) {
		t.Fatal("a released reservation still counts")
	}
	// r2 and r3 lapse a minute after they were made; the failure (r0) still counts.
	later := base.Add(2 * time.Minute)
	for i := range limit - 1 {
		if !reserve(t, s, attempt(fmt.Sprint("l", i), key, limit, later)) {
			t.Fatalf("lapsed reservations still count (reservation %d refused)", i)
		}
	}
	if reserve(t, s, attempt("over2", key, limit, later)) {
		t.Fatal("the failure within the window stopped counting")
	}
	// Past the window the failure no longer counts (the l* reservations have lapsed too).
	if !reserve(t, s, store.Attempt{ID: "late", Key: key, Limit: 1, Since: base.Add(5 * time.Second),
		Now: base.Add(time.Hour), Until: base.Add(time.Hour + time.Minute)}) {
		t.Fatal("a failure before the window still counts")
	}
	// Failing a reservation that is gone records the failure anyway.
	must(t, s.FailAttempt(ctx(t), "never-made", "account:c", base))
	if n, err := s.LoginFailures(ctx(t), "account:c", base.Add(-time.Hour)); err != nil || n != 1 {
		t.Fatalf("failing a missing reservation: %d failures (%v), want 1", n, err)
	}
	must(t, s.PruneLoginFailures(ctx(t), base.Add(2*time.Hour)))
	if n, err := s.LoginFailures(ctx(t), key, base.Add(-time.Hour)); err != nil || n != 0 {
		t.Fatalf("after pruning: %d failures (%v), want 0", n, err)
	}
	if !reserve(t, s, store.Attempt{ID: "fresh", Key: key, Limit: 1, Since: base, Now: base, Until: base.Add(time.Minute)}) {
		t.Fatal("pruning left reservations behind")
	}
}

// RaceTwoStores checks ReserveAttempt under contention between two stores on one database
// (two nodes, or two processes on one SQLite file), so that no lock inside one store can hide
// a race: 100 concurrent reservations of one key with a limit of 10, two failures recorded
// before, yield exactly 8 reservations.
func RaceTwoStores(t *testing.T, a, b store.Store) {
	const key, limit, callers, failed = "account:race", 10, 100, 2
	for range failed {
		must(t, a.RecordLoginFailure(ctx(t), key, base))
	}
	var granted atomic.Int32
	var wg sync.WaitGroup
	start := make(chan struct{})
	errs := make(chan error, callers)
	for i := range callers {
		s := a
		if i%2 == 1 {
			s = b
		}
		wg.Go(func() {
			<-start
			ok, err := s.ReserveAttempt(ctx(t), attempt(fmt.Sprint("race", i), key, limit, base.Add(time.Second)))
			if err != nil {
				errs <- err
				return
			}
			if ok {
				granted.Add(1)
			}
		})
	}
	close(start)
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if got := granted.Load(); got != limit-failed {
		t.Fatalf("%d of %d concurrent reservations were made, want exactly %d (limit %d, %d failures before)",
			got, callers, limit-failed, limit, failed)
	}
}
