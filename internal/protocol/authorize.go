package protocol

import (
	"encoding/json"
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
	RedirectURI   string             `json:"redirect_uri"`
	RedirectGiven bool               `json:"redirect_given"`
	Platform      directory.Platform `json:"platform"`
	ResponseMode  string             `json:"response_mode"`
	Scope         string             `json:"scope"`
	State         string             `json:"state"`
	StateGiven    bool               `json:"state_given"`
	Nonce         string             `json:"nonce"`
	Prompt        string             `json:"prompt"` // "", none, login, select_account, consent, create
	LoginHint     string             `json:"login_hint"`
	SID           string             `json:"sid"`
	CodeChallenge string             `json:"code_challenge"`
	MaxAge        int                `json:"max_age"` // -1 when absent
	ClientInfo    bool               `json:"client_info"`
}

func (a authRequest) replyTo() replyTo { return replyTo{uri: a.RedirectURI, mode: a.ResponseMode} }

// silent reports whether the request forbids any page (prompt=none, or MSAL's no_session).
func (a authRequest) silent() bool { return a.Prompt == "none" }

// authorize answers GET and POST /{tenant}/oauth2/v2.0/authorize. Until the client and its
// exact redirect URI check out, errors are pages (never a redirect to an unregistered URI);
// after that every answer goes to the redirect URI with state. prompt=none never renders a
// page: it answers at once with a code or an interaction error.
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
	if err := validateAuthRequest(p, &f.req); err != nil {
		s.replyError(w, r, f.req.replyTo(), f.req.State, f.req.StateGiven, err)
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
		req.RedirectURI, req.Platform = app.RedirectURIs[0].URI, app.RedirectURIs[0].Platform
	case uri == "":
		return nil, errNoRedirectURI.new(app.ClientID)
	default:
		if u, err := url.Parse(uri); err != nil || !u.IsAbs() || u.Host == "" || u.Fragment != "" {
			return nil, errRedirectInvalid.new(truncate(uri, 200))
		}
		platform, ok := app.RedirectPlatform(uri)
		if !ok {
			return nil, errRedirectMismatch.new(truncate(uri, 200), app.ClientID)
		}
		req.RedirectURI, req.RedirectGiven, req.Platform = uri, true, platform
	}
	// From here on the redirect URI is trusted: even a bad response_mode is answered there.
	req.State, req.StateGiven = p.get("state"), p.has("state")
	req.ResponseMode = modeQuery
	return &flow{req: req, app: app, tenant: t}, nil
}

// prompts maps each accepted prompt value to how it is handled.
var prompts = map[string]string{"": "", "none": "none", "no_session": "none", "login": "login",
	"select_account": "select_account", "consent": "consent", "create": "create"}

// validateAuthRequest checks the remaining parameters, in order, filling req. Unknown
// parameters (clidata, pocd, x-client-*, client-request-id, instance_aware…) are ignored.
func validateAuthRequest(p params, req *authRequest) error {
	switch m := p.get("response_mode"); m {
	case "":
	case modeQuery, modeFragment, modeFormPost:
		req.ResponseMode = m
	default:
		return errInvalidParam.new("response_mode", "use query, fragment or form_post.")
	}
	switch rt := p.get("response_type"); rt {
	case "":
		return errMissingParam.new("response_type")
	case "code":
	default:
		return errResponseType.new(truncate(rt, 64))
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
	if v := p.get("max_age"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			return errInvalidParam.new("max_age", "it must be a number of seconds.")
		}
		req.MaxAge = n
	}
	if c := p.get("claims"); c != "" {
		var obj map[string]json.RawMessage
		if err := json.Unmarshal([]byte(c), &obj); err != nil {
			return errInvalidParam.new("claims", "it must be a JSON object.")
		}
	}
	req.Nonce, req.LoginHint, req.SID = p.get("nonce"), p.get("login_hint"), p.get("sid")
	req.ClientInfo = p.get("client_info") == "1"
	return nil
}

// validatePKCE checks code_challenge: S256 only, required for spa and publicClient redirect
// URIs.
func validatePKCE(p params, req *authRequest) error {
	challenge, method := p.get("code_challenge"), p.get("code_challenge_method")
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
