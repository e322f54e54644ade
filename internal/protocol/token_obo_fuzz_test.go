package protocol

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
)

// FuzzSilentGrants drives the real token handler with fuzzed on-behalf-of and password
// requests from the web app (confidential, so both grants reach their own step): the
// assertion, requested_token_use, username, password, scope and claims are untrusted. It
// never answers 500, and every answer is the JSON token or error shape.
func FuzzSilentGrants(f *testing.F) {
	h, _ := fuzzServer(f)
	f.Add(true, "eyJhbGciOiJSUzI1NiJ9.eyJhdWQiOiJhcGk6Ly90b2RvIn0.c2ln", "on_behalf_of", "api://todo/Todo.Read openid offline_access", "")
	f.Add(true, "a.b.c", "", "api://nope/.default", `{"access_token":{"nbf":{"value":"1"}}}`)
	f.Add(false, "alice@contoso.test", "Passw0rd!alice", "api://todo/Todo.Read openid profile offline_access", "")
	f.Add(false, "ALICE@contoso.test ", "wrong", "User.Read", "[1]")
	f.Add(false, "", "x", "openid", "")
	f.Fuzz(func(t *testing.T, obo bool, a, b, scope, claims string) {
		form := url.Values{"client_id": {fuzzWeb}, "client_secret": {"s3cret-s3cret-s3cret"}, "scope": {scope}}
		if claims != "" {
			form.Set("claims", claims)
		}
		if obo {
			form.Set("grant_type", jwtBearerGrant)
			form.Set("assertion", a)
			form.Set("requested_token_use", b)
		} else {
			form.Set("grant_type", "password")
			form.Set("username", a)
			form.Set("password", b)
		}
		r := httptest.NewRequest(http.MethodPost, "/contoso.test/oauth2/v2.0/token", strings.NewReader(form.Encode()))
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		var body map[string]any
		if err := json.Unmarshal(w.Body.Bytes(), &body); err != nil {
			t.Fatalf("%d, not JSON: %s", w.Code, w.Body)
		}
		switch {
		case w.Code >= 500:
			t.Fatalf("%d: %v", w.Code, body)
		case w.Code == http.StatusOK && body["access_token"] == nil:
			t.Fatalf("200 without an access token: %v", body)
		case w.Code != http.StatusOK && body["error"] == nil:
			t.Fatalf("%d without error: %v", w.Code, body)
		}
	})
}
