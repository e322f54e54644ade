package protocol_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"
)

const signedOut = spaOrigin + "/signed-out"

// logoutURL is the end-session endpoint with parameters.
func (e *env) logoutURL(tenant string, p url.Values) string {
	return e.url + "/" + tenant + "/oauth2/v2.0/logout?" + p.Encode()
}

// signOut signs browser c out of the SPA as MSAL's logoutRedirect does, with the ID token's
// login_hint, and expects the redirect back.
func (e *env) signOut(t *testing.T, c *http.Client, idToken string) {
	t.Helper()
	id := claims(t, idToken)
	p := url.Values{"post_logout_redirect_uri": {signedOut}, "logout_hint": {id["login_hint"].(string)}, "client_id": {spaClient}}
	if resp, _ := e.get(c, e.logoutURL("contoso.test", p)); resp.StatusCode != http.StatusFound {
		t.Fatalf("logout: %d", resp.StatusCode)
	}
}

// signedInAs reports which account a silent request in browser c gets a code for ("" when
// none is signed in), with the username as login_hint.
func (e *env) signedInAs(t *testing.T, c *http.Client, username string) bool {
	t.Helper()
	p := silentParams(todoScopes)
	p.Set("login_hint", username)
	resp, body := e.get(c, e.authorizeURL("contoso.test", p))
	v := authResponse(t, resp, body, spaRedirect, "fragment")
	switch {
	case v.Get("code") != "":
		return true
	case v.Get("error") == "login_required":
		return false
	}
	t.Fatalf("silent request for %s: %v", username, v)
	return false
}

// wantLogoutRedirect checks an immediate redirect to uri with state.
func wantLogoutRedirect(t *testing.T, resp *http.Response, uri, state string) {
	t.Helper()
	if resp.StatusCode != http.StatusFound {
		t.Fatalf("status %d, want 302 to %s", resp.StatusCode, uri)
	}
	want := uri + "?" + url.Values{"state": {state}}.Encode()
	if got := resp.Header.Get("Location"); got != want {
		t.Errorf("Location %q, want %q", got, want)
	}
}

// TestLogout covers RP-initiated logout: which account is signed out, where the browser
// goes, and what is refused.
func TestLogout(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	const state = "eyJpZCI6IjEifQ==+/|x y"

	t.Run("one session", func(t *testing.T) {
		c := e.newBrowser()
		tok := e.spaTokens(c, "contoso.test", alice, todoScopes)
		id := claims(t, str(tok, "id_token"))
		p := url.Values{"post_logout_redirect_uri": {signedOut}, "client-request-id": {"0194d4c2-5f1e-7c3a-9b1e-3f2a1b0c9d8e"},
			"state": {state}, "logout_hint": {id["login_hint"].(string)}, "pocd": {"1"}, "client_id": {spaClient}}
		resp, _ := e.get(c, e.logoutURL("contoso.test", p))
		wantLogoutRedirect(t, resp, signedOut, state)
		if e.signedInAs(t, c, alice) {
			t.Error("alice still signed in")
		}
		r, body := e.token("contoso.test", refreshForm(spaClient, str(tok, "refresh_token"), todoScopes), spaOriginHeader())
		wantTokenError(t, r, body, 400, wantErr{"invalid_grant", 50173})
	})

	t.Run("one session, no hint, a redirect URI as post-logout URI, POST", func(t *testing.T) {
		c := e.newBrowser()
		e.spaTokens(c, "contoso.test", alice, todoScopes)
		p := url.Values{"post_logout_redirect_uri": {spaRedirect}, "state": {state}, "client_id": {spaClient}}
		resp, _ := e.postForm(c, e.url+"/contoso.test/oauth2/v2.0/logout", p, fetchSite("same-site"))
		wantLogoutRedirect(t, resp, spaRedirect, state)
		if e.signedInAs(t, c, alice) {
			t.Error("alice still signed in")
		}
	})

	t.Run("MSAL 1.x: no client_id, no state, from the same site", func(t *testing.T) {
		c := e.newBrowser()
		e.spaTokens(c, "contoso.test", alice, todoScopes)
		resp, _ := e.getFrom(c, e.logoutURL("contoso.test", url.Values{"post_logout_redirect_uri": {signedOut},
			"client-request-id": {"0194d4c2-5f1e-7c3a-9b1e-3f2a1b0c9d8e"}}), fetchSite("same-site"))
		if resp.StatusCode != http.StatusFound || resp.Header.Get("Location") != signedOut {
			t.Errorf("%d Location %q, want 302 to %s", resp.StatusCode, resp.Header.Get("Location"), signedOut)
		}
	})

	// MSAL's logout request carries no client_id; for a multi-tenant app
	// its authority, and so its end_session_endpoint, is common.
	t.Run("multi-tenant app via common, as MSAL sends it", func(t *testing.T) {
		c := e.newBrowser()
		verifier, challenge := pkce()
		p := spaParams(challenge, "openid profile offline_access")
		p.Set("client_id", multiClient)
		v := e.authorizeAs(c, e.authorizeURL("common", p), carol, false)
		_, tok := e.token("common", redeemForm(multiClient, v.Get("code"), verifier, "openid profile offline_access"), spaOriginHeader())
		id := claims(t, str(tok, "id_token"))
		q := url.Values{"post_logout_redirect_uri": {spaRedirect}, "client-request-id": {"0194d4c2-5f1e-7c3a-9b1e-3f2a1b0c9d8e"},
			"state": {state}, "logout_hint": {id["login_hint"].(string)}}
		resp, body := e.get(c, e.logoutURL("common", q))
		if resp.StatusCode != http.StatusFound {
			t.Fatalf("%d (data-error-code %q), want 302 to %s", resp.StatusCode, pageErrorCode(body), spaRedirect)
		}
		wantLogoutRedirect(t, resp, spaRedirect, state)
		r, body2 := e.token("common", refreshForm(multiClient, str(tok, "refresh_token"), ""), spaOriginHeader())
		wantTokenError(t, r, body2, 400, wantErr{"invalid_grant", 50173})
	})

	refused := []struct {
		name   string
		p      func(id map[string]any) url.Values
		aadsts string
	}{
		{"unregistered post_logout_redirect_uri", func(map[string]any) url.Values {
			return url.Values{"post_logout_redirect_uri": {"https://evil.example/"}, "client_id": {spaClient}, "state": {"s"}}
		}, "AADSTS50011"},
		{"post_logout_redirect_uri of another app", func(map[string]any) url.Values {
			return url.Values{"post_logout_redirect_uri": {webRedirect}, "client_id": {spaClient}, "state": {"s"}}
		}, "AADSTS50011"},
		{"unregistered post_logout_redirect_uri without client_id", func(map[string]any) url.Values {
			return url.Values{"post_logout_redirect_uri": {"https://evil.example/"}}
		}, "AADSTS50011"},
		{"garbage id_token_hint", func(map[string]any) url.Values {
			return url.Values{"post_logout_redirect_uri": {signedOut}, "id_token_hint": {"not.a.jwt"}}
		}, "AADSTS90100"},
		{"tampered id_token_hint", func(id map[string]any) url.Values {
			raw := id["_raw"].(string)
			return url.Values{"post_logout_redirect_uri": {signedOut}, "id_token_hint": {raw[:len(raw)-4] + "AAAA"}}
		}, "AADSTS90100"},
		{"id_token_hint issued to another client_id", func(id map[string]any) url.Values {
			return url.Values{"post_logout_redirect_uri": {signedOut}, "id_token_hint": {id["_raw"].(string)}, "client_id": {preClient}}
		}, "AADSTS90100"},
		{"unknown client_id", func(map[string]any) url.Values {
			return url.Values{"post_logout_redirect_uri": {signedOut}, "client_id": {"99999999-8888-4777-8666-555555555555"}}
		}, "AADSTS700016"},
		{"parameter twice", func(map[string]any) url.Values {
			return url.Values{"post_logout_redirect_uri": {signedOut, signedOut}}
		}, "AADSTS9000411"},
	}
	for _, tt := range refused {
		t.Run(tt.name, func(t *testing.T) {
			c := e.newBrowser()
			tok := e.spaTokens(c, "contoso.test", alice, todoScopes)
			id := claims(t, str(tok, "id_token"))
			id["_raw"] = str(tok, "id_token")
			resp, body := e.get(c, e.logoutURL("contoso.test", tt.p(id)))
			wantErrorPage(t, resp, body, http.StatusBadRequest, tt.aadsts)
			if !e.signedInAs(t, c, alice) {
				t.Error("a refused logout signed alice out")
			}
		})
	}

	t.Run("unknown tenant", func(t *testing.T) {
		resp, body := e.get(e.newBrowser(), e.logoutURL("nosuch.test", url.Values{"post_logout_redirect_uri": {signedOut}}))
		wantErrorPage(t, resp, body, http.StatusBadRequest, "AADSTS90002")
	})

	t.Run("id_token_hint of another tenant", func(t *testing.T) {
		c := e.newBrowser()
		verifier, challenge := pkce()
		p := spaParams(challenge, "openid profile offline_access")
		p.Set("client_id", multiClient)
		v := e.authorizeAs(c, e.authorizeURL("common", p), carol, false)
		_, tok := e.token("common", redeemForm(multiClient, v.Get("code"), verifier, "openid profile offline_access"), spaOriginHeader())
		resp, body := e.get(c, e.logoutURL("contoso.test", url.Values{"id_token_hint": {str(tok, "id_token")}, "post_logout_redirect_uri": {spaRedirect}}))
		wantErrorPage(t, resp, body, http.StatusBadRequest, "AADSTS90100")
	})
}

// TestLogoutHints: with two accounts in one browser, logout_hint and id_token_hint sign out
// only the account they name; without a hint Sigil asks which one.
func TestLogoutHints(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	const state = "st+ate"

	t.Run("logout_hint", func(t *testing.T) {
		c, _, bobID := e.twoAccounts(t)
		p := url.Values{"post_logout_redirect_uri": {signedOut}, "state": {state}, "logout_hint": {bobID["login_hint"].(string)},
			"client_id": {spaClient}}
		resp, _ := e.get(c, e.logoutURL("contoso.test", p))
		wantLogoutRedirect(t, resp, signedOut, state)
		if e.signedInAs(t, c, bob) || !e.signedInAs(t, c, alice) {
			t.Error("want bob signed out and alice still signed in")
		}
	})

	t.Run("expired id_token_hint without client_id", func(t *testing.T) {
		c, aliceID, _ := e.twoAccounts(t)
		raw := aliceID["_raw"].(string)
		e.clock.Advance(2 * time.Hour) // the ID token (1 h) has expired
		p := url.Values{"post_logout_redirect_uri": {signedOut}, "state": {state}, "id_token_hint": {raw}}
		resp, body := e.get(c, e.logoutURL("contoso.test", p))
		if resp.StatusCode != http.StatusFound {
			t.Fatalf("%d (data-error-code %q), want a redirect", resp.StatusCode, pageErrorCode(body))
		}
		wantLogoutRedirect(t, resp, signedOut, state)
		if e.signedInAs(t, c, alice) || !e.signedInAs(t, c, bob) {
			t.Error("want alice signed out and bob still signed in")
		}
	})

	t.Run("no hint: the chooser", func(t *testing.T) {
		c, _, _ := e.twoAccounts(t)
		p := url.Values{"post_logout_redirect_uri": {signedOut}, "state": {state}, "client_id": {spaClient}}
		resp, body := e.get(c, e.logoutURL("contoso.test", p))
		if resp.StatusCode != http.StatusOK || resp.Header.Get("Location") != "" {
			t.Fatalf("%d, want the chooser", resp.StatusCode)
		}
		got := accountButtons(body)
		if len(got) != 2 || !strings.Contains(strings.Join(got, " "), alice) || !strings.Contains(strings.Join(got, " "), bob) {
			t.Fatalf("chooser buttons %v, want alice and bob", got)
		}
		if !e.signedInAs(t, c, alice) || !e.signedInAs(t, c, bob) {
			t.Fatal("the chooser signed someone out")
		}
		f := hiddenFields(body)
		f.Set("account", accountValue(t, body, bob))
		action := formAction.FindStringSubmatch(body)
		if action == nil {
			t.Fatal("chooser has no form")
		}
		resp, _ = e.postForm(c, e.url+action[1], f, fetchSite("same-origin")) // the chooser is Sigil's page
		wantLogoutRedirect(t, resp, signedOut, state)
		if e.signedInAs(t, c, bob) || !e.signedInAs(t, c, alice) {
			t.Error("want bob signed out and alice still signed in")
		}
	})
}
