package e2e

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/sigil-idp/sigil/apiauth"
	"github.com/sigil-idp/sigil/e2e/browser"
	"github.com/sigil-idp/sigil/e2e/harness"
	"github.com/sigil-idp/sigil/examples/todo-api/todoapi"
	"github.com/sigil-idp/sigil/internal/config"
)

// protectedCall is what the test driver's callProtected returns.
type protectedCall struct {
	Status      int            `json:"status"`
	Body        map[string]any `json:"body"`
	Challenge   string         `json:"challenge"`
	Challenged  bool           `json:"challenged"`
	Claims      string         `json:"claims"`
	AccessToken string         `json:"accessToken"`
}

// TestTodoAPIClaimsChallenge runs examples/todo-api behind its own origin and msal-browser 5
// in the test app: the token for api://todo carries the user's app role; the API accepts
// it; after a security event the API answers a claims challenge, which MSAL's
// acquireTokenSilent({claims}) meets through the refresh token (no popup, no iframe), and the
// API accepts the new token. A token for another audience is refused with invalid_token.
func TestTodoAPIClaimsChallenge(t *testing.T) {
	e := harness.Start(t, harness.Options{Edit: func(c *config.Config) {
		c.Tenants[0].APIs[0].AppRoles = []config.AppRole{{Value: "Todo.Admin", AllowedMemberTypes: []string{config.MemberUser}}}
		c.Tenants[0].Users[0].AppRoles = []string{"api://todo/Todo.Admin"}
	}})
	apiURL, event := startTodoAPI(t, e)

	p := e.OpenApp("msal5.html")
	read := `["api://todo/Todo.Read"]`
	mustSucceed(t, "loginPopup", e.WithPopup(p, `t.loginPopup(["api://todo/Todo.Read", "User.Read"])`, harness.Alice))
	call := func(method, scopes string) protectedCall {
		t.Helper()
		r, err := browser.EvalTimeout[protectedCall](p, "t.callProtected("+jsString(apiURL+"/todos")+", "+scopes+", "+jsString(method)+")", 30*time.Second)
		if err != nil {
			t.Fatalf("%s /todos: %v", method, err)
		}
		return r
	}
	r := call("GET", read)
	if r.Status != 200 || r.Challenged || r.Body["user"] == nil {
		t.Fatalf("GET /todos with a Todo.Read token: %+v", r)
	}
	if roles, _ := jwtClaims(t, r.AccessToken)["roles"].([]any); len(roles) != 1 || roles[0] != "Todo.Admin" {
		t.Errorf("access token roles = %v, want [Todo.Admin]", jwtClaims(t, r.AccessToken)["roles"])
	}
	if r = call("DELETE", read); r.Status != http.StatusNoContent {
		t.Errorf("DELETE /todos with the Todo.Admin role: %+v", r)
	}

	notBefore := event()
	tokens, iframes := e.Requests.TokenRequests(), e.Requests.SilentAuthorizeRequests()
	r = call("GET", read)
	if r.Status != 200 || !r.Challenged || !strings.Contains(r.Claims, fmt.Sprint(notBefore)) {
		t.Fatalf("after the security event: %+v, want a claims challenge met by a new token", r)
	}
	if iat := int64(jwtClaims(t, r.AccessToken)["iat"].(float64)); iat < notBefore {
		t.Errorf("the new token was issued at %d, before the challenge's %d", iat, notBefore)
	}
	if e.Requests.TokenRequests() != tokens+1 || e.Requests.SilentAuthorizeRequests() != iframes {
		t.Errorf("the challenge took token requests %d → %d, iframes %d → %d; want one refresh",
			tokens, e.Requests.TokenRequests(), iframes, e.Requests.SilentAuthorizeRequests())
	}

	if r = call("GET", userRead); r.Status != 401 || !strings.Contains(r.Challenge, `error="invalid_token"`) {
		t.Errorf("GET /todos with a token for the profile API: %+v, want 401 invalid_token", r)
	}
}

// startTodoAPI serves examples/todo-api's handler on https://api.example.test:<port>, verifying
// tokens with the keys it fetches from the test's Sigil (trusting its local CA, resolving the
// test host names to 127.0.0.1 as the browser does). It returns the API's URL and a function
// that posts a security event and returns the API's new not-before time.
func startTodoAPI(t *testing.T, e *harness.Env) (string, func() int64) {
	t.Helper()
	pem, err := os.ReadFile(e.App.CAFile())
	if err != nil {
		t.Fatal(err)
	}
	roots := x509.NewCertPool()
	roots.AppendCertsFromPEM(pem)
	dialer := &net.Dialer{Timeout: 5 * time.Second}
	client := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{
		TLSClientConfig: &tls.Config{RootCAs: roots},
		DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			_, port, _ := net.SplitHostPort(addr)
			return dialer.DialContext(ctx, network, net.JoinHostPort("127.0.0.1", port))
		},
	}}
	keys := &apiauth.RemoteKeySet{URL: e.IdP + "/" + harness.TenantID + "/discovery/v2.0/keys", Client: client}
	verifier := apiauth.NewVerifier(keys, apiauth.Config{Issuer: e.IdP + "/" + harness.TenantID + "/v2.0", Audiences: []string{"api://todo"}})
	srv := httptest.NewUnstartedServer(todoapi.New(todoapi.Config{Verifier: verifier, Origins: []string{e.SPA}}).Handler())
	srv.TLS = e.App.TLSConfig()
	srv.StartTLS()
	t.Cleanup(srv.Close)
	apiURL := fmt.Sprintf("https://api.example.test:%d", srv.Listener.Addr().(*net.TCPAddr).Port)
	event := func() int64 {
		t.Helper()
		// The test's own control call, straight to the listener (the certificate names Sigil's host).
		insecure := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}}
		resp, err := insecure.Post(srv.URL+"/-/security-event", "application/json", nil)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var out struct {
			NotBefore int64 `json:"notBefore"`
		}
		if err := json.NewDecoder(resp.Body).Decode(&out); err != nil || out.NotBefore == 0 {
			t.Fatalf("security event: %v %+v", err, out)
		}
		return out.NotBefore
	}
	return apiURL, event
}
