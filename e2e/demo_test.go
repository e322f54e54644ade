package e2e

import (
	"context"
	"fmt"
	"net"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sigil-idp/sigil/e2e/browser"
	"github.com/sigil-idp/sigil/e2e/harness"
	"github.com/sigil-idp/sigil/internal/demo"
	"github.com/sigil-idp/sigil/internal/password"
)

// TestDevDemoSPA runs what `sigil dev` runs and clicks through the demo SPA's buttons with
// the built-in demo user: sign in by popup (with consent), a silent token, the API call, and
// sign-out by redirect.
func TestDevDemoSPA(t *testing.T) {
	chromium := browser.Require(t)
	modules := harness.NodeModules(t)
	dev, publicURL := serveDev(t, "login.example.test", modules)
	banner := dev.Banner(time.Second)
	for _, want := range []string{publicURL + "/" + demo.Domain, `["` + strings.TrimPrefix(publicURL, "https://") + `"]`,
		publicURL + "/" + demo.TenantID + "/v2.0", demo.ClientID, demo.Username, demo.Password, dev.SPAOrigin, "node_modules",
		filepath.Join("tls", "ca.pem"), demo.Examples[0].ClientID, demo.Examples[len(demo.Examples)-1].ClientID} {
		if !strings.Contains(banner, want) {
			t.Errorf("banner lacks %q:\n%s", want, banner)
		}
	}
	b := browser.Start(t, browser.Options{ExecPath: chromium, MapHosts: []string{"*.example.test"}})
	p, err := b.NewPage()
	if err != nil {
		t.Fatal(err)
	}
	if err := p.Navigate(dev.SPAOrigin + "/"); err != nil {
		t.Fatal(err)
	}
	env := &harness.Env{T: t, IdP: publicURL, SPA: dev.SPAOrigin, Browser: b}
	wait := p.ExpectPopup()
	if err := p.Click("#login-popup"); err != nil {
		t.Fatal(err)
	}
	popup, err := wait(20 * time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if err := env.SignInAs(popup, demo.Username, demo.Password); err != nil {
		t.Fatal(err)
	}
	waitText(t, p, "#account", demo.Username)
	if err := p.Click("#token-silent"); err != nil {
		t.Fatal(err)
	}
	waitText(t, p, "#log", "token acquired silently (from cache)")
	// The timeline names the path that served each call, and the tokens are decoded.
	waitText(t, p, "#timeline", "cache")
	waitText(t, p, "#at-claims", "oid")
	waitText(t, p, "#id-claims", "login_hint")
	click := func(css string) {
		t.Helper()
		if err := p.Click(css); err != nil {
			t.Fatal(err)
		}
	}
	firstPath := func(want string) {
		t.Helper()
		deadline := time.Now().Add(20 * time.Second)
		for time.Now().Before(deadline) {
			if got, _ := browser.Eval[string](p, `document.querySelector("#timeline tbody tr").dataset.path`); got == want {
				return
			}
			time.Sleep(100 * time.Millisecond)
		}
		all, _ := p.Text("#timeline")
		t.Fatalf("the newest timeline row never said %q:\n%s", want, all)
	}
	click("#skip-access")
	firstPath("refresh token")
	click("#skip-refresh")
	firstPath("hidden iframe")
	// With Sigil's session ended, the refresh token is revoked and the hidden iframe gets
	// login_required: the demo falls back to a popup.
	click("#end-session")
	waitText(t, p, "#status", "session has ended")
	wait = p.ExpectPopup()
	click("#skip-access")
	if popup, err = wait(20 * time.Second); err != nil {
		t.Fatal(err)
	}
	if err := env.SignInAs(popup, demo.Username, demo.Password); err != nil {
		t.Fatal(err)
	}
	firstPath("popup")
	waitText(t, p, "#log", "falling back to a popup")
	if err := p.Click("#call-me"); err != nil {
		t.Fatal(err)
	}
	waitText(t, p, "#result", `"userPrincipalName": "`+demo.Username+`"`)
	waitText(t, p, "#log", "GET /v1.0/me → 200")
	if err := p.Click("#logout"); err != nil {
		t.Fatal(err)
	}
	if _, err := p.WaitURL(func(u string) bool { return strings.HasPrefix(u, dev.SPAOrigin+"/?state=") }, 20*time.Second); err != nil {
		t.Fatalf("sign-out did not come back to the demo: %v", err)
	}
	waitText(t, p, "#account", "Not signed in.")
	waitText(t, p, "#status", "You are signed out")
}

// waitText waits until the element's text contains want.
func waitText(t *testing.T, p *browser.Page, css, want string) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	var got string
	for time.Now().Before(deadline) {
		got, _ = p.Text(css)
		if strings.Contains(got, want) {
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	logText, _ := p.Text("#log")
	t.Fatalf("%s never showed %q; it shows:\n%s\nThe demo log:\n%s", css, want, got, logText)
}

// TestDemoSaysWhenMSALIsMissing: without node_modules the demo loads MSAL.js from the CDN;
// when the browser cannot reach it (the test browser resolves no host but its own), the page
// says why nothing works and what to run, instead of doing nothing.
func TestDemoSaysWhenMSALIsMissing(t *testing.T) {
	chromium := browser.Require(t)
	dev, _ := serveDev(t, "login.example.test", "") // no node_modules: MSAL from the CDN
	b := browser.Start(t, browser.Options{ExecPath: chromium, MapHosts: []string{"*.example.test"}})
	p, err := b.NewPage()
	if err != nil {
		t.Fatal(err)
	}
	if err := p.Navigate(dev.SPAOrigin + "/"); err != nil {
		t.Fatal(err)
	}
	waitText(t, p, "#msal-missing", "npm ci")
	if disabled, _ := browser.Eval[bool](p, `document.querySelector("#login-popup").disabled`); !disabled {
		t.Error("the buttons stay enabled without MSAL.js")
	}
}

// serveDev runs what `sigil dev` runs, on ports the system chooses, with Sigil's public URL on
// host (the demo SPA on the same host), MSAL from modules ("" for the CDN), and cheap password
// hashes; it stops when the test ends. It returns the dev server and Sigil's public URL.
func serveDev(t *testing.T, host, modules string) (*demo.Dev, string) {
	t.Helper()
	idpLn, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	spaLn, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	publicURL := fmt.Sprintf("https://%s:%d", host, idpLn.Addr().(*net.TCPAddr).Port)
	dev, err := demo.StartDev(t.Context(), demo.DevOptions{PublicURL: publicURL, DataDir: t.TempDir(), NodeModules: modules,
		IdPListener: idpLn, SPAListener: spaLn, HashParams: password.Params{Memory: 64, Time: 1, Threads: 1}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { dev.Close() })
	ctx, stop := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Go(func() { dev.Serve(ctx) })
	t.Cleanup(func() { stop(); wg.Wait() })
	return dev, publicURL
}
