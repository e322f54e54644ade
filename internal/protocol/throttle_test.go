package protocol

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"
)

func TestAddressGate(t *testing.T) {
	now := time.Unix(1_800_000_000, 0)
	g := newAddressGate(Throttle{AddressConcurrency: 2, AddressBurst: 4, AddressRefill: 10 * time.Second}, func() time.Time { return now })
	g.max = 3

	// Concurrency: two at once per address.
	d1, fresh1, w1 := g.admit("a")
	d2, fresh2, w2 := g.admit("a")
	_, _, w3 := g.admit("a")
	if w1 != 0 || w2 != 0 || w3 != time.Second || !fresh1 || fresh2 {
		t.Fatalf("three at once: waits %v %v %v, fresh %v %v; want the third refused, only the first fresh", w1, w2, w3, fresh1, fresh2)
	}
	d1()
	d2()
	// Burst: four in a row, the fifth refused until a refill.
	d, fresh, w := g.admit("a")
	if w != 0 || fresh {
		t.Fatalf("third check: wait %v fresh %v; want admitted, not fresh", w, fresh)
	}
	d()
	d, fresh, w = g.admit("a")
	if w != 0 || fresh {
		t.Fatalf("fourth check: wait %v fresh %v; want admitted, not fresh", w, fresh)
	}
	d()
	if _, _, w := g.admit("a"); w != 10*time.Second {
		t.Fatalf("fifth check: wait %v, want 10s", w)
	}
	now = now.Add(5 * time.Second)
	if _, _, w := g.admit("a"); w != 5*time.Second {
		t.Fatalf("half a refill later: wait %v, want 5s", w)
	}
	now = now.Add(5 * time.Second)
	if d, _, w := g.admit("a"); w != 0 {
		t.Fatalf("a refill later: wait %v, want admitted", w)
	} else {
		d()
	}
	// Other addresses are independent; the map is bounded, failing closed when every entry
	// is busy, and forgets addresses back to a full bucket.
	db, _, _ := g.admit("b")
	dc, _, _ := g.admit("c")
	if _, _, w := g.admit("d"); w == 0 {
		t.Fatal("a fourth address was admitted into a full map of busy addresses")
	}
	db()
	dc()
	now = now.Add(time.Minute)
	if d, _, w := g.admit("d"); w != 0 {
		t.Fatalf("after the others idled: wait %v, want admitted", w)
	} else {
		d()
	}
	if len(g.entries) > g.max {
		t.Fatalf("%d entries, want at most %d", len(g.entries), g.max)
	}
}

func TestHashQueuePriority(t *testing.T) {
	q := newHashQueue(1)
	q.lowMax = 1 // one slot: it is everyone's
	if _, err := q.acquire(context.Background(), false); err != nil {
		t.Fatal(err)
	}
	order := make(chan string, 4)
	started := make(chan struct{})
	var done sync.WaitGroup // every waiter has released its slot
	for _, w := range []struct {
		name     string
		priority bool
	}{{"low1", false}, {"low2", false}, {"high1", true}, {"high2", true}} {
		done.Add(1)
		go func() {
			defer done.Done()
			started <- struct{}{}
			got, err := q.acquire(context.Background(), w.priority)
			if err != nil {
				order <- "error " + err.Error()
				return
			}
			order <- w.name
			q.release(got)
		}()
		<-started
		// Wait until it is queued, so the order of arrival is fixed.
		for deadline := time.Now().Add(5 * time.Second); ; {
			q.mu.Lock()
			n := len(q.high) + len(q.low)
			q.mu.Unlock()
			if n > 0 && n == countQueued(w.name) || time.Now().After(deadline) {
				break
			}
			time.Sleep(time.Millisecond)
		}
	}
	// A waiter that gives up leaves no slot behind.
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := q.acquire(ctx, true); err == nil {
		t.Fatal("acquire with a cancelled context succeeded while the slot is held")
	}
	q.release(false)
	var got []string
	for range 4 {
		got = append(got, <-order)
	}
	if fmt.Sprint(got) != "[high1 high2 low1 low2]" {
		t.Errorf("order %v, want the priority waiters first, each lane in order", got)
	}
	done.Wait()
	q.mu.Lock()
	free := q.free
	q.mu.Unlock()
	if free != 1 {
		t.Errorf("%d free slots at the end, want 1", free)
	}
}

// TestHashQueueKeepsASlot: checks without priority never hold the last slot.
func TestHashQueueKeepsASlot(t *testing.T) {
	q := newHashQueue(2)
	if _, err := q.acquire(context.Background(), false); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	if _, err := q.acquire(ctx, false); err == nil {
		t.Fatal("a second check without priority got the last slot")
	}
	if _, err := q.acquire(context.Background(), true); err != nil {
		t.Fatal(err)
	}
	q.release(true)
	q.release(false)
	if q.free != 2 || q.lowBusy != 0 || len(q.low)+len(q.high) != 0 {
		t.Errorf("free %d, lowBusy %d, waiting %d; want 2, 0, 0", q.free, q.lowBusy, len(q.low)+len(q.high))
	}
}

// TestHashQueueWave: past maxHighWaiting waiters with priority, more ask in vain.
func TestHashQueueWave(t *testing.T) {
	q := newHashQueue(1)
	q.lowMax = 1
	if _, err := q.acquire(context.Background(), true); err != nil {
		t.Fatal(err)
	}
	got := make(chan bool, maxHighWaiting+1)
	for i := range maxHighWaiting + 1 {
		go func() {
			p, err := q.acquire(context.Background(), true)
			if err == nil {
				got <- p
			}
			q.release(p)
		}()
		for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(time.Millisecond) {
			q.mu.Lock()
			n := len(q.high) + len(q.low)
			q.mu.Unlock()
			if n == i+1 {
				break
			}
		}
	}
	q.mu.Lock()
	high, low := len(q.high), len(q.low)
	q.mu.Unlock()
	if high != maxHighWaiting || low != 1 {
		t.Errorf("%d waiting with priority and %d without, want %d and 1", high, low, maxHighWaiting)
	}
	q.release(true)
	n := 0
	for range maxHighWaiting + 1 {
		if <-got {
			n++
		}
	}
	if n != maxHighWaiting {
		t.Errorf("%d slots taken with priority, want %d", n, maxHighWaiting)
	}
}

// countQueued is how many waiters the test has queued once name is queued.
func countQueued(name string) int {
	return map[string]int{"low1": 1, "low2": 2, "high1": 3, "high2": 4}[name]
}
