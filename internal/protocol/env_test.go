package protocol_test

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"html"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sigil-idp/sigil/internal/app"
	"github.com/sigil-idp/sigil/internal/config"
	"github.com/sigil-idp/sigil/internal/password"
	"github.com/sigil-idp/sigil/internal/store"
)

// The test directory.
const (
	tenantID     = "6a0b2c9e-7e4d-4c1e-9a53-0d6f2b8e4f10"
	otherTenant  = "0f1e2d3c-4b5a-4697-8877-665544332211"
	spaClient    = "3f1c2d4e-5a6b-4c7d-8e9f-0a1b2c3d4e5f"
	webClient    = "7d2e9a10-1111-4222-8333-944455556666"
	nativeClient = "aa2e9a10-1111-4222-8333-944455556666"
	multiClient  = "bb2e9a10-1111-4222-8333-944455556666"
	preClient    = "cc2e9a10-1111-4222-8333-944455556666"
	implicitApp  = "ee2e9a10-1111-4222-8333-944455556666" // MSAL 1.x: implicit grant on
	idOnlyApp    = "ff2e9a10-1111-4222-8333-944455556666" // implicit ID tokens only
	otherClient  = "dd2e9a10-1111-4222-8333-944455556666"
	spaOrigin    = "https://app.example.test:3000"
	spaRedirect  = spaOrigin + "/redirect.html"
	webRedirect  = "https://web.example.test/callback"
	nativeURI    = "http://127.0.0.1:53000/"
	webSecret    = "s3cret-s3cret-s3cret"
	alice        = "alice@contoso.test"
	bob          = "bob@contoso.test"
	carol        = "carol@fabrikam.test"
	pw           = "Passw0rd!alice"
)

// clock is a settable test clock.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// env is a Sigil server on an httptest TLS server, and a browser-like client with a cookie
// jar that does not follow redirects.
type env struct {
	t      *testing.T
	srv    *httptest.Server
	app    *app.App
	url    string
	clock  *clock
	client *http.Client
	data   string        // the data folder (the SQLite database is data/sigil.db)
	cfg    config.Config // the configuration it runs
}

func testConfig() config.Config {
	c := config.Default()
	// The per-address gate in front of hashing (5 checks in a row, then one per 10 s by
	// default) would stop the many sign-ins tests make from 127.0.0.1 on a clock that does not
	// move; TestAddressGateAnswers sets its own.
	c.LoginThrottle.AddressBurst = 1000
	c.Tenants = []config.Tenant{{
		ID: tenantID, Domains: []string{"contoso.test"}, DisplayName: "Contoso",
		Users: []config.User{
			{Username: alice, Password: pw, DisplayName: "Alice Example", GivenName: "Alice", Surname: "Example", Email: alice},
			{Username: bob, Password: pw, DisplayName: "Bob Example", Email: bob},
		},
		APIs: []config.API{{DisplayName: "Todo API", AppIDURI: "api://todo", Scopes: []config.Scope{
			{Value: "Todo.Read"}, {Value: "Todo.Write", AdminConsentRequired: true}, {Value: "Todo.Admin", AdminConsentRequired: true}}}},
		Apps: []config.App{
			{DisplayName: "Todo SPA", ClientID: spaClient, SPA: config.Platform{RedirectURIs: []string{spaOrigin + "/", spaRedirect}},
				PostLogoutRedirectURIs: []string{spaOrigin + "/signed-out"}, AdminConsent: []string{"api://todo/Todo.Write"}},
			{DisplayName: "Web app", ClientID: webClient, Web: config.Platform{RedirectURIs: []string{webRedirect}},
				ClientSecrets: []string{webSecret}},
			{DisplayName: "Native app", ClientID: nativeClient, PublicClient: config.Platform{RedirectURIs: []string{nativeURI}}},
			{DisplayName: "Multi-tenant app", ClientID: multiClient, SignInAudience: config.SignInAudienceAnyTenant,
				SPA: config.Platform{RedirectURIs: []string{spaRedirect}}},
			{DisplayName: "Preauthorized app", ClientID: preClient, Consent: config.ConsentPreauthorized,
				SPA: config.Platform{RedirectURIs: []string{spaRedirect}}},
			{DisplayName: "MSAL 1.x app", ClientID: implicitApp, SPA: config.Platform{RedirectURIs: []string{spaOrigin + "/", spaRedirect}},
				ImplicitGrant: config.ImplicitGrant{IDTokens: true, AccessTokens: true}},
			{DisplayName: "ID tokens only", ClientID: idOnlyApp, SPA: config.Platform{RedirectURIs: []string{spaRedirect}},
				ImplicitGrant: config.ImplicitGrant{IDTokens: true}},
		},
	}, {
		ID: otherTenant, Domains: []string{"fabrikam.test"}, DisplayName: "Fabrikam",
		Users: []config.User{{Username: carol, Password: pw, DisplayName: "Carol"}},
		Apps: []config.App{{DisplayName: "Fabrikam SPA", ClientID: otherClient,
			SPA: config.Platform{RedirectURIs: []string{spaRedirect}}}},
	}}
	return c
}

// cheapHashes keeps argon2id fast in tests; what is tested is the flow, not the parameters.
var cheapHashes = password.Params{Memory: 64, Time: 1, Threads: 1}

// newEnv starts a server with testConfig, adjusted by edit when not nil.
func newEnv(t *testing.T, edit func(*config.Config)) *env {
	t.Helper()
	return newEnvWith(t, edit, nil, nil)
}

// newEnvLogged is newEnv with Sigil's log (JSON, every level) written to log when not nil.
func newEnvLogged(t *testing.T, edit func(*config.Config), log io.Writer) *env {
	t.Helper()
	return newEnvWith(t, edit, log, nil)
}

// newEnvStore is newEnv with the server's store wrapped by wrap when not nil.
func newEnvStore(t *testing.T, edit func(*config.Config), wrap func(store.Store) store.Store) *env {
	t.Helper()
	return newEnvWith(t, edit, nil, wrap)
}

// newEnvWith is newEnv with Sigil's log written to log, and its store wrapped by wrap, when
// not nil.
func newEnvWith(t *testing.T, edit func(*config.Config), log io.Writer, wrap func(store.Store) store.Store) *env {
	t.Helper()
	srv := httptest.NewUnstartedServer(nil)
	cfg := testConfig()
	cfg.PublicURL = "https://" + srv.Listener.Addr().String()
	cfg.DataDir = t.TempDir()
	if edit != nil {
		edit(&cfg)
	}
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	clk := &clock{t: time.Now().Truncate(time.Second)}
	logger := slog.New(slog.DiscardHandler)
	if os.Getenv("SIGIL_TEST_LOG") != "" {
		logger = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	if log != nil {
		logger = slog.New(slog.NewJSONHandler(log, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	a, err := app.New(t.Context(), cfg, app.Options{Logger: logger, HashParams: cheapHashes, Now: clk.Now, WrapStore: wrap})
	if err != nil {
		t.Fatal(err)
	}
	srv.Config.Handler = a.Handler()
	srv.StartTLS()
	t.Cleanup(func() { srv.Close(); a.Close() })
	e := &env{t: t, srv: srv, app: a, url: cfg.PublicURL, clock: clk, data: cfg.DataDir, cfg: cfg}
	e.client = e.newBrowser()
	return e
}

// newBrowser returns a client with its own cookies (another browser). It must be a new
// http.Client: httptest.Server.Client returns one shared client, whose jar each call
// would replace for every "browser" made before.
func (e *env) newBrowser() *http.Client {
	jar, _ := cookiejar.New(nil)
	return &http.Client{Transport: e.srv.Client().Transport, Jar: jar,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

// api returns a client without cookies that does not follow redirects: an app's back end,
// or a browser's fetch (which sends no cookies to the token endpoint).
func (e *env) api() *http.Client {
	return &http.Client{Transport: e.srv.Client().Transport,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

// do sends a request and returns the response with its body read.
func (e *env) do(c *http.Client, req *http.Request) (*http.Response, string) {
	e.t.Helper()
	resp, err := c.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b)
}

func (e *env) get(c *http.Client, rawURL string) (*http.Response, string) {
	e.t.Helper()
	req, _ := http.NewRequest(http.MethodGet, rawURL, nil)
	return e.do(c, req)
}

func (e *env) postForm(c *http.Client, rawURL string, form url.Values, header http.Header) (*http.Response, string) {
	e.t.Helper()
	req, _ := http.NewRequest(http.MethodPost, rawURL, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	for k, v := range header {
		req.Header[k] = v
	}
	return e.do(c, req)
}

var hiddenInput = regexp.MustCompile(`<input type="hidden" name="([^"]+)" value="([^"]*)">`)

// hiddenFields reads a page's hidden form fields.
func hiddenFields(page string) url.Values {
	v := url.Values{}
	for _, m := range hiddenInput.FindAllStringSubmatch(page, -1) {
		v.Set(html.UnescapeString(m[1]), html.UnescapeString(m[2]))
	}
	return v
}

var errorCode = regexp.MustCompile(`data-error-code="([^"]+)"`)

// pageErrorCode returns the data-error-code of a page, or "".
func pageErrorCode(page string) string {
	if m := errorCode.FindStringSubmatch(page); m != nil {
		return m[1]
	}
	return ""
}

// pkce returns a verifier and its S256 challenge.
func pkce() (verifier, challenge string) {
	verifier = strings.Repeat("v", 43) + time.Now().Format("150405.000000000")
	sum := sha256.Sum256([]byte(verifier))
	return verifier, base64.RawURLEncoding.EncodeToString(sum[:])
}

// authorizeURL builds an authorization request URL for the tenant segment.
func (e *env) authorizeURL(tenant string, p url.Values) string {
	return e.url + "/" + tenant + "/oauth2/v2.0/authorize?" + p.Encode()
}

// spaParams are MSAL-like authorization parameters for the spa app.
func spaParams(challenge string, scope string) url.Values {
	return url.Values{"client_id": {spaClient}, "redirect_uri": {spaRedirect}, "response_type": {"code"},
		"scope": {scope}, "response_mode": {"fragment"}, "state": {"st+/=ate"}, "nonce": {"n-1"},
		"code_challenge": {challenge}, "code_challenge_method": {"S256"}, "client_info": {"1"}, "clidata": {"1"},
		"x-client-SKU": {"msal.js.browser"}}
}

// signIn posts the sign-in form shown for authorizeURL, then accepts consent if asked, and
// returns the final redirect's response parameters (from the fragment or query).
func (e *env) signIn(c *http.Client, authorizeURL, username string) url.Values {
	e.t.Helper()
	resp, body := e.get(c, authorizeURL)
	if resp.StatusCode == http.StatusFound {
		return responseParams(e.t, resp)
	}
	f := hiddenFields(body)
	if f.Get("ir") == "" {
		e.t.Fatalf("no sign-in form (status %d): %s", resp.StatusCode, body)
	}
	f.Set("username", username)
	f.Set("password", pw)
	resp, body = e.postForm(c, e.url+"/-/login", f, nil)
	return e.finish(c, resp, body)
}

// finish accepts consent pages until the flow redirects to the app.
func (e *env) finish(c *http.Client, resp *http.Response, body string) url.Values {
	e.t.Helper()
	for range 3 {
		if resp.StatusCode == http.StatusFound {
			return responseParams(e.t, resp)
		}
		if !strings.Contains(body, `name="consent"`) {
			e.t.Fatalf("expected a redirect or consent page, got %d: %s", resp.StatusCode, body)
		}
		f := hiddenFields(body)
		f.Set("consent", "accept")
		for _, m := range regexp.MustCompile(`name="scope" value="([^"]+)"`).FindAllStringSubmatch(body, -1) {
			f.Add("scope", html.UnescapeString(m[1]))
		}
		resp, body = e.postForm(c, e.url+"/-/consent", f, nil)
	}
	e.t.Fatal("consent loop")
	return nil
}

// responseParams reads the authorization response from a redirect's fragment or query.
func responseParams(t *testing.T, resp *http.Response) url.Values {
	t.Helper()
	loc, err := url.Parse(resp.Header.Get("Location"))
	if err != nil {
		t.Fatal(err)
	}
	if loc.Fragment != "" {
		v, err := url.ParseQuery(loc.EscapedFragment())
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	return loc.Query()
}

// spaOriginHeader is the Origin a browser sends from the spa app.
func spaOriginHeader() http.Header { return http.Header{"Origin": {spaOrigin}} }

// claims decodes a JWT's payload without verifying it.
func claims(t *testing.T, jwt string) map[string]any {
	t.Helper()
	parts := strings.Split(jwt, ".")
	if len(parts) != 3 {
		t.Fatalf("not a JWT: %q", jwt)
	}
	b, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	json.Unmarshal(b, &m)
	return m
}

// The helpers below serve the endpoint table tests.

// tokenURL is the token endpoint of a tenant segment.
func (e *env) tokenURL(tenant string) string { return e.url + "/" + tenant + "/oauth2/v2.0/token" }

// token posts a form to the token endpoint and returns the response and its JSON body.
func (e *env) token(tenant string, form url.Values, header http.Header) (*http.Response, map[string]any) {
	e.t.Helper()
	resp, body := e.postForm(e.api(), e.tokenURL(tenant), form, header)
	var out map[string]any
	if err := json.Unmarshal([]byte(body), &out); err != nil {
		e.t.Fatalf("token endpoint answered non-JSON (%d): %s", resp.StatusCode, body)
	}
	return resp, out
}

// isLoginPage reports whether a page is the sign-in form.
func isLoginPage(body string) bool {
	return strings.Contains(body, `name="password"`) && strings.Contains(body, `action="/-/login"`)
}

// isConsentPage reports whether a page is the consent page.
func isConsentPage(body string) bool { return strings.Contains(body, `name="consent" value="accept"`) }

// submitLogin posts the sign-in form whose hidden fields are given.
func (e *env) submitLogin(c *http.Client, fields url.Values, username, password string, remember bool) (*http.Response, string) {
	e.t.Helper()
	f := url.Values{}
	for k, v := range fields {
		f[k] = v
	}
	f.Set("username", username)
	f.Set("password", password)
	if remember {
		f.Set("remember", "1")
	}
	return e.postForm(c, e.url+"/-/login", f, nil)
}

// authorizeAs runs an authorization request in browser c to its redirect: it signs in as
// username when the sign-in form shows ("stay signed in" ticked when remember) and accepts
// every consent page with all its scopes.
func (e *env) authorizeAs(c *http.Client, authURL, username string, remember bool) url.Values {
	e.t.Helper()
	resp, body := e.get(c, authURL)
	if isLoginPage(body) {
		resp, body = e.submitLogin(c, hiddenFields(body), username, pw, remember)
	}
	return e.finish(c, resp, body)
}

// spaCode gets an authorization code for the spa app in browser c (signing in as username
// when asked) for scope through the tenant segment; edit adjusts the MSAL-like parameters.
func (e *env) spaCode(c *http.Client, tenant, username, scope string, edit func(url.Values)) (code, verifier string) {
	e.t.Helper()
	verifier, challenge := pkce()
	p := spaParams(challenge, scope)
	if edit != nil {
		edit(p)
	}
	resp := e.authorizeAs(c, e.authorizeURL(tenant, p), username, false)
	if resp.Get("code") == "" {
		e.t.Fatalf("no code: %v", resp)
	}
	return resp.Get("code"), verifier
}

// redeemForm is the body MSAL posts to redeem a spa code.
func redeemForm(clientID, code, verifier, scope string) url.Values {
	return url.Values{"client_id": {clientID}, "grant_type": {"authorization_code"}, "code": {code},
		"redirect_uri": {spaRedirect}, "code_verifier": {verifier}, "scope": {scope}, "client_info": {"1"},
		"x-client-SKU": {"msal.js.browser"}, "x-client-VER": {"5.29.0"}, "X-AnchorMailbox": {"UPN:" + alice}}
}

// spaTokens signs username in with the spa app in browser c and redeems the code as MSAL
// does; it fails the test unless tokens come back.
func (e *env) spaTokens(c *http.Client, tenant, username, scope string) map[string]any {
	e.t.Helper()
	code, verifier := e.spaCode(c, tenant, username, scope, nil)
	resp, tok := e.token(tenant, redeemForm(spaClient, code, verifier, scope), spaOriginHeader())
	if resp.StatusCode != http.StatusOK {
		e.t.Fatalf("redeem: %d %v", resp.StatusCode, tok)
	}
	return tok
}

// refreshForm is the body MSAL posts to refresh.
func refreshForm(clientID, rt, scope string) url.Values {
	f := url.Values{"client_id": {clientID}, "grant_type": {"refresh_token"}, "refresh_token": {rt}, "client_info": {"1"}}
	if scope != "" {
		f.Set("scope", scope)
	}
	return f
}

// str returns a JSON string field ("" when absent or not a string).
func str(m map[string]any, k string) string {
	s, _ := m[k].(string)
	return s
}

// wantErrorPage checks that an answer is an error page — the status, HTML, data-error-code —
// and that it has no Location header: nothing goes to a redirect URI that is not trusted.
func wantErrorPage(t testing.TB, resp *http.Response, body string, status int, aadsts string) {
	t.Helper()
	if resp.StatusCode != status {
		t.Errorf("status %d, want %d", resp.StatusCode, status)
	}
	if loc := resp.Header.Get("Location"); loc != "" {
		t.Errorf("Location %q, want none (an error page)", loc)
	}
	if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/html") {
		t.Errorf("Content-Type %q, want text/html", ct)
	}
	if got := pageErrorCode(body); got != aadsts {
		t.Errorf("data-error-code %q, want %q", got, aadsts)
	}
}

// wantErr is an expected protocol error: the OAuth code and the AADSTS number.
type wantErr struct {
	code   string
	aadsts int
}

// checkErrorParams checks the error parameters of an authorization response or the fields
// of a JSON error body (given as url.Values).
func checkErrorParams(t testing.TB, v url.Values, want wantErr) {
	t.Helper()
	if got := v.Get("error"); got != want.code {
		t.Errorf("error %q, want %q", got, want.code)
	}
	codes := strings.Trim(v.Get("error_codes"), "[]")
	if codes != strconv.Itoa(want.aadsts) {
		t.Errorf("error_codes %q, want [%d]", v.Get("error_codes"), want.aadsts)
	}
	if prefix := fmt.Sprintf("AADSTS%d:", want.aadsts); !strings.HasPrefix(v.Get("error_description"), prefix) {
		t.Errorf("error_description %q, want it to start with %q", v.Get("error_description"), prefix)
	}
	for _, k := range []string{"timestamp", "trace_id", "correlation_id"} {
		if v.Get(k) == "" {
			t.Errorf("%s missing", k)
		}
	}
}

// wantRedirectError checks an error sent to the app: a 302 to redirectURI with the
// parameters in the query or the fragment (mode), or a form_post page posting them there;
// state comes back byte for byte when given (state == nil: none was sent).
func wantRedirectError(t testing.TB, resp *http.Response, body, redirectURI, mode string, want wantErr, state *string) url.Values {
	t.Helper()
	v := authResponse(t, resp, body, redirectURI, mode)
	if v == nil {
		return nil
	}
	checkErrorParams(t, v, want)
	switch {
	case state == nil && v.Has("state"):
		t.Errorf("state %q, want none", v.Get("state"))
	case state != nil && v.Get("state") != *state:
		t.Errorf("state %q, want %q", v.Get("state"), *state)
	}
	return v
}

// authResponse reads an authorization response delivered in mode to redirectURI, failing
// the test when it went elsewhere or otherwise.
func authResponse(t testing.TB, resp *http.Response, body, redirectURI, mode string) url.Values {
	t.Helper()
	if mode == "form_post" {
		if resp.StatusCode != http.StatusOK || resp.Header.Get("Location") != "" {
			t.Errorf("form_post answered %d, Location %q; want 200 and a form", resp.StatusCode, resp.Header.Get("Location"))
			return nil
		}
		m := formAction.FindStringSubmatch(body)
		if m == nil || html.UnescapeString(m[1]) != redirectURI {
			t.Errorf("form_post form %v, want action %q: %s", m, redirectURI, body)
			return nil
		}
		return hiddenFields(body)
	}
	if resp.StatusCode != http.StatusFound {
		t.Errorf("status %d, want 302 to the redirect URI (body %.300s)", resp.StatusCode, body)
		return nil
	}
	loc := resp.Header.Get("Location")
	sep := "?"
	if mode == "fragment" {
		sep = "#"
	}
	raw, ok := strings.CutPrefix(loc, redirectURI+sep)
	if !ok {
		t.Errorf("Location %q, want %q + parameters in the %s", loc, redirectURI+sep, mode)
		return nil
	}
	if mode != "fragment" && strings.Contains(raw, "#") {
		t.Errorf("Location %q has a fragment in query mode", loc)
	}
	v, err := url.ParseQuery(raw)
	if err != nil {
		t.Errorf("Location %q: %v", loc, err)
		return nil
	}
	return v
}

var formAction = regexp.MustCompile(`<form method="post" action="([^"]*)">`)

// jsonErrorValues turns a JSON error body into url.Values for checkErrorParams.
func jsonErrorValues(m map[string]any) url.Values {
	v := url.Values{}
	for k, x := range m {
		switch x := x.(type) {
		case string:
			v.Set(k, x)
		case []any:
			var parts []string
			for _, n := range x {
				if f, ok := n.(float64); ok {
					parts = append(parts, strconv.FormatFloat(f, 'f', -1, 64))
				} else {
					parts = append(parts, fmt.Sprintf("%q", n)) // not a number: never matches
				}
			}
			v.Set(k, strings.Join(parts, ","))
		}
	}
	return v
}

// wantTokenError checks a token endpoint error: status, the JSON error shape with CORS and
// no-store, the OAuth code and the AADSTS number.
func wantTokenError(t testing.TB, resp *http.Response, body map[string]any, status int, want wantErr) {
	t.Helper()
	if resp.StatusCode != status {
		t.Errorf("status %d, want %d (%v)", resp.StatusCode, status, body)
	}
	wantJSONHeaders(t, resp)
	checkErrorParams(t, jsonErrorValues(body), want)
	// MSAL falls back to its hidden iframe on invalid_grant only when nothing in the answer
	// says "interaction"; missing consent is the one exception.
	if want.code == "invalid_grant" && want.aadsts != 65001 {
		desc := fmt.Sprint(body["error_description"])
		for _, w := range interactionWords {
			if strings.Contains(desc, w) {
				t.Errorf("invalid_grant description contains %q, so MSAL skips its iframe fallback: %q", w, desc)
			}
		}
		if s, _ := body["suberror"].(string); s != "" {
			t.Errorf("suberror %q on an invalid_grant MSAL should retry silently", s)
		}
	}
}

// interactionWords make MSAL classify an error as InteractionRequiredAuthError, which skips
// its hidden-iframe fallback.
var interactionWords = []string{"interaction_required", "consent_required", "login_required", "bad_token", "ui_not_allowed", "interrupted_user"}

// wantJSONHeaders checks what every token endpoint answer carries.
func wantJSONHeaders(t testing.TB, resp *http.Response) {
	t.Helper()
	if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		t.Errorf("Content-Type %q, want application/json", ct)
	}
	if got := resp.Header.Get("Access-Control-Allow-Origin"); got == "" {
		t.Error("no Access-Control-Allow-Origin header")
	}
	if got := resp.Header.Get("Cache-Control"); got != "no-store" {
		t.Errorf("Cache-Control %q, want no-store", got)
	}
}

var (
	scopeCheckbox = regexp.MustCompile(`<input type="checkbox" name="scope" value="([^"]*)"`)
	dataUsername  = regexp.MustCompile(`<button[^>]*data-username="([^"]*)"`)
)

// consentCheckboxes returns the scope checkbox values of a consent page.
func consentCheckboxes(page string) []string {
	var out []string
	for _, m := range scopeCheckbox.FindAllStringSubmatch(page, -1) {
		out = append(out, html.UnescapeString(m[1]))
	}
	return out
}

// accountButtons returns the data-username values of an account chooser.
func accountButtons(page string) []string {
	var out []string
	for _, m := range dataUsername.FindAllStringSubmatch(page, -1) {
		out = append(out, html.UnescapeString(m[1]))
	}
	return out
}

// accountValue returns the value of the chooser button for username.
func accountValue(t testing.TB, page, username string) string {
	t.Helper()
	re := regexp.MustCompile(`name="account" value="([^"]*)" data-username="` + regexp.QuoteMeta(html.EscapeString(username)) + `"`)
	m := re.FindStringSubmatch(page)
	if m == nil {
		t.Fatalf("no chooser button for %s: %s", username, page)
	}
	return html.UnescapeString(m[1])
}

// loginUsername returns the pre-filled username of a sign-in page.
func loginUsername(page string) string {
	m := regexp.MustCompile(`name="username"[^>]*value="([^"]*)"`).FindStringSubmatch(page)
	if m == nil {
		return ""
	}
	return html.UnescapeString(m[1])
}

// sameSet reports whether two space-separated lists hold the same items.
func sameSet(a, b string) bool {
	x, y := strings.Fields(a), strings.Fields(b)
	slices.Sort(x)
	slices.Sort(y)
	return slices.Equal(x, y)
}

// ptr returns a pointer to s.
func ptr(s string) *string { return &s }

// decodeJSON decodes a JSON object body, failing the test when it is not one.
func decodeJSON(t testing.TB, body string) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal([]byte(body), &m); err != nil {
		t.Fatalf("not a JSON object (%v): %.300s", err, body)
	}
	return m
}
