package protocol_test

import (
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/sigil-idp/sigil/internal/config"
	"github.com/sigil-idp/sigil/internal/directory"
	"github.com/sigil-idp/sigil/internal/tokens"
)

// The on-behalf-of test directory: the Todo API's own registration (apiClient) is the middle
// tier, with a secret and a tenant-wide grant of Mail.Send on the downstream Mail API.
const (
	midSecret   = "api-secret-value"
	mailSend    = "api://mail/Mail.Send"
	oboScope    = mailSend + " openid profile offline_access" // as MSAL Go and msal-node send it
	todoRead    = "api://todo/Todo.Read"
	spaTodoAuth = "openid profile offline_access " + todoRead
)

// withOBO registers the middle tier and the Mail API (Mail.Send granted tenant-wide to the
// middle tier, Mail.Read granted to nobody, a user role Mail.Admin assigned to alice).
func withOBO(c *config.Config) {
	t := &c.Tenants[0]
	t.APIs[0].ClientID = apiClient
	t.APIs = append(t.APIs, config.API{DisplayName: "Mail API", AppIDURI: "api://mail",
		Scopes:   []config.Scope{{Value: "Mail.Send"}, {Value: "Mail.Read"}},
		AppRoles: []config.AppRole{{Value: "Mail.Admin", AllowedMemberTypes: []string{config.MemberUser}}}})
	t.Users[0].AppRoles = append(t.Users[0].AppRoles, "api://mail/Mail.Admin")
	t.Apps = append(t.Apps, config.App{DisplayName: "Todo API (middle tier)", ClientID: apiClient,
		ClientSecrets: []string{midSecret}, AdminConsent: []string{mailSend}})
}

// oboForm is the body MSAL Go posts for AcquireTokenOnBehalfOf with a secret.
func oboForm(assertion, scope string) url.Values {
	return url.Values{"grant_type": {"urn:ietf:params:oauth:grant-type:jwt-bearer"}, "client_id": {apiClient},
		"client_secret": {midSecret}, "assertion": {assertion}, "requested_token_use": {"on_behalf_of"},
		"scope": {scope}, "client_info": {"1"}}
}

// signedAccessToken signs access-token claims with the server's current key — a token Sigil
// could have issued — starting from a valid user token for api://todo of user oid.
func (e *env) signedAccessToken(tb testing.TB, oid string, edit func(*tokens.AccessClaims)) string {
	tb.Helper()
	ks, err := tokens.LoadKeys(tb.Context(), e.app.Store(), e.app.KeyRing(), e.clock.Now)
	if err != nil {
		tb.Fatal(err)
	}
	now := e.clock.Now()
	c := tokens.AccessClaims{Aud: "api://todo", Iss: tokens.Issuer(e.url, tenantID), Iat: now.Unix(), Nbf: now.Unix(),
		Exp: now.Add(time.Hour).Unix(), Azp: spaClient, Azpacr: "0", OID: oid, Scp: "Todo.Read", Sub: "s",
		TID: tenantID, UTI: "u", Ver: "2.0", SID: "sid-1"}
	if edit != nil {
		edit(&c)
	}
	raw, err := ks.Sign(c)
	if err != nil {
		tb.Fatal(err)
	}
	return raw
}

// oboFixture is what the on-behalf-of tests start from: alice's tokens from the spa app for
// the Todo API, and other tokens that are not acceptable assertions.
type oboFixture struct {
	access, id, graph, appOnly string
	oid                        string
}

func (e *env) oboFixture(t *testing.T) oboFixture {
	t.Helper()
	tok := e.spaTokens(e.client, "contoso.test", alice, spaTodoAuth)
	f := oboFixture{access: str(tok, "access_token"), id: str(tok, "id_token")}
	f.oid = str(claims(t, f.access), "oid")
	graph := e.spaTokens(e.newBrowser(), "contoso.test", alice, "openid profile User.Read")
	f.graph = str(graph, "access_token")
	resp, app := e.token("contoso.test", url.Values{"grant_type": {"client_credentials"}, "client_id": {webClient},
		"client_secret": {webSecret}, "scope": {"api://todo/.default"}}, nil)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("client credentials: %d %v", resp.StatusCode, app)
	}
	f.appOnly = str(app, "access_token")
	return f
}

// TestOnBehalfOfErrors covers the on-behalf-of grant's validation, in order.
func TestOnBehalfOfErrors(t *testing.T) {
	e := newEnv(t, withOBO)
	f := e.oboFixture(t)
	parts := strings.Split(f.access, ".")
	tests := []struct {
		name   string
		form   url.Values
		header http.Header
		status int
		want   wantErr
	}{
		{"missing requested_token_use", edited(oboForm(f.access, oboScope), func(v url.Values) { v.Del("requested_token_use") }), nil, 400, wantErr{"invalid_request", 900144}},
		{"unknown requested_token_use", edited(oboForm(f.access, oboScope), func(v url.Values) { v.Set("requested_token_use", "exchange") }), nil, 400, wantErr{"invalid_request", 90100}},
		{"missing assertion", edited(oboForm(f.access, oboScope), func(v url.Values) { v.Del("assertion") }), nil, 400, wantErr{"invalid_request", 900144}},
		{"missing scope", edited(oboForm(f.access, oboScope), func(v url.Values) { v.Del("scope") }), nil, 400, wantErr{"invalid_request", 900144}},
		{"no client credential", edited(oboForm(f.access, oboScope), func(v url.Values) { v.Del("client_secret") }), nil, 401, wantErr{"invalid_client", 7000218}},
		{"wrong client secret", edited(oboForm(f.access, oboScope), func(v url.Values) { v.Set("client_secret", "nope") }), nil, 401, wantErr{"invalid_client", 7000215}},
		{"a public client", edited(oboForm(f.access, oboScope), func(v url.Values) { v.Set("client_id", nativeClient); v.Del("client_secret") }), nil, 401, wantErr{"invalid_client", 7000218}},
		{"from a browser", oboForm(f.access, oboScope), spaOriginHeader(), 400, wantErr{"invalid_request", 9002326}},
		{"tampered assertion", oboForm(parts[0]+"."+parts[1]+"x."+parts[2], oboScope), nil, 400, wantErr{"invalid_grant", 50013}},
		{"not a JWT", oboForm("not-a-token", oboScope), nil, 400, wantErr{"invalid_grant", 50013}},
		{"foreign issuer", oboForm(e.signedAccessToken(t, f.oid, func(c *tokens.AccessClaims) { c.Iss = "https://evil.test/" + tenantID + "/v2.0" }), oboScope), nil, 400, wantErr{"invalid_grant", 50013}},
		{"an ID token", oboForm(f.id, oboScope), nil, 400, wantErr{"invalid_grant", 50013}},
		{"an ID token for the middle tier", oboForm(e.signedAccessToken(t, f.oid, func(c *tokens.AccessClaims) { c.Aud, c.Scp, c.Azpacr = apiClient, "", "" }), oboScope), nil, 400, wantErr{"invalid_grant", 50013}},
		{"an app-only token", oboForm(f.appOnly, oboScope), nil, 400, wantErr{"invalid_grant", 50013}},
		{"a token for another API", oboForm(f.graph, oboScope), nil, 400, wantErr{"invalid_grant", 500131}},
		{"presented by another client", edited(oboForm(f.access, oboScope), func(v url.Values) { v.Set("client_id", webClient); v.Set("client_secret", webSecret) }), nil, 400, wantErr{"invalid_grant", 500131}},
		{"not yet valid", oboForm(e.signedAccessToken(t, f.oid, func(c *tokens.AccessClaims) { c.Nbf = e.clock.Now().Add(time.Hour).Unix() }), oboScope), nil, 400, wantErr{"invalid_grant", 500133}},
		{"user of another tenant", oboForm(e.signedAccessToken(t, f.oid, func(c *tokens.AccessClaims) { c.TID, c.Iss = otherTenant, tokens.Issuer(e.url, otherTenant) }), oboScope), nil, 400, wantErr{"invalid_grant", 50013}},
		{"unknown user", oboForm(e.signedAccessToken(t, "00000000-0000-4000-8000-000000000000", nil), oboScope), nil, 400, wantErr{"invalid_grant", 50034}},
		{"two resources", oboForm(f.access, mailSend+" "+todoRead), nil, 400, wantErr{"invalid_scope", 28000}},
		{"unknown resource", oboForm(f.access, "api://nope/x"), nil, 400, wantErr{"invalid_resource", 500011}},
		{"unknown scope", oboForm(f.access, "api://mail/Mail.Nope"), nil, 400, wantErr{"invalid_scope", 70011}},
		{"scope not granted", oboForm(f.access, "api://mail/Mail.Read offline_access"), nil, 400, wantErr{"invalid_grant", 65001}},
		{"bad claims parameter", edited(oboForm(f.access, oboScope), func(v url.Values) { v.Set("claims", "[1]") }), nil, 400, wantErr{"invalid_request", 90100}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			resp, body := e.token("contoso.test", tc.form, tc.header)
			wantTokenError(t, resp, body, tc.status, tc.want)
			if tc.want.aadsts == 65001 && (body["suberror"] != "consent_required" || body["claims"] == nil) {
				t.Errorf("consent error without suberror consent_required and claims: %v", body)
			}
		})
	}
}

// edited returns v changed by edit.
func edited(v url.Values, edit func(url.Values)) url.Values {
	edit(v)
	return v
}

// TestOnBehalfOfTokens checks the success shape: the same user (oid, tid), sub pairwise for
// the middle tier, the downstream API's scopes and user roles, the assertion's sid, an ID
// token with openid and a refresh token (a new family) with offline_access — and neither
// without them.
func TestOnBehalfOfTokens(t *testing.T) {
	e := newEnv(t, withOBO)
	f := e.oboFixture(t)
	in := claims(t, f.access)
	resp, tok := e.token("contoso.test", oboForm(f.access, oboScope), nil)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("OBO: %d %v", resp.StatusCode, tok)
	}
	if !sameSet(str(tok, "scope"), oboScope) || str(tok, "refresh_token") == "" || str(tok, "id_token") == "" ||
		str(tok, "client_info") == "" || tok["token_type"] != "Bearer" {
		t.Errorf("response %v", tok)
	}
	at, id := claims(t, str(tok, "access_token")), claims(t, str(tok, "id_token"))
	want := map[string]any{"aud": "api://mail", "scp": "Mail.Send", "oid": in["oid"], "tid": tenantID,
		"azp": apiClient, "azpacr": "1", "sid": in["sid"], "iss": e.url + "/" + tenantID + "/v2.0", "ver": "2.0"}
	for k, v := range want {
		if at[k] != v {
			t.Errorf("access token %s = %v, want %v", k, at[k], v)
		}
	}
	if at["sub"] == in["sub"] || at["sub"] != id["sub"] || at["idtyp"] != nil {
		t.Errorf("sub %v (assertion %v, ID token %v), idtyp %v: want the middle tier's pairwise sub", at["sub"], in["sub"], id["sub"], at["idtyp"])
	}
	if roles := strs(t, at["roles"]); !slices.Equal(roles, []string{"Mail.Admin"}) {
		t.Errorf("roles %v, want [Mail.Admin]", roles)
	}
	if id["aud"] != apiClient || id["oid"] != in["oid"] || id["sid"] != in["sid"] || id["nonce"] != nil {
		t.Errorf("ID token %v", id)
	}

	// The refresh token is the middle tier's: it needs its secret, and keeps the grant.
	resp, next := e.token("contoso.test", url.Values{"grant_type": {"refresh_token"}, "client_id": {apiClient},
		"refresh_token": {str(tok, "refresh_token")}}, nil)
	wantTokenError(t, resp, next, 401, wantErr{"invalid_client", 7000218})
	form := refreshForm(apiClient, str(tok, "refresh_token"), oboScope)
	form.Set("client_secret", midSecret)
	resp, next = e.token("contoso.test", form, nil)
	if resp.StatusCode != http.StatusOK || claims(t, str(next, "access_token"))["aud"] != "api://mail" {
		t.Fatalf("refresh: %d %v", resp.StatusCode, next)
	}

	// Without openid and offline_access: the access token alone. The client id names the
	// calling API as well as its Application ID URI does.
	byClientID := e.signedAccessToken(t, f.oid, func(c *tokens.AccessClaims) { c.Aud = apiClient })
	for name, assertion := range map[string]string{"app id uri": f.access, "client id": byClientID} {
		resp, tok = e.token("contoso.test", oboForm(assertion, mailSend), nil)
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("%s: %d %v", name, resp.StatusCode, tok)
		}
		if str(tok, "scope") != mailSend || tok["refresh_token"] != nil || tok["id_token"] != nil {
			t.Errorf("%s: response %v, want the access token alone", name, tok)
		}
	}

	// .default is what the middle tier was granted.
	resp, tok = e.token("contoso.test", oboForm(f.access, "api://mail/.default"), nil)
	if resp.StatusCode != http.StatusOK || str(tok, "scope") != mailSend {
		t.Errorf(".default: %d %v", resp.StatusCode, tok)
	}
}

// TestOnBehalfOfExpiredAssertion: an assertion past its exp (beyond the clock skew) is
// AADSTS500133, and the same one was good before.
func TestOnBehalfOfExpiredAssertion(t *testing.T) {
	e := newEnv(t, withOBO)
	f := e.oboFixture(t)
	if resp, tok := e.token("contoso.test", oboForm(f.access, mailSend), nil); resp.StatusCode != http.StatusOK {
		t.Fatalf("fresh assertion: %d %v", resp.StatusCode, tok)
	}
	e.clock.Advance(time.Hour + tokens.Leeway)
	resp, body := e.token("contoso.test", oboForm(f.access, mailSend), nil)
	wantTokenError(t, resp, body, 400, wantErr{"invalid_grant", 500133})
}

// TestOnBehalfOfConsentChallenge: missing consent answers a claims challenge that the
// middle tier can hand to its client, and Sigil's authorization endpoint accepts it as the
// claims parameter. A user's own grant to the middle tier counts as an administrator's does.
func TestOnBehalfOfConsentChallenge(t *testing.T) {
	e := newEnv(t, withOBO)
	f := e.oboFixture(t)
	resp, body := e.token("contoso.test", oboForm(f.access, "api://mail/Mail.Read openid offline_access"), nil)
	wantTokenError(t, resp, body, 400, wantErr{"invalid_grant", 65001})
	challenge := str(body, "claims")
	var parsed struct {
		AccessToken map[string]struct {
			Essential bool     `json:"essential"`
			Values    []string `json:"values"`
		} `json:"access_token"`
	}
	if err := json.Unmarshal([]byte(challenge), &parsed); err != nil ||
		!slices.Equal(parsed.AccessToken["scp"].Values, []string{"api://mail/Mail.Read"}) {
		t.Fatalf("claims %q (%v), want the missing scope", challenge, err)
	}
	verifier, ch := pkce()
	p := spaParams(ch, spaTodoAuth)
	p.Set("claims", challenge)
	if v := e.authorizeAs(e.client, e.authorizeURL("contoso.test", p), alice, false); v.Get("code") == "" {
		t.Errorf("authorize with the challenge: %v", v)
	}
	_ = verifier

	// alice grants Mail.Read to the middle tier herself; then the exchange succeeds.
	err := e.app.Store().AddGrant(t.Context(), directory.Grant{TenantID: tenantID, ClientID: apiClient,
		UserID: f.oid, Resource: "api://mail", Scopes: []string{"Mail.Read"}}, e.clock.Now())
	if err != nil {
		t.Fatal(err)
	}
	resp, tok := e.token("contoso.test", oboForm(f.access, "api://mail/Mail.Read"), nil)
	if resp.StatusCode != http.StatusOK || claims(t, str(tok, "access_token"))["scp"] != "Mail.Read" {
		t.Errorf("after the user's grant: %d %v", resp.StatusCode, tok)
	}
}

// TestOnBehalfOfSignOut: the OBO grant keeps the assertion's sid, so signing out of that
// browser session revokes the middle tier's refresh tokens too.
func TestOnBehalfOfSignOut(t *testing.T) {
	e := newEnv(t, withOBO)
	f := e.oboFixture(t)
	if sid := claims(t, f.access)["sid"]; sid == nil || sid == "" {
		t.Fatalf("the spa's access token has no sid")
	}
	resp, tok := e.token("contoso.test", oboForm(f.access, oboScope), nil)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("OBO: %d %v", resp.StatusCode, tok)
	}
	out := url.Values{"post_logout_redirect_uri": {spaOrigin + "/signed-out"}, "client_id": {spaClient},
		"logout_hint": {str(claims(t, f.id), "login_hint")}}
	if resp, _ := e.get(e.client, e.url+"/contoso.test/oauth2/v2.0/logout?"+out.Encode()); resp.StatusCode != http.StatusFound {
		t.Fatalf("logout: %d", resp.StatusCode)
	}
	form := refreshForm(apiClient, str(tok, "refresh_token"), "")
	form.Set("client_secret", midSecret)
	resp, body := e.token("contoso.test", form, nil)
	wantTokenError(t, resp, body, 400, wantErr{"invalid_grant", 50173})
}
