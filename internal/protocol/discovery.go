package protocol

import (
	"encoding/json"
	"maps"
	"net/http"
	"slices"

	"github.com/sigil-idp/sigil/internal/tokens"
)

// openIDConfiguration is the OpenID Provider metadata. MSAL needs authorization_endpoint,
// token_endpoint, issuer and jwks_uri (and end_session_endpoint for logout); the issuer shares
// scheme, host and port with the authority, as MSAL checks. Endpoints are laid out
// as Entra's, so MSAL's tenant-segment rewriting lands on them.
type openIDConfiguration struct {
	Issuer                            string   `json:"issuer"`
	AuthorizationEndpoint             string   `json:"authorization_endpoint"`
	TokenEndpoint                     string   `json:"token_endpoint"`
	DeviceAuthorizationEndpoint       string   `json:"device_authorization_endpoint"`
	EndSessionEndpoint                string   `json:"end_session_endpoint"`
	JWKSURI                           string   `json:"jwks_uri"`
	UserinfoEndpoint                  string   `json:"userinfo_endpoint"`
	ResponseTypesSupported            []string `json:"response_types_supported"`
	ResponseModesSupported            []string `json:"response_modes_supported"`
	GrantTypesSupported               []string `json:"grant_types_supported"`
	SubjectTypesSupported             []string `json:"subject_types_supported"`
	IDTokenSigningAlgValuesSupported  []string `json:"id_token_signing_alg_values_supported"`
	TokenEndpointAuthMethodsSupported []string `json:"token_endpoint_auth_methods_supported"`
	TokenEndpointAuthSigningAlgs      []string `json:"token_endpoint_auth_signing_alg_values_supported"`
	CodeChallengeMethodsSupported     []string `json:"code_challenge_methods_supported"`
	ScopesSupported                   []string `json:"scopes_supported"`
	ClaimsSupported                   []string `json:"claims_supported"`
	PromptValuesSupported             []string `json:"prompt_values_supported"`
	RequestURIParameterSupported      bool     `json:"request_uri_parameter_supported"`
	HTTPLogoutSupported               bool     `json:"http_logout_supported"`
	FrontchannelLogoutSupported       bool     `json:"frontchannel_logout_supported"`
}

// discovery answers GET /{tenant}/v2.0/.well-known/openid-configuration and
// /{tenant}/.well-known/openid-configuration, readable from any origin. For common and
// organizations the issuer is Entra's template {publicUrl}/{tenantid}/v2.0.
func (s *Server) discovery(w http.ResponseWriter, r *http.Request) {
	allowAnyOrigin(w)
	t, err := s.resolveTenant(r.Context(), r.PathValue("tenant"))
	if err != nil {
		s.failJSON(w, r, "discovery", err)
		return
	}
	seg, issuer := t.segment, tokens.Issuer(s.publicURL, "{tenantid}")
	if !t.multi {
		seg, issuer = t.tenant.ID, tokens.Issuer(s.publicURL, t.tenant.ID)
	}
	base := s.publicURL + "/" + seg
	doc := openIDConfiguration{
		Issuer:                            issuer,
		AuthorizationEndpoint:             base + "/oauth2/v2.0/authorize",
		TokenEndpoint:                     base + "/oauth2/v2.0/token",
		DeviceAuthorizationEndpoint:       base + "/oauth2/v2.0/devicecode",
		EndSessionEndpoint:                base + "/oauth2/v2.0/logout",
		JWKSURI:                           base + "/discovery/v2.0/keys",
		UserinfoEndpoint:                  s.publicURL + "/oidc/userinfo",
		ResponseTypesSupported:            []string{"code"},
		ResponseModesSupported:            []string{modeQuery, modeFragment, modeFormPost},
		GrantTypesSupported:               slices.Sorted(maps.Keys(grants)),
		SubjectTypesSupported:             []string{"pairwise"},
		IDTokenSigningAlgValuesSupported:  []string{"RS256", "ES256"}, // RS256 first: the default
		TokenEndpointAuthMethodsSupported: []string{"none", "client_secret_post", "client_secret_basic", "private_key_jwt"},
		TokenEndpointAuthSigningAlgs:      []string{"RS256", "PS256"},
		CodeChallengeMethodsSupported:     []string{"S256"},
		ScopesSupported:                   []string{"openid", "profile", "email", "offline_access"},
		ClaimsSupported: []string{"sub", "iss", "aud", "exp", "iat", "nbf", "auth_time", "nonce", "name",
			"preferred_username", "email", "given_name", "family_name", "oid", "tid", "sid", "login_hint", "ver"},
		PromptValuesSupported: []string{"none", "login", "select_account", "consent", "create"},
		HTTPLogoutSupported:   true,
	}
	body, _ := json.Marshal(doc)
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Cache-Control", "public, max-age=3600")
	w.Write(body)
}

// jwks answers GET /{tenant}/discovery/v2.0/keys: the published signing keys with kid, x5t
// and x5c, readable from any origin.
func (s *Server) jwks(w http.ResponseWriter, r *http.Request) {
	allowAnyOrigin(w)
	if _, err := s.resolveTenant(r.Context(), r.PathValue("tenant")); err != nil {
		s.failJSON(w, r, "keys", err)
		return
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Cache-Control", "public, max-age=3600")
	w.Write(s.keys.JWKS())
}

// allowAnyOrigin marks a response readable by scripts of any origin. Sigil's CORS responses
// never allow credentials: MSAL sends none.
func allowAnyOrigin(w http.ResponseWriter) {
	h := w.Header()
	h.Set("Access-Control-Allow-Origin", "*")
	h.Set("Access-Control-Expose-Headers", "x-ms-request-id, client-request-id")
}
