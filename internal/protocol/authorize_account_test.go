package protocol_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"
)

const todoScopes = "api://todo/Todo.Read openid profile offline_access"

// silentParams are the parameters of MSAL's hidden-iframe request.
func silentParams(scope string) url.Values {
	_, challenge := pkce()
	p := spaParams(challenge, scope)
	p.Set("prompt", "none")
	return p
}

// idTokenOf redeems an authorization response's code for the spa app and returns the ID
// token's claims.
func (e *env) idTokenOf(t *testing.T, resp url.Values, verifier string) map[string]any {
	t.Helper()
	r, tok := e.token("contoso.test", redeemForm(spaClient, resp.Get("code"), verifier, todoScopes), spaOriginHeader())
	if r.StatusCode != http.StatusOK {
		t.Fatalf("redeem: %d %v", r.StatusCode, tok)
	}
	return claims(t, str(tok, "id_token"))
}

// twoAccounts returns a browser signed in as alice and then bob (both consented to
// todoScopes), and each one's ID token claims (alice's raw ID token under "_raw").
func (e *env) twoAccounts(t *testing.T) (*http.Client, map[string]any, map[string]any) {
	t.Helper()
	c := e.newBrowser()
	raw := str(e.spaTokens(c, "contoso.test", alice, todoScopes), "id_token")
	aliceID := claims(t, raw)
	aliceID["_raw"] = raw
	verifier, challenge := pkce()
	p := spaParams(challenge, todoScopes)
	p.Set("prompt", "login")
	p.Set("login_hint", bob)
	resp := e.authorizeAs(c, e.authorizeURL("contoso.test", p), bob, false)
	bobID := e.idTokenOf(t, resp, verifier)
	if aliceID["preferred_username"] != alice || bobID["preferred_username"] != bob {
		t.Fatalf("accounts %v and %v", aliceID["preferred_username"], bobID["preferred_username"])
	}
	return c, aliceID, bobID
}

// TestAuthorizeSilent covers prompt=none (and MSAL's no_session): it never renders a page,
// it answers at once with a code or an interaction error on the redirect URI, and the
// description of every interaction error contains interaction_required.
func TestAuthorizeSilent(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	two, aliceID, bobID := e.twoAccounts(t)
	one := e.newBrowser()
	e.spaTokens(one, "contoso.test", alice, todoScopes)

	tests := []struct {
		name    string
		browser *http.Client
		edit    func(url.Values)
		want    wantErr // code == "": a code for wantUser
		user    string
	}{
		{"no session", e.newBrowser(), nil, wantErr{"login_required", 50058}, ""},
		{"no_session prompt, no session", e.newBrowser(), func(p url.Values) { p.Set("prompt", "no_session") }, wantErr{"login_required", 50058}, ""},
		{"no session, form_post", e.newBrowser(), func(p url.Values) { p.Set("response_mode", "form_post") }, wantErr{"login_required", 50058}, ""},
		{"one account", one, nil, wantErr{}, alice},
		{"no_session prompt, one account", one, func(p url.Values) { p.Set("prompt", "no_session") }, wantErr{}, alice},
		{"two accounts, no hint", two, nil, wantErr{"interaction_required", 16000}, ""},
		{"two accounts, sid of bob", two, func(p url.Values) { p.Set("sid", bobID["sid"].(string)) }, wantErr{}, bob},
		{"two accounts, sid of alice", two, func(p url.Values) { p.Set("sid", aliceID["sid"].(string)) }, wantErr{}, alice},
		{"two accounts, login_hint claim of bob", two, func(p url.Values) { p.Set("login_hint", bobID["login_hint"].(string)) }, wantErr{}, bob},
		{"two accounts, login_hint username of bob", two, func(p url.Values) { p.Set("login_hint", strings.ToUpper(bob)) }, wantErr{}, bob},
		{"unknown sid", two, func(p url.Values) { p.Set("sid", "no-such-session") }, wantErr{"login_required", 160021}, ""},
		{"sid of a session of another browser", one, func(p url.Values) { p.Set("sid", bobID["sid"].(string)) }, wantErr{"login_required", 160021}, ""},
		{"login_hint of an account not signed in", one, func(p url.Values) { p.Set("login_hint", bobID["login_hint"].(string)) }, wantErr{"login_required", 160021}, ""},
		{"missing consent", one, func(p url.Values) { p.Set("scope", "User.Read openid profile offline_access") }, wantErr{"consent_required", 65001}, ""},
		{"admin-only scope not granted", one, func(p url.Values) { p.Set("scope", "api://todo/Todo.Admin openid") }, wantErr{"consent_required", 65001}, ""},
		{"admin-only scope granted tenant-wide", one, func(p url.Values) { p.Set("scope", "api://todo/Todo.Write openid") }, wantErr{}, alice},
		{"max_age satisfied", one, func(p url.Values) { p.Set("max_age", "3600") }, wantErr{}, alice},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			verifier, challenge := pkce()
			p := spaParams(challenge, todoScopes)
			p.Set("prompt", "none")
			p.Set("state", "s+1")
			if tt.edit != nil {
				tt.edit(p)
			}
			mode := p.Get("response_mode")
			resp, body := e.get(tt.browser, e.authorizeURL("contoso.test", p))
			if mode != "form_post" && resp.StatusCode != http.StatusFound {
				t.Fatalf("status %d, want an immediate 302 (never a page for prompt=none): %.300s", resp.StatusCode, body)
			}
			if tt.want.code != "" {
				v := wantRedirectError(t, resp, body, spaRedirect, mode, tt.want, ptr("s+1"))
				desc := v.Get("error_description")
				if !strings.Contains(desc, "interaction_required") || !strings.Contains(desc, tt.want.code) {
					t.Errorf("error_description %q, want it to contain %q and interaction_required", desc, tt.want.code)
				}
				return
			}
			v := authResponse(t, resp, body, spaRedirect, mode)
			if v.Get("code") == "" {
				t.Fatalf("response %v, want a code", v)
			}
			if got := e.idTokenOf(t, v, verifier)["preferred_username"]; got != tt.user {
				t.Errorf("code for %v, want %s", got, tt.user)
			}
		})
	}

	t.Run("max_age exceeded", func(t *testing.T) {
		e.clock.Advance(10 * time.Minute)
		p := silentParams(todoScopes)
		p.Set("max_age", "60")
		resp, body := e.get(one, e.authorizeURL("contoso.test", p))
		wantRedirectError(t, resp, body, spaRedirect, "fragment", wantErr{"login_required", 50058}, ptr("st+/=ate"))

		p.Del("prompt") // interactively, the form shows again
		resp, body = e.get(one, e.authorizeURL("contoso.test", p))
		if resp.StatusCode != http.StatusOK || !isLoginPage(body) {
			t.Errorf("interactive max_age exceeded: %d, want the sign-in form", resp.StatusCode)
		}
	})
}

// TestAuthorizeInteractive covers the pages an interactive request leads to: the sign-in
// form (pre-filled from login_hint), prompt=login, the account picker, and admin-only scopes.
func TestAuthorizeInteractive(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	_, _, bobID := e.twoAccounts(t)

	t.Run("login_hint pre-fills the username", func(t *testing.T) {
		for _, hint := range []string{bob, bobID["login_hint"].(string)} {
			p := validSPA()
			p.Set("login_hint", hint)
			resp, body := e.get(e.newBrowser(), e.authorizeURL("contoso.test", p))
			if resp.StatusCode != http.StatusOK || !isLoginPage(body) {
				t.Fatalf("login_hint %q: %d, want the sign-in form", hint, resp.StatusCode)
			}
			if got := loginUsername(body); got != bob {
				t.Errorf("login_hint %q pre-filled %q, want %q", hint, got, bob)
			}
		}
	})

	t.Run("sign-in page has the automation hooks", func(t *testing.T) {
		resp, body := e.get(e.newBrowser(), e.authorizeURL("contoso.test", validSPA()))
		for _, hook := range []string{`name="username"`, `name="password"`, `name="remember"`, `<button type="submit"`} {
			if !strings.Contains(body, hook) {
				t.Errorf("sign-in page lacks %s", hook)
			}
		}
		if resp.Header.Get("X-Frame-Options") != "DENY" && !strings.Contains(resp.Header.Get("Content-Security-Policy"), "frame-ancestors 'none'") {
			t.Error("sign-in page may be framed")
		}
	})

	t.Run("prompt=login re-authenticates, keeps sid, moves auth_time", func(t *testing.T) {
		c := e.newBrowser()
		first := claims(t, str(e.spaTokens(c, "contoso.test", alice, todoScopes), "id_token"))
		e.clock.Advance(2 * time.Minute)
		verifier, challenge := pkce()
		p := spaParams(challenge, todoScopes)
		p.Set("prompt", "login")
		resp, body := e.get(c, e.authorizeURL("contoso.test", p))
		if resp.StatusCode != http.StatusOK || !isLoginPage(body) {
			t.Fatalf("prompt=login with a session: %d, want the sign-in form", resp.StatusCode)
		}
		resp, body = e.submitLogin(c, hiddenFields(body), alice, pw, false)
		second := e.idTokenOf(t, e.finish(c, resp, body), verifier)
		if second["sid"] != first["sid"] {
			t.Errorf("sid %v after prompt=login, want %v", second["sid"], first["sid"])
		}
		if got, want := second["auth_time"].(float64), first["auth_time"].(float64)+120; got != want {
			t.Errorf("auth_time %v after prompt=login, want %v", got, want)
		}
	})

	t.Run("select_account shows the picker with one account", func(t *testing.T) {
		c := e.newBrowser()
		e.spaTokens(c, "contoso.test", alice, todoScopes)
		verifier, challenge := pkce()
		p := spaParams(challenge, todoScopes)
		p.Set("prompt", "select_account")
		resp, body := e.get(c, e.authorizeURL("contoso.test", p))
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("select_account: %d, want the picker", resp.StatusCode)
		}
		if got := accountButtons(body); len(got) != 1 || got[0] != alice {
			t.Errorf("picker buttons %v, want [%s]", got, alice)
		}
		if !strings.Contains(body, `data-action="other-account"`) {
			t.Error("picker lacks button[data-action=other-account]")
		}
		f := hiddenFields(body)
		f.Set("account", accountValue(t, body, alice))
		resp, body = e.postForm(c, e.url+"/-/pick", f, nil)
		v := authResponse(t, resp, body, spaRedirect, "fragment")
		if got := e.idTokenOf(t, v, verifier)["preferred_username"]; got != alice {
			t.Errorf("picked alice, code for %v", got)
		}

		// "Use another account" shows the sign-in form.
		p.Set("code_challenge", challenge)
		_, body = e.get(c, e.authorizeURL("contoso.test", p))
		f = hiddenFields(body)
		f.Set("account", "other")
		resp, body = e.postForm(c, e.url+"/-/pick", f, nil)
		if resp.StatusCode != http.StatusOK || !isLoginPage(body) {
			t.Errorf("other account: %d, want the sign-in form", resp.StatusCode)
		}
	})

	t.Run("select_account without a session shows the sign-in form", func(t *testing.T) {
		p := validSPA()
		p.Set("prompt", "select_account")
		resp, body := e.get(e.newBrowser(), e.authorizeURL("contoso.test", p))
		if resp.StatusCode != http.StatusOK || !isLoginPage(body) {
			t.Errorf("%d, want the sign-in form", resp.StatusCode)
		}
	})

	t.Run("two accounts without a hint show the picker", func(t *testing.T) {
		c, _, _ := e.twoAccounts(t)
		resp, body := e.get(c, e.authorizeURL("contoso.test", validSPA()))
		if got := accountButtons(body); resp.StatusCode != http.StatusOK || len(got) != 2 {
			t.Errorf("%d with buttons %v, want the picker with both accounts", resp.StatusCode, got)
		}
	})

	t.Run("admin-only scope interactively is access_denied 90094", func(t *testing.T) {
		c := e.newBrowser()
		p := validSPA()
		p.Set("scope", "api://todo/Todo.Admin openid profile")
		p.Set("state", "adm+in")
		resp, body := e.get(c, e.authorizeURL("contoso.test", p))
		if !isLoginPage(body) {
			t.Fatalf("%d, want the sign-in form first", resp.StatusCode)
		}
		resp, body = e.submitLogin(c, hiddenFields(body), alice, pw, false)
		wantRedirectError(t, resp, body, spaRedirect, "query", wantErr{"access_denied", 90094}, ptr("adm+in"))

		// With the session, at once; and for the web app, which has no tenant-wide grant of
		// Todo.Write at all.
		resp, body = e.get(c, e.authorizeURL("contoso.test", p))
		wantRedirectError(t, resp, body, spaRedirect, "query", wantErr{"access_denied", 90094}, ptr("adm+in"))
		w := url.Values{"client_id": {webClient}, "redirect_uri": {webRedirect}, "response_type": {"code"},
			"scope": {"api://todo/Todo.Write openid"}, "state": {"w"}}
		resp, body = e.get(c, e.authorizeURL("contoso.test", w))
		wantRedirectError(t, resp, body, webRedirect, "query", wantErr{"access_denied", 90094}, ptr("w"))
	})
}

// TestAuthorizeTenants covers the tenant rules of sign-in: a multi-tenant app signs in a
// user of another tenant through common and organizations (her tokens carry her tenant), a
// single-tenant app refuses her on the form.
func TestAuthorizeTenants(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	for _, tenant := range []string{"common", "organizations", "fabrikam.test", "COMMON"} {
		t.Run("multi-tenant app via "+tenant, func(t *testing.T) {
			c := e.newBrowser()
			verifier, challenge := pkce()
			p := spaParams(challenge, "openid profile offline_access User.Read")
			p.Set("client_id", multiClient)
			resp := e.authorizeAs(c, e.authorizeURL(tenant, p), carol, false)
			if resp.Get("code") == "" {
				t.Fatalf("no code: %v", resp)
			}
			r, tok := e.token(tenant, redeemForm(multiClient, resp.Get("code"), verifier, "openid profile offline_access User.Read"), spaOriginHeader())
			if r.StatusCode != http.StatusOK {
				t.Fatalf("redeem: %d %v", r.StatusCode, tok)
			}
			id, at := claims(t, str(tok, "id_token")), claims(t, str(tok, "access_token"))
			for name, c := range map[string]map[string]any{"ID": id, "access": at} {
				if c["tid"] != otherTenant || c["iss"] != e.url+"/"+otherTenant+"/v2.0" {
					t.Errorf("%s token tid %v iss %v, want carol's tenant %s", name, c["tid"], c["iss"], otherTenant)
				}
			}
			if id["preferred_username"] != carol {
				t.Errorf("preferred_username %v, want %s", id["preferred_username"], carol)
			}
		})
	}

	t.Run("single-tenant app refuses a user of another tenant", func(t *testing.T) {
		c := e.newBrowser()
		_, body := e.get(c, e.authorizeURL("contoso.test", validSPA()))
		resp, body := e.submitLogin(c, hiddenFields(body), carol, pw, false)
		if resp.StatusCode != http.StatusBadRequest || !isLoginPage(body) || resp.Header.Get("Location") != "" {
			t.Errorf("%d (Location %q), want the sign-in form again with 400", resp.StatusCode, resp.Header.Get("Location"))
		}
		if got := pageErrorCode(body); got != "AADSTS50020" {
			t.Errorf("data-error-code %q, want AADSTS50020", got)
		}
		// And carol was not signed in to this browser.
		resp, body = e.get(c, e.authorizeURL("contoso.test", silentParams(todoScopes)))
		wantRedirectError(t, resp, body, spaRedirect, "fragment", wantErr{"login_required", 50058}, ptr("st+/=ate"))
	})

	t.Run("a contoso session is not used by an app of fabrikam", func(t *testing.T) {
		c := e.newBrowser()
		e.spaTokens(c, "contoso.test", alice, todoScopes)
		p := silentParams("openid profile")
		p.Set("client_id", otherClient)
		resp, body := e.get(c, e.authorizeURL("fabrikam.test", p))
		wantRedirectError(t, resp, body, spaRedirect, "fragment", wantErr{"login_required", 50058}, ptr("st+/=ate"))
	})
}
