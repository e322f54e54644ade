package config

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/sigil-idp/sigil/internal/password"
	"golang.org/x/crypto/bcrypt"
)

const (
	tenant0 = "6a0b2c9e-7e4d-4c1e-9a53-0d6f2b8e4f10"
	tenant1 = "7b1c3d0f-8f5e-4d2f-8b64-1e7f3c9f5a21"
	client0 = "3f1c2d4e-5a6b-4c7d-8e9f-0a1b2c3d4e5f"
	client1 = "4a2d3e5f-6b7c-4d8e-9fa0-1b2c3d4e5f60"
	user0   = "0d7e6c5b-4a39-4281-9f0e-1d2c3b4a5968"
)

// validConfig returns a valid configuration with two tenants, for the rule
// tests to break one thing at a time.
func validConfig() Config {
	c := Default()
	c.PublicURL = "https://login.example.test:8443"
	c.Tenants = []Tenant{{
		ID:      tenant0,
		Domains: []string{"contoso.test", "contoso.example"},
		Users:   []User{{ID: user0, Username: "alice@contoso.test", Password: "Passw0rd!alice"}},
		APIs: []API{{
			AppIDURI: "api://todo",
			Scopes:   []Scope{{Value: "Todo.Read"}, {Value: "Todo.Write", AdminConsentRequired: true}},
		}},
		Apps: []App{{
			DisplayName:  "Todo SPA",
			ClientID:     client0,
			SPA:          Platform{RedirectURIs: []string{"https://app.example.test:3000/"}},
			AdminConsent: []string{"api://todo/Todo.Write"},
		}},
	}, {
		ID:      tenant1,
		Domains: []string{"fabrikam.test"},
		Users:   []User{{Username: "bob@fabrikam.test", Password: "Passw0rd!bob"}},
		Apps: []App{{
			DisplayName:   "Web app",
			ClientID:      client1,
			Web:           Platform{RedirectURIs: []string{"https://web.fabrikam.test/signin-oidc"}},
			ClientSecrets: []string{"0123456789abcdef"},
		}},
	}}
	return c
}

// Accessors for the parts of validConfig the rules change.
func t0(c *Config) *Tenant { return &c.Tenants[0] }
func t1(c *Config) *Tenant { return &c.Tenants[1] }
func u0(c *Config) *User   { return &c.Tenants[0].Users[0] }
func a0(c *Config) *App    { return &c.Tenants[0].Apps[0] }
func api0(c *Config) *API  { return &c.Tenants[0].APIs[0] }

func TestValidConfigIsValid(t *testing.T) {
	c := validConfig()
	if err := c.Validate(); err != nil {
		t.Fatalf("Validate(validConfig()) = %v, want nil", err)
	}
}

func TestValidateRules(t *testing.T) {
	cheapHash, err := password.Hash("pw", password.Params{Memory: 64, Time: 1, Threads: 1})
	if err != nil {
		t.Fatal(err)
	}
	bcryptHash, err := bcrypt.GenerateFromPassword([]byte("pw"), bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name     string
		mutate   func(c *Config)
		wantPath string // "" for a valid change
		wantMsg  string // a part of the problem's message
	}{
		// publicUrl
		{"publicUrl missing", func(c *Config) { c.PublicURL = "" }, "publicUrl", "required"},
		{"publicUrl http", func(c *Config) { c.PublicURL = "http://login.example.test" }, "publicUrl", "must use https"},
		{"publicUrl not absolute", func(c *Config) { c.PublicURL = "login.example.test" }, "publicUrl", "must use https"},
		{"publicUrl with path", func(c *Config) { c.PublicURL = "https://login.example.test/sigil" }, "publicUrl", "must not have a path"},
		{"publicUrl with query", func(c *Config) { c.PublicURL = "https://login.example.test/?a=b" }, "publicUrl", "query or fragment"},
		{"publicUrl with empty query", func(c *Config) { c.PublicURL = "https://login.example.test?" }, "publicUrl", "query or fragment"},
		{"publicUrl with fragment", func(c *Config) { c.PublicURL = "https://login.example.test#x" }, "publicUrl", "query or fragment"},
		{"publicUrl with user info", func(c *Config) { c.PublicURL = "https://me@login.example.test" }, "publicUrl", "user info"},
		{"publicUrl port out of range", func(c *Config) { c.PublicURL = "https://login.example.test:70000" }, "publicUrl", "port"},
		{"publicUrl port zero", func(c *Config) { c.PublicURL = "https://login.example.test:0" }, "publicUrl", "port"},
		{"publicUrl bad host", func(c *Config) { c.PublicURL = "https://login_example.test" }, "publicUrl", "not a DNS name"},
		{"publicUrl IPv6 ok", func(c *Config) { c.PublicURL = "https://[::1]:8443" }, "", ""},
		{"publicUrl trailing slash ok", func(c *Config) { c.PublicURL = "https://login.example.test/" }, "", ""},
		// listen, tls, dataDir, storage
		{"listen without port", func(c *Config) { c.Listen = "127.0.0.1" }, "listen", "host:port"},
		{"listen port out of range", func(c *Config) { c.Listen = "127.0.0.1:65536" }, "listen", "port"},
		{"listen named port", func(c *Config) { c.Listen = "127.0.0.1:https" }, "listen", "port"},
		{"listen bad host", func(c *Config) { c.Listen = "a b:80" }, "listen", "not a DNS name"},
		{"listen all interfaces ok", func(c *Config) { c.Listen = ":8443" }, "", ""},
		{"listen port 0 ok", func(c *Config) { c.Listen = "localhost:0" }, "", ""},
		{"listen IPv6 ok", func(c *Config) { c.Listen = "[::1]:8443" }, "", ""},
		{"tls auto with files", func(c *Config) { c.TLS = TLS{Auto: true, CertFile: "c.pem", KeyFile: "k.pem"} }, "tls.auto", "cannot be combined"},
		{"tls certFile alone", func(c *Config) { c.TLS.CertFile = "c.pem" }, "tls.keyFile", "required with tls.certFile"},
		{"tls keyFile alone", func(c *Config) { c.TLS.KeyFile = "k.pem" }, "tls.certFile", "required with tls.keyFile"},
		{"tls files ok", func(c *Config) { c.TLS = TLS{CertFile: "c.pem", KeyFile: "k.pem"} }, "", ""},
		{"dataDir empty", func(c *Config) { c.DataDir = "" }, "dataDir", "required"},
		{"storage unknown", func(c *Config) { c.Storage = "mysql://db" }, "storage", `must be "sqlite"`},
		{"storage sqlite without path", func(c *Config) { c.Storage = "sqlite:" }, "storage", "needs a path"},
		{"storage postgres bad URL", func(c *Config) { c.Storage = "postgres://u:p@db:port/x" }, "storage", "not a valid"},
		{"storage sqlite path ok", func(c *Config) { c.Storage = "sqlite:/var/lib/sigil/sigil.db" }, "", ""},
		{"storage postgres ok", func(c *Config) { c.Storage = "postgres://sigil:pw@db/sigil?sslmode=disable" }, "", ""},
		{"storage postgresql ok", func(c *Config) { c.Storage = "postgresql://db/sigil" }, "", ""},
		// durations and throttling
		{"accessToken zero", func(c *Config) { c.TokenLifetimes.AccessToken = 0 }, "tokenLifetimes.accessToken", "greater than zero"},
		{"idToken negative", func(c *Config) { c.TokenLifetimes.IDToken = Duration(-time.Hour) }, "tokenLifetimes.idToken", "must not be negative"},
		{"authorizationCode zero", func(c *Config) { c.TokenLifetimes.AuthorizationCode = 0 }, "tokenLifetimes.authorizationCode", "greater than zero"},
		{"reuseInterval zero ok", func(c *Config) { c.RefreshTokens.ReuseInterval = 0 }, "", ""},
		{"reuseInterval negative", func(c *Config) { c.RefreshTokens.ReuseInterval = Duration(-time.Second) }, "refreshTokens.reuseInterval", "must not be negative"},
		{"idleLifetime zero", func(c *Config) { c.RefreshTokens.IdleLifetime = 0 }, "refreshTokens.idleLifetime", "greater than zero"},
		{"spaAbsoluteLifetime zero", func(c *Config) { c.RefreshTokens.SPAAbsoluteLifetime = 0 }, "refreshTokens.spaAbsoluteLifetime", "greater than zero"},
		{"absoluteLifetime zero", func(c *Config) { c.RefreshTokens.AbsoluteLifetime = 0 }, "refreshTokens.absoluteLifetime", "greater than zero"},
		{"spa lifetime above absolute ok", func(c *Config) { c.RefreshTokens.SPAAbsoluteLifetime = Duration(365 * day) }, "", ""},
		{"session lifetime zero", func(c *Config) { c.Sessions.Lifetime = 0 }, "sessions.lifetime", "greater than zero"},
		{"remember lifetime zero", func(c *Config) { c.Sessions.RememberLifetime = 0 }, "sessions.rememberLifetime", "greater than zero"},
		{"accountFailures zero", func(c *Config) { c.LoginThrottle.AccountFailures = 0 }, "loginThrottle.accountFailures", "at least 1"},
		{"ipFailures negative", func(c *Config) { c.LoginThrottle.IPFailures = -1 }, "loginThrottle.ipFailures", "at least 1"},
		{"throttle window zero", func(c *Config) { c.LoginThrottle.Window = 0 }, "loginThrottle.window", "greater than zero"},
		{"addressConcurrency zero", func(c *Config) { c.LoginThrottle.AddressConcurrency = 0 }, "loginThrottle.addressConcurrency", "at least 1"},
		{"addressBurst zero", func(c *Config) { c.LoginThrottle.AddressBurst = 0 }, "loginThrottle.addressBurst", "at least 1"},
		{"addressRefill zero", func(c *Config) { c.LoginThrottle.AddressRefill = 0 }, "loginThrottle.addressRefill", "greater than zero"},
		{"trusted proxy not a CIDR", func(c *Config) { c.TrustedProxies = []string{"10.0.0.0/8", "proxy.local"} }, "trustedProxies[1]", "not a CIDR"},
		{"trusted proxy with a zone", func(c *Config) { c.TrustedProxies = []string{"fe80::1%eth0"} }, "trustedProxies[0]", "not a CIDR"},
		{"trusted proxies ok", func(c *Config) { c.TrustedProxies = []string{"10.0.0.0/8", "::1", "2001:db8::/32"} }, "", ""},
		{"forwarded header unknown", func(c *Config) { c.ForwardedHeader = "X-Real-IP" }, "forwardedHeader", "X-Forwarded-For or Forwarded"},
		{"forwarded header ok", func(c *Config) { c.ForwardedHeader = "forwarded" }, "", ""},
		{"idle timeout zero", func(c *Config) { c.Transport.IdleTimeout = 0 }, "transport.idleTimeout", "greater than zero"},
		{"read header timeout negative", func(c *Config) { c.Transport.ReadHeaderTimeout = -1 }, "transport.readHeaderTimeout", "must not be negative"},
		{"connection cap negative", func(c *Config) { c.Transport.MaxConnections = -1 }, "transport.maxConnections", "at least 0"},
		{"header bytes tiny", func(c *Config) { c.Transport.MaxHeaderBytes = 100 }, "transport.maxHeaderBytes", "at least 4096"},
		{"no streams", func(c *Config) { c.Transport.MaxConcurrentStreams = 0 }, "transport.maxConcurrentStreams", "at least 1"},
		// tenants
		{"no tenants ok", func(c *Config) { c.Tenants = nil }, "", ""},
		{"tenant id missing", func(c *Config) { t0(c).ID = "" }, "tenants[0].id", "required"},
		{"tenant id not a GUID", func(c *Config) { t0(c).ID = "contoso" }, "tenants[0].id", "not a GUID"},
		{"tenant id with braces", func(c *Config) { t0(c).ID = "{" + tenant0 + "}" }, "tenants[0].id", "not a GUID"},
		{"tenant id repeated", func(c *Config) { t1(c).ID = strings.ToUpper(tenant0) }, "tenants[1].id", "already used by tenants[0].id"},
		{"no domains", func(c *Config) { t0(c).Domains, t0(c).Users = nil, nil }, "tenants[0].domains", "at least one domain"},
		{"domain not a DNS name", func(c *Config) { t0(c).Domains[1] = "contoso_test" }, "tenants[0].domains[1]", "not a DNS name"},
		{"domain with trailing dot", func(c *Config) { t0(c).Domains[1] = "contoso.example." }, "tenants[0].domains[1]", "not a DNS name"},
		{"domain common", func(c *Config) { t0(c).Domains[1] = "common" }, "tenants[0].domains[1]", "reserved"},
		{"domain organizations", func(c *Config) { t0(c).Domains[1] = "organizations" }, "tenants[0].domains[1]", "reserved"},
		{"domain consumers", func(c *Config) { t0(c).Domains[1] = "Consumers" }, "tenants[0].domains[1]", "reserved"},
		{"domain adfs", func(c *Config) { t0(c).Domains[1] = "adfs" }, "tenants[0].domains[1]", "reserved"},
		{"domain is a GUID", func(c *Config) { t0(c).Domains[1] = tenant1 }, "tenants[0].domains[1]", "is a GUID"},
		{"domain repeated across tenants", func(c *Config) { t1(c).Domains = append(t1(c).Domains, "CONTOSO.test") }, "tenants[1].domains[1]", "already used by tenants[0].domains[0]"},
		{"domain repeated in a tenant", func(c *Config) { t0(c).Domains[1] = "contoso.test" }, "tenants[0].domains[1]", "already used by tenants[0].domains[0]"},
		{"single-label domain ok", func(c *Config) { t0(c).Domains[1] = "contoso" }, "", ""},
		// users
		{"username missing", func(c *Config) { u0(c).Username = "" }, "tenants[0].users[0].username", "required"},
		{"username without domain", func(c *Config) { u0(c).Username = "alice" }, "tenants[0].users[0].username", "not local@domain"},
		{"username empty local part", func(c *Config) { u0(c).Username = "@contoso.test" }, "tenants[0].users[0].username", "not local@domain"},
		{"username two @", func(c *Config) { u0(c).Username = "a@b@contoso.test" }, "tenants[0].users[0].username", "not local@domain"},
		{"username with space", func(c *Config) { u0(c).Username = "al ice@contoso.test" }, "tenants[0].users[0].username", "not local@domain"},
		{"username foreign domain", func(c *Config) { u0(c).Username = "alice@fabrikam.test" }, "tenants[0].users[0].username", `"fabrikam.test" is not one of this tenant's domains`},
		{"username second domain ok", func(c *Config) { u0(c).Username = "alice@Contoso.Example" }, "", ""},
		{"username repeated", func(c *Config) {
			t0(c).Users = append(t0(c).Users, User{Username: "ALICE@contoso.test", Password: "x"})
		}, "tenants[0].users[1].username", "already used by tenants[0].users[0].username"},
		{"password and hash", func(c *Config) { u0(c).PasswordHash = cheapHash }, "tenants[0].users[0].passwordHash", "not both"},
		{"no password", func(c *Config) { u0(c).Password = "" }, "tenants[0].users[0].password", "required"},
		{"hash malformed", func(c *Config) { u0(c).Password, u0(c).PasswordHash = "", "$argon2id$v=19$m=64" }, "tenants[0].users[0].passwordHash", "not a hash Sigil can verify"},
		{"hash unsupported", func(c *Config) { u0(c).Password, u0(c).PasswordHash = "", "$1$salt$hash" }, "tenants[0].users[0].passwordHash", "unsupported"},
		{"hash absurd", func(c *Config) {
			u0(c).Password, u0(c).PasswordHash = "", strings.Replace(cheapHash, "m=64", "m=4194304", 1)
		}, "tenants[0].users[0].passwordHash", "out of range"},
		{"argon2id hash ok", func(c *Config) { u0(c).Password, u0(c).PasswordHash = "", cheapHash }, "", ""},
		{"bcrypt hash ok", func(c *Config) { u0(c).Password, u0(c).PasswordHash = "", string(bcryptHash) }, "", ""},
		{"user id not a GUID", func(c *Config) { u0(c).ID = "alice" }, "tenants[0].users[0].id", "not a GUID"},
		{"user id repeated across tenants", func(c *Config) { t1(c).Users[0].ID = strings.ToUpper(user0) }, "tenants[1].users[0].id", "already used by tenants[0].users[0].id"},
		{"user id empty ok", func(c *Config) { u0(c).ID = "" }, "", ""},
		// apis
		{"appIdUri missing", func(c *Config) { api0(c).AppIDURI = ""; a0(c).AdminConsent = nil }, "tenants[0].apis[0].appIdUri", "required"},
		{"appIdUri relative", func(c *Config) { api0(c).AppIDURI = "todo"; a0(c).AdminConsent = nil }, "tenants[0].apis[0].appIdUri", "absolute URI"},
		{"appIdUri trailing slash", func(c *Config) { api0(c).AppIDURI = "api://todo/"; a0(c).AdminConsent = nil }, "tenants[0].apis[0].appIdUri", `must not end in "/"`},
		{"appIdUri with space", func(c *Config) { api0(c).AppIDURI = "api://to do"; a0(c).AdminConsent = nil }, "tenants[0].apis[0].appIdUri", "white space"},
		{"appIdUri with fragment", func(c *Config) { api0(c).AppIDURI = "api://todo#x"; a0(c).AdminConsent = nil }, "tenants[0].apis[0].appIdUri", "query or fragment"},
		{"appIdUri https ok", func(c *Config) { api0(c).AppIDURI = "https://api.contoso.test"; a0(c).AdminConsent = nil }, "", ""},
		{"appIdUri urn ok", func(c *Config) { api0(c).AppIDURI = "urn:contoso:todo"; a0(c).AdminConsent = nil }, "", ""},
		{"appIdUri repeated", func(c *Config) {
			t0(c).APIs = append(t0(c).APIs, API{AppIDURI: "API://todo", Scopes: []Scope{{Value: "X"}}})
		}, "tenants[0].apis[1].appIdUri", "already used by tenants[0].apis[0].appIdUri"},
		{"appIdUri in two tenants ok", func(c *Config) { t1(c).APIs = []API{{AppIDURI: "api://todo", Scopes: []Scope{{Value: "X"}}}} }, "", ""},
		{"no scopes", func(c *Config) { api0(c).Scopes = nil; a0(c).AdminConsent = nil }, "tenants[0].apis[0].scopes", "at least one scope"},
		{"scope empty", func(c *Config) { api0(c).Scopes[0].Value = "" }, "tenants[0].apis[0].scopes[0].value", "must not be empty"},
		{"scope with space", func(c *Config) { api0(c).Scopes[0].Value = "Todo Read" }, "tenants[0].apis[0].scopes[0].value", "white space"},
		{"scope with slash", func(c *Config) { api0(c).Scopes[0].Value = "Todo/Read" }, "tenants[0].apis[0].scopes[0].value", `"/"`},
		{"scope .default", func(c *Config) { api0(c).Scopes[0].Value = ".Default" }, "tenants[0].apis[0].scopes[0].value", "reserved"},
		{"scope repeated", func(c *Config) { api0(c).Scopes[0].Value = "todo.write" }, "tenants[0].apis[0].scopes[1].value", "already used by tenants[0].apis[0].scopes[0].value"},
		// apps
		{"app displayName missing", func(c *Config) { a0(c).DisplayName = "" }, "tenants[0].apps[0].displayName", "required"},
		{"clientId missing", func(c *Config) { a0(c).ClientID = "" }, "tenants[0].apps[0].clientId", "required"},
		{"clientId not a GUID", func(c *Config) { a0(c).ClientID = "abc" }, "tenants[0].apps[0].clientId", `"abc" is not a GUID`},
		{"clientId repeated across tenants", func(c *Config) { t1(c).Apps[0].ClientID = client0 }, "tenants[1].apps[0].clientId", "already used by tenants[0].apps[0].clientId"},
		{"signInAudience unknown", func(c *Config) { a0(c).SignInAudience = "everyone" }, "tenants[0].apps[0].signInAudience", `"everyone" is not one of ["thisTenant" "anyTenant"]`},
		{"signInAudience anyTenant ok", func(c *Config) { a0(c).SignInAudience = "anyTenant" }, "", ""},
		{"consent unknown", func(c *Config) { a0(c).Consent = "admin" }, "tenants[0].apps[0].consent", "is not one of"},
		{"consent preauthorized ok", func(c *Config) { a0(c).Consent = "preauthorized" }, "", ""},
		{"redirect http", func(c *Config) { a0(c).SPA.RedirectURIs[0] = "http://app.example.test/" }, "tenants[0].apps[0].spa.redirectUris[0]", "must use https"},
		{"redirect http localhost ok", func(c *Config) { a0(c).SPA.RedirectURIs[0] = "http://localhost:3000/cb" }, "", ""},
		{"redirect http 127.0.0.1 ok", func(c *Config) { a0(c).SPA.RedirectURIs[0] = "http://127.0.0.1/" }, "", ""},
		{"redirect http [::1] ok", func(c *Config) { a0(c).SPA.RedirectURIs[0] = "http://[::1]:5000/" }, "", ""},
		{"redirect web http localhost ok", func(c *Config) {
			a0(c).Web.RedirectURIs, a0(c).ClientSecrets = []string{"http://localhost:5000/signin-oidc"}, []string{"0123456789abcdef"}
		}, "", ""},
		{"redirect publicClient http localhost ok", func(c *Config) { a0(c).PublicClient.RedirectURIs = []string{"http://localhost"} }, "", ""},
		{"redirect web http localhost beside publicClient", func(c *Config) {
			a0(c).Web.RedirectURIs, a0(c).PublicClient.RedirectURIs = []string{"http://localhost:5000/auth"}, []string{"http://localhost/auth"}
		}, "", ""},
		{"redirect http 127.0.0.2", func(c *Config) { a0(c).SPA.RedirectURIs[0] = "http://127.0.0.2/" }, "tenants[0].apps[0].spa.redirectUris[0]", "must use https"},
		{"redirect custom scheme", func(c *Config) { a0(c).PublicClient.RedirectURIs = []string{"msal://auth"} }, "tenants[0].apps[0].publicClient.redirectUris[0]", "must use https"},
		{"redirect relative", func(c *Config) { a0(c).SPA.RedirectURIs[0] = "/cb" }, "tenants[0].apps[0].spa.redirectUris[0]", "absolute"},
		{"redirect fragment", func(c *Config) { a0(c).SPA.RedirectURIs[0] = "https://app.example.test/#cb" }, "tenants[0].apps[0].spa.redirectUris[0]", "fragment"},
		{"redirect empty fragment", func(c *Config) { a0(c).SPA.RedirectURIs[0] = "https://app.example.test/#" }, "tenants[0].apps[0].spa.redirectUris[0]", "fragment"},
		{"redirect on two platforms", func(c *Config) { a0(c).Web.RedirectURIs = []string{"https://app.example.test:3000/"} }, "tenants[0].apps[0].web.redirectUris[0]", "already used by tenants[0].apps[0].spa.redirectUris[0]"},
		{"redirect twice on a platform", func(c *Config) {
			a0(c).SPA.RedirectURIs = append(a0(c).SPA.RedirectURIs, "https://app.example.test:3000/")
		}, "tenants[0].apps[0].spa.redirectUris[1]", "already used"},
		{"secrets with only spa", func(c *Config) { a0(c).ClientSecrets = []string{"0123456789abcdef"} }, "tenants[0].apps[0].clientSecrets", "browser app"},
		{"secrets without redirect URIs", func(c *Config) {
			a0(c).ClientSecrets, a0(c).SPA.RedirectURIs = []string{"0123456789abcdef"}, nil
		}, "", ""},
		{"certificate not PEM", func(c *Config) { a0(c).SPA.RedirectURIs, a0(c).Certificates = nil, []string{"MIIB"} }, "tenants[0].apps[0].certificates[0]", "not a PEM certificate"},
		{"certificate is a key", func(c *Config) {
			a0(c).SPA.RedirectURIs, a0(c).Certificates = nil, []string{"-----BEGIN PRIVATE KEY-----\nMIIB\n-----END PRIVATE KEY-----"}
		}, "tenants[0].apps[0].certificates[0]", "never the private key"},
		{"certificate garbage", func(c *Config) {
			a0(c).SPA.RedirectURIs, a0(c).Certificates = nil, []string{"-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----"}
		}, "tenants[0].apps[0].certificates[0]", "not a valid X.509"},
		{"secret too short", func(c *Config) { t1(c).Apps[0].ClientSecrets[0] = "hunter2" }, "tenants[1].apps[0].clientSecrets[0]", "at least 16 characters, got 7"},
		{"postLogoutRedirectUri relative", func(c *Config) { a0(c).PostLogoutRedirectURIs = []string{"/out"} }, "tenants[0].apps[0].postLogoutRedirectUris[0]", "absolute"},
		{"postLogoutRedirectUri ftp", func(c *Config) { a0(c).PostLogoutRedirectURIs = []string{"ftp://a.test/"} }, "tenants[0].apps[0].postLogoutRedirectUris[0]", "http or https"},
		{"postLogoutRedirectUri http ok", func(c *Config) { a0(c).PostLogoutRedirectURIs = []string{"http://a.test/out"} }, "", ""},
		{"logoutUrl fragment", func(c *Config) { a0(c).LogoutURL = "https://a.test/#out" }, "tenants[0].apps[0].logoutUrl", "fragment"},
		{"backchannelLogoutUrl relative", func(c *Config) { a0(c).BackchannelLogoutURL = "logout" }, "tenants[0].apps[0].backchannelLogoutUrl", "absolute"},
		{"idToken claim unknown", func(c *Config) { a0(c).OptionalClaims.IDToken = []string{"email", "shoe_size"} }, "tenants[0].apps[0].optionalClaims.idToken[1]", "not a known optional claim"},
		{"accessToken claim unknown", func(c *Config) { a0(c).OptionalClaims.AccessToken = []string{"EMAIL"} }, "tenants[0].apps[0].optionalClaims.accessToken[0]", "not a known optional claim"},
		{"every claim ok", func(c *Config) { a0(c).OptionalClaims = OptionalClaims{optionalClaims(), optionalClaims()} }, "", ""},
		{"adminConsent without scope", func(c *Config) { a0(c).AdminConsent = []string{"Todo.Write"} }, "tenants[0].apps[0].adminConsent[0]", "not <appIdUri>/<scope>"},
		{"adminConsent trailing slash", func(c *Config) { a0(c).AdminConsent = []string{"api://todo/"} }, "tenants[0].apps[0].adminConsent[0]", "not <appIdUri>/<scope>"},
		{"adminConsent unknown API", func(c *Config) { a0(c).AdminConsent = []string{"api://other/Todo.Write"} }, "tenants[0].apps[0].adminConsent[0]", `no API in this tenant has appIdUri "api://other"`},
		{"adminConsent API of another tenant", func(c *Config) { t1(c).Apps[0].AdminConsent = []string{"api://todo/Todo.Write"} }, "tenants[1].apps[0].adminConsent[0]", "no API in this tenant"},
		{"adminConsent unknown scope", func(c *Config) { a0(c).AdminConsent = []string{"api://todo/Todo.Delete"} }, "tenants[0].apps[0].adminConsent[0]", `has no scope "Todo.Delete"`},
		{"adminConsent any case ok", func(c *Config) { a0(c).AdminConsent = []string{"API://TODO/todo.write"} }, "", ""},
		{"app token lifetime zero ok", func(c *Config) { a0(c).TokenLifetimes = TokenLifetimes{AccessToken: Duration(time.Minute)} }, "", ""},
		{"app token lifetime negative", func(c *Config) { a0(c).TokenLifetimes.IDToken = Duration(-time.Minute) }, "tenants[0].apps[0].tokenLifetimes.idToken", "must not be negative"},
		{"API signingAlg ES256 ok", func(c *Config) { api0(c).SigningAlg = "ES256" }, "", ""},
		{"API signingAlg RS256 ok", func(c *Config) { api0(c).SigningAlg = "RS256" }, "", ""},
		{"API signingAlg unknown", func(c *Config) { api0(c).SigningAlg = "ES512" }, "tenants[0].apis[0].signingAlg",
			`API "api://todo": "ES512" is not one of ["RS256" "ES256"]`},
		{"API signingAlg lower case", func(c *Config) { api0(c).SigningAlg = "es256" }, "tenants[0].apis[0].signingAlg", `"es256" is not one of`},
		{"app idTokenSigningAlg ES256 ok", func(c *Config) { a0(c).IDTokenSigningAlg = "ES256" }, "", ""},
		{"app idTokenSigningAlg none", func(c *Config) { a0(c).IDTokenSigningAlg = "none" }, "tenants[0].apps[0].idTokenSigningAlg",
			`"none" is not one of ["RS256" "ES256"]`},
		{"app refresh lifetime negative", func(c *Config) { a0(c).RefreshTokens.AbsoluteLifetime = Duration(-day) }, "tenants[0].apps[0].refreshTokens.absoluteLifetime", "must not be negative"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := validConfig()
			tt.mutate(&c)
			err := c.Validate()
			if tt.wantPath == "" {
				if err != nil {
					t.Fatalf("Validate = %v, want nil", err)
				}
				return
			}
			got := problems(t, err)
			want := tt.wantPath + ": "
			if len(got) != 1 || !strings.HasPrefix(got[0], want) || !strings.Contains(got[0], tt.wantMsg) {
				t.Errorf("Validate problems %q, want one at %q containing %q", got, tt.wantPath, tt.wantMsg)
			}
		})
	}
}

func TestValidateNormalizes(t *testing.T) {
	c := validConfig()
	c.PublicURL = "https://LOGIN.Example.Test:443/"
	t0(&c).ID = strings.ToUpper(tenant0)
	t0(&c).Domains = []string{"Contoso.TEST"}
	u0(&c).Username = "Alice@Contoso.Test"
	u0(&c).ID = strings.ToUpper(user0)
	a0(&c).ClientID = strings.ToUpper(client0)
	disabled := false
	t1(&c).Users[0].Enabled = &disabled
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name      string
		got, want any
	}{
		{"publicUrl", c.PublicURL, "https://login.example.test"},
		{"tenant id", t0(&c).ID, tenant0},
		{"domain", t0(&c).Domains[0], "contoso.test"},
		{"username", u0(&c).Username, "alice@contoso.test"},
		{"user id", u0(&c).ID, user0},
		{"clientId", a0(&c).ClientID, client0},
		{"signInAudience", a0(&c).SignInAudience, SignInAudienceThisTenant},
		{"consent", a0(&c).Consent, ConsentUser},
		{"enabled nil", u0(&c).Enabled != nil && *u0(&c).Enabled, true},
		{"enabled false", *t1(&c).Users[0].Enabled, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.got != tt.want {
				t.Errorf("got %v, want %v", tt.got, tt.want)
			}
		})
	}
	if err := c.Validate(); err != nil {
		t.Errorf("Validate of a normalized config = %v, want nil", err)
	}
}

func TestNormalizePublicURL(t *testing.T) {
	tests := []struct{ in, want string }{
		{"https://login.example.test", "https://login.example.test"},
		{"https://login.example.test/", "https://login.example.test"},
		{"HTTPS://Login.Example.TEST:443", "https://login.example.test"},
		{"https://login.example.test:8443/", "https://login.example.test:8443"},
		{"https://127.0.0.1:8443", "https://127.0.0.1:8443"},
		{"https://[::1]", "https://[::1]"},
		{"https://[::1]:443", "https://[::1]"},
		{"https://[::1]:8443", "https://[::1]:8443"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, msg := normalizePublicURL(tt.in)
			if got != tt.want || msg != "" {
				t.Errorf("normalizePublicURL(%q) = %q, %q; want %q", tt.in, got, msg, tt.want)
			}
		})
	}
}

// TestProblemsKeepSecrets checks that no problem message repeats a
// password, client secret or storage URL.
func TestProblemsKeepSecrets(t *testing.T) {
	const secret = "hunter2-secret"
	c := validConfig()
	c.Storage = "mysql://root:" + secret + "@db"
	t1(&c).Apps[0].ClientSecrets = []string{"short" + secret[:3]}
	a0(&c).ClientSecrets = []string{secret + secret}
	u0(&c).PasswordHash = "$argon2id$v=19$" + secret
	err := c.Validate()
	if err == nil {
		t.Fatal("Validate = nil, want problems")
	}
	for _, s := range []string{secret, "short" + secret[:3]} {
		if strings.Contains(err.Error(), s) {
			t.Errorf("problems repeat a secret %q:\n%v", s, err)
		}
	}
}

func TestValidateWithoutFile(t *testing.T) {
	c := Default()
	err := c.Validate()
	var e *Error
	if !errors.As(err, &e) || len(e.Problems) != 1 {
		t.Fatalf("Validate(Default()) = %v, want one problem (publicUrl)", err)
	}
	if got, want := err.Error(), "publicUrl: required: the https URL browsers use, such as https://login.example.test:8443"; got != want {
		t.Errorf("Error() = %q, want %q", got, want)
	}
}
