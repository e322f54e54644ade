// Package harness runs Sigil for browser tests: the real App in-process on a loopback port,
// with TLS from tls.auto, under the host name login.example.test; a test single-page app on a
// sibling host, app.example.test, serving e2e/pages and MSAL.js straight from node_modules;
// and a fresh headless Chromium that resolves both names to 127.0.0.1. Both origins are on one
// site, so the hidden iframe keeps Sigil's session cookie, as a same-site deployment would.
//
// Tests drive the real MSAL.js through the test driver of e2e/pages (window.t) and Sigil's
// pages through the selectors of the login UI contract (README, "Login pages").
package harness

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sigil-idp/sigil/e2e/browser"
	"github.com/sigil-idp/sigil/internal/app"
	"github.com/sigil-idp/sigil/internal/config"
	"github.com/sigil-idp/sigil/internal/demo"
	"github.com/sigil-idp/sigil/internal/password"
)

// The test directory.
const (
	TenantID = "6a0b2c9e-7e4d-4c1e-9a53-0d6f2b8e4f10"
	Domain   = "contoso.test"
	ClientID = "3f1c2d4e-5a6b-4c7d-8e9f-0a1b2c3d4e5f"
	Alice    = "alice@contoso.test"
	Bob      = "bob@contoso.test"
	Password = "Passw0rd!alice"
)

// Env is one Sigil, one test SPA and one browser.
type Env struct {
	T        *testing.T
	App      *app.App
	IdP      string // https://login.example.test:<port>, Sigil's publicUrl
	SPA      string // https://app.example.test:<port>, the test app's origin
	Browser  *browser.Browser
	Requests *RequestLog

	caFile string // the CA that signed the certificate of Sigil's origin

	mu      sync.Mutex
	todoAPI string
	logouts []url.Values // what the test app's /front-channel-logout received
}

// FrontChannelLogouts returns the query of every request to the test app's
// /front-channel-logout (a logoutUrl for front-channel logout tests), in order.
func (e *Env) FrontChannelLogouts() []url.Values {
	e.mu.Lock()
	defer e.mu.Unlock()
	return append([]url.Values(nil), e.logouts...)
}

// CAFile is the PEM file of the CA that signed the certificate Sigil's origin serves.
func (e *Env) CAFile() string { return e.caFile }

// Backend is Sigil served by the test itself (Options.Backend): the TLS configuration of its
// origin, which the test app's origin serves too, and the CA file that signed its certificate.
type Backend struct {
	TLS    *tls.Config
	CAFile string
}

// SetTodoAPI sets the todoApiUrl the example apps read from /config.js (examples/todo-api's
// address, when a test runs it).
func (e *Env) SetTodoAPI(url string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.todoAPI = url
}

// TodoAPI returns what SetTodoAPI set.
func (e *Env) TodoAPI() string {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.todoAPI
}

// Options adjust an Env.
type Options struct {
	// Edit changes the configuration before the server starts.
	Edit func(*config.Config)
	// Site, when set, is a directory served at the test app's origin instead of e2e/pages:
	// an example app built by [BuildExample]. /config.js and /node_modules/ are served beside it.
	Site string
	// IdPHost, when set, is the host name of Sigil's publicUrl instead of login.example.test:
	// "127.0.0.1" for tests where Node (msal-node) calls Sigil, since only the browser maps
	// the example.test names. The SPA on app.example.test is then cross-site.
	IdPHost string
	// NoBrowser starts no Chromium (Env.Browser is nil): for tests that drive only
	// server-side clients such as msal-node.
	NoBrowser bool
	// Dev runs Sigil as `sigil dev --config FILE --no-demo` does, FILE holding the test
	// configuration's tenants only (written with config.Marshal): dev mode's defaults must
	// fill in the rest.
	Dev bool
	// Backend, when set, serves Sigil instead of the in-process App (Env.App is then nil):
	// it gets the test configuration, the listener of publicUrl (the browser's
	// login.example.test) and the request log to record into ([RequestLog.Wrap]), and must
	// serve HTTPS on the listener until the test ends — e2e/cluster's nodes behind a proxy.
	Backend func(t *testing.T, cfg config.Config, ln net.Listener, log *RequestLog) Backend
}

// Start brings up an Env for one test; everything stops when the test ends. It skips the
// test (or, with CI=true, fails it) when Chromium or node_modules is missing.
func Start(t *testing.T, o Options) *Env {
	t.Helper()
	var chromium string
	if !o.NoBrowser {
		chromium = browser.Require(t)
	}
	modules := NodeModules(t)
	idpLn, spaLn := listen(t), listen(t)
	idpHost := o.IdPHost
	if idpHost == "" {
		idpHost = "login.example.test"
	}
	e := &Env{T: t, Requests: &RequestLog{},
		IdP: fmt.Sprintf("https://%s:%d", idpHost, idpLn.Addr().(*net.TCPAddr).Port),
		SPA: fmt.Sprintf("https://app.example.test:%d", spaLn.Addr().(*net.TCPAddr).Port)}
	cfg := Config(e.IdP, e.SPA, t.TempDir())
	if o.Edit != nil {
		o.Edit(&cfg)
	}
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	ctx, stop := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	var tlsConfig *tls.Config
	if o.Backend != nil {
		b := o.Backend(t, cfg, idpLn, e.Requests)
		tlsConfig, e.caFile = b.TLS, b.CAFile
	} else {
		a, err := newApp(t, o, cfg, idpLn, e)
		if err != nil {
			t.Fatal(err)
		}
		e.App, tlsConfig, e.caFile = a, a.TLSConfig(), a.CAFile()
		wg.Go(func() {
			if err := a.Serve(ctx, idpLn); err != nil && !errors.Is(err, http.ErrServerClosed) {
				t.Errorf("sigil: %v", err)
			}
		})
	}
	spa := &http.Server{Handler: spaHandler(e, modules, o.Site), TLSConfig: tlsConfig, ReadHeaderTimeout: 5 * time.Second,
		ErrorLog: slog.NewLogLogger(slog.DiscardHandler, slog.LevelError)}
	wg.Go(func() { spa.ServeTLS(spaLn, "", "") })
	t.Cleanup(func() {
		stop()
		spa.Close()
		wg.Wait()
		if e.App != nil {
			e.App.Close()
		}
	})
	if !o.NoBrowser {
		e.Browser = browser.Start(t, browser.Options{ExecPath: chromium, MapHosts: []string{"*.example.test"}})
	}
	return e
}

// newApp builds the App for cfg: directly, or with o.Dev through dev mode from a file that
// holds only cfg's tenants.
func newApp(t *testing.T, o Options, cfg config.Config, idpLn net.Listener, e *Env) (*app.App, error) {
	hash := password.Params{Memory: 64, Time: 1, Threads: 1}
	if !o.Dev {
		return app.New(t.Context(), cfg, app.Options{Logger: testLogger(t), HashParams: hash, Wrap: e.Requests.Wrap})
	}
	only := config.Default()
	only.Tenants = cfg.Tenants
	text, err := config.Marshal(only, "")
	if err != nil {
		return nil, err
	}
	file := filepath.Join(t.TempDir(), "sigil.yaml")
	if err := os.WriteFile(file, text, 0o600); err != nil {
		return nil, err
	}
	dev, err := demo.StartDev(t.Context(), demo.DevOptions{ConfigFile: file, NoDemo: true, PublicURL: e.IdP,
		IdPListener: idpLn, DataDir: cfg.DataDir, Logger: testLogger(t), HashParams: hash, Wrap: e.Requests.Wrap})
	if err != nil {
		return nil, err
	}
	return dev.App, nil
}

func listen(t *testing.T) net.Listener {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	return ln
}

// testLogger sends Sigil's log to the test log when SIGIL_TEST_LOG is set.
func testLogger(t *testing.T) *slog.Logger {
	if os.Getenv("SIGIL_TEST_LOG") == "" {
		return slog.New(slog.DiscardHandler)
	}
	return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

// Config is the test configuration: the contoso tenant with alice and bob, the Todo API, and
// the test SPA registered for the MSAL 5 and MSAL 2 pages.
func Config(idp, spa, dataDir string) config.Config {
	c := config.Default()
	c.PublicURL, c.DataDir, c.TLS.Auto = idp, dataDir, true
	c.Tenants = []config.Tenant{{
		ID: TenantID, Domains: []string{Domain}, DisplayName: "Contoso",
		Users: []config.User{
			{Username: Alice, Password: Password, DisplayName: "Alice Example", GivenName: "Alice", Surname: "Example", Email: Alice},
			{Username: Bob, Password: Password, DisplayName: "Bob Example", Email: Bob},
		},
		APIs: []config.API{{DisplayName: "Todo API", AppIDURI: "api://todo",
			Scopes: []config.Scope{{Value: "Todo.Read"}, {Value: "Todo.Write", AdminConsentRequired: true}}}},
		Apps: []config.App{{
			DisplayName: "Todo SPA", ClientID: ClientID,
			SPA: config.Platform{RedirectURIs: []string{spa + "/msal5.html", spa + "/redirect.html",
				spa + "/msal2.html", spa + "/blank.html", spa + "/msal1.html", spa + "/"}},
			PostLogoutRedirectURIs: []string{spa + "/signed-out.html"},
			// For MSAL 1.x pages and examples; msal-browser never asks for implicit tokens.
			ImplicitGrant: config.ImplicitGrant{IDTokens: true, AccessTokens: true},
		}},
	}}
	return c
}

// NodeModules returns the repository's node_modules, which must hold the MSAL packages of
// package.json (`npm ci`). Without them it skips the test, or fails it when CI=true.
func NodeModules(t *testing.T) string {
	t.Helper()
	dir, err := os.Getwd()
	for err == nil {
		if _, serr := os.Stat(filepath.Join(dir, "go.mod")); serr == nil {
			break
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			err = errors.New("no go.mod above the test directory")
		}
		dir = parent
	}
	modules := filepath.Join(dir, "node_modules")
	for _, pkg := range []string{"@azure/msal-browser", "msal-browser-v2"} {
		if _, serr := os.Stat(filepath.Join(modules, pkg, "package.json")); err != nil || serr != nil {
			msg := fmt.Sprintf("harness: %s is not installed in %s; run `npm ci` in the repository root", pkg, modules)
			if os.Getenv("CI") == "true" {
				t.Fatal(msg)
			}
			browser.Skip(t, msg)
		}
	}
	return modules
}

// spaHandler serves the test pages (or site), their settings (/config.js) and node_modules.
// /config.js sets window.sigilTest for e2e/pages and window.sigilConfig, the shape the
// example apps read (examples/serve.mjs writes the same for `sigil dev`).
func spaHandler(e *Env, modules, site string) http.Handler {
	mux := http.NewServeMux()
	if site == "" {
		site = pagesDir(modules)
	}
	mux.Handle("GET /", noStore(http.FileServer(http.Dir(site))))
	mux.Handle("GET /node_modules/", http.StripPrefix("/node_modules/", http.FileServer(http.Dir(modules))))
	mux.HandleFunc("GET /config.js", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/javascript")
		w.Header().Set("Cache-Control", "no-store")
		fmt.Fprintf(w, "window.sigilTest = {authority: %q, knownAuthority: %q, clientId: %q, origin: %q, idp: %q};\n",
			e.IdP+"/"+Domain, strings.TrimPrefix(e.IdP, "https://"), ClientID, e.SPA, e.IdP)
		fmt.Fprintf(w, "window.sigilConfig = {authority: %q, knownAuthority: %q, clientId: %q, origin: %q, apiUrl: %q, todoApiUrl: %q};\n",
			e.IdP+"/"+Domain, strings.TrimPrefix(e.IdP, "https://"), ClientID, e.SPA, e.IdP+"/v1.0/me", e.TodoAPI())
	})
	// A front-channel logout receiver: it records what Sigil's logout page framed.
	mux.HandleFunc("GET /front-channel-logout", func(w http.ResponseWriter, r *http.Request) {
		e.mu.Lock()
		e.logouts = append(e.logouts, r.URL.Query())
		e.mu.Unlock()
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Write([]byte("<!doctype html><title>signed out</title>"))
	})
	// An unprotected API on the app's own origin: it says whether a bearer token came along,
	// so tests can check that an interceptor adds one only for protected URLs.
	mux.HandleFunc("GET /api/headers", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Cache-Control", "no-store")
		fmt.Fprintf(w, `{"authorization": %q}`+"\n", r.Header.Get("Authorization"))
	})
	return mux
}

// BuildExample builds the example app examples/<name> into a fresh directory, with
// `node build.mjs <dir>` in the example's folder, and returns the directory (for
// [Options.Site]). It skips (or with CI=true fails) like [NodeModules] when npm has not
// installed the example's packages.
func BuildExample(t *testing.T, name string) string {
	t.Helper()
	modules := NodeModules(t)
	root := filepath.Dir(modules)
	dir := filepath.Join(root, "examples", name)
	node, err := exec.LookPath("node")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("harness: node is not installed")
		}
		browser.Skip(t, "harness: node is not installed")
	}
	out := t.TempDir()
	cmd := exec.CommandContext(t.Context(), node, "build.mjs", out)
	cmd.Dir = dir
	if b, err := cmd.CombinedOutput(); err != nil {
		msg := fmt.Sprintf("harness: building examples/%s: %v\n%s", name, err, b)
		if strings.Contains(string(b), "Cannot find") && os.Getenv("CI") != "true" {
			browser.Skip(t, msg+"\n(run `npm ci` in the repository root)")
		}
		t.Fatal(msg)
	}
	return out
}

func pagesDir(modules string) string { return filepath.Join(filepath.Dir(modules), "e2e", "pages") }

func noStore(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "no-store")
		h.ServeHTTP(w, r)
	})
}

// RequestLog records the requests Sigil received, so tests can tell which path MSAL took
// (cache, refresh token, hidden iframe).
type RequestLog struct {
	mu   sync.Mutex
	reqs []Request
}

// Request is one recorded request. GrantType and Origin are set for token requests.
type Request struct {
	Method, Path, Prompt string
	GrantType, Origin    string
}

// Wrap records every request next serves.
func (l *RequestLog) Wrap(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rec := Request{Method: r.Method, Path: r.URL.Path, Prompt: r.URL.Query().Get("prompt")}
		if r.Method == http.MethodPost && strings.HasSuffix(r.URL.Path, "/oauth2/v2.0/authorize") {
			// A form post (MSAL's httpMethod POST, EAR): read the body and put it back.
			body, _ := io.ReadAll(io.LimitReader(r.Body, 1<<20))
			r.Body = io.NopCloser(bytes.NewReader(body))
			if form, err := url.ParseQuery(string(body)); err == nil && form.Get("prompt") != "" {
				rec.Prompt = form.Get("prompt")
			}
		}
		if r.Method == http.MethodPost && strings.HasSuffix(r.URL.Path, "/oauth2/v2.0/token") {
			body, _ := io.ReadAll(io.LimitReader(r.Body, 1<<20))
			r.Body = io.NopCloser(bytes.NewReader(body))
			if form, err := url.ParseQuery(string(body)); err == nil {
				rec.GrantType = form.Get("grant_type")
			}
			rec.Origin = r.Header.Get("Origin")
		}
		l.mu.Lock()
		l.reqs = append(l.reqs, rec)
		l.mu.Unlock()
		next.ServeHTTP(w, r)
	})
}

// Count returns how many recorded requests match.
func (l *RequestLog) Count(match func(Request) bool) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	n := 0
	for _, r := range l.reqs {
		if match(r) {
			n++
		}
	}
	return n
}

// TokenRequests counts POSTs to the token endpoint.
func (l *RequestLog) TokenRequests() int {
	return l.Count(func(r Request) bool {
		return r.Method == http.MethodPost && strings.HasSuffix(r.Path, "/oauth2/v2.0/token")
	})
}

// GrantRequests counts token requests with the grant_type.
func (l *RequestLog) GrantRequests(grantType string) int {
	return l.Count(func(r Request) bool { return r.GrantType == grantType })
}

// AuthorizePosts counts authorization requests sent as form posts.
func (l *RequestLog) AuthorizePosts() int {
	return l.Count(func(r Request) bool {
		return r.Method == http.MethodPost && strings.HasSuffix(r.Path, "/oauth2/v2.0/authorize")
	})
}

// SilentAuthorizeRequests counts prompt=none authorization requests (the hidden iframe).
func (l *RequestLog) SilentAuthorizeRequests() int {
	return l.Count(func(r Request) bool { return strings.HasSuffix(r.Path, "/oauth2/v2.0/authorize") && r.Prompt == "none" })
}
