package protocol_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/sigil-idp/sigil/internal/config"
)

// ropcCLI is a public client with allowPublicClientFlows (the contract's "Todo CLI"), granted
// Todo.Read tenant-wide.
const ropcCLI = "2b3c4d5e-7777-4222-8333-944455556666"

// withROPC registers the CLI app, lets the web app use public client flows too (it
// authenticates), disables bob, and makes the throttle small: 3 failures per account, 5 per
// address.
func withROPC(c *config.Config) {
	t := &c.Tenants[0]
	t.Apps = append(t.Apps, config.App{DisplayName: "Todo CLI", ClientID: ropcCLI, AllowPublicClientFlows: true,
		PublicClient: config.Platform{RedirectURIs: []string{"http://localhost"}}, AdminConsent: []string{todoRead}})
	for i := range t.Apps {
		if t.Apps[i].ClientID == webClient {
			t.Apps[i].AllowPublicClientFlows = true
			t.Apps[i].AdminConsent = []string{todoRead}
		}
	}
	off := false
	t.Users[1].Enabled = &off
	c.LoginThrottle.AccountFailures, c.LoginThrottle.IPFailures, c.LoginThrottle.Window = 3, 5, config.Duration(15*time.Minute)
}

// ropcScope is what MSAL sends beside the app's scopes.
const ropcScope = todoRead + " openid profile offline_access"

// passwordForm is the body MSAL Go posts for AcquireTokenByUsernamePassword.
func passwordForm(clientID, username, password, scope string) url.Values {
	return url.Values{"grant_type": {"password"}, "client_id": {clientID}, "username": {username},
		"password": {password}, "scope": {scope}, "client_info": {"1"}}
}

// TestPasswordGrantErrors covers the password grant's validation, in order.
func TestPasswordGrantErrors(t *testing.T) {
	e := newEnv(t, withROPC)
	tests := []struct {
		name   string
		form   url.Values
		header http.Header
		status int
		want   wantErr
	}{
		{"missing username", passwordForm(ropcCLI, "", pw, ropcScope), nil, 400, wantErr{"invalid_request", 900144}},
		{"missing password", passwordForm(ropcCLI, alice, "", ropcScope), nil, 400, wantErr{"invalid_request", 900144}},
		{"missing scope", passwordForm(ropcCLI, alice, pw, ""), nil, 400, wantErr{"invalid_request", 900144}},
		{"public client without public client flows", passwordForm(nativeClient, alice, pw, ropcScope), nil, 401, wantErr{"invalid_client", 7000218}},
		{"spa app", passwordForm(spaClient, alice, pw, ropcScope), nil, 401, wantErr{"invalid_client", 7000218}},
		{"confidential app without its secret", passwordForm(webClient, alice, pw, ropcScope), nil, 401, wantErr{"invalid_client", 7000218}},
		{"a secret for the public client", edited(passwordForm(ropcCLI, alice, pw, ropcScope), func(v url.Values) { v.Set("client_secret", "x") }), nil, 401, wantErr{"invalid_client", 700025}},
		{"from a browser", passwordForm(ropcCLI, alice, pw, ropcScope), spaOriginHeader(), 400, wantErr{"invalid_request", 9002326}},
		{"bad claims parameter", edited(passwordForm(ropcCLI, alice, pw, ropcScope), func(v url.Values) { v.Set("claims", "nope") }), nil, 400, wantErr{"invalid_request", 90100}},
		{"overlong password", passwordForm(ropcCLI, alice, strings.Repeat("p", 1025), ropcScope), nil, 400, wantErr{"invalid_grant", 50126}},
		{"unknown user", passwordForm(ropcCLI, "nobody@contoso.test", pw, ropcScope), nil, 400, wantErr{"invalid_grant", 50126}},
		{"wrong password", passwordForm(ropcCLI, bob, "wrong", ropcScope), nil, 400, wantErr{"invalid_grant", 50126}},
		{"disabled user", passwordForm(ropcCLI, bob, pw, ropcScope), nil, 400, wantErr{"invalid_grant", 50057}},
		{"user of another tenant", passwordForm(ropcCLI, carol, pw, ropcScope), nil, 400, wantErr{"access_denied", 50020}},
		{"scope not granted", passwordForm(ropcCLI, alice, pw, "User.Read openid offline_access"), nil, 400, wantErr{"invalid_grant", 65001}},
		{"unknown resource", passwordForm(ropcCLI, alice, pw, "api://nope/x"), nil, 400, wantErr{"invalid_resource", 500011}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			resp, body := e.token("contoso.test", tc.form, tc.header)
			wantTokenError(t, resp, body, tc.status, tc.want)
			if tc.want.aadsts == 65001 && body["suberror"] != "consent_required" {
				t.Errorf("consent error without suberror consent_required: %v", body)
			}
		})
	}
}

// TestPasswordGrantTokens checks the success shape for the public CLI app and for a
// confidential app: access token, ID token, refresh token (a new family that refreshes),
// no sid, the user's pairwise sub for the app.
func TestPasswordGrantTokens(t *testing.T) {
	e := newEnv(t, withROPC)
	for name, form := range map[string]url.Values{
		"public client": passwordForm(ropcCLI, alice, pw, ropcScope),
		"confidential":  edited(passwordForm(webClient, strings.ToUpper(alice), pw, ropcScope), func(v url.Values) { v.Set("client_secret", webSecret) }),
	} {
		t.Run(name, func(t *testing.T) {
			client := form.Get("client_id")
			resp, tok := e.token("contoso.test", form, nil)
			if resp.StatusCode != http.StatusOK {
				t.Fatalf("password grant: %d %v", resp.StatusCode, tok)
			}
			if !sameSet(str(tok, "scope"), ropcScope) || str(tok, "refresh_token") == "" || str(tok, "id_token") == "" || str(tok, "client_info") == "" {
				t.Errorf("response %v", tok)
			}
			at, id := claims(t, str(tok, "access_token")), claims(t, str(tok, "id_token"))
			if at["aud"] != "api://todo" || at["scp"] != "Todo.Read" || at["azp"] != client || at["sid"] != nil || at["tid"] != tenantID {
				t.Errorf("access token %v", at)
			}
			if id["aud"] != client || id["sub"] != at["sub"] || id["oid"] != at["oid"] || id["preferred_username"] != alice || id["sid"] != nil {
				t.Errorf("ID token %v", id)
			}
			if at, _ := id["auth_time"].(float64); int64(at) != e.clock.Now().Unix() {
				t.Errorf("auth_time %v, want now", id["auth_time"])
			}
			rf := refreshForm(client, str(tok, "refresh_token"), ropcScope)
			if s := form.Get("client_secret"); s != "" {
				rf.Set("client_secret", s)
			}
			resp, next := e.token("contoso.test", rf, nil)
			if resp.StatusCode != http.StatusOK || str(next, "refresh_token") == "" {
				t.Errorf("refresh: %d %v", resp.StatusCode, next)
			}
		})
	}
	// Without openid and offline_access, the access token alone.
	resp, tok := e.token("contoso.test", passwordForm(ropcCLI, alice, pw, todoRead), nil)
	if resp.StatusCode != http.StatusOK || tok["id_token"] != nil || tok["refresh_token"] != nil {
		t.Errorf("access token only: %d %v", resp.StatusCode, tok)
	}
}

// TestPasswordGrantThrottle: the password grant and the sign-in form share one throttle —
// failures of either lock the account for both (the right password included), and failures
// from one address lock that address.
func TestPasswordGrantThrottle(t *testing.T) {
	e := newEnv(t, withROPC)
	// Two failures on the form, one on the token endpoint: alice is locked (3 per account).
	c := e.newBrowser()
	form := e.loginForm(t, c)
	for range 2 {
		resp, page := e.submitLogin(c, form, alice, "wrong", false)
		if got := pageErrorCode(page); got != "AADSTS50126" {
			t.Fatalf("form: %d %s", resp.StatusCode, got)
		}
	}
	resp, body := e.token("contoso.test", passwordForm(ropcCLI, alice, "wrong", ropcScope), nil)
	wantTokenError(t, resp, body, 400, wantErr{"invalid_grant", 50126})
	resp, body = e.token("contoso.test", passwordForm(ropcCLI, alice, pw, ropcScope), nil)
	wantTokenError(t, resp, body, 400, wantErr{"invalid_grant", 50053})
	if _, page := e.submitLogin(c, form, alice, pw, false); pageErrorCode(page) != "AADSTS50053" {
		t.Errorf("form after password-grant failures: %q, want AADSTS50053", pageErrorCode(page))
	}
	// Two more failures for other accounts from the same address: the address is locked
	// (5 per address), for an account that never failed too.
	for _, u := range []string{"x@contoso.test", "y@contoso.test"} {
		resp, body = e.token("contoso.test", passwordForm(ropcCLI, u, "wrong", ropcScope), nil)
		wantTokenError(t, resp, body, 400, wantErr{"invalid_grant", 50126})
	}
	resp, body = e.token("contoso.test", passwordForm(ropcCLI, "z@contoso.test", pw, ropcScope), nil)
	wantTokenError(t, resp, body, 400, wantErr{"invalid_grant", 50053})
	// When the window passes, the right password works again.
	e.clock.Advance(16 * time.Minute)
	if resp, tok := e.token("contoso.test", passwordForm(ropcCLI, alice, pw, ropcScope), nil); resp.StatusCode != http.StatusOK {
		t.Errorf("after the window: %d %v", resp.StatusCode, tok)
	}
}
