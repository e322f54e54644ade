package protocol_test

import (
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/sigil-idp/sigil/internal/config"
)

// withShareScope adds a second user-consentable scope to api://todo, so a subset of one
// API's scopes can be granted.
func withShareScope(c *config.Config) {
	c.Tenants[0].APIs[0].Scopes = append(c.Tenants[0].APIs[0].Scopes, config.Scope{Value: "Todo.Share", Description: "Share your todos"})
}

// consentPage signs alice in to the spa app in browser c (when needed) for scope and returns
// the consent page that follows, with the verifier of the request.
func (e *env) consentPage(t *testing.T, c *http.Client, scope, state string) (string, string) {
	t.Helper()
	verifier, challenge := pkce()
	p := spaParams(challenge, scope)
	p.Set("state", state)
	resp, body := e.get(c, e.authorizeURL("contoso.test", p))
	if isLoginPage(body) {
		resp, body = e.submitLogin(c, hiddenFields(body), alice, pw, false)
	}
	if resp.StatusCode != http.StatusOK || !isConsentPage(body) {
		t.Fatalf("%d, want the consent page: %.300s", resp.StatusCode, body)
	}
	return body, verifier
}

// answerConsent posts the consent page with the given button and ticked scopes.
func (e *env) answerConsent(c *http.Client, page, button string, ticked ...string) (*http.Response, string) {
	f := hiddenFields(page)
	f.Set("consent", button)
	for _, s := range ticked {
		f.Add("scope", s)
	}
	return e.postForm(c, e.url+"/-/consent", f, nil)
}

// TestConsent covers the consent page: what it lists, declining, granting a subset, and
// incremental consent.
func TestConsent(t *testing.T) {
	t.Parallel()
	e := newEnv(t, withShareScope)

	t.Run("lists the scopes not yet granted", func(t *testing.T) {
		c := e.newBrowser()
		page, _ := e.consentPage(t, c, "api://todo/Todo.Read api://todo/todo.share User.Read openid profile offline_access", "s")
		want := []string{"api://todo/Todo.Read", "api://todo/todo.share", "user.read", "profile", "offline_access"}
		if got := consentCheckboxes(page); !slices.Equal(got, want) {
			t.Errorf("checkboxes %q, want %q", got, want)
		}
		if !strings.Contains(page, `button type="submit" name="consent" value="decline"`) {
			t.Error("consent page lacks button[name=consent][value=decline]")
		}
		if !strings.Contains(page, "Sign you in") || slices.Contains(consentCheckboxes(page), "openid") {
			t.Error("openid must be shown without a checkbox")
		}
	})

	t.Run("admin-granted scope is not offered", func(t *testing.T) {
		page, _ := e.consentPage(t, e.newBrowser(), "api://todo/Todo.Write api://todo/Todo.Read openid", "s")
		if got, want := consentCheckboxes(page), []string{"api://todo/Todo.Read"}; !slices.Equal(got, want) {
			t.Errorf("checkboxes %q, want %q", got, want)
		}
	})

	t.Run("decline", func(t *testing.T) {
		c := e.newBrowser()
		page, _ := e.consentPage(t, c, "api://todo/Todo.Read openid profile offline_access", "dec+line/=")
		resp, body := e.answerConsent(c, page, "decline", "api://todo/Todo.Read")
		wantRedirectError(t, resp, body, spaRedirect, "fragment", wantErr{"access_denied", 65004}, ptr("dec+line/="))
		// Still signed in: a silent request needs consent, not a sign-in.
		resp, body = e.get(c, e.authorizeURL("contoso.test", silentParams("api://todo/Todo.Read openid profile offline_access")))
		wantRedirectError(t, resp, body, spaRedirect, "fragment", wantErr{"consent_required", 65001}, ptr("st+/=ate"))
	})

	t.Run("unticking every scope of the resource is a decline", func(t *testing.T) {
		c := e.newBrowser()
		page, _ := e.consentPage(t, c, "api://todo/Todo.Read api://todo/Todo.Share openid profile offline_access", "s")
		resp, body := e.answerConsent(c, page, "accept", "profile", "offline_access")
		wantRedirectError(t, resp, body, spaRedirect, "fragment", wantErr{"access_denied", 65004}, ptr("s"))
	})

	t.Run("forged scopes are not granted", func(t *testing.T) {
		c := e.newBrowser()
		page, _ := e.consentPage(t, c, "api://todo/Todo.Read openid", "s")
		resp, body := e.answerConsent(c, page, "accept", "api://todo/Todo.Admin", "api://todo/Todo.Share")
		wantRedirectError(t, resp, body, spaRedirect, "fragment", wantErr{"access_denied", 65004}, ptr("s"))
	})
}

// TestConsentSubset: the user grants part of what was asked; the token response's scope and
// the access token's scp list exactly what was granted, and a later request asks only for
// what is still missing (incremental consent).
func TestConsentSubset(t *testing.T) {
	t.Parallel()
	e := newEnv(t, withShareScope)
	c := e.newBrowser()
	const asked = "api://todo/Todo.Read api://todo/Todo.Share openid profile offline_access"
	page, verifier := e.consentPage(t, c, asked, "s")
	resp, body := e.answerConsent(c, page, "accept", "api://todo/Todo.Read", "offline_access")
	v := authResponse(t, resp, body, spaRedirect, "fragment")
	r, tok := e.token("contoso.test", redeemForm(spaClient, v.Get("code"), verifier, asked), spaOriginHeader())
	if r.StatusCode != http.StatusOK {
		t.Fatalf("redeem: %d %v", r.StatusCode, tok)
	}
	if got, want := str(tok, "scope"), "openid api://todo/Todo.Read offline_access"; !sameSet(got, want) {
		t.Errorf("scope %q, want %q", got, want)
	}
	if got := claims(t, str(tok, "access_token"))["scp"]; got != "Todo.Read" {
		t.Errorf("scp %q, want Todo.Read", got)
	}
	if str(tok, "refresh_token") == "" {
		t.Error("offline_access was granted but no refresh token came back")
	}

	// Refreshing with the full scope string of the first request asks for what was not
	// granted: consent_required.
	r, body2 := e.token("contoso.test", refreshForm(spaClient, str(tok, "refresh_token"), asked), spaOriginHeader())
	wantTokenError(t, r, body2, 400, wantErr{"invalid_grant", 65001})

	// The next interactive request asks only for the missing scopes.
	page, verifier = e.consentPage(t, c, asked, "s2")
	if got, want := consentCheckboxes(page), []string{"api://todo/Todo.Share", "profile"}; !slices.Equal(got, want) {
		t.Errorf("incremental consent checkboxes %q, want %q", got, want)
	}
	resp, body = e.answerConsent(c, page, "accept", "api://todo/Todo.Share", "profile")
	v = authResponse(t, resp, body, spaRedirect, "fragment")
	r, tok = e.token("contoso.test", redeemForm(spaClient, v.Get("code"), verifier, asked), spaOriginHeader())
	if got := claims(t, str(tok, "access_token"))["scp"]; r.StatusCode != 200 || !sameSet(got.(string), "Todo.Read Todo.Share") {
		t.Errorf("after incremental consent: %d scp %v, want Todo.Read Todo.Share", r.StatusCode, got)
	}
	if !sameSet(str(tok, "scope"), asked) {
		t.Errorf("scope %q, want %q", str(tok, "scope"), asked)
	}

	// Everything granted: no page any more.
	p := spaParams("", asked)
	_, challenge := pkce()
	p.Set("code_challenge", challenge)
	r, body = e.get(c, e.authorizeURL("contoso.test", p))
	if authResponse(t, r, body, spaRedirect, "fragment").Get("code") == "" {
		t.Errorf("with every scope granted: %d, want a code at once", r.StatusCode)
	}
}

// TestConsentPreauthorized: a preauthorized app never shows the consent page, and a
// user-consentable app shows it again for prompt=consent.
func TestConsentPreauthorized(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	c := e.newBrowser()
	verifier, challenge := pkce()
	p := spaParams(challenge, "api://todo/Todo.Read User.Read openid profile offline_access")
	p.Set("client_id", preClient)
	_, body := e.get(c, e.authorizeURL("contoso.test", p))
	resp, body := e.submitLogin(c, hiddenFields(body), alice, pw, false)
	v := authResponse(t, resp, body, spaRedirect, "fragment")
	if v.Get("code") == "" {
		t.Fatalf("preauthorized app: %d, want a code without consent: %.300s", resp.StatusCode, body)
	}
	r, tok := e.token("contoso.test", redeemForm(preClient, v.Get("code"), verifier, p.Get("scope")), spaOriginHeader())
	if r.StatusCode != 200 || claims(t, str(tok, "access_token"))["scp"] != "Todo.Read" {
		t.Errorf("preauthorized tokens: %d %v", r.StatusCode, tok)
	}

	// prompt=consent asks again even when everything is granted.
	e.spaTokens(c, "contoso.test", alice, todoScopes)
	q := validSPA()
	q.Set("prompt", "consent")
	_, body = e.get(c, e.authorizeURL("contoso.test", q))
	if !isConsentPage(body) {
		t.Error("prompt=consent did not show the consent page")
	}
}
