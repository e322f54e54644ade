package protocol

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/sigil-idp/sigil/internal/directory"
)

// authRequest is a validated authorization request. It is kept, as JSON, in the interaction
// record while the user signs in, picks an account or consents.
type authRequest struct {
	Tenant        string             `json:"tenant"` // path segment, lower-cased
	ClientID      string             `json:"client_id"`
	Reply         delivery           `json:"reply"` // where and how the answer goes
	RedirectGiven bool               `json:"redirect_given"`
	Platform      directory.Platform `json:"platform"`
	Scope         string             `json:"scope"`
	Nonce         string             `json:"nonce"`
	Prompt        string             `json:"prompt"` // "", none, login, select_account, consent, create
	LoginHint     string             `json:"login_hint"`
	SID           string             `json:"sid"`
	CodeChallenge string             `json:"code_challenge"`
	MaxAge        int                `json:"max_age"` // -1 when absent
	ClientInfo    bool               `json:"client_info"`
	Claims        string             `json:"claims,omitempty"` // the claims parameter, validated
}

// silent reports whether the request forbids any page (prompt=none, or MSAL's no_session).
func (a authRequest) silent() bool { return a.Prompt == "none" }

// authorize answers GET and POST /{tenant}/oauth2/v2.0/authorize. Until the client and its
// exact redirect URI check out, errors are pages (never a redirect to an unregistered URI);
// after that every answer goes to the redirect URI with state, as the request's delivery
// says: a code, implicit tokens in the fragment, or an error. prompt=none never renders a
// page: it answers at once.
func (s *Server) authorize(w http.ResponseWriter, r *http.Request) {
	p, err := readParams(w, r)
	if err != nil {
		s.failPage(w, r, "authorize", err)
		return
	}
	f, err := s.trustRequest(r, p)
	if err != nil {
		s.failPage(w, r, "authorize", err)
		return
	}
	if err := validateAuthRequest(p, f.app, &f.req); err != nil {
		s.deliverError(w, r, f.req.Reply, err)
		return
	}
	s.proceed(w, r, f)
}

// trustRequest resolves the tenant and the client and checks the redirect URI: the steps
// whose failures must not be sent to the redirect URI.
func (s *Server) trustRequest(r *http.Request, p params) (*flow, error) {
	t, err := s.resolveTenant(r.Context(), r.PathValue("tenant"))
	if err != nil {
		return nil, err
	}
	app, err := s.appFor(r.Context(), t, p.get("client_id"))
	if err != nil {
		return nil, err
	}
	req := authRequest{Tenant: t.segment, ClientID: app.ClientID, MaxAge: -1}
	switch uri := p.get("redirect_uri"); {
	case uri == "" && len(app.RedirectURIs) == 1:
		req.Reply.URI, req.Platform = app.RedirectURIs[0].URI, app.RedirectURIs[0].Platform
	case uri == "":
		return nil, errNoRedirectURI.new(app.ClientID)
	default:
		if u, err := url.Parse(uri); err != nil || !u.IsAbs() || u.Host == "" || u.Fragment != "" {
			return nil, errRedirectInvalid.new(truncate(uri, 200))
		}
		platform, ok := app.RedirectPlatform(uri)
		if !ok {
			return nil, errRedirectMismatch.new(truncate(uri, 200), app.ClientID).withDevNotes(registeredURIs(app)...)
		}
		req.Reply.URI, req.RedirectGiven, req.Platform = uri, true, platform
	}
	// From here on the redirect URI is trusted: even a bad response_mode is answered there.
	req.Reply.State, req.Reply.StateGiven = p.get("state"), p.has("state")
	req.Reply.Mode = modeQuery
	return &flow{req: req, app: app, tenant: t}, nil
}

// prompts maps each accepted prompt value to how it is handled.
var prompts = map[string]string{"": "", "none": "none", "no_session": "none", "login": "login",
	"select_account": "select_account", "consent": "consent", "create": "create"}

// validateAuthRequest checks the remaining parameters, in order, filling req: the response
// type and mode first (they decide how even the later errors are delivered), then the app's
// switches for what it asks, scope, prompt, PKCE, nonce, max_age and claims. Unknown
// parameters (clidata, pocd, x-client-*, client-request-id, instance_aware…) are ignored.
func validateAuthRequest(p params, app directory.App, req *authRequest) error {
	rt, rtErr := parseResponseType(p.get("response_type"))
	req.Reply.Type, req.Reply.Mode = rt, defaultMode(rt)
	switch m := p.get("response_mode"); m {
	case "":
	case modeQuery, modeFragment, modeFormPost:
		req.Reply.Mode = m
	default:
		return errInvalidParam.new("response_mode", "use query, fragment or form_post.")
	}
	if rtErr != nil {
		return rtErr
	}
	if rt.tokens() && req.Reply.Mode == modeQuery {
		req.Reply.Mode = modeFragment // the error itself must not teach the app to expect a query
		return errQueryWithTokens.new()
	}
	if err := checkEAR(p, rt, req); err != nil {
		return err
	}
	if err := checkImplicitSwitches(rt, app); err != nil {
		return err
	}
	if req.Scope = p.get("scope"); req.Scope == "" {
		return errMissingParam.new("scope")
	}
	prompt, ok := prompts[p.get("prompt")]
	if !ok {
		return errInvalidParam.new("prompt", "use none, login, select_account, consent or create.")
	}
	req.Prompt = prompt
	if err := validatePKCE(p, req); err != nil {
		return err
	}
	if req.Nonce = p.get("nonce"); rt.IDToken && req.Nonce == "" {
		return errMissingParam.new("nonce")
	}
	if v := p.get("max_age"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			return errInvalidParam.new("max_age", "it must be a number of seconds.")
		}
		req.MaxAge = n
	}
	if _, err := parseClaimsRequest(p.get("claims")); err != nil {
		return err
	}
	req.Claims = p.get("claims")
	req.LoginHint, req.SID = p.get("login_hint"), p.get("sid")
	req.ClientInfo = p.get("client_info") == "1"
	return nil
}

// parseResponseType reads response_type: "code", the implicit grant's "id_token", "token"
// and "id_token token", or the encrypted authorize response's "id_token token
// refresh_token", the words in any order.
func parseResponseType(raw string) (responseType, error) {
	var rt responseType
	if raw == "" {
		return rt, errMissingParam.new("response_type")
	}
	for _, part := range strings.Fields(raw) {
		seen := rt
		switch part {
		case "code":
			rt.Code = true
		case "id_token":
			rt.IDToken = true
		case "token":
			rt.Token = true
		case "refresh_token":
			rt.Refresh = true
		}
		if seen == rt { // unknown, or given twice
			return responseType{Code: true}, errResponseType.new(truncate(raw, 64))
		}
	}
	if rt.Code && rt.tokens() || rt.Refresh && !rt.ear() { // hybrid flows are not served
		return responseType{Code: true}, errResponseType.new(truncate(raw, 64))
	}
	return rt, nil
}

// checkEAR validates an encrypted authorize response request (msal-browser 5's protocol mode
// EAR): its response type needs ear_jwk and ear_jwe_crypto, only spa redirect URIs receive
// it, and the key must be one MSAL makes. The tokens it carries are those of a code
// redemption, so the implicit switches do not apply.
func checkEAR(p params, rt responseType, req *authRequest) error {
	if !rt.ear() {
		return nil
	}
	switch {
	case !p.has("ear_jwk"):
		return errMissingParam.new("ear_jwk")
	case !p.has("ear_jwe_crypto"):
		return errMissingParam.new("ear_jwe_crypto")
	case req.Platform != directory.PlatformSPA:
		return errEARNotSPA.new()
	}
	if _, err := parseEARKey(p.get("ear_jwk"), p.get("ear_jwe_crypto")); err != nil {
		var ee *earError
		if errors.As(err, &ee) {
			return errInvalidParam.new(ee.Param, ee.Reason)
		}
		return err
	}
	req.Reply.EAR = &earParams{JWK: p.get("ear_jwk"), Crypto: p.get("ear_jwe_crypto")}
	return nil
}

// checkImplicitSwitches refuses implicit tokens the app registration does not allow, with
// Entra's errors for each.
func checkImplicitSwitches(rt responseType, app directory.App) error {
	switch {
	case rt.ear():
		return nil
	case rt.IDToken && !app.ImplicitIDTokens:
		return errImplicitIDToken.new()
	case rt.Token && !app.ImplicitAccessTokens:
		return errImplicitToken.new()
	}
	return nil
}

// validatePKCE checks code_challenge: S256 only, required for spa and publicClient redirect
// URIs.
func validatePKCE(p params, req *authRequest) error {
	challenge, method := p.get("code_challenge"), p.get("code_challenge_method")
	if !req.Reply.Type.Code {
		return nil // no code, nothing to bind a verifier to
	}
	switch {
	case challenge == "" && method != "":
		return errMissingParam.new("code_challenge")
	case challenge == "" && req.Platform != directory.PlatformWeb:
		return errPKCERequired.new()
	case challenge == "":
		return nil
	case method != "S256":
		return errInvalidParam.new("code_challenge_method", "only S256 is supported.")
	case len(challenge) != 43 || strings.Trim(challenge, base64URLAlphabet) != "":
		return errInvalidParam.new("code_challenge", "it must be the base64url SHA-256 of the verifier (43 characters).")
	}
	req.CodeChallenge = challenge
	return nil
}

const base64URLAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"

// registeredURIs describes an app's redirect URIs for the developer (dev-mode error pages).
func registeredURIs(app directory.App) []string {
	notes := []string{fmt.Sprintf("The app %q (client id %s) has these redirect URIs registered:", app.DisplayName, app.ClientID)}
	for _, u := range app.RedirectURIs {
		notes = append(notes, fmt.Sprintf("%s   (%s)", u.URI, u.Platform))
	}
	if len(app.RedirectURIs) == 0 {
		notes = append(notes, "none")
	}
	return append(notes, "To add one, edit the app with clientId "+app.ClientID+" under tenants[].apps[] in your "+
		"configuration file: spa.redirectUris for a single-page app, web.redirectUris for a server-side app, "+
		"publicClient.redirectUris for a desktop or mobile app.")
}
