package protocol_test

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/url"
	"testing"

	jose "github.com/go-jose/go-jose/v4"
)

// earRequest returns the parameters msal-browser 5 posts in protocol mode EAR, with a fresh
// AES-256 key made as MSAL makes it (ear_jwk: standard base64 of the JWK JSON).
func earRequest(t *testing.T) (url.Values, []byte) {
	t.Helper()
	key := make([]byte, 32)
	rand.Read(key)
	jwk, _ := json.Marshal(map[string]string{"alg": "dir", "kty": "oct", "k": base64.RawURLEncoding.EncodeToString(key)})
	_, challenge := pkce()
	p := spaParams(challenge, "User.Read openid profile offline_access")
	p.Set("response_type", "id_token token refresh_token")
	p.Set("ear_jwk", base64.StdEncoding.EncodeToString(jwk))
	p.Set("ear_jwe_crypto", "eyJhbGciOiJkaXIiLCJlbmMiOiJBMjU2R0NNIn0")
	return p, key
}

// openEAR decrypts ear_jwe as the browser does.
func openEAR(t *testing.T, v url.Values, key []byte) map[string]any {
	t.Helper()
	if v.Get("ear_jwe") == "" || v.Has("code") || v.Has("access_token") {
		t.Fatalf("want only ear_jwe (and state), got %v", v)
	}
	obj, err := jose.ParseEncryptedCompact(v.Get("ear_jwe"), []jose.KeyAlgorithm{jose.DIRECT}, []jose.ContentEncryption{jose.A256GCM})
	if err != nil {
		t.Fatal(err)
	}
	plain, err := obj.Decrypt(key)
	if err != nil {
		t.Fatalf("ear_jwe does not decrypt with the browser's key: %v", err)
	}
	var out map[string]any
	if err := json.Unmarshal(plain, &out); err != nil {
		t.Fatal(err)
	}
	return out
}

// TestEncryptedAuthorizeResponse runs msal-browser 5's EAR mode: the form post, sign-in, and
// a fragment holding only ear_jwe and state, which decrypts to a token response with an ID
// token carrying the nonce and a spa refresh token that redeems from the browser.
func TestEncryptedAuthorizeResponse(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	c := e.newBrowser()
	p, key := earRequest(t)
	p.Set("state", "eyJpZCI6IjAxIn0+/=|x")
	resp, body := e.postForm(c, e.url+"/contoso.test/oauth2/v2.0/authorize?client-request-id="+p.Get("client-request-id"), p, nil)
	if !isLoginPage(body) {
		t.Fatalf("EAR request: %d %s", resp.StatusCode, body)
	}
	resp, body = e.submitLogin(c, hiddenFields(body), alice, pw, false)
	v := e.finish(c, resp, body)
	if v.Get("state") != p.Get("state") {
		t.Errorf("state %q, want %q", v.Get("state"), p.Get("state"))
	}
	tok := openEAR(t, v, key)
	for _, k := range []string{"access_token", "id_token", "refresh_token", "client_info", "scope", "token_type"} {
		if str(tok, k) == "" {
			t.Errorf("decrypted response lacks %s: %v", k, tok)
		}
	}
	if n, _ := tok["expires_in"].(float64); n < 600 {
		t.Errorf("expires_in = %v", tok["expires_in"])
	}
	if id := claims(t, str(tok, "id_token")); id["nonce"] != p.Get("nonce") || id["preferred_username"] != alice {
		t.Errorf("ID token %v: want the request's nonce", id)
	}
	r, refreshed := e.token("contoso.test", refreshForm(spaClient, str(tok, "refresh_token"), "User.Read openid profile offline_access"), spaOriginHeader())
	if r.StatusCode != http.StatusOK || str(refreshed, "access_token") == "" {
		t.Fatalf("refreshing the EAR refresh token: %d %v", r.StatusCode, refreshed)
	}

	// The hidden iframe: prompt=none answers at once, sealed with the new request's key.
	silent, key2 := earRequest(t)
	silent.Set("prompt", "none")
	resp, body = e.postForm(c, e.url+"/contoso.test/oauth2/v2.0/authorize", silent, nil)
	tok = openEAR(t, authResponse(t, resp, body, spaRedirect, "fragment"), key2)
	if claims(t, str(tok, "id_token"))["nonce"] != silent.Get("nonce") {
		t.Errorf("silent EAR ID token nonce: %v", claims(t, str(tok, "id_token")))
	}
}

// TestEncryptedAuthorizeResponseValidation covers the EAR request checks; their errors are
// plain error redirects with state, which MSAL reads in every mode.
func TestEncryptedAuthorizeResponseValidation(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	tests := []struct {
		name string
		edit func(url.Values)
		uri  string
		want wantErr
	}{
		{"no ear_jwk", func(p url.Values) { p.Del("ear_jwk") }, spaRedirect, wantErr{"invalid_request", 900144}},
		{"no ear_jwe_crypto", func(p url.Values) { p.Del("ear_jwe_crypto") }, spaRedirect, wantErr{"invalid_request", 900144}},
		{"a 128-bit key", func(p url.Values) {
			jwk, _ := json.Marshal(map[string]string{"alg": "dir", "kty": "oct", "k": base64.RawURLEncoding.EncodeToString(make([]byte, 16))})
			p.Set("ear_jwk", base64.StdEncoding.EncodeToString(jwk))
		}, spaRedirect, wantErr{"invalid_request", 90100}},
		{"unknown encryption", func(p url.Values) {
			p.Set("ear_jwe_crypto", base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"dir","enc":"A128CBC-HS256"}`)))
		}, spaRedirect, wantErr{"invalid_request", 90100}},
		{"refresh_token without the rest", func(p url.Values) { p.Set("response_type", "token refresh_token") }, spaRedirect, wantErr{"unsupported_response_type", 70005}},
		{"no nonce", func(p url.Values) { p.Del("nonce") }, spaRedirect, wantErr{"invalid_request", 900144}},
		{"to a web redirect URI", func(p url.Values) {
			p.Set("client_id", webClient)
			p.Set("redirect_uri", webRedirect)
		}, webRedirect, wantErr{"unsupported_response_type", 70005}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, _ := earRequest(t)
			p.Set("state", "s+1")
			tt.edit(p)
			resp, body := e.postForm(e.newBrowser(), e.url+"/contoso.test/oauth2/v2.0/authorize", p, nil)
			wantRedirectError(t, resp, body, tt.uri, "fragment", tt.want, ptr("s+1"))
		})
	}
}
