// Package bench measures Sigil's hot paths through the real HTTP handlers, in-process, on
// SQLite in a temporary folder: discovery and JWKS, a silent (prompt=none) authorization with
// a live session, code redemption and refresh. Run with
//
//	go test ./bench -run '^$' -bench . -cpu 1 -count 5
//
// and record the numbers in bench/README.md. -cpu 1 gives per-core rates; the Parallel
// variants are run with -cpu 2.
package bench

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"html"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/sigil-idp/sigil/internal/app"
	"github.com/sigil-idp/sigil/internal/config"
	"github.com/sigil-idp/sigil/internal/demo"
	"github.com/sigil-idp/sigil/internal/password"
	"github.com/sigil-idp/sigil/internal/store/sqlstore"
	"github.com/sigil-idp/sigil/internal/tokens"
)

const (
	publicURL = "https://login.example.test"
	tenantID  = "6a0b2c9e-7e4d-4c1e-9a53-0d6f2b8e4f10"
	clientID  = "3f1c2d4e-5a6b-4c7d-8e9f-0a1b2c3d4e5f"
	origin    = "https://app.example.test"
	redirect  = origin + "/redirect.html"
	user      = "alice@contoso.test"
	secret    = "Passw0rd!alice"
	verifier  = "benchmark-verifier-benchmark-verifier-0123456789"
	// scope is what MSAL sends for an API scope: the API's scope and the OIDC scopes.
	scope = "api://todo/Todo.Read openid profile offline_access"

	// The daemon (client credentials) and the middle tier (on-behalf-of): the Todo API's own
	// registration, which calls the Mail API.
	daemonID     = "1a2b3c4d-1111-4222-8333-944455556666"
	daemonSecret = "daemon-secret-value"
	middleID     = "4e5f6a7b-8c9d-4e0f-a1b2-c3d4e5f6a7b8"
	middleSecret = "api-secret-value"
	// oboScope is what MSAL Go and msal-node send for a downstream scope.
	oboScope = "api://mail/Mail.Send openid profile offline_access"
)

// server is a Sigil and a browser session in it.
type server struct {
	h      http.Handler
	cookie string // the session cookie, Name=Value
}

func newServer(b *testing.B) *server { return newServerAt(b, nil) }

// newServerAt is newServer with the server's clock (nil: the real one).
func newServerAt(b *testing.B, now func() time.Time) *server {
	b.Helper()
	c := config.Default()
	c.PublicURL, c.DataDir = publicURL, b.TempDir()
	c.Tenants = []config.Tenant{{ID: tenantID, Domains: []string{"contoso.test"}, DisplayName: "Contoso",
		Users: []config.User{{Username: user, Password: secret, DisplayName: "Alice"}},
		APIs: []config.API{
			{DisplayName: "Todo", AppIDURI: "api://todo", ClientID: middleID, Scopes: []config.Scope{{Value: "Todo.Read"}},
				AppRoles: []config.AppRole{{Value: "Todo.ReadAll", AllowedMemberTypes: []string{config.MemberApplication}}}},
			{DisplayName: "Mail", AppIDURI: "api://mail", Scopes: []config.Scope{{Value: "Mail.Send"}}},
			{DisplayName: "Todo (ES256)", AppIDURI: esAPI, SigningAlg: config.SigningAlgES256, Scopes: []config.Scope{{Value: "Todo.Read"}},
				AppRoles: []config.AppRole{{Value: "Todo.ReadAll", AllowedMemberTypes: []string{config.MemberApplication}}}}},
		Apps: []config.App{{DisplayName: "SPA", ClientID: clientID, Consent: config.ConsentPreauthorized,
			SPA:           config.Platform{RedirectURIs: []string{redirect}},
			ImplicitGrant: config.ImplicitGrant{IDTokens: true, AccessTokens: true}},
			{DisplayName: "Daemon", ClientID: daemonID, ClientSecrets: []string{daemonSecret},
				ApplicationPermissions: []string{"api://todo/Todo.ReadAll"}},
			{DisplayName: "Todo API (middle tier)", ClientID: middleID, ClientSecrets: []string{middleSecret},
				AdminConsent: []string{"api://mail/Mail.Send"}},
			{DisplayName: "SPA (ES256 ID tokens)", ClientID: esClientID, Consent: config.ConsentPreauthorized,
				SPA: config.Platform{RedirectURIs: []string{redirect}}, IDTokenSigningAlg: config.SigningAlgES256},
			{DisplayName: "Daemon (ES256 API)", ClientID: esDaemonID, ClientSecrets: []string{daemonSecret},
				ApplicationPermissions: []string{esAPI + "/Todo.ReadAll"}}}}}
	if err := c.Validate(); err != nil {
		b.Fatal(err)
	}
	a, err := app.New(context.Background(), c, app.Options{HashParams: password.Params{Memory: 64, Time: 1, Threads: 1}, Now: now})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { a.Close() })
	s := &server{h: a.Handler()}
	s.signIn(b)
	return s
}

// serve runs one request through the handler.
func (s *server) serve(req *http.Request) *httptest.ResponseRecorder {
	w := httptest.NewRecorder()
	s.h.ServeHTTP(w, req)
	return w
}

func challenge() string {
	sum := sha256.Sum256([]byte(verifier))
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

func authorizeURL(prompt string) string { return authorizeURLFor(clientID, scope, prompt) }

// authorizeURLFor is the authorization request MSAL sends for client and scope.
func authorizeURLFor(client, scope, prompt string) string {
	q := url.Values{"client_id": {client}, "redirect_uri": {redirect}, "response_type": {"code"}, "scope": {scope},
		"response_mode": {"fragment"}, "state": {"eyJpZCI6IjAxIn0="}, "nonce": {"n"}, "code_challenge": {challenge()},
		"code_challenge_method": {"S256"}, "client_info": {"1"}}
	if prompt != "" {
		q.Set("prompt", prompt)
	}
	return publicURL + "/contoso.test/oauth2/v2.0/authorize?" + q.Encode()
}

var hidden = regexp.MustCompile(`<input type="hidden" name="([^"]+)" value="([^"]*)">`)

// signIn posts the sign-in form once and keeps the session cookie.
func (s *server) signIn(b *testing.B) {
	page := s.serve(httptest.NewRequest(http.MethodGet, authorizeURL(""), nil))
	form := url.Values{"username": {user}, "password": {secret}}
	for _, m := range hidden.FindAllStringSubmatch(page.Body.String(), -1) {
		form.Set(m[1], html.UnescapeString(m[2]))
	}
	req := httptest.NewRequest(http.MethodPost, publicURL+"/-/login", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	for _, c := range page.Result().Cookies() {
		req.AddCookie(c)
	}
	resp := s.serve(req)
	for _, c := range resp.Result().Cookies() {
		if c.Name == "__Host-sigil-session" {
			s.cookie = c.Name + "=" + c.Value
		}
	}
	if resp.Code != http.StatusFound || s.cookie == "" {
		b.Fatalf("sign-in: %d %s", resp.Code, resp.Body)
	}
}

// code runs a silent authorization and returns the code.
func (s *server) code(b *testing.B) string { return s.codeFor(b, clientID, scope) }

// tokenReply is what the benchmarks read of a token response.
type tokenReply struct {
	AccessToken  string `json:"access_token"`
	IDToken      string `json:"id_token"`
	RefreshToken string `json:"refresh_token"`
	Error        string `json:"error_description"`
}

// tokens posts a token request as the SPA would and returns the response, which must carry
// a refresh token.
func (s *server) tokens(b *testing.B, form url.Values) tokenReply {
	req := httptest.NewRequest(http.MethodPost, publicURL+"/contoso.test/oauth2/v2.0/token", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", origin)
	resp := s.serve(req)
	var out tokenReply
	json.Unmarshal(resp.Body.Bytes(), &out)
	if resp.Code != http.StatusOK || out.RefreshToken == "" {
		b.Fatalf("token: %d %s", resp.Code, out.Error)
	}
	return out
}

// token posts a token request as the SPA would and returns the refresh token.
func (s *server) token(b *testing.B, form url.Values) string { return s.tokens(b, form).RefreshToken }

func redeemForm(code string) url.Values { return redeemFormFor(clientID, scope, code) }

// redeemFormFor is the redemption of code for client and scope, as MSAL posts it.
func redeemFormFor(client, scope, code string) url.Values {
	return url.Values{"client_id": {client}, "redirect_uri": {redirect}, "scope": {scope}, "code": {code},
		"code_verifier": {verifier}, "grant_type": {"authorization_code"}, "client_info": {"1"}}
}

// BenchmarkTwoSignatures is the ceiling for token grants: the two RS256 signatures (access
// token and ID token) every code redemption and refresh makes, and nothing else.
func BenchmarkTwoSignatures(b *testing.B) {
	st, err := sqlstore.OpenSQLite(context.Background(), filepath.Join(b.TempDir(), "keys.db"))
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	keys, err := tokens.LoadKeys(context.Background(), st, nil, time.Now)
	if err != nil {
		b.Fatal(err)
	}
	claims := tokens.AccessClaims{Aud: "api://todo", Iss: publicURL + "/" + tenantID + "/v2.0", Scp: "Todo.Read", Ver: "2.0"}
	for b.Loop() {
		for range 2 {
			if _, err := keys.Sign(claims); err != nil {
				b.Fatal(err)
			}
		}
	}
}

func BenchmarkDiscovery(b *testing.B) {
	s := newServer(b)
	for b.Loop() {
		resp := s.serve(httptest.NewRequest(http.MethodGet, publicURL+"/contoso.test/v2.0/.well-known/openid-configuration", nil))
		if resp.Code != http.StatusOK {
			b.Fatal(resp.Code)
		}
	}
}

func BenchmarkJWKS(b *testing.B) {
	s := newServer(b)
	for b.Loop() {
		resp := s.serve(httptest.NewRequest(http.MethodGet, publicURL+"/contoso.test/discovery/v2.0/keys", nil))
		if resp.Code != http.StatusOK {
			b.Fatal(resp.Code)
		}
	}
}

// BenchmarkAuthorizeSilent is MSAL's hidden iframe: prompt=none with a live session, answered
// with a code.
func BenchmarkAuthorizeSilent(b *testing.B) {
	s := newServer(b)
	for b.Loop() {
		s.code(b)
	}
}

// BenchmarkAuthorizeSilentImplicit is MSAL 1.x's hidden iframe: prompt=none with a live
// session, answered with an access token in the fragment (response_type=token, one signature)
// — MSAL 1.x's whole silent renewal, where the code flow needs AuthorizeSilent and
// CodeRedemption.
func BenchmarkAuthorizeSilentImplicit(b *testing.B) {
	s := newServer(b)
	for b.Loop() {
		s.implicit(b, "token")
	}
}

// BenchmarkAuthorizeSilentImplicitIDToken is MSAL 1.x renewing an ID token and an access token
// together (response_type=id_token token, two signatures).
func BenchmarkAuthorizeSilentImplicitIDToken(b *testing.B) {
	s := newServer(b)
	for b.Loop() {
		s.implicit(b, "id_token token")
	}
}

// implicit runs a silent implicit authorization and checks that tokens came back.
func (s *server) implicit(b *testing.B, responseType string) {
	q := url.Values{"client_id": {clientID}, "redirect_uri": {redirect}, "response_type": {responseType}, "scope": {scope},
		"state": {"eyJpZCI6IjAxIn0=|x"}, "nonce": {"n"}, "client_info": {"1"}, "prompt": {"none"}}
	req := httptest.NewRequest(http.MethodGet, publicURL+"/contoso.test/oauth2/v2.0/authorize?"+q.Encode(), nil)
	req.Header.Set("Cookie", s.cookie)
	resp := s.serve(req)
	loc, _ := url.Parse(resp.Header().Get("Location"))
	if v, _ := url.ParseQuery(loc.Fragment); v.Get("access_token") == "" {
		b.Fatalf("silent implicit authorize: %d %s", resp.Code, resp.Header().Get("Location"))
	}
}

// BenchmarkCodeRedemption redeems a code (issued outside the timed part) for an access token,
// an ID token and a refresh token.
func BenchmarkCodeRedemption(b *testing.B) {
	s := newServer(b)
	codes := make([]string, b.N)
	for i := range codes {
		codes[i] = s.code(b)
	}
	b.ResetTimer()
	for i := range b.N {
		s.token(b, redeemForm(codes[i]))
	}
}

// BenchmarkRefresh follows one refresh-token chain: every request rotates the token.
func BenchmarkRefresh(b *testing.B) {
	s := newServer(b)
	rt := s.token(b, redeemForm(s.code(b)))
	for b.Loop() {
		rt = s.token(b, url.Values{"client_id": {clientID}, "scope": {scope}, "grant_type": {"refresh_token"},
			"refresh_token": {rt}, "client_info": {"1"}})
	}
}

// BenchmarkOneSignature is the ceiling for client credentials: the one RS256 signature of
// an app-only token, and nothing else.
func BenchmarkOneSignature(b *testing.B) {
	st, err := sqlstore.OpenSQLite(context.Background(), filepath.Join(b.TempDir(), "keys.db"))
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	keys, err := tokens.LoadKeys(context.Background(), st, nil, time.Now)
	if err != nil {
		b.Fatal(err)
	}
	claims := tokens.AccessClaims{Aud: "api://todo", Iss: publicURL + "/" + tenantID + "/v2.0", Idtyp: "app", Ver: "2.0"}
	for b.Loop() {
		if _, err := keys.Sign(claims); err != nil {
			b.Fatal(err)
		}
	}
}

// clientCredentialsForm is what MSAL Go posts for AcquireTokenByCredential with a secret.
var clientCredentialsForm = url.Values{"grant_type": {"client_credentials"}, "client_id": {daemonID},
	"client_secret": {daemonSecret}, "scope": {"api://todo/.default openid profile offline_access"},
	"client_info": {"1"}}.Encode()

// serverToken posts a server-side token request (no Origin) and returns the access token.
func (s *server) serverToken(b *testing.B, body string) string {
	req := httptest.NewRequest(http.MethodPost, publicURL+"/contoso.test/oauth2/v2.0/token", strings.NewReader(body))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp := s.serve(req)
	var out struct {
		AccessToken string `json:"access_token"`
		Error       string `json:"error_description"`
	}
	json.Unmarshal(resp.Body.Bytes(), &out)
	if resp.Code != http.StatusOK || out.AccessToken == "" {
		b.Fatalf("token: %d %s", resp.Code, out.Error)
	}
	return out.AccessToken
}

// BenchmarkClientCredentials is a daemon's request with a client secret, as MSAL Go sends it:
// the client authenticated, one app-only token signed, nothing written.
func BenchmarkClientCredentials(b *testing.B) {
	s := newServer(b)
	for b.Loop() {
		s.serverToken(b, clientCredentialsForm)
	}
}

// userAccessToken is alice's access token for the Todo API, as the SPA got it.
func (s *server) userAccessToken(b *testing.B) string {
	req := httptest.NewRequest(http.MethodPost, publicURL+"/contoso.test/oauth2/v2.0/token",
		strings.NewReader(redeemForm(s.code(b)).Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", origin)
	var out struct {
		AccessToken string `json:"access_token"`
	}
	json.Unmarshal(s.serve(req).Body.Bytes(), &out)
	if out.AccessToken == "" {
		b.Fatal("no user access token")
	}
	return out.AccessToken
}

// oboForm is what MSAL Go posts for AcquireTokenOnBehalfOf with a secret.
func oboForm(assertion, scope string) string {
	return url.Values{"grant_type": {"urn:ietf:params:oauth:grant-type:jwt-bearer"}, "client_id": {middleID},
		"client_secret": {middleSecret}, "assertion": {assertion}, "requested_token_use": {"on_behalf_of"},
		"scope": {scope}, "client_info": {"1"}}.Encode()
}

// BenchmarkOnBehalfOf is the middle tier exchanging the user's token as MSAL sends it (with
// openid and offline_access): the assertion verified, an access token and an ID token signed,
// a new refresh-token family stored.
func BenchmarkOnBehalfOf(b *testing.B) {
	s := newServer(b)
	body := oboForm(s.userAccessToken(b), oboScope)
	for b.Loop() {
		s.serverToken(b, body)
	}
}

// BenchmarkOnBehalfOfAccessOnly is on-behalf-of for the downstream scope alone: one
// verification and one signature, nothing written.
func BenchmarkOnBehalfOfAccessOnly(b *testing.B) {
	s := newServer(b)
	body := oboForm(s.userAccessToken(b), "api://mail/Mail.Send")
	for b.Loop() {
		s.serverToken(b, body)
	}
}

// The Parallel variants keep several requests in flight per core, as a server does: one
// request's disk sync overlaps another's signing. Run them with -cpu 2 (the whole machine):
// with one P a goroutine blocked in fsync holds it until sysmon takes it back, which models
// no real server.

func BenchmarkAuthorizeSilentParallel(b *testing.B) {
	s := newServer(b)
	b.SetParallelism(4)
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			s.code(b)
		}
	})
}

func BenchmarkCodeRedemptionParallel(b *testing.B) {
	s := newServer(b)
	codes := make(chan string, b.N)
	for range b.N {
		codes <- s.code(b)
	}
	b.SetParallelism(4)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			s.token(b, redeemForm(<-codes))
		}
	})
}

func BenchmarkRefreshParallel(b *testing.B) {
	s := newServer(b)
	b.SetParallelism(4)
	b.RunParallel(func(pb *testing.PB) {
		rt := s.token(b, redeemForm(s.code(b))) // one chain per goroutine
		for pb.Next() {
			rt = s.token(b, url.Values{"client_id": {clientID}, "scope": {scope}, "grant_type": {"refresh_token"},
				"refresh_token": {rt}, "client_info": {"1"}})
		}
	})
}

func BenchmarkClientCredentialsParallel(b *testing.B) {
	s := newServer(b)
	b.SetParallelism(4)
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			s.serverToken(b, clientCredentialsForm)
		}
	})
}

func BenchmarkOnBehalfOfParallel(b *testing.B) {
	s := newServer(b)
	body := oboForm(s.userAccessToken(b), oboScope)
	b.SetParallelism(4)
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			s.serverToken(b, body)
		}
	})
}

// BenchmarkDevStart is `sigil dev` on a fresh data folder up to serving: migrations, the demo
// configuration (the demo password hashed with the default argon2id parameters), a new RS256
// key, a new local CA and certificate, and both listeners.
func BenchmarkDevStart(b *testing.B) {
	for b.Loop() {
		dev, err := demo.StartDev(context.Background(), demo.DevOptions{PublicURL: "https://localhost:8443",
			Listen: "127.0.0.1:0", SPAListen: "127.0.0.1:0", DataDir: b.TempDir()})
		if err != nil {
			b.Fatal(err)
		}
		dev.Close()
	}
}

// The ES256 variants: an API with signingAlg ES256, an app with idTokenSigningAlg ES256 and a
// daemon with a permission of that API, beside the RS256 ones above.
const (
	esAPI      = "api://todo-es256"
	esScope    = esAPI + "/Todo.Read openid profile offline_access"
	esClientID = "5c6d7e8f-2222-4333-8444-a55566667777"
	esDaemonID = "6d7e8f90-3333-4444-8555-b66677778888"
)

// codeFor runs a silent authorization for client and scope and returns the code.
func (s *server) codeFor(b *testing.B, client, scope string) string {
	req := httptest.NewRequest(http.MethodGet, authorizeURLFor(client, scope, "none"), nil)
	req.Header.Set("Cookie", s.cookie)
	resp := s.serve(req)
	loc, _ := url.Parse(resp.Header().Get("Location"))
	v, _ := url.ParseQuery(loc.Fragment)
	if v.Get("code") == "" {
		b.Fatalf("silent authorize: %d %s", resp.Code, resp.Header().Get("Location"))
	}
	return v.Get("code")
}

// algOf returns the alg of a compact JWS's header.
func algOf(jwt string) string {
	raw, _ := base64.RawURLEncoding.DecodeString(strings.Split(jwt, ".")[0])
	var h struct {
		Alg string `json:"alg"`
	}
	json.Unmarshal(raw, &h)
	return h.Alg
}

// refreshChain redeems a code for client and scope — checking that its access and ID tokens
// are signed with the algorithms expected — then follows the refresh-token chain as
// BenchmarkRefresh does.
func refreshChain(b *testing.B, client, scope, accessAlg, idAlg string) {
	s := newServer(b)
	out := s.tokens(b, redeemFormFor(client, scope, s.codeFor(b, client, scope)))
	if algOf(out.AccessToken) != accessAlg || algOf(out.IDToken) != idAlg {
		b.Fatalf("access token %s, ID token %s; want %s and %s", algOf(out.AccessToken), algOf(out.IDToken), accessAlg, idAlg)
	}
	rt := out.RefreshToken
	for b.Loop() {
		rt = s.token(b, url.Values{"client_id": {client}, "scope": {scope}, "grant_type": {"refresh_token"},
			"refresh_token": {rt}, "client_info": {"1"}})
	}
}

// BenchmarkRefreshES256 is BenchmarkRefresh for an API with signingAlg ES256: the access
// token signed ES256, the ID token still RS256 (the app did not opt in).
func BenchmarkRefreshES256(b *testing.B) { refreshChain(b, clientID, esScope, "ES256", "RS256") }

// BenchmarkRefreshES256Both is BenchmarkRefreshES256 for an app with idTokenSigningAlg ES256
// too: both signatures ES256, no RSA signature left.
func BenchmarkRefreshES256Both(b *testing.B) { refreshChain(b, esClientID, esScope, "ES256", "ES256") }

// BenchmarkClientCredentialsES256 is BenchmarkClientCredentials for an API with signingAlg
// ES256: the one signature ES256.
func BenchmarkClientCredentialsES256(b *testing.B) {
	s := newServer(b)
	form := url.Values{"grant_type": {"client_credentials"}, "client_id": {esDaemonID}, "client_secret": {daemonSecret},
		"scope": {esAPI + "/.default openid profile offline_access"}, "client_info": {"1"}}.Encode()
	if at := s.serverToken(b, form); algOf(at) != "ES256" {
		b.Fatalf("access token signed %s, want ES256", algOf(at))
	}
	for b.Loop() {
		s.serverToken(b, form)
	}
}
