package protocol

import (
	"context"
	"math"
	"net/netip"
	"sync"
	"time"

	"github.com/sigil-idp/sigil/internal/store"
	"github.com/sigil-idp/sigil/internal/tokens"
)

// Throttling of credential checks. Every check of a password, a client secret or assertion,
// or a device user code is reserved in the store before it runs (store.Throttle), under each
// key it counts against, in one conditional statement per key: while a key's failures within
// the window plus the checks in flight reach its limit, the check is refused without running
// — so a hundred concurrent guesses get at most the limit's worth of checks, on any number of
// nodes. A right credential releases its reservations; a wrong one turns them into failures;
// a request that dies midway leaves reservations that lapse after reservationTTL.
//
// Passwords are also admitted per client address by an in-memory gate on each node (a
// concurrency limit and a token bucket) before they reach the hashing queue, where an address
// that has not been checking passwords lately (and a known device) goes ahead of those that have:
// a flood from many addresses is refused cheaply, and a real user's sign-in stays quick.

// Limits of a credential check's reservation and of its wait for a hashing slot; the wait is
// well inside the reservation's lifetime, so a check never outlives its reservation.
const (
	reservationTTL = time.Minute
	hashWait       = 10 * time.Second
)

// throttleKey is one count a check is reserved under: its limit, and the error that refuses
// the check when the key is at it.
type throttleKey struct {
	key    string
	limit  int
	locked *Error
}

func (s *Server) accountKey(username string) throttleKey {
	return throttleKey{"account:" + username, s.throttle.Account, errAccountLocked.new()}
}

func (s *Server) addressKey(addr string) throttleKey {
	return throttleKey{"address:" + throttleAddress(addr), s.throttle.Address, errAddressLocked.new()}
}

// reservation is a credential check reserved under its keys.
type reservation struct {
	s    *Server
	id   string
	keys []string
}

// reserve reserves one check under every key, in one transaction. A key at its limit
// refuses the check with its error (the first such key, in order); a store error is itself.
func (s *Server) reserve(ctx context.Context, keys ...throttleKey) (*reservation, error) {
	now := s.now()
	a := store.Attempt{ID: tokens.RandomID(16), Since: now.Add(-s.throttle.Window), Now: now, Until: now.Add(reservationTTL)}
	res := &reservation{s: s, id: a.ID}
	for _, k := range keys {
		a.Keys = append(a.Keys, store.AttemptKey{Key: k.key, Limit: k.limit})
		res.keys = append(res.keys, k.key)
	}
	refused, err := s.store.ReserveAttempt(ctx, a)
	switch {
	case err != nil:
		return nil, err
	case refused >= 0:
		return nil, keys[refused].locked
	}
	return res, nil
}

// release forgets the reservation: the credential was right, or was never checked. A release
// that fails is logged; the reservation lapses by itself.
func (r *reservation) release(ctx context.Context) {
	ctx = context.WithoutCancel(ctx) // a client that hangs up must not keep its reservation
	if err := r.s.store.ReleaseAttempt(ctx, r.id); err != nil {
		r.s.log.WarnContext(ctx, "release throttle reservation", "error", err.Error())
	}
}

// fail records the check as a failure under every key.
func (r *reservation) fail(ctx context.Context) error {
	// Recorded even if the client hangs up.
	return r.s.store.FailAttempt(context.WithoutCancel(ctx), r.id, r.keys, r.s.now())
}

// addressGate admits password checks per client address on this node: at most concurrent
// at once, and a token bucket of burst checks refilled by one every refill. The map is
// bounded: when it is full, addresses that are back to a full bucket with nothing in flight
// (indistinguishable from new ones) are forgotten, and if none is, new addresses are refused
// until some are (failing closed). Loopback clients — this machine: test suites, local tools —
// pass (behind a proxy on this machine, trustedProxies makes the client's address known).
type addressGate struct {
	mu         sync.Mutex
	entries    map[string]*gateEntry
	concurrent int
	burst      float64
	refill     time.Duration
	max        int
	now        func() time.Time
}

type gateEntry struct {
	inFlight int
	tokens   float64
	at       time.Time
}

// maxGateEntries bounds the gate's memory (about 100 bytes an address).
const maxGateEntries = 20000

func newAddressGate(t Throttle, now func() time.Time) *addressGate {
	g := &addressGate{entries: map[string]*gateEntry{}, concurrent: t.AddressConcurrency,
		burst: float64(t.AddressBurst), refill: t.AddressRefill, max: maxGateEntries, now: now}
	if g.concurrent < 1 {
		g.concurrent = 2
	}
	if g.burst < 1 {
		g.burst = 5
	}
	if g.refill <= 0 {
		g.refill = 10 * time.Second
	}
	return g
}

// fill brings e's bucket up to now.
func (g *addressGate) fill(e *gateEntry, now time.Time) {
	if d := now.Sub(e.at); d > 0 {
		e.tokens = math.Min(g.burst, e.tokens+float64(d)/float64(g.refill))
		e.at = now
	}
}

// admit admits one check from addr. It returns done, to call when the check is over, and
// whether the address is fresh (its bucket was full: it had not checked a password for
// burst × refill, and goes ahead in the hashing queue); or, when refused, how long to wait
// before trying again.
func (g *addressGate) admit(addr string) (done func(), fresh bool, wait time.Duration) {
	if a, err := netip.ParseAddr(addr); err == nil && a.IsLoopback() {
		return func() {}, true, 0 // this machine: a test suite, a local tool
	}
	now := g.now()
	g.mu.Lock()
	defer g.mu.Unlock()
	e := g.entries[addr]
	if e == nil {
		if len(g.entries) >= g.max {
			for a, old := range g.entries {
				if g.fill(old, now); old.inFlight == 0 && old.tokens >= g.burst {
					delete(g.entries, a)
				}
			}
		}
		if len(g.entries) >= g.max {
			return nil, false, time.Second
		}
		e = &gateEntry{tokens: g.burst, at: now}
		g.entries[addr] = e
	}
	g.fill(e, now)
	switch {
	case e.inFlight >= g.concurrent:
		return nil, false, time.Second
	case e.tokens < 1:
		return nil, false, time.Duration((1 - e.tokens) * float64(g.refill))
	}
	fresh = e.tokens >= g.burst
	e.tokens--
	e.inFlight++
	return func() {
		g.mu.Lock()
		e.inFlight--
		g.mu.Unlock()
	}, fresh, 0
}

// hashQueue hands out the password-hashing slots (each argon2id check holds ~19 MiB), first
// to the checks with priority, in order, then to the others, in order; the others never hold
// the last slot, so that a check with priority finds one free at once (and a core to run on)
// unless other checks with priority hold them all.
type hashQueue struct {
	mu        sync.Mutex
	free      int
	lowBusy   int // slots held by checks without priority
	lowMax    int
	high, low []chan struct{}
}

func newHashQueue(slots int) *hashQueue { return &hashQueue{free: slots, lowMax: max(1, slots-1)} }

// maxHighWaiting is how many checks may wait with priority: a wave of fresh addresses (the
// first attempts of a distributed flood) beyond it queues without priority, so a user who
// arrives after the wave does not wait behind it.
const maxHighWaiting = 4

// acquire waits for a slot until ctx ends, asking for priority; it returns whether the slot
// was taken with priority, to give to release.
func (q *hashQueue) acquire(ctx context.Context, priority bool) (bool, error) {
	q.mu.Lock()
	if priority && len(q.high) >= maxHighWaiting {
		priority = false
	}
	if q.free > 0 && (priority || q.lowBusy < q.lowMax) {
		q.take(priority)
		q.mu.Unlock()
		return priority, nil
	}
	ch := make(chan struct{}, 1)
	if priority {
		q.high = append(q.high, ch)
	} else {
		q.low = append(q.low, ch)
	}
	q.mu.Unlock()
	select {
	case <-ch:
		return priority, nil
	case <-ctx.Done():
	}
	q.mu.Lock()
	waiting := false
	for _, list := range []*[]chan struct{}{&q.high, &q.low} {
		for i, c := range *list {
			if c == ch {
				*list, waiting = append((*list)[:i], (*list)[i+1:]...), true
				break
			}
		}
	}
	q.mu.Unlock()
	if !waiting { // the slot was handed over as ctx ended: pass it on
		q.release(priority)
	}
	return priority, ctx.Err()
}

func (q *hashQueue) take(priority bool) {
	q.free--
	if !priority {
		q.lowBusy++
	}
}

// release returns a slot taken with the given priority and hands free slots to waiters.
func (q *hashQueue) release(priority bool) {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.free++
	if !priority {
		q.lowBusy--
	}
	for q.free > 0 {
		switch {
		case len(q.high) > 0:
			ch := q.high[0]
			q.high = q.high[1:]
			q.take(true)
			ch <- struct{}{}
		case len(q.low) > 0 && q.lowBusy < q.lowMax:
			ch := q.low[0]
			q.low = q.low[1:]
			q.take(false)
			ch <- struct{}{}
		default:
			return
		}
	}
}
