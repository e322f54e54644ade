package protocol

import (
	"context"
	"errors"
	"log/slog"
	"strings"

	"github.com/sigil-idp/sigil/internal/directory"
	"github.com/sigil-idp/sigil/internal/store"
)

// eventKind names a security event: the value of the `event` attribute of the security
// event stream (README: "Security events").
type eventKind string

// The security events.
const (
	evSignInSuccess   eventKind = "signin.success"         // a password sign-in succeeded (form or password grant)
	evSignInFailure   eventKind = "signin.failure"         // a wrong password, a disabled user, a user outside the app's tenants
	evSignInLockout   eventKind = "signin.lockout"         // a sign-in refused because the account or the address is locked
	evClientAuthFail  eventKind = "clientauth.failure"     // a wrong client secret or assertion
	evClientThrottled eventKind = "clientauth.throttled"   // client authentication refused: too many failures
	evCodeReplay      eventKind = "code.replay"            // an authorization code presented again
	evRefreshReuse    eventKind = "refresh.reuse"          // a rotated refresh token presented after the reuse interval
	evFamilyRevoked   eventKind = "refresh.family_revoked" // a refresh-token family revoked (reuse, code replay)
	evConsentGranted  eventKind = "consent.granted"        // a user (or an administrator, tenant-wide) granted scopes
	evLogout          eventKind = "logout"                 // a session ended by the logout endpoint
)

// subject is who and what an event is about. It is built only from records of the
// directory and the store — users, apps, grants, sessions — never from a request string, so
// no password, secret, code or token can reach the event stream by mistake.
type subject struct {
	tenant, user, client string
	resource             string
	scopes               []string
}

// ofUser is an event about a user.
func ofUser(u directory.User) subject { return subject{tenant: u.TenantID, user: u.ID} }

// ofGrant is an event about what a code or refresh token was issued for.
func ofGrant(g store.Grant) subject {
	return subject{tenant: g.TenantID, user: g.UserID, client: g.ClientID}
}

// ofSession is an event about a browser session.
func ofSession(x store.Session) subject { return subject{tenant: x.TenantID, user: x.UserID} }

// ofConsent is an event about a consent grant (an administrator's has no user).
func ofConsent(g directory.Grant) subject {
	return subject{tenant: g.TenantID, user: g.UserID, client: g.ClientID, resource: g.Resource, scopes: g.Scopes}
}

// ofApp is an event about a client.
func ofApp(a directory.App) subject { return subject{tenant: a.TenantID, client: a.ClientID} }

// withApp adds the client.
func (s subject) withApp(a *directory.App) subject {
	if a != nil {
		s.client = a.ClientID
		if s.tenant == "" {
			s.tenant = a.TenantID
		}
	}
	return s
}

// revokeCause says why a refresh-token family was revoked.
type revokeCause string

const (
	causeReuse      revokeCause = "refresh_token_reuse"
	causeCodeReplay revokeCause = "code_replay"
)

// event writes one security event: its kind, who it is about, the client's address and the
// request's trace and correlation ids, and, for a refusal, the error's code (never its
// description, which may quote what the client sent).
func (s *Server) event(ctx context.Context, kind eventKind, who subject, why *Error) {
	s.eventWith(ctx, kind, who, why, "")
}

// eventWith is event with the cause of a revocation.
func (s *Server) eventWith(ctx context.Context, kind eventKind, who subject, why *Error, cause revokeCause) {
	if s.securityEvent != nil {
		s.securityEvent(string(kind))
	}
	ids := idsOf(ctx)
	attrs := []slog.Attr{slog.String("event", string(kind)), slog.String("tenant_id", who.tenant),
		slog.String("user_id", who.user), slog.String("client_id", who.client), slog.String("client_address", ids.addr),
		slog.String("trace_id", ids.trace), slog.String("correlation_id", ids.correlation)}
	if who.resource != "" || len(who.scopes) > 0 {
		attrs = append(attrs, slog.String("resource", who.resource), slog.String("scopes", strings.Join(who.scopes, " ")))
	}
	if why != nil {
		attrs = append(attrs, slog.String("error", why.Code), slog.Int("aadsts", why.AADSTS))
	}
	if cause != "" {
		attrs = append(attrs, slog.String("cause", string(cause)))
	}
	level := slog.LevelWarn
	switch kind {
	case evSignInSuccess, evConsentGranted, evLogout:
		level = slog.LevelInfo
	}
	s.log.LogAttrs(ctx, level, "security event", attrs...)
}

// codeReplayed writes the events of an authorization code presented again: the replay, and
// the revocation of what the code issued.
func (s *Server) codeReplayed(ctx context.Context, g store.Grant) {
	s.event(ctx, evCodeReplay, ofGrant(g), errCodeRedeemed.new())
	s.eventWith(ctx, evFamilyRevoked, ofGrant(g), nil, causeCodeReplay)
}

// refreshReused writes the events of a refresh token reused after the reuse interval: the
// reuse, and the revocation of its family.
func (s *Server) refreshReused(ctx context.Context, g store.Grant) {
	s.event(ctx, evRefreshReuse, ofGrant(g), errRefreshRevoked.new())
	s.eventWith(ctx, evFamilyRevoked, ofGrant(g), nil, causeReuse)
}

// signInFailed writes the event of a refused sign-in for username in tenant t: a lockout, or
// a failure. The user's id is looked up (the username itself is not logged: people type
// passwords into it).
func (s *Server) signInFailed(ctx context.Context, t tenantRef, app *directory.App, username string, why *Error) {
	who := subject{tenant: t.tenant.ID}
	if username != "" {
		if u, err := s.store.UserByUsername(ctx, username); err == nil {
			who = ofUser(u)
		} else if !errors.Is(err, store.ErrNotFound) {
			s.log.WarnContext(ctx, "security event: user lookup", "error", err.Error())
		}
	}
	kind := evSignInFailure
	if why.Code == errAccountLocked.code && (why.AADSTS == errAccountLocked.aadsts || why.AADSTS == errAddressLocked.aadsts) {
		kind = evSignInLockout
	}
	s.event(ctx, kind, who.withApp(app), why)
}
