package protocol_test

import (
	"encoding/base64"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/sigil-idp/sigil/internal/config"
)

// TestTokenTransport covers what the token endpoint checks before any grant: method, body,
// tenant, client and grant type. Every answer is JSON with CORS and no-store.
func TestTokenTransport(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)

	t.Run("methods other than POST", func(t *testing.T) {
		for _, m := range []string{http.MethodGet, http.MethodPut, http.MethodDelete} {
			req, _ := http.NewRequest(m, e.tokenURL("contoso.test"), nil)
			req.Header.Set("Origin", spaOrigin)
			resp, body := e.do(e.api(), req)
			wantTokenError(t, resp, decodeJSON(t, body), http.StatusMethodNotAllowed, wantErr{"invalid_request", 900561})
			if got := resp.Header.Get("Allow"); !strings.Contains(got, "POST") {
				t.Errorf("%s: Allow %q, want POST", m, got)
			}
		}
	})

	t.Run("preflight", func(t *testing.T) {
		req, _ := http.NewRequest(http.MethodOptions, e.tokenURL("contoso.test"), nil)
		req.Header.Set("Origin", spaOrigin)
		req.Header.Set("Access-Control-Request-Method", "POST")
		req.Header.Set("Access-Control-Request-Headers", "content-type, x-anchormailbox, dpop")
		resp, _ := e.do(e.api(), req)
		if resp.StatusCode != http.StatusNoContent && resp.StatusCode != http.StatusOK {
			t.Errorf("preflight status %d, want 204", resp.StatusCode)
		}
		if got := resp.Header.Get("Access-Control-Allow-Origin"); got != "*" && got != spaOrigin {
			t.Errorf("Access-Control-Allow-Origin %q", got)
		}
		if got := resp.Header.Get("Access-Control-Allow-Methods"); !strings.Contains(got, "POST") {
			t.Errorf("Access-Control-Allow-Methods %q, want POST", got)
		}
		if got := strings.ToLower(resp.Header.Get("Access-Control-Allow-Headers")); !strings.Contains(got, "x-anchormailbox") || !strings.Contains(got, "dpop") {
			t.Errorf("Access-Control-Allow-Headers %q, want content-type, x-anchormailbox, dpop", got)
		}
	})

	valid := func() url.Values {
		return url.Values{"client_id": {spaClient}, "grant_type": {"authorization_code"}, "code": {"nope"},
			"redirect_uri": {spaRedirect}, "code_verifier": {strings.Repeat("v", 43)}}
	}
	with := func(edit func(url.Values)) url.Values {
		f := valid()
		edit(f)
		return f
	}
	tests := []struct {
		name   string
		tenant string
		body   string
		ctype  string
		header http.Header
		status int
		want   wantErr
	}{
		{"wrong content type", "contoso.test", valid().Encode(), "application/json", nil, 400, wantErr{"invalid_request", 9002313}},
		{"no content type", "contoso.test", valid().Encode(), "", nil, 400, wantErr{"invalid_request", 9002313}},
		{"body over 64 KiB", "contoso.test", valid().Encode() + "&x=" + strings.Repeat("a", 65<<10), "", nil, 413, wantErr{"invalid_request", 90015}},
		{"value over 8 KiB", "contoso.test", valid().Encode() + "&claims=" + strings.Repeat("a", 9<<10), "", nil, 413, wantErr{"invalid_request", 90015}},
		{"duplicate parameter", "contoso.test", valid().Encode() + "&code=again", "", nil, 400, wantErr{"invalid_request", 9000411}},
		{"bad body encoding", "contoso.test", valid().Encode() + "&x=%zz", "", nil, 400, wantErr{"invalid_request", 9002313}},
		{"unknown tenant", "nosuch.test", valid().Encode(), "", nil, 400, wantErr{"invalid_request", 90002}},
		{"consumers", "consumers", valid().Encode(), "", nil, 400, wantErr{"invalid_request", 900023}},
		{"missing client_id", "contoso.test", with(func(f url.Values) { f.Del("client_id") }).Encode(), "", nil, 400, wantErr{"invalid_request", 900144}},
		{"unknown client_id", "contoso.test", with(func(f url.Values) { f.Set("client_id", "99999999-8888-4777-8666-555555555555") }).Encode(), "", nil, 400, wantErr{"unauthorized_client", 700016}},
		{"client_id not a GUID", "contoso.test", with(func(f url.Values) { f.Set("client_id", "todo") }).Encode(), "", nil, 400, wantErr{"unauthorized_client", 700016}},
		{"client of another tenant", "fabrikam.test", valid().Encode(), "", nil, 400, wantErr{"unauthorized_client", 700016}},
		{"single-tenant client via common", "common", valid().Encode(), "", nil, 400, wantErr{"invalid_request", 50194}},
		{"missing grant_type", "contoso.test", with(func(f url.Values) { f.Del("grant_type") }).Encode(), "", nil, 400, wantErr{"invalid_request", 900144}},
		// The password grant needs allowPublicClientFlows or a credential (token_password_test.go).
		{"password grant without public client flows", "contoso.test", with(func(f url.Values) { f.Set("grant_type", "password") }).Encode(), "", nil, 401, wantErr{"invalid_client", 7000218}},
		{"device code grant without allowPublicClientFlows", "contoso.test", with(func(f url.Values) { f.Set("grant_type", "urn:ietf:params:oauth:grant-type:device_code") }).Encode(), "", nil, 401, wantErr{"invalid_client", 7000218}},
		{"unknown grant type", "contoso.test", with(func(f url.Values) { f.Set("grant_type", "urn:ietf:params:oauth:grant-type:saml2-bearer") }).Encode(), "", nil, 400, wantErr{"unsupported_grant_type", 70003}},
		{"missing code", "contoso.test", with(func(f url.Values) { f.Del("code") }).Encode(), "", spaOriginHeader(), 400, wantErr{"invalid_request", 900144}},
		{"unknown code", "contoso.test", valid().Encode(), "", spaOriginHeader(), 400, wantErr{"invalid_grant", 70000}},
		{"missing refresh_token", "contoso.test", url.Values{"client_id": {spaClient}, "grant_type": {"refresh_token"}}.Encode(), "", spaOriginHeader(), 400, wantErr{"invalid_request", 900144}},
		{"unknown refresh_token", "contoso.test", refreshForm(spaClient, "nope", "openid").Encode(), "", spaOriginHeader(), 400, wantErr{"invalid_grant", 70000}},
		{"foreign origin for a spa app", "contoso.test", valid().Encode(), "", http.Header{"Origin": {"https://evil.example"}}, 400, wantErr{"invalid_request", 9002326}},
		{"spa origin for a web app", "contoso.test", url.Values{"client_id": {webClient}, "client_secret": {webSecret}, "grant_type": {"authorization_code"}, "code": {"nope"}}.Encode(), "", spaOriginHeader(), 400, wantErr{"invalid_request", 9002326}},
		{"spa origin for a native app", "contoso.test", url.Values{"client_id": {nativeClient}, "grant_type": {"authorization_code"}, "code": {"nope"}}.Encode(), "", spaOriginHeader(), 400, wantErr{"invalid_request", 9002326}},
		{"wrong secret", "contoso.test", url.Values{"client_id": {webClient}, "client_secret": {"nope"}, "grant_type": {"authorization_code"}, "code": {"nope"}}.Encode(), "", nil, 401, wantErr{"invalid_client", 7000215}},
		{"secret for a public client", "contoso.test", with(func(f url.Values) { f.Set("client_secret", "x") }).Encode(), "", nil, 401, wantErr{"invalid_client", 700025}},
		{"secret in body and header", "contoso.test", url.Values{"client_id": {webClient}, "client_secret": {webSecret}, "grant_type": {"authorization_code"}, "code": {"nope"}}.Encode(), "", basicAuth(webClient, webSecret), 400, wantErr{"invalid_request", 9002313}},
		// The order: parsing, grant type, tenant, client, client authentication, Origin, the grant.
		{"order: grant_type before tenant", "nosuch.test", with(func(f url.Values) { f.Del("grant_type") }).Encode(), "", nil, 400, wantErr{"invalid_request", 900144}},
		{"order: tenant before client", "nosuch.test", with(func(f url.Values) { f.Set("client_id", "nope") }).Encode(), "", nil, 400, wantErr{"invalid_request", 90002}},
		{"order: client before secret", "contoso.test", with(func(f url.Values) {
			f.Set("client_id", "99999999-8888-4777-8666-555555555555")
			f.Set("client_secret", "x")
		}).Encode(), "", nil, 400, wantErr{"unauthorized_client", 700016}},
		{"order: secret before Origin", "contoso.test", with(func(f url.Values) { f.Set("client_secret", "x") }).Encode(), "", http.Header{"Origin": {"https://evil.example"}}, 401, wantErr{"invalid_client", 700025}},
		{"order: Origin before code", "contoso.test", with(func(f url.Values) { f.Del("code") }).Encode(), "", http.Header{"Origin": {"https://evil.example"}}, 400, wantErr{"invalid_request", 9002326}},
		{"order: grant_type before code", "contoso.test", with(func(f url.Values) { f.Set("grant_type", "urn:x"); f.Del("code") }).Encode(), "", spaOriginHeader(), 400, wantErr{"unsupported_grant_type", 70003}},
		{"client_id differs from the header", "contoso.test", url.Values{"client_id": {spaClient}, "grant_type": {"authorization_code"}, "code": {"nope"}}.Encode(), "", basicAuth(webClient, webSecret), 400, wantErr{"invalid_request", 9002313}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, _ := http.NewRequest(http.MethodPost, e.tokenURL(tt.tenant), strings.NewReader(tt.body))
			ctype := tt.ctype
			if ctype == "" && tt.name != "no content type" {
				ctype = "application/x-www-form-urlencoded;charset=utf-8"
			}
			if ctype != "" {
				req.Header.Set("Content-Type", ctype)
			}
			for k, v := range tt.header {
				req.Header[k] = v
			}
			resp, body := e.do(e.api(), req)
			wantTokenError(t, resp, decodeJSON(t, body), tt.status, tt.want)
			if resp.Header.Get("Retry-After") != "" {
				t.Error("Retry-After on a client error makes MSAL throttle")
			}
		})
	}
}

// TestTokenErrorBody checks the error shape: error_description starts
// with the AADSTS number and carries the ids; correlation_id is the client-request-id when
// it is a GUID.
func TestTokenErrorBody(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	const cid = "0194D4C2-5F1E-7C3A-9B1E-3F2A1B0C9D8E"
	form := url.Values{"client_id": {spaClient}, "grant_type": {"authorization_code"}, "code": {"nope"}}
	resp, body := e.postForm(e.api(), e.tokenURL("contoso.test")+"?client-request-id="+cid, form, spaOriginHeader())
	m := decodeJSON(t, body)
	wantTokenError(t, resp, m, 400, wantErr{"invalid_grant", 70000})
	if got := str(m, "correlation_id"); !strings.EqualFold(got, cid) {
		t.Errorf("correlation_id %q, want %q", got, cid)
	}
	if got := resp.Header.Get("x-ms-request-id"); got != str(m, "trace_id") {
		t.Errorf("x-ms-request-id %q, want the trace_id %q", got, str(m, "trace_id"))
	}
	desc := str(m, "error_description")
	for _, part := range []string{"Trace ID: " + str(m, "trace_id"), "Correlation ID: " + str(m, "correlation_id"), "Timestamp: " + str(m, "timestamp")} {
		if !strings.Contains(desc, part) {
			t.Errorf("error_description %q lacks %q", desc, part)
		}
	}
	if _, err := time.Parse("2006-01-02 15:04:05Z", str(m, "timestamp")); err != nil {
		t.Errorf("timestamp %q: %v", str(m, "timestamp"), err)
	}

	// Not a GUID: a fresh correlation id instead of the value.
	_, body = e.postForm(e.api(), e.tokenURL("contoso.test")+"?client-request-id=<script>", form, spaOriginHeader())
	m = decodeJSON(t, body)
	if got := str(m, "correlation_id"); got == "<script>" || len(got) != 36 {
		t.Errorf("correlation_id %q for a non-GUID client-request-id, want a new GUID", got)
	}
}

// TestCodeGrant covers authorization code redemption, check by check; every failed check
// is a typed error, and each case has a code of its own.
func TestCodeGrant(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	browser := e.newBrowser()
	newCode := func() (string, string) { return e.spaCode(browser, "contoso.test", alice, todoScopes, nil) }

	tests := []struct {
		name   string
		edit   func(f url.Values, h http.Header)
		status int
		want   wantErr
	}{
		{"another client", func(f url.Values, h http.Header) { f.Set("client_id", preClient) }, 400, wantErr{"invalid_grant", 70000}},
		{"missing redirect_uri", func(f url.Values, h http.Header) { f.Del("redirect_uri") }, 400, wantErr{"invalid_request", 900144}},
		{"other redirect_uri", func(f url.Values, h http.Header) { f.Set("redirect_uri", spaOrigin+"/") }, 400, wantErr{"invalid_grant", 70000}},
		{"missing code_verifier", func(f url.Values, h http.Header) { f.Del("code_verifier") }, 400, wantErr{"invalid_request", 900144}},
		{"wrong code_verifier", func(f url.Values, h http.Header) { f.Set("code_verifier", strings.Repeat("w", 43)) }, 400, wantErr{"invalid_grant", 501481}},
		{"code_verifier too short", func(f url.Values, h http.Header) { f.Set("code_verifier", "short") }, 400, wantErr{"invalid_grant", 501481}},
		{"code_verifier is the challenge", func(f url.Values, h http.Header) { _, c := pkce(); f.Set("code_verifier", c) }, 400, wantErr{"invalid_grant", 501481}},
		{"no Origin", func(f url.Values, h http.Header) { h.Del("Origin") }, 400, wantErr{"invalid_request", 9002327}},
		{"foreign Origin", func(f url.Values, h http.Header) { h.Set("Origin", "https://evil.example") }, 400, wantErr{"invalid_request", 9002326}},
		{"multi-tenant client", func(f url.Values, h http.Header) { f.Set("client_id", multiClient) }, 400, wantErr{"invalid_grant", 70000}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, verifier := newCode()
			f := redeemForm(spaClient, code, verifier, todoScopes)
			h := spaOriginHeader()
			tt.edit(f, h)
			resp, body := e.token("contoso.test", f, h)
			wantTokenError(t, resp, body, tt.status, tt.want)
			// A code that failed a check of the code grant is used up; a request refused
			// before (the Origin rule) never presented it.
			resp, body = e.token("contoso.test", redeemForm(spaClient, code, verifier, todoScopes), spaOriginHeader())
			if tt.want.aadsts == 9002326 {
				if resp.StatusCode != http.StatusOK {
					t.Errorf("code refused by the Origin rule no longer redeems: %d %v", resp.StatusCode, body)
				}
				return
			}
			wantTokenError(t, resp, body, 400, wantErr{"invalid_grant", 54005})
		})
	}

	t.Run("replay revokes what the first redemption issued", func(t *testing.T) {
		code, verifier := newCode()
		resp, first := e.token("contoso.test", redeemForm(spaClient, code, verifier, todoScopes), spaOriginHeader())
		if resp.StatusCode != 200 || str(first, "refresh_token") == "" {
			t.Fatalf("first redemption: %d %v", resp.StatusCode, first)
		}
		resp, body := e.token("contoso.test", redeemForm(spaClient, code, verifier, todoScopes), spaOriginHeader())
		wantTokenError(t, resp, body, 400, wantErr{"invalid_grant", 54005})
		resp, body = e.token("contoso.test", refreshForm(spaClient, str(first, "refresh_token"), todoScopes), spaOriginHeader())
		wantTokenError(t, resp, body, 400, wantErr{"invalid_grant", 50173})
	})

	t.Run("expired code", func(t *testing.T) {
		code, verifier := newCode()
		e.clock.Advance(10*time.Minute + time.Second)
		resp, body := e.token("contoso.test", redeemForm(spaClient, code, verifier, todoScopes), spaOriginHeader())
		wantTokenError(t, resp, body, 400, wantErr{"invalid_grant", 70008})
	})

	t.Run("code redeemed just before expiry", func(t *testing.T) {
		code, verifier := newCode()
		e.clock.Advance(10*time.Minute - time.Second)
		resp, body := e.token("contoso.test", redeemForm(spaClient, code, verifier, todoScopes), spaOriginHeader())
		if resp.StatusCode != 200 {
			t.Errorf("%d %v, want tokens", resp.StatusCode, body)
		}
	})
}

// basicAuth is an Authorization header for client_secret_basic: id and secret are
// form-urlencoded before base64 (RFC 6749 §2.3.1).
func basicAuth(id, secret string) http.Header {
	raw := url.QueryEscape(id) + ":" + url.QueryEscape(secret)
	return http.Header{"Authorization": {"Basic " + base64.StdEncoding.EncodeToString([]byte(raw))}}
}

// TestCodeGrantConfidential covers the web app: a client secret is required, by post or by
// HTTP Basic with url-encoded credentials.
func TestCodeGrantConfidential(t *testing.T) {
	t.Parallel()
	const oddSecret = "p@ss:w+rd/ü= %&-0123456789"
	e := newEnv(t, func(c *config.Config) {
		c.Tenants[0].Apps[1].ClientSecrets = append(c.Tenants[0].Apps[1].ClientSecrets, oddSecret)
	})
	browser := e.newBrowser()
	newCode := func(redirect bool) string {
		p := url.Values{"client_id": {webClient}, "redirect_uri": {webRedirect}, "response_type": {"code"},
			"scope": {"openid profile offline_access"}, "state": {"x"}}
		if !redirect {
			p.Del("redirect_uri") // the app's only redirect URI is used
		}
		v := e.authorizeAs(browser, e.authorizeURL("contoso.test", p), alice, false)
		if v.Get("code") == "" {
			t.Fatalf("no code: %v", v)
		}
		return v.Get("code")
	}
	form := func(code string) url.Values {
		return url.Values{"client_id": {webClient}, "grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {webRedirect}}
	}
	tests := []struct {
		name   string
		edit   func(f url.Values) http.Header
		status int
		want   wantErr // code == "": tokens
	}{
		{"no secret", func(f url.Values) http.Header { return nil }, 401, wantErr{"invalid_client", 7000218}},
		{"wrong secret", func(f url.Values) http.Header { f.Set("client_secret", webSecret+"x"); return nil }, 401, wantErr{"invalid_client", 7000215}},
		{"wrong basic secret", func(f url.Values) http.Header { f.Del("client_id"); return basicAuth(webClient, "nope") }, 401, wantErr{"invalid_client", 7000215}},
		{"client_secret_post", func(f url.Values) http.Header { f.Set("client_secret", webSecret); return nil }, 200, wantErr{}},
		{"client_secret_post, odd secret", func(f url.Values) http.Header { f.Set("client_secret", oddSecret); return nil }, 200, wantErr{}},
		{"client_secret_basic, url-encoded", func(f url.Values) http.Header { f.Del("client_id"); return basicAuth(webClient, oddSecret) }, 200, wantErr{}},
		{"client_secret_basic with client_id in the body", func(f url.Values) http.Header { return basicAuth(strings.ToUpper(webClient), oddSecret) }, 200, wantErr{}},
		{"redirect_uri omitted (none was sent to authorize)", func(f url.Values) http.Header {
			f.Del("redirect_uri")
			f.Set("client_secret", webSecret)
			return nil
		}, 200, wantErr{}},
		{"cross-origin with the secret", func(f url.Values) http.Header { f.Set("client_secret", webSecret); return spaOriginHeader() }, 400, wantErr{"invalid_request", 9002326}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := form(newCode(!strings.Contains(tt.name, "none was sent")))
			h := tt.edit(f)
			resp, body := e.token("contoso.test", f, h)
			if tt.want.code != "" {
				wantTokenError(t, resp, body, tt.status, tt.want)
				basic := h != nil && strings.HasPrefix(h.Get("Authorization"), "Basic ")
				if got := resp.Header.Get("WWW-Authenticate"); basic && tt.status == 401 && !strings.HasPrefix(got, "Basic ") {
					t.Errorf("401 after HTTP Basic: WWW-Authenticate %q, want a Basic challenge (RFC 6749 §5.2)", got)
				}
				return
			}
			if resp.StatusCode != 200 || str(body, "access_token") == "" {
				t.Fatalf("%d %v, want tokens", resp.StatusCode, body)
			}
			wantJSONHeaders(t, resp)
			if got := claims(t, str(body, "access_token"))["azpacr"]; got != "1" {
				t.Errorf("azpacr %v, want 1 (client secret)", got)
			}
		})
	}

	t.Run("web refresh needs the secret", func(t *testing.T) {
		f := form(newCode(true))
		f.Set("client_secret", webSecret)
		_, tok := e.token("contoso.test", f, nil)
		resp, body := e.token("contoso.test", refreshForm(webClient, str(tok, "refresh_token"), ""), nil)
		wantTokenError(t, resp, body, 401, wantErr{"invalid_client", 7000218})
		r := refreshForm(webClient, str(tok, "refresh_token"), "")
		r.Set("client_secret", webSecret)
		if resp, body = e.token("contoso.test", r, nil); resp.StatusCode != 200 {
			t.Errorf("refresh with the secret: %d %v", resp.StatusCode, body)
		}
	})
}
