package protocol

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"time"

	"github.com/sigil-idp/sigil/internal/directory"
	"github.com/sigil-idp/sigil/internal/store"
)

// flow is an authorization request on its way to its answer (a code, implicit tokens or an
// encrypted token response): the request, what it resolved to, and what the user has just
// done on one of the pages.
type flow struct {
	req    authRequest
	app    directory.App
	tenant tenantRef
	// interaction is the sealed pending interaction (the pages' "ir" field), once a page was
	// shown; interactionID and interactionExpires are its id and expiry (interaction.go).
	interaction        string
	interactionID      string
	interactionExpires time.Time

	// account is the session the user just settled on: signed in with a password, picked in
	// the account picker, or consented as. Its cookie may only be in the response so far.
	account   *store.Session
	consented bool // the consent page was just accepted
}

// interactionLifetime bounds how long a sign-in page stays usable.
const interactionLifetime = 30 * time.Minute

// proceed takes a validated request as far as it can go: choose the account, check consent,
// and issue what the response type asks for — or show the page the user must act on (never
// for prompt=none).
func (s *Server) proceed(w http.ResponseWriter, r *http.Request, f *flow) {
	ctx, now := r.Context(), s.now()
	fail := func(err error) {
		if end := s.endInteraction(ctx, f); end != nil {
			err = end
		}
		s.deliverError(w, r, f.req.Reply, err)
	}
	scopes, err := s.parseScopes(ctx, f.app, f.req.Scope)
	if err != nil {
		fail(err)
		return
	}
	sessions, err := s.browserSessions(ctx, r, f)
	if err != nil {
		fail(err)
		return
	}
	sess, next, err := s.chooseAccount(ctx, f, sessions, now)
	switch {
	case err != nil:
		fail(err)
		return
	case next == showLogin:
		s.showLogin(w, r, f, s.hintUsername(ctx, f.req.LoginHint), nil)
		return
	case next == showPicker:
		s.showPicker(w, r, f, sessions)
		return
	}
	user, err := s.store.UserByID(ctx, sess.UserID)
	if errors.Is(err, store.ErrNotFound) || err == nil && !user.Enabled {
		fail(errUserDisabled.new())
		return
	}
	if err != nil {
		fail(err)
		return
	}
	granted, ask, err := s.consentState(ctx, f, &scopes, user)
	switch {
	case err != nil:
		fail(err)
	case len(ask) > 0:
		s.showConsent(w, r, f, sess, user, scopes.OpenID, ask)
	default:
		s.issue(w, r, f, sess, user, scopes, granted)
	}
}

// parseScopes resolves a scope parameter for an app. APIs are registered beside the app, so
// they resolve in the app's home tenant — whichever tenant path the request came through and
// whichever tenant the user belongs to, so that authorization and refresh always agree.
func (s *Server) parseScopes(ctx context.Context, app directory.App, raw string) (directory.ScopeSet, error) {
	tenantID := app.TenantID
	raw = ownClientIDScope(raw, app.ClientID)
	set, err := directory.ParseScopes(raw, func(uri string) (directory.API, bool, error) {
		api, err := s.store.APIByURI(ctx, tenantID, uri)
		if errors.Is(err, store.ErrNotFound) {
			return api, false, nil
		}
		return api, err == nil, err
	})
	return set, scopeError(err, tenantID)
}

// ownClientIDScope spells the app's own client id, used as a scope, as "openid profile": an
// app asking for a token for itself gets an ID token, as with Entra. MSAL 1.x and
// msal-angular 1.x ask this way to renew the ID token.
func ownClientIDScope(raw, clientID string) string {
	fields := strings.Fields(raw)
	found := false
	for i, f := range fields {
		if strings.EqualFold(f, clientID) {
			fields[i], found = "openid profile", true
		}
	}
	if !found {
		return raw
	}
	return strings.Join(fields, " ")
}

// scopeError maps a scope resolution failure to the error table.
func scopeError(err error, tenantID string) error {
	var se *directory.ScopeError
	if !errors.As(err, &se) {
		return err
	}
	switch se.Kind {
	case directory.ScopeUnknownResource:
		return errUnknownAPI.new(truncate(se.Scope, 200), tenantID)
	default:
		return errInvalidScope.new(se.Error())
	}
}
