package protocol_test

import (
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/sigil-idp/sigil/internal/config"
)

// TestTokenResponseShape checks a code redemption's answer and its tokens against
// what MSAL reads of them.
func TestTokenResponseShape(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	c := e.newBrowser()
	verifier, challenge := pkce()
	p := spaParams(challenge, todoScopes)
	p.Set("nonce", "nonce-0194d4c2")
	_, body := e.get(c, e.authorizeURL("contoso.test", p))
	resp, body := e.submitLogin(c, hiddenFields(body), alice, pw, true) // stay signed in
	v := e.finish(c, resp, body)
	r, tok := e.token("contoso.test", redeemForm(spaClient, v.Get("code"), verifier, todoScopes), spaOriginHeader())
	if r.StatusCode != http.StatusOK {
		t.Fatalf("redeem: %d %v", r.StatusCode, tok)
	}
	wantJSONHeaders(t, r)
	if got := r.Header.Get("Access-Control-Allow-Origin"); got != "*" && got != spaOrigin {
		t.Errorf("Access-Control-Allow-Origin %q", got)
	}

	t.Run("response", func(t *testing.T) {
		if got := str(tok, "token_type"); got != "Bearer" {
			t.Errorf("token_type %q, want Bearer", got)
		}
		for _, k := range []string{"expires_in", "ext_expires_in", "refresh_token_expires_in"} {
			if n, ok := tok[k].(float64); !ok || n <= 300 {
				t.Errorf("%s %v, want a number over 300", k, tok[k])
			}
		}
		if !sameSet(str(tok, "scope"), todoScopes) {
			t.Errorf("scope %q, want %q", str(tok, "scope"), todoScopes)
		}
		for _, k := range []string{"access_token", "refresh_token", "id_token"} {
			if str(tok, k) == "" {
				t.Errorf("%s missing", k)
			}
		}
		raw, err := base64.RawURLEncoding.DecodeString(str(tok, "client_info"))
		var ci map[string]string
		if err != nil || json.Unmarshal(raw, &ci) != nil {
			t.Fatalf("client_info %q is not base64url JSON", str(tok, "client_info"))
		}
		id := claims(t, str(tok, "id_token"))
		if ci["uid"] != id["oid"] || ci["utid"] != tenantID {
			t.Errorf("client_info %v, want uid=oid %v, utid=%s", ci, id["oid"], tenantID)
		}
		for _, k := range []string{"foci", "accountId", "cloud_instance_host_name", "ear_jwe"} {
			if _, ok := tok[k]; ok {
				t.Errorf("response carries %s", k)
			}
		}
	})

	t.Run("ID token", func(t *testing.T) {
		id := claims(t, str(tok, "id_token"))
		want := map[string]any{"nonce": "nonce-0194d4c2", "tid": tenantID, "preferred_username": alice, "name": "Alice Example",
			"ver": "2.0", "aud": spaClient, "iss": e.url + "/" + tenantID + "/v2.0"}
		for k, w := range want {
			if id[k] != w {
				t.Errorf("%s %v, want %v", k, id[k], w)
			}
		}
		for _, k := range []string{"sub", "oid", "sid", "login_hint", "iat", "exp", "auth_time"} {
			if id[k] == nil || id[k] == "" {
				t.Errorf("%s missing", k)
			}
		}
		if s, _ := id["sub"].(string); strings.Contains(s, ".") || s == id["oid"] {
			t.Errorf("sub %q: want pairwise, not the oid, without '.'", s)
		}
		if ss, _ := id["signin_state"].([]any); !slices.Equal(ss, []any{"kmsi"}) {
			t.Errorf("signin_state %v, want [kmsi] (stay signed in was ticked)", id["signin_state"])
		}
	})

	t.Run("access token", func(t *testing.T) {
		at, id := claims(t, str(tok, "access_token")), claims(t, str(tok, "id_token"))
		want := map[string]any{"aud": "api://todo", "scp": "Todo.Read", "azp": spaClient, "tid": tenantID, "oid": id["oid"],
			"ver": "2.0", "iss": e.url + "/" + tenantID + "/v2.0", "sid": id["sid"]}
		for k, w := range want {
			if at[k] != w {
				t.Errorf("%s %v, want %v", k, at[k], w)
			}
		}
		if exp, iat := at["exp"].(float64), at["iat"].(float64); exp-iat <= 300 {
			t.Errorf("access token lives %v s", exp-iat)
		}
	})

	t.Run("without stay signed in, no signin_state", func(t *testing.T) {
		id := claims(t, str(e.spaTokens(e.newBrowser(), "contoso.test", alice, todoScopes), "id_token"))
		if _, ok := id["signin_state"]; ok {
			t.Errorf("signin_state %v without stay signed in", id["signin_state"])
		}
	})

	t.Run("sub is pairwise per app", func(t *testing.T) {
		id := claims(t, str(tok, "id_token"))
		verifier, challenge := pkce()
		q := spaParams(challenge, todoScopes)
		q.Set("client_id", preClient)
		v := e.authorizeAs(c, e.authorizeURL("contoso.test", q), alice, false)
		r, other := e.token("contoso.test", redeemForm(preClient, v.Get("code"), verifier, todoScopes), spaOriginHeader())
		if r.StatusCode != http.StatusOK {
			t.Fatalf("%d %v", r.StatusCode, other)
		}
		id2 := claims(t, str(other, "id_token"))
		if id2["oid"] != id["oid"] || id2["sub"] == id["sub"] {
			t.Errorf("two apps: oid %v/%v, sub %v/%v; want one oid and two subs", id["oid"], id2["oid"], id["sub"], id2["sub"])
		}
	})

	t.Run("profile API token", func(t *testing.T) {
		tok := e.spaTokens(c, "contoso.test", alice, "User.Read openid profile offline_access")
		at := claims(t, str(tok, "access_token"))
		if at["aud"] != "00000003-0000-0000-c000-000000000000" || !sameSet(at["scp"].(string), "User.Read openid profile") {
			t.Errorf("aud %v scp %v, want the profile API with User.Read openid profile", at["aud"], at["scp"])
		}
	})

	t.Run("no offline_access, no refresh token", func(t *testing.T) {
		tok := e.spaTokens(c, "contoso.test", alice, "api://todo/Todo.Read openid profile")
		if _, ok := tok["refresh_token"]; ok {
			t.Error("refresh_token without offline_access")
		}
		if _, ok := tok["refresh_token_expires_in"]; ok {
			t.Error("refresh_token_expires_in without offline_access")
		}
	})
}

// TestPerAppLifetimes: an app's tokenLifetimes override the server's for that app only.
func TestPerAppLifetimes(t *testing.T) {
	e := newEnv(t, func(c *config.Config) {
		c.Tenants[0].Apps[0].TokenLifetimes.AccessToken = config.Duration(5 * time.Minute) // the spa app
		c.Tenants[0].Apps[0].TokenLifetimes.IDToken = config.Duration(7 * time.Minute)
	})
	tok := e.spaTokens(e.newBrowser(), "contoso.test", alice, "api://todo/Todo.Read openid profile offline_access")
	if got := tok["expires_in"]; got != float64(300) {
		t.Errorf("expires_in %v, want 300 (the app's 5m)", got)
	}
	at, id := claims(t, str(tok, "access_token")), claims(t, str(tok, "id_token"))
	if exp, iat := at["exp"].(float64), at["iat"].(float64); exp-iat != 300 {
		t.Errorf("access token lives %v s, want 300", exp-iat)
	}
	if exp, iat := id["exp"].(float64), id["iat"].(float64); exp-iat != 420 {
		t.Errorf("ID token lives %v s, want 420", exp-iat)
	}
	// Another app keeps the server's default (1h).
	c := e.newBrowser()
	code, verifier := e.spaCode(c, "contoso.test", alice, "openid offline_access", func(p url.Values) { p.Set("client_id", preClient) })
	_, other := e.token("contoso.test", redeemForm(preClient, code, verifier, "openid offline_access"), spaOriginHeader())
	if got := other["expires_in"]; got != float64(3600) {
		t.Errorf("the other app's expires_in %v, want 3600", got)
	}
}
