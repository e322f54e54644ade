package protocol

import (
	"context"
	"errors"
	"math"
	"net/http"
	"strings"

	"github.com/sigil-idp/sigil/internal/directory"
	"github.com/sigil-idp/sigil/internal/password"
	"github.com/sigil-idp/sigil/internal/store"
)

// login answers POST /-/login, the sign-in form: check throttling, then the password, then
// whether the account may use this app; on success sign the account in to this browser and
// continue the authorization request. A failure re-shows the form with data-error-code.
func (s *Server) login(w http.ResponseWriter, r *http.Request) {
	f, form := s.resumeFlow(w, r, "login")
	if f == nil {
		return
	}
	ctx, now := r.Context(), s.now()
	username := strings.ToLower(strings.TrimSpace(form.Get("username")))
	pw := form.Get("password")
	again := func(e *Error) {
		s.logError(ctx, "login", e)
		s.signInFailed(ctx, f.tenant, &f.app, username, e)
		s.showLogin(w, r, f, username, e)
	}
	if username == "" || pw == "" || len(username) > 256 || len(pw) > 1024 {
		again(errBadCredentials.new())
		return
	}
	dev := s.readDevice(r)
	user, ok, err := s.checkPassword(ctx, username, pw, s.clientAddress(r), dev)
	var pe *Error
	switch {
	case errors.As(err, &pe) && pe.Status < http.StatusInternalServerError:
		retryAfter(w, pe)
		again(pe)
		return
	case err != nil:
		s.failPage(w, r, "login", err)
		return
	case !ok:
		again(errBadCredentials.new())
		return
	}
	switch {
	case !user.Enabled:
		again(errUserDisabled.new())
		return
	case !f.tenant.admits(user.TenantID) || !f.app.AllowsTenant(user.TenantID):
		again(errUserNotInAppTenant.new(user.Username, f.tenant.name(), f.app.DisplayName))
		return
	}
	s.rememberDevice(w, dev, user.ID)
	sess, err := s.sessions.SignIn(ctx, w, r, user, form.Get("remember") != "", now)
	if err != nil {
		s.failPage(w, r, "login", err)
		return
	}
	s.event(ctx, evSignInSuccess, ofUser(user).withApp(&f.app), nil)
	f.account = &sess
	s.proceed(w, r, f)
}

// checkPassword verifies a password from the client address addr (and the browser's device
// cookie, when the sign-in form sent one), throttled (throttle.go): the address must get past
// this node's gate, then the check is reserved under the account's key — the device's own
// key for an account that signed in on this device before (device.go) — and the address's;
// only then is the password hashed, and the reservations released (right) or failed (wrong).
// A refusal is an *Error: AADSTS50053 locked, or busy with RetryAfter set. Unknown users cost
// the same hash as known ones, so the answer's timing does not tell which usernames exist; at
// most two hashes run at once (each takes ~19 MiB). A hash with outdated parameters is
// replaced after a successful check.
func (s *Server) checkPassword(ctx context.Context, username, pw, addr string, dev *device) (directory.User, bool, error) {
	user, err := s.store.UserByUsername(ctx, username)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return user, false, err
	}
	account, known := s.accountKey(username), s.knows(dev, user.ID)
	if known {
		account = s.deviceThrottleKey(dev, user.ID)
	}
	done, fresh, wait := s.gate.admit(throttleAddress(addr))
	if wait > 0 {
		secs := int(math.Ceil(wait.Seconds()))
		e := errAddressBusy.new(secs)
		e.RetryAfter = secs
		return user, false, e
	}
	defer done()
	res, err := s.reserve(ctx, account, s.addressKey(addr))
	if err != nil {
		return user, false, err
	}
	encoded := user.PasswordHash
	if encoded == "" {
		encoded = s.dummyHash
	}
	wctx, cancel := context.WithTimeout(ctx, hashWait)
	priority, err := s.hashing.acquire(wctx, fresh || known)
	cancel()
	if err != nil {
		res.release(ctx)
		if ctx.Err() != nil {
			return user, false, ctx.Err()
		}
		return user, false, errSignInBusy.new()
	}
	ok, verr := password.Verify(encoded, pw)
	s.hashing.release(priority)
	if verr != nil || !ok || user.ID == "" {
		return user, false, res.fail(ctx)
	}
	res.release(ctx)
	if password.NeedsRehash(user.PasswordHash, s.passwords) {
		if h, err := password.Hash(pw, s.passwords); err == nil {
			user.PasswordHash = h
			if err := s.store.UpsertUser(ctx, user); err != nil {
				s.log.WarnContext(ctx, "rehash password", "error", err.Error())
			}
		}
	}
	return user, true, nil
}

// clientAddress is the client's IP address: the socket's peer, or behind a trusted proxy
// the address its forwarding header names (forwarded.go). Throttling, token claims (ipaddr)
// and logs all take it from here.
func (s *Server) clientAddress(r *http.Request) string {
	return s.proxies.ClientAddress(r.RemoteAddr, r.Header)
}
