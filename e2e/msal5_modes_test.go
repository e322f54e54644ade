package e2e

import (
	"strings"
	"testing"
	"time"

	"github.com/sigil-idp/sigil/e2e/browser"
	"github.com/sigil-idp/sigil/e2e/harness"
)

// TestMSAL5AuthorizePost runs msal-browser 5 with httpMethod "POST": the authorization
// request is a form post into the popup, the hidden iframe and the redirect, and each
// completes.
func TestMSAL5AuthorizePost(t *testing.T) {
	e := harness.Start(t, harness.Options{})
	p := e.OpenApp("msal5.html")
	post := `{httpMethod: "POST"}`

	posts := e.Requests.AuthorizePosts()
	r := mustSucceed(t, "loginPopup (POST)", e.WithPopup(p, "t.loginPopup("+userRead+", "+post+")", harness.Alice))
	if r.Account == nil || r.Account.Username != harness.Alice || e.Requests.AuthorizePosts() <= posts {
		t.Fatalf("loginPopup with POST: %s, authorize posts %d → %d", r, posts, e.Requests.AuthorizePosts())
	}

	posts, iframes := e.Requests.AuthorizePosts(), e.Requests.SilentAuthorizeRequests()
	r = mustSucceed(t, "ssoSilent (POST)", e.Call(p, "t.ssoSilent("+userRead+", "+post+")"))
	if r.AccessToken == "" || e.Requests.AuthorizePosts() != posts+1 || e.Requests.SilentAuthorizeRequests() != iframes+1 {
		t.Fatalf("ssoSilent with POST: %s; authorize posts %d → %d, prompt=none %d → %d", r, posts,
			e.Requests.AuthorizePosts(), iframes, e.Requests.SilentAuthorizeRequests())
	}

	if _, err := browser.Eval[bool](p, "t.loginRedirect("+userRead+", "+post+")"); err != nil {
		t.Fatal(err)
	}
	// The session is live: Sigil answers the posted request with a redirect at once.
	if _, err := p.WaitURL(func(u string) bool { return strings.HasPrefix(u, e.SPA) && strings.Contains(u, "state=") }, 20*time.Second); err != nil {
		t.Fatalf("loginRedirect with POST did not come back: %v", err)
	}
	e.WaitReady(p)
	r, err := browser.Eval[harness.Result](p, "window.redirectResult")
	if err != nil || r.Error != nil || r.Account == nil || r.AccessToken == "" {
		t.Fatalf("loginRedirect with POST, handleRedirectPromise: %s, %v", r, err)
	}
}

// TestMSAL5OIDCMode runs msal-browser 5 with protocolMode "OIDC", which reads the metadata
// at {authority}/.well-known/openid-configuration and rewrites nothing: popup sign-in, the
// refresh token, and the hidden iframe once the refresh token is gone.
func TestMSAL5OIDCMode(t *testing.T) {
	e := harness.Start(t, harness.Options{})
	p := e.OpenApp("msal5.html?protocolMode=OIDC")
	if mode, err := browser.Eval[string](p, "t.mode()"); err != nil || mode != "OIDC" {
		t.Fatalf("protocolMode = %q, %v; want OIDC", mode, err)
	}
	r := mustSucceed(t, "loginPopup (OIDC)", e.WithPopup(p, "t.loginPopup("+userRead+")", harness.Alice))
	if r.Account == nil || r.Account.Username != harness.Alice {
		t.Fatalf("loginPopup in OIDC mode: %s", r)
	}
	tokens := e.Requests.TokenRequests()
	mustSucceed(t, "forceRefresh (OIDC)", e.Call(p, "t.silent("+userRead+", {forceRefresh: true})"))
	if e.Requests.TokenRequests() != tokens+1 {
		t.Fatalf("forceRefresh did not use the refresh token: token requests %d → %d", tokens, e.Requests.TokenRequests())
	}
	forget(t, p, "refreshtoken")
	iframes := e.Requests.SilentAuthorizeRequests()
	mustSucceed(t, "silent through the iframe (OIDC)", e.Call(p, "t.silent("+userRead+", {forceRefresh: true})"))
	if e.Requests.SilentAuthorizeRequests() != iframes+1 {
		t.Fatalf("no hidden iframe: prompt=none %d → %d", iframes, e.Requests.SilentAuthorizeRequests())
	}
	if e.Requests.Count(func(r harness.Request) bool {
		return strings.HasSuffix(r.Path, "/contoso.test/.well-known/openid-configuration")
	}) == 0 {
		t.Error("OIDC mode never read {authority}/.well-known/openid-configuration")
	}
}

// TestMSAL5EARMode runs msal-browser 5 with protocolMode "EAR" (Encrypted Authorize
// Response): every authorization request is a form post carrying the browser's key, and
// Sigil answers with the token response encrypted to it — no code, no token request — in
// the popup, the hidden iframe and the redirect.
func TestMSAL5EARMode(t *testing.T) {
	e := harness.Start(t, harness.Options{})
	p := e.OpenApp("msal5.html?protocolMode=EAR")
	if mode, err := browser.Eval[string](p, "t.mode()"); err != nil || mode != "EAR" {
		t.Fatalf("protocolMode = %q, %v; want EAR", mode, err)
	}
	tokens, posts := e.Requests.TokenRequests(), e.Requests.AuthorizePosts()
	r := mustSucceed(t, "loginPopup (EAR)", e.WithPopup(p, "t.loginPopup("+userRead+")", harness.Alice))
	if r.Account == nil || r.Account.Username != harness.Alice || r.AccessToken == "" {
		t.Fatalf("loginPopup in EAR mode: %s", r)
	}
	if e.Requests.TokenRequests() != tokens || e.Requests.AuthorizePosts() <= posts {
		t.Fatalf("EAR popup: token requests %d → %d (want none: the tokens come encrypted), authorize posts %d → %d",
			tokens, e.Requests.TokenRequests(), posts, e.Requests.AuthorizePosts())
	}

	// The refresh token that came encrypted works like any spa refresh token.
	tokens = e.Requests.TokenRequests()
	mustSucceed(t, "forceRefresh (EAR)", e.Call(p, "t.silent("+userRead+", {forceRefresh: true})"))
	if e.Requests.TokenRequests() != tokens+1 {
		t.Fatalf("forceRefresh did not use the refresh token: token requests %d → %d", tokens, e.Requests.TokenRequests())
	}

	forget(t, p, "refreshtoken")
	tokens, iframes := e.Requests.TokenRequests(), e.Requests.SilentAuthorizeRequests()
	r = mustSucceed(t, "silent through the iframe (EAR)", e.Call(p, "t.silent("+userRead+", {forceRefresh: true})"))
	if r.FromCache || e.Requests.SilentAuthorizeRequests() != iframes+1 || e.Requests.TokenRequests() != tokens {
		t.Fatalf("EAR iframe: %s; prompt=none %d → %d, token requests %d → %d", r, iframes,
			e.Requests.SilentAuthorizeRequests(), tokens, e.Requests.TokenRequests())
	}

	if err := e.Browser.DeleteCookies(e.IdP + "/"); err != nil {
		t.Fatal(err)
	}
	forget(t, p, "refreshtoken")
	r = e.Call(p, "t.silent("+userRead+", {forceRefresh: true})")
	if r.Error == nil || !r.Error.InteractionRequired || r.MS >= 3000 {
		t.Fatalf("EAR iframe without a session: want InteractionRequiredAuthError in under 3 s, got %s", r)
	}

	if _, err := browser.Eval[bool](p, "t.loginRedirect("+userRead+")"); err != nil {
		t.Fatal(err)
	}
	if err := e.SignIn(p, harness.Alice); err != nil {
		t.Fatal(err)
	}
	// The response lands on the redirect URI (msal5.html); MSAL then returns to the page the
	// flow started on, which has the query, and finishes there.
	start := e.SPA + "/msal5.html?protocolMode=EAR"
	if _, err := p.WaitURL(func(u string) bool { return u == start }, 20*time.Second); err != nil {
		t.Fatalf("loginRedirect in EAR mode never returned to %s: %v", start, err)
	}
	e.WaitReady(p)
	r, err := browser.Eval[harness.Result](p, "window.redirectResult")
	if err != nil || r.Error != nil || r.Account == nil || r.Account.Username != harness.Alice || r.AccessToken == "" {
		t.Fatalf("loginRedirect in EAR mode, handleRedirectPromise: %s, %v", r, err)
	}
}
