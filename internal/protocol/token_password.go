package protocol

import (
	"context"
	"errors"
	"net/http"
	"strings"

	"github.com/sigil-idp/sigil/internal/directory"
	"github.com/sigil-idp/sigil/internal/store"
)

// passwordGrant is the resource owner password credentials grant (RFC 6749 §4.3; MSAL's
// AcquireTokenByUsernamePassword), for apps with allowPublicClientFlows or confidential ones
// that authenticate. It is throttled exactly as the sign-in form: the same failure counts,
// under the same keys, for the account and the client's address, so neither path can be used
// to guess past the other's lockout; a wrong password is AADSTS50126, a locked account or
// address AADSTS50053 (the right password included). The scopes must have been granted to
// the app (there is no consent page to ask on): otherwise AADSTS65001, as Entra answers. The
// grant belongs to no browser session, so its tokens carry no sid and signing out of a
// browser does not revoke its refresh tokens; amr is ["pwd"], auth_time the time of this
// request. offline_access starts a new refresh-token family; openid adds the ID token.
func (s *Server) passwordGrant(ctx context.Context, tr *tokenRequest) (*tokenResponse, error) {
	username := strings.ToLower(strings.TrimSpace(tr.p.get("username")))
	pw, scope := tr.p.get("password"), tr.p.get("scope")
	switch {
	case username == "":
		return nil, errMissingParam.new("username")
	case pw == "":
		return nil, errMissingParam.new("password")
	case scope == "":
		return nil, errMissingParam.new("scope")
	case len(username) > 256 || len(pw) > 1024:
		return nil, errBadCredentials.new()
	}
	claimsParam := tr.p.get("claims")
	if _, err := parseClaimsRequest(claimsParam); err != nil {
		return nil, err
	}
	now := s.now()
	user, ok, err := s.checkPassword(ctx, username, pw, tr.addr, nil)
	if e := (*Error)(nil); errors.As(err, &e) && e.Status < http.StatusInternalServerError {
		s.signInFailed(ctx, tr.tenant, &tr.app, username, e)
	}
	if err != nil {
		return nil, err
	}
	if !ok {
		s.signInFailed(ctx, tr.tenant, &tr.app, username, errBadCredentials.new())
		return nil, errBadCredentials.new()
	}
	var refused *Error
	switch {
	case !user.Enabled:
		refused = errPasswordUserDisabled.new()
	case !tr.tenant.admits(user.TenantID) || !tr.app.AllowsTenant(user.TenantID):
		refused = errUserNotInAppTenant.new(user.Username, tr.tenant.name(), tr.app.DisplayName)
	}
	if refused != nil {
		s.event(ctx, evSignInFailure, ofUser(user).withApp(&tr.app), refused)
		return nil, refused
	}
	resource, scopes, missing, err := s.silentScopes(ctx, tr.app, user, scope)
	if err != nil {
		return nil, err
	}
	if len(missing) > 0 {
		return nil, consentChallenge(tr.app, missing)
	}
	platform := directory.PlatformPublicClient
	if tr.authn != authNone {
		platform = directory.PlatformWeb
	}
	grant := store.Grant{TenantID: user.TenantID, ClientID: tr.app.ClientID, UserID: user.ID, Platform: platform,
		Resource: resource, Scopes: scopes, AuthTime: now, AMR: []string{"pwd"}, Claims: claimsParam}
	claims, err := tr.claimsFor(grant)
	if err != nil {
		return nil, err
	}
	s.event(ctx, evSignInSuccess, ofUser(user).withApp(&tr.app), nil)
	return s.mint(ctx, mintRequest{app: tr.app, authn: tr.authn, grant: grant, user: &user, claims: claims,
		ipaddr: tr.addr, newFamily: true, now: now})
}
