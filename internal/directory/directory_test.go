package directory

import (
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"testing"
)

var todo = API{TenantID: "t", AppIDURI: "api://Todo", Scopes: []APIScope{
	{Value: "Todo.Read", Description: "read"}, {Value: "Todo.Write", AdminConsentRequired: true}}}

func findTodo(uri string) (API, bool, error) {
	if strings.EqualFold(uri, todo.AppIDURI) {
		return todo, true, nil
	}
	return API{}, false, nil
}

// describe renders a ScopeSet compactly: openid flag, then resource{requested=value,…}.
func describe(s ScopeSet) string {
	var b strings.Builder
	fmt.Fprintf(&b, "openid=%v", s.OpenID)
	for _, g := range s.Groups {
		fmt.Fprintf(&b, " %s{", g.Resource)
		for i, sc := range g.Scopes {
			if i > 0 {
				b.WriteString(",")
			}
			fmt.Fprintf(&b, "%s=%s", sc.Requested, sc.Value)
			if sc.AdminOnly {
				b.WriteString("!")
			}
		}
		if g.Default {
			b.WriteString(" .default")
		}
		b.WriteString("}")
	}
	return b.String()
}

func TestParseScopes(t *testing.T) {
	tests := []struct {
		name, raw, want string
		primary         int
	}{
		{"msal login", "openid profile offline_access", "openid=true https://graph.microsoft.com{profile=profile,offline_access=offline_access}", 0},
		{"graph short", "User.Read openid profile offline_access", "openid=true https://graph.microsoft.com{User.Read=User.Read,profile=profile,offline_access=offline_access}", 0},
		{"graph full", "https://graph.microsoft.com/user.read", "openid=false https://graph.microsoft.com{https://graph.microsoft.com/user.read=User.Read}", 0},
		{"api first", "openid api://todo/todo.read offline_access", "openid=true api://Todo{api://todo/todo.read=Todo.Read} https://graph.microsoft.com{offline_access=offline_access}", 0},
		{"api after oidc", "profile api://todo/Todo.Write", "openid=false https://graph.microsoft.com{profile=profile} api://Todo{api://todo/Todo.Write=Todo.Write!}", 1},
		{"default", "api://todo/.default", "openid=false api://Todo{ .default}", 0},
		{"duplicates collapse", "User.Read user.read USER.READ", "openid=false https://graph.microsoft.com{User.Read=User.Read}", 0},
		{"openid alone", "openid", "openid=true", -1},
		{"extra spaces", "  openid   User.Read ", "openid=true https://graph.microsoft.com{User.Read=User.Read}", 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ParseScopes(tc.raw, findTodo)
			if err != nil {
				t.Fatal(err)
			}
			if describe(got) != tc.want {
				t.Errorf("got  %s\nwant %s", describe(got), tc.want)
			}
			if p := got.Primary(); p != tc.primary {
				t.Errorf("primary group %d, want %d", p, tc.primary)
			}
		})
	}
}

func TestParseScopesErrors(t *testing.T) {
	tests := []struct {
		name, raw string
		kind      ScopeErrorKind
	}{
		{"unknown resource", "api://nope/Read", ScopeUnknownResource},
		{"unknown api scope", "api://todo/Todo.Delete", ScopeUnknownValue},
		{"unknown short scope", "Mail.Send", ScopeUnknownValue},
		{"empty value", "api://todo/", ScopeMalformed},
		{"quote", `api://todo/"x`, ScopeMalformed},
		{"too long", strings.Repeat("a", MaxScopeLength+1), ScopeMalformed},
		{"too many", strings.Repeat("openid ", MaxScopeTokens+1), ScopeMalformed},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParseScopes(tc.raw, findTodo)
			var se *ScopeError
			if !errors.As(err, &se) || se.Kind != tc.kind {
				t.Fatalf("got %v, want a ScopeError of kind %d", err, tc.kind)
			}
		})
	}
	boom := errors.New("database down")
	if _, err := ParseScopes("api://x/y", func(string) (API, bool, error) { return API{}, false, boom }); !errors.Is(err, boom) {
		t.Fatalf("a lookup failure must surface as itself, got %v", err)
	}
}

func TestConsentRules(t *testing.T) {
	set, _ := ParseScopes("api://todo/Todo.Read api://todo/Todo.Write", findTodo)
	g := set.Groups[0]
	user, admin := g.Missing(map[string]bool{}, ConsentUser)
	if len(user) != 1 || user[0].Value != "Todo.Read" || len(admin) != 1 || admin[0].Value != "Todo.Write" {
		t.Fatalf("nothing granted: user %v admin %v", user, admin)
	}
	user, admin = g.Missing(map[string]bool{"todo.write": true}, ConsentPreauthorized)
	if len(user) != 0 || len(admin) != 0 {
		t.Fatalf("preauthorized with the admin grant: user %v admin %v", user, admin)
	}
	_, admin = g.Missing(map[string]bool{}, ConsentPreauthorized)
	if len(admin) != 1 {
		t.Fatalf("preauthorization must not cover admin-only scopes: admin %v", admin)
	}
	// .default: granted scopes, or else every user-consentable one.
	def, _ := ParseScopes("api://todo/.default", findTodo)
	d := def.Groups[0]
	d.ExpandDefault(map[string]bool{}, false)
	if describe(ScopeSet{Groups: []ResourceScopes{d}}) != "openid=false api://Todo{api://Todo/Todo.Read=Todo.Read .default}" {
		t.Fatalf("expanded with no grants: %s", describe(ScopeSet{Groups: []ResourceScopes{d}}))
	}
	d = def.Groups[0]
	d.Scopes = nil
	d.ExpandDefault(map[string]bool{"todo.write": true}, false)
	if len(d.Scopes) != 1 || d.Scopes[0].Value != "Todo.Write" {
		t.Fatalf("expanded with a grant: %+v", d.Scopes)
	}
	// An administrator granting for the tenant: every scope the resource exposes, granted or not.
	for _, granted := range []map[string]bool{{}, {"todo.read": true}} {
		d = def.Groups[0]
		d.Scopes = nil
		d.ExpandDefault(granted, true)
		if len(d.Scopes) != 2 || d.Scopes[0].Value != "Todo.Read" || d.Scopes[1].Value != "Todo.Write" || !d.Scopes[1].AdminOnly {
			t.Fatalf("expanded for an administrator with %v granted: %+v", granted, d.Scopes)
		}
	}
	grants := []Grant{{Resource: "api://Todo", Scopes: []string{"Todo.Read"}}, {Resource: "other", Scopes: []string{"x"}}}
	if got := GrantedScopes(grants, "api://Todo"); !got["todo.read"] || got["x"] {
		t.Fatalf("GrantedScopes: %v", got)
	}
}

func TestCanonical(t *testing.T) {
	set, _ := ParseScopes("api://todo/todo.read https://graph.microsoft.com/user.read profile", findTodo)
	var got []string
	for _, g := range set.Groups {
		for _, sc := range g.Scopes {
			got = append(got, g.Canonical(sc))
		}
	}
	if strings.Join(got, " ") != "api://Todo/Todo.Read https://graph.microsoft.com/User.Read profile" {
		t.Fatalf("got %v", got)
	}
}

func TestAppRules(t *testing.T) {
	app := App{TenantID: "t1", RedirectURIs: []RedirectURI{
		{URI: "https://app.example.test:3000/", Platform: PlatformSPA},
		{URI: "https://web.example.test/cb", Platform: PlatformWeb},
	}, PostLogoutRedirectURIs: []string{"https://app.example.test:3000/out"}}
	if p, ok := app.RedirectPlatform("https://app.example.test:3000/"); !ok || p != PlatformSPA {
		t.Errorf("exact spa URI: %v %v", p, ok)
	}
	for _, uri := range []string{"https://app.example.test:3000", "https://APP.example.test:3000/", "https://app.example.test:3000/x"} {
		if _, ok := app.RedirectPlatform(uri); ok {
			t.Errorf("%s matched; redirect URIs match exactly", uri)
		}
	}
	loopback := App{RedirectURIs: []RedirectURI{
		{URI: "http://localhost", Platform: PlatformPublicClient},
		{URI: "http://127.0.0.1/cb", Platform: PlatformPublicClient},
		{URI: "http://localhost:5000/signin-oidc", Platform: PlatformWeb},
	}}
	for _, tc := range []struct {
		uri  string
		want Platform // "" for no match
	}{
		{"http://localhost", PlatformPublicClient},
		{"http://localhost:51234", PlatformPublicClient}, // msal-node's loopback listener
		{"http://127.0.0.1:8080/cb", PlatformPublicClient},
		{"http://localhost:5000/signin-oidc", PlatformWeb},
		{"http://localhost:5001/signin-oidc", ""}, // web: exact, port included
		{"http://localhost/signin-oidc", ""},
		{"http://localhost:51234/other", ""},
		{"https://localhost:51234", ""},
		{"http://127.0.0.1:8080/cb?x=1", ""},
		{"http://localhost:x", ""},
		{"http://user@localhost:1", ""},
		{"http://localhost.evil.test:80", ""},
	} {
		p, ok := loopback.RedirectPlatform(tc.uri)
		if tc.want == "" && ok || tc.want != "" && (!ok || p != tc.want) {
			t.Errorf("RedirectPlatform(%q) = %q, %v; want %q", tc.uri, p, ok, tc.want)
		}
	}
	if !app.IsSPAOrigin("https://app.example.test:3000") || app.IsSPAOrigin("https://web.example.test") || app.IsSPAOrigin("") {
		t.Error("IsSPAOrigin")
	}
	if !app.AllowsPostLogoutRedirect("https://web.example.test/cb") || !app.AllowsPostLogoutRedirect("https://app.example.test:3000/out") ||
		app.AllowsPostLogoutRedirect("https://evil.test/") {
		t.Error("AllowsPostLogoutRedirect")
	}
	if app.AllowsTenant("t2") || !app.AllowsTenant("t1") {
		t.Error("AllowsTenant, this tenant")
	}
	app.SignInAudience = AudienceAnyTenant
	if !app.AllowsTenant("t2") {
		t.Error("AllowsTenant, any tenant")
	}
}

func TestOrigin(t *testing.T) {
	for in, want := range map[string]string{
		"https://App.Example.test:443/x?y": "https://app.example.test",
		"https://app.example.test:3000/":   "https://app.example.test:3000",
		"http://localhost:80/":             "http://localhost",
		"http://[::1]:8080/cb":             "http://[::1]:8080",
		"ftp://x/":                         "",
		"/relative":                        "",
	} {
		if got := Origin(in); got != want {
			t.Errorf("Origin(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestIsGUID(t *testing.T) {
	for s, want := range map[string]bool{"6a0b2c9e-7e4d-4c1e-9a53-0d6f2b8e4f10": true, "6A0B2C9E-7E4D-4C1E-9A53-0D6F2B8E4F10": true,
		"6a0b2c9e7e4d4c1e9a530d6f2b8e4f10": false, "6a0b2c9e-7e4d-4c1e-9a53-0d6f2b8e4f1g": false, "": false} {
		if IsGUID(s) != want {
			t.Errorf("IsGUID(%q) != %v", s, want)
		}
	}
}

// FuzzParseScopes: the scope parameter is untrusted input on every authorize and token
// request. It must never panic, and what it accepts must be consistent.
func FuzzParseScopes(f *testing.F) {
	for _, s := range []string{"openid profile offline_access", "api://todo/Todo.Read User.Read", "api://todo/.default",
		"https://graph.microsoft.com/User.Read", "a/b/c/", "/", "openid\x00", strings.Repeat("x ", 70)} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		set, err := ParseScopes(raw, findTodo)
		if err != nil {
			return
		}
		if p := set.Primary(); p >= len(set.Groups) {
			t.Fatalf("primary %d out of %d groups", p, len(set.Groups))
		}
		for _, g := range set.Groups {
			for _, sc := range g.Scopes {
				if sc.Value == "" || g.Canonical(sc) == "" {
					t.Fatalf("empty scope from %q: %+v", raw, sc)
				}
			}
		}
	})
}

// FuzzRedirectPlatform feeds redirect URIs as authorization requests send them: nothing
// panics, an exact registration always matches, and the port-agnostic match only ever
// accepts an http loopback URI for a publicClient registration.
func FuzzRedirectPlatform(f *testing.F) {
	for _, s := range []string{"http://localhost", "http://localhost:1234", "http://127.0.0.1:0/cb?x=1", "http://[::1]:5/",
		"https://localhost:1/", "http://localhost:5000/signin-oidc", "http://localhost.evil:1", "http://u@localhost:1", "%zz"} {
		f.Add(s)
	}
	app := App{RedirectURIs: []RedirectURI{
		{URI: "http://localhost", Platform: PlatformPublicClient},
		{URI: "http://127.0.0.1/cb?x=1", Platform: PlatformPublicClient},
		{URI: "http://localhost:5000/signin-oidc", Platform: PlatformWeb},
		{URI: "https://app.example.test/", Platform: PlatformSPA},
	}}
	f.Fuzz(func(t *testing.T, uri string) {
		p, ok := app.RedirectPlatform(uri)
		if !ok {
			return
		}
		exact := slices.ContainsFunc(app.RedirectURIs, func(r RedirectURI) bool { return r.URI == uri && r.Platform == p })
		if exact {
			return
		}
		u, err := url.Parse(uri)
		if p != PlatformPublicClient || err != nil || u.Scheme != "http" || u.User != nil ||
			!slices.Contains([]string{"localhost", "127.0.0.1", "::1"}, u.Hostname()) {
			t.Fatalf("%q matched %s without an exact registration", uri, p)
		}
	})
}
