package main

import "testing"

// TestExitCodes: usage errors exit 2, --help and --version 0, a server that cannot start 1.
func TestExitCodes(t *testing.T) {
	for _, tt := range []struct {
		args []string
		want int
	}{
		{[]string{"--version"}, 0},
		{[]string{"version"}, 0},
		{[]string{"dev", "--help"}, 0},
		{[]string{"frobnicate"}, 2},
		{[]string{"dev", "--no-such-flag"}, 2},
		{[]string{"serve"}, 2}, // --config is required
		{[]string{"--log-level", "loud", "version"}, 2},
		{[]string{"serve", "--config", t.TempDir() + "/missing.yaml"}, 1},
	} {
		if got := run(tt.args); got != tt.want {
			t.Errorf("sigil %q exited %d, want %d", tt.args, got, tt.want)
		}
	}
}
