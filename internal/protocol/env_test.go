package protocol_test

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"html"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"os"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sigil-idp/sigil/internal/app"
	"github.com/sigil-idp/sigil/internal/config"
	"github.com/sigil-idp/sigil/internal/password"
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
}

func testConfig() config.Config {
	c := config.Default()
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
	a, err := app.New(t.Context(), cfg, app.Options{Logger: logger, HashParams: cheapHashes, Now: clk.Now})
	if err != nil {
		t.Fatal(err)
	}
	srv.Config.Handler = a.Handler()
	srv.StartTLS()
	t.Cleanup(func() { srv.Close(); a.Close() })
	e := &env{t: t, srv: srv, app: a, url: cfg.PublicURL, clock: clk}
	e.client = e.newBrowser()
	return e
}

// newBrowser returns a client with its own cookies (another browser).
func (e *env) newBrowser() *http.Client {
	jar, _ := cookiejar.New(nil)
	c := e.srv.Client()
	c.Jar = jar
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	return c
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

// tokenJSON posts to the token endpoint and decodes the JSON answer.
func (e *env) tokenJSON(tenant string, form url.Values, header http.Header) (int, map[string]any) {
	e.t.Helper()
	resp, body := e.postForm(e.srv.Client(), e.url+"/"+tenant+"/oauth2/v2.0/token", form, header)
	var out map[string]any
	if err := json.Unmarshal([]byte(body), &out); err != nil {
		e.t.Fatalf("token endpoint answered non-JSON (%d): %s", resp.StatusCode, body)
	}
	return resp.StatusCode, out
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
