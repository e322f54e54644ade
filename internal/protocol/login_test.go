package protocol_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/sigil-idp/sigil/internal/config"
)

// loginForm opens the sign-in form for a valid spa request in browser c and returns its
// hidden fields.
func (e *env) loginForm(t *testing.T, c *http.Client) url.Values {
	t.Helper()
	resp, body := e.get(c, e.authorizeURL("contoso.test", validSPA()))
	if resp.StatusCode != http.StatusOK || !isLoginPage(body) {
		t.Fatalf("%d, want the sign-in form", resp.StatusCode)
	}
	f := hiddenFields(body)
	if f.Get("ir") == "" || f.Get("xsrf") == "" {
		t.Fatalf("sign-in form fields %v, want ir and xsrf", f)
	}
	return f
}

// wantLoginAgain checks that a sign-in attempt re-showed the form with an error code.
func wantLoginAgain(t *testing.T, resp *http.Response, body, aadsts string) {
	t.Helper()
	if resp.StatusCode != http.StatusBadRequest || !isLoginPage(body) || resp.Header.Get("Location") != "" {
		t.Errorf("%d (Location %q), want the sign-in form again with 400", resp.StatusCode, resp.Header.Get("Location"))
	}
	if got := pageErrorCode(body); got != aadsts {
		t.Errorf("data-error-code %q, want %s", got, aadsts)
	}
}

// TestLoginForm covers the sign-in form's checks: credentials, the anti-forgery token bound
// to the browser, the interaction's lifetime, and cross-origin posts.
func TestLoginForm(t *testing.T) {
	t.Parallel()
	disabled := false
	e := newEnv(t, func(c *config.Config) {
		c.Tenants[0].Users = append(c.Tenants[0].Users, config.User{Username: "dave@contoso.test", Password: pw,
			DisplayName: "Dave", Enabled: &disabled})
	})

	tests := []struct {
		name string
		edit func(f url.Values)
		user string
		pass string
	}{
		{"wrong password", nil, alice, "wrong"},
		{"unknown user", nil, "nobody@contoso.test", pw},
		{"empty password", nil, alice, ""},
		{"empty username", nil, "", pw},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := e.newBrowser()
			f := e.loginForm(t, c)
			resp, body := e.submitLogin(c, f, tt.user, tt.pass, false)
			wantLoginAgain(t, resp, body, "AADSTS50126")
			if hiddenFields(body).Get("ir") != f.Get("ir") {
				t.Error("the re-shown form continues another interaction")
			}
			// The form shown again still works.
			resp, body = e.submitLogin(c, hiddenFields(body), alice, pw, false)
			if resp.StatusCode != http.StatusFound && !isConsentPage(body) {
				t.Errorf("right password after a failure: %d, want to go on", resp.StatusCode)
			}
		})
	}

	t.Run("disabled account", func(t *testing.T) {
		c := e.newBrowser()
		resp, body := e.submitLogin(c, e.loginForm(t, c), "dave@contoso.test", pw, false)
		wantLoginAgain(t, resp, body, "AADSTS50057")
	})

	// The session cookie reaches MSAL's hidden iframe (SameSite=None; Secure), and is
	// persistent only with "stay signed in".
	for _, remember := range []bool{false, true} {
		name := map[bool]string{false: "session cookie", true: "session cookie, stay signed in"}[remember]
		t.Run(name, func(t *testing.T) {
			c := e.newBrowser()
			resp, _ := e.submitLogin(c, e.loginForm(t, c), alice, pw, remember)
			var cookie *http.Cookie
			for _, ck := range resp.Cookies() {
				if ck.Name == "__Host-sigil-session" {
					cookie = ck
				}
			}
			if cookie == nil {
				t.Fatalf("no session cookie set: %v", resp.Header["Set-Cookie"])
			}
			if !cookie.Secure || !cookie.HttpOnly || cookie.SameSite != http.SameSiteNoneMode || cookie.Path != "/" {
				t.Errorf("session cookie %q, want Secure; HttpOnly; SameSite=None; Path=/", cookie.Raw)
			}
			if persistent := cookie.MaxAge > 0 || !cookie.Expires.IsZero(); persistent != remember {
				t.Errorf("session cookie %q persistent=%v, want %v", cookie.Raw, persistent, remember)
			}
		})
	}

	t.Run("consent form of another browser", func(t *testing.T) {
		c := e.newBrowser()
		f := e.loginForm(t, c)
		resp, body := e.submitLogin(c, f, bob, pw, false) // bob has not consented: the consent page
		if !isConsentPage(body) {
			t.Fatalf("%d, want the consent page", resp.StatusCode)
		}
		other := e.newBrowser()
		own := e.loginForm(t, other)
		forged := hiddenFields(body)
		forged.Set("xsrf", own.Get("xsrf"))
		forged.Set("consent", "accept")
		forged.Add("scope", "api://todo/Todo.Read")
		resp, body = e.postForm(other, e.url+"/-/consent", forged, nil)
		wantErrorPage(t, resp, body, http.StatusBadRequest, "AADSTS90014")
	})

	pages := []struct {
		name   string
		post   func(t *testing.T) (*http.Response, string)
		aadsts string
	}{
		{"missing xsrf", func(t *testing.T) (*http.Response, string) {
			c := e.newBrowser()
			f := e.loginForm(t, c)
			f.Del("xsrf")
			return e.submitLogin(c, f, alice, pw, false)
		}, "AADSTS90014"},
		{"forged xsrf", func(t *testing.T) (*http.Response, string) {
			c := e.newBrowser()
			f := e.loginForm(t, c)
			f.Set("xsrf", strings.Repeat("A", 43))
			return e.submitLogin(c, f, alice, pw, false)
		}, "AADSTS90014"},
		{"no anti-forgery cookie", func(t *testing.T) (*http.Response, string) {
			f := e.loginForm(t, e.newBrowser())
			return e.submitLogin(e.newBrowser(), f, alice, pw, false)
		}, "AADSTS90014"},
		{"interaction of another browser", func(t *testing.T) (*http.Response, string) {
			victim := e.loginForm(t, e.newBrowser())
			c := e.newBrowser()
			own := e.loginForm(t, c)
			own.Set("ir", victim.Get("ir")) // a valid xsrf of this browser, the interaction of another
			return e.submitLogin(c, own, alice, pw, false)
		}, "AADSTS90014"},
		{"unknown interaction", func(t *testing.T) (*http.Response, string) {
			c := e.newBrowser()
			f := e.loginForm(t, c)
			f.Set("ir", "no-such-interaction")
			return e.submitLogin(c, f, alice, pw, false)
		}, "AADSTS50089"},
	}
	for _, tt := range pages {
		t.Run(tt.name, func(t *testing.T) {
			resp, body := tt.post(t)
			wantErrorPage(t, resp, body, http.StatusBadRequest, tt.aadsts)
			if h := resp.Header.Get("Set-Cookie"); strings.Contains(h, "sigil-session") {
				t.Errorf("refused form signed in: Set-Cookie %q", h)
			}
		})
	}

	t.Run("cross-origin post refused", func(t *testing.T) {
		c := e.newBrowser()
		f := e.loginForm(t, c)
		f.Set("username", alice)
		f.Set("password", pw)
		resp, page := e.postForm(c, e.url+"/-/login", f, http.Header{"Origin": {"https://evil.example"}, "Sec-Fetch-Site": {"cross-site"}})
		if resp.StatusCode != http.StatusForbidden || resp.Header.Get("Location") != "" || pageErrorCode(page) != "AADSTS90014" {
			t.Errorf("cross-origin sign-in: %d, data-error-code %q; want 403 with AADSTS90014", resp.StatusCode, pageErrorCode(page))
		}
		resp, body := e.get(c, e.authorizeURL("contoso.test", silentParams(todoScopes)))
		wantRedirectError(t, resp, body, spaRedirect, "fragment", wantErr{"login_required", 50058}, ptr("st+/=ate"))
	})

	// Last: it moves the clock.
	t.Run("expired interaction", func(t *testing.T) {
		c := e.newBrowser()
		f := e.loginForm(t, c)
		e.clock.Advance(31 * time.Minute)
		resp, body := e.submitLogin(c, f, alice, pw, false)
		wantErrorPage(t, resp, body, http.StatusBadRequest, "AADSTS50089")
	})
}

// TestLoginThrottleAccount: after 10 failures for one account within 15 minutes even the
// right password gets AADSTS50053 on the form, until the window passes.
func TestLoginThrottleAccount(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	c := e.newBrowser()
	f := e.loginForm(t, c)
	for i := range 10 {
		resp, body := e.submitLogin(c, f, alice, "wrong", false)
		wantLoginAgain(t, resp, body, "AADSTS50126")
		if t.Failed() {
			t.Fatalf("attempt %d", i+1)
		}
		e.clock.Advance(time.Minute)
	}
	resp, body := e.submitLogin(c, f, alice, pw, false)
	wantLoginAgain(t, resp, body, "AADSTS50053")

	// Other accounts are not locked (the address limit is 100).
	other := e.newBrowser()
	resp, body = e.submitLogin(other, e.loginForm(t, other), bob, pw, false)
	if resp.StatusCode != http.StatusFound && !isConsentPage(body) {
		t.Errorf("bob while alice is locked: %d, want to go on", resp.StatusCode)
	}

	// The window passes (the first failure was 10 minutes ago): the right password works.
	e.clock.Advance(15 * time.Minute)
	c = e.newBrowser()
	resp, body = e.submitLogin(c, e.loginForm(t, c), alice, pw, false)
	if resp.StatusCode != http.StatusFound && !isConsentPage(body) {
		t.Errorf("after the window: %d (data-error-code %q), want to go on", resp.StatusCode, pageErrorCode(body))
	}
}

// TestLoginThrottleAddress: after ipFailures failures from one address, any account is
// refused with AADSTS50053.
func TestLoginThrottleAddress(t *testing.T) {
	t.Parallel()
	e := newEnv(t, func(c *config.Config) { c.LoginThrottle.IPFailures = 3 })
	c := e.newBrowser()
	f := e.loginForm(t, c)
	for _, user := range []string{bob, "nobody@contoso.test", carol} {
		resp, body := e.submitLogin(c, f, user, "wrong", false)
		wantLoginAgain(t, resp, body, "AADSTS50126")
	}
	resp, body := e.submitLogin(c, f, alice, pw, false)
	wantLoginAgain(t, resp, body, "AADSTS50053")

	e.clock.Advance(16 * time.Minute)
	resp, body = e.submitLogin(c, f, alice, pw, false)
	if resp.StatusCode != http.StatusFound && !isConsentPage(body) {
		t.Errorf("after the window: %d (data-error-code %q), want to go on", resp.StatusCode, pageErrorCode(body))
	}
}

// TestPagesAllowOpener: Sigil's pages must not send Cross-Origin-Opener-Policy — MSAL's
// popup flows (v2–v4, and v5 legacy polling) lose the popup when the opener is severed
// (the security defaults).
func TestPagesAllowOpener(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	c := e.newBrowser()
	pages := map[string]func() *http.Response{
		"sign-in": func() *http.Response { r, _ := e.get(c, e.authorizeURL("contoso.test", validSPA())); return r },
		"error":   func() *http.Response { r, _ := e.get(c, e.authorizeURL("nosuch.test", validSPA())); return r },
		"signed out": func() *http.Response {
			r, _ := e.get(c, e.url+"/contoso.test/oauth2/v2.0/logout")
			return r
		},
	}
	for name, get := range pages {
		t.Run(name, func(t *testing.T) {
			if got := get().Header.Get("Cross-Origin-Opener-Policy"); got != "" {
				t.Errorf("Cross-Origin-Opener-Policy %q, want none", got)
			}
		})
	}
}

// TestSessionCookieRenewedAtSignIn: each sign-in gives the browser a new session cookie and
// moves its accounts to it, so a value planted or stolen before sign-in names nothing after.
func TestSessionCookieRenewedAtSignIn(t *testing.T) {
	e := newEnv(t, nil)
	c := e.newBrowser()
	sessionCookie := func() string {
		u, _ := url.Parse(e.url)
		for _, ck := range c.Jar.Cookies(u) {
			if ck.Name == "__Host-sigil-session" {
				return ck.Value
			}
		}
		return ""
	}
	e.signIn(c, e.authorizeURL("contoso.test", validSPA()), alice)
	first := sessionCookie()
	p := validSPA()
	p.Set("prompt", "login")
	p.Set("login_hint", bob)
	e.signIn(c, e.authorizeURL("contoso.test", p), bob)
	second := sessionCookie()
	if first == "" || second == "" || first == second {
		t.Fatalf("session cookie not renewed at sign-in: %q then %q", first, second)
	}
	// The old value names no session any more.
	old := e.newBrowser()
	u, _ := url.Parse(e.url)
	old.Jar.SetCookies(u, []*http.Cookie{{Name: "__Host-sigil-session", Value: first, Path: "/", Secure: true}})
	resp, body := e.get(old, e.authorizeURL("contoso.test", silentParams(todoScopes)))
	wantRedirectError(t, resp, body, spaRedirect, "fragment", wantErr{"login_required", 50058}, ptr("st+/=ate"))
	// The browser keeps both accounts under the new value.
	p = validSPA()
	p.Set("prompt", "select_account")
	_, picker := e.get(c, e.authorizeURL("contoso.test", p))
	if !strings.Contains(picker, `data-username="`+alice+`"`) || !strings.Contains(picker, `data-username="`+bob+`"`) {
		t.Fatalf("accounts lost when the cookie was renewed:\n%s", picker)
	}
}
