package protocol

import (
	"context"
	"net/http"
	"strings"

	"github.com/sigil-idp/sigil/internal/directory"
	"github.com/sigil-idp/sigil/internal/store"
)

// tokenRequest is a token request after the steps every grant shares.
type tokenRequest struct {
	p      params
	tenant tenantRef
	app    directory.App
	origin string     // the browser origin, "" for server-side callers
	addr   string     // the client's address
	authn  clientAuth // how the client authenticated
	spec   grantSpec
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

// authRule says how a grant's client must authenticate.
type authRule int

const (
	// authByPlatform: the platform the code or refresh token was issued to decides
	// (checkPlatform): web grants need the app's credential, spa and publicClient none.
	authByPlatform authRule = iota
	// authRequired: only a confidential client, authenticated (client credentials,
	// on-behalf-of).
	authRequired
	// authPublicFlows: a confidential client authenticates; a public one may go without a
	// credential only with allowPublicClientFlows (device code, password).
	authPublicFlows
)

// grantSpec is one row of the grant table: how the client must authenticate, whether a
// browser (an SPA, cross-origin) may use the grant, and the step that runs it.
type grantSpec struct {
	auth    authRule
	browser bool // redeemable cross-origin from the app's spa origins
	run     func(*Server, context.Context, *tokenRequest) (*tokenResponse, error)
}

// jwtBearerGrant is RFC 7523's grant type, which Entra uses for on-behalf-of.
const jwtBearerGrant = "urn:ietf:params:oauth:grant-type:jwt-bearer"

// grants is the grant table, by grant_type. It is the only place a grant is declared; the
// shared steps in runToken read its rows, so no grant can skip a check. It is never written.
var grants = map[string]grantSpec{
	"authorization_code": {auth: authByPlatform, browser: true, run: (*Server).codeGrant},
	"refresh_token":      {auth: authByPlatform, browser: true, run: (*Server).refreshGrant},
	"client_credentials": {auth: authRequired, run: (*Server).clientCredentialsGrant},
	"password":           {auth: authPublicFlows, run: (*Server).passwordGrant},
	jwtBearerGrant:       {auth: authRequired, run: (*Server).onBehalfOfGrant},
	// RFC 8628's grant type, and the plain one msal-node and MSAL Go send.
	"urn:ietf:params:oauth:grant-type:device_code": {auth: authPublicFlows, run: (*Server).deviceCodeGrant},
	"device_code": {auth: authPublicFlows, run: (*Server).deviceCodeGrant},
}

// queryCredentials are the parameters that must never travel in a URL, where proxies, logs
// and browser histories keep them: the token endpoint refuses them in the query string.
var queryCredentials = []string{"client_secret", "client_assertion", "code", "refresh_token", "assertion",
	"password", "device_code", "code_verifier"}

// token answers /{tenant}/oauth2/v2.0/token. Every answer — success, 400, 401, 405, 413 — is
// JSON with CORS headers and Cache-Control: no-store, so a browser app always reads the real
// error instead of a network failure.
func (s *Server) token(w http.ResponseWriter, r *http.Request) {
	p, ok := s.readCredentialPost(w, r, "token")
	if !ok {
		return
	}
	resp, err := s.runToken(r.Context(), r, p)
	if err != nil {
		s.failCredentialPost(w, r, "token", err)
		return
	}
	if s.tokenIssued != nil {
		s.tokenIssued(p.get("grant_type"), resp.resource)
	}
	writeJSON(w, http.StatusOK, resp)
}

// readCredentialPost is the start of the endpoints clients post credentials to (token,
// devicecode): CORS for any origin, the preflight, POST only, the parameters read strictly,
// and no credential in the URL. It answers the request itself when it reports false.
func (s *Server) readCredentialPost(w http.ResponseWriter, r *http.Request, where string) (params, bool) {
	allowAnyOrigin(w)
	switch r.Method {
	case http.MethodOptions:
		preflight(w, r, "POST, OPTIONS")
		return params{}, false
	case http.MethodPost:
	default:
		w.Header().Set("Allow", "POST, OPTIONS")
		s.failJSON(w, r, where, errMethod.new("POST, OPTIONS", truncate(r.Method, 16)))
		return params{}, false
	}
	p, err := readParams(w, r)
	if err == nil {
		err = credentialsInQuery(r)
	}
	if err != nil {
		s.failJSON(w, r, where, err)
		return params{}, false
	}
	return p, true
}

// failCredentialPost answers an error of such an endpoint; a failed HTTP Basic
// authentication is challenged in kind (RFC 6749 §5.2).
func (s *Server) failCredentialPost(w http.ResponseWriter, r *http.Request, where string, err error) {
	if _, _, basic := r.BasicAuth(); basic && asError(err).Status == http.StatusUnauthorized {
		w.Header().Set("WWW-Authenticate", `Basic realm="`+s.publicURL+`"`)
	}
	s.failJSON(w, r, where, err)
}

// credentialsInQuery refuses a token request that carries a credential in its URL.
func credentialsInQuery(r *http.Request) error {
	if r.URL.RawQuery == "" {
		return nil
	}
	q := r.URL.Query()
	for _, name := range queryCredentials {
		if q.Has(name) {
			return errCredentialInQuery.new(name)
		}
	}
	return nil
}

// runToken runs the shared steps in a fixed order — grant type, tenant, client, client
// authentication, the cross-origin rule — and then the grant's own step.
func (s *Server) runToken(ctx context.Context, r *http.Request, p params) (*tokenResponse, error) {
	gt := p.get("grant_type")
	spec, ok := grants[gt]
	switch {
	case gt == "":
		return nil, errMissingParam.new("grant_type")
	case !ok:
		return nil, errGrantType.new(truncate(gt, 64))
	}
	tr, err := s.clientRequest(ctx, r, p, spec)
	if err != nil {
		return nil, err
	}
	return spec.run(s, ctx, tr)
}

// clientRequest runs the steps every request of a client to the token endpoint or the device
// code endpoint shares, in order — tenant, client, client authentication, the grant's
// authentication rule, the cross-origin rule — and returns the request they checked.
func (s *Server) clientRequest(ctx context.Context, r *http.Request, p params, spec grantSpec) (*tokenRequest, error) {
	t, err := s.resolveTenant(ctx, r.PathValue("tenant"))
	if err != nil {
		return nil, err
	}
	cred, err := readClientCredential(r, p)
	if err != nil {
		return nil, err
	}
	app, err := s.appFor(ctx, t, cred.clientID)
	if err != nil {
		return nil, err
	}
	tr := &tokenRequest{p: p, tenant: t, app: app, origin: r.Header.Get("Origin"), addr: s.clientAddress(r), spec: spec}
	if tr.authn, err = s.authenticateClient(ctx, tr, cred); err != nil {
		return nil, err
	}
	if err := checkClientAuth(tr); err != nil {
		return nil, err
	}
	if tr.origin != "" && (!spec.browser || !app.IsSPAOrigin(tr.origin)) {
		return nil, errCrossOriginNotSPA.new(truncate(tr.origin, 200))
	}
	return tr, nil
}

// checkClientAuth applies the grant's authentication rule once the credential presented, if
// any, checked out.
func checkClientAuth(tr *tokenRequest) error {
	switch tr.spec.auth {
	case authRequired:
		if tr.authn == authNone {
			return errSecretMissing.new()
		}
	case authPublicFlows:
		if tr.authn == authNone && (tr.app.HasCredentials() || !tr.app.AllowPublicClientFlows) {
			return errSecretMissing.new()
		}
	}
	return nil
}

// checkPlatform applies the redemption rules of the platform a code or refresh token was
// issued to: spa grants only cross-origin from the app's spa origins (Entra's AADSTS9002327);
// web grants only server-side with the app's credential; publicClient grants only server-side.
func checkPlatform(tr *tokenRequest, platform directory.Platform) error {
	switch {
	case platform == directory.PlatformSPA && tr.origin == "":
		return errSPANeedsOrigin.new()
	case platform != directory.PlatformSPA && tr.origin != "":
		return errCrossOriginNotSPA.new(truncate(tr.origin, 200))
	case platform == directory.PlatformWeb && tr.authn == authNone:
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

// tokenEndpoint is the token endpoint's URL for a tenant path segment, as discovery
// publishes it and client assertions name it in aud.
func (s *Server) tokenEndpoint(tenant string) string {
	return s.publicURL + "/" + strings.ToLower(tenant) + "/oauth2/v2.0/token"
}
