package apiauth_test

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"html"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/sigil-idp/sigil/apiauth"
	"github.com/sigil-idp/sigil/internal/app"
	"github.com/sigil-idp/sigil/internal/config"
	"github.com/sigil-idp/sigil/internal/password"
)

// The directory of the real Sigil the tests below get tokens from.
const (
	sigilURL     = "https://login.example.test"
	sigilTenant  = "6a0b2c9e-7e4d-4c1e-9a53-0d6f2b8e4f10"
	otherTenant  = "0f1e2d3c-4b5a-4697-8877-665544332211"
	spaClient    = "3f1c2d4e-5a6b-4c7d-8e9f-0a1b2c3d4e5f"
	apiClient    = "4e5f6a7b-8c9d-4e0f-8a1b-2c3d4e5f6a7b"
	spaRedirect  = "https://app.example.test/redirect.html"
	alice        = "alice@contoso.test"
	alicePass    = "Passw0rd!alice"
	codeVerifier = "apiauth-test-verifier-apiauth-test-verifier-0123456789"
)

// handlerTransport sends requests to an in-process handler, so the key set is fetched from
// the real Sigil without a listener.
type handlerTransport struct{ h http.Handler }

func (t handlerTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	w := httptest.NewRecorder()
	t.h.ServeHTTP(w, r)
	return w.Result(), nil
}

// newSigil starts the real Sigil in-process with one user, an API with a client id and a
// user-assignable role, and a single-page app, and returns its handler.
func newSigil(tb testing.TB) http.Handler {
	tb.Helper()
	c := config.Default()
	c.PublicURL, c.DataDir = sigilURL, tb.TempDir()
	c.Tenants = []config.Tenant{{ID: sigilTenant, Domains: []string{"contoso.test"}, DisplayName: "Contoso",
		Users: []config.User{{Username: alice, Password: alicePass, DisplayName: "Alice", AppRoles: []string{"api://todo/Todo.Admin"}}},
		APIs: []config.API{{DisplayName: "Todo", AppIDURI: "api://todo", ClientID: apiClient,
			Scopes:   []config.Scope{{Value: "Todo.Read"}, {Value: "Todo.Write"}},
			AppRoles: []config.AppRole{{Value: "Todo.Admin", AllowedMemberTypes: []string{config.MemberUser}}}}},
		Apps: []config.App{
			{DisplayName: "SPA", ClientID: spaClient, Consent: config.ConsentPreauthorized,
				SPA: config.Platform{RedirectURIs: []string{spaRedirect}}},
			{DisplayName: "Todo API", ClientID: apiClient},
		}}}
	if err := c.Validate(); err != nil {
		tb.Fatal(err)
	}
	a, err := app.New(context.Background(), c, app.Options{HashParams: password.Params{Memory: 64, Time: 1, Threads: 1}})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { a.Close() })
	return a.Handler()
}

var hiddenInput = regexp.MustCompile(`<input type="hidden" name="([^"]+)" value="([^"]*)">`)

// accessToken signs alice in as the SPA does (authorization code with PKCE) and returns the
// access token for scope.
func accessToken(tb testing.TB, h http.Handler, scope string) string {
	tb.Helper()
	serve := func(r *http.Request) *httptest.ResponseRecorder {
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		return w
	}
	sum := sha256.Sum256([]byte(codeVerifier))
	q := url.Values{"client_id": {spaClient}, "redirect_uri": {spaRedirect}, "response_type": {"code"}, "scope": {scope},
		"response_mode": {"fragment"}, "state": {"s"}, "nonce": {"n"}, "code_challenge_method": {"S256"},
		"code_challenge": {base64.RawURLEncoding.EncodeToString(sum[:])}}
	page := serve(httptest.NewRequest(http.MethodGet, sigilURL+"/contoso.test/oauth2/v2.0/authorize?"+q.Encode(), nil))
	form := url.Values{"username": {alice}, "password": {alicePass}}
	for _, m := range hiddenInput.FindAllStringSubmatch(page.Body.String(), -1) {
		form.Set(m[1], html.UnescapeString(m[2]))
	}
	req := httptest.NewRequest(http.MethodPost, sigilURL+"/-/login", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	for _, c := range page.Result().Cookies() {
		req.AddCookie(c)
	}
	resp := serve(req)
	loc, _ := url.Parse(resp.Header().Get("Location"))
	frag, _ := url.ParseQuery(loc.Fragment)
	if frag.Get("code") == "" {
		tb.Fatalf("sign-in: %d %s %s", resp.Code, resp.Header().Get("Location"), resp.Body)
	}
	form = url.Values{"client_id": {spaClient}, "redirect_uri": {spaRedirect}, "scope": {scope}, "code": {frag.Get("code")},
		"code_verifier": {codeVerifier}, "grant_type": {"authorization_code"}}
	req = httptest.NewRequest(http.MethodPost, sigilURL+"/contoso.test/oauth2/v2.0/token", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", "https://app.example.test")
	resp = serve(req)
	var out struct {
		AccessToken string `json:"access_token"`
	}
	if err := json.Unmarshal(resp.Body.Bytes(), &out); err != nil || resp.Code != http.StatusOK || out.AccessToken == "" {
		tb.Fatalf("token: %d %s", resp.Code, resp.Body)
	}
	return out.AccessToken
}

// TestRealSigil validates a real Sigil access token, fetched keys and all, and refuses it
// where it does not belong.
func TestRealSigil(t *testing.T) {
	h := newSigil(t)
	raw := accessToken(t, h, "api://todo/Todo.Read openid profile offline_access")
	keys := &apiauth.RemoteKeySet{URL: sigilURL + "/" + sigilTenant + "/discovery/v2.0/keys", Client: &http.Client{Transport: handlerTransport{h}}}
	issuer := sigilURL + "/" + sigilTenant + "/v2.0"
	ctx := context.Background()

	tok, err := apiauth.NewVerifier(keys, apiauth.Config{Issuer: issuer, Audiences: []string{"api://todo"}}).Verify(ctx, raw)
	if err != nil {
		t.Fatalf("Sigil's token refused: %v", err)
	}
	if tok.TenantID != sigilTenant || tok.ObjectID == "" || tok.AuthorizedParty != spaClient || !tok.HasScope("Todo.Read") ||
		tok.HasScope("Todo.Write") || !tok.HasRole("Todo.Admin") || tok.Version != "2.0" {
		t.Errorf("got %+v", tok)
	}
	var extra struct {
		PreferredUsername string `json:"preferred_username"`
	}
	if err := tok.Claims(&extra); err != nil || extra.PreferredUsername != alice {
		t.Errorf("Claims: got %q, %v", extra.PreferredUsername, err)
	}
	if len(tok.Audience) != 1 || tok.Audience[0] != "api://todo" {
		t.Errorf("got aud %q, want api://todo", tok.Audience)
	}
	for _, tt := range []struct {
		name   string
		config apiauth.Config
		want   error
	}{
		{"multi-tenant issuer", apiauth.Config{Issuer: sigilURL + "/{tenantid}/v2.0", Audiences: []string{"api://todo"}}, nil},
		// Asked for by App ID URI, the token's aud is the App ID URI; an API that accepts only
		// its client id refuses it.
		{"only the API's client id as audience", apiauth.Config{Issuer: issuer, Audiences: []string{apiClient}}, apiauth.ErrAudience},
		{"another API", apiauth.Config{Issuer: issuer, Audiences: []string{"api://other"}}, apiauth.ErrAudience},
		{"another tenant's API", apiauth.Config{Issuer: sigilURL + "/" + otherTenant + "/v2.0", Audiences: []string{"api://todo"}}, apiauth.ErrIssuer},
		{"multi-tenant, other tenants only", apiauth.Config{Issuer: sigilURL + "/{tenantid}/v2.0", Tenants: []string{otherTenant},
			Audiences: []string{"api://todo"}}, apiauth.ErrIssuer},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := apiauth.NewVerifier(keys, tt.config).Verify(ctx, raw)
			if tt.want == nil && err != nil || tt.want != nil && !errors.Is(err, tt.want) {
				t.Fatalf("got %v, want %v", err, tt.want)
			}
		})
	}

	// The middleware in front of a Todo API.
	m := &apiauth.Middleware{Verifier: apiauth.NewVerifier(keys, apiauth.Config{Issuer: issuer, Audiences: []string{"api://todo", apiClient}})}
	api := http.NewServeMux()
	hello := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte(apiauth.FromContext(r.Context()).ObjectID))
	})
	api.Handle("GET /todos", m.Require(hello, apiauth.Requirement{AnyScope: []string{"Todo.Read"}}))
	api.Handle("POST /todos", m.Require(hello, apiauth.Requirement{AllScopes: []string{"Todo.Write"}}))
	api.Handle("DELETE /todos", m.Require(hello, apiauth.Requirement{AnyRole: []string{"Todo.Admin"}}))
	for _, tt := range []struct {
		method string
		status int
	}{{"GET", 200}, {"POST", 403}, {"DELETE", 200}} {
		r := httptest.NewRequest(tt.method, "/todos", nil)
		r.Header.Set("Authorization", "Bearer "+raw)
		w := httptest.NewRecorder()
		api.ServeHTTP(w, r)
		if w.Code != tt.status || tt.status == 200 && w.Body.String() != tok.ObjectID {
			t.Errorf("%s /todos: got %d %s %q, want %d", tt.method, w.Code, w.Body, w.Header().Get("WWW-Authenticate"), tt.status)
		}
	}
}
