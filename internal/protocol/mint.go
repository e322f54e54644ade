package protocol

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/sigil-idp/sigil/internal/directory"
	"github.com/sigil-idp/sigil/internal/store"
	"github.com/sigil-idp/sigil/internal/tokens"
)

// tokenResponse is a successful token response, shaped as Entra's, with what MSAL reads of it.
type tokenResponse struct {
	TokenType             string `json:"token_type"`
	Scope                 string `json:"scope"`
	ExpiresIn             int64  `json:"expires_in"`
	ExtExpiresIn          int64  `json:"ext_expires_in"`
	AccessToken           string `json:"access_token"`
	RefreshToken          string `json:"refresh_token,omitempty"`
	RefreshTokenExpiresIn int64  `json:"refresh_token_expires_in,omitempty"`
	IDToken               string `json:"id_token,omitempty"`
	ClientInfo            string `json:"client_info,omitempty"`
	// resource is the access token's resource, for Options.TokenIssued; never sent.
	resource string
	// SPACode is the hybrid SPA authorization code, for a web app's code redemption with
	// return_spa_code=1 (token_code.go). Sigil sends no spa_accountid: Entra's is the
	// account id for a platform broker (msal-browser's nativeAccountId), which Sigil has not.
	SPACode string `json:"spa_code,omitempty"`
}

// mintRequest is what a grant hands to mint.
type mintRequest struct {
	app   directory.App
	authn clientAuth // how the client authenticated
	grant store.Grant
	user  *directory.User // loaded by the grant, or nil
	nonce string          // the authorization request's nonce (code redemption, implicit)
	now   time.Time
	// claims is what the claims parameters ask for: the authorization request's (kept with
	// the grant) merged with the token request's.
	claims claimsRequest
	ipaddr string          // the client's address, for the ipaddr optional claim
	dir    directoryClaims // roles and groups (mint_roles.go)
	// api is the grant's resource's API when the grant resolved it already (a scope
	// parameter); nil: mint reads it for the access token's algorithm (accessAlg).
	api *directory.API

	// newFamily starts a refresh-token family (with offline_access): on code redemption, from
	// codeHash; for an encrypted authorize response, from no code.
	newFamily bool
	codeHash  string
	// Refresh: the rotated token to return.
	refreshToken   string
	refreshExpires time.Time
}

// mint issues the access token, the ID token (with openid), and a refresh token (a new family
// with offline_access on code redemption; the rotated one on refresh).
func (s *Server) mint(ctx context.Context, m mintRequest) (*tokenResponse, error) {
	g := m.grant
	user := m.user
	if user == nil {
		u, err := s.store.UserByID(ctx, g.UserID)
		if errors.Is(err, store.ErrNotFound) || err == nil && !u.Enabled {
			return nil, errGrantUserGone.new()
		}
		if err != nil {
			return nil, err
		}
		user = &u
	}
	if err := s.loadDirectoryClaims(ctx, &m, *user, false); err != nil {
		return nil, err
	}
	life := s.lifetimesFor(m.app)
	resp := &tokenResponse{TokenType: "Bearer", Scope: strings.Join(g.Scopes, " "),
		ExpiresIn: int64(life.AccessToken / time.Second), ClientInfo: tokens.ClientInfo(user.ID, user.TenantID)}
	resp.ExtExpiresIn = resp.ExpiresIn
	resp.resource = g.Resource
	if m.newFamily && slices.Contains(g.Scopes, directory.ScopeOfflineAccess) {
		rt, expires, err := s.startFamily(ctx, m, life)
		if err != nil {
			return nil, err
		}
		m.refreshToken, m.refreshExpires = rt, expires
	}
	if m.refreshToken != "" {
		resp.RefreshToken = m.refreshToken
		resp.RefreshTokenExpiresIn = int64(m.refreshExpires.Sub(m.now) / time.Second)
	}
	alg, err := s.accessAlg(ctx, m)
	if err != nil {
		return nil, err
	}
	if resp.AccessToken, err = s.sign(ctx, alg, s.accessClaims(m, *user, life)); err != nil {
		return nil, err
	}
	if slices.Contains(g.Scopes, directory.ScopeOpenID) {
		if resp.IDToken, err = s.sign(ctx, idTokenAlg(m.app), s.idClaims(m, *user, life)); err != nil {
			return nil, err
		}
	}
	return resp, nil
}

// accessAlg is the algorithm of an access token for the grant's resource: the API's
// signingAlg (RS256 unless it says ES256); RS256 for the profile API and for an API that is
// gone. The API is m.api when the grant resolved it, else read from the store.
func (s *Server) accessAlg(ctx context.Context, m mintRequest) (tokens.Algorithm, error) {
	resource := m.grant.Resource
	if resource == "" || resource == directory.ProfileResource {
		return tokens.RS256, nil
	}
	api := m.api
	if api == nil || !strings.EqualFold(api.AppIDURI, resource) && !strings.EqualFold(api.ClientID, resource) {
		a, err := s.store.APIByURI(ctx, m.app.TenantID, resource)
		switch {
		case errors.Is(err, store.ErrNotFound):
			return tokens.RS256, nil
		case err != nil:
			return "", err
		}
		api = &a
	}
	return apiAlg(*api), nil
}

// apiAlg is the algorithm of an API's access tokens; RS256 for anything but ES256.
func apiAlg(api directory.API) tokens.Algorithm { return signingAlg(api.SigningAlg) }

// idTokenAlg is the algorithm of an app's ID tokens and back-channel logout tokens: its
// idTokenSigningAlg, RS256 unless it says ES256.
func idTokenAlg(app directory.App) tokens.Algorithm { return signingAlg(app.IDTokenSigningAlg) }

// signingAlg is the algorithm a registration names, RS256 when it names none Sigil knows.
func signingAlg(name string) tokens.Algorithm {
	if alg, ok := tokens.ParseAlgorithm(name); ok {
		return alg
	}
	return tokens.RS256
}

// startFamily stores a new refresh-token family for a redeemed code and returns its first
// token. A replay of the code that raced this redemption stops it (AADSTS54005).
func (s *Server) startFamily(ctx context.Context, m mintRequest, life directory.Lifetimes) (string, time.Time, error) {
	absolute := life.RefreshAbsolute
	if m.grant.Platform == directory.PlatformSPA {
		absolute = life.RefreshSPAAbsolute
	}
	fam := store.RefreshFamily{ID: tokens.RandomID(16), Grant: m.grant, CodeHash: m.codeHash, CreatedAt: m.now,
		AbsoluteExpiresAt: m.now.Add(absolute)}
	raw := s.newRefreshToken(fam.ID)
	first := store.RefreshToken{Hash: tokens.Hash(raw), FamilyID: fam.ID, CreatedAt: m.now, ExpiresAt: m.now.Add(life.RefreshIdle)}
	if first.ExpiresAt.After(fam.AbsoluteExpiresAt) {
		first.ExpiresAt = fam.AbsoluteExpiresAt
	}
	err := s.store.CreateRefreshFamily(ctx, fam, first)
	if errors.Is(err, store.ErrRevoked) {
		return "", time.Time{}, errCodeRedeemed.new().because(err)
	}
	return raw, first.ExpiresAt, err
}

// idClaims builds the ID token. sub is pairwise per app; auth_time, sid and the subject stay
// what they were at sign-in when the token is refreshed.
func (s *Server) idClaims(m mintRequest, u directory.User, life directory.Lifetimes) tokens.IDClaims {
	g, app := m.grant, m.app
	c := tokens.IDClaims{
		Aud: app.ClientID, Iss: tokens.Issuer(s.publicURL, u.TenantID), Iat: m.now.Unix(), Nbf: m.now.Unix(),
		Exp: m.now.Add(life.IDToken).Unix(), AuthTime: g.AuthTime.Unix(), Azp: app.ClientID,
		LoginHint: tokens.LoginHint(u.ID, u.TenantID), Name: u.DisplayName, Nonce: m.nonce, OID: u.ID,
		PreferredUsername: u.Username, SID: g.SessionID, Sub: tokens.PairwiseSubject(s.pairwise, u.ID, app.ClientID),
		TID: u.TenantID, UTI: tokens.RandomID(16), Ver: "2.0",
	}
	if g.Remember {
		c.SigninState = []string{"kmsi"}
	}
	c.DirectoryClaims = m.dir.id(s.publicURL)
	addIDOptional(&c, m, u)
	return c
}

// accessClaims builds the access token for the grant's resource: aud is the API's
// Application ID URI, or Graph's application id for the built-in profile API.
func (s *Server) accessClaims(m mintRequest, u directory.User, life directory.Lifetimes) tokens.AccessClaims {
	g, app := m.grant, m.app
	aud := g.Resource
	if aud == directory.ProfileResource {
		aud = directory.ProfileAudience
	}
	c := tokens.AccessClaims{
		Aud: aud, Iss: tokens.Issuer(s.publicURL, u.TenantID), Iat: m.now.Unix(), Nbf: m.now.Unix(),
		Exp: m.now.Add(life.AccessToken).Unix(), Azp: app.ClientID, Azpacr: m.authn.azpacr(), Name: u.DisplayName, OID: u.ID,
		PreferredUsername: u.Username, Scp: scp(g.Resource, g.Scopes), SID: g.SessionID,
		Sub: tokens.PairwiseSubject(s.pairwise, u.ID, app.ClientID), TID: u.TenantID, UTI: tokens.RandomID(16), Ver: "2.0",
	}
	// A claims challenge (CAE) asks for a token issued no earlier than its nbf.
	if at := m.claims.nbf; at > c.Iat {
		c.Iat, c.Nbf = at, at
	}
	c.DirectoryClaims = m.dir.access(s.publicURL)
	addAccessOptional(&c, m, u)
	return c
}

// scp lists the scope values an access token for resource carries: the resource's scopes
// without their URI prefix; for the profile API also openid, profile and email (as Entra's
// Graph tokens), never offline_access.
func scp(resource string, scopes []string) string {
	var out []string
	for _, sc := range scopes {
		if resource == directory.ProfileResource {
			if v := strings.TrimPrefix(sc, directory.ProfileResource+"/"); v != directory.ScopeOfflineAccess {
				out = append(out, v)
			}
		} else if v, ok := strings.CutPrefix(sc, resource+"/"); ok {
			out = append(out, v)
		}
	}
	return strings.Join(out, " ")
}

// fmtDuration formats days and the rest as d.hh:mm:ss.
func fmtDuration(days int, rest time.Duration) string {
	h, m, sec := int(rest/time.Hour), int(rest%time.Hour/time.Minute), int(rest%time.Minute/time.Second)
	return fmt.Sprintf("%d.%02d:%02d:%02d", days, h, m, sec)
}
