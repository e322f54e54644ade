package demo

import (
	"errors"
	"net"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/sigil-idp/sigil/internal/app"
	"github.com/sigil-idp/sigil/internal/password"
)

var fastHash = password.Params{Memory: 64, Time: 1, Threads: 1}

func TestPublicURLFor(t *testing.T) {
	for listen, want := range map[string]string{
		"127.0.0.1:9443":         "https://localhost:9443",
		"[::1]:9443":             "https://localhost:9443",
		":9443":                  "https://localhost:9443",
		"0.0.0.0:8443":           "https://localhost:8443",
		"localhost:443":          "https://localhost",
		"login.example.test:443": "https://login.example.test",
		"10.1.2.3:8443":          "https://10.1.2.3:8443",
		"[fd00::1]:8443":         "https://[fd00::1]:8443",
		"[fd00::1]:443":          "https://[fd00::1]",
	} {
		if got := PublicURLFor(listen); got != want {
			t.Errorf("PublicURLFor(%q) = %q, want %q", listen, got, want)
		}
	}
}

// ownFile is a user's bootstrap file for dev mode: a tenant of their own, nothing else.
const ownFile = `tenants:
  - id: 0b1c2d3e-4f50-4617-8293-a4b5c6d7e8f9
    domains: [fabrikam.test]
    displayName: Fabrikam
    users:
      - {username: dana@fabrikam.test, password: "Passw0rd!dana"}
    apps:
      - displayName: My SPA
        clientId: 7d8e9f00-1a2b-4c3d-8e4f-5a6b7c8d9e0f
        spa: {redirectUris: ["http://localhost:5173/"]}
`

func writeFile(t *testing.T, text string) string {
	t.Helper()
	f := filepath.Join(t.TempDir(), "sigil.yaml")
	if err := os.WriteFile(f, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	return f
}

func loopback(t *testing.T) net.Listener {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	return ln
}

func tenantIDs(d *Dev) []string {
	var ids []string
	for _, t := range d.Config.Tenants {
		ids = append(ids, t.ID)
	}
	return ids
}

// TestStartDevWithConfig: the user's tenant runs beside the demo one (or alone with NoDemo),
// dev defaults fill the rest, and the banner says what the user's app needs.
func TestStartDevWithConfig(t *testing.T) {
	file := writeFile(t, ownFile)
	for _, noDemo := range []bool{false, true} {
		o := DevOptions{ConfigFile: file, NoDemo: noDemo, DataDir: t.TempDir(), IdPListener: loopback(t), HashParams: fastHash}
		if !noDemo {
			o.SPAListener = loopback(t)
		}
		d, err := StartDev(t.Context(), o)
		if err != nil {
			t.Fatalf("NoDemo %v: %v", noDemo, err)
		}
		defer d.Close()
		ids := tenantIDs(d)
		wantTenants := 2
		if noDemo {
			wantTenants = 1
		}
		if len(ids) != wantTenants || ids[0] != "0b1c2d3e-4f50-4617-8293-a4b5c6d7e8f9" {
			t.Errorf("NoDemo %v: tenants %v", noDemo, ids)
		}
		_, port, _ := net.SplitHostPort(o.IdPListener.Addr().String())
		if d.Config.PublicURL != "https://localhost:"+port || !d.Config.TLS.Auto {
			t.Errorf("NoDemo %v: publicUrl %q, tls.auto %v; want https://localhost:%s (from the listen port) and tls.auto",
				noDemo, d.Config.PublicURL, d.Config.TLS.Auto, port)
		}
		banner := d.Banner(0)
		for _, want := range []string{d.Config.PublicURL + "/fabrikam.test", "7d8e9f00-1a2b-4c3d-8e4f-5a6b7c8d9e0f",
			"http://localhost:5173/", "dana@fabrikam.test", "It was made just now"} {
			if !strings.Contains(banner, want) {
				t.Errorf("NoDemo %v: banner lacks %q:\n%s", noDemo, want, banner)
			}
		}
		if hasDemo := strings.Contains(banner, "Demo SPA"); hasDemo == noDemo {
			t.Errorf("NoDemo %v: banner shows the demo SPA: %v\n%s", noDemo, hasDemo, banner)
		}
	}
}

// TestStartDevFromPrintedConfig: the file --print-config writes runs as it is, its demo
// tenant used instead of a second copy.
func TestStartDevFromPrintedConfig(t *testing.T) {
	text, err := ConfigText()
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(string(text), "# ") || strings.Contains(string(text), "publicUrl:") {
		t.Errorf("printed configuration should start with its comment and leave publicUrl to dev mode:\n%s", text)
	}
	d, err := StartDev(t.Context(), DevOptions{ConfigFile: writeFile(t, string(text)), DataDir: t.TempDir(),
		IdPListener: loopback(t), SPAListener: loopback(t), HashParams: fastHash})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	if ids := tenantIDs(d); len(ids) != 1 || ids[0] != TenantID {
		t.Errorf("tenants %v, want the demo tenant once", ids)
	}
	// The printed file registers the SPA on port 3000; this one listens elsewhere.
	if b := d.Banner(0); !strings.Contains(b, "WARNING: the demo SPA's registration in your file lacks "+d.SPAOrigin) {
		t.Errorf("banner does not warn that the SPA's origin is not registered:\n%s", b)
	}
}

// TestStartDevBusyPort: a port in use names the flag and the environment variable to change.
func TestStartDevBusyPort(t *testing.T) {
	busy := loopback(t)
	defer busy.Close()
	for _, tt := range []struct {
		name    string
		o       DevOptions
		setting string
	}{
		{"spa", DevOptions{SPAListen: busy.Addr().String()}, "--spa-listen or SIGIL_SPA_LISTEN"},
		{"idp", DevOptions{Listen: busy.Addr().String(), SPAListener: loopback(t)}, "--listen or SIGIL_LISTEN"},
	} {
		tt.o.DataDir, tt.o.HashParams, tt.o.PublicURL = t.TempDir(), fastHash, "https://localhost:8443"
		d, err := StartDev(t.Context(), tt.o)
		if err == nil {
			d.Close()
			t.Fatalf("%s: StartDev on a busy port succeeded", tt.name)
		}
		var be *app.BindError
		if !errors.As(err, &be) || !errors.Is(err, syscall.EADDRINUSE) || !strings.Contains(err.Error(), tt.setting) ||
			!strings.Contains(err.Error(), busy.Addr().String()) {
			t.Errorf("%s: error %q; want a BindError naming %s and %s", tt.name, err, busy.Addr(), tt.setting)
		}
	}
}

// TestStartDevConfigProblems: a problem in the user's file names the file and line; one
// caused by the demo tenant says how to leave it out.
func TestStartDevConfigProblems(t *testing.T) {
	file := writeFile(t, "tenants:\n  - id: 0b1c2d3e-4f50-4617-8293-a4b5c6d7e8f9\n    domains: [contoso.test]\n")
	_, err := StartDev(t.Context(), DevOptions{ConfigFile: file, DataDir: t.TempDir(), IdPListener: loopback(t),
		SPAListener: loopback(t), HashParams: fastHash})
	if err == nil || !strings.Contains(err.Error(), file+":") || !strings.Contains(err.Error(), "--no-demo") {
		t.Errorf("a tenant with the demo's domain: %v; want a problem in %s that mentions --no-demo", err, file)
	}
	file = writeFile(t, "tenants:\n  - id: 0b1c2d3e-4f50-4617-8293-a4b5c6d7e8f9\n    domain: [fabrikam.test]\n")
	_, err = StartDev(t.Context(), DevOptions{ConfigFile: file, DataDir: t.TempDir(), IdPListener: loopback(t),
		SPAListener: loopback(t), HashParams: fastHash})
	if err == nil || !strings.Contains(err.Error(), `did you mean "domains"?`) || strings.Contains(err.Error(), "--no-demo") {
		t.Errorf("a mistyped key: %v; want a did-you-mean and no word of the demo", err)
	}
}

// TestDevErrorPageListsRedirectURIs: in dev mode, AADSTS50011's page lists the app's
// registered redirect URIs and the key to edit; `sigil serve` shows nothing of the kind.
func TestDevErrorPageListsRedirectURIs(t *testing.T) {
	for _, dev := range []bool{true, false} {
		d, err := StartDev(t.Context(), DevOptions{DataDir: t.TempDir(), IdPListener: loopback(t), SPAListener: loopback(t),
			HashParams: fastHash})
		if err != nil {
			t.Fatal(err)
		}
		defer d.Close()
		h := d.App.Handler()
		if !dev {
			d.Close()
			a, err := app.New(t.Context(), d.Config, app.Options{HashParams: fastHash})
			if err != nil {
				t.Fatal(err)
			}
			defer a.Close()
			h = a.Handler()
		}
		q := url.Values{"client_id": {ClientID}, "response_type": {"code"}, "scope": {"openid"},
			"redirect_uri": {"https://localhost:5173/"}, "code_challenge": {strings.Repeat("a", 43)}, "code_challenge_method": {"S256"}}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest("GET", d.Config.PublicURL+"/"+Domain+"/oauth2/v2.0/authorize?"+q.Encode(), nil))
		body := rec.Body.String()
		if rec.Code != 400 || !strings.Contains(body, `data-error-code="AADSTS50011"`) {
			t.Fatalf("dev %v: status %d, want AADSTS50011's page:\n%s", dev, rec.Code, body)
		}
		notes := strings.Contains(body, "data-dev-notes")
		if notes != dev {
			t.Errorf("dev %v: notes shown %v:\n%s", dev, notes, body)
		}
		if dev && (!strings.Contains(body, d.SPAOrigin+"/redirect.html") || !strings.Contains(body, "spa.redirectUris")) {
			t.Errorf("dev notes lack the registered URIs or the key to edit:\n%s", body)
		}
	}
}

// TestCIRecipeConfig: examples/ci/sigil-ci.yaml starts as the CI recipe starts it.
func TestCIRecipeConfig(t *testing.T) {
	d, err := StartDev(t.Context(), DevOptions{ConfigFile: "../../examples/ci/sigil-ci.yaml", NoDemo: true,
		DataDir: t.TempDir(), IdPListener: loopback(t), HashParams: fastHash})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	if b := d.Banner(0); !strings.Contains(b, "6a7b8c9d-0e1f-4a2b-8c3d-4e5f6a7b8c9d") || !strings.Contains(b, "http://localhost:5173/") {
		t.Errorf("banner:\n%s", b)
	}
}
