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
	return store.Attempt{ID: id, Keys: []store.AttemptKey{{Key: key, Limit: limit}}, Since: now.Add(-15 * time.Minute),
		Now: now, Until: now.Add(time.Minute)}
}

func reserve(tb testing.TB, s store.Store, a store.Attempt) bool {
	tb.Helper()
	refused, err := s.ReserveAttempt(ctx(tb), a)
	must(tb, err)
	return refused == -1
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
	must(t, s.FailAttempt(ctx(t), "r0", []string{key}, base.Add(time.Second)))
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
	if !reserve(t, s, store.Attempt{ID: "late", Keys: []store.AttemptKey{{Key: key, Limit: 1}}, Since: base.Add(5 * time.Second),
		Now: base.Add(time.Hour), Until: base.Add(time.Hour + time.Minute)}) {
		t.Fatal("a failure before the window still counts")
	}
	// Failing a reservation that is gone records the failure anyway.
	must(t, s.FailAttempt(ctx(t), "never-made", []string{"account:c"}, base))
	if n, err := s.LoginFailures(ctx(t), "account:c", base.Add(-time.Hour)); err != nil || n != 1 {
		t.Fatalf("failing a missing reservation: %d failures (%v), want 1", n, err)
	}
	must(t, s.PruneLoginFailures(ctx(t), base.Add(2*time.Hour)))
	if n, err := s.LoginFailures(ctx(t), key, base.Add(-time.Hour)); err != nil || n != 0 {
		t.Fatalf("after pruning: %d failures (%v), want 0", n, err)
	}
	if !reserve(t, s, store.Attempt{ID: "fresh", Keys: []store.AttemptKey{{Key: key, Limit: 1}}, Since: base, Now: base, Until: base.Add(time.Minute)}) {
		t.Fatal("pruning left reservations behind")
	}
}

// testMultiKeyReservations: a reservation under several keys is all or nothing, reports the
// first key at its limit, and is released or failed under every key at once.
func testMultiKeyReservations(t *testing.T, s store.Store) {
	two := func(id string, accountLimit, addressLimit int) store.Attempt {
		return store.Attempt{ID: id, Keys: []store.AttemptKey{{Key: "account:m", Limit: accountLimit}, {Key: "address:m", Limit: addressLimit}},
			Since: base.Add(-15 * time.Minute), Now: base, Until: base.Add(time.Minute)}
	}
	if refused, err := s.ReserveAttempt(ctx(t), two("a", 1, 5)); err != nil || refused != -1 {
		t.Fatalf("first: refused %d (%v), want reserved", refused, err)
	}
	if refused, err := s.ReserveAttempt(ctx(t), two("b", 1, 5)); err != nil || refused != 0 {
		t.Fatalf("account at its limit: refused %d (%v), want 0", refused, err)
	}
	if refused, err := s.ReserveAttempt(ctx(t), two("c", 5, 1)); err != nil || refused != 1 {
		t.Fatalf("address at its limit: refused %d (%v), want 1", refused, err)
	}
	// The refused ones reserved nothing: the address has one reservation in flight (a's).
	if !reserve(t, s, attempt("d", "address:m", 2, base)) || reserve(t, s, attempt("e", "address:m", 2, base)) {
		t.Fatal("a refused multi-key reservation left a row behind")
	}
	must(t, s.FailAttempt(ctx(t), "a", []string{"account:m", "address:m"}, base))
	for _, k := range []string{"account:m", "address:m"} {
		if n, err := s.LoginFailures(ctx(t), k, base.Add(-time.Hour)); err != nil || n != 1 {
			t.Fatalf("%s after failing: %d failures (%v), want 1", k, n, err)
		}
	}
	must(t, s.ReleaseAttempt(ctx(t), "d"))
	if !reserve(t, s, attempt("f", "address:m", 2, base)) {
		t.Fatal("a released reservation still counts")
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
			refused, err := s.ReserveAttempt(ctx(t), attempt(fmt.Sprint("race", i), key, limit, base.Add(time.Second)))
			if err != nil {
				errs <- err
				return
			}
			if refused == -1 {
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
