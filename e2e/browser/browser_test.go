package browser

import (
	"context"
	"errors"
	"fmt"
	"html"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
)

// env is a browser and two TLS servers that it reaches as
// https://app.example.test:PORT and https://login.example.test:PORT. The
// login server is also https://login.example.org:PORT, another site.
type env struct {
	b        *Browser
	app      string // origin of the app server
	login    string // origin of the login server
	loginOrg string // the login server, as another site than the app
	// frameCookies receives the Cookie header of each /frame request.
	frameCookies chan string
}

// startServer starts a TLS server on 127.0.0.1 and returns its port.
func startServer(t *testing.T, h http.Handler) string {
	t.Helper()
	srv := httptest.NewUnstartedServer(h)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv.Listener = l
	srv.StartTLS()
	t.Cleanup(srv.Close)
	_, port, _ := net.SplitHostPort(l.Addr().String())
	return port
}

func newEnv(t *testing.T) *env {
	t.Helper()
	Require(t)
	e := &env{frameCookies: make(chan string, 10)}
	appMux, loginMux := http.NewServeMux(), http.NewServeMux()
	loginPort := startServer(t, loginMux)
	e.app = "https://app.example.test:" + startServer(t, appMux)
	e.login = "https://login.example.test:" + loginPort
	e.loginOrg = "https://login.example.org:" + loginPort
	e.appRoutes(appMux)
	e.loginRoutes(loginMux)
	e.b = Start(t, Options{MapHosts: []string{"*.example.test", "login.example.org"}})
	return e
}

func writeHTML(w http.ResponseWriter, body string) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	fmt.Fprintf(w, "<!doctype html><html><head><title>t</title></head><body>%s</body></html>", body)
}

// appRoutes are the pages of the app (SPA) origin.
func (e *env) appRoutes(mux *http.ServeMux) {
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		writeHTML(w, `<h1 id="title">app home</h1>
<script>
window.messages = [];
addEventListener("message", ev => {
  if (ev.origin === location.origin) window.messages.push(ev.data);
});
console.log("app ready", 42);
</script>`)
	})
	// /popup-start is where the popup opens; it moves on to the login origin,
	// as MSAL moves its popup from the SPA origin to the IdP. With idp=org
	// the login origin is another site.
	mux.HandleFunc("/popup-start", func(w http.ResponseWriter, r *http.Request) {
		idp := e.login
		if r.URL.Query().Get("idp") == "org" {
			idp = e.loginOrg
		}
		next := idp + "/login?" + r.URL.RawQuery
		writeHTML(w, fmt.Sprintf(`<p>redirecting</p><script>location.replace(%q)</script>`, next))
	})
	// /done is where the login server sends the popup back to.
	mux.HandleFunc("/done", func(w http.ResponseWriter, r *http.Request) {
		user := r.URL.Query().Get("user")
		closeJS := "window.close();"
		if r.URL.Query().Get("hold") == "1" {
			closeJS = "" // the test closes it
		}
		writeHTML(w, fmt.Sprintf(`<p id="status">signed in as %s</p>
<script>
window.opener.postMessage({user: %q}, location.origin);
%s
</script>`, html.EscapeString(user), user, closeJS))
	})
	mux.HandleFunc("/embed", func(w http.ResponseWriter, r *http.Request) {
		idp := e.login
		if r.URL.Query().Get("idp") == "org" {
			idp = e.loginOrg
		}
		writeHTML(w, fmt.Sprintf(`<iframe id="f" src="%s/frame"></iframe>`, idp))
	})
}

// loginRoutes are the pages of the login (IdP) origin.
func (e *env) loginRoutes(mux *http.ServeMux) {
	mux.HandleFunc("GET /login", func(w http.ResponseWriter, r *http.Request) {
		writeHTML(w, fmt.Sprintf(`<form method="post" action="/login?%s">
<input name="username" autocomplete="off"><button type="submit">Sign in</button></form>`,
			html.EscapeString(r.URL.RawQuery)))
	})
	mux.HandleFunc("POST /login", func(w http.ResponseWriter, r *http.Request) {
		user := r.FormValue("username")
		http.SetCookie(w, &http.Cookie{Name: "sid", Value: "s-" + user, Path: "/",
			Secure: true, HttpOnly: true, SameSite: http.SameSiteNoneMode})
		next := e.app + "/done?user=" + user
		if r.URL.Query().Get("hold") == "1" {
			next += "&hold=1"
		}
		http.Redirect(w, r, next, http.StatusSeeOther)
	})
	mux.HandleFunc("/set-cookies", func(w http.ResponseWriter, r *http.Request) {
		for _, c := range []*http.Cookie{
			{Name: "none", Value: "1", SameSite: http.SameSiteNoneMode},
			{Name: "lax", Value: "1", SameSite: http.SameSiteLaxMode},
			{Name: "strict", Value: "1", SameSite: http.SameSiteStrictMode},
		} {
			c.Path, c.Secure = "/", true
			http.SetCookie(w, c)
		}
		writeHTML(w, `<p id="ok">cookies set</p>`)
	})
	mux.HandleFunc("/frame", func(w http.ResponseWriter, r *http.Request) {
		e.frameCookies <- r.Header.Get("Cookie")
		writeHTML(w, `<p>frame</p>`)
	})
}

// openApp opens a new page on the app home page.
func (e *env) openApp(t *testing.T) *Page {
	t.Helper()
	p, err := e.b.NewPage()
	if err != nil {
		t.Fatal(err)
	}
	if err := p.Navigate(e.app + "/"); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestEval(t *testing.T) {
	e := newEnv(t)
	p := e.openApp(t)

	n, err := Eval[int](p, `new Promise(r => setTimeout(() => r(40 + 2), 50))`)
	if err != nil || n != 42 {
		t.Fatalf("Eval promise = %d, %v; want 42", n, err)
	}
	title, err := p.Text("#title")
	if err != nil || title != "app home" {
		t.Fatalf("Text = %q, %v", title, err)
	}

	for js, want := range map[string]string{
		`Promise.reject(new Error("boom in promise"))`:        "Error: boom in promise",
		`(async () => { throw new TypeError("bad type") })()`: "TypeError: bad type",
		`Promise.reject("plain string")`:                      "plain string",
		`(() => { throw new Error("sync boom") })()`:          "Error: sync boom",
	} {
		_, err := Eval[any](p, js)
		var jsErr *JSError
		if !errors.As(err, &jsErr) || jsErr.Message != want {
			t.Errorf("Eval(%s) error = %v; want a JSError with message %q", js, err, want)
		}
	}

	start := time.Now()
	_, err = EvalTimeout[int](p, `new Promise(() => {})`, 300*time.Millisecond)
	if err == nil || time.Since(start) > 5*time.Second {
		t.Errorf("EvalTimeout of a promise that never settles = %v after %v", err, time.Since(start))
	}

	if logs := strings.Join(p.Logs(), "\n"); !strings.Contains(logs, "console.log: app ready 42") {
		t.Errorf("Logs lack the console message:\n%s", logs)
	}
}

func TestHostResolution(t *testing.T) {
	e := newEnv(t)
	p, err := e.b.NewPage()
	if err != nil {
		t.Fatal(err)
	}
	// A name outside MapHosts must not resolve, and fail fast.
	start := time.Now()
	err = p.Navigate("https://www.example.com/")
	if err == nil || !strings.Contains(err.Error(), "ERR_NAME_NOT_RESOLVED") {
		t.Errorf("Navigate to an unmapped host = %v; want ERR_NAME_NOT_RESOLVED", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("unmapped host took %v to fail", d)
	}
	// The loopback address itself still works.
	port := strings.TrimPrefix(e.app, "https://app.example.test:")
	if err := p.Navigate("https://127.0.0.1:" + port + "/"); err != nil {
		t.Errorf("Navigate to 127.0.0.1: %v", err)
	}
	if u, err := p.URL(); err != nil || !strings.HasPrefix(u, "https://127.0.0.1:") {
		t.Errorf("URL = %q, %v", u, err)
	}
	if err := p.Navigate("https://localhost:" + port + "/"); err != nil {
		t.Errorf("Navigate to localhost: %v", err)
	}
}

// TestGone checks that calls on a closed page, and on a stopped browser,
// return errors at once.
func TestGone(t *testing.T) {
	e := newEnv(t)
	p := e.openApp(t)
	if err := p.Close(); err != nil || !p.Closed() {
		t.Fatalf("Close = %v, Closed = %v", err, p.Closed())
	}
	if err := p.Close(); err != nil {
		t.Errorf("second Close = %v", err)
	}
	if _, err := p.Text("#title"); !errors.Is(err, ErrClosed) {
		t.Errorf("Text on a closed page = %v; want ErrClosed", err)
	}

	q := e.openApp(t)
	wait := q.ExpectPopup()
	e.b.stop()
	start := time.Now()
	checks := map[string]error{
		"Navigate": q.Navigate(e.app + "/"),
		"Click":    q.Click("#title"),
		"Cookies":  func() error { _, err := e.b.Cookies(e.app); return err }(),
		"NewPage":  func() error { _, err := e.b.NewPage(); return err }(),
		"popup":    func() error { _, err := wait(5 * time.Second); return err }(),
		"Eval":     func() error { _, err := Eval[int](q, `1`); return err }(),
	}
	for name, err := range checks {
		if err == nil {
			t.Errorf("%s on a stopped browser returned no error", name)
		}
		t.Logf("%s: %v", name, err)
	}
	if d := time.Since(start); d > 3*time.Second {
		t.Errorf("calls on a stopped browser took %v", d)
	}
}

// login fills and submits the form of the login popup.
func login(t *testing.T, popup *Page, user string) {
	t.Helper()
	if err := popup.WaitVisible("input[name=username]", 10*time.Second); err != nil {
		t.Fatal(err)
	}
	if err := popup.SetValue("input[name=username]", user); err != nil {
		t.Fatal(err)
	}
	if err := popup.Click("button[type=submit]"); err != nil {
		t.Fatal(err)
	}
}

// TestPopupLogin runs the flow of MSAL loginPopup: one long Eval on the app
// opens the popup and awaits the message that the popup posts back, while
// the test drives the popup.
func TestPopupLogin(t *testing.T) {
	e := newEnv(t)
	p := e.openApp(t)

	wait := p.ExpectPopup()
	type result struct {
		user string
		err  error
	}
	done := make(chan result, 1)
	go func() {
		// No user gesture: the popup blocker must be off.
		user, err := EvalTimeout[string](p, `new Promise((resolve, reject) => {
			addEventListener("message", ev => resolve(ev.data.user));
			if (!window.open("/popup-start", "login", "width=500,height=600")) reject(new Error("popup blocked"));
		})`, 20*time.Second)
		done <- result{user, err}
	}()
	popup, err := wait(10 * time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if err := popup.WaitVisible("input[name=username]", 10*time.Second); err != nil {
		t.Fatal(err)
	}
	t.Logf("same-site login page shares the opener's renderer process: %v", isolateID(t, popup) == isolateID(t, p))
	login(t, popup, "alice")

	if err := popup.WaitClosed(10 * time.Second); err != nil {
		t.Fatal(err)
	}
	if r := <-done; r.err != nil || r.user != "alice" {
		t.Fatalf("opener got %q, %v; want alice", r.user, r.err)
	}
	// The popup's logs show that one Page followed it across origins.
	logs := strings.Join(popup.Logs(), "\n")
	for _, want := range []string{
		"navigated: " + e.app + "/popup-start",
		"navigated: " + e.login + "/login",
		"navigated: " + e.app + "/done?user=alice",
	} {
		if !strings.Contains(logs, want) {
			t.Errorf("popup logs lack %q:\n%s", want, logs)
		}
	}
	// Operations on the closed popup fail fast.
	start := time.Now()
	if _, err := Eval[int](popup, `1`); !errors.Is(err, ErrClosed) || time.Since(start) > time.Second {
		t.Errorf("Eval on a closed popup = %v after %v; want ErrClosed at once", err, time.Since(start))
	}
	checkCookies(t, e)
}

// checkCookies checks the sid cookie that the login set, and removes it.
func checkCookies(t *testing.T, e *env) {
	t.Helper()
	has := func(url, name string) bool {
		t.Helper()
		cookies, err := e.b.Cookies(url)
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range cookies {
			if c.Name == name {
				return true
			}
		}
		return false
	}
	if !has(e.login+"/", "sid") {
		t.Fatal("Cookies(login) lacks sid after the login")
	}
	cookies, _ := e.b.Cookies(e.login + "/")
	for _, c := range cookies {
		if c.Name == "sid" && (c.Value != "s-alice" || !c.Secure || !c.HTTPOnly || c.SameSite != "None" || !c.Expires.IsZero()) {
			t.Errorf("sid cookie = %+v", c)
		}
	}
	if has(e.app+"/", "sid") {
		t.Error("Cookies(app) has the login's host-only sid cookie")
	}
	if err := e.b.DeleteCookies(e.login + "/"); err != nil {
		t.Fatal(err)
	}
	if has(e.login+"/", "sid") {
		t.Error("sid still there after DeleteCookies")
	}
	p, err := e.b.NewPage()
	if err != nil {
		t.Fatal(err)
	}
	if err := p.Navigate(e.login + "/set-cookies"); err != nil {
		t.Fatal(err)
	}
	if !has(e.login+"/", "none") {
		t.Fatal("Cookies(login) lacks the cookie of /set-cookies")
	}
	if err := e.b.ClearCookies(); err != nil {
		t.Fatal(err)
	}
	if has(e.login+"/", "none") {
		t.Error("cookie still there after ClearCookies")
	}
}

// isolateID returns the id of the V8 isolate of the page's main frame, which
// is unique to its renderer process.
func isolateID(t *testing.T, p *Page) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(p.ctx, 5*time.Second)
	defer cancel()
	res, err := chromedp.Call(ctx, runtime.GetIsolateID, cdp.Empty{})
	if err != nil || res.ID == "" {
		t.Fatalf("isolate id: %q, %v", res.ID, err)
	}
	return res.ID
}

// TestPopupAcrossSites follows a popup from the app site to a login page on
// another site, which site isolation puts in another renderer process, and
// back.
func TestPopupAcrossSites(t *testing.T) {
	e := newEnv(t)
	p := e.openApp(t)
	appProcess := isolateID(t, p)
	wait := p.ExpectPopup()
	if _, err := Eval[bool](p, `!!window.open("/popup-start?hold=1&idp=org", "_blank", "popup")`); err != nil {
		t.Fatal(err)
	}
	popup, err := wait(10 * time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if err := popup.WaitVisible("input[name=username]", 10*time.Second); err != nil {
		t.Fatal(err)
	}
	if origin, err := Eval[string](popup, `location.origin`); err != nil || origin != e.loginOrg {
		t.Fatalf("popup origin = %q, %v; want %s", origin, err, e.loginOrg)
	}
	if isolateID(t, popup) == appProcess {
		t.Fatal("the login page of another site runs in the app's renderer process")
	}
	login(t, popup, "bob")
	// Back on the app site, in another renderer process again: the same Page
	// still works.
	if _, err := popup.WaitURL(func(u string) bool { return strings.HasPrefix(u, e.app+"/done") }, 10*time.Second); err != nil {
		t.Fatal(err)
	}
	if s, err := popup.Text("#status"); err != nil || s != "signed in as bob" {
		t.Fatalf("popup Text = %q, %v", s, err)
	}
	t.Logf("popup back on the app site shares the opener's process: %v", isolateID(t, popup) == appProcess)
	if origin, err := Eval[string](popup, `location.origin`); err != nil || origin != e.app {
		t.Fatalf("popup origin = %q, %v", origin, err)
	}
	if html, err := popup.HTML(); err != nil || !strings.Contains(html, "signed in as bob") {
		t.Fatalf("popup HTML = %q, %v", html, err)
	}
	dump := e.b.Dump()
	for _, want := range []string{"popup of page 1", e.app + "/done?user=bob", "signed in as bob"} {
		if !strings.Contains(dump, want) {
			t.Errorf("Dump lacks %q:\n%s", want, dump)
		}
	}
	if _, err := Eval[any](popup, `setTimeout(() => window.close(), 0)`); err != nil {
		t.Fatal(err)
	}
	if err := popup.WaitClosed(10 * time.Second); err != nil {
		t.Fatal(err)
	}
	if !popup.Closed() || p.Closed() {
		t.Errorf("Closed: popup %v, opener %v; want true, false", popup.Closed(), p.Closed())
	}
	if _, err := p.ExpectPopup()(200 * time.Millisecond); err == nil {
		t.Error("a second ExpectPopup returned a popup, but only one was opened")
	}
}

// frameCookie loads the login server's cookie page at the top level, then an
// app page that embeds the login server, and returns the Cookie header that
// the iframe's request carried.
func (e *env) frameCookie(t *testing.T, login, embed string) string {
	t.Helper()
	p, err := e.b.NewPage()
	if err != nil {
		t.Fatal(err)
	}
	if err := p.Navigate(login + "/set-cookies"); err != nil {
		t.Fatal(err)
	}
	if err := p.Navigate(e.app + embed); err != nil {
		t.Fatal(err)
	}
	select {
	case got := <-e.frameCookies:
		return got
	case <-time.After(10 * time.Second):
		t.Fatal("the iframe made no request")
		return ""
	}
}

func TestSameSiteIframeCookie(t *testing.T) {
	e := newEnv(t)
	got := e.frameCookie(t, e.login, "/embed")
	t.Logf("iframe app.example.test -> login.example.test (same site) sent Cookie: %q", got)
	if !strings.Contains(got, "none=1") {
		t.Errorf("the same-site iframe did not get the SameSite=None; Secure cookie; Cookie: %q", got)
	}
	// For the record: the same with the login server on another site, as a
	// silent MSAL iframe to an IdP on another site would see it.
	got = e.frameCookie(t, e.loginOrg, "/embed?idp=org")
	t.Logf("iframe app.example.test -> login.example.org (cross site) sent Cookie: %q", got)
}

// fakeTB records Skip and Fatal instead of ending the test.
type fakeTB struct {
	testing.TB
	skipped, failed string
}

func (f *fakeTB) Helper()           {}
func (f *fakeTB) Skip(args ...any)  { f.skipped = fmt.Sprint(args...) }
func (f *fakeTB) Fatal(args ...any) { f.failed = fmt.Sprint(args...) }

func TestRequireMissing(t *testing.T) {
	t.Setenv("SIGIL_CHROMIUM", "/nonexistent/chromium")
	t.Setenv("CI", "")
	f := &fakeTB{}
	if path := Require(f); path != "" || f.skipped == "" || f.failed != "" {
		t.Errorf("Require without CI: path %q, skipped %q, failed %q; want a skip", path, f.skipped, f.failed)
	}
	if !strings.Contains(f.skipped, "apt-get install chromium") {
		t.Errorf("skip message does not say what to install: %s", f.skipped)
	}
	t.Setenv("CI", "true")
	f = &fakeTB{}
	if Require(f); f.failed == "" || f.skipped != "" {
		t.Errorf("Require with CI=true: skipped %q, failed %q; want a failure", f.skipped, f.failed)
	}
}
