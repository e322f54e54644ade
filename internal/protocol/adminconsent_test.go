package protocol_test

import (
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/sigil-idp/sigil/internal/config"
)

// withAdmin makes alice an administrator of contoso.
func withAdmin(c *config.Config) { c.Tenants[0].Users[0].Admin = true }

// TestAdminConsentEndpoint: an administrator grants an app every scope of an API for the
// whole tenant at /adminconsent; the answer comes back on the redirect URI's query; a user who
// never consented then gets tokens with those scopes and no consent page; a user who is no
// administrator is refused there with AADSTS90094.
func TestAdminConsentEndpoint(t *testing.T) {
	t.Parallel()
	e := newEnv(t, withAdmin)
	q := url.Values{"client_id": {idOnlyApp}, "redirect_uri": {spaRedirect}, "scope": {"api://todo/.default"}, "state": {"s+1/="}}
	adminURL := e.url + "/contoso.test/v2.0/adminconsent?" + q.Encode()

	c := e.newBrowser()
	resp, body := e.get(c, adminURL)
	if !isLoginPage(body) {
		t.Fatalf("adminconsent without a session: %d, want the sign-in page", resp.StatusCode)
	}
	resp, body = e.submitLogin(c, hiddenFields(body), alice, pw, false)
	if got := consentCheckboxes(body); !slices.Contains(got, "api://todo/Todo.Admin") || !slices.Contains(got, "api://todo/Todo.Read") {
		t.Fatalf("consent page for an administrator offers %v, want every scope of api://todo", got)
	}
	v := e.finish(c, resp, body)
	if v.Get("admin_consent") != "True" || v.Get("tenant") != tenantID || v.Get("state") != "s+1/=" || !strings.Contains(v.Get("scope"), "api://todo/Todo.Admin") {
		t.Fatalf("adminconsent answer %v", v)
	}

	// bob never consented: the tenant-wide grant covers him, with no consent page.
	verifier, challenge := pkce()
	p := spaParams(challenge, "api://todo/Todo.Admin api://todo/Todo.Read openid")
	p.Set("client_id", idOnlyApp)
	got := e.authorizeAs(e.newBrowser(), e.authorizeURL("contoso.test", p), bob, false)
	if got.Get("code") == "" {
		t.Fatalf("bob after admin consent: %v", got)
	}
	resp2, tok := e.token("contoso.test", redeemForm(idOnlyApp, got.Get("code"), verifier, p.Get("scope")), spaOriginHeader())
	if resp2.StatusCode != http.StatusOK || !sameSet(claims(t, str(tok, "access_token"))["scp"].(string), "Todo.Admin Todo.Read") {
		t.Fatalf("bob's token after admin consent: %d %v", resp2.StatusCode, tok)
	}

	// bob is no administrator.
	b := e.newBrowser()
	_, body = e.get(b, adminURL)
	resp, body = e.submitLogin(b, hiddenFields(body), bob, pw, false)
	wantRedirectError(t, resp, body, spaRedirect, "query", wantErr{"access_denied", 90094}, ptr("s+1/="))
}

// TestAdminConsentPrompt: prompt=consent by an administrator offers admin-only scopes and
// grants them tenant-wide; without prompt=consent, or as a user, they stay AADSTS90094.
func TestAdminConsentPrompt(t *testing.T) {
	t.Parallel()
	e := newEnv(t, withAdmin)
	_, challenge := pkce()
	p := spaParams(challenge, "api://todo/Todo.Admin openid")
	p.Set("client_id", idOnlyApp)
	p.Set("response_mode", "query")

	u := e.newBrowser()
	_, body := e.get(u, e.authorizeURL("contoso.test", p))
	resp, body := e.submitLogin(u, hiddenFields(body), bob, pw, false)
	wantRedirectError(t, resp, body, spaRedirect, "query", wantErr{"access_denied", 90094}, ptr(p.Get("state")))

	a := e.newBrowser()
	p.Set("prompt", "consent")
	_, body = e.get(a, e.authorizeURL("contoso.test", p))
	resp, body = e.submitLogin(a, hiddenFields(body), alice, pw, false)
	if got := consentCheckboxes(body); !slices.Contains(got, "api://todo/Todo.Admin") {
		t.Fatalf("prompt=consent by an administrator offers %v, want api://todo/Todo.Admin", got)
	}
	if v := e.finish(a, resp, body); v.Get("code") == "" {
		t.Fatalf("after the administrator's consent: %v", v)
	}
	p.Del("prompt")
	if v := e.authorizeAs(e.newBrowser(), e.authorizeURL("contoso.test", p), bob, false); v.Get("code") == "" {
		t.Fatalf("bob after the administrator's prompt=consent: %v", v)
	}
}
