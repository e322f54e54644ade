package e2e

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/sigil-idp/sigil/e2e/browser"
	"github.com/sigil-idp/sigil/e2e/harness"
	"github.com/sigil-idp/sigil/internal/demo"
	"github.com/sigil-idp/sigil/internal/password"
)

// TestExamplePlaywright runs examples/playwright — a Playwright suite against the demo SPA that
// scripts Sigil through the test-control API — against a fresh `sigil dev`, with the machine's
// Chromium.
func TestExamplePlaywright(t *testing.T) {
	chromium := browser.Require(t)
	modules := harness.NodeModules(t)
	cli := filepath.Join(modules, ".bin", "playwright")
	if _, err := os.Stat(cli); err != nil {
		msg := "examples/playwright: @playwright/test is not installed; run `npm ci` in the repository root"
		if os.Getenv("CI") == "true" {
			t.Fatal(msg)
		}
		browser.Skip(t, msg)
	}
	idpLn, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	spaLn, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	publicURL := fmt.Sprintf("https://localhost:%d", idpLn.Addr().(*net.TCPAddr).Port)
	dev, err := demo.StartDev(t.Context(), demo.DevOptions{PublicURL: publicURL, DataDir: t.TempDir(), NodeModules: modules,
		IdPListener: idpLn, SPAListener: spaLn, HashParams: password.Params{Memory: 64, Time: 1, Threads: 1}})
	if err != nil {
		t.Fatal(err)
	}
	defer dev.Close()
	ctx, stop := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Go(func() { dev.Serve(ctx) })
	defer func() { stop(); wg.Wait() }()

	run, cancel := context.WithTimeout(t.Context(), 4*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(run, cli, "test")
	cmd.Dir = filepath.Join(filepath.Dir(modules), "examples", "playwright")
	cmd.Env = append(os.Environ(), "SIGIL_URL="+publicURL, "SIGIL_DEMO_URL="+dev.SPAOrigin, "CHROMIUM="+chromium, "CI=true",
		"PLAYWRIGHT_BROWSERS_PATH="+t.TempDir())
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		t.Fatalf("playwright test: %v\n%s", err, out.String())
	}
	t.Logf("playwright test:\n%s", out.String())
}
