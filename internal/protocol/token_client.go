package protocol

import (
	"context"
	"slices"
	"strings"
	"time"

	"github.com/sigil-idp/sigil/internal/directory"
	"github.com/sigil-idp/sigil/internal/tokens"
)

// clientCredentialsGrant issues an app-only access token (RFC 6749 §4.4) to an authenticated
// confidential client. The scope names one resource as "<resource>/.default" — the resource's
// Application ID URI or its own client id — and the OpenID Connect scopes MSAL Go adds beside
// it are ignored. The token's roles are the app permissions granted to the app for that
// resource; it has no scp, and there is no refresh token and no ID token.
func (s *Server) clientCredentialsGrant(ctx context.Context, tr *tokenRequest) (*tokenResponse, error) {
	if tr.tenant.multi {
		return nil, errAppOnlyNeedsTenant.new(tr.tenant.segment)
	}
	raw := tr.p.get("scope")
	if raw == "" {
		return nil, errMissingParam.new("scope")
	}
	var named []string
	for _, f := range strings.Fields(raw) {
		switch strings.ToLower(f) {
		case directory.ScopeOpenID, directory.ScopeProfile, directory.ScopeEmail, directory.ScopeOfflineAccess:
		default:
			named = append(named, f)
		}
	}
	if len(named) != 1 || !strings.HasSuffix(named[0], "/.default") {
		return nil, errScopeNotDefault.new(truncate(raw, 200))
	}
	set, err := s.parseScopes(ctx, tr.app, named[0])
	if err != nil {
		return nil, err
	}
	g := set.Groups[0]
	var roles []string
	alg := tokens.RS256
	if g.API != nil {
		roles, alg = appPermissions(tr.app, *g.API), apiAlg(*g.API)
	}
	return s.mintApp(ctx, tr, g.Resource, roles, alg)
}

// appPermissions returns the values of the app permissions granted to app for api that the
// API still defines for applications.
func appPermissions(app directory.App, api directory.API) []string {
	var roles []string
	for _, p := range app.AppPermissions {
		if !strings.EqualFold(p.Resource, api.AppIDURI) {
			continue
		}
		for _, r := range api.AppRoles {
			if strings.EqualFold(r.Value, p.Role) && slices.Contains(r.AllowedMemberTypes, directory.MemberApplication) &&
				!slices.Contains(roles, r.Value) {
				roles = append(roles, r.Value)
			}
		}
	}
	return roles
}

// mintApp issues an app-only access token for resource, signed with alg: the subject is the
// app's service principal in the tenant (sub = oid), idtyp is app, and roles are the app's
// permissions. Every request gets a token of its own (its own uti and one signature): no
// answer is reused.
func (s *Server) mintApp(ctx context.Context, tr *tokenRequest, resource string, roles []string, alg tokens.Algorithm) (*tokenResponse, error) {
	now, life := s.now(), s.lifetimesFor(tr.app)
	aud := resource
	if aud == directory.ProfileResource {
		aud = directory.ProfileAudience
	}
	tenantID := tr.tenant.tenant.ID
	sp := directory.ServicePrincipalID(tenantID, tr.app.ClientID)
	c := tokens.AccessClaims{
		Aud: aud, Iss: tokens.Issuer(s.publicURL, tenantID), Iat: now.Unix(), Nbf: now.Unix(),
		Exp: now.Add(life.AccessToken).Unix(), Azp: tr.app.ClientID, Azpacr: tr.authn.azpacr(), Idtyp: "app",
		OID: sp, Sub: sp, TID: tenantID, UTI: tokens.RandomID(16), Ver: "2.0",
	}
	c.Roles = roles
	at, err := s.sign(ctx, alg, c)
	if err != nil {
		return nil, err
	}
	expires := int64(life.AccessToken / time.Second)
	return &tokenResponse{TokenType: "Bearer", Scope: resource + "/.default", ExpiresIn: expires, ExtExpiresIn: expires,
		AccessToken: at, resource: resource}, nil
}
