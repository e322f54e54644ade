package protocol_test

import (
	"crypto/sha256"
	"encoding/base64"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
)

// msal1Params are the parameters MSAL 1.x sends for a request (msal 1.4.18's
// createNavigationUrlString): response_type, scope with openid profile appended, state with
// its base64 JSON and the app's state after "|", a nonce, client_info=1 and the fragment mode.
func msal1Params(responseType, scope string) url.Values {
	return url.Values{"response_type": {responseType}, "scope": {scope}, "client_id": {implicitApp},
		"redirect_uri": {spaOrigin + "/"}, "state": {"eyJpZCI6IjAxIiwidHMiOjE3MDAwMDAwMDB9+/=|app state"},
		"nonce": {"8d1e3b0c-1d9e-4f3a-9a4b-0c2d3e4f5a6b"}, "client_info": {"1"}, "x-client-SKU": {"MSAL.JS"},
		"x-client-Ver": {"1.4.18"}, "client-request-id": {"0194d4c2-5f1e-7c3a-9b1e-3f2a1b0c9d8e"},
		"response_mode": {"fragment"}}
}

// TestImplicitGrant runs MSAL 1.x's three response types through sign-in and checks every
// value of the fragment: state byte for byte, client_info, session_state, the ID token's
// nonce and at_hash, and the access token's scope, type and lifetime.
func TestImplicitGrant(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	c := e.newBrowser()
	login := msal1Params("id_token", "user.read openid profile")
	v := e.signIn(c, e.authorizeURL("contoso.test", login), alice)
	checkImplicit(t, v, login, true, false)

	// The hidden iframe: prompt=none with the login_hint MSAL 1.x takes from the ID token,
	// answered at once with tokens for the API.
	silent := msal1Params("token", "api://todo/Todo.Read openid profile")
	silent.Set("prompt", "none")
	silent.Set("login_hint", alice)
	resp, body := e.get(c, e.authorizeURL("contoso.test", silent))
	if resp.StatusCode != http.StatusFound {
		t.Fatalf("silent implicit request answered %d, want 302 (consent first): %s", resp.StatusCode, body)
	}
	if v := responseParams(t, resp); v.Get("error") != "consent_required" {
		t.Fatalf("silent request for an unconsented API: %v, want consent_required", v)
	}
	consentAll := msal1Params("id_token token", "api://todo/Todo.Read openid profile")
	v = e.authorizeAs(c, e.authorizeURL("contoso.test", consentAll), alice, false)
	checkImplicit(t, v, consentAll, true, true)

	resp, _ = e.get(c, e.authorizeURL("contoso.test", silent))
	v = authResponse(t, resp, "", spaOrigin+"/", "fragment")
	checkImplicit(t, v, silent, false, true)
	if got := v.Get("scope"); !sameSet(got, "api://todo/Todo.Read openid profile") {
		t.Errorf("scope = %q, want the granted API scope and the OpenID Connect scopes", got)
	}
	at := claims(t, v.Get("access_token"))
	if at["aud"] != "api://todo" || at["scp"] != "Todo.Read" {
		t.Errorf("access token aud %v scp %v, want api://todo and Todo.Read", at["aud"], at["scp"])
	}
}

// checkImplicit checks an implicit response against its request.
func checkImplicit(t *testing.T, v url.Values, req url.Values, idToken, token bool) {
	t.Helper()
	if v.Get("error") != "" {
		t.Fatalf("implicit %q: %v", req.Get("response_type"), v)
	}
	if got, want := v.Get("state"), req.Get("state"); got != want {
		t.Errorf("state = %q, want %q byte for byte", got, want)
	}
	if ci, err := base64.RawURLEncoding.DecodeString(v.Get("client_info")); err != nil || !strings.Contains(string(ci), `"utid":"`+tenantID+`"`) {
		t.Errorf("client_info = %q (%s), want base64url JSON with uid and utid", v.Get("client_info"), ci)
	}
	if len(v.Get("session_state")) != 36 {
		t.Errorf("session_state = %q, want a GUID", v.Get("session_state"))
	}
	if v.Has("code") || v.Has("refresh_token") {
		t.Errorf("implicit response carries a code or refresh token: %v", v)
	}
	if got := v.Get("id_token") != ""; got != idToken {
		t.Errorf("id_token present = %v, want %v", got, idToken)
	}
	if idToken {
		id := claims(t, v.Get("id_token"))
		if id["nonce"] != req.Get("nonce") || id["aud"] != implicitApp || id["preferred_username"] != alice || id["auth_time"] == nil {
			t.Errorf("ID token claims %v: want the request's nonce, aud, preferred_username, auth_time", id)
		}
		if token {
			sum := sha256.Sum256([]byte(v.Get("access_token")))
			if want := base64.RawURLEncoding.EncodeToString(sum[:16]); id["at_hash"] != want {
				t.Errorf("at_hash = %v, want %s", id["at_hash"], want)
			}
		} else if id["at_hash"] != nil {
			t.Errorf("at_hash without an access token: %v", id["at_hash"])
		}
	}
	if got := v.Get("access_token") != ""; got != token {
		t.Errorf("access_token present = %v, want %v", got, token)
	}
	if token {
		if n, err := strconv.Atoi(v.Get("expires_in")); err != nil || n < 600 || v.Get("token_type") != "Bearer" || v.Get("scope") == "" {
			t.Errorf("expires_in %q token_type %q scope %q: want seconds ≥ 600, Bearer and the scope", v.Get("expires_in"), v.Get("token_type"), v.Get("scope"))
		}
	}
}

// TestImplicitValidation covers what an implicit request must get right, in order.
func TestImplicitValidation(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	tests := []struct {
		name string
		edit func(url.Values)
		mode string
		want wantErr
	}{
		{"no nonce with id_token", func(p url.Values) { p.Del("nonce") }, "fragment", wantErr{"invalid_request", 900144}},
		{"no nonce with id_token token", func(p url.Values) { p.Set("response_type", "id_token token"); p.Del("nonce") }, "fragment", wantErr{"invalid_request", 900144}},
		{"tokens in the query", func(p url.Values) { p.Set("response_mode", "query") }, "fragment", wantErr{"invalid_request", 70007}},
		{"access tokens switched off", func(p url.Values) {
			p.Set("client_id", idOnlyApp)
			p.Set("redirect_uri", spaRedirect)
			p.Set("response_type", "token")
		}, "fragment", wantErr{"unsupported_response_type", 700051}},
		{"hybrid", func(p url.Values) { p.Set("response_type", "code id_token") }, "fragment", wantErr{"unsupported_response_type", 70005}},
		{"id_token twice", func(p url.Values) { p.Set("response_type", "id_token id_token") }, "fragment", wantErr{"unsupported_response_type", 70005}},
		{"form_post keeps its mode", func(p url.Values) { p.Set("response_mode", "form_post"); p.Del("nonce") }, "form_post", wantErr{"invalid_request", 900144}},
		{"order: switch before nonce", func(p url.Values) {
			p.Set("client_id", idOnlyApp)
			p.Set("redirect_uri", spaRedirect)
			p.Set("response_type", "id_token token")
			p.Del("nonce")
		}, "fragment", wantErr{"unsupported_response_type", 700051}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := msal1Params("id_token", "openid profile")
			tt.edit(p)
			resp, body := e.get(e.newBrowser(), e.authorizeURL("contoso.test", p))
			wantRedirectError(t, resp, body, p.Get("redirect_uri"), tt.mode, tt.want, ptr(p.Get("state")))
		})
	}

	t.Run("a token without nonce is fine", func(t *testing.T) {
		c := e.newBrowser()
		e.signIn(c, e.authorizeURL("contoso.test", msal1Params("id_token", "user.read openid profile")), alice)
		p := msal1Params("token", "user.read")
		p.Del("nonce")
		p.Set("prompt", "none")
		p.Set("login_hint", alice)
		v := e.authorizeAs(c, e.authorizeURL("contoso.test", p), alice, false)
		if v.Get("access_token") == "" || v.Get("id_token") != "" {
			t.Fatalf("response_type=token without nonce: %v", v)
		}
	})
}

// TestImplicitClaimsAndScopes covers MSAL 1.x's claimsRequest and its scope habits: the
// app's own client id as the scope, which means an ID token, as with Entra.
func TestImplicitClaimsAndScopes(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	c := e.newBrowser()
	p := msal1Params("id_token", "user.read openid profile")
	p.Set("claims", `{"id_token":{"auth_time":{"essential":true},"given_name":null,"email":{"essential":false}}}`)
	v := e.signIn(c, e.authorizeURL("contoso.test", p), alice)
	id := claims(t, v.Get("id_token"))
	if id["auth_time"] == nil || id["given_name"] != "Alice" || id["email"] != alice {
		t.Errorf("ID token for a claims request: %v, want auth_time, given_name and email", id)
	}

	renew := msal1Params("id_token", implicitApp)
	renew.Set("prompt", "none")
	renew.Set("login_hint", alice)
	resp, body := e.get(c, e.authorizeURL("contoso.test", renew))
	v = authResponse(t, resp, body, spaOrigin+"/", "fragment")
	if id := claims(t, v.Get("id_token")); id["nonce"] != renew.Get("nonce") || id["given_name"] != nil {
		t.Errorf("ID token renewal with the client id as scope: %v", id)
	}
}

// TestInteractionErrorText checks the rule MSAL 1.x apps depend on: whenever the user must
// act, error_description names the error and contains interaction_required, in every
// response mode; other errors never contain those words.
func TestInteractionErrorText(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	c := e.newBrowser()
	e.signIn(c, e.authorizeURL("contoso.test", msal1Params("id_token", "openid profile")), alice)
	for _, mode := range []string{"fragment", "query", "form_post"} {
		for _, tt := range []struct {
			name, code string
			edit       func(url.Values)
			browser    *http.Client
		}{
			{"no session", "login_required", func(url.Values) {}, e.newBrowser()},
			{"no consent", "consent_required", func(p url.Values) { p.Set("scope", "api://todo/Todo.Read openid profile") }, c},
			{"unknown sid", "login_required", func(p url.Values) { p.Set("sid", "nosuchsession") }, c},
		} {
			t.Run(mode+"/"+tt.name, func(t *testing.T) {
				p := msal1Params("id_token", "openid profile")
				if mode == "query" {
					p.Set("response_type", "code")
					_, challenge := pkce()
					p.Set("code_challenge", challenge)
					p.Set("code_challenge_method", "S256")
				}
				p.Set("response_mode", mode)
				p.Set("prompt", "none")
				tt.edit(p)
				resp, body := e.get(tt.browser, e.authorizeURL("contoso.test", p))
				v := authResponse(t, resp, body, spaOrigin+"/", mode)
				desc := v.Get("error_description")
				if v.Get("error") != tt.code || !strings.Contains(desc, "interaction_required") || !strings.Contains(desc, tt.code) {
					t.Errorf("error %q, description %q: want %s and the word interaction_required", v.Get("error"), desc, tt.code)
				}
			})
		}
	}
}
