package storetest

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/sigil-idp/sigil/internal/directory"
	"github.com/sigil-idp/sigil/internal/store"
)

func newSession(id, browser string, expires time.Time) store.Session {
	return store.Session{ID: id, BrowserHash: browser, TenantID: tenantID, UserID: userID, AuthTime: base,
		AMR: []string{"pwd"}, CreatedAt: base, ExpiresAt: expires}
}

func testSessions(t *testing.T, s store.Store) {
	seed(t, s)
	got, err := s.UpsertSession(ctx(t), newSession("sid-1", "b1", base.Add(time.Hour)), base)
	must(t, err)
	if got.ID != "sid-1" {
		t.Fatalf("got id %q", got.ID)
	}
	// Signing in again keeps the sid and moves auth_time.
	again := newSession("sid-2", "b1", base.Add(2*time.Hour))
	again.AuthTime, again.Remember = base.Add(time.Minute), true
	got, err = s.UpsertSession(ctx(t), again, base.Add(time.Minute))
	must(t, err)
	if got.ID != "sid-1" {
		t.Fatalf("re-authentication changed the sid: got %q, want sid-1", got.ID)
	}
	sessions, err := s.BrowserSessions(ctx(t), "b1", base.Add(time.Minute))
	must(t, err)
	if len(sessions) != 1 || sessions[0].ID != "sid-1" || !sessions[0].Remember {
		t.Fatalf("got %+v", sessions)
	}
	sameTime(t, "auth_time", sessions[0].AuthTime, base.Add(time.Minute))
	sameTime(t, "created_at", sessions[0].CreatedAt, base)
	// Expired sessions are invisible, and signing in over one starts a new sid.
	sessions, err = s.BrowserSessions(ctx(t), "b1", base.Add(3*time.Hour))
	must(t, err)
	if len(sessions) != 0 {
		t.Fatalf("expired session still listed: %+v", sessions)
	}
	got, err = s.UpsertSession(ctx(t), newSession("sid-3", "b1", base.Add(5*time.Hour)), base.Add(3*time.Hour))
	must(t, err)
	if got.ID != "sid-3" {
		t.Fatalf("session over an expired one: got id %q, want sid-3", got.ID)
	}
	// Another browser is another session.
	_, err = s.UpsertSession(ctx(t), newSession("sid-4", "b2", base.Add(5*time.Hour)), base.Add(3*time.Hour))
	must(t, err)
	sessions, err = s.BrowserSessions(ctx(t), "b1", base.Add(3*time.Hour))
	must(t, err)
	if len(sessions) != 1 || sessions[0].ID != "sid-3" {
		t.Fatalf("got %+v", sessions)
	}
	// Renewing the cookie moves the browser's sessions, sids unchanged.
	must(t, s.RebindBrowser(ctx(t), "b1", "b1-renewed"))
	sessions, err = s.BrowserSessions(ctx(t), "b1-renewed", base.Add(3*time.Hour))
	must(t, err)
	if len(sessions) != 1 || sessions[0].ID != "sid-3" {
		t.Fatalf("after rebinding: got %+v", sessions)
	}
	if sessions, _ = s.BrowserSessions(ctx(t), "b1", base.Add(3*time.Hour)); len(sessions) != 0 {
		t.Fatalf("the old browser hash still names sessions: %+v", sessions)
	}
}

func testInteractions(t *testing.T, s store.Store) {
	must(t, s.CompleteInteraction(ctx(t), "i1", base.Add(time.Minute)))
	wantErr(t, s.CompleteInteraction(ctx(t), "i1", base.Add(time.Minute)), store.ErrRedeemed)
	must(t, s.CompleteInteraction(ctx(t), "i2", base.Add(time.Minute)))
	// Once expired, the record is pruned: nothing can present an expired interaction anyway.
	must(t, s.DeleteExpired(ctx(t), base.Add(2*time.Minute)))
	must(t, s.CompleteInteraction(ctx(t), "i1", base.Add(3*time.Minute)))
}

func newGrant() store.Grant {
	return store.Grant{TenantID: tenantID, ClientID: clientID, UserID: userID, SessionID: "sid-1", Platform: directory.PlatformSPA,
		Resource: "api://todo", Scopes: []string{"api://todo/Todo.Read", "openid", "offline_access"}, AuthTime: base,
		AMR: []string{"pwd"}, Remember: true, Claims: `{"id_token":{"email":null}}`}
}

func newCode(hash string) store.AuthCode {
	return store.AuthCode{Hash: hash, Grant: newGrant(), RedirectURI: "https://app.example.test:3000/", RedirectGiven: true,
		Nonce: "n-0", CodeChallenge: "chal", CreatedAt: base, ExpiresAt: base.Add(10 * time.Minute)}
}

func testCodeRedemption(t *testing.T, s store.Store) {
	seed(t, s)
	want := newCode("c1")
	must(t, s.CreateAuthCode(ctx(t), want))
	got, err := s.RedeemAuthCode(ctx(t), "c1", base.Add(time.Second))
	must(t, err)
	sameTime(t, "redeemed_at", got.RedeemedAt, base.Add(time.Second))
	sameTime(t, "auth_time", got.Grant.AuthTime, base)
	got.RedeemedAt, got.Grant.AuthTime, got.CreatedAt, got.ExpiresAt = time.Time{}, want.Grant.AuthTime, want.CreatedAt, want.ExpiresAt
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("got  %+v\nwant %+v", got, want)
	}
	_, err = s.RedeemAuthCode(ctx(t), "nope", base)
	wantErr(t, err, store.ErrNotFound)
}

func newFamily(id, code string) (store.RefreshFamily, store.RefreshToken) {
	f := store.RefreshFamily{ID: id, Grant: newGrant(), CodeHash: code, CreatedAt: base, AbsoluteExpiresAt: base.Add(24 * time.Hour)}
	return f, store.RefreshToken{Hash: id + "-rt0", FamilyID: id, CreatedAt: base, ExpiresAt: base.Add(time.Hour)}
}

func testCodeReplay(t *testing.T, s store.Store) {
	seed(t, s)
	must(t, s.CreateAuthCode(ctx(t), newCode("c1")))
	_, err := s.RedeemAuthCode(ctx(t), "c1", base)
	must(t, err)
	createFamily(t, s, "f1", "c1")
	// The replay answers ErrRedeemed with the code, and revokes the family issued from it.
	got, err := s.RedeemAuthCode(ctx(t), "c1", base.Add(time.Second))
	wantErr(t, err, store.ErrRedeemed)
	if got.Hash != "c1" || !got.ReplayDetected || got.Grant.UserID != userID {
		t.Fatalf("replay returned %+v", got)
	}
	_, fam, err := s.RefreshToken(ctx(t), "f1-rt0")
	must(t, err)
	sameTime(t, "family revoked_at", fam.RevokedAt, base.Add(time.Second))
	// No family can be created from the code any more.
	f2, rt := newFamily("f2", "c1")
	err = s.CreateRefreshFamily(ctx(t), f2, rt)
	wantErr(t, err, store.ErrRevoked)
	_, _, err = s.RefreshToken(ctx(t), "f2-rt0")
	wantErr(t, err, store.ErrNotFound)
}

// testChildCodeReplay: a code issued from another one (a hybrid spa_code, ParentHash) is
// burnt by a replay of its parent, redeemed or not, and its families are revoked; once the
// parent is marked replayed no code can be issued from it.
func testChildCodeReplay(t *testing.T, s store.Store) {
	seed(t, s)
	must(t, s.CreateAuthCode(ctx(t), newCode("web")))
	_, err := s.RedeemAuthCode(ctx(t), "web", base)
	must(t, err)
	createFamily(t, s, "fw", "web")
	redeemed, pending := newCode("spa1"), newCode("spa2")
	redeemed.ParentHash, pending.ParentHash = "web", "web"
	must(t, s.CreateAuthCode(ctx(t), redeemed))
	must(t, s.CreateAuthCode(ctx(t), pending))
	got, err := s.RedeemAuthCode(ctx(t), "spa1", base)
	must(t, err)
	if got.ParentHash != "web" {
		t.Fatalf("ParentHash %q, want web", got.ParentHash)
	}
	createFamily(t, s, "fs", "spa1")
	// Unrelated codes and families stay.
	must(t, s.CreateAuthCode(ctx(t), newCode("other")))
	createFamily(t, s, "fo", "other")

	_, err = s.RedeemAuthCode(ctx(t), "web", base.Add(time.Second))
	wantErr(t, err, store.ErrRedeemed)
	for _, rt := range []string{"fw-rt0", "fs-rt0"} {
		_, fam, err := s.RefreshToken(ctx(t), rt)
		must(t, err)
		sameTime(t, rt+" family revoked_at", fam.RevokedAt, base.Add(time.Second))
	}
	if _, fam, err := s.RefreshToken(ctx(t), "fo-rt0"); err != nil || !fam.RevokedAt.IsZero() {
		t.Fatalf("an unrelated family was revoked: %+v %v", fam, err)
	}
	// The pending spa_code is burnt: its redemption is a replay.
	got, err = s.RedeemAuthCode(ctx(t), "spa2", base.Add(2*time.Second))
	wantErr(t, err, store.ErrRedeemed)
	if !got.ReplayDetected {
		t.Fatalf("burnt code %+v not marked replayed", got)
	}
	f, rt := newFamily("fs2", "spa2")
	wantErr(t, s.CreateRefreshFamily(ctx(t), f, rt), store.ErrRevoked)
	if _, err := s.RedeemAuthCode(ctx(t), "other", base); err != nil {
		t.Fatalf("an unrelated code was burnt: %v", err)
	}
	// No code can be issued from the replayed parent, nor from an unknown one.
	late := newCode("spa3")
	late.ParentHash = "web"
	wantErr(t, s.CreateAuthCode(ctx(t), late), store.ErrRevoked)
	late.ParentHash = "nope"
	wantErr(t, s.CreateAuthCode(ctx(t), late), store.ErrRevoked)
}

// testFamilyWithoutCode: a family issued at the authorization endpoint (an encrypted
// authorize response) comes from no code; it is created and rotates like any other, and a
// code replay elsewhere does not touch it.
func testFamilyWithoutCode(t *testing.T, s store.Store) {
	seed(t, s)
	createFamily(t, s, "ear", "")
	tok, fam, err := s.RefreshToken(ctx(t), "ear-rt0")
	must(t, err)
	if fam.ID != "ear" || fam.CodeHash != "" || tok.FamilyID != "ear" || !fam.RevokedAt.IsZero() || fam.Grant.Claims != newGrant().Claims {
		t.Fatalf("family without a code: %+v, token %+v", fam, tok)
	}
	must(t, s.CreateAuthCode(ctx(t), newCode("c1")))
	_, err = s.RedeemAuthCode(ctx(t), "c1", base)
	must(t, err)
	_, err = s.RedeemAuthCode(ctx(t), "c1", base.Add(time.Second))
	wantErr(t, err, store.ErrRedeemed)
	if _, fam, err = s.RefreshToken(ctx(t), "ear-rt0"); err != nil || !fam.RevokedAt.IsZero() {
		t.Fatalf("a code replay revoked a family without a code: %+v, %v", fam, err)
	}
}

func createFamily(tb testing.TB, s store.Store, id, code string) {
	tb.Helper()
	f, first := newFamily(id, code)
	must(tb, s.CreateRefreshFamily(ctx(tb), f, first))
}

func isErr(err, target error) bool { return errors.Is(err, target) }

func testEndSession(t *testing.T, s store.Store) {
	seed(t, s)
	_, err := s.UpsertSession(ctx(t), newSession("sid-1", "b1", base.Add(time.Hour)), base)
	must(t, err)
	must(t, s.CreateAuthCode(ctx(t), newCode("c1")))
	createFamily(t, s, "f1", "c1")
	must(t, s.EndSession(ctx(t), "sid-1", base.Add(time.Minute)))
	sessions, err := s.BrowserSessions(ctx(t), "b1", base)
	must(t, err)
	if len(sessions) != 0 {
		t.Fatalf("session survived: %+v", sessions)
	}
	_, _, err = s.RotateRefreshToken(ctx(t), rotation("f1-rt0", base.Add(2*time.Minute), 0))
	wantErr(t, err, store.ErrRevoked)
}

func testSigningKeys(t *testing.T, s store.Store) {
	k1 := store.SigningKey{ID: "k1", Algorithm: "RS256", PrivateKey: []byte{0, 1, 2, 255}, Certificate: []byte{9}, State: store.KeyCurrent, CreatedAt: base}
	must(t, s.AddSigningKey(ctx(t), k1))
	err := s.AddSigningKey(ctx(t), store.SigningKey{ID: "k2", Algorithm: "RS256", PrivateKey: []byte{1}, Certificate: []byte{1}, State: store.KeyCurrent, CreatedAt: base})
	wantErr(t, err, store.ErrConflict)
	must(t, s.AddSigningKey(ctx(t), store.SigningKey{ID: "k3", Algorithm: "RS256", PrivateKey: []byte{1}, Certificate: []byte{1}, State: store.KeyNext, CreatedAt: base.Add(time.Second)}))
	keys, err := s.SigningKeys(ctx(t))
	must(t, err)
	if len(keys) != 2 || keys[0].ID != "k1" || string(keys[0].PrivateKey) != string(k1.PrivateKey) || keys[1].State != store.KeyNext {
		t.Fatalf("got %+v", keys)
	}
	// Resealing replaces the key only while it is what the caller read.
	must(t, s.ResealSigningKey(ctx(t), "k1", k1.PrivateKey, []byte("sealed-1")))
	wantErr(t, s.ResealSigningKey(ctx(t), "k1", k1.PrivateKey, []byte("sealed-2")), store.ErrConflict)
	wantErr(t, s.ResealSigningKey(ctx(t), "nosuch", []byte{1}, []byte("sealed-3")), store.ErrConflict)
	keys, err = s.SigningKeys(ctx(t))
	must(t, err)
	if string(keys[0].PrivateKey) != "sealed-1" || string(keys[1].PrivateKey) != string([]byte{1}) {
		t.Fatalf("after reseal: %q, %q", keys[0].PrivateKey, keys[1].PrivateKey)
	}
}

func testSecrets(t *testing.T, s store.Store) {
	got, err := s.Secret(ctx(t), "pairwise", []byte("first"))
	must(t, err)
	again, err := s.Secret(ctx(t), "pairwise", []byte("second"))
	must(t, err)
	if string(got) != "first" || string(again) != "first" {
		t.Fatalf("got %q then %q, want the first value both times", got, again)
	}
	must(t, s.ResealSecret(ctx(t), "pairwise", []byte("first"), []byte("sealed")))
	wantErr(t, s.ResealSecret(ctx(t), "pairwise", []byte("first"), []byte("sealed-2")), store.ErrConflict)
	wantErr(t, s.ResealSecret(ctx(t), "nosuch", []byte("first"), []byte("sealed-3")), store.ErrConflict)
	if got, err := s.Secret(ctx(t), "pairwise", []byte("third")); err != nil || string(got) != "sealed" {
		t.Fatalf("after reseal: %q, %v", got, err)
	}
}

func testThrottle(t *testing.T, s store.Store) {
	for i := range 3 {
		must(t, s.RecordLoginFailure(ctx(t), "user:a", base.Add(time.Duration(i)*time.Minute)))
	}
	must(t, s.RecordLoginFailure(ctx(t), "ip:1", base))
	n, err := s.LoginFailures(ctx(t), "user:a", base.Add(time.Minute))
	must(t, err)
	if n != 2 {
		t.Fatalf("got %d failures since +1m, want 2", n)
	}
	must(t, s.PruneLoginFailures(ctx(t), base.Add(2*time.Minute)))
	n, err = s.LoginFailures(ctx(t), "user:a", base.Add(-time.Hour))
	must(t, err)
	if n != 1 {
		t.Fatalf("got %d failures after pruning, want 1", n)
	}
}

// testDeleteExpired: one run prunes everything expired, however many of each kind — more
// than one pruning batch (the SQL stores' tests make a batch two rows) — and nothing else.
func testDeleteExpired(t *testing.T, s store.Store) {
	seed(t, s)
	const n = 5
	for i := range n {
		id := fmt.Sprint(i)
		_, err := s.UpsertSession(ctx(t), newSession("sid-"+id, "b"+id, base.Add(time.Hour)), base)
		must(t, err)
		must(t, s.RecordSessionClient(ctx(t), "sid-"+id, "app-a", base))
		must(t, s.RecordSessionClient(ctx(t), "sid-"+id, "app-b", base))
		must(t, s.CreateAuthCode(ctx(t), newCode("c"+id)))
		createFamily(t, s, "f"+id, "c"+id)
		must(t, s.CompleteInteraction(ctx(t), "i"+id, base.Add(time.Minute)))
	}
	_, err := s.UpsertSession(ctx(t), newSession("sid-live", "b-live", base.Add(48*time.Hour)), base)
	must(t, err)
	must(t, s.DeleteExpired(ctx(t), base.Add(30*time.Minute)))
	for i := range n {
		_, _, err = s.RefreshToken(ctx(t), fmt.Sprintf("f%d-rt0", i))
		must(t, err)
		// The expired interaction's record is gone: completing it again is not refused.
		must(t, s.CompleteInteraction(ctx(t), fmt.Sprintf("i%d", i), base.Add(2*time.Hour)))
	}
	must(t, s.DeleteExpired(ctx(t), base.Add(25*time.Hour)))
	for i := range n {
		id := fmt.Sprint(i)
		_, _, err = s.RefreshToken(ctx(t), "f"+id+"-rt0")
		wantErr(t, err, store.ErrNotFound)
		_, err = s.RedeemAuthCode(ctx(t), "c"+id, base)
		wantErr(t, err, store.ErrNotFound)
		sessions, err := s.BrowserSessions(ctx(t), "b"+id, base)
		must(t, err)
		if len(sessions) != 0 {
			t.Fatalf("expired session kept: %+v", sessions)
		}
		if got, err := s.SessionClients(ctx(t), "sid-"+id); err != nil || len(got) != 0 {
			t.Fatalf("the apps of an expired session kept: %v, %v", got, err)
		}
	}
	if sessions, err := s.BrowserSessions(ctx(t), "b-live", base.Add(25*time.Hour)); err != nil || len(sessions) != 1 {
		t.Fatalf("the live session: %+v, %v", sessions, err)
	}
}
