package config

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"go.yaml.in/yaml/v3"
)

func TestLoadFull(t *testing.T) {
	c, err := Load("testdata/full.yaml", Overrides{})
	if err != nil {
		t.Fatalf("Load(full.yaml): %v", err)
	}
	tests := []struct {
		name      string
		got, want any
	}{
		{"tls.certFile", c.TLS.CertFile, "/etc/sigil/tls.pem"},
		{"refreshTokens.absoluteLifetime", c.RefreshTokens.AbsoluteLifetime.String(), "30d"},
		{"sessions.rememberLifetime", c.Sessions.RememberLifetime.String(), "14d"},
		{"loginThrottle.ipFailures", c.LoginThrottle.IPFailures, 50},
		{"loginThrottle.addressBurst", c.LoginThrottle.AddressBurst, 8},
		{"loginThrottle.addressRefill", c.LoginThrottle.AddressRefill.String(), "5s"},
		{"trustedProxies", len(c.TrustedProxies), 2},
		{"forwardedHeader", c.ForwardedHeader, "Forwarded"},
		{"second user disabled", *c.Tenants[0].Users[1].Enabled, false},
		{"scope description", c.Tenants[0].APIs[0].Scopes[1].Description, "Change your to-do items"},
		{"app token lifetime", c.Tenants[0].Apps[0].TokenLifetimes.AccessToken.String(), "5m"},
		{"app inherits idToken", c.Tenants[0].Apps[0].TokenLifetimes.IDToken, Duration(0)},
		{"public client URIs", len(c.Tenants[0].Apps[1].PublicClient.RedirectURIs), 2},
		{"client secret", c.Tenants[0].Apps[1].ClientSecrets[0], "a-client-secret-of-32-characters"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.got != tt.want {
				t.Errorf("got %v, want %v", tt.got, tt.want)
			}
		})
	}
}

// FuzzParse checks that Parse never panics, that its errors are *Error with
// located problems, and that what it accepts is valid, normalized, and
// survives a YAML round trip.
func FuzzParse(f *testing.F) {
	files, err := filepath.Glob("testdata/*.yaml")
	if err != nil || len(files) == 0 {
		f.Fatalf("no seed files: %v", err)
	}
	for _, name := range files {
		data, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Add([]byte(minimal + "tenants: &a [*a]\n"))
	f.Add([]byte(minimal + "listen: !!binary aGVsbG8=\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := Parse("fuzz.yaml", data, Overrides{})
		if err != nil {
			var e *Error
			if !errors.As(err, &e) || len(e.Problems) == 0 {
				t.Fatalf("Parse error %v (%T), want *Error with problems", err, err)
			}
			return
		}
		if err := c.Validate(); err != nil {
			t.Fatalf("Validate after Parse = %v, want nil", err)
		}
		out, err := yaml.Marshal(c)
		if err != nil {
			t.Fatalf("yaml.Marshal: %v", err)
		}
		back, err := Parse("roundtrip.yaml", out, Overrides{})
		if err != nil {
			t.Fatalf("Parse(Marshal(c)) = %v\n%s", err, out)
		}
		if !reflect.DeepEqual(back, c) {
			t.Fatalf("round trip changed the config:\n%+v\nwant\n%+v", back, c)
		}
	})
}
