package protocol_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"
)

// TestBearerEndpoints covers /v1.0/me and /oidc/userinfo (RFC 6750): challenges, token
// checks, scopes, and CORS for registered spa origins.
func TestBearerEndpoints(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	c := e.newBrowser()
	graph := e.spaTokens(c, "contoso.test", alice, "User.Read openid profile email offline_access")
	todo := e.spaTokens(c, "contoso.test", alice, todoScopes)
	noUserRead := e.spaTokens(c, "contoso.test", alice, "openid profile offline_access")
	graphAT, todoAT := str(graph, "access_token"), str(todo, "access_token")

	get := func(path, authz, origin string) (*http.Response, string) {
		req, _ := http.NewRequest(http.MethodGet, e.url+path, nil)
		if authz != "" {
			req.Header.Set("Authorization", authz)
		}
		if origin != "" {
			req.Header.Set("Origin", origin)
		}
		return e.do(e.api(), req)
	}
	tests := []struct {
		name      string
		authz     string
		status    int
		error     string // the error attribute of WWW-Authenticate and the body, "" for none
		challenge bool   // WWW-Authenticate: Bearer expected
	}{
		{"no token", "", 401, "", true},
		{"garbage token", "Bearer not.a.token", 401, "invalid_token", true},
		{"tampered token", "Bearer " + graphAT[:len(graphAT)-4] + "AAAA", 401, "invalid_token", true},
		{"token of another audience", "Bearer " + todoAT, 401, "invalid_token", true},
		{"ID token", "Bearer " + str(graph, "id_token"), 401, "invalid_token", true},
		{"another scheme (Basic)", "Basic YTpi", 401, "", true},
		{"bearer without token", "Bearer", 400, "invalid_request", true},
		{"bearer with blanks only", "Bearer    ", 400, "invalid_request", true},
	}
	for _, path := range []string{"/v1.0/me", "/oidc/userinfo"} {
		for _, tt := range tests {
			t.Run(path+" "+tt.name, func(t *testing.T) {
				resp, body := get(path, tt.authz, spaOrigin)
				if resp.StatusCode != tt.status {
					t.Errorf("status %d, want %d: %s", resp.StatusCode, tt.status, body)
				}
				www := resp.Header.Get("WWW-Authenticate")
				if tt.challenge && !strings.HasPrefix(www, "Bearer") {
					t.Errorf("WWW-Authenticate %q, want a Bearer challenge", www)
				}
				switch {
				case tt.error == "" && strings.Contains(www, "error="):
					t.Errorf("WWW-Authenticate %q has an error attribute; a request without credentials must not", www)
				case tt.error != "" && tt.challenge && !strings.Contains(www, `error="`+tt.error+`"`):
					t.Errorf("WWW-Authenticate %q, want error=%q", www, tt.error)
				}
				if path == "/v1.0/me" {
					checkGraphError(t, resp.StatusCode, body)
				} else if m := decodeJSON(t, body); str(m, "error") != tt.error {
					t.Errorf("body error %q, want %q", str(m, "error"), tt.error)
				}
				if got := resp.Header.Get("Access-Control-Allow-Origin"); got != spaOrigin {
					t.Errorf("Access-Control-Allow-Origin %q on an error, want %q", got, spaOrigin)
				}
			})
		}
	}

	t.Run("me", func(t *testing.T) {
		resp, body := get("/v1.0/me", "Bearer "+graphAT, spaOrigin)
		m := decodeJSON(t, body)
		id := claims(t, str(graph, "id_token"))
		if resp.StatusCode != 200 || m["id"] != id["oid"] || m["userPrincipalName"] != alice || m["displayName"] != "Alice Example" {
			t.Errorf("%d %v", resp.StatusCode, m)
		}
		if got := resp.Header.Get("Access-Control-Allow-Origin"); got != spaOrigin {
			t.Errorf("Access-Control-Allow-Origin %q, want %q", got, spaOrigin)
		}
	})
	t.Run("me from another origin", func(t *testing.T) {
		resp, _ := get("/v1.0/me", "Bearer "+graphAT, "https://evil.example")
		if got := resp.Header.Get("Access-Control-Allow-Origin"); got != "" {
			t.Errorf("Access-Control-Allow-Origin %q for an unregistered origin", got)
		}
	})
	t.Run("me without User.Read", func(t *testing.T) {
		resp, body := get("/v1.0/me", "Bearer "+str(noUserRead, "access_token"), spaOrigin)
		www := resp.Header.Get("WWW-Authenticate")
		if resp.StatusCode != http.StatusForbidden || !strings.Contains(www, `error="insufficient_scope"`) {
			t.Errorf("%d %q %s, want 403 insufficient_scope", resp.StatusCode, www, body)
		}
		checkGraphError(t, resp.StatusCode, body)
	})
	t.Run("userinfo POST", func(t *testing.T) {
		post := func(authz, form string) (*http.Response, string) {
			req, _ := http.NewRequest(http.MethodPost, e.url+"/oidc/userinfo", strings.NewReader(form))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			if authz != "" {
				req.Header.Set("Authorization", authz)
			}
			req.Header.Set("Origin", spaOrigin)
			return e.do(e.api(), req)
		}
		for _, tt := range []struct {
			name, authz, form string
			status            int
			error             string
		}{
			{"bad token in the header", "Bearer not.a.token", "", 401, "invalid_token"},
			{"bad token in the body", "", "access_token=not.a.token", 401, "invalid_token"},
			{"no token", "", "", 401, ""},
			{"Basic", "Basic YTpi", "", 401, ""},
			{"token in the body", "", "access_token=" + graphAT, 200, ""},
			{"token in the header", "Bearer " + graphAT, "", 200, ""},
		} {
			resp, body := post(tt.authz, tt.form)
			www := resp.Header.Get("WWW-Authenticate")
			switch {
			case resp.StatusCode != tt.status:
				t.Errorf("%s: status %d, want %d: %s", tt.name, resp.StatusCode, tt.status, body)
			case tt.status == 401 && tt.error == "" && www != `Bearer realm="`+e.url+`"`:
				t.Errorf("%s: WWW-Authenticate %q, want a bare Bearer challenge", tt.name, www)
			case tt.error != "" && (!strings.Contains(www, `error="`+tt.error+`"`) || str(decodeJSON(t, body), "error") != tt.error):
				t.Errorf("%s: %q %s, want error %q", tt.name, www, body, tt.error)
			case resp.Header.Get("Access-Control-Allow-Origin") != spaOrigin:
				t.Errorf("%s: no CORS headers", tt.name)
			}
		}
	})
	t.Run("userinfo", func(t *testing.T) {
		resp, body := get("/oidc/userinfo", "Bearer "+graphAT, spaOrigin)
		m := decodeJSON(t, body)
		id := claims(t, str(graph, "id_token"))
		if resp.StatusCode != 200 || m["sub"] != id["sub"] || m["email"] != alice || m["name"] != "Alice Example" {
			t.Errorf("%d %v, want sub %v", resp.StatusCode, m, id["sub"])
		}
	})
	t.Run("preflight", func(t *testing.T) {
		req, _ := http.NewRequest(http.MethodOptions, e.url+"/v1.0/me", nil)
		req.Header.Set("Origin", spaOrigin)
		req.Header.Set("Access-Control-Request-Method", "GET")
		req.Header.Set("Access-Control-Request-Headers", "authorization")
		resp, _ := e.do(e.api(), req)
		if resp.Header.Get("Access-Control-Allow-Origin") != spaOrigin || !strings.Contains(strings.ToLower(resp.Header.Get("Access-Control-Allow-Headers")), "authorization") {
			t.Errorf("preflight %d %v", resp.StatusCode, resp.Header)
		}
	})
	t.Run("expired token", func(t *testing.T) {
		e.clock.Advance(time.Hour + 3*time.Minute) // past exp and the 2-minute leeway
		for _, path := range []string{"/v1.0/me", "/oidc/userinfo"} {
			resp, _ := get(path, "Bearer "+graphAT, spaOrigin)
			if resp.StatusCode != 401 || !strings.Contains(resp.Header.Get("WWW-Authenticate"), `error="invalid_token"`) {
				t.Errorf("%s with an expired token: %d %q", path, resp.StatusCode, resp.Header.Get("WWW-Authenticate"))
			}
		}
	})
}

// checkGraphError checks a /v1.0 error body has Microsoft Graph's shape and the code for
// status.
func checkGraphError(t *testing.T, status int, body string) {
	t.Helper()
	var m struct {
		Error struct{ Code, Message string }
	}
	want := map[int]string{400: "BadRequest", 401: "InvalidAuthenticationToken", 403: "Authorization_RequestDenied"}[status]
	if err := json.Unmarshal([]byte(body), &m); err != nil || m.Error.Code != want || m.Error.Message == "" {
		t.Errorf("body %s, want Graph's {\"error\": {\"code\": %q, \"message\": …}}", body, want)
	}
}
