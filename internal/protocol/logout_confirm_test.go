package protocol_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// fetchSite is the header a browser sends to say where a request comes from.
func fetchSite(site string) http.Header { return http.Header{"Sec-Fetch-Site": {site}} }

// getFrom is get with extra request headers.
func (e *env) getFrom(c *http.Client, rawURL string, h http.Header) (*http.Response, string) {
	e.t.Helper()
	req, _ := http.NewRequest(http.MethodGet, rawURL, nil)
	for k, v := range h {
		req.Header[k] = v
	}
	return e.do(c, req)
}

// TestLogoutConfirmation: a logout request with no hint that may come from another site asks
// the user (button signout=confirm) instead of signing out; only the confirmed POST, from
// Sigil's own page, signs out; cancel keeps the session; a hint or the same site signs out at
// once as before.
func TestLogoutConfirmation(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	const state = "st&ate"
	noHint := url.Values{"post_logout_redirect_uri": {signedOut}, "state": {state}, "client_id": {spaClient}}
	for _, tt := range []struct {
		name    string
		method  string
		header  http.Header
		hint    string // "claim": logout_hint = the ID token's login_hint; "username"; "id_token"
		confirm bool   // the confirmation page is shown
	}{
		{"GET, cross-site", "GET", fetchSite("cross-site"), "", true},
		{"POST, cross-site", "POST", fetchSite("cross-site"), "", true},
		{"GET, no fetch metadata, no origin (not a browser, or hidden)", "GET", nil, "", true},
		{"GET, old browser, Referer of another site", "GET", http.Header{"Referer": {"https://evil.example/x"}}, "", true},
		{"POST, old browser, Origin of another site", "POST", http.Header{"Origin": {"https://evil.example"}}, "", true},
		{"GET, cross-site, a username as logout_hint", "GET", fetchSite("cross-site"), "username", true},
		{"GET, same-site", "GET", fetchSite("same-site"), "", false},
		{"GET, same-origin", "GET", fetchSite("same-origin"), "", false},
		{"GET, typed by the user", "GET", fetchSite("none"), "", false},
		{"GET, old browser, Referer of Sigil", "GET", http.Header{"Referer": {e.url + "/"}}, "", false},
		{"GET, cross-site, logout_hint from the ID token (MSAL)", "GET", fetchSite("cross-site"), "claim", false},
		{"GET, cross-site, id_token_hint", "GET", fetchSite("cross-site"), "id_token", false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			c := e.newBrowser()
			tok := e.spaTokens(c, "contoso.test", alice, todoScopes)
			p := url.Values{}
			for k, v := range noHint {
				p[k] = v
			}
			switch tt.hint {
			case "claim":
				p.Set("logout_hint", claims(t, str(tok, "id_token"))["login_hint"].(string))
			case "username":
				p.Set("logout_hint", alice)
			case "id_token":
				p.Set("id_token_hint", str(tok, "id_token"))
			}
			var resp *http.Response
			var body string
			if tt.method == "GET" {
				resp, body = e.getFrom(c, e.logoutURL("contoso.test", p), tt.header)
			} else {
				resp, body = e.postForm(c, e.url+"/contoso.test/oauth2/v2.0/logout", p, tt.header)
			}
			if !tt.confirm {
				wantLogoutRedirect(t, resp, signedOut, state)
				if e.signedInAs(t, c, alice) {
					t.Error("alice still signed in")
				}
				return
			}
			if resp.StatusCode != http.StatusOK || !strings.Contains(body, `<button type="submit" name="signout" value="confirm"`) {
				t.Fatalf("%d, want the confirmation page; body %.300s", resp.StatusCode, body)
			}
			if !e.signedInAs(t, c, alice) {
				t.Fatal("the request signed alice out before she confirmed")
			}
			f := hiddenFields(body)
			action := formAction.FindStringSubmatch(body)
			if action == nil || action[1] != "/-/signout" {
				t.Fatalf("form action %v, want /-/signout", action)
			}
			// Another site cannot post the confirmation (the forms' cross-origin check).
			forged := url.Values{"signout": {"confirm"}}
			for k, v := range f {
				forged[k] = v
			}
			r, b := e.postForm(c, e.url+"/-/signout", forged, http.Header{"Sec-Fetch-Site": {"cross-site"}, "Origin": {"https://evil.example"}})
			wantErrorPage(t, r, b, http.StatusForbidden, "AADSTS90014")
			if !e.signedInAs(t, c, alice) {
				t.Fatal("a forged confirmation signed alice out")
			}
			// Cancel keeps the session.
			cancel := url.Values{"signout": {"cancel"}}
			for k, v := range f {
				cancel[k] = v
			}
			r, b = e.postForm(c, e.url+"/-/signout", cancel, fetchSite("same-origin"))
			if r.StatusCode != http.StatusOK || !strings.Contains(b, "data-still-signed-in") || !e.signedInAs(t, c, alice) {
				t.Fatalf("cancel: %d, signed in %v", r.StatusCode, e.signedInAs(t, c, alice))
			}
			// The confirmed POST from Sigil's page signs out and goes where the app asked.
			f.Set("signout", "confirm")
			r, _ = e.postForm(c, e.url+"/-/signout", f, fetchSite("same-origin"))
			wantLogoutRedirect(t, r, signedOut, state)
			if e.signedInAs(t, c, alice) {
				t.Error("alice still signed in after confirming")
			}
		})
	}

	t.Run("no session: nothing to confirm", func(t *testing.T) {
		resp, _ := e.getFrom(e.newBrowser(), e.logoutURL("contoso.test", noHint), fetchSite("cross-site"))
		wantLogoutRedirect(t, resp, signedOut, state)
	})
}
