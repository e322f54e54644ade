package protocol

import (
	"context"
	"crypto/subtle"
	"net/http"
	"net/url"
	"strings"

	"github.com/sigil-idp/sigil/internal/directory"
	"github.com/sigil-idp/sigil/internal/store"
	"github.com/sigil-idp/sigil/internal/tokens"
)

// tokenRequest is a token request after the steps every grant shares.
type tokenRequest struct {
	p        params
	tenant   tenantRef
	app      directory.App
	origin   string // the browser origin, "" for server-side callers
	addr     string // the client's address
	secretOK bool   // the client authenticated with a client secret
}

// claimsFor returns what the claims parameters ask of tokens minted for grant: the
// authorization request's, kept with the grant, and this request's.
func (tr *tokenRequest) claimsFor(grant store.Grant) (claimsRequest, error) {
	kept, _ := parseClaimsRequest(grant.Claims) // validated when it was stored
	now, err := parseClaimsRequest(tr.p.get("claims"))
	if err != nil {
		return claimsRequest{}, err
	}
	return kept.merge(now), nil
}

// token answers /{tenant}/oauth2/v2.0/token. Every answer — success, 400, 401, 405, 413 — is
// JSON with CORS headers and Cache-Control: no-store, so a browser app always reads the real
// error instead of a network failure.
func (s *Server) token(w http.ResponseWriter, r *http.Request) {
	allowAnyOrigin(w)
	switch r.Method {
	case http.MethodOptions:
		preflight(w, r, "POST, OPTIONS")
		return
	case http.MethodPost:
	default:
		w.Header().Set("Allow", "POST, OPTIONS")
		s.failJSON(w, r, "token", errMethod.new("POST, OPTIONS", truncate(r.Method, 16)))
		return
	}
	p, err := readParams(w, r)
	if err != nil {
		s.failJSON(w, r, "token", err)
		return
	}
	resp, err := s.runToken(r.Context(), r, p)
	if err != nil {
		if _, _, basic := r.BasicAuth(); basic && asError(err).Status == http.StatusUnauthorized {
			// RFC 6749 §5.2: a failed HTTP Basic authentication is challenged in kind.
			w.Header().Set("WWW-Authenticate", `Basic realm="`+s.publicURL+`"`)
		}
		s.failJSON(w, r, "token", err)
		return
	}
	writeJSON(w, http.StatusOK, resp)
}

// runToken runs the shared steps in a fixed order — tenant, client, client authentication,
// the cross-origin rule — and then the grant's own step, so no grant can skip a check.
func (s *Server) runToken(ctx context.Context, r *http.Request, p params) (*tokenResponse, error) {
	t, err := s.resolveTenant(ctx, r.PathValue("tenant"))
	if err != nil {
		return nil, err
	}
	clientID, secret, err := clientCredentials(r, p)
	if err != nil {
		return nil, err
	}
	app, err := s.appFor(ctx, t, clientID)
	if err != nil {
		return nil, err
	}
	tr := &tokenRequest{p: p, tenant: t, app: app, origin: r.Header.Get("Origin"), addr: clientAddress(r)}
	switch {
	case secret != "" && len(app.SecretHashes) == 0:
		return nil, errPublicWithSecret.new()
	case secret != "" && !secretMatches(app, secret):
		return nil, errSecretInvalid.new(app.ClientID)
	case secret != "":
		tr.secretOK = true
	}
	if tr.origin != "" && !app.IsSPAOrigin(tr.origin) {
		return nil, errCrossOriginNotSPA.new(truncate(tr.origin, 200))
	}
	switch gt := p.get("grant_type"); gt {
	case "":
		return nil, errMissingParam.new("grant_type")
	case "authorization_code":
		return s.codeGrant(ctx, tr)
	case "refresh_token":
		return s.refreshGrant(ctx, tr)
	default:
		return nil, errGrantType.new(truncate(gt, 64))
	}
}

// clientCredentials reads the client id and secret from the body (client_secret_post) or an
// HTTP Basic header (client_secret_basic); using both is an error (RFC 6749 §2.3).
func clientCredentials(r *http.Request, p params) (id, secret string, err error) {
	id, secret = p.get("client_id"), p.get("client_secret")
	user, pass, basic := r.BasicAuth()
	if !basic {
		return id, secret, nil
	}
	if secret != "" {
		return "", "", errMalformed.new("the client authenticated by more than one method")
	}
	if user, err = url.QueryUnescape(user); err == nil {
		pass, err = url.QueryUnescape(pass)
	}
	if err != nil {
		return "", "", errMalformed.new("the Authorization header is not valid client_secret_basic")
	}
	if id != "" && !strings.EqualFold(id, user) {
		return "", "", errMalformed.new("client_id differs from the Authorization header")
	}
	return user, pass, nil
}

// secretMatches compares a client secret with the app's stored secret hashes.
func secretMatches(app directory.App, secret string) bool {
	h := []byte(tokens.Hash(secret))
	ok := 0
	for _, stored := range app.SecretHashes {
		ok |= subtle.ConstantTimeCompare(h, []byte(stored))
	}
	return ok == 1
}

// checkPlatform applies the redemption rules of the platform a code or refresh token was
// issued to: spa grants only cross-origin from the app's spa origins (Entra's AADSTS9002327);
// web grants only server-side with the client secret; publicClient grants only server-side.
func checkPlatform(tr *tokenRequest, platform directory.Platform) error {
	switch {
	case platform == directory.PlatformSPA && tr.origin == "":
		return errSPANeedsOrigin.new()
	case platform != directory.PlatformSPA && tr.origin != "":
		return errCrossOriginNotSPA.new(truncate(tr.origin, 200))
	case platform == directory.PlatformWeb && !tr.secretOK:
		return errSecretMissing.new()
	}
	return nil
}

// preflight answers a CORS preflight for the given methods. The request headers asked for
// are allowed (no credentials are ever allowed), so DPoP or X-AnchorMailbox headers pass.
func preflight(w http.ResponseWriter, r *http.Request, methods string) {
	h := w.Header()
	h.Set("Access-Control-Allow-Methods", methods)
	if req := r.Header.Get("Access-Control-Request-Headers"); req != "" && len(req) < 1024 {
		h.Set("Access-Control-Allow-Headers", req)
	}
	h.Set("Access-Control-Max-Age", "86400")
	w.WriteHeader(http.StatusNoContent)
}
