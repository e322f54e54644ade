package e2e

import (
	"strings"
	"testing"

	"github.com/sigil-idp/sigil/e2e/harness"
	"github.com/sigil-idp/sigil/internal/config"
)

// The middle tier of on-behalf-of: the Todo API's own registration, which calls the Mail API.
const (
	middleID     = "4e5f6a7b-8c9d-4e0f-a1b2-c3d4e5f6a7b8"
	middleSecret = "api-secret-value"
)

// withMiddleTier makes the Todo API's registration (apis[].clientId) a confidential client
// granted api://mail/Mail.Send tenant-wide; the Mail API's Mail.Read is granted to nobody.
func withMiddleTier(c *config.Config) {
	t := &c.Tenants[0]
	t.APIs[0].ClientID = middleID
	t.APIs = append(t.APIs, config.API{DisplayName: "Mail API", AppIDURI: "api://mail",
		Scopes: []config.Scope{{Value: "Mail.Send"}, {Value: "Mail.Read"}}})
	t.Apps = append(t.Apps, config.App{DisplayName: "Todo API (middle tier)", ClientID: middleID,
		ClientSecrets: []string{middleSecret}, AdminConsent: []string{"api://mail/Mail.Send"}})
}

// TestMSALNodeOnBehalfOf: a web app signs alice in with msal-node (the real sign-in pages) and
// gets an access token for the Todo API; the Todo API, as msal-node's
// ConfidentialClientApplication, exchanges it on behalf of alice for a Mail API token — asked
// again, from msal-node's cache — and a scope nobody consented to comes back as the
// consent_required error its SPA can act on.
func TestMSALNodeOnBehalfOf(t *testing.T) {
	e := startNode(t, func(c *config.Config) { withNodeApps(newNodeCert(t))(c); withMiddleTier(c) }, false)
	common := []string{"client-secret", webSecret, "redirect-uri", webRedirect, "scopes", webScopes}
	u := mustNode(t, "getAuthCodeUrl", runNode(t, e, "auth-code-url.mjs", webAppID, append(common, "state", "s")...))
	back, err := e.SignInHTTP(e.HTTPBrowser(), u.URL, harness.Alice)
	if err != nil {
		t.Fatal(err)
	}
	user := mustNode(t, "acquireTokenByCode", runNode(t, e, "auth-code.mjs", webAppID, append(common, "code", back.Params.Get("code"))...))
	uc := jwtClaims(t, user.AccessToken)
	if uc["aud"] != "api://todo" {
		t.Fatalf("the user's token is for %v, want api://todo", uc["aud"])
	}

	obo := []string{"client-secret", middleSecret, "assertion", user.AccessToken, "scopes", "api://mail/Mail.Send", "again", "true"}
	before := e.Requests.GrantRequests("urn:ietf:params:oauth:grant-type:jwt-bearer")
	r := mustNode(t, "acquireTokenOnBehalfOf twice", runNode(t, e, "obo.mjs", middleID, obo...))
	c := jwtClaims(t, r.AccessToken)
	if c["aud"] != "api://mail" || c["scp"] != "Mail.Send" || c["oid"] != uc["oid"] || c["tid"] != harness.TenantID ||
		c["azp"] != middleID || c["azpacr"] != "1" {
		t.Errorf("on-behalf-of token claims: %v (user token %v)", c, uc)
	}
	if r.Raw["firstUsername"] != harness.Alice {
		t.Errorf("on-behalf-of account: %s", r)
	}
	if !r.FromCache || r.AccessToken != r.Raw["firstAccessToken"] ||
		e.Requests.GrantRequests("urn:ietf:params:oauth:grant-type:jwt-bearer") != before+1 {
		t.Errorf("second call not from msal-node's cache: fromCache=%v, jwt-bearer requests %d → %d", r.FromCache, before,
			e.Requests.GrantRequests("urn:ietf:params:oauth:grant-type:jwt-bearer"))
	}

	denied := runNode(t, e, "obo.mjs", middleID, "client-secret", middleSecret, "assertion", user.AccessToken,
		"scopes", "api://mail/Mail.Read")
	if denied.OK || denied.Error == nil || !strings.Contains(denied.Error.ErrorMessage, "AADSTS65001") ||
		denied.Error.SubError != "consent_required" {
		t.Errorf("an unconsented downstream scope: %s, want AADSTS65001 with suberror consent_required", denied)
	}
}
