package config

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"
)

// problems returns the lines of err, an *Error, or fails the test.
func problems(tb testing.TB, err error) []string {
	tb.Helper()
	var e *Error
	if !errors.As(err, &e) {
		tb.Fatalf("got error %v (%T), want *config.Error", err, err)
	}
	lines := make([]string, len(e.Problems))
	for i, p := range e.Problems {
		lines[i] = p.String()
	}
	return lines
}

func TestDefault(t *testing.T) {
	c := Default()
	tests := []struct {
		name string
		got  any
		want any
	}{
		{"publicUrl", c.PublicURL, ""},
		{"listen", c.Listen, "127.0.0.1:8443"},
		{"tls", c.TLS, TLS{}},
		{"dataDir", c.DataDir, "./sigil-data"},
		{"storage", c.Storage, "sqlite"},
		{"tokenLifetimes.accessToken", c.TokenLifetimes.AccessToken, Duration(time.Hour)},
		{"tokenLifetimes.idToken", c.TokenLifetimes.IDToken, Duration(time.Hour)},
		{"tokenLifetimes.authorizationCode", c.TokenLifetimes.AuthorizationCode, Duration(10 * time.Minute)},
		{"refreshTokens.reuseInterval", c.RefreshTokens.ReuseInterval, Duration(30 * time.Second)},
		{"refreshTokens.idleLifetime", c.RefreshTokens.IdleLifetime, Duration(24 * time.Hour)},
		{"refreshTokens.spaAbsoluteLifetime", c.RefreshTokens.SPAAbsoluteLifetime, Duration(24 * time.Hour)},
		{"refreshTokens.absoluteLifetime", c.RefreshTokens.AbsoluteLifetime, Duration(90 * 24 * time.Hour)},
		{"sessions.lifetime", c.Sessions.Lifetime, Duration(24 * time.Hour)},
		{"sessions.rememberLifetime", c.Sessions.RememberLifetime, Duration(90 * 24 * time.Hour)},
		{"loginThrottle.accountFailures", c.LoginThrottle.AccountFailures, 10},
		{"loginThrottle.ipFailures", c.LoginThrottle.IPFailures, 100},
		{"loginThrottle.window", c.LoginThrottle.Window, Duration(15 * time.Minute)},
		{"tenants", len(c.Tenants), 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.got != tt.want {
				t.Errorf("Default().%s = %v, want %v", tt.name, tt.got, tt.want)
			}
		})
	}
}

// designExample is the configuration testdata/design-example.yaml (the
// example in the design) must load as, after normalization.
func designExample() Config {
	enabled := true
	c := Default()
	c.PublicURL = "https://login.example.test:8443"
	c.TLS.Auto = true
	c.Tenants = []Tenant{{
		ID:          "6a0b2c9e-7e4d-4c1e-9a53-0d6f2b8e4f10",
		Domains:     []string{"contoso.test"},
		DisplayName: "Contoso",
		Users: []User{{
			Username: "alice@contoso.test", Password: "Passw0rd!alice", DisplayName: "Alice Example",
			GivenName: "Alice", Surname: "Example", Email: "alice@contoso.test", Enabled: &enabled,
		}},
		APIs: []API{{
			DisplayName: "Todo API", AppIDURI: "api://todo",
			Scopes: []Scope{{Value: "Todo.Read"}, {Value: "Todo.Write", AdminConsentRequired: true}},
		}},
		Apps: []App{{
			DisplayName:            "Todo SPA",
			ClientID:               "3f1c2d4e-5a6b-4c7d-8e9f-0a1b2c3d4e5f",
			SignInAudience:         "thisTenant",
			SPA:                    Platform{RedirectURIs: []string{"https://app.example.test:3000/", "https://app.example.test:3000/redirect.html"}},
			ImplicitGrant:          ImplicitGrant{IDTokens: true, AccessTokens: true},
			PostLogoutRedirectURIs: []string{"https://app.example.test:3000/signed-out"},
			LogoutURL:              "https://app.example.test:3000/signed-out",
			BackchannelLogoutURL:   "https://api.example.test:4000/logout",
			OptionalClaims:         OptionalClaims{IDToken: []string{"auth_time", "email"}, AccessToken: []string{"email"}},
			Consent:                "user",
			AdminConsent:           []string{"api://todo/Todo.Write"},
		}},
	}}
	return c
}

func TestLoadDesignExample(t *testing.T) {
	got, err := Load("testdata/design-example.yaml", Overrides{})
	if err != nil {
		t.Fatalf("Load(design example): %v", err)
	}
	if want := designExample(); !reflect.DeepEqual(got, want) {
		t.Errorf("Load(design example) =\n%+v\nwant\n%+v", got, want)
	}
}

// TestMarshalRoundTrip checks that a loaded Config written back as YAML
// loads again unchanged, durations included.
func TestMarshalRoundTrip(t *testing.T) {
	c, err := Load("testdata/design-example.yaml", Overrides{})
	if err != nil {
		t.Fatal(err)
	}
	c.Tenants[0].Apps[0].TokenLifetimes.AccessToken = Duration(36 * time.Hour)
	out, err := yaml.Marshal(c)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(out), "accessToken: 1d12h") {
		t.Errorf("marshalled YAML lacks %q:\n%s", "accessToken: 1d12h", out)
	}
	back, err := Parse("roundtrip.yaml", out, Overrides{})
	if err != nil {
		t.Fatalf("Parse(marshalled): %v\n%s", err, out)
	}
	if !reflect.DeepEqual(back, c) {
		t.Errorf("round trip =\n%+v\nwant\n%+v", back, c)
	}
}

func TestLoadMissingFile(t *testing.T) {
	_, err := Load(filepath.Join(t.TempDir(), "nope.yaml"), Overrides{})
	if !errors.Is(err, os.ErrNotExist) {
		t.Errorf("Load(missing) = %v, want an error wrapping os.ErrNotExist", err)
	}
}

// minimal is the smallest valid file; decoding tests add to it.
const minimal = "publicUrl: https://login.example.test\n"

func TestParseDecodeProblems(t *testing.T) {
	tests := []struct {
		name string
		yaml string
		want []string
	}{
		{"unknown top-level key", minimal + "listn: 1.2.3.4:80\n",
			[]string{`sigil.yaml:2:1: unknown key "listn" (did you mean "listen"?)`}},
		{"unknown key far from every key", minimal + "frobnicate: 1\n",
			[]string{`sigil.yaml:2:1: unknown key "frobnicate"`}},
		{"unknown key differs in case", minimal + "publicURL: x\n",
			[]string{`sigil.yaml:2:1: unknown key "publicURL" (did you mean "publicUrl"?)`}},
		{"every unknown key", minimal + "tls: {auto: true, cert: a, key: b}\n",
			[]string{`sigil.yaml:2:19: tls: unknown key "cert" (did you mean "certFile"?)`,
				`sigil.yaml:2:28: tls: unknown key "key" (did you mean "keyFile"?)`}},
		{"unknown key in a list item", minimal + "tenants:\n  - id: 6a0b2c9e-7e4d-4c1e-9a53-0d6f2b8e4f10\n    domains: [contoso.test]\n    apps:\n      - displayName: A\n        clientId: 3f1c2d4e-5a6b-4c7d-8e9f-0a1b2c3d4e5f\n        redirectUri: https://a.test/\n",
			[]string{`sigil.yaml:8:9: tenants[0].apps[0]: unknown key "redirectUri"`}},
		{"repeated key", minimal + "listen: 1.2.3.4:80\nlisten: 1.2.3.4:81\n",
			[]string{`sigil.yaml:3:1: key "listen" is repeated (first at line 2)`}},
		{"merge key", minimal + "base: &b {auto: true}\ntls:\n  <<: *b\n",
			[]string{`sigil.yaml:2:1: unknown key "base"`, `sigil.yaml:4:3: tls: merge keys and complex keys are not supported`}},
		{"string for a mapping", minimal + "tls: yes\n",
			[]string{`sigil.yaml:2:6: tls: got a string, want a mapping`}},
		{"mapping for a string", minimal + "listen: {host: a}\n",
			[]string{`sigil.yaml:2:9: listen: got a mapping, want a string`}},
		{"string for a list", minimal + "tenants: all\n",
			[]string{`sigil.yaml:2:10: tenants: got a string, want a list`}},
		{"yes for a bool", minimal + "tls: {auto: yes}\n",
			[]string{`sigil.yaml:2:13: tls.auto: got a string, want true or false`}},
		{"string for an int", minimal + "loginThrottle: {ipFailures: many}\n",
			[]string{`sigil.yaml:2:29: loginThrottle.ipFailures: got a string, want a whole number`}},
		{"float for an int", minimal + "loginThrottle: {ipFailures: 1.5}\n",
			[]string{`sigil.yaml:2:29: loginThrottle.ipFailures: got a number, want a whole number`}},
		{"bad duration", minimal + "sessions:\n  lifetime: 3 days\n",
			[]string{`sigil.yaml:3:13: sessions.lifetime: "3 days" is not a duration; want a number and unit such as 30s, 15m, 24h or 90d`}},
		{"list for a duration", minimal + "sessions:\n  lifetime: [1h]\n",
			[]string{`sigil.yaml:3:13: sessions.lifetime: got a list, want a duration such as 30s, 15m, 24h or 90d`}},
		{"root is a list", "- a\n",
			[]string{`sigil.yaml:1:1: got a list, want a mapping`}},
		{"syntax error", minimal + "tls: [\n",
			[]string{`sigil.yaml:2: did not find expected node content`}},
		{"two documents", minimal + "---\nlisten: :1\n",
			[]string{`sigil.yaml:2: the file holds more than one YAML document`}},
		{"empty file", "",
			[]string{`sigil.yaml: publicUrl: required: the https URL browsers use, such as https://login.example.test:8443`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse("sigil.yaml", []byte(tt.yaml), Overrides{})
			if err == nil {
				t.Fatalf("Parse = nil error, want %q", tt.want)
			}
			if got := problems(t, err); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("Parse problems:\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(tt.want, "\n"))
			}
		})
	}
}

// TestParseRefusesAliasBombs feeds a "billion laughs" file: anchors that
// reuse anchors, 50 × 50 × 50 redirect URIs from a few hundred nodes.
func TestParseRefusesAliasBombs(t *testing.T) {
	uris := strings.TrimSuffix(strings.Repeat("https://a.test/, ", 50), ", ")
	apps := strings.TrimSuffix(strings.Repeat("*p, ", 50), ", ")
	tenants := strings.TrimSuffix(strings.Repeat("{apps: *b}, ", 50), ", ")
	file := minimal + "x: &u [" + uris + "]\n" +
		"y: &p {displayName: A, spa: {redirectUris: *u}}\n" +
		"z: &b [" + apps + "]\n" +
		"tenants: [" + tenants + "]\n"
	_, err := Parse("sigil.yaml", []byte(file), Overrides{})
	const want = ": aliases expand the document more than 10-fold"
	got := problems(t, err)
	if !slices.ContainsFunc(got, func(p string) bool { return strings.HasSuffix(p, want) }) || len(got) > 4 {
		t.Errorf("got problems\n%s\nwant the unknown keys x, y, z and one ending in %q", strings.Join(got, "\n"), want)
	}
}

func TestParseNullKeepsDefault(t *testing.T) {
	c, err := Parse("sigil.yaml", []byte(minimal+"listen:\ntls:\ntenants:\nsessions: {lifetime: ~}\n"), Overrides{})
	if err != nil {
		t.Fatal(err)
	}
	if c.Listen != "127.0.0.1:8443" || c.Sessions.Lifetime != Default().Sessions.Lifetime {
		t.Errorf("got listen %q, sessions.lifetime %v; want the defaults", c.Listen, c.Sessions.Lifetime)
	}
}

func TestParseKeepsStringsAsWritten(t *testing.T) {
	c, err := Parse("sigil.yaml", []byte(minimal+`tenants:
  - id: 6a0b2c9e-7e4d-4c1e-9a53-0d6f2b8e4f10
    domains: [contoso.test]
    users:
      - username: alice@contoso.test
        password: 0123456789012345678901234567890
`), Overrides{})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := c.Tenants[0].Users[0].Password, "0123456789012345678901234567890"; got != want {
		t.Errorf("password = %q, want %q", got, want)
	}
}

func TestParseAliases(t *testing.T) {
	c, err := Parse("sigil.yaml", []byte(minimal+`tenants:
  - id: 6a0b2c9e-7e4d-4c1e-9a53-0d6f2b8e4f10
    domains: [contoso.test]
    apps:
      - displayName: A
        clientId: 3f1c2d4e-5a6b-4c7d-8e9f-0a1b2c3d4e5f
        spa: {redirectUris: &uris [https://a.test/, https://a.test/cb]}
      - displayName: B
        clientId: 4f1c2d4e-5a6b-4c7d-8e9f-0a1b2c3d4e5f
        spa: {redirectUris: *uris}
`), Overrides{})
	if err != nil {
		t.Fatal(err)
	}
	if got := c.Tenants[0].Apps[1].SPA.RedirectURIs; !reflect.DeepEqual(got, []string{"https://a.test/", "https://a.test/cb"}) {
		t.Errorf("aliased redirectUris = %q, want the anchored list", got)
	}
}

// TestEveryProblemAtOnce checks that decoding and validation problems come
// together, in file order, each with its line and column.
func TestEveryProblemAtOnce(t *testing.T) {
	const file = `publicUrl: http://login.example.test
listen: localhost
tenants:
  - id: 6a0b2c9e-7e4d-4c1e-9a53-0d6f2b8e4f10
    domains: [contoso.test, Common]
    apps:
      - redirectUri: https://app.example.test/
        displayName: Todo SPA
        clientId: abc
        spa:
          redirectUris: [http://app.example.test/]
        optionalClaims: {idToken: [shoe_size]}
        adminConsent: [api://todo/Todo.Write]
  - id: 6A0B2C9E-7E4D-4C1E-9A53-0D6F2B8E4F10
    domains: [CONTOSO.test]
    users:
      - username: bob@contoso.test
        password: x
        passwordHash: y
        enabled: maybe
`
	want := []string{
		`sigil.yaml:1:12: publicUrl: "http://login.example.test" must use https (MSAL requires it)`,
		`sigil.yaml:2:9: listen: "localhost" must be host:port, such as 127.0.0.1:8443`,
		`sigil.yaml:5:29: tenants[0].domains[1]: "common" is reserved: it is a tenant path segment with its own meaning`,
		`sigil.yaml:7:9: tenants[0].apps[0]: unknown key "redirectUri"`,
		`sigil.yaml:9:19: tenants[0].apps[0].clientId: "abc" is not a GUID`,
		`sigil.yaml:11:26: tenants[0].apps[0].spa.redirectUris[0]: "http://app.example.test/" must use https (http only on localhost, 127.0.0.1 or [::1])`,
		`sigil.yaml:12:36: tenants[0].apps[0].optionalClaims.idToken[0]: "shoe_size" is not a known optional claim; known: auth_time, email, given_name, family_name, upn, ipaddr, login_hint, sid, acct, ctry, tenant_ctry, verified_primary_email, groups`,
		`sigil.yaml:13:24: tenants[0].apps[0].adminConsent[0]: "api://todo/Todo.Write": no API in this tenant has appIdUri "api://todo"`,
		`sigil.yaml:14:9: tenants[1].id: "6a0b2c9e-7e4d-4c1e-9a53-0d6f2b8e4f10" is already used by tenants[0].id`,
		`sigil.yaml:15:15: tenants[1].domains[0]: "contoso.test" is already used by tenants[0].domains[0]`,
		`sigil.yaml:19:23: tenants[1].users[0].passwordHash: set password or passwordHash, not both`,
		`sigil.yaml:20:18: tenants[1].users[0].enabled: got a string, want true or false`,
	}
	_, err := Parse("sigil.yaml", []byte(file), Overrides{})
	got := problems(t, err)
	if !reflect.DeepEqual(got, want) {
		t.Errorf("problems:\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if !strings.Contains(err.Error(), want[0]+"\n"+want[1]+"\n") {
		t.Errorf("Error() = %q, want one problem per line", err.Error())
	}
}

func TestOverrides(t *testing.T) {
	tests := []struct {
		name      string
		o         Overrides
		want      func(Config) string // the overridden field
		wantValue string
	}{
		{"listen", Overrides{Listen: "0.0.0.0:443"}, func(c Config) string { return c.Listen }, "0.0.0.0:443"},
		{"publicUrl", Overrides{PublicURL: "https://Sigil.example.test:443/"}, func(c Config) string { return c.PublicURL }, "https://sigil.example.test"},
		{"storage", Overrides{Storage: "postgres://sigil@db/sigil"}, func(c Config) string { return c.Storage }, "postgres://sigil@db/sigil"},
		{"dataDir", Overrides{DataDir: "/var/lib/sigil"}, func(c Config) string { return c.DataDir }, "/var/lib/sigil"},
		{"empty fields keep the file", Overrides{}, func(c Config) string { return c.Listen }, "127.0.0.1:8443"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := Load("testdata/design-example.yaml", tt.o)
			if err != nil {
				t.Fatal(err)
			}
			if got := tt.want(c); got != tt.wantValue {
				t.Errorf("got %q, want %q", got, tt.wantValue)
			}
		})
	}
}

func TestOverrideProblemsNameTheOverride(t *testing.T) {
	tests := []struct {
		name string
		o    Overrides
		want string
	}{
		{"listen", Overrides{Listen: "nope"}, `SIGIL_LISTEN / --listen: listen: "nope" must be host:port, such as 127.0.0.1:8443`},
		{"publicUrl", Overrides{PublicURL: "http://x.test"}, `SIGIL_PUBLIC_URL / --public-url: publicUrl: "http://x.test" must use https (MSAL requires it)`},
		{"storage", Overrides{Storage: "mysql://root:hunter2@db"}, `SIGIL_STORAGE / --storage: storage: must be "sqlite", "sqlite:<path>" or a postgres:// URL`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Load("testdata/design-example.yaml", tt.o)
			got := problems(t, err)
			if len(got) != 1 || got[0] != tt.want {
				t.Errorf("problems %q, want [%q]", got, tt.want)
			}
		})
	}
}
