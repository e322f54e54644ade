package protocol

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"time"

	"github.com/sigil-idp/sigil/internal/directory"
	"github.com/sigil-idp/sigil/internal/store"
	"github.com/sigil-idp/sigil/internal/tokens"
)

// onBehalfOf is the requested_token_use of the on-behalf-of grant.
const onBehalfOf = "on_behalf_of"

// onBehalfOfGrant exchanges a user's access token for the calling API — the assertion — for
// a token for the same user to a downstream API (Entra's on-behalf-of flow, RFC 7523 §2.1's
// jwt-bearer grant with requested_token_use=on_behalf_of). The caller is a confidential
// client: the app registration of an API (apis[].clientId). The assertion must be a user's
// access token signed by Sigil, unexpired, and for that API, named by its Application ID URI
// or by its client id; an app-only token names no user, and a token without scp — an ID
// token — is not an access token. The downstream scopes must have been granted to the calling
// app (by the user, or tenant-wide by an administrator); otherwise the answer is
// AADSTS65001 with suberror consent_required and a claims challenge naming the missing scopes,
// which the API hands back to its client. The new grant keeps the assertion's user and sid
// (signing out of that session revokes its refresh tokens); offline_access starts a new
// refresh-token family, openid adds an ID token, as with Entra.
func (s *Server) onBehalfOfGrant(ctx context.Context, tr *tokenRequest) (*tokenResponse, error) {
	switch use := tr.p.get("requested_token_use"); {
	case use == "":
		return nil, errMissingParam.new("requested_token_use")
	case use != onBehalfOf:
		return nil, errInvalidParam.new("requested_token_use", "it must be "+onBehalfOf+".")
	}
	raw, scope := tr.p.get("assertion"), tr.p.get("scope")
	switch {
	case raw == "":
		return nil, errMissingParam.new("assertion")
	case scope == "":
		return nil, errMissingParam.new("scope")
	}
	now := s.now()
	c, err := s.verifyUserAssertion(ctx, tr, raw, now)
	if err != nil {
		return nil, err
	}
	user, err := s.store.UserByID(ctx, c.OID)
	switch {
	case errors.Is(err, store.ErrNotFound) || err == nil && (!user.Enabled || user.TenantID != c.TID):
		return nil, errGrantUserGone.new()
	case err != nil:
		return nil, err
	case !tr.app.AllowsTenant(user.TenantID):
		return nil, errUserNotInAppTenant.new(user.Username, tr.tenant.name(), tr.app.DisplayName)
	}
	resource, scopes, missing, err := s.silentScopes(ctx, tr.app, user, scope)
	if err != nil {
		return nil, err
	}
	if len(missing) > 0 {
		return nil, consentChallenge(tr.app, missing)
	}
	authTime := c.Iat // the latest moment the user is known to have been signed in
	if c.AuthTime > 0 {
		authTime = c.AuthTime
	}
	grant := store.Grant{TenantID: user.TenantID, ClientID: tr.app.ClientID, UserID: user.ID, SessionID: c.SID,
		Platform: directory.PlatformWeb, Resource: resource, Scopes: scopes, AuthTime: time.Unix(authTime, 0),
		Claims: tr.p.get("claims")}
	claims, err := tr.claimsFor(grant)
	if err != nil {
		return nil, err
	}
	return s.mint(ctx, mintRequest{app: tr.app, authn: tr.authn, grant: grant, user: &user, claims: claims,
		ipaddr: tr.addr, newFamily: true, now: now})
}

// verifyUserAssertion checks an on-behalf-of assertion with the key set — signature,
// issuer, audience, lifetime — and what kind of token it is, in that order of blame: a
// token that is not Sigil's fails whatever it says; one that is, but is not a user's access
// token, is refused for that before its audience and age are looked at.
func (s *Server) verifyUserAssertion(ctx context.Context, tr *tokenRequest, raw string, now time.Time) (tokens.AccessClaims, error) {
	// The calling API: the one whose own registration the client is. Without one, only the
	// client id names it (and no access token has that audience).
	api, err := s.store.APIByURI(ctx, tr.app.TenantID, tr.app.ClientID)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return tokens.AccessClaims{}, err
	}
	expected := tr.app.ClientID
	if err == nil && strings.EqualFold(api.ClientID, tr.app.ClientID) {
		expected = api.AppIDURI
	} else {
		api = directory.API{}
	}
	forCaller := func(aud string) bool {
		return strings.EqualFold(aud, tr.app.ClientID) || api.AppIDURI != "" && aud == api.AppIDURI
	}
	c, err := s.keys.VerifyAccessTokenFor(raw, s.publicURL, forCaller, now)
	switch {
	case errors.Is(err, tokens.ErrForeignIssuer):
		return c, errOBOAssertion.new("the assertion was not issued by this server's tenant issuer").because(err)
	case err != nil && !errors.Is(err, tokens.ErrAudience) && !errors.Is(err, tokens.ErrExpired) &&
		!errors.Is(err, tokens.ErrNotYetValid):
		return c, errOBOAssertion.new("the assertion is not a JWT signed by one of this server's published keys").because(err)
	case c.Idtyp == "app":
		return c, errOBONotUserToken.new("it is an app-only token (idtyp app), which names no user")
	case c.Scp == "":
		return c, errOBONotUserToken.new("it has no scp claim, so it is not a user's access token (an ID token is not one)")
	case errors.Is(err, tokens.ErrAudience):
		return c, errOBOAudience.new(truncate(c.Aud, 200), expected, tr.app.ClientID, tr.app.DisplayName)
	case err != nil: // expired, or not yet valid
		return c, errOBOExpired.new(timestamp(now), timestamp(time.Unix(c.Exp, 0))).because(err)
	case !tr.tenant.admits(c.TID):
		return c, errOBOAssertion.new("the assertion was issued by tenant '" + truncate(c.TID, 64) +
			"'; request the token through that tenant's authority (the assertion's tid)")
	}
	return c, nil
}

// consentChallenge is the answer to a grant whose scopes nobody granted to app: invalid_grant
// AADSTS65001 with suberror consent_required, and a claims challenge naming the missing
// scopes. The challenge is a valid claims parameter for Sigil's authorization endpoint
// ({"access_token":{"scp":{"essential":true,"values":[…]}}}), so the API can hand it to
// its client, which passes it on in an interactive request.
func consentChallenge(app directory.App, missing []string) *Error {
	e := errGrantConsent.new(app.ClientID, app.DisplayName)
	e.Suberror = "consent_required"
	b, _ := json.Marshal(map[string]any{"access_token": map[string]any{"scp": map[string]any{"essential": true, "values": missing}}})
	e.Claims = string(b)
	return e
}
