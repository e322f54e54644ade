package e2e

import (
	"encoding/base64"
	"encoding/json"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/sigil-idp/sigil/e2e/harness"
)

// jwtClaims decodes a JWT's payload (MSAL checks no signatures; go-oidc tests do).
func jwtClaims(t *testing.T, jwt string) map[string]any {
	t.Helper()
	parts := strings.Split(jwt, ".")
	if len(parts) != 3 {
		t.Fatalf("not a JWT: %q", jwt)
	}
	b, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

// TestMSAL5ClaimsRequests runs msal-browser 5's claims cases against an app without optional
// claims: acquireTokenPopup({claims}) asking for email gets it in the ID token;
// clientCapabilities ["CP1"] comes back as the access token's xms_cc; and a CAE claims
// challenge passed to acquireTokenSilent({claims}) is answered through the refresh token, with
// no popup and no iframe, by an access token issued no earlier than the challenge's nbf.
func TestMSAL5ClaimsRequests(t *testing.T) {
	e := harness.Start(t, harness.Options{})
	p := e.OpenApp("msal5.html?clientCapabilities=CP1")
	mustSucceed(t, "loginPopup", e.WithPopup(p, "t.loginPopup("+userRead+")", harness.Alice))

	email := jsString(`{"id_token":{"email":{"essential":true}}}`)
	r := mustSucceed(t, "acquireTokenPopup with claims", e.WithPopup(p, "t.tokenPopup("+userRead+", {claims: "+email+", prompt: 'login'})", harness.Alice))
	if id := jwtClaims(t, r.IDToken); id["email"] != harness.Alice {
		t.Errorf("ID token after a claims request for email: %v", id)
	}
	if cc, _ := jwtClaims(t, r.AccessToken)["xms_cc"].([]any); len(cc) != 1 || cc[0] != "CP1" {
		t.Errorf("access token xms_cc = %v, want [CP1] from clientCapabilities", jwtClaims(t, r.AccessToken)["xms_cc"])
	}

	at := time.Now().Unix() + 5
	challenge := jsString(`{"access_token":{"nbf":{"essential":true,"value":"` + strconv.FormatInt(at, 10) + `"}}}`)
	tokens, iframes := e.Requests.TokenRequests(), e.Requests.SilentAuthorizeRequests()
	r = mustSucceed(t, "acquireTokenSilent with a CAE challenge", e.Call(p, "t.silent("+userRead+", {claims: "+challenge+"})"))
	if r.FromCache || e.Requests.TokenRequests() != tokens+1 || e.Requests.SilentAuthorizeRequests() != iframes {
		t.Fatalf("CAE challenge: fromCache=%v, token requests %d → %d, iframes %d → %d; want one refresh",
			r.FromCache, tokens, e.Requests.TokenRequests(), iframes, e.Requests.SilentAuthorizeRequests())
	}
	c := jwtClaims(t, r.AccessToken)
	if iat, nbf := c["iat"].(float64), c["nbf"].(float64); int64(iat) < at || int64(nbf) < at {
		t.Errorf("CAE: access token iat %v nbf %v, want ≥ %d", iat, nbf, at)
	}
}
