package testidp_test

import (
	"context"
	"os/exec"
	"path/filepath"
	"testing"
	"time"
)

// TestExampleModule runs the tests of examples/testidp-go, a module of its own that uses
// testidp.Start as an app's repository would (with a replace directive pointing here).
func TestExampleModule(t *testing.T) {
	if testing.Short() {
		t.Skip("builds another module; skipped with -short")
	}
	goBin, err := exec.LookPath("go")
	if err != nil {
		t.Skipf("no go command on the PATH: %v", err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, goBin, "test", "-count=1", "./...")
	cmd.Dir = filepath.Join("..", "examples", "testidp-go")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("go test in %s: %v\n%s", cmd.Dir, err, out)
	}
	t.Logf("%s", out)
}
