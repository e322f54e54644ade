package e2e

import (
	"strings"
	"testing"
	"time"

	"github.com/sigil-idp/sigil/e2e/browser"
	"github.com/sigil-idp/sigil/e2e/harness"
)

var userRead = `["User.Read"]`

// mustSucceed fails the test when an MSAL call returned an error.
func mustSucceed(t *testing.T, what string, r harness.Result) harness.Result {
	t.Helper()
	if r.Error != nil {
		t.Fatalf("%s failed: %s", what, r)
	}
	return r
}

// TestMSAL5SilentPath walks msal-browser 5.x through the pattern: sign in by popup, a silent
// token from the cache (no request), forceRefresh (the refresh token), the API call, the
// hidden iframe once the refresh token is gone, then — with Sigil's session ended too — a
// fast InteractionRequiredAuthError and recovery by popup.
func TestMSAL5SilentPath(t *testing.T) {
	e := harness.Start(t, harness.Options{})
	p := e.OpenApp("msal5.html")
	if v, _ := browser.Eval[string](p, "t.version()"); !strings.HasPrefix(v, "5.") {
		t.Fatalf("test page runs msal-browser %q, want 5.x", v)
	}

	r := mustSucceed(t, "loginPopup", e.WithPopup(p, "t.loginPopup("+userRead+")", harness.Alice))
	if r.Account == nil || r.Account.Username != harness.Alice || r.Account.TenantID != harness.TenantID {
		t.Fatalf("loginPopup account: %s", r)
	}
	if r.Account.HomeAccountID != r.Account.IDTokenClaims["oid"].(string)+"."+harness.TenantID {
		t.Fatalf("home account id %q is not oid.tid (client_info)", r.Account.HomeAccountID)
	}

	silentPath(t, e, p, 1)

	// Sigil's session ends (its cookie is gone) and so does the refresh token: the silent
	// call must fail fast with InteractionRequiredAuthError, not time out.
	if err := e.Browser.DeleteCookies(e.IdP + "/"); err != nil {
		t.Fatal(err)
	}
	forget(t, p, "refreshtoken")
	r = e.Call(p, "t.silent("+userRead+", {forceRefresh: true})")
	if r.Error == nil || !r.Error.InteractionRequired || r.MS >= 2000 {
		t.Fatalf("want InteractionRequiredAuthError in under 2 s, got %s", r)
	}
	r = mustSucceed(t, "acquireTokenPopup", e.WithPopup(p, "t.tokenPopup("+userRead+")", harness.Alice))
	if r.AccessToken == "" || r.Account.Username != harness.Alice {
		t.Fatalf("acquireTokenPopup: %s", r)
	}
}

// TestMSAL5RedirectAndLogout signs in with loginRedirect and handleRedirectPromise, then
// signs out with logoutRedirect, which must land on the post-logout redirect URI with Sigil's
// session gone.
func TestMSAL5RedirectAndLogout(t *testing.T) {
	e := harness.Start(t, harness.Options{})
	p := e.OpenApp("msal5.html")
	if _, err := browser.Eval[bool](p, "t.loginRedirect("+userRead+")"); err != nil {
		t.Fatal(err)
	}
	if err := e.SignIn(p, harness.Alice); err != nil {
		t.Fatal(err)
	}
	e.WaitReady(p)
	r, err := browser.Eval[harness.Result](p, "window.redirectResult")
	if err != nil || r.Error != nil || r.Account == nil || r.Account.Username != harness.Alice || r.AccessToken == "" {
		t.Fatalf("handleRedirectPromise: %s, %v", r, err)
	}
	mustSucceed(t, "silent after redirect", e.Call(p, "t.silent("+userRead+")"))

	if _, err := browser.Eval[bool](p, "t.logoutRedirect()"); err != nil {
		t.Fatal(err)
	}
	landed, err := p.WaitURL(func(u string) bool { return strings.HasPrefix(u, e.SPA+"/signed-out.html") }, 20*time.Second)
	if err != nil {
		t.Fatalf("logoutRedirect did not land on the post-logout URI: %v", err)
	}
	if !strings.Contains(landed, "state=") {
		t.Fatalf("post-logout redirect %s carries no state", landed)
	}
	cookies, err := e.Browser.Cookies(e.IdP + "/")
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range cookies {
		if c.Name == "__Host-sigil-session" {
			t.Fatalf("Sigil's session cookie survived sign-out: %+v", c)
		}
	}
}

// silentPath walks the silent half of the pattern after a sign-in: a token from the cache (no
// request), forceRefresh the given number of times (the refresh token alone each time), the
// API call with the last access token, then the hidden iframe once the refresh token is gone.
func silentPath(t *testing.T, e *harness.Env, p *browser.Page, refreshes int) {
	t.Helper()
	tokens := e.Requests.TokenRequests()
	r := mustSucceed(t, "silent from cache", e.Call(p, "t.silent("+userRead+")"))
	if !r.FromCache || e.Requests.TokenRequests() != tokens {
		t.Fatalf("silent call was not served from the cache: fromCache=%v, token requests %d → %d", r.FromCache, tokens, e.Requests.TokenRequests())
	}
	for i := range refreshes {
		tokens, iframes := e.Requests.TokenRequests(), e.Requests.SilentAuthorizeRequests()
		r = mustSucceed(t, "forceRefresh", e.Call(p, "t.silent("+userRead+", {forceRefresh: true})"))
		if r.FromCache || e.Requests.TokenRequests() != tokens+1 || e.Requests.SilentAuthorizeRequests() != iframes {
			t.Fatalf("forceRefresh %d did not use the refresh token alone: fromCache=%v tokens %d→%d iframes %d→%d",
				i+1, r.FromCache, tokens, e.Requests.TokenRequests(), iframes, e.Requests.SilentAuthorizeRequests())
		}
	}

	api, err := browser.EvalTimeout[struct {
		Status int            `json:"status"`
		Body   map[string]any `json:"body"`
	}](p, "t.callAPI("+jsString(e.IdP+"/v1.0/me")+", "+jsString(r.AccessToken)+")", 20*time.Second)
	if err != nil || api.Status != 200 || api.Body["userPrincipalName"] != harness.Alice {
		t.Fatalf("GET /v1.0/me with the bearer token: %+v, %v", api, err)
	}

	forget(t, p, "refreshtoken")
	tokens, iframes := e.Requests.TokenRequests(), e.Requests.SilentAuthorizeRequests()
	mustSucceed(t, "silent without a refresh token", e.Call(p, "t.silent("+userRead+", {forceRefresh: true})"))
	if e.Requests.SilentAuthorizeRequests() != iframes+1 || e.Requests.TokenRequests() != tokens+1 {
		t.Fatalf("without a refresh token the hidden iframe should get a code: iframes %d→%d, tokens %d→%d",
			iframes, e.Requests.SilentAuthorizeRequests(), tokens, e.Requests.TokenRequests())
	}
}

// forget removes cached MSAL entries whose key contains kind.
func forget(t *testing.T, p *browser.Page, kind string) {
	t.Helper()
	n, err := browser.Eval[int](p, "t.forget(["+jsString(kind)+"])")
	if err != nil || n == 0 {
		t.Fatalf("removing cached %s: removed %d, %v", kind, n, err)
	}
}

// jsString quotes s for JavaScript.
func jsString(s string) string {
	return "'" + strings.NewReplacer(`\`, `\\`, `'`, `\'`).Replace(s) + "'"
}
