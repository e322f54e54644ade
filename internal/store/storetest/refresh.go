package storetest

import (
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sigil-idp/sigil/internal/store"
)

// successorOf names the successors of a token as the protocol derives them: one name per
// (token, generation), so that a retry gets the same one.
func successorOf(hash string) func(int) string {
	return func(gen int) string { return fmt.Sprintf("%s>%d", hash, gen) }
}

// rotation presents hash at now with a reuse interval.
func rotation(hash string, now time.Time, reuse time.Duration) store.Rotation {
	return store.Rotation{Hash: hash, Successor: successorOf(hash), Now: now, ReuseUntil: now.Add(reuse), Expires: now.Add(time.Hour)}
}

func testRefreshRotation(t *testing.T, s store.Store) {
	seed(t, s)
	must(t, s.CreateAuthCode(ctx(t), newCode("c1")))
	createFamily(t, s, "f1", "c1")
	next, _, err := s.RotateRefreshToken(ctx(t), rotation("f1-rt0", base.Add(time.Minute), 30*time.Second))
	must(t, err)
	if next.Hash != "f1-rt0>1" || next.FamilyID != "f1" || next.Generation != 1 {
		t.Fatalf("got token %+v", next)
	}
	sameTime(t, "new token expiry", next.ExpiresAt, base.Add(time.Minute+time.Hour))
	got, fam, err := s.RefreshToken(ctx(t), "f1-rt0>1")
	must(t, err)
	if got.FamilyID != "f1" || fam.ID != "f1" || !slices.Equal(fam.Grant.Scopes, newGrant().Scopes) {
		t.Fatalf("new token %+v in family %+v", got, fam)
	}
	sameTime(t, "stored expiry", got.ExpiresAt, base.Add(time.Minute+time.Hour))
	old, _, err := s.RefreshToken(ctx(t), "f1-rt0")
	must(t, err)
	sameTime(t, "rotated_at", old.RotatedAt, base.Add(time.Minute))
	sameTime(t, "reuse_until", old.ReuseUntil, base.Add(time.Minute+30*time.Second))
	if old.SuccessorHash != "f1-rt0>1" || old.Successors != 1 {
		t.Fatalf("rotated token %+v", old)
	}
	_, _, err = s.RotateRefreshToken(ctx(t), rotation("unknown", base, 0))
	wantErr(t, err, store.ErrNotFound)
}

// testRefreshTokenAndUser: the token, its family and the family's user in one read; a
// disabled user comes back disabled, a user that is gone as nil, an unknown token as
// ErrNotFound.
func testRefreshTokenAndUser(t *testing.T, s store.Store) {
	seed(t, s)
	must(t, s.CreateAuthCode(ctx(t), newCode("cu")))
	createFamily(t, s, "fu", "cu")
	tok, fam, u, err := s.RefreshTokenAndUser(ctx(t), "fu-rt0")
	must(t, err)
	want, err := s.UserByID(ctx(t), userID)
	must(t, err)
	if tok.Hash != "fu-rt0" || fam.ID != "fu" || u == nil || *u != want {
		t.Fatalf("got token %s, family %s, user %+v; want fu-rt0, fu, %+v", tok.Hash, fam.ID, u, want)
	}
	must(t, s.SetUserEnabled(ctx(t), userID, false))
	if _, _, u, err = s.RefreshTokenAndUser(ctx(t), "fu-rt0"); err != nil || u == nil || u.Enabled {
		t.Fatalf("disabled user: got %+v, %v; want the user, disabled", u, err)
	}

	f, first := newFamily("fg", "")
	f.Grant.UserID = "00000000-0000-4000-8000-00000000dead" // no such user
	must(t, s.CreateRefreshFamily(ctx(t), f, first))
	tok, fam, u, err = s.RefreshTokenAndUser(ctx(t), "fg-rt0")
	must(t, err)
	if tok.Hash != "fg-rt0" || fam.Grant.UserID != f.Grant.UserID || u != nil {
		t.Fatalf("user gone: got token %s, family user %s, user %+v; want fg-rt0 and no user", tok.Hash, fam.Grant.UserID, u)
	}
	_, _, _, err = s.RefreshTokenAndUser(ctx(t), "unknown")
	wantErr(t, err, store.ErrNotFound)
}

// testRefreshIssue: an error of Rotation.Issue comes back from RotateRefreshToken, and the
// rotation stands (the token is used; a retry within the interval gets the same successor,
// and Issue is called again with it). A write Issue saw is durable: a second store on the
// same database reads it.
func testRefreshIssue(t *testing.T, a, b store.Store) {
	seed(t, a)
	must(t, a.CreateAuthCode(ctx(t), newCode("ci")))
	createFamily(t, a, "fi", "ci")
	failed := fmt.Errorf("signing failed")
	rot := rotation("fi-rt0", base.Add(time.Minute), 30*time.Second)
	var calls int
	rot.Issue = func(next store.RefreshToken) error {
		calls++
		if next.Hash != "fi-rt0>1" || next.Generation != 1 {
			t.Errorf("Issue got %+v, want the first successor", next)
		}
		return failed
	}
	if _, _, err := a.RotateRefreshToken(ctx(t), rot); err != failed {
		t.Fatalf("got %v, want Issue's error", err)
	}
	old, _, err := b.RefreshToken(ctx(t), "fi-rt0")
	must(t, err)
	if old.SuccessorHash != "fi-rt0>1" || old.RotatedAt.IsZero() {
		t.Fatalf("after Issue failed, the other store reads %+v, want it rotated to fi-rt0>1", old)
	}
	rot.Issue = func(next store.RefreshToken) error { calls++; return nil }
	rot.Now = rot.Now.Add(time.Second)
	next, _, err := b.RotateRefreshToken(ctx(t), rot)
	must(t, err)
	if next.Hash != "fi-rt0>1" || calls != 2 {
		t.Fatalf("retry: successor %s after %d calls of Issue, want fi-rt0>1 after 2", next.Hash, calls)
	}
}

// refreshStep is one presentation in a transition table: a token (by its path from the
// family's first token: "rt0", "rt0>1", "rt0>1>1"…) at an offset from base, with a reuse
// interval, and what it must yield.
type refreshStep struct {
	present string
	at      time.Duration
	reuse   time.Duration
	want    error  // nil: a successor
	next    string // the successor's path, when want is nil
	revoked bool   // the family is revoked afterwards
}

// testRefreshStateMachine drives every transition of the state machine in package store's
// doc with an injected clock.
func testRefreshStateMachine(t *testing.T, s store.Store) {
	seed(t, s)
	const r = 30 * time.Second
	m := time.Minute
	cases := []struct {
		name  string
		steps []refreshStep
	}{
		{"live: first successor", []refreshStep{
			{present: "rt0", at: m, reuse: r, next: "rt0>1"},
		}},
		{"(a) retry within the interval: the same successor", []refreshStep{
			{present: "rt0", at: m, reuse: r, next: "rt0>1"},
			{present: "rt0", at: m + 10*time.Second, reuse: r, next: "rt0>1"},
			{present: "rt0", at: m + r - time.Millisecond, reuse: r, next: "rt0>1"},
		}},
		{"(a) the interval does not slide with retries", []refreshStep{
			{present: "rt0", at: m, reuse: r, next: "rt0>1"},
			{present: "rt0", at: m + 20*time.Second, reuse: r, next: "rt0>1"},
			{present: "rt0", at: m + 40*time.Second, reuse: r, next: "rt0>2"}, // after it: (b)
		}},
		{"(a) within the interval even once the successor was used", []refreshStep{
			{present: "rt0", at: m, reuse: r, next: "rt0>1"},
			{present: "rt0>1", at: m + time.Second, reuse: r, next: "rt0>1>1"},
			{present: "rt0", at: m + 2*time.Second, reuse: r, next: "rt0>1"},
		}},
		{"(b) lost answer: a new successor, the unused one superseded, family kept", []refreshStep{
			{present: "rt0", at: m, reuse: r, next: "rt0>1"},
			{present: "rt0", at: m + r, reuse: r, next: "rt0>2"}, // exactly at the end: after it
			{present: "rt0", at: m + r + time.Second, reuse: r, next: "rt0>2"},
			{present: "rt0>2", at: m + 2*r, reuse: r, next: "rt0>2>1"},
		}},
		{"(b) after an outage of hours", []refreshStep{
			{present: "rt0", at: m, reuse: r, next: "rt0>1"},
			{present: "rt0", at: 50 * m, reuse: r, next: "rt0>2"},
			{present: "rt0", at: 55 * m, reuse: r, next: "rt0>3"},
			{present: "rt0>3", at: 56 * m, reuse: r, next: "rt0>3>1"},
		}},
		{"(c) the superseded successor presented: family revoked", []refreshStep{
			{present: "rt0", at: m, reuse: r, next: "rt0>1"},
			{present: "rt0", at: 2 * m, reuse: r, next: "rt0>2"},
			{present: "rt0>1", at: 2*m + time.Second, reuse: r, want: store.ErrReused, revoked: true},
			{present: "rt0>2", at: 2*m + 2*time.Second, reuse: r, want: store.ErrRevoked, revoked: true},
		}},
		{"(c) a token whose successor was used, after the interval: family revoked", []refreshStep{
			{present: "rt0", at: m, reuse: r, next: "rt0>1"},
			{present: "rt0>1", at: m + time.Second, reuse: r, next: "rt0>1>1"},
			{present: "rt0", at: m + r, reuse: r, want: store.ErrReused, revoked: true},
			{present: "rt0>1>1", at: m + r + time.Second, reuse: r, want: store.ErrRevoked, revoked: true},
		}},
		{"(c) thief supersedes an idle owner; the owner's next refresh revokes", []refreshStep{
			{present: "rt0", at: m, reuse: r, next: "rt0>1"},      // owner
			{present: "rt0", at: 10 * m, reuse: r, next: "rt0>2"}, // thief with a copy of rt0
			{present: "rt0>1", at: 20 * m, reuse: r, want: store.ErrReused, revoked: true},
			{present: "rt0>2", at: 21 * m, reuse: r, want: store.ErrRevoked, revoked: true},
		}},
		{"(d) reuse interval 0: a second presentation at the same instant supersedes", []refreshStep{
			{present: "rt0", at: m, reuse: 0, next: "rt0>1"},
			{present: "rt0", at: m, reuse: 0, next: "rt0>2"},
			{present: "rt0>1", at: m, reuse: 0, want: store.ErrReused, revoked: true},
		}},
		{"(d) reuse interval 0: a used successor makes any presentation reuse", []refreshStep{
			{present: "rt0", at: m, reuse: 0, next: "rt0>1"},
			{present: "rt0>1", at: m, reuse: 0, next: "rt0>1>1"},
			{present: "rt0", at: m, reuse: 0, want: store.ErrReused, revoked: true},
		}},
		{"expired: refused, family kept", []refreshStep{
			{present: "rt0", at: time.Hour, reuse: r, want: store.ErrExpired},
		}},
		{"expired pending token: refused, family kept", []refreshStep{
			{present: "rt0", at: m, reuse: r, next: "rt0>1"},
			{present: "rt0", at: time.Hour, reuse: r, want: store.ErrExpired},
			{present: "rt0>1", at: time.Hour, reuse: r, next: "rt0>1>1"},
		}},
		{"unknown token", []refreshStep{
			{present: "nope", at: m, reuse: r, want: store.ErrNotFound},
		}},
	}
	for i, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			id, code := fmt.Sprintf("sm%d", i), fmt.Sprintf("sm-code%d", i)
			must(t, s.CreateAuthCode(ctx(t), newCode(code)))
			createFamily(t, s, id, code)
			name := func(path string) string { return id + "-" + path }
			for j, st := range tc.steps {
				now := base.Add(st.at)
				rot := rotation(name(st.present), now, st.reuse)
				var issued []store.RefreshToken // Issue hears every successor answered, and only those
				rot.Issue = func(next store.RefreshToken) error {
					issued = append(issued, next)
					return nil
				}
				next, fam, err := s.RotateRefreshToken(ctx(t), rot)
				if st.want != nil {
					if !isErr(err, st.want) {
						t.Fatalf("step %d (%s at +%v): got %v, want %v", j+1, st.present, st.at, err, st.want)
					}
					if len(issued) != 0 {
						t.Fatalf("step %d (%s at +%v): refused, yet Issue was called with %+v", j+1, st.present, st.at, issued)
					}
				} else {
					if len(issued) != 1 || issued[0].Hash != next.Hash || issued[0].Generation != next.Generation {
						t.Fatalf("step %d (%s at +%v): Issue called with %+v, want once with the successor %+v",
							j+1, st.present, st.at, issued, next)
					}
					if err != nil {
						t.Fatalf("step %d (%s at +%v): %v", j+1, st.present, st.at, err)
					}
					if next.Hash != name(st.next) || next.FamilyID != id {
						t.Fatalf("step %d (%s at +%v): got successor %s, want %s", j+1, st.present, st.at,
							strings.TrimPrefix(next.Hash, id+"-"), st.next)
					}
					wantGen := st.next[strings.LastIndexByte(st.next, '>')+1:]
					if fmt.Sprint(next.Generation) != wantGen {
						t.Fatalf("step %d: generation %d, want %s", j+1, next.Generation, wantGen)
					}
				}
				if _, fam, err = s.RefreshToken(ctx(t), name("rt0")); err != nil {
					t.Fatal(err)
				}
				if fam.RevokedAt.IsZero() == st.revoked {
					t.Fatalf("step %d (%s at +%v): family revoked at %v, want revoked %v", j+1, st.present, st.at, fam.RevokedAt, st.revoked)
				}
			}
		})
	}
}

// testRefreshPruning: once DeleteExpired has run, a family that refreshed many times keeps
// only its pending and its live token; what reuse detection needs is the family (revoked
// through RevokeRefreshFamily when a pruned token comes back); a token within its interval
// stays.
func testRefreshPruning(t *testing.T, s store.Store) {
	seed(t, s)
	must(t, s.CreateAuthCode(ctx(t), newCode("c1")))
	createFamily(t, s, "f1", "c1")
	const r = 30 * time.Second
	tokens := []string{"f1-rt0"}
	now := base
	for i := range 20 {
		now = now.Add(time.Minute)
		cur := tokens[len(tokens)-1]
		if i%5 == 4 { // a lost answer: superseded below
			_, _, err := s.RotateRefreshToken(ctx(t), rotation(cur, now, r))
			must(t, err)
			now = now.Add(time.Minute)
		}
		next, _, err := s.RotateRefreshToken(ctx(t), rotation(cur, now, r))
		must(t, err)
		tokens = append(tokens, next.Hash)
	}
	// The newest token is used 10 s into its parent's interval: the parent, spent, is kept
	// until the interval ends (a retry of it still gets the same successor).
	newest, _, err := s.RotateRefreshToken(ctx(t), rotation(tokens[len(tokens)-1], now.Add(10*time.Second), r))
	must(t, err)
	tokens = append(tokens, newest.Hash)
	must(t, s.DeleteExpired(ctx(t), now.Add(11*time.Second)))
	spent := tokens[len(tokens)-3]
	again, _, err := s.RotateRefreshToken(ctx(t), rotation(spent, now.Add(12*time.Second), r))
	must(t, err)
	if again.Hash != tokens[len(tokens)-2] {
		t.Fatalf("retry within the interval after pruning: got %s, want %s", again.Hash, tokens[len(tokens)-2])
	}
	must(t, s.DeleteExpired(ctx(t), now.Add(time.Minute)))
	var kept []string
	for _, h := range tokens {
		if _, _, err := s.RefreshToken(ctx(t), h); err == nil {
			kept = append(kept, h)
		} else if !isErr(err, store.ErrNotFound) {
			t.Fatal(err)
		}
		if first := successorOf(h)(1); !slices.Contains(tokens, first) {
			if _, _, err := s.RefreshToken(ctx(t), first); !isErr(err, store.ErrNotFound) {
				t.Errorf("superseded token %s kept (%v)", first, err)
			}
		}
	}
	pending, live := tokens[len(tokens)-2], tokens[len(tokens)-1]
	if !slices.Equal(kept, []string{pending, live}) {
		t.Fatalf("%d of %d tokens kept after pruning: %v, want only the pending and the live one", len(kept), len(tokens), kept)
	}
	now = now.Add(time.Minute)
	// The pending token still answers a lost-answer retry.
	_, _, err = s.RotateRefreshToken(ctx(t), rotation(pending, now.Add(2*time.Minute), r))
	must(t, err)
	// A pruned token is unknown to the store; revoking its family is the caller's move.
	_, _, err = s.RotateRefreshToken(ctx(t), rotation(tokens[3], now.Add(3*time.Minute), r))
	wantErr(t, err, store.ErrNotFound)
	_, err = s.RevokeRefreshFamily(ctx(t), "f1", "another-client", now)
	wantErr(t, err, store.ErrNotFound)
	_, err = s.RevokeRefreshFamily(ctx(t), "nope", clientID, now)
	wantErr(t, err, store.ErrNotFound)
	fam, err := s.RevokeRefreshFamily(ctx(t), "f1", clientID, now.Add(3*time.Minute))
	must(t, err)
	if fam.ID != "f1" || fam.Grant.UserID != userID || !slices.Equal(fam.Grant.Scopes, newGrant().Scopes) {
		t.Fatalf("revoked family %+v", fam)
	}
	fam, err = s.RevokeRefreshFamily(ctx(t), "f1", clientID, now.Add(4*time.Minute)) // already revoked: kept
	must(t, err)
	sameTime(t, "revoked_at", fam.RevokedAt, now.Add(3*time.Minute))
	_, fam, err = s.RefreshToken(ctx(t), pending)
	must(t, err)
	sameTime(t, "revoked_at", fam.RevokedAt, now.Add(3*time.Minute))
}

// testRefreshPruningWhen: a spent token is pruned by the first DeleteExpired after both its
// interval has ended and its successor was used — whatever the interval, and also when that
// run comes late (up to half an hour; runs are 10 minutes apart) — and never before; a
// pending token (its successor unused) is kept however long it waits.
func testRefreshPruningWhen(t *testing.T, s store.Store) {
	seed(t, s)
	kept := func(hash string) bool {
		t.Helper()
		_, _, err := s.RefreshToken(ctx(t), hash)
		if err != nil && !isErr(err, store.ErrNotFound) {
			t.Fatal(err)
		}
		return err == nil
	}
	for i, tc := range []struct {
		reuse   time.Duration
		usedAt  time.Duration // the successor's first use, after the parent's presentation
		pruneAt time.Duration // the DeleteExpired run that must prune the parent
	}{
		{0, 10 * time.Minute, 11 * time.Minute},
		{30 * time.Second, 50 * time.Minute, time.Hour},
		{30 * time.Second, time.Minute, time.Minute + 29*time.Minute}, // a run 29 minutes late
		{2 * time.Hour, time.Minute, 2*time.Hour + 10*time.Minute},    // used within the interval
	} {
		id := fmt.Sprintf("w%d", i)
		must(t, s.CreateAuthCode(ctx(t), newCode("code-"+id)))
		createFamily(t, s, id, "code-"+id)
		at := base.Add(time.Minute)
		parent := id + "-rt0"
		next, _, err := s.RotateRefreshToken(ctx(t), rotation(parent, at, tc.reuse))
		must(t, err)
		// Long after the interval, with the successor unused: the parent is pending, kept.
		must(t, s.DeleteExpired(ctx(t), at.Add(tc.usedAt-time.Second)))
		if !kept(parent) {
			t.Fatalf("case %d: the pending token was pruned before its successor was used", i)
		}
		last, _, err := s.RotateRefreshToken(ctx(t), rotation(next.Hash, at.Add(tc.usedAt), tc.reuse))
		must(t, err)
		if end := at.Add(tc.reuse); end.After(at.Add(tc.usedAt)) {
			must(t, s.DeleteExpired(ctx(t), end.Add(-time.Second)))
			if !kept(parent) {
				t.Fatalf("case %d: the spent token was pruned within its interval", i)
			}
		}
		must(t, s.DeleteExpired(ctx(t), at.Add(tc.pruneAt)))
		if kept(parent) {
			t.Errorf("case %d: the spent token was kept by DeleteExpired %v after its presentation", i, tc.pruneAt)
		}
		if !kept(next.Hash) || !kept(last.Hash) {
			t.Errorf("case %d: the pending or the live token was pruned", i)
		}
	}
}

// raceResult is what one presentation in a race got.
type raceResult struct {
	next store.RefreshToken
	err  error
}

// racePresent presents the same token n times at once through two store instances.
func racePresent(t *testing.T, a, b store.Store, n int, r store.Rotation) []raceResult {
	out := make([]raceResult, n)
	together(a, b, n, func(i int, s store.Store) {
		next, _, err := s.RotateRefreshToken(ctx(t), r)
		out[i] = raceResult{next, err}
	})
	return out
}

// together runs fn n times at once, released together, alternating between two store
// instances on one database.
func together(a, b store.Store, n int, fn func(i int, s store.Store)) {
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range n {
		s := a
		if i%2 == 1 {
			s = b
		}
		wg.Go(func() {
			<-start
			fn(i, s)
		})
	}
	close(start)
	wg.Wait()
}

const raceRounds, raceN = 4, 16

// raceFamily creates a family for one round of a race test and returns its first token.
func raceFamily(t *testing.T, s store.Store, prefix string, round int) string {
	id, code := fmt.Sprintf("%s%d", prefix, round), fmt.Sprintf("%s-code%d", prefix, round)
	must(t, s.CreateAuthCode(ctx(t), newCode(code)))
	createFamily(t, s, id, code)
	return id + "-rt0"
}

// testRefreshRaceGrace: concurrent presentations within the interval, on two instances, all
// get the one successor, and only one was stored.
func testRefreshRaceGrace(t *testing.T, a, b store.Store) {
	seed(t, a)
	for round := range raceRounds {
		rt0 := raceFamily(t, a, "g", round)
		res := racePresent(t, a, b, raceN, rotation(rt0, base.Add(time.Minute), 30*time.Second))
		for i, r := range res {
			if r.err != nil || r.next.Hash != rt0+">1" {
				t.Fatalf("round %d, presentation %d: got %q, %v; want every presentation to get %s>1", round, i, r.next.Hash, r.err, rt0)
			}
		}
		tok, fam, err := a.RefreshToken(ctx(t), rt0)
		must(t, err)
		if tok.Successors != 1 || !fam.RevokedAt.IsZero() {
			t.Fatalf("round %d: %d successors stored (family revoked at %v), want 1", round, tok.Successors, fam.RevokedAt)
		}
	}
}

// testRefreshRaceStrict: with reuse interval 0, concurrent presentations on two instances
// each supersede the previous answer: of all the successors handed out exactly one is
// usable, and the others are superseded (their use revokes the family).
func testRefreshRaceStrict(t *testing.T, a, b store.Store) {
	seed(t, a)
	for round := range raceRounds {
		rt0 := raceFamily(t, a, "s", round)
		res := racePresent(t, a, b, raceN, rotation(rt0, base.Add(time.Minute), 0))
		var gens []int
		for i, r := range res {
			if r.err != nil {
				t.Fatalf("round %d, presentation %d: %v", round, i, r.err)
			}
			gens = append(gens, r.next.Generation)
		}
		slices.Sort(gens)
		if len(slices.Compact(gens)) != raceN {
			t.Fatalf("round %d: generations %v, want %d distinct (each presentation supersedes the last)", round, gens, raceN)
		}
		usable := 0
		for _, r := range res {
			tok, _, err := a.RefreshToken(ctx(t), r.next.Hash)
			must(t, err)
			if tok.SupersededAt.IsZero() {
				usable++
			}
		}
		if usable != 1 {
			t.Fatalf("round %d: %d usable successors, want exactly 1", round, usable)
		}
	}
}

// testRefreshRaceUseVersusRetry: after the interval, the owner uses the successor on one
// instance while a copy of its parent is presented on the other. Whichever wins, the other
// is reuse and the family ends revoked: never two live chains.
func testRefreshRaceUseVersusRetry(t *testing.T, a, b store.Store) {
	seed(t, a)
	const r = 30 * time.Second
	for round := range raceRounds * 2 {
		rt0 := raceFamily(t, a, "u", round)
		_, _, err := a.RotateRefreshToken(ctx(t), rotation(rt0, base.Add(time.Minute), r))
		must(t, err)
		now := base.Add(2 * time.Minute)
		start := make(chan struct{})
		var errUse, errRetry error
		var wg sync.WaitGroup
		wg.Go(func() { <-start; _, _, errUse = a.RotateRefreshToken(ctx(t), rotation(rt0+">1", now, r)) })
		wg.Go(func() { <-start; _, _, errRetry = b.RotateRefreshToken(ctx(t), rotation(rt0, now, r)) })
		close(start)
		wg.Wait()
		ok := 0
		for _, err := range []error{errUse, errRetry} {
			switch {
			case err == nil:
				ok++
			case isErr(err, store.ErrReused), isErr(err, store.ErrRevoked):
			default:
				t.Fatalf("round %d: %v", round, err)
			}
		}
		_, fam, err := a.RefreshToken(ctx(t), rt0)
		must(t, err)
		if ok != 1 || fam.RevokedAt.IsZero() {
			t.Fatalf("round %d: use %v, retry %v, family revoked at %v; want one winner and the family revoked", round, errUse, errRetry, fam.RevokedAt)
		}
	}
}

// testCodeRedeemRace: of concurrent redemptions of one code on two instances, one wins.
func testCodeRedeemRace(t *testing.T, a, b store.Store) {
	seed(t, a)
	for round := range raceRounds {
		code := fmt.Sprintf("race%d", round)
		must(t, a.CreateAuthCode(ctx(t), newCode(code)))
		wins, errs := race2(a, b, raceN, func(s store.Store) error { _, err := s.RedeemAuthCode(ctx(t), code, base); return err })
		if wins != 1 || len(errs) != raceN-1 {
			t.Fatalf("round %d: %d redemptions, want 1 (%v)", round, wins, errs)
		}
		for _, err := range errs {
			wantErr(t, err, store.ErrRedeemed)
		}
	}
}

// race2 runs fn n times at once through two store instances and counts the nil results.
func race2(a, b store.Store, n int, fn func(store.Store) error) (wins int, errs []error) {
	var mu sync.Mutex
	together(a, b, n, func(_ int, s store.Store) {
		err := fn(s)
		mu.Lock()
		defer mu.Unlock()
		if err == nil {
			wins++
		} else {
			errs = append(errs, err)
		}
	})
	return wins, errs
}
