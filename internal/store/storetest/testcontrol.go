package storetest

import (
	"testing"
	"time"

	"github.com/sigil-idp/sigil/internal/store"
)

// testForcedFailures: the oldest matching failure is used first, "" matches anything, and a
// failure is used exactly Remaining times.
func testForcedFailures(t *testing.T, s store.Store) {
	seed(t, s)
	must(t, s.AddForcedFailure(ctx(t), store.ForcedFailure{ID: "any", Error: "login_required", Remaining: 1, CreatedAt: base.Add(2 * time.Second)}))
	must(t, s.AddForcedFailure(ctx(t), store.ForcedFailure{ID: "app", ClientID: clientID, Error: "consent_required",
		Description: "d", Remaining: 2, CreatedAt: base}))
	must(t, s.AddForcedFailure(ctx(t), store.ForcedFailure{ID: "user", UserID: userID, Error: "access_denied", Remaining: 1,
		CreatedAt: base.Add(time.Second)}))
	take := func(client, user string) string {
		t.Helper()
		f, err := s.TakeForcedFailure(ctx(t), client, user)
		if isErr(err, store.ErrNotFound) {
			return "none"
		}
		must(t, err)
		return f.ID
	}
	for i, want := range []struct{ client, user, id string }{
		{"other-app", "other-user", "any"}, // only the catch-all matches
		{"other-app", "other-user", "none"},
		{clientID, "other-user", "app"},
		{"other-app", userID, "user"},
		{"other-app", userID, "none"},
		{clientID, userID, "app"},
		{clientID, userID, "none"},
	} {
		if got := take(want.client, want.user); got != want.id {
			t.Fatalf("take %d (%s, %s) = %s, want %s", i, want.client, want.user, got, want.id)
		}
	}
	must(t, s.AddForcedFailure(ctx(t), store.ForcedFailure{ID: "again", Error: "login_required", Remaining: 5, CreatedAt: base}))
	must(t, s.ClearForcedFailures(ctx(t)))
	if got := take(clientID, userID); got != "none" {
		t.Fatalf("after clearing: %s", got)
	}
}

// testForcedFailureRace: n concurrent requests on two instances use a failure of k requests
// exactly k times.
func testForcedFailureRace(t *testing.T, s, s2 store.Store) {
	seed(t, s)
	const n, k = 8, 3
	must(t, s.AddForcedFailure(ctx(t), store.ForcedFailure{ID: "f", Error: "login_required", Remaining: k, CreatedAt: base}))
	used, errs := race2(s, s2, n, func(s store.Store) error { _, err := s.TakeForcedFailure(ctx(t), clientID, userID); return err })
	for _, err := range errs {
		wantErr(t, err, store.ErrNotFound)
	}
	if used != k || len(errs) != n-k {
		t.Fatalf("%d uses and %d misses, want %d and %d", used, len(errs), k, n-k)
	}
}

// testRevokeAndDeleteUser: revoking ends the user's sessions and families and withdraws its
// consents; deleting removes the user too; a second delete is ErrNotFound.
func testRevokeAndDeleteUser(t *testing.T, s store.Store) {
	seed(t, s)
	_, err := s.UpsertSession(ctx(t), newSession("sid-1", "b1", base.Add(time.Hour)), base)
	must(t, err)
	createFamily(t, s, "f1", "")
	must(t, s.RevokeUser(ctx(t), userID, base.Add(time.Minute)))
	if got, err := s.BrowserSessions(ctx(t), "b1", base); err != nil || len(got) != 0 {
		t.Fatalf("sessions after revoke: %v, %v", got, err)
	}
	_, fam, err := s.RefreshToken(ctx(t), "f1-rt0")
	must(t, err)
	sameTime(t, "family revoked_at", fam.RevokedAt, base.Add(time.Minute))
	if _, err := s.UserByID(ctx(t), userID); err != nil {
		t.Fatalf("revoke removed the user: %v", err)
	}
	must(t, s.DeleteUser(ctx(t), userID))
	_, err = s.UserByID(ctx(t), userID)
	wantErr(t, err, store.ErrNotFound)
	_, _, err = s.RefreshToken(ctx(t), "f1-rt0")
	wantErr(t, err, store.ErrNotFound)
	wantErr(t, s.DeleteUser(ctx(t), userID), store.ErrNotFound)
}

// testResetState: users and protocol state go; tenants and apps stay.
func testResetState(t *testing.T, s store.Store) {
	seed(t, s)
	createFamily(t, s, "f1", "")
	must(t, s.RecordLoginFailure(ctx(t), "acct", base))
	must(t, s.ResetState(ctx(t)))
	_, err := s.UserByID(ctx(t), userID)
	wantErr(t, err, store.ErrNotFound)
	_, _, err = s.RefreshToken(ctx(t), "f1-rt0")
	wantErr(t, err, store.ErrNotFound)
	if n, err := s.LoginFailures(ctx(t), "acct", base.Add(-time.Hour)); err != nil || n != 0 {
		t.Fatalf("login failures after reset: %d, %v", n, err)
	}
	if _, err := s.TenantByID(ctx(t), tenantID); err != nil {
		t.Fatalf("reset removed the tenant: %v", err)
	}
	if _, err := s.AppByClientID(ctx(t), clientID); err != nil {
		t.Fatalf("reset removed the app: %v", err)
	}
	must(t, s.RecordLoginFailure(ctx(t), "acct", base))
	must(t, s.ClearLoginFailures(ctx(t)))
	if n, err := s.LoginFailures(ctx(t), "acct", base.Add(-time.Hour)); err != nil || n != 0 {
		t.Fatalf("login failures after clearing: %d, %v", n, err)
	}
}
