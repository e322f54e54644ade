package protocol

import (
	"context"
	"errors"
	"net"
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
	accountKey, addressKey := "account:"+username, "address:"+clientAddress(r)
	if e, err := s.throttled(ctx, accountKey, addressKey); err != nil || e != nil {
		if err != nil {
			s.failPage(w, r, "login", err)
			return
		}
		again(e)
		return
	}
	user, ok, err := s.checkPassword(ctx, username, pw)
	if err != nil {
		s.failPage(w, r, "login", err)
		return
	}
	if !ok {
		for _, k := range []string{accountKey, addressKey} {
			if err := s.store.RecordLoginFailure(ctx, k, now); err != nil {
				s.failPage(w, r, "login", err)
				return
			}
		}
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
	sess, err := s.sessions.SignIn(ctx, w, r, user, form.Get("remember") != "", now)
	if err != nil {
		s.failPage(w, r, "login", err)
		return
	}
	s.event(ctx, evSignInSuccess, ofUser(user).withApp(&f.app), nil)
	f.account = &sess
	s.proceed(w, r, f)
}

// throttled returns the lockout error when the account or the address has failed too often
// within the window.
func (s *Server) throttled(ctx context.Context, accountKey, addressKey string) (*Error, error) {
	since := s.now().Add(-s.throttle.Window)
	n, err := s.store.LoginFailures(ctx, accountKey, since)
	if err != nil {
		return nil, err
	}
	if n >= s.throttle.Account {
		return errAccountLocked.new(), nil
	}
	if n, err = s.store.LoginFailures(ctx, addressKey, since); err != nil {
		return nil, err
	}
	if n >= s.throttle.Address {
		return errAddressLocked.new(), nil
	}
	return nil, nil
}

// checkPassword verifies a password. Unknown users cost the same hash as known ones, so the
// answer's timing does not tell which usernames exist; at most two hashes run at once (each
// takes ~19 MiB). A hash with outdated parameters is replaced after a successful check.
func (s *Server) checkPassword(ctx context.Context, username, pw string) (directory.User, bool, error) {
	user, err := s.store.UserByUsername(ctx, username)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return user, false, err
	}
	encoded := user.PasswordHash
	if encoded == "" {
		encoded = s.dummyHash
	}
	select {
	case s.hashing <- struct{}{}:
	case <-ctx.Done():
		return user, false, ctx.Err()
	}
	ok, verr := password.Verify(encoded, pw)
	<-s.hashing
	if verr != nil || !ok || user.ID == "" {
		return user, false, nil
	}
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

// clientAddress is the address sign-in throttling counts per: the peer's IP.
func clientAddress(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}
