package e2e

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/sigil-idp/sigil/e2e/harness"
	"github.com/sigil-idp/sigil/internal/config"
)

// The apps msal-node plays: a daemon (client credentials) and a web app (authorization code
// with a secret, redirect URI on http://localhost as in Entra's quickstarts).
const (
	daemonID     = "1a2b3c4d-0000-4e5f-8a9b-0c1d2e3f4a5b"
	daemonSecret = "daemon-secret-value"
	webAppID     = "5c6d7e8f-0000-4a1b-9c2d-3e4f5a6b7c8d"
	webSecret    = "web-app-secret-value"
	webRedirect  = "http://localhost:5000/auth/redirect"
	webScopes    = "openid profile offline_access api://todo/Todo.Read"
)

// nodeCert is a certificate credential written for msal-node: the PEM certificate (also
// registered with Sigil) and its private key in files.
type nodeCert struct {
	pem, certFile, keyFile string
}

func newNodeCert(t *testing.T) nodeCert {
	t.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(7), Subject: pkix.Name{CommonName: "Todo daemon"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	c := nodeCert{pem: string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}))}
	dir := t.TempDir()
	c.certFile, c.keyFile = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	pkcs8, _ := x509.MarshalPKCS8PrivateKey(key)
	if err := os.WriteFile(c.certFile, []byte(c.pem), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(c.keyFile, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: pkcs8}), 0o600); err != nil {
		t.Fatal(err)
	}
	return c
}

// withNodeApps registers the daemon (secret and certificate, granted Todo.ReadAll) and the
// web app.
func withNodeApps(cert nodeCert) func(*config.Config) {
	return func(c *config.Config) {
		t := &c.Tenants[0]
		t.APIs[0].AppRoles = append(t.APIs[0].AppRoles, config.AppRole{Value: "Todo.ReadAll", AllowedMemberTypes: []string{config.MemberApplication}})
		t.Apps = append(t.Apps,
			config.App{DisplayName: "Todo daemon", ClientID: daemonID, ClientSecrets: []string{daemonSecret},
				Certificates: []string{cert.pem}, ApplicationPermissions: []string{"api://todo/Todo.ReadAll"}},
			config.App{DisplayName: "Todo web app", ClientID: webAppID, ClientSecrets: []string{webSecret},
				Web: config.Platform{RedirectURIs: []string{webRedirect}}})
	}
}

// startNode starts Sigil on https://127.0.0.1:<port> (Node resolves no example.test names)
// for msal-node tests; browser says whether Chromium comes too.
func startNode(t *testing.T, edit func(*config.Config), browser bool) *harness.Env {
	t.Helper()
	harness.MSALNode(t) // skip (or fail under CI) before anything starts
	return harness.Start(t, harness.Options{IdPHost: "127.0.0.1", NoBrowser: !browser, Edit: edit})
}

// runNode runs one msal-node operation (a script of e2e/node) as client clientID with the
// common arguments and the extra --name=value pairs, and returns its result.
func runNode(t *testing.T, e *harness.Env, script, clientID string, pairs ...string) harness.NodeResult {
	t.Helper()
	args := harness.NodeArgs(append([]string{"authority", e.Authority(), "known-authority", e.KnownAuthority(),
		"client-id", clientID}, pairs...)...)
	return e.RunNode(script, args...)
}

// mustNode fails the test unless the operation succeeded.
func mustNode(t *testing.T, what string, r harness.NodeResult) harness.NodeResult {
	t.Helper()
	if !r.OK {
		t.Fatalf("%s: msal-node failed: %s", what, r)
	}
	return r
}

// TestMSALNodeClientCredentials runs msal-node's ConfidentialClientApplication as a daemon:
// acquireTokenByClientCredential with a secret and with a certificate (a client assertion
// with x5t#S256, PS256), each a second time from msal-node's cache; and a wrong secret.
func TestMSALNodeClientCredentials(t *testing.T) {
	cert := newNodeCert(t)
	e := startNode(t, withNodeApps(cert), false)
	for _, tc := range []struct {
		name   string
		cred   []string
		azpacr string
	}{
		{"secret", []string{"client-secret", daemonSecret}, "1"},
		{"certificate", []string{"cert", cert.certFile, "key", cert.keyFile}, "2"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cache := filepath.Join(t.TempDir(), "cache.json")
			args := append([]string{"scopes", "api://todo/.default", "cache", cache}, tc.cred...)
			before := e.Requests.GrantRequests("client_credentials")
			r := mustNode(t, "acquireTokenByClientCredential", runNode(t, e, "client-credentials.mjs", daemonID, args...))
			if r.FromCache || e.Requests.GrantRequests("client_credentials") != before+1 {
				t.Fatalf("first call: fromCache=%v, client_credentials requests %d → %d", r.FromCache, before, e.Requests.GrantRequests("client_credentials"))
			}
			c := jwtClaims(t, r.AccessToken)
			roles, _ := c["roles"].([]any)
			if c["aud"] != "api://todo" || c["idtyp"] != "app" || c["azp"] != daemonID || c["azpacr"] != tc.azpacr ||
				len(roles) != 1 || roles[0] != "Todo.ReadAll" || c["scp"] != nil {
				t.Errorf("access token claims: %v", c)
			}
			again := mustNode(t, "acquireTokenByClientCredential again", runNode(t, e, "client-credentials.mjs", daemonID, args...))
			if !again.FromCache || again.AccessToken != r.AccessToken || e.Requests.GrantRequests("client_credentials") != before+1 {
				t.Errorf("second call not from msal-node's cache: fromCache=%v same token %v, requests %d → %d",
					again.FromCache, again.AccessToken == r.AccessToken, before, e.Requests.GrantRequests("client_credentials"))
			}
		})
	}
	t.Run("wrong secret", func(t *testing.T) {
		r := runNode(t, e, "client-credentials.mjs", daemonID, "scopes", "api://todo/.default", "client-secret", "not-the-secret")
		if r.OK || r.Error == nil || r.Error.ErrorCode != "invalid_client" || !strings.Contains(r.Error.ErrorMessage, "AADSTS7000215") {
			t.Errorf("want invalid_client AADSTS7000215, got %s", r)
		}
	})
}

// TestMSALNodeWebApp runs msal-node as a web app: getAuthCodeUrl for its web redirect URI
// on http://localhost, Sigil's sign-in and consent pages (over HTTP), acquireTokenByCode
// with the secret, then acquireTokenSilent from msal-node's cache and through the refresh
// token.
func TestMSALNodeWebApp(t *testing.T) {
	e := startNode(t, withNodeApps(newNodeCert(t)), false)
	cache := filepath.Join(t.TempDir(), "cache.json")
	common := []string{"client-secret", webSecret, "redirect-uri", webRedirect, "scopes", webScopes, "cache", cache}

	u := mustNode(t, "getAuthCodeUrl", runNode(t, e, "auth-code-url.mjs", webAppID, append(common, "state", "web-state")...))
	if !strings.HasPrefix(u.URL, e.IdP+"/contoso.test/oauth2/v2.0/authorize?") {
		t.Fatalf("getAuthCodeUrl: %s", u.URL)
	}
	back, err := e.SignInHTTP(e.HTTPBrowser(), u.URL, harness.Alice)
	if err != nil {
		t.Fatal(err)
	}
	q := back.Params
	if !strings.HasPrefix(back.URL.String(), webRedirect+"?") || q.Get("code") == "" || q.Get("state") != "web-state" {
		t.Fatalf("redirect %s, want %s with code and state", back.URL, webRedirect)
	}

	// A web redirect URI on localhost matches exactly, port included (a public client's
	// loopback URI would match on any port).
	other := mustNode(t, "getAuthCodeUrl, other port", runNode(t, e, "auth-code-url.mjs", webAppID,
		append(common, "redirect-uri", strings.Replace(webRedirect, ":5000", ":5001", 1))...))
	if _, err := e.SignInHTTP(e.HTTPBrowser(), other.URL, harness.Alice); err == nil || !strings.Contains(err.Error(), "50011") {
		t.Errorf("web redirect URI on another port: %v, want Sigil's error page AADSTS50011", err)
	}

	r := mustNode(t, "acquireTokenByCode", runNode(t, e, "auth-code.mjs", webAppID, append(common, "code", q.Get("code"))...))
	if r.Account == nil || r.Account.Username != harness.Alice || r.Account.TenantID != harness.TenantID || r.IDToken == "" {
		t.Fatalf("acquireTokenByCode: %s", r)
	}
	if c := jwtClaims(t, r.AccessToken); c["aud"] != "api://todo" || c["scp"] != "Todo.Read" || c["azpacr"] != "1" || c["azp"] != webAppID {
		t.Errorf("access token claims: %v", c)
	}
	if r.Code != "" {
		t.Errorf("a spa_code came back though none was asked for (and the app has no spa platform)")
	}

	before := e.Requests.TokenRequests()
	s := mustNode(t, "acquireTokenSilent", runNode(t, e, "silent.mjs", webAppID, append(common, "scopes", "api://todo/Todo.Read")...))
	if !s.FromCache || s.AccessToken != r.AccessToken || e.Requests.TokenRequests() != before {
		t.Errorf("silent: fromCache=%v, same token %v, token requests %d → %d", s.FromCache, s.AccessToken == r.AccessToken, before, e.Requests.TokenRequests())
	}
	refreshes := e.Requests.GrantRequests("refresh_token")
	f := mustNode(t, "acquireTokenSilent forceRefresh", runNode(t, e, "silent.mjs", webAppID,
		append(common, "scopes", "api://todo/Todo.Read", "force-refresh", "true")...))
	if f.FromCache || f.AccessToken == r.AccessToken || e.Requests.GrantRequests("refresh_token") != refreshes+1 {
		t.Errorf("forceRefresh: fromCache=%v, new token %v, refresh_token requests %d → %d", f.FromCache, f.AccessToken != r.AccessToken,
			refreshes, e.Requests.GrantRequests("refresh_token"))
	}
	if !slices.Contains(f.Scopes, "api://todo/Todo.Read") {
		t.Errorf("refreshed scopes %v", f.Scopes)
	}
}

// TestMSALNodeInteractive runs msal-node's PublicClientApplication.acquireTokenInteractive:
// its loopback listener on http://localhost:<any free port> is accepted for the app's
// publicClient redirect URI http://localhost (the port is ignored, as Entra does), the
// response comes by form_post, and the code is redeemed with PKCE and no credential.
func TestMSALNodeInteractive(t *testing.T) {
	const cliID = "2b3c4d5e-0000-4f6a-8b7c-9d0e1f2a3b4c"
	e := startNode(t, func(c *config.Config) {
		c.Tenants[0].Apps = append(c.Tenants[0].Apps, config.App{DisplayName: "Todo CLI", ClientID: cliID,
			PublicClient: config.Platform{RedirectURIs: []string{"http://localhost"}}})
	}, false)
	urlFile := filepath.Join(t.TempDir(), "authorize-url")
	wait := e.StartNode("interactive.mjs", harness.NodeArgs("authority", e.Authority(), "known-authority", e.KnownAuthority(),
		"client-id", cliID, "scopes", "api://todo/Todo.Read", "url-file", urlFile)...)
	var authURL string
	for deadline := time.Now().Add(30 * time.Second); authURL == "" && time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		b, _ := os.ReadFile(urlFile)
		authURL = string(b)
	}
	if authURL == "" {
		r, err := wait()
		t.Fatalf("msal-node never asked to open a browser: %s %v", r, err)
	}
	back, err := e.SignInHTTP(e.HTTPBrowser(), authURL, harness.Alice)
	if err != nil {
		t.Fatal(err)
	}
	if !back.FormPost || back.URL.Scheme != "http" || back.URL.Hostname() != "localhost" || back.URL.Port() == "" || back.Params.Get("code") == "" {
		t.Fatalf("authorization response %+v, want a form_post with a code to http://localhost:<port>", back)
	}
	resp, err := (&http.Client{Timeout: 10 * time.Second}).PostForm(back.URL.String(), back.Params)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	r, err := wait()
	if err != nil {
		t.Fatal(err)
	}
	mustNode(t, "acquireTokenInteractive", r)
	if r.Account == nil || r.Account.Username != harness.Alice {
		t.Errorf("account: %s", r)
	}
	if c := jwtClaims(t, r.AccessToken); c["scp"] != "Todo.Read" || c["azpacr"] != "0" || c["azp"] != cliID {
		t.Errorf("access token claims: %v", c)
	}
}
