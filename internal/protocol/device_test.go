package protocol_test

import (
	"net/http"
	"net/url"
	"testing"
)

const deviceCookieName = "__Host-sigil-device"

// deviceCookie returns browser c's device cookie.
func (e *env) deviceCookie(t *testing.T, c *http.Client) *http.Cookie {
	t.Helper()
	u, _ := url.Parse(e.url + "/")
	for _, ck := range c.Jar.Cookies(u) {
		if ck.Name == deviceCookieName {
			return &http.Cookie{Name: ck.Name, Value: ck.Value}
		}
	}
	t.Fatal("no device cookie in the browser")
	return nil
}

// withCookie is a new browser holding only the given cookie.
func (e *env) withCookie(ck *http.Cookie) *http.Client {
	c := e.newBrowser()
	u, _ := url.Parse(e.url + "/")
	c.Jar.SetCookies(u, []*http.Cookie{ck})
	return c
}

// TestDeviceCookieLockout: an attacker elsewhere fills alice's failure count, locking her
// account; the browser alice signed in with before keeps its own count and still signs her
// in; a forged cookie, or one of another account's device, changes nothing.
func TestDeviceCookieLockout(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		browser func(e *env, alices, bobs *http.Cookie) *http.Client
		in      bool // alice signs in with the right password
	}{
		{"alice's own device", func(e *env, alices, _ *http.Cookie) *http.Client { return e.withCookie(alices) }, true},
		{"no device cookie", func(e *env, _, _ *http.Cookie) *http.Client { return e.newBrowser() }, false},
		{"forged cookie (one character changed)", func(e *env, alices, _ *http.Cookie) *http.Client {
			v := []byte(alices.Value)
			v[len(v)/2] ^= 1
			return e.withCookie(&http.Cookie{Name: deviceCookieName, Value: string(v)})
		}, false},
		{"forged cookie (truncated)", func(e *env, alices, _ *http.Cookie) *http.Client {
			return e.withCookie(&http.Cookie{Name: deviceCookieName, Value: alices.Value[:len(alices.Value)-4]})
		}, false},
		{"garbage cookie", func(e *env, _, _ *http.Cookie) *http.Client {
			return e.withCookie(&http.Cookie{Name: deviceCookieName, Value: "not-a-cookie"})
		}, false},
		{"bob's device", func(e *env, _, bobs *http.Cookie) *http.Client { return e.withCookie(bobs) }, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, nil)
			// Alice and bob each sign in once, on their own devices.
			owner := e.newBrowser()
			resp, body := e.submitLogin(owner, e.loginForm(t, owner), alice, pw, false)
			if resp.StatusCode != http.StatusFound && !isConsentPage(body) {
				t.Fatalf("alice's first sign-in: %d %q", resp.StatusCode, pageErrorCode(body))
			}
			var set *http.Cookie
			for _, ck := range resp.Cookies() {
				if ck.Name == deviceCookieName {
					set = ck
				}
			}
			if set == nil || !set.Secure || !set.HttpOnly || set.SameSite != http.SameSiteStrictMode || set.MaxAge < 86400*30 || set.Path != "/" {
				t.Fatalf("device cookie %+v, want Secure, HttpOnly, SameSite=Strict, Path=/, long-lived", set)
			}
			bobs := e.newBrowser()
			e.submitLogin(bobs, e.loginForm(t, bobs), bob, pw, false)
			alices, bobsCookie := e.deviceCookie(t, owner), e.deviceCookie(t, bobs)

			// The attacker locks alice's account from another browser.
			attacker := e.newBrowser()
			f := e.loginForm(t, attacker)
			for range 10 {
				resp, body := e.submitLogin(attacker, f, alice, "guess", false)
				wantLoginAgain(t, resp, body, "AADSTS50126")
			}
			resp, body = e.submitLogin(attacker, f, alice, pw, false)
			wantLoginAgain(t, resp, body, "AADSTS50053")

			c := tc.browser(e, alices, bobsCookie)
			resp, body = e.submitLogin(c, e.loginForm(t, c), alice, pw, false)
			if tc.in {
				if resp.StatusCode != http.StatusFound && !isConsentPage(body) {
					t.Errorf("alice on her device while locked elsewhere: %d %q, want signed in", resp.StatusCode, pageErrorCode(body))
				}
				return
			}
			wantLoginAgain(t, resp, body, "AADSTS50053")
		})
	}
}

// TestDeviceCookieOwnCounter: a known device's failures count under its own key, with the
// account's limit: ten wrong passwords there lock that device (even the right password is
// refused on it) but not the account elsewhere.
func TestDeviceCookieOwnCounter(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	owner := e.newBrowser()
	e.submitLogin(owner, e.loginForm(t, owner), alice, pw, false)
	dev := e.withCookie(e.deviceCookie(t, owner))
	f := e.loginForm(t, dev)
	for range 10 {
		resp, body := e.submitLogin(dev, f, alice, "typo", false)
		wantLoginAgain(t, resp, body, "AADSTS50126")
	}
	resp, body := e.submitLogin(dev, f, alice, pw, false)
	wantLoginAgain(t, resp, body, "AADSTS50053")
	other := e.newBrowser()
	resp, body = e.submitLogin(other, e.loginForm(t, other), alice, pw, false)
	if resp.StatusCode != http.StatusFound && !isConsentPage(body) {
		t.Errorf("alice elsewhere after her device locked itself: %d %q, want signed in", resp.StatusCode, pageErrorCode(body))
	}
}
