package protocol

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/sigil-idp/sigil/internal/directory"
	"github.com/sigil-idp/sigil/internal/store"
	"github.com/sigil-idp/sigil/internal/tokens"
)

// issue answers a request whose account and consent are settled with what its response type
// asks for — an authorization code, or the implicit grant's tokens — through its delivery; a
// device reply instead approves its device authorization with the grant.
func (s *Server) issue(w http.ResponseWriter, r *http.Request, f *flow, sess store.Session, user directory.User, set directory.ScopeSet, granted map[string]map[string]bool) {
	ctx := r.Context()
	resource, scopes := codeScopes(set, granted, f.app.Consent)
	grant := store.Grant{TenantID: user.TenantID, ClientID: f.app.ClientID, UserID: user.ID, SessionID: sess.ID,
		Platform: f.req.Platform, Resource: resource, Scopes: scopes, AuthTime: sess.AuthTime, AMR: sess.AMR,
		Remember: sess.Remember, Claims: f.req.Claims}
	// Completing the interaction first makes it the gate: a second submission of the same
	// final form gets no second answer.
	if err := s.endInteraction(ctx, f); err != nil {
		s.deliverError(w, r, f.req.Reply, err)
		return
	}
	if err := s.forcedFailure(ctx, f.app.ClientID, user.ID); err != nil {
		s.deliverError(w, r, f.req.Reply, err)
		return
	}
	if sess.ID != "" && (f.app.LogoutURL != "" || f.app.BackchannelLogoutURL != "") {
		// The session signed in to an app that wants to hear of its end (logout.go).
		if err := s.store.RecordSessionClient(ctx, sess.ID, f.app.ClientID, s.now()); err != nil {
			s.deliverError(w, r, f.req.Reply, err)
			return
		}
	}
	if f.req.Reply.Device != nil {
		s.approveDevice(w, r, f, grant)
		return
	}
	var v url.Values
	var err error
	switch {
	case f.req.Reply.Type.AdminConsent:
		v = adminConsentAnswer(user, grant)
	case f.req.Reply.Type.Code:
		v, err = s.issueCode(r, f, grant)
	case f.req.Reply.EAR != nil:
		v, err = s.issueEncrypted(r, f, grant, user)
	default:
		v, err = s.issueTokens(r, f, grant, user)
	}
	if err != nil {
		s.deliverError(w, r, f.req.Reply, err)
		return
	}
	if f.req.ClientInfo && f.req.Reply.EAR == nil {
		v.Set("client_info", tokens.ClientInfo(user.ID, user.TenantID))
	}
	s.deliver(w, f.req.Reply, v)
}

// issueCode stores an authorization code for the grant and returns the response parameters.
func (s *Server) issueCode(r *http.Request, f *flow, grant store.Grant) (url.Values, error) {
	now := s.now()
	code := tokens.RandomID(32)
	err := s.store.CreateAuthCode(r.Context(), store.AuthCode{
		Hash: tokens.Hash(code), Grant: grant,
		RedirectURI: f.req.Reply.URI, RedirectGiven: f.req.RedirectGiven, Nonce: f.req.Nonce,
		CodeChallenge: f.req.CodeChallenge, CreatedAt: now,
		ExpiresAt: now.Add(s.lifetimesFor(f.app).AuthorizationCode),
	})
	if err != nil {
		return nil, err
	}
	return url.Values{"code": {code}}, nil
}

// issueTokens mints the implicit grant's tokens (MSAL 1.x): an access token for the grant's
// resource with response_type token, and an ID token carrying the request's nonce (and
// at_hash beside an access token) with id_token. Nothing is stored and no refresh token is
// issued, as with Entra's implicit grant.
func (s *Server) issueTokens(r *http.Request, f *flow, grant store.Grant, user directory.User) (url.Values, error) {
	now := s.now()
	if f.req.Reply.Type.IDToken {
		grant.Scopes = withOpenID(grant.Scopes) // response_type=id_token signs in
	}
	claims, _ := parseClaimsRequest(grant.Claims) // validated with the request
	m := mintRequest{app: f.app, grant: grant, user: &user, nonce: f.req.Nonce, claims: claims, ipaddr: s.clientAddress(r), now: now}
	if err := s.loadDirectoryClaims(r.Context(), &m, user, true); err != nil {
		return nil, err
	}
	life := s.lifetimesFor(f.app)
	v := url.Values{"session_state": {sessionState(grant.SessionID)}}
	var accessToken string
	if f.req.Reply.Type.Token {
		var err error
		alg, err := s.accessAlg(r.Context(), m)
		if err != nil {
			return nil, err
		}
		if accessToken, err = s.sign(r.Context(), alg, s.accessClaims(m, user, life)); err != nil {
			return nil, err
		}
		v.Set("access_token", accessToken)
		v.Set("token_type", "Bearer")
		v.Set("expires_in", strconv.FormatInt(int64(life.AccessToken/time.Second), 10))
		v.Set("scope", strings.Join(grant.Scopes, " "))
	}
	if f.req.Reply.Type.IDToken {
		c := s.idClaims(m, user, life)
		if accessToken != "" {
			c.AtHash = tokens.HalfHash(accessToken)
		}
		idToken, err := s.sign(r.Context(), idTokenAlg(f.app), c)
		if err != nil {
			return nil, err
		}
		v.Set("id_token", idToken)
	}
	return v, nil
}

// issueEncrypted answers an encrypted authorize response (msal-browser 5's protocol mode
// EAR): what a code redemption would return — access token, ID token with the request's
// nonce, a new refresh-token family with offline_access, client_info — as JSON sealed to the
// browser's key, in ear_jwe. The refresh token is a spa one, redeemed like any other.
func (s *Server) issueEncrypted(r *http.Request, f *flow, grant store.Grant, user directory.User) (url.Values, error) {
	key, err := parseEARKey(f.req.Reply.EAR.JWK, f.req.Reply.EAR.Crypto)
	if err != nil {
		return nil, err
	}
	grant.Scopes = withOpenID(grant.Scopes)       // MSAL requires the ID token
	claims, _ := parseClaimsRequest(grant.Claims) // validated with the request
	resp, err := s.mint(r.Context(), mintRequest{app: f.app, grant: grant, user: &user, nonce: f.req.Nonce,
		claims: claims, ipaddr: s.clientAddress(r), newFamily: true, now: s.now()})
	if err != nil {
		return nil, err
	}
	payload, err := json.Marshal(resp)
	if err != nil {
		return nil, err
	}
	sealed, err := key.seal(payload)
	if err != nil {
		return nil, err
	}
	return url.Values{"ear_jwe": {sealed}}, nil
}

// withOpenID returns scopes with openid first when it is not among them, so that an ID
// token is minted.
func withOpenID(scopes []string) []string {
	if slices.Contains(scopes, directory.ScopeOpenID) {
		return scopes
	}
	return append([]string{directory.ScopeOpenID}, scopes...)
}

// sessionState is the session_state response parameter: a GUID that stands for the browser
// session without revealing its id. MSAL 1.x keeps it; nothing else reads it.
func sessionState(sid string) string {
	h := tokens.Hash("session_state\x00" + sid)
	b := []byte(h)
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}
