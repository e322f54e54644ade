package e2e

import (
	"fmt"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/sigil-idp/sigil/e2e/harness"
	"github.com/sigil-idp/sigil/internal/config"
)

// TestHybridSPACode is Microsoft's hybrid sign-in, the SPA's way around blocked third-party
// cookies: the user signs in to the web app (msal-node: getAuthCodeUrl, Sigil's pages in
// Chromium, acquireTokenByCode with enableSpaAuthorizationCode), whose server hands the
// spa_code to its pages; there msal-browser 5 redeems it with acquireTokenByCode from the
// SPA origin, then answers acquireTokenSilent from its cache and through the refresh token —
// never with a hidden iframe. Sigil is on 127.0.0.1 and the SPA on app.example.test, so the
// two are cross-site: an iframe would get no Sigil cookie anyway.
func TestHybridSPACode(t *testing.T) {
	// The web app's redirect URI: a listener on loopback that takes the code, as the web
	// app's server would.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	redirect := fmt.Sprintf("http://localhost:%d/auth/redirect", ln.Addr().(*net.TCPAddr).Port)
	codes := make(chan string, 1)
	srv := &http.Server{ReadHeaderTimeout: 5 * time.Second, Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/auth/redirect" && r.URL.Query().Get("code") != "" {
			select {
			case codes <- r.URL.Query().Get("code"):
			default:
			}
		}
		w.Header().Set("Content-Type", "text/html")
		fmt.Fprint(w, "<!doctype html><title>web app</title><p>signed in</p>")
	})}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })

	const secret = "hybrid-web-secret-value"
	// The test SPA's registration gets the web platform too: one app, server and pages.
	e := startNode(t, func(c *config.Config) {
		a := &c.Tenants[0].Apps[0]
		a.Web.RedirectURIs, a.ClientSecrets = []string{redirect}, []string{secret}
	}, true)
	common := []string{"client-secret", secret, "redirect-uri", redirect, "scopes", webScopes}

	u := mustNode(t, "getAuthCodeUrl", runNode(t, e, "auth-code-url.mjs", harness.ClientID, common...))
	p, err := e.Browser.NewPage()
	if err != nil {
		t.Fatal(err)
	}
	if err := p.Navigate(u.URL); err != nil {
		t.Fatal(err)
	}
	if err := e.SignIn(p, harness.Alice); err != nil {
		t.Fatal(err)
	}
	var code string
	select {
	case code = <-codes:
	case <-time.After(20 * time.Second):
		t.Fatal("the web app's redirect URI got no code")
	}

	web := mustNode(t, "acquireTokenByCode with enableSpaAuthorizationCode",
		runNode(t, e, "auth-code.mjs", harness.ClientID, append(common, "code", code, "spa-code", "true")...))
	if web.Code == "" {
		t.Fatalf("no spa_code in msal-node's result: %s", web)
	}

	app := e.OpenApp("msal5.html")
	authorize := func() int {
		return e.Requests.Count(func(r harness.Request) bool { return strings.HasSuffix(r.Path, "/oauth2/v2.0/authorize") })
	}
	authorizeBefore, spaRedemptions := authorize(), e.Requests.Count(func(r harness.Request) bool {
		return r.GrantType == "authorization_code" && r.Origin == e.SPA
	})
	r := mustSucceed(t, "acquireTokenByCode(spa_code)", e.Call(app, "t.byCode("+jsString(web.Code)+", [\"api://todo/Todo.Read\"])"))
	if r.Account == nil || r.Account.Username != harness.Alice || r.Account.HomeAccountID != web.Account.HomeAccountID {
		t.Fatalf("SPA account %s, want the web app's (%s)", r, web.Account.HomeAccountID)
	}
	if got := e.Requests.Count(func(r harness.Request) bool { return r.GrantType == "authorization_code" && r.Origin == e.SPA }); got != spaRedemptions+1 {
		t.Errorf("spa_code redemptions from the SPA origin: %d → %d, want one", spaRedemptions, got)
	}
	if c := jwtClaims(t, r.AccessToken); c["scp"] != "Todo.Read" || c["azpacr"] != "0" {
		t.Errorf("SPA access token: %v", c)
	}
	if sc, wc := jwtClaims(t, r.IDToken), jwtClaims(t, web.IDToken); sc["sid"] != wc["sid"] || sc["sub"] != wc["sub"] {
		t.Errorf("SPA ID token sid/sub %v/%v, web %v/%v: not the same sign-in", sc["sid"], sc["sub"], wc["sid"], wc["sub"])
	}

	tokens := e.Requests.TokenRequests()
	s := mustSucceed(t, "silent from the cache", e.Call(app, `t.silent(["api://todo/Todo.Read"])`))
	if !s.FromCache || e.Requests.TokenRequests() != tokens {
		t.Errorf("silent: fromCache=%v, token requests %d → %d", s.FromCache, tokens, e.Requests.TokenRequests())
	}
	refreshes := e.Requests.Count(func(r harness.Request) bool { return r.GrantType == "refresh_token" && r.Origin == e.SPA })
	f := mustSucceed(t, "silent, forceRefresh", e.Call(app, `t.silent(["api://todo/Todo.Read"], {forceRefresh: true})`))
	if f.FromCache || f.AccessToken == r.AccessToken {
		t.Errorf("forceRefresh: fromCache=%v, new token %v", f.FromCache, f.AccessToken != r.AccessToken)
	}
	if got := e.Requests.Count(func(r harness.Request) bool { return r.GrantType == "refresh_token" && r.Origin == e.SPA }); got != refreshes+1 {
		t.Errorf("refresh_token grants from the SPA: %d → %d, want one", refreshes, got)
	}
	if got := authorize(); got != authorizeBefore {
		t.Errorf("authorize requests after the web sign-in: %d → %d, want none (no iframe)", authorizeBefore, got)
	}

	// The spa_code was single-use: a second redemption in a fresh tab fails.
	again := e.Call(e.OpenApp("msal5.html"), "t.byCode("+jsString(web.Code)+", [\"api://todo/Todo.Read\"])")
	if again.Error == nil || again.Error.ErrorCode != "invalid_grant" {
		t.Errorf("second redemption of the spa_code: %s, want invalid_grant", again)
	}
}
