package protocol

import (
	"context"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"mime"
	"net/http"
	"strings"
	"time"

	"github.com/sigil-idp/sigil/internal/config"
	"github.com/sigil-idp/sigil/internal/store"
	"github.com/sigil-idp/sigil/internal/tokens"
)

// TestControl turns on the test-control API: what an end-to-end suite needs to script the
// identity provider — users with preset claims, errors on demand, revocation, a clock, throttle
// and state resets. README "The test-control API" is its contract. It is off unless the
// configuration says testing.controlApi (or sigil dev runs).
type TestControl struct {
	// Token, when not empty, must come as "Authorization: Bearer <Token>".
	Token string
	// Reset applies the bootstrap file again once the store's users and state are gone.
	Reset func(ctx context.Context) error
}

// forcedErrors are the errors a forced failure may name, by OAuth error code.
var forcedErrors = map[string]kind{
	"login_required":       errForcedLogin,
	"consent_required":     errForcedConsent,
	"interaction_required": errForcedMFA,
	"access_denied":        errForcedDenied,
}

// maxControlBody bounds a control request's JSON body.
const maxControlBody = 64 << 10

// controlGuard admits a control request: the token when one is configured, never a web page
// on another origin (so a site the tester visits cannot script Sigil through the browser),
// and a JSON body when there is one.
func (s *Server) controlGuard(next func(http.ResponseWriter, *http.Request) error) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		err := s.admitControl(r)
		if err == nil {
			r.Body = http.MaxBytesReader(w, r.Body, maxControlBody)
			err = next(w, r)
		}
		if err != nil {
			s.failJSON(w, r, "test-control", err)
		}
	})
}

func (s *Server) admitControl(r *http.Request) error {
	if tok := s.control.Token; tok != "" {
		got, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		if !ok || subtle.ConstantTimeCompare([]byte(got), []byte(tok)) != 1 {
			return errControlToken.new()
		}
	}
	if o := r.Header.Get("Origin"); o != "" && o != s.publicURL {
		return errControlOrigin.new(truncate(o, 200))
	}
	if r.ContentLength != 0 && r.Method != http.MethodGet && r.Method != http.MethodDelete {
		if mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); mt != "application/json" {
			return errControlBody.new("The body must be JSON (Content-Type: application/json).")
		}
	}
	return nil
}

// readControl decodes a control request's JSON body into v, strictly.
func readControl(r *http.Request, v any) error {
	dec := json.NewDecoder(r.Body)
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return errControlBody.new("The body is not the JSON this endpoint takes: " + truncate(err.Error(), 200))
	}
	if dec.More() {
		return errControlBody.new("The body holds more than one JSON value.")
	}
	return nil
}

// controlUser is a user to create: the fields of a bootstrap file's user, and its tenant.
type controlUser struct {
	Tenant string `json:"tenant"` // domain or id
	config.User
}

// controlCreateUser answers POST /-/test/users: a user with preset claims (names, email, app
// roles, admin), signed in like any other. An existing username is a conflict.
func (s *Server) controlCreateUser(w http.ResponseWriter, r *http.Request) error {
	var in controlUser
	if err := readControl(r, &in); err != nil {
		return err
	}
	ctx := r.Context()
	t, err := s.resolveTenant(ctx, in.Tenant)
	switch {
	case in.Tenant == "":
		return errControlBody.new("tenant is required: the domain or id of the user's tenant.")
	case err != nil || t.multi:
		return errControlNotFound.new("No tenant " + truncate(in.Tenant, 100) + ".")
	}
	u := in.User
	if err := config.CheckUser(&u, t.tenant.Domains); err != nil {
		return errControlBody.new(err.Error())
	}
	if _, err := s.store.UserByUsername(ctx, u.Username); err == nil {
		return errControlConflict.new("A user named " + u.Username + " exists.")
	} else if !errors.Is(err, store.ErrNotFound) {
		return err
	}
	id, err := config.ApplyUser(ctx, s.store, t.tenant.ID, u, s.passwords)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, map[string]string{"id": id, "username": u.Username, "tenantId": t.tenant.ID})
	return nil
}

// controlUserID resolves the {username} of a control URL.
func (s *Server) controlUserID(r *http.Request) (string, error) {
	u, err := s.store.UserByUsername(r.Context(), strings.ToLower(r.PathValue("username")))
	if errors.Is(err, store.ErrNotFound) {
		return "", errControlNotFound.new("No user " + truncate(r.PathValue("username"), 100) + ".")
	}
	return u.ID, err
}

// controlDeleteUser answers DELETE /-/test/users/{username}.
func (s *Server) controlDeleteUser(w http.ResponseWriter, r *http.Request) error {
	id, err := s.controlUserID(r)
	if err != nil {
		return err
	}
	if err := s.store.DeleteUser(r.Context(), id); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// controlRevokeUser answers POST /-/test/users/{username}/revoke: every session, code,
// refresh token and consent of the user gone, as if an administrator revoked its sign-ins.
func (s *Server) controlRevokeUser(w http.ResponseWriter, r *http.Request) error {
	id, err := s.controlUserID(r)
	if err != nil {
		return err
	}
	if err := s.store.RevokeUser(r.Context(), id, s.now()); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// controlFailure is a forced failure as the API takes it.
type controlFailure struct {
	ClientID    string `json:"clientId"`
	Username    string `json:"username"`
	Error       string `json:"error"`
	Description string `json:"description"`
	Count       int    `json:"count"` // how many requests fail; 0 means 1
}

// controlForceFailure answers POST /-/test/failures: the next authorization requests of the
// app, of the user, of both, or of anyone (neither named) answer the error instead of a code
// or tokens — delivered to the app like a real one (redirect, popup, hidden iframe).
func (s *Server) controlForceFailure(w http.ResponseWriter, r *http.Request) error {
	var in controlFailure
	if err := readControl(r, &in); err != nil {
		return err
	}
	if _, ok := forcedErrors[in.Error]; !ok {
		return errControlBody.new("error must be login_required, consent_required, interaction_required or access_denied.")
	}
	if in.Count < 0 || in.Count > 1000 {
		return errControlBody.new("count must be between 1 and 1000.")
	}
	f := store.ForcedFailure{ID: tokens.RandomID(16), ClientID: strings.ToLower(in.ClientID), Error: in.Error,
		Description: truncate(in.Description, 200), Remaining: max(in.Count, 1), CreatedAt: s.now()}
	if in.Username != "" {
		u, err := s.store.UserByUsername(r.Context(), strings.ToLower(in.Username))
		if errors.Is(err, store.ErrNotFound) {
			return errControlNotFound.new("No user " + truncate(in.Username, 100) + ".")
		} else if err != nil {
			return err
		}
		f.UserID = u.ID
	}
	if err := s.store.AddForcedFailure(r.Context(), f); err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, map[string]any{"id": f.ID, "remaining": f.Remaining})
	return nil
}

// controlClearFailures answers DELETE /-/test/failures.
func (s *Server) controlClearFailures(w http.ResponseWriter, r *http.Request) error {
	if err := s.store.ClearForcedFailures(r.Context()); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// forcedFailure uses up a forced failure for the app and user, if one is pending, and returns
// its error.
func (s *Server) forcedFailure(ctx context.Context, clientID, userID string) error {
	if s.control == nil {
		return nil
	}
	f, err := s.store.TakeForcedFailure(ctx, clientID, userID)
	switch {
	case errors.Is(err, store.ErrNotFound):
		return nil
	case err != nil:
		return err
	}
	detail := ""
	if f.Description != "" {
		detail = " (" + f.Description + ")"
	}
	return forcedErrors[f.Error].new(detail)
}

// controlClock is the clock as the API shows and takes it.
type controlClock struct {
	Now    time.Time `json:"now"`
	Offset string    `json:"offset"` // a Go duration, e.g. "25h"; never negative
}

// controlGetClock answers GET /-/test/clock.
func (s *Server) controlGetClock(w http.ResponseWriter, r *http.Request) error {
	writeJSON(w, http.StatusOK, controlClock{Now: s.now().UTC(), Offset: time.Duration(s.clockOffset.Load()).String()})
	return nil
}

// controlSetClock answers PUT /-/test/clock: Sigil's clock runs Offset ahead of real time
// from now on, for everything that expires — tokens, codes, sessions, refresh tokens and
// lockouts. Offset "0s" sets it back.
func (s *Server) controlSetClock(w http.ResponseWriter, r *http.Request) error {
	var in controlClock
	if err := readControl(r, &in); err != nil {
		return err
	}
	d, err := time.ParseDuration(in.Offset)
	if err != nil || d < 0 || d > 10*365*24*time.Hour {
		return errControlBody.new(fmt.Sprintf("offset %q must be a duration such as \"25h\" or \"90m\", from 0s to ten years.", truncate(in.Offset, 40)))
	}
	s.clockOffset.Store(int64(d))
	return s.controlGetClock(w, r)
}

// controlClearThrottles answers DELETE /-/test/throttles: every sign-in failure count is
// forgotten, so locked accounts and addresses sign in again.
func (s *Server) controlClearThrottles(w http.ResponseWriter, r *http.Request) error {
	if err := s.store.ClearLoginFailures(r.Context()); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// controlReset answers POST /-/test/reset: the users, sessions, consents, tokens, throttle
// counts and forced failures are gone, the clock offset is zero, and the bootstrap file's users
// and grants are applied again — the state of a fresh start on the same keys.
func (s *Server) controlReset(w http.ResponseWriter, r *http.Request) error {
	ctx := r.Context()
	if err := s.store.ResetState(ctx); err != nil {
		return err
	}
	s.clockOffset.Store(0)
	if s.control.Reset != nil {
		if err := s.control.Reset(ctx); err != nil {
			return err
		}
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}
