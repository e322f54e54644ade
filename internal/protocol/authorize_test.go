package protocol_test

import (
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// validSPA returns complete, valid authorization parameters of the spa app with a PKCE
// challenge, in query mode.
func validSPA() url.Values {
	_, challenge := pkce()
	p := spaParams(challenge, "api://todo/Todo.Read openid profile offline_access")
	p.Set("response_mode", "query")
	return p
}

// TestAuthorizeErrorPages covers the checks made before the redirect URI is trusted: their
// errors are pages with data-error-code and never a redirect, even when the request names a
// registered redirect URI and a state.
func TestAuthorizeErrorPages(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	with := func(edit func(url.Values)) string {
		p := validSPA()
		edit(p)
		return p.Encode()
	}
	tests := []struct {
		name   string
		tenant string
		query  string
		status int
		aadsts string
	}{
		{"unknown tenant domain", "nosuch.test", with(func(url.Values) {}), 400, "AADSTS90002"},
		{"unknown tenant id", "11111111-2222-4333-8444-555555555555", with(func(url.Values) {}), 400, "AADSTS90002"},
		{"consumers", "consumers", with(func(url.Values) {}), 400, "AADSTS900023"},
		{"missing client_id", "contoso.test", with(func(p url.Values) { p.Del("client_id") }), 400, "AADSTS900144"},
		{"unknown client_id", "contoso.test", with(func(p url.Values) { p.Set("client_id", "99999999-8888-4777-8666-555555555555") }), 400, "AADSTS700016"},
		{"client_id not a GUID", "contoso.test", with(func(p url.Values) { p.Set("client_id", "todo-spa") }), 400, "AADSTS700016"},
		{"client of another tenant", "contoso.test", with(func(p url.Values) { p.Set("client_id", otherClient) }), 400, "AADSTS700016"},
		{"client of another tenant by tenant id", otherTenant, with(func(url.Values) {}), 400, "AADSTS700016"},
		{"single-tenant app via common", "common", with(func(url.Values) {}), 400, "AADSTS50194"},
		{"single-tenant app via organizations", "organizations", with(func(url.Values) {}), 400, "AADSTS50194"},
		{"unregistered redirect_uri", "contoso.test", with(func(p url.Values) { p.Set("redirect_uri", "https://evil.example/cb") }), 400, "AADSTS50011"},
		{"redirect_uri with another trailing slash", "contoso.test", with(func(p url.Values) { p.Set("redirect_uri", spaRedirect+"/") }), 400, "AADSTS50011"},
		{"redirect_uri in another case", "contoso.test", with(func(p url.Values) { p.Set("redirect_uri", strings.ToUpper(spaRedirect)) }), 400, "AADSTS50011"},
		{"redirect_uri with a query added", "contoso.test", with(func(p url.Values) { p.Set("redirect_uri", spaRedirect+"?x=1") }), 400, "AADSTS50011"},
		{"redirect_uri of another app", "contoso.test", with(func(p url.Values) { p.Set("redirect_uri", webRedirect) }), 400, "AADSTS50011"},
		{"relative redirect_uri", "contoso.test", with(func(p url.Values) { p.Set("redirect_uri", "/redirect.html") }), 400, "AADSTS90102"},
		{"redirect_uri with a fragment", "contoso.test", with(func(p url.Values) { p.Set("redirect_uri", spaRedirect+"#frag") }), 400, "AADSTS90102"},
		{"redirect_uri without host", "contoso.test", with(func(p url.Values) { p.Set("redirect_uri", "https:///redirect.html") }), 400, "AADSTS90102"},
		{"missing redirect_uri, several registered", "contoso.test", with(func(p url.Values) { p.Del("redirect_uri") }), 400, "AADSTS900971"},
		{"state twice", "contoso.test", with(func(url.Values) {}) + "&state=again", 400, "AADSTS9000411"},
		{"client_id twice", "contoso.test", with(func(url.Values) {}) + "&client_id=" + spaClient, 400, "AADSTS9000411"},
		{"empty parameter twice", "contoso.test", with(func(url.Values) {}) + "&login_hint=&login_hint=", 400, "AADSTS9000411"},
		{"oversized query", "contoso.test", with(func(p url.Values) {
			p.Set("login_hint", strings.Repeat("a", 7<<10))
			p.Set("domain_hint", strings.Repeat("b", 7<<10))
			p.Set("sid", strings.Repeat("c", 3<<10))
		}), 413, "AADSTS90015"},
		{"oversized value", "contoso.test", with(func(p url.Values) { p.Set("login_hint", strings.Repeat("a", 9<<10)) }), 413, "AADSTS90015"},
		{"bad query encoding", "contoso.test", with(func(url.Values) {}) + "&x=%zz", 400, "AADSTS9002313"},
		// The order: parsing, tenant, client, redirect URI; then everything else.
		{"order: duplicate before tenant", "nosuch.test", with(func(url.Values) {}) + "&nonce=2", 400, "AADSTS9000411"},
		{"order: tenant before client", "nosuch.test", with(func(p url.Values) { p.Del("client_id") }), 400, "AADSTS90002"},
		{"order: client before redirect_uri", "contoso.test", with(func(p url.Values) {
			p.Set("client_id", "99999999-8888-4777-8666-555555555555")
			p.Set("redirect_uri", "https://evil.example/")
		}), 400, "AADSTS700016"},
		{"order: redirect_uri before the rest", "contoso.test", with(func(p url.Values) {
			p.Set("redirect_uri", "https://evil.example/")
			p.Set("response_mode", "bogus")
			p.Del("response_type")
			p.Set("prompt", "none")
		}), 400, "AADSTS50011"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, body := e.get(e.newBrowser(), e.url+"/"+tt.tenant+"/oauth2/v2.0/authorize?"+tt.query)
			wantErrorPage(t, resp, body, tt.status, tt.aadsts)
		})
	}

	// The same checks on the POST variant of the endpoint (MSAL's httpMethod: "POST").
	t.Run("POST with an unregistered redirect_uri", func(t *testing.T) {
		p := validSPA()
		p.Set("redirect_uri", "https://evil.example/cb")
		resp, body := e.postForm(e.newBrowser(), e.url+"/contoso.test/oauth2/v2.0/authorize", p, nil)
		wantErrorPage(t, resp, body, 400, "AADSTS50011")
	})
	t.Run("POST with a parameter in query and body: the body's wins", func(t *testing.T) {
		p := validSPA()
		p.Set("prompt", "none")
		resp, body := e.postForm(e.newBrowser(), e.url+"/contoso.test/oauth2/v2.0/authorize?state=from-the-query", p, nil)
		wantRedirectError(t, resp, body, spaRedirect, "query", wantErr{"login_required", 50058}, ptr(p.Get("state")))
	})
	t.Run("POST with a parameter twice in the body", func(t *testing.T) {
		p := validSPA()
		p.Add("state", "again")
		resp, body := e.postForm(e.newBrowser(), e.url+"/contoso.test/oauth2/v2.0/authorize", p, nil)
		wantErrorPage(t, resp, body, 400, "AADSTS9000411")
	})
	t.Run("POST with the same value in query and body", func(t *testing.T) {
		p := validSPA()
		p.Set("client-request-id", "0194d4c2-5f1e-7c3a-9b1e-3f2a1b0c9d8e")
		p.Set("prompt", "none")
		resp, body := e.postForm(e.newBrowser(), e.url+"/contoso.test/oauth2/v2.0/authorize?client-request-id="+p.Get("client-request-id"), p, nil)
		wantRedirectError(t, resp, body, spaRedirect, "query", wantErr{"login_required", 50058}, ptr(p.Get("state")))
	})
	t.Run("POST that is not a form", func(t *testing.T) {
		req, _ := http.NewRequest(http.MethodPost, e.url+"/contoso.test/oauth2/v2.0/authorize", strings.NewReader(validSPA().Encode()))
		req.Header.Set("Content-Type", "application/json")
		resp, body := e.do(e.newBrowser(), req)
		wantErrorPage(t, resp, body, 400, "AADSTS9002313")
	})
}

// TestAuthorizeErrorRedirects covers the checks made once the client and its redirect URI
// are trusted: every error goes back to the redirect URI with state, in the response mode.
func TestAuthorizeErrorRedirects(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	const state = "eyJpZCI6IjAxIn0+/=|app state"
	tests := []struct {
		name   string
		edit   func(url.Values)
		uri    string
		mode   string // where the error must arrive
		want   wantErr
		silent bool
	}{
		{"unknown response_mode", func(p url.Values) { p.Set("response_mode", "web_message") }, spaRedirect, "query", wantErr{"invalid_request", 90100}, false},
		{"missing response_type", func(p url.Values) { p.Del("response_type") }, spaRedirect, "query", wantErr{"invalid_request", 900144}, false},
		{"missing response_type, fragment", func(p url.Values) { p.Del("response_type"); p.Set("response_mode", "fragment") }, spaRedirect, "fragment", wantErr{"invalid_request", 900144}, false},
		{"response_type bogus", func(p url.Values) { p.Set("response_type", "bogus") }, spaRedirect, "query", wantErr{"unsupported_response_type", 70005}, false},
		{"response_type code code", func(p url.Values) { p.Set("response_type", "code code") }, spaRedirect, "query", wantErr{"unsupported_response_type", 70005}, false},
		{"response_type token in the query", func(p url.Values) { p.Set("response_type", "token") }, spaRedirect, "fragment", wantErr{"invalid_request", 70007}, false},
		{"response_type token, switch off", func(p url.Values) { p.Set("response_type", "token"); p.Del("response_mode") }, spaRedirect, "fragment", wantErr{"unsupported_response_type", 700051}, false},
		{"response_type id_token, switch off", func(p url.Values) { p.Set("response_type", "id_token"); p.Del("response_mode") }, spaRedirect, "fragment", wantErr{"unsupported_response_type", 700054}, false},
		{"response_type id_token token, switch off, form_post", func(p url.Values) { p.Set("response_type", "id_token token"); p.Set("response_mode", "form_post") }, spaRedirect, "form_post", wantErr{"unsupported_response_type", 700054}, false},
		{"response_type code id_token", func(p url.Values) { p.Set("response_type", "code id_token") }, spaRedirect, "query", wantErr{"unsupported_response_type", 70005}, false},
		{"missing scope", func(p url.Values) { p.Del("scope") }, spaRedirect, "query", wantErr{"invalid_request", 900144}, false},
		{"unknown prompt", func(p url.Values) { p.Set("prompt", "always") }, spaRedirect, "query", wantErr{"invalid_request", 90100}, false},
		{"PKCE missing for spa", func(p url.Values) { p.Del("code_challenge"); p.Del("code_challenge_method") }, spaRedirect, "query", wantErr{"invalid_request", 9002325}, false},
		{"PKCE missing for publicClient", func(p url.Values) {
			p.Set("client_id", nativeClient)
			p.Set("redirect_uri", nativeURI)
			p.Del("code_challenge")
			p.Del("code_challenge_method")
		}, nativeURI, "query", wantErr{"invalid_request", 9002325}, false},
		{"PKCE missing for spa, silent", func(p url.Values) { p.Del("code_challenge"); p.Del("code_challenge_method"); p.Set("prompt", "none") }, spaRedirect, "query", wantErr{"invalid_request", 9002325}, true},
		{"code_challenge_method plain", func(p url.Values) { p.Set("code_challenge_method", "plain") }, spaRedirect, "query", wantErr{"invalid_request", 90100}, false},
		{"code_challenge_method missing", func(p url.Values) { p.Del("code_challenge_method") }, spaRedirect, "query", wantErr{"invalid_request", 90100}, false},
		{"code_challenge_method s256 lower-case", func(p url.Values) { p.Set("code_challenge_method", "s256") }, spaRedirect, "query", wantErr{"invalid_request", 90100}, false},
		{"code_challenge_method without challenge", func(p url.Values) { p.Del("code_challenge") }, spaRedirect, "query", wantErr{"invalid_request", 900144}, false},
		{"code_challenge too short", func(p url.Values) { p.Set("code_challenge", "abc") }, spaRedirect, "query", wantErr{"invalid_request", 90100}, false},
		{"code_challenge not base64url", func(p url.Values) { p.Set("code_challenge", strings.Repeat("+", 43)) }, spaRedirect, "query", wantErr{"invalid_request", 90100}, false},
		{"code_challenge padded", func(p url.Values) { p.Set("code_challenge", p.Get("code_challenge")+"=") }, spaRedirect, "query", wantErr{"invalid_request", 90100}, false},
		{"max_age not a number", func(p url.Values) { p.Set("max_age", "soon") }, spaRedirect, "query", wantErr{"invalid_request", 90100}, false},
		{"max_age negative", func(p url.Values) { p.Set("max_age", "-1") }, spaRedirect, "query", wantErr{"invalid_request", 90100}, false},
		{"claims not JSON", func(p url.Values) { p.Set("claims", `{"id_token":`) }, spaRedirect, "query", wantErr{"invalid_request", 90100}, false},
		{"claims a JSON array", func(p url.Values) { p.Set("claims", `["a"]`) }, spaRedirect, "query", wantErr{"invalid_request", 90100}, false},
		{"unknown scope of a known API", func(p url.Values) { p.Set("scope", "api://todo/Todo.Nope openid") }, spaRedirect, "query", wantErr{"invalid_scope", 70011}, false},
		{"unknown profile scope", func(p url.Values) { p.Set("scope", "Mail.Read openid") }, spaRedirect, "query", wantErr{"invalid_scope", 70011}, false},
		{"malformed scope", func(p url.Values) { p.Set("scope", `api://todo/"x openid`) }, spaRedirect, "query", wantErr{"invalid_scope", 70011}, false},
		{"unknown API", func(p url.Values) { p.Set("scope", "api://nope/Nope.Read openid") }, spaRedirect, "query", wantErr{"invalid_resource", 500011}, false},
		{"unknown API, silent", func(p url.Values) { p.Set("scope", "api://nope/Nope.Read openid"); p.Set("prompt", "none") }, spaRedirect, "query", wantErr{"invalid_resource", 500011}, true},
		{"unknown API, form_post", func(p url.Values) { p.Set("scope", "api://nope/Nope.Read"); p.Set("response_mode", "form_post") }, spaRedirect, "form_post", wantErr{"invalid_resource", 500011}, false},
		{"API of another tenant", func(p url.Values) {
			p.Set("client_id", otherClient) // fabrikam has no api://todo
		}, spaRedirect, "query", wantErr{"invalid_resource", 500011}, false},
		// The order after trust: response_mode, response_type, tokens in the query, implicit
		// switches, scope, prompt, PKCE, nonce, max_age, claims, then the scopes themselves.
		{"order: response_mode first", func(p url.Values) { p.Set("response_mode", "bogus"); p.Del("response_type") }, spaRedirect, "query", wantErr{"invalid_request", 90100}, false},
		{"order: response_type before scope", func(p url.Values) { p.Set("response_type", "bogus"); p.Del("scope") }, spaRedirect, "query", wantErr{"unsupported_response_type", 70005}, false},
		{"order: tokens in the query before the switch", func(p url.Values) { p.Set("response_type", "id_token") }, spaRedirect, "fragment", wantErr{"invalid_request", 70007}, false},
		{"order: switch before scope", func(p url.Values) { p.Set("response_type", "id_token"); p.Del("response_mode"); p.Del("scope") }, spaRedirect, "fragment", wantErr{"unsupported_response_type", 700054}, false},
		{"order: scope before prompt", func(p url.Values) { p.Del("scope"); p.Set("prompt", "bogus") }, spaRedirect, "query", wantErr{"invalid_request", 900144}, false},
		{"order: prompt before PKCE", func(p url.Values) { p.Set("prompt", "bogus"); p.Del("code_challenge"); p.Del("code_challenge_method") }, spaRedirect, "query", wantErr{"invalid_request", 90100}, false},
		{"order: PKCE before claims", func(p url.Values) { p.Del("code_challenge"); p.Del("code_challenge_method"); p.Set("claims", "{") }, spaRedirect, "query", wantErr{"invalid_request", 9002325}, false},
		{"order: claims before scopes", func(p url.Values) { p.Set("claims", "{"); p.Set("scope", "api://nope/x") }, spaRedirect, "query", wantErr{"invalid_request", 90100}, false},
		{"missing redirect_uri, one registered", func(p url.Values) {
			p.Set("client_id", webClient)
			p.Del("redirect_uri")
			p.Set("prompt", "sometimes")
		}, webRedirect, "query", wantErr{"invalid_request", 90100}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := validSPA()
			p.Set("state", state)
			tt.edit(p)
			tenant := "contoso.test"
			if p.Get("client_id") == otherClient {
				tenant = "fabrikam.test"
			}
			resp, body := e.get(e.newBrowser(), e.authorizeURL(tenant, p))
			v := wantRedirectError(t, resp, body, tt.uri, tt.mode, tt.want, ptr(state))
			if tt.silent && resp.StatusCode != http.StatusFound {
				t.Errorf("silent request answered %d, want an immediate 302", resp.StatusCode)
			}
			if v != nil && strings.Contains(v.Get("error_description"), "interaction_required") {
				t.Errorf("error_description of %s mentions interaction_required: %q", tt.want.code, v.Get("error_description"))
			}
		})
	}

	t.Run("no state sent, none returned", func(t *testing.T) {
		p := validSPA()
		p.Del("state")
		p.Set("prompt", "always")
		resp, body := e.get(e.newBrowser(), e.authorizeURL("contoso.test", p))
		wantRedirectError(t, resp, body, spaRedirect, "query", wantErr{"invalid_request", 90100}, nil)
	})
	t.Run("POST form, error redirected with state", func(t *testing.T) {
		p := validSPA()
		p.Set("state", state)
		p.Set("response_mode", "fragment")
		p.Del("scope")
		resp, body := e.postForm(e.newBrowser(), e.url+"/contoso.test/oauth2/v2.0/authorize?client-request-id=0b7c3e52-3f9d-4d2c-9b8a-1e2f3a4b5c6d", p, nil)
		v := wantRedirectError(t, resp, body, spaRedirect, "fragment", wantErr{"invalid_request", 900144}, ptr(state))
		if v.Get("correlation_id") != "0b7c3e52-3f9d-4d2c-9b8a-1e2f3a4b5c6d" {
			t.Errorf("correlation_id %q, want the client-request-id", v.Get("correlation_id"))
		}
	})
}

// TestAuthorizeStateRoundTrip checks that state comes back byte for byte and properly
// percent-encoded in every response mode, on success and on error: a raw
// "+" would turn into a space in URLSearchParams.
func TestAuthorizeStateRoundTrip(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	browser := e.newBrowser()
	e.spaCode(browser, "contoso.test", alice, "api://todo/Todo.Read openid profile offline_access", nil) // signed in, consented

	msalState := base64.StdEncoding.EncodeToString([]byte(`{"id":"0194d4c2-5f1e-7c3a-9b1e-3f2a1b0c9d8e","meta":{"interactionType":"silent"}}`)) + "|x+y=z/ü 😀&a=b#c%20d"
	if !strings.ContainsAny(msalState, "+/=") {
		t.Fatalf("test state %q lacks + / =", msalState)
	}
	for _, mode := range []string{"query", "fragment", "form_post"} {
		for _, outcome := range []string{"code", "error"} {
			t.Run(mode+" "+outcome, func(t *testing.T) {
				_, challenge := pkce()
				p := spaParams(challenge, "api://todo/Todo.Read openid profile offline_access")
				p.Set("response_mode", mode)
				p.Set("state", msalState)
				p.Set("prompt", "none")
				c := browser
				if outcome == "error" {
					c = e.newBrowser() // no session: login_required
				}
				resp, body := e.get(c, e.authorizeURL("contoso.test", p))
				v := authResponse(t, resp, body, spaRedirect, mode)
				if v == nil {
					return
				}
				if got := v.Get("state"); got != msalState {
					t.Errorf("state %q, want %q", got, msalState)
				}
				if outcome == "code" && v.Get("code") == "" {
					t.Errorf("no code: %v", v)
				}
				if outcome == "error" {
					checkErrorParams(t, v, wantErr{"login_required", 50058})
				}
				if mode != "form_post" {
					loc := resp.Header.Get("Location")
					if !strings.Contains(loc, "%2B") || strings.Contains(loc, "ü") || strings.Contains(loc, " ") {
						t.Errorf("Location %q: state not percent-encoded (want %%2B for +, no raw space or non-ASCII)", loc)
					}
				}
			})
		}
	}
}

// TestAuthorizeMSALRequest sends complete MSAL requests — with the parameters Sigil must
// ignore (clidata, pocd, x-client-*, client-request-id, instance_aware, X-AnchorMailbox,
// claims) — and checks the code comes back, on GET and on POST.
func TestAuthorizeMSALRequest(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	browser := e.newBrowser()
	e.spaCode(browser, "contoso.test", alice, "api://todo/Todo.Read openid profile offline_access", nil)
	claims := `{"id_token":{"signin_state":{"essential":false},"login_hint":{"essential":false},"tenant_region_sub_scope":{"essential":false}}}`
	msal := func() url.Values {
		_, challenge := pkce()
		p := spaParams(challenge, "api://todo/Todo.Read openid profile offline_access")
		for k, v := range map[string]string{"client-request-id": "0194d4c2-5f1e-7c3a-9b1e-3f2a1b0c9d8e", "clidata": "1",
			"pocd": "1", "x-client-VER": "5.29.0", "x-app-name": "todo", "x-app-ver": "1.0", "instance_aware": "true",
			"X-AnchorMailbox": "UPN:" + alice, "claims": claims, "domain_hint": "contoso.test", "login_hint": alice,
			"x-client-current-telemetry": "", "some-future-parameter": "whatever"} {
			p.Set(k, v)
		}
		return p
	}
	t.Run("GET", func(t *testing.T) {
		resp, body := e.get(browser, e.authorizeURL("contoso.test", msal()))
		v := authResponse(t, resp, body, spaRedirect, "fragment")
		if v.Get("code") == "" || v.Get("state") != "st+/=ate" || v.Has("error") {
			t.Errorf("response %v, want a code and the state", v)
		}
	})
	t.Run("POST", func(t *testing.T) {
		p := msal()
		p.Del("client-request-id") // MSAL puts it in the form action's query
		resp, body := e.postForm(browser, e.url+"/contoso.test/oauth2/v2.0/authorize?client-request-id=0194d4c2-5f1e-7c3a-9b1e-3f2a1b0c9d8e", p, nil)
		v := authResponse(t, resp, body, spaRedirect, "fragment")
		if v.Get("code") == "" || v.Get("state") != "st+/=ate" {
			t.Errorf("response %v, want a code and the state", v)
		}
	})
	t.Run("client_info", func(t *testing.T) {
		resp, body := e.get(browser, e.authorizeURL("contoso.test", msal()))
		v := authResponse(t, resp, body, spaRedirect, "fragment")
		raw, err := base64.RawURLEncoding.DecodeString(v.Get("client_info"))
		var ci map[string]string
		if err != nil || json.Unmarshal(raw, &ci) != nil || ci["uid"] == "" || ci["utid"] != tenantID {
			t.Errorf("client_info %q (%s), want base64url {uid, utid=%s}", v.Get("client_info"), raw, tenantID)
		}
	})
	t.Run("code in the query by default", func(t *testing.T) {
		p := msal()
		p.Del("response_mode")
		resp, body := e.get(browser, e.authorizeURL("contoso.test", p))
		if v := authResponse(t, resp, body, spaRedirect, "query"); v.Get("code") == "" {
			t.Errorf("response %v, want a code in the query", v)
		}
	})
	t.Run("code by form_post", func(t *testing.T) {
		p := msal()
		p.Set("response_mode", "form_post")
		resp, body := e.get(browser, e.authorizeURL("contoso.test", p))
		v := authResponse(t, resp, body, spaRedirect, "form_post")
		if v.Get("code") == "" || v.Get("state") != "st+/=ate" {
			t.Errorf("form_post fields %v, want code and state", v)
		}
		// MSAL's hidden iframe may ask for form_post: this page must load in a frame.
		if xfo, csp := resp.Header.Get("X-Frame-Options"), resp.Header.Get("Content-Security-Policy"); xfo != "" || strings.Contains(csp, "frame-ancestors") {
			t.Errorf("form_post page forbids framing: X-Frame-Options %q, CSP %q", xfo, csp)
		}
		if got := resp.Header.Get("Cache-Control"); got != "no-store" {
			t.Errorf("form_post page Cache-Control %q, want no-store", got)
		}
	})
}
