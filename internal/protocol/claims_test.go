package protocol_test

import (
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"testing"

	"github.com/sigil-idp/sigil/internal/config"
)

// TestClaimsParameterApplied covers the claims parameter on the code flow: ID-token claims the
// app did not configure appear, client capabilities come back as xms_cc, both survive every
// refresh, and a CAE challenge at the token endpoint mints an access token no earlier than
// its nbf — never an error.
func TestClaimsParameterApplied(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	scope := "User.Read openid profile offline_access"
	code, verifier := e.spaCode(e.newBrowser(), "contoso.test", alice, scope, func(p url.Values) {
		p.Set("claims", `{"id_token":{"email":{"essential":true},"given_name":null,"login_hint":{"essential":false}},`+
			`"access_token":{"xms_cc":{"values":["CP1"]}}}`)
	})
	resp, tok := e.token("contoso.test", redeemForm(spaClient, code, verifier, scope), spaOriginHeader())
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("redeem: %d %v", resp.StatusCode, tok)
	}
	check := func(what string, tok map[string]any) {
		t.Helper()
		id, at := claims(t, str(tok, "id_token")), claims(t, str(tok, "access_token"))
		if id["email"] != alice || id["given_name"] != "Alice" {
			t.Errorf("%s: ID token %v, want email and given_name from the claims parameter", what, id)
		}
		if cc, _ := at["xms_cc"].([]any); len(cc) != 1 || cc[0] != "CP1" {
			t.Errorf("%s: access token xms_cc = %v, want [CP1]", what, at["xms_cc"])
		}
	}
	check("code redemption", tok)
	resp, tok = e.token("contoso.test", refreshForm(spaClient, str(tok, "refresh_token"), ""), spaOriginHeader())
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("refresh: %d %v", resp.StatusCode, tok)
	}
	check("refresh", tok)

	// A CAE claims challenge, passed by MSAL to acquireTokenSilent({claims}) and sent with
	// the refresh token.
	at := e.clock.Now().Unix() + 90
	form := refreshForm(spaClient, str(tok, "refresh_token"), scope)
	form.Set("claims", `{"access_token":{"nbf":{"essential":true,"value":"`+strconv.FormatInt(at, 10)+`"}}}`)
	resp, tok = e.token("contoso.test", form, spaOriginHeader())
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("refresh with a CAE challenge: %d %v", resp.StatusCode, tok)
	}
	c := claims(t, str(tok, "access_token"))
	if iat, nbf := c["iat"].(float64), c["nbf"].(float64); int64(iat) < at || int64(nbf) < at {
		t.Errorf("CAE: iat %v nbf %v, want ≥ %d", iat, nbf, at)
	}
	check("refresh with a CAE challenge", tok)

	form = refreshForm(spaClient, str(tok, "refresh_token"), "")
	form.Set("claims", `{"access_token":[]}`)
	resp, body := e.token("contoso.test", form, spaOriginHeader())
	wantTokenError(t, resp, body, http.StatusBadRequest, wantErr{"invalid_request", 90100})
}

// TestOptionalClaims covers the documented optional claims, configured per token kind.
func TestOptionalClaims(t *testing.T) {
	t.Parallel()
	e := newEnv(t, func(c *config.Config) {
		app := &c.Tenants[0].Apps[0]
		app.OptionalClaims = config.OptionalClaims{
			IDToken:     []string{"upn", "acct", "verified_primary_email", "ipaddr", "family_name", "ctry"},
			AccessToken: []string{"auth_time", "upn", "given_name", "login_hint", "email", "acct"},
		}
	})
	tok := e.spaTokens(e.newBrowser(), "contoso.test", alice, "User.Read openid profile offline_access")
	id, at := claims(t, str(tok, "id_token")), claims(t, str(tok, "access_token"))
	for _, k := range []string{"upn", "acct", "verified_primary_email", "ipaddr", "family_name"} {
		if _, ok := id[k]; !ok {
			t.Errorf("ID token lacks the optional claim %s: %v", k, id)
		}
	}
	if id["upn"] != alice || id["acct"] != float64(0) || id["family_name"] != "Example" || id["ctry"] != nil {
		t.Errorf("ID token optional claims: %v", id)
	}
	if v, _ := id["verified_primary_email"].([]any); !slices.Equal(v, []any{alice}) {
		t.Errorf("verified_primary_email = %v", id["verified_primary_email"])
	}
	for _, k := range []string{"auth_time", "upn", "given_name", "login_hint", "email", "acct"} {
		if _, ok := at[k]; !ok {
			t.Errorf("access token lacks the optional claim %s: %v", k, at)
		}
	}
	if at["ipaddr"] != nil || at["family_name"] != nil {
		t.Errorf("access token carries ID-token-only optional claims: %v", at)
	}
}
