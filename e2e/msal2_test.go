package e2e

import (
	"strings"
	"testing"

	"github.com/sigil-idp/sigil/e2e/browser"
	"github.com/sigil-idp/sigil/e2e/harness"
)

// TestMSAL2PopupAndSilent covers msal-browser 2.x, which finds popup and iframe results by
// polling the window's URL (a same-origin read of the popup) rather than through 5.x's redirect bridge:
// Sigil's pages must be on another origin and send no Cross-Origin-Opener-Policy.
func TestMSAL2PopupAndSilent(t *testing.T) {
	e := harness.Start(t, harness.Options{})
	p := e.OpenApp("msal2.html")
	if v, _ := browser.Eval[string](p, "t.version()"); !strings.HasPrefix(v, "2.") {
		t.Fatalf("test page runs msal-browser %q, want 2.x", v)
	}
	r := mustSucceed(t, "loginPopup", e.WithPopup(p, "t.loginPopup("+userRead+")", harness.Alice))
	if r.Account == nil || r.Account.Username != harness.Alice {
		t.Fatalf("loginPopup account: %s", r)
	}
	tokens := e.Requests.TokenRequests()
	r = mustSucceed(t, "silent from cache", e.Call(p, "t.silent("+userRead+")"))
	if !r.FromCache || e.Requests.TokenRequests() != tokens {
		t.Fatalf("silent call was not served from the cache: %s", r)
	}
	forget(t, p, "refreshtoken")
	tokens, iframes := e.Requests.TokenRequests(), e.Requests.SilentAuthorizeRequests()
	r = mustSucceed(t, "silent by iframe", e.Call(p, "t.silent("+userRead+", {forceRefresh: true})"))
	if e.Requests.SilentAuthorizeRequests() != iframes+1 || e.Requests.TokenRequests() != tokens+1 || r.FromCache {
		t.Fatalf("without a refresh token the hidden iframe should get a code: iframes %d→%d, tokens %d→%d",
			iframes, e.Requests.SilentAuthorizeRequests(), tokens, e.Requests.TokenRequests())
	}
}
