package protocol

import (
	"context"
	"html"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/sigil-idp/sigil/internal/config"
	"github.com/sigil-idp/sigil/internal/directory"
	"github.com/sigil-idp/sigil/internal/password"
	"github.com/sigil-idp/sigil/internal/session"
	"github.com/sigil-idp/sigil/internal/store/sqlstore"
	"github.com/sigil-idp/sigil/internal/tokens"
	"github.com/sigil-idp/sigil/internal/web"
)

// Fuzz seeds: what MSAL.js 5.x, MSAL.js 1.x, oidc-client-ts and golang.org/x/oauth2 send,
// and a few broken variants.
const (
	fuzzSPA      = "3f1c2d4e-5a6b-4c7d-8e9f-0a1b2c3d4e5f"
	fuzzWeb      = "7d2e9a10-1111-4222-8333-944455556666"
	fuzzRedirect = "https://app.example.test:3000/redirect.html"
	fuzzWebURI   = "https://web.example.test/callback"
	fuzzTenant   = "6a0b2c9e-7e4d-4c1e-9a53-0d6f2b8e4f10"
)

var authorizeSeeds = []string{
	// MSAL.js 5.x, redirect/popup.
	"client_id=" + fuzzSPA + "&scope=api%3A%2F%2Ftodo%2FTodo.Read%20openid%20profile%20offline_access&redirect_uri=https%3A%2F%2Fapp.example.test%3A3000%2Fredirect.html&client-request-id=0194d4c2-5f1e-7c3a-9b1e-3f2a1b0c9d8e&response_mode=fragment&client_info=1&clidata=1&nonce=0194d4c2-5f1e-7c3a-9b1e-3f2a1b0c9d8f&state=eyJpZCI6IjAxOTRkNGMyIiwibWV0YSI6eyJpbnRlcmFjdGlvblR5cGUiOiJyZWRpcmVjdCJ9fQ%3D%3D&claims=%7B%22id_token%22%3A%7B%22signin_state%22%3A%7B%22essential%22%3Afalse%7D%7D%7D&pocd=1&x-client-SKU=msal.js.browser&x-client-VER=5.29.0&response_type=code&code_challenge=E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM&code_challenge_method=S256",
	// MSAL.js 5.x, hidden iframe.
	"client_id=" + fuzzSPA + "&scope=openid%20profile%20offline_access&redirect_uri=https%3A%2F%2Fapp.example.test%3A3000%2Fredirect.html&response_mode=fragment&prompt=none&sid=abc&login_hint=s1.YWJjQGRlZg&state=x%2By%2F%3D&nonce=n&response_type=code&code_challenge=E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM&code_challenge_method=S256",
	// MSAL.js 1.x implicit (allowed when the platform seed has bits 8 and 16), oidc-client-ts, x/oauth2.
	"response_type=id_token%20token&scope=openid%20profile&client_id=" + fuzzSPA + "&redirect_uri=https%3A%2F%2Fapp.example.test%3A3000%2Fredirect.html&state=abc%7Capp&nonce=n&client_info=1&x-client-SKU=MSAL.JS&x-client-Ver=1.4.18&prompt=none&response_mode=fragment",
	"client_id=" + fuzzSPA + "&redirect_uri=https%3A%2F%2Fapp.example.test%3A3000%2Fredirect.html&response_type=code&scope=openid%20profile&state=1&code_challenge=E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM&code_challenge_method=S256&response_mode=query",
	"access_type=offline&client_id=" + fuzzWeb + "&redirect_uri=https%3A%2F%2Fweb.example.test%2Fcallback&response_type=code&scope=openid+profile+email+offline_access&state=state-123",
	"client_id=" + fuzzWeb + "&response_type=code&scope=openid&response_mode=form_post&max_age=0&prompt=select_account",
	// Broken.
	"client_id=" + fuzzSPA + "&client_id=" + fuzzSPA,
	"client_id=" + fuzzSPA + "&redirect_uri=https%3A%2F%2Fevil.example%2F&response_type=code&scope=openid",
	"client_id=" + fuzzSPA + "&redirect_uri=%2Frelative&response_type=code",
	"client_id=" + fuzzSPA + "&redirect_uri=https%3A%2F%2Fapp.example.test%3A3000%2Fredirect.html%23x&response_type=code",
	"client_id=" + fuzzSPA + "&redirect_uri=https%3A%2F%2Fapp.example.test%3A3000%2Fredirect.html&response_type=code&scope=api%3A%2F%2Fnope%2Fx&code_challenge=abc&code_challenge_method=plain&claims=%7B&max_age=-1&prompt=bogus&response_mode=web_message",
	"%zz=1&a=%",
	"",
}

// FuzzAuthorizeRequest: readParams and validateAuthRequest never panic, and every error they
// return is a *Error with a client error status; a request they accept is complete.
func FuzzAuthorizeRequest(f *testing.F) {
	for i, q := range authorizeSeeds {
		f.Add("GET", q, "", "", uint8(i))
		f.Add("POST", "client-request-id=0194d4c2-5f1e-7c3a-9b1e-3f2a1b0c9d8e", q, "application/x-www-form-urlencoded; charset=utf-8", uint8(i))
	}
	f.Add("GET", authorizeSeeds[2], "", "", uint8(24))
	f.Add("GET", strings.Replace(authorizeSeeds[2], "id_token%20token", "token", 1), "", "", uint8(16))
	f.Add("POST", "state=1", "state=2", "application/x-www-form-urlencoded", uint8(0))
	f.Add("POST", "", "a=b", "text/plain", uint8(1))
	platforms := []directory.Platform{directory.PlatformSPA, directory.PlatformWeb, directory.PlatformPublicClient}
	f.Fuzz(func(t *testing.T, method, query, body, ctype string, platform uint8) {
		if method != "GET" && method != "POST" {
			method = "POST"
		}
		r := httptest.NewRequest(method, "/contoso.test/oauth2/v2.0/authorize", strings.NewReader(body))
		r.URL.RawQuery = query
		if ctype != "" {
			r.Header.Set("Content-Type", ctype)
		}
		p, err := readParams(httptest.NewRecorder(), r)
		if err != nil {
			wantProtocolError(t, "readParams", err)
			return
		}
		for name, v := range p {
			if len(v) > maxValue {
				t.Fatalf("readParams kept %s of %d bytes", name, len(v))
			}
		}
		app := directory.App{ImplicitIDTokens: platform&8 != 0, ImplicitAccessTokens: platform&16 != 0}
		req := authRequest{Platform: platforms[int(platform)%len(platforms)], MaxAge: -1}
		req.Reply.Mode = modeQuery
		if err := validateAuthRequest(p, app, &req); err != nil {
			wantProtocolError(t, "validateAuthRequest", err)
			return
		}
		rt := req.Reply.Type
		switch {
		case req.Reply.Mode != modeQuery && req.Reply.Mode != modeFragment && req.Reply.Mode != modeFormPost:
			t.Fatalf("accepted response_mode %q", req.Reply.Mode)
		case rt.String() == "" || rt.Code && rt.tokens():
			t.Fatalf("accepted response_type %q as %+v", p.get("response_type"), rt)
		case rt.tokens() && req.Reply.Mode == modeQuery:
			t.Fatalf("accepted tokens in the query: %q", p.get("response_type"))
		case rt.ear() && (req.Reply.EAR == nil || req.Platform != directory.PlatformSPA || req.Nonce == ""):
			t.Fatalf("accepted an encrypted authorize response without its key, spa or nonce: %+v", req)
		case !rt.ear() && (rt.IDToken && (!app.ImplicitIDTokens || req.Nonce == "") || rt.Token && !app.ImplicitAccessTokens):
			t.Fatalf("accepted %q for %+v with nonce %q", p.get("response_type"), app, req.Nonce)
		case req.Scope == "":
			t.Fatal("accepted a request without scope")
		case rt.Code && req.Platform != directory.PlatformWeb && req.CodeChallenge == "":
			t.Fatalf("accepted a %s request without PKCE", req.Platform)
		case req.CodeChallenge != "" && (len(req.CodeChallenge) != 43 || p.get("code_challenge_method") != "S256"):
			t.Fatalf("accepted code_challenge %q with method %q", req.CodeChallenge, p.get("code_challenge_method"))
		case req.MaxAge < -1:
			t.Fatalf("max_age %d", req.MaxAge)
		}
		if _, ok := prompts[p.get("prompt")]; !ok {
			t.Fatalf("accepted prompt %q", p.get("prompt"))
		}
	})
}

// wantProtocolError fails unless err is a *Error (not wrapped) with a code, an AADSTS
// number and a 4xx status.
func wantProtocolError(t *testing.T, where string, err error) {
	t.Helper()
	e, ok := err.(*Error)
	if !ok {
		t.Fatalf("%s returned %T (%v), want *Error", where, err, err)
	}
	if e.Code == "" || e.AADSTS == 0 || e.Status < 400 || e.Status > 499 {
		t.Fatalf("%s returned %+v, want a code, an AADSTS number and a 4xx status", where, e)
	}
}

// FuzzTokenRequest: readParams and clientCredentials never panic on any body and
// Authorization header, and fail only with *Error.
func FuzzTokenRequest(f *testing.F) {
	form := "application/x-www-form-urlencoded;charset=utf-8"
	seeds := []struct{ query, body, authz string }{
		{"client-request-id=0194d4c2-5f1e-7c3a-9b1e-3f2a1b0c9d8e", "client_id=" + fuzzSPA + "&redirect_uri=https%3A%2F%2Fapp.example.test%3A3000%2Fredirect.html&scope=openid%20profile%20offline_access&code=abc&x-client-SKU=msal.js.browser&x-client-VER=5.29.0&x-ms-lib-capability=retry-after,%20h429&x-client-current-telemetry=&x-client-last-telemetry=&code_verifier=dBjftJeZ4CVP-mJ92K9KM7aF9EjOBGa4MNZ5GrJqDF0&grant_type=authorization_code&client_info=1&X-AnchorMailbox=Oid%3Aabc%40def", ""},
		{"", "client_id=" + fuzzSPA + "&scope=openid&grant_type=refresh_token&client_info=1&refresh_token=abc&claims=%7B%7D", ""},
		{"", "grant_type=authorization_code&code=abc&redirect_uri=https%3A%2F%2Fweb.example.test%2Fcallback&code_verifier=x", "Basic N2QyZTlhMTAtMTExMS00MjIyLTgzMzMtOTQ0NDU1NTU2NjY2OnMzY3JldC1zM2NyZXQtczNjcmV0"},
		{"", "grant_type=refresh_token&refresh_token=abc&client_id=" + fuzzWeb + "&client_secret=s3cret", ""},
		{"", "client_id=x&client_secret=y", "Basic eDp5"},
		{"", "client_id=a", "Basic JXp6OiV6eg=="}, // %zz:%zz
		{"", "", "Basic !!!"},
		{"", "", "Bearer abc"},
		{"a=1", "a=2", ""},
	}
	for _, s := range seeds {
		f.Add(s.query, s.body, s.authz, form)
	}
	f.Add("", "client_id=a", "", "multipart/form-data; boundary=x")
	f.Fuzz(func(t *testing.T, query, body, authz, ctype string) {
		r := httptest.NewRequest(http.MethodPost, "/contoso.test/oauth2/v2.0/token", strings.NewReader(body))
		r.URL.RawQuery = query
		r.Header.Set("Content-Type", ctype)
		if authz != "" {
			r.Header.Set("Authorization", authz)
		}
		p, err := readParams(httptest.NewRecorder(), r)
		if err != nil {
			wantProtocolError(t, "readParams", err)
			return
		}
		c, err := readClientCredential(r, p)
		if err != nil {
			wantProtocolError(t, "readClientCredential", err)
			return
		}
		id, secret := c.clientID, c.secret
		_, _, basic := r.BasicAuth()
		switch {
		case basic && (p.has("client_secret") || p.has("client_assertion")):
			t.Fatal("accepted a credential in the body and in the header")
		case c.assertion != "" && (secret != "" || p.get("client_assertion_type") != clientAssertionType):
			t.Fatal("accepted an assertion beside a secret or of another type")
		case !basic && (id != p.get("client_id") || secret != p.get("client_secret") || c.assertion != p.get("client_assertion")):
			t.Fatalf("credentials %q/%q, want the body's", id, secret)
		case basic && p.has("client_id") && !strings.EqualFold(id, p.get("client_id")):
			t.Fatalf("client %q from the header differs from client_id %q", id, p.get("client_id"))
		}
	})
}

// fuzzServer is a small in-process server: one tenant with a spa app and a web app.
func fuzzServer(tb testing.TB) (http.Handler, []string) {
	tb.Helper()
	ctx := context.Background()
	cfg := config.Default()
	cfg.PublicURL = "https://login.example.test"
	cfg.DataDir = tb.TempDir()
	cfg.Tenants = []config.Tenant{{ID: fuzzTenant, Domains: []string{"contoso.test"}, DisplayName: "Contoso",
		Users: []config.User{{Username: "alice@contoso.test", Password: "Passw0rd!alice", DisplayName: "Alice"}},
		APIs:  []config.API{{DisplayName: "Todo", AppIDURI: "api://todo", Scopes: []config.Scope{{Value: "Todo.Read"}, {Value: "Todo.Write", AdminConsentRequired: true}}}},
		Apps: []config.App{
			{DisplayName: "SPA", ClientID: fuzzSPA, SPA: config.Platform{RedirectURIs: []string{fuzzRedirect, "https://app.example.test:3000/"}}},
			{DisplayName: "Web", ClientID: fuzzWeb, Web: config.Platform{RedirectURIs: []string{fuzzWebURI}}, ClientSecrets: []string{"s3cret-s3cret-s3cret"}},
		}}}
	if err := cfg.Validate(); err != nil {
		tb.Fatal(err)
	}
	st, err := sqlstore.OpenSQLite(ctx, filepath.Join(cfg.DataDir, "sigil.db"))
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { st.Close() })
	cheap := password.Params{Memory: 64, Time: 1, Threads: 1}
	if err := config.Apply(ctx, cfg, st, cheap); err != nil {
		tb.Fatal(err)
	}
	now := func() time.Time { return time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC) }
	keys, err := tokens.LoadKeys(ctx, st, nil, now)
	if err != nil {
		tb.Fatal(err)
	}
	pages, err := web.New()
	if err != nil {
		tb.Fatal(err)
	}
	s, err := NewServer(Options{PublicURL: cfg.PublicURL, Store: st, Keys: keys, PairwiseKey: []byte("pairwise"), InteractionKey: make([]byte, 32), RefreshKey: make([]byte, 32),
		Sessions: session.NewManager(st, time.Hour, 24*time.Hour), Pages: pages,
		Lifetimes: directory.Lifetimes{AccessToken: time.Hour, IDToken: time.Hour, AuthorizationCode: 10 * time.Minute,
			RefreshReuse: 30 * time.Second, RefreshIdle: 24 * time.Hour, RefreshSPAAbsolute: 24 * time.Hour, RefreshAbsolute: 90 * 24 * time.Hour},
		Throttle: Throttle{Account: 10, Address: 100, Window: 15 * time.Minute}, Passwords: cheap,
		Logger: slog.New(slog.DiscardHandler), Now: now})
	if err != nil {
		tb.Fatal(err)
	}
	return s.Handler(), []string{fuzzRedirect, "https://app.example.test:3000/", fuzzWebURI}
}

var fuzzFormAction = regexp.MustCompile(`<form method="post" action="([^"]*)">`)

// FuzzAuthorizeHandler drives the real authorize handler with fuzzed query strings (GET) or
// form bodies (POST): it never answers 500, and it never sends the browser — by Location or
// by a form_post form — anywhere but a registered redirect URI.
func FuzzAuthorizeHandler(f *testing.F) {
	h, registered := fuzzServer(f)
	for i, q := range authorizeSeeds {
		f.Add(uint8(i), q, false)
		f.Add(uint8(i), q, true)
	}
	segments := []string{"contoso.test", fuzzTenant, "common", "organizations", "consumers", "nosuch.test", "CONTOSO.TEST"}
	f.Fuzz(func(t *testing.T, segment uint8, query string, post bool) {
		target := "/" + segments[int(segment)%len(segments)] + "/oauth2/v2.0/authorize"
		var r *http.Request
		if post {
			r = httptest.NewRequest(http.MethodPost, target, strings.NewReader(query))
			r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		} else {
			r = httptest.NewRequest(http.MethodGet, target, nil)
			r.URL.RawQuery = query
		}
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		if w.Code >= 500 {
			t.Fatalf("status %d for %q: %s", w.Code, query, w.Body.String())
		}
		if loc := w.Header().Get("Location"); loc != "" {
			if !sentToRegistered(loc, registered) {
				t.Fatalf("redirect to %q for %q", loc, query)
			}
			if w.Code != http.StatusFound {
				t.Fatalf("Location with status %d", w.Code)
			}
		}
		if m := fuzzFormAction.FindStringSubmatch(w.Body.String()); m != nil {
			action := html.UnescapeString(m[1])
			if action != "/-/login" && action != "/-/consent" && action != "/-/pick" && !sentToRegistered(action, registered) {
				t.Fatalf("form posts to %q for %q", action, query)
			}
		}
	})
}

// sentToRegistered reports whether target is a registered redirect URI, possibly followed
// by response parameters in its query or fragment.
func sentToRegistered(target string, registered []string) bool {
	for _, uri := range registered {
		rest, ok := strings.CutPrefix(target, uri)
		if ok && (rest == "" || rest[0] == '?' || rest[0] == '#' || rest[0] == '&' && strings.Contains(uri, "?")) {
			if _, err := url.Parse(target); err == nil {
				return true
			}
		}
	}
	return false
}

// FuzzDeliveryLocation: the redirect target of every query and fragment delivery reads back,
// with the URL parsing browsers and MSAL use, to exactly the values written — state above all
// — and never breaks out of the registered URI (no raw '#', space or control character).
func FuzzDeliveryLocation(f *testing.F) {
	f.Add("https://app.example.test:3000/redirect.html", true, "eyJpZCI6IjAxIn0+/=|app state", "id_token", "a.b.c")
	f.Add("https://app.example.test/cb?x=1", false, "#&=+%20\x00é", "code", "")
	f.Add("http://127.0.0.1:53000/", true, "", "error_description", "AADSTS50058: text\r\nTrace ID: 1")
	f.Fuzz(func(t *testing.T, uri string, fragment bool, state, name, value string) {
		u, err := url.Parse(uri)
		if err != nil || !u.IsAbs() || u.Host == "" || u.Fragment != "" || strings.ContainsAny(uri, "# \x7f") || name == "" {
			return
		}
		for _, r := range uri {
			if r < 0x20 {
				return
			}
		}
		d := delivery{URI: uri, Mode: modeQuery, State: state, StateGiven: true}
		if fragment {
			d.Mode = modeFragment
		}
		v := url.Values{name: {value}}
		if name != "state" {
			v.Set("state", state)
		}
		loc := d.location(v)
		base, raw, cut := loc, "", false
		if fragment {
			base, raw, cut = strings.Cut(loc, "#")
		} else if i := strings.LastIndex(loc, "?"); i >= 0 && strings.HasPrefix(loc, uri) {
			base, raw, cut = uri, strings.TrimPrefix(strings.TrimPrefix(loc, uri), "?"), true
			raw = strings.TrimPrefix(raw, "&")
		}
		if !cut || base != uri {
			t.Fatalf("location %q does not start with %q and a separator", loc, uri)
		}
		if strings.ContainsAny(raw, "# ") || strings.ContainsFunc(raw, func(r rune) bool { return r < 0x20 || r == 0x7f }) {
			t.Fatalf("parameters %q carry a raw '#', space or control character", raw)
		}
		got, err := url.ParseQuery(raw)
		if err != nil {
			t.Fatalf("parameters %q do not parse: %v", raw, err)
		}
		for k, want := range v {
			if g := got[k]; len(g) != 1 || g[0] != want[0] {
				t.Fatalf("%s read back as %q, want %q", k, g, want[0])
			}
		}
	})
}
