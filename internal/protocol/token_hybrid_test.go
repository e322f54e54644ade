package protocol_test

import (
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/sigil-idp/sigil/internal/config"
)

// The hybrid app: a web app (server-side MSAL, a secret) whose pages run MSAL.js on the spa
// platform of the same registration.
const (
	hybridClient   = "ab2e9a10-1111-4222-8333-944455556666"
	hybridWeb      = "https://app.example.test:3000/signin-oidc"
	hybridSPA      = spaOrigin + "/hybrid.html"
	hybridSecret   = "hybrid-s3cret-s3cret"
	hybridScope    = "openid profile offline_access api://todo/Todo.Read"
	hybridCodeLife = 2 * time.Minute
)

func withHybridApp(c *config.Config) {
	c.Tenants[0].Apps = append(c.Tenants[0].Apps, config.App{DisplayName: "Hybrid app", ClientID: hybridClient,
		Web: config.Platform{RedirectURIs: []string{hybridWeb}}, SPA: config.Platform{RedirectURIs: []string{hybridSPA}},
		ClientSecrets: []string{hybridSecret}, TokenLifetimes: config.TokenLifetimes{AuthorizationCode: config.Duration(hybridCodeLife)}})
}

// webRedeem signs alice in with a web app (in browser c) and redeems its code with the
// secret, adding return_spa_code=1 when spa; it returns the token response.
func (e *env) webRedeem(c *http.Client, clientID, redirect, secret string, spa bool) map[string]any {
	e.t.Helper()
	tok, _ := e.webRedeemForm(c, clientID, redirect, secret, spa)
	return tok
}

// webRedeemForm is webRedeem that also returns the redemption's form, for a replay.
func (e *env) webRedeemForm(c *http.Client, clientID, redirect, secret string, spa bool) (map[string]any, url.Values) {
	e.t.Helper()
	p := url.Values{"client_id": {clientID}, "redirect_uri": {redirect}, "response_type": {"code"},
		"scope": {hybridScope}, "state": {"x"}, "nonce": {"web-nonce"}}
	v := e.authorizeAs(c, e.authorizeURL("contoso.test", p), alice, false)
	if v.Get("code") == "" {
		e.t.Fatalf("no code: %v", v)
	}
	f := url.Values{"client_id": {clientID}, "client_secret": {secret}, "grant_type": {"authorization_code"},
		"code": {v.Get("code")}, "redirect_uri": {redirect}, "scope": {hybridScope}, "client_info": {"1"}}
	if spa {
		f.Set("return_spa_code", "1") // what msal-node's enableSpaAuthorizationCode sends
	}
	resp, tok := e.token("contoso.test", f, nil)
	if resp.StatusCode != http.StatusOK {
		e.t.Fatalf("web redemption: %d %v", resp.StatusCode, tok)
	}
	return tok, f
}

// hybridRedeemForm is what msal-browser's acquireTokenByCode posts for a spa_code: no
// redirect_uri, no code_verifier.
func hybridRedeemForm(code string) url.Values {
	return url.Values{"client_id": {hybridClient}, "grant_type": {"authorization_code"}, "code": {code},
		"scope": {hybridScope}, "client_info": {"1"}, "x-client-SKU": {"msal.js.browser"}}
}

// TestHybridSPACodeIssued covers when a code redemption answers a spa_code: only for a web
// redemption with return_spa_code=1 by an app with spa redirect URIs.
func TestHybridSPACodeIssued(t *testing.T) {
	t.Parallel()
	e := newEnv(t, withHybridApp)
	browser := e.newBrowser()
	tests := []struct {
		name                       string
		client, redirect, secret   string
		returnSPACode, wantSPACode bool
	}{
		{"web app without spa redirect URIs", webClient, webRedirect, webSecret, true, false},
		{"hybrid app without return_spa_code", hybridClient, hybridWeb, hybridSecret, false, false},
		{"hybrid app with return_spa_code", hybridClient, hybridWeb, hybridSecret, true, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tok := e.webRedeem(browser, tt.client, tt.redirect, tt.secret, tt.returnSPACode)
			if got := str(tok, "spa_code") != ""; got != tt.wantSPACode {
				t.Errorf("spa_code present %v, want %v: %v", got, tt.wantSPACode, tok)
			}
			if _, ok := tok["spa_accountid"]; ok {
				t.Errorf("spa_accountid %v: Sigil has no platform broker", tok["spa_accountid"])
			}
			if str(tok, "access_token") == "" || str(tok, "refresh_token") == "" || str(tok, "id_token") == "" {
				t.Errorf("web tokens missing: %v", tok)
			}
		})
	}

	t.Run("spa redemption with return_spa_code", func(t *testing.T) {
		// A spa_code's own redemption (spa platform) asks in vain, as does a refresh.
		tok := e.webRedeem(browser, hybridClient, hybridWeb, hybridSecret, true)
		f := hybridRedeemForm(str(tok, "spa_code"))
		f.Set("return_spa_code", "1")
		resp, spa := e.token("contoso.test", f, spaOriginHeader())
		if resp.StatusCode != 200 || str(spa, "spa_code") != "" {
			t.Errorf("spa redemption: %d %v, want tokens and no spa_code", resp.StatusCode, spa)
		}
		r := refreshForm(hybridClient, str(tok, "refresh_token"), "")
		r.Set("client_secret", hybridSecret)
		r.Set("return_spa_code", "1")
		if resp, body := e.token("contoso.test", r, nil); resp.StatusCode != 200 || str(body, "spa_code") != "" {
			t.Errorf("web refresh: %d %v, want tokens and no spa_code", resp.StatusCode, body)
		}
	})
}

// TestHybridSPACodeRedemption covers how a spa_code is redeemed: from one of the app's spa
// origins, without PKCE and without redirect_uri (msal-browser's HybridSpaAuthorizationCodeClient),
// once, before it expires; the tokens are the web grant's (same user, session, scopes).
func TestHybridSPACodeRedemption(t *testing.T) {
	t.Parallel()
	e := newEnv(t, withHybridApp)
	browser := e.newBrowser()
	verifier, _ := pkce()
	tests := []struct {
		name   string
		edit   func(f url.Values) http.Header
		status int
		want   wantErr // code == "": tokens
	}{
		{"from the spa origin", func(f url.Values) http.Header { return spaOriginHeader() }, 200, wantErr{}},
		{"from the spa origin, naming the spa redirect URI", func(f url.Values) http.Header {
			f.Set("redirect_uri", hybridSPA)
			return spaOriginHeader()
		}, 200, wantErr{}},
		{"from no origin", func(f url.Values) http.Header { return nil }, 400, wantErr{"invalid_request", 9002327}},
		{"from no origin, with the secret", func(f url.Values) http.Header {
			f.Set("client_secret", hybridSecret)
			return nil
		}, 400, wantErr{"invalid_request", 9002327}},
		{"from another origin", func(f url.Values) http.Header {
			return http.Header{"Origin": {"https://evil.example.test"}}
		}, 400, wantErr{"invalid_request", 9002326}},
		{"naming the web redirect URI", func(f url.Values) http.Header {
			f.Set("redirect_uri", hybridWeb)
			return spaOriginHeader()
		}, 400, wantErr{"invalid_grant", 70000}},
		{"with a code_verifier", func(f url.Values) http.Header {
			f.Set("code_verifier", verifier)
			return spaOriginHeader()
		}, 400, wantErr{"invalid_grant", 501481}},
		{"by another app", func(f url.Values) http.Header {
			f.Set("client_id", spaClient)
			return spaOriginHeader()
		}, 400, wantErr{"invalid_grant", 70000}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			web := e.webRedeem(browser, hybridClient, hybridWeb, hybridSecret, true)
			f := hybridRedeemForm(str(web, "spa_code"))
			resp, body := e.token("contoso.test", f, tt.edit(f))
			if tt.want.code != "" {
				wantTokenError(t, resp, body, tt.status, tt.want)
				return
			}
			if resp.StatusCode != 200 {
				t.Fatalf("%d %v, want tokens", resp.StatusCode, body)
			}
			if got := resp.Header.Get("Access-Control-Allow-Origin"); got == "" {
				t.Error("no CORS header on the spa redemption")
			}
			wi, si := claims(t, str(web, "id_token")), claims(t, str(body, "id_token"))
			for _, k := range []string{"oid", "sub", "sid", "tid", "aud", "auth_time"} {
				if wi[k] != si[k] {
					t.Errorf("ID token %s: web %v, spa %v", k, wi[k], si[k])
				}
			}
			if _, ok := si["nonce"]; ok {
				t.Errorf("spa ID token carries the web request's nonce %v", si["nonce"])
			}
			if str(body, "scope") != str(web, "scope") || str(body, "client_info") != str(web, "client_info") {
				t.Errorf("scope/client_info: web %q %q, spa %q %q", str(web, "scope"), str(web, "client_info"), str(body, "scope"), str(body, "client_info"))
			}
			if got := claims(t, str(body, "access_token"))["azpacr"]; got != "0" {
				t.Errorf("spa access token azpacr %v, want 0 (a public client)", got)
			}
			// The refresh token is a spa one: redeemed from the origin, never server-side.
			rt := str(body, "refresh_token")
			if resp, b := e.token("contoso.test", refreshForm(hybridClient, rt, ""), nil); resp.StatusCode != 400 {
				t.Errorf("spa refresh token server-side: %d %v, want 400", resp.StatusCode, b)
			}
			if resp, b := e.token("contoso.test", refreshForm(hybridClient, rt, ""), spaOriginHeader()); resp.StatusCode != 200 {
				t.Errorf("spa refresh from the origin: %d %v", resp.StatusCode, b)
			}
		})
	}

	t.Run("once only", func(t *testing.T) {
		web := e.webRedeem(browser, hybridClient, hybridWeb, hybridSecret, true)
		f := hybridRedeemForm(str(web, "spa_code"))
		resp, first := e.token("contoso.test", f, spaOriginHeader())
		if resp.StatusCode != 200 {
			t.Fatalf("first redemption: %d %v", resp.StatusCode, first)
		}
		resp, body := e.token("contoso.test", f, spaOriginHeader())
		wantTokenError(t, resp, body, 400, wantErr{"invalid_grant", 54005})
		// The replay revokes what the first redemption issued.
		resp, body = e.token("contoso.test", refreshForm(hybridClient, str(first, "refresh_token"), ""), spaOriginHeader())
		if resp.StatusCode != 400 || body["error"] != "invalid_grant" {
			t.Errorf("refresh after the replay: %d %v, want invalid_grant", resp.StatusCode, body)
		}
		// The web app's own tokens are another code's and stay.
		r := refreshForm(hybridClient, str(web, "refresh_token"), "")
		r.Set("client_secret", hybridSecret)
		if resp, body := e.token("contoso.test", r, nil); resp.StatusCode != 200 {
			t.Errorf("web refresh after the spa_code replay: %d %v", resp.StatusCode, body)
		}
	})

	t.Run("a replay of the web code burns the spa_code", func(t *testing.T) {
		// Redeemed: its refresh token is revoked.
		web, form := e.webRedeemForm(browser, hybridClient, hybridWeb, hybridSecret, true)
		_, spa := e.token("contoso.test", hybridRedeemForm(str(web, "spa_code")), spaOriginHeader())
		resp, body := e.token("contoso.test", form, nil)
		wantTokenError(t, resp, body, 400, wantErr{"invalid_grant", 54005})
		resp, body = e.token("contoso.test", refreshForm(hybridClient, str(spa, "refresh_token"), ""), spaOriginHeader())
		if resp.StatusCode != 400 || body["error"] != "invalid_grant" {
			t.Errorf("spa refresh after the web code's replay: %d %v, want invalid_grant", resp.StatusCode, body)
		}
		// Not yet redeemed: it can no longer be.
		web, form = e.webRedeemForm(browser, hybridClient, hybridWeb, hybridSecret, true)
		e.token("contoso.test", form, nil)
		resp, body = e.token("contoso.test", hybridRedeemForm(str(web, "spa_code")), spaOriginHeader())
		wantTokenError(t, resp, body, 400, wantErr{"invalid_grant", 54005})
	})

	t.Run("expired", func(t *testing.T) {
		web := e.webRedeem(browser, hybridClient, hybridWeb, hybridSecret, true)
		e.clock.Advance(hybridCodeLife)
		resp, body := e.token("contoso.test", hybridRedeemForm(str(web, "spa_code")), spaOriginHeader())
		wantTokenError(t, resp, body, 400, wantErr{"invalid_grant", 70008})
	})

	t.Run("same scopes as granted", func(t *testing.T) {
		web := e.webRedeem(browser, hybridClient, hybridWeb, hybridSecret, true)
		_, body := e.token("contoso.test", hybridRedeemForm(str(web, "spa_code")), spaOriginHeader())
		if got := claims(t, str(body, "access_token"))["scp"]; got != "Todo.Read" {
			t.Errorf("scp %v, want Todo.Read", got)
		}
		if str(body, "scope") != str(web, "scope") {
			t.Errorf("scope %q, want the web grant's %q", str(body, "scope"), str(web, "scope"))
		}
	})
}
