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
