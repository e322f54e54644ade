package e2e

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/sigil-idp/sigil/e2e/browser"
	"github.com/sigil-idp/sigil/e2e/harness"
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
	dev, publicURL := serveDev(t, "localhost", modules)

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
