package storetest

import (
	"testing"
	"time"

	"github.com/sigil-idp/sigil/internal/directory"
	"github.com/sigil-idp/sigil/internal/store"
)

// newDevice is a pending device authorization for clientID, expiring 15 minutes after base.
func newDevice(hash, userCode string) store.DeviceCode {
	return store.DeviceCode{Hash: hash, UserCodeHash: userCode, Tenant: "contoso.test", Scope: "openid offline_access api://todo/Todo.Read",
		Grant: store.Grant{ClientID: clientID, Claims: `{"id_token":{"email":null}}`}, CreatedAt: base, ExpiresAt: base.Add(15 * time.Minute)}
}

// deviceGrant is what the user approved.
func deviceGrant() store.Grant {
	g := newGrant()
	g.Platform = directory.PlatformPublicClient
	return g
}

// testDeviceCodes walks a device authorization through its states: the user code is
// entered once, the grant is approved once, and it is redeemed once, with the grant intact.
func testDeviceCodes(t *testing.T, s store.Store) {
	seed(t, s)
	must(t, s.CreateDeviceCode(ctx(t), newDevice("d1", "u1")))
	wantErr(t, s.CreateDeviceCode(ctx(t), newDevice("d2", "u1")), store.ErrConflict)

	d, err := s.EnterUserCode(ctx(t), "u1", base.Add(time.Minute))
	must(t, err)
	if d.Hash != "d1" || d.Status != store.DevicePending || d.Tenant != "contoso.test" || d.Grant.ClientID != clientID ||
		d.Scope != newDevice("", "").Scope || d.Grant.Claims != newDevice("", "").Grant.Claims {
		t.Fatalf("entered %+v", d)
	}
	sameTime(t, "entered_at", d.EnteredAt, base.Add(time.Minute))
	sameTime(t, "expires_at", d.ExpiresAt, base.Add(15*time.Minute))
	_, err = s.EnterUserCode(ctx(t), "u1", base.Add(time.Minute))
	wantErr(t, err, store.ErrNotFound) // one-time
	_, err = s.EnterUserCode(ctx(t), "nope", base)
	wantErr(t, err, store.ErrNotFound)

	_, err = s.RedeemDeviceCode(ctx(t), "d1", base.Add(time.Minute))
	wantErr(t, err, store.ErrNotFound) // still pending
	must(t, s.ApproveDeviceCode(ctx(t), "d1", deviceGrant(), base.Add(2*time.Minute)))
	wantErr(t, s.ApproveDeviceCode(ctx(t), "d1", deviceGrant(), base.Add(2*time.Minute)), store.ErrNotFound)
	wantErr(t, s.DeclineDeviceCode(ctx(t), "d1", base.Add(2*time.Minute)), store.ErrNotFound)

	got, err := s.RedeemDeviceCode(ctx(t), "d1", base.Add(3*time.Minute))
	must(t, err)
	want := deviceGrant()
	if got.Status != store.DeviceRedeemed || got.Grant.UserID != want.UserID || got.Grant.SessionID != want.SessionID ||
		got.Grant.Platform != want.Platform || got.Grant.Resource != want.Resource || len(got.Grant.Scopes) != len(want.Scopes) ||
		!got.Grant.Remember || got.Grant.Claims != want.Claims || got.Grant.TenantID != tenantID {
		t.Fatalf("redeemed %+v, want grant %+v", got, want)
	}
	sameTime(t, "auth_time", got.Grant.AuthTime, want.AuthTime)
	_, err = s.RedeemDeviceCode(ctx(t), "d1", base.Add(3*time.Minute))
	wantErr(t, err, store.ErrRedeemed)
	_, err = s.RedeemDeviceCode(ctx(t), "nope", base)
	wantErr(t, err, store.ErrNotFound)
}

// testDeviceCodeExpiry: an expired authorization can be neither entered, approved, declined
// nor redeemed, and DeleteExpired prunes it.
func testDeviceCodeExpiry(t *testing.T, s store.Store) {
	seed(t, s)
	must(t, s.CreateDeviceCode(ctx(t), newDevice("d1", "u1")))
	must(t, s.CreateDeviceCode(ctx(t), newDevice("d2", "u2")))
	late := base.Add(15 * time.Minute)
	_, err := s.EnterUserCode(ctx(t), "u1", late)
	wantErr(t, err, store.ErrNotFound)
	wantErr(t, s.ApproveDeviceCode(ctx(t), "d1", deviceGrant(), late), store.ErrNotFound)
	wantErr(t, s.DeclineDeviceCode(ctx(t), "d1", late), store.ErrNotFound)
	must(t, s.ApproveDeviceCode(ctx(t), "d2", deviceGrant(), late.Add(-time.Second)))
	_, err = s.RedeemDeviceCode(ctx(t), "d2", late)
	wantErr(t, err, store.ErrNotFound)

	must(t, s.DeleteExpired(ctx(t), late))
	if _, _, err := s.PollDeviceCode(ctx(t), "d1", late, 5*time.Second); err != nil {
		t.Fatalf("pruned at its expiry instant: %v", err)
	}
	must(t, s.DeleteExpired(ctx(t), late.Add(time.Millisecond)))
	_, _, err = s.PollDeviceCode(ctx(t), "d1", late, 5*time.Second)
	wantErr(t, err, store.ErrNotFound)
	// Its user code is free again.
	must(t, s.CreateDeviceCode(ctx(t), newDevice("d3", "u1")))
}

// testDeviceDecline: a declined authorization stays declined.
func testDeviceDecline(t *testing.T, s store.Store) {
	seed(t, s)
	must(t, s.CreateDeviceCode(ctx(t), newDevice("d1", "u1")))
	must(t, s.DeclineDeviceCode(ctx(t), "d1", base))
	wantErr(t, s.ApproveDeviceCode(ctx(t), "d1", deviceGrant(), base), store.ErrNotFound)
	d, ok, err := s.PollDeviceCode(ctx(t), "d1", base, 5*time.Second)
	must(t, err)
	if !ok || d.Status != store.DeviceDeclined {
		t.Fatalf("poll after decline: recorded %v, %+v", ok, d)
	}
	_, err = s.RedeemDeviceCode(ctx(t), "d1", base)
	wantErr(t, err, store.ErrNotFound)
}

// testDevicePolling: a poll is recorded only when the previous recorded one is at least the
// interval old (slow_down otherwise), and polls that are refused do not move the clock on.
func testDevicePolling(t *testing.T, s store.Store) {
	seed(t, s)
	must(t, s.CreateDeviceCode(ctx(t), newDevice("d1", "u1")))
	const interval = 5 * time.Second
	steps := []struct {
		at   time.Duration
		want bool
	}{
		{0, true}, {time.Second, false}, {4999 * time.Millisecond, false}, {interval, true},
		{interval + time.Millisecond, false}, {3 * interval, true}, {3*interval - time.Second, false},
	}
	for _, st := range steps {
		d, ok, err := s.PollDeviceCode(ctx(t), "d1", base.Add(st.at), interval)
		must(t, err)
		if ok != st.want {
			t.Fatalf("poll at +%v: recorded %v, want %v (last poll %v)", st.at, ok, st.want, d.LastPolledAt.Sub(base))
		}
		if d.Hash != "d1" || d.Status != store.DevicePending {
			t.Fatalf("poll at +%v returned %+v", st.at, d)
		}
	}
	_, _, err := s.PollDeviceCode(ctx(t), "nope", base, interval)
	wantErr(t, err, store.ErrNotFound)
}

// testDeviceRaces: of concurrent entries of one user code, approvals, redemptions and
// polls, exactly one wins each time.
func testDeviceRaces(t *testing.T, s, s2 store.Store) {
	seed(t, s)
	must(t, s.CreateDeviceCode(ctx(t), newDevice("d1", "u1")))
	race := func(n int, fn func(store.Store) error) (int, []error) { return race2(s, s2, n, fn) }
	const n = 8
	check := func(what string, wins int, errs []error, lose error) {
		t.Helper()
		if wins != 1 {
			t.Fatalf("%s: %d winners, want 1 (%v)", what, wins, errs)
		}
		for _, err := range errs {
			wantErr(t, err, lose)
		}
	}
	wins, errs := race(n, func(s store.Store) error { _, err := s.EnterUserCode(ctx(t), "u1", base); return err })
	check("enter", wins, errs, store.ErrNotFound)
	wins, errs = race(n, func(s store.Store) error {
		_, ok, err := s.PollDeviceCode(ctx(t), "d1", base, 5*time.Second)
		if err == nil && !ok {
			return store.ErrConflict // too fast
		}
		return err
	})
	check("poll", wins, errs, store.ErrConflict)
	wins, errs = race(n, func(s store.Store) error { return s.ApproveDeviceCode(ctx(t), "d1", deviceGrant(), base) })
	check("approve", wins, errs, store.ErrNotFound)
	wins, errs = race(n, func(s store.Store) error { _, err := s.RedeemDeviceCode(ctx(t), "d1", base); return err })
	check("redeem", wins, errs, store.ErrRedeemed)
}

// testDeviceCodesOfUser: revoking or deleting a user takes away the device authorizations
// approved for it (a device must not redeem them afterwards); pending ones of nobody stay,
// and ResetState empties them all.
func testDeviceCodesOfUser(t *testing.T, s store.Store) {
	seed(t, s)
	must(t, s.CreateDeviceCode(ctx(t), newDevice("d1", "u1")))
	must(t, s.CreateDeviceCode(ctx(t), newDevice("d2", "u2")))
	must(t, s.ApproveDeviceCode(ctx(t), "d1", deviceGrant(), base))
	must(t, s.RevokeUser(ctx(t), userID, base))
	_, err := s.RedeemDeviceCode(ctx(t), "d1", base)
	wantErr(t, err, store.ErrNotFound)
	if _, _, err := s.PollDeviceCode(ctx(t), "d2", base, 5*time.Second); err != nil {
		t.Fatalf("revoking a user removed a pending device authorization: %v", err)
	}
	must(t, s.ResetState(ctx(t)))
	_, _, err = s.PollDeviceCode(ctx(t), "d2", base, 5*time.Second)
	wantErr(t, err, store.ErrNotFound)
}
