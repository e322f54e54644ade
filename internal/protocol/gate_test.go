package protocol_test

import (
	"net/http"
	"testing"
	"time"

	"github.com/sigil-idp/sigil/internal/config"
)

// TestAddressGateAnswers: past the per-address burst, a password check is refused before it
// is hashed or counted — the sign-in form re-shows with AADSTS50053 and 429, the password
// grant answers 429 temporarily_unavailable with Retry-After — while other addresses and
// loopback clients go on, and the address gets checks again as its bucket refills.
func TestAddressGateAnswers(t *testing.T) {
	t.Parallel()
	e := newEnv(t, func(c *config.Config) {
		withROPC(c)
		c.LoginThrottle.AddressBurst, c.LoginThrottle.AddressRefill = 2, config.Duration(30*time.Second)
		c.TrustedProxies = []string{"127.0.0.1"}
	})
	from := http.Header{"X-Forwarded-For": {"198.51.100.7"}}
	login := func(c *http.Client, username, password string) (*http.Response, string) {
		f := e.loginForm(t, c)
		f.Set("username", username)
		f.Set("password", password)
		return e.postForm(c, e.url+"/-/login", f, from)
	}
	resp, m := e.token("contoso.test", passwordForm(ropcCLI, alice, "wrong", ropcScope), from)
	wantTokenError(t, resp, m, 400, wantErr{"invalid_grant", 50126})
	c := e.newBrowser()
	resp, body := login(c, bob, "wrong")
	wantLoginAgain(t, resp, body, "AADSTS50126")

	resp, m = e.token("contoso.test", passwordForm(ropcCLI, alice, pw, ropcScope), from)
	wantTokenError(t, resp, m, 429, wantErr{"temporarily_unavailable", 50053})
	if got := resp.Header.Get("Retry-After"); got != "30" {
		t.Errorf("Retry-After %q, want 30", got)
	}
	resp, body = login(c, alice, pw)
	if resp.StatusCode != http.StatusTooManyRequests || !isLoginPage(body) || pageErrorCode(body) != "AADSTS50053" ||
		resp.Header.Get("Retry-After") != "30" {
		t.Errorf("the form past the burst: %d %q Retry-After %q, want 429 AADSTS50053 Retry-After 30",
			resp.StatusCode, pageErrorCode(body), resp.Header.Get("Retry-After"))
	}

	// Another address, and this machine itself (loopback clients pass the gate), go on.
	resp, m = e.token("contoso.test", passwordForm(ropcCLI, alice, pw, ropcScope), http.Header{"X-Forwarded-For": {"198.51.100.8"}})
	if resp.StatusCode != http.StatusOK {
		t.Errorf("another address: %d %v, want tokens", resp.StatusCode, m)
	}
	for range 3 {
		if resp, m = e.token("contoso.test", passwordForm(ropcCLI, alice, pw, ropcScope), nil); resp.StatusCode != http.StatusOK {
			t.Errorf("from loopback: %d %v, want tokens", resp.StatusCode, m)
		}
	}
	e.clock.Advance(30 * time.Second)
	resp, m = e.token("contoso.test", passwordForm(ropcCLI, alice, pw, ropcScope), from)
	if resp.StatusCode != http.StatusOK {
		t.Errorf("after a refill: %d %v, want tokens", resp.StatusCode, m)
	}
}
