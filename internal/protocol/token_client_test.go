package protocol_test

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"math/big"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"

	"github.com/sigil-idp/sigil/internal/config"
	"github.com/sigil-idp/sigil/internal/directory"
)

// The client-credentials test directory: a daemon with a secret and a certificate, the
// API's own registration, and the Todo API's app roles.
const (
	daemonClient = "1a2b3c4d-1111-4222-8333-944455556666"
	daemonSecret = "daemon-secret-value"
	apiClient    = "4e5f6a7b-1111-4222-8333-944455556666"
	// assertionType is RFC 7523's client_assertion_type.
	assertionType = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
)

// testCert is a self-signed certificate and its key, as an app registers it.
type testCert struct {
	key  *rsa.PrivateKey
	cert *x509.Certificate
	pem  string
}

func newTestCert(tb testing.TB) testCert {
	tb.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		tb.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "daemon"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		tb.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	return testCert{key: key, cert: cert, pem: string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}))}
}

// withDaemon registers the daemon (with the given certificate) and the API's roles.
func withDaemon(cert testCert) func(*config.Config) {
	return func(c *config.Config) {
		t := &c.Tenants[0]
		t.APIs[0].ClientID = apiClient
		t.APIs[0].AppRoles = []config.AppRole{
			{Value: "Todo.ReadAll", AllowedMemberTypes: []string{config.MemberApplication}},
			{Value: "Todo.Admin", AllowedMemberTypes: []string{config.MemberUser}},
		}
		t.Apps = append(t.Apps,
			config.App{DisplayName: "Todo daemon", ClientID: daemonClient, ClientSecrets: []string{daemonSecret},
				Certificates: []string{cert.pem}, ApplicationPermissions: []string{"api://todo/Todo.ReadAll"}},
			config.App{DisplayName: "Todo API", ClientID: apiClient, ClientSecrets: []string{"api-secret-value-1"}})
	}
}

// assertionOpts shape a client assertion for the tests.
type assertionOpts struct {
	alg      jose.SignatureAlgorithm
	header   string // "x5t", "x5t#S256" or "" for none
	stdB64   bool   // the thumbprint in standard base64, as MSAL Go sends it
	key      *rsa.PrivateKey
	iss, sub string
	aud      string
	exp, nbf time.Time
}

func (e *env) assertion(tb testing.TB, cert testCert, edit func(*assertionOpts)) string {
	tb.Helper()
	now := e.clock.Now()
	o := assertionOpts{alg: jose.PS256, header: "x5t#S256", key: cert.key, iss: daemonClient, sub: daemonClient,
		aud: e.url + "/" + tenantID + "/oauth2/v2.0/token", exp: now.Add(10 * time.Minute), nbf: now}
	if edit != nil {
		edit(&o)
	}
	opts := (&jose.SignerOptions{}).WithType("JWT")
	enc := base64.RawURLEncoding
	if o.stdB64 {
		enc = base64.StdEncoding
	}
	switch o.header {
	case "x5t":
		sum := sha1.Sum(cert.cert.Raw)
		opts = opts.WithHeader("x5t", enc.EncodeToString(sum[:]))
	case "x5t#S256":
		sum := sha256.Sum256(cert.cert.Raw)
		opts = opts.WithHeader("x5t#S256", enc.EncodeToString(sum[:]))
	}
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: o.alg, Key: o.key}, opts)
	if err != nil {
		tb.Fatal(err)
	}
	raw, err := jwt.Signed(signer).Claims(jwt.Claims{Issuer: o.iss, Subject: o.sub, Audience: jwt.Audience{o.aud},
		Expiry: jwt.NewNumericDate(o.exp), NotBefore: jwt.NewNumericDate(o.nbf), ID: "same-jti-every-time"}).Serialize()
	if err != nil {
		tb.Fatal(err)
	}
	return raw
}

func ccForm(extra ...string) url.Values {
	f := url.Values{"grant_type": {"client_credentials"}, "client_id": {daemonClient}, "scope": {"api://todo/.default"}}
	for i := 0; i+1 < len(extra); i += 2 {
		f.Set(extra[i], extra[i+1])
	}
	return f
}

func TestClientCredentials(t *testing.T) {
	cert := newTestCert(t)
	e := newEnv(t, withDaemon(cert))
	tests := []struct {
		name       string
		form       url.Values
		header     http.Header
		wantAzpacr string
	}{
		{"client_secret_post", ccForm("client_secret", daemonSecret), nil, "1"},
		{"client_secret_basic", ccForm(), basicAuth(daemonClient, daemonSecret), "1"},
		{"MSAL Go's OIDC scopes beside .default", ccForm("client_secret", daemonSecret, "scope", "api://todo/.default openid profile offline_access"), nil, "1"},
		{"the API's client id as resource", ccForm("client_secret", daemonSecret, "scope", apiClient+"/.default"), nil, "1"},
		{"assertion x5t#S256 PS256", ccForm("client_assertion_type", assertionType, "client_assertion", e.assertion(t, cert, nil)), nil, "2"},
		{"assertion x5t RS256", ccForm("client_assertion_type", assertionType, "client_assertion", e.assertion(t, cert, func(o *assertionOpts) {
			o.alg, o.header = jose.RS256, "x5t"
		})), nil, "2"},
		{"assertion thumbprint in standard base64 (MSAL Go)", ccForm("client_assertion_type", assertionType, "client_assertion", e.assertion(t, cert, func(o *assertionOpts) {
			o.stdB64 = true
		})), nil, "2"},
		{"assertion aud names the tenant by domain", ccForm("client_assertion_type", assertionType, "client_assertion", e.assertion(t, cert, func(o *assertionOpts) {
			o.aud = e.url + "/contoso.test/oauth2/v2.0/token"
		})), nil, "2"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, body := e.token("contoso.test", tt.form, tt.header)
			if resp.StatusCode != 200 {
				t.Fatalf("status %d: %v", resp.StatusCode, body)
			}
			for _, absent := range []string{"refresh_token", "id_token", "client_info"} {
				if _, ok := body[absent]; ok {
					t.Errorf("client credentials answered %s", absent)
				}
			}
			c := claims(t, body["access_token"].(string))
			sp := directory.ServicePrincipalID(tenantID, daemonClient)
			if c["aud"] != "api://todo" || c["idtyp"] != "app" || c["sub"] != sp || c["oid"] != sp || c["azp"] != daemonClient ||
				c["tid"] != tenantID || c["azpacr"] != tt.wantAzpacr {
				t.Errorf("claims %v", c)
			}
			if _, ok := c["scp"]; ok {
				t.Errorf("an app-only token carries scp %v", c["scp"])
			}
			if roles, _ := c["roles"].([]any); len(roles) != 1 || roles[0] != "Todo.ReadAll" {
				t.Errorf("roles %v, want [Todo.ReadAll] (Todo.Admin is for users)", c["roles"])
			}
		})
	}
}

func TestClientCredentialsErrors(t *testing.T) {
	cert, stranger := newTestCert(t), newTestCert(t)
	e := newEnv(t, func(c *config.Config) {
		withDaemon(cert)(c)
		c.LoginThrottle.AccountFailures = 100 // the failures here are not what is tested
	})
	assert := func(edit func(*assertionOpts)) url.Values {
		return ccForm("client_assertion_type", assertionType, "client_assertion", e.assertion(t, cert, edit))
	}
	now := e.clock.Now()
	tests := []struct {
		name   string
		tenant string
		form   url.Values
		header http.Header
		status int
		want   wantErr
	}{
		{"no credential", "contoso.test", ccForm(), nil, 401, wantErr{"invalid_client", 7000218}},
		{"wrong secret", "contoso.test", ccForm("client_secret", "not-the-secret"), nil, 401, wantErr{"invalid_client", 7000215}},
		{"public client", "contoso.test", ccForm("client_id", nativeClient), nil, 401, wantErr{"invalid_client", 7000218}},
		{"public client with a secret", "contoso.test", ccForm("client_id", nativeClient, "client_secret", "x"), nil, 401, wantErr{"invalid_client", 700025}},
		{"scope without .default", "contoso.test", ccForm("client_secret", daemonSecret, "scope", "api://todo/Todo.Read"), nil, 400, wantErr{"invalid_scope", 1002012}},
		{"two resources", "contoso.test", ccForm("client_secret", daemonSecret, "scope", "api://todo/.default https://graph.microsoft.com/.default"), nil, 400, wantErr{"invalid_scope", 1002012}},
		{"no scope", "contoso.test", ccForm("client_secret", daemonSecret, "scope", ""), nil, 400, wantErr{"invalid_request", 900144}},
		{"unknown resource", "contoso.test", ccForm("client_secret", daemonSecret, "scope", "api://nosuch/.default"), nil, 400, wantErr{"invalid_resource", 500011}},
		{"multi-tenant segment", "organizations", ccForm("client_secret", daemonSecret), nil, 400, wantErr{"invalid_request", 50194}},
		{"from a browser", "contoso.test", ccForm("client_secret", daemonSecret), spaOriginHeader(), 400, wantErr{"invalid_request", 9002326}},
		{"assertion of another type", "contoso.test", ccForm("client_assertion_type", "urn:x", "client_assertion", "a.b.c"), nil, 400, wantErr{"invalid_request", 90100}},
		{"assertion and secret", "contoso.test", ccForm("client_secret", daemonSecret, "client_assertion_type", assertionType, "client_assertion", "a.b.c"), nil, 400, wantErr{"invalid_request", 9002313}},
		{"assertion not a JWT", "contoso.test", ccForm("client_assertion_type", assertionType, "client_assertion", "a.b.c"), nil, 401, wantErr{"invalid_client", 50027}},
		{"assertion HS256", "contoso.test", ccForm("client_assertion_type", assertionType, "client_assertion",
			"eyJhbGciOiJIUzI1NiJ9.eyJpc3MiOiJ4In0.c2ln"), nil, 401, wantErr{"invalid_client", 50027}},
		{"assertion without thumbprint", "contoso.test", assert(func(o *assertionOpts) { o.header = "" }), nil, 401, wantErr{"invalid_client", 700027}},
		{"assertion by an unregistered certificate", "contoso.test", ccForm("client_assertion_type", assertionType,
			"client_assertion", e.assertion(t, stranger, nil)), nil, 401, wantErr{"invalid_client", 700027}},
		{"forged: registered thumbprint, another key", "contoso.test", assert(func(o *assertionOpts) { o.key = stranger.key }), nil, 401, wantErr{"invalid_client", 700027}},
		{"expired", "contoso.test", assert(func(o *assertionOpts) { o.exp, o.nbf = now.Add(-6*time.Minute), now.Add(-16*time.Minute) }), nil, 401, wantErr{"invalid_client", 700024}},
		{"lives too long", "contoso.test", assert(func(o *assertionOpts) { o.exp = now.Add(2 * time.Hour) }), nil, 401, wantErr{"invalid_client", 700024}},
		{"not yet valid", "contoso.test", assert(func(o *assertionOpts) { o.nbf = now.Add(10 * time.Minute) }), nil, 401, wantErr{"invalid_client", 700024}},
		{"issued by another client", "contoso.test", assert(func(o *assertionOpts) { o.iss, o.sub = apiClient, apiClient }), nil, 401, wantErr{"invalid_client", 700021}},
		{"for another token endpoint", "contoso.test", assert(func(o *assertionOpts) { o.aud = e.url + "/" + otherTenant + "/oauth2/v2.0/token" }), nil, 401, wantErr{"invalid_client", 700023}},
		{"for another server", "contoso.test", assert(func(o *assertionOpts) { o.aud = "https://login.microsoftonline.com/" + tenantID + "/oauth2/v2.0/token" }), nil, 401, wantErr{"invalid_client", 700023}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, body := e.token(tt.tenant, tt.form, tt.header)
			wantTokenError(t, resp, body, tt.status, tt.want)
		})
	}
}

func TestTokenRefusesCredentialsInQuery(t *testing.T) {
	e := newEnv(t, nil)
	for _, name := range []string{"client_secret", "client_assertion", "code", "refresh_token", "assertion", "password", "device_code", "code_verifier"} {
		t.Run(name, func(t *testing.T) {
			resp, body := e.postForm(e.api(), e.tokenURL("contoso.test")+"?"+name+"=x", url.Values{
				"grant_type": {"client_credentials"}, "client_id": {webClient}, "client_secret": {webSecret}, "scope": {"api://todo/.default"}}, nil)
			var m map[string]any
			if err := json.Unmarshal([]byte(body), &m); err != nil {
				t.Fatalf("non-JSON %d: %s", resp.StatusCode, body)
			}
			wantTokenError(t, resp, m, 400, wantErr{"invalid_request", 900144})
			if d, _ := m["error_description"].(string); !strings.Contains(d, "'"+name+"'") {
				t.Errorf("description %q does not name %s", d, name)
			}
		})
	}
	// client-request-id in the query and the body is one parameter (msal-node sends both).
	resp, body := e.postForm(e.api(), e.tokenURL("contoso.test")+"?client-request-id=abc", url.Values{
		"grant_type": {"client_credentials"}, "client_id": {webClient}, "client_secret": {webSecret},
		"scope": {"api://todo/.default"}, "client-request-id": {"abc"}}, nil)
	if resp.StatusCode != 200 {
		t.Fatalf("client-request-id in query and body: %d %s", resp.StatusCode, body)
	}
}

// TestClientAuthThrottled: after the limit of failed client authentications, even the right
// secret is refused until the window passes.
func TestClientAuthThrottled(t *testing.T) {
	cert := newTestCert(t)
	e := newEnv(t, func(c *config.Config) {
		withDaemon(cert)(c)
		c.LoginThrottle.AccountFailures = 3
	})
	for i := range 3 {
		resp, body := e.token("contoso.test", ccForm("client_secret", "wrong-"+string(rune('a'+i))), nil)
		wantTokenError(t, resp, body, 401, wantErr{"invalid_client", 7000215})
	}
	resp, body := e.token("contoso.test", ccForm("client_secret", daemonSecret), nil)
	wantTokenError(t, resp, body, 401, wantErr{"invalid_client", 7000222})
	resp, body = e.token("contoso.test", ccForm("client_assertion_type", assertionType, "client_assertion", e.assertion(t, cert, nil)), nil)
	wantTokenError(t, resp, body, 401, wantErr{"invalid_client", 7000222})
	e.clock.Advance(16 * time.Minute)
	if resp, body := e.token("contoso.test", ccForm("client_secret", daemonSecret, "client_assertion", ""), nil); resp.StatusCode != 200 {
		t.Fatalf("after the window: %d %v", resp.StatusCode, body)
	}
}

func TestDiscoveryListsGrantsAndAuthMethods(t *testing.T) {
	e := newEnv(t, nil)
	_, body := e.get(e.api(), e.url+"/contoso.test/v2.0/.well-known/openid-configuration")
	var doc struct {
		GrantTypesSupported               []string `json:"grant_types_supported"`
		TokenEndpointAuthMethodsSupported []string `json:"token_endpoint_auth_methods_supported"`
	}
	if err := json.Unmarshal([]byte(body), &doc); err != nil {
		t.Fatal(err)
	}
	for _, g := range []string{"authorization_code", "refresh_token", "client_credentials"} {
		if !slices.Contains(doc.GrantTypesSupported, g) {
			t.Errorf("grant_types_supported %q lacks %s", doc.GrantTypesSupported, g)
		}
	}
	if !slices.Contains(doc.TokenEndpointAuthMethodsSupported, "private_key_jwt") {
		t.Errorf("token_endpoint_auth_methods_supported %q", doc.TokenEndpointAuthMethodsSupported)
	}
}
