package main

import (
	"strings"
	"testing"
	"time"

	"github.com/alecthomas/kong"

	"github.com/sigil-idp/sigil/internal/store/sqlstore"
)

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

// TestFlagsHaveEnvironmentVariables: every setting flag of serve and dev reads its SIGIL_*
// variable when the flag is not given.
func TestFlagsHaveEnvironmentVariables(t *testing.T) {
	env := map[string]string{"SIGIL_LISTEN": "127.0.0.1:9443", "SIGIL_PUBLIC_URL": "https://login.example.test:9443",
		"SIGIL_DATA_DIR": "/tmp/d", "SIGIL_SPA_LISTEN": "127.0.0.1:3101", "SIGIL_NODE_MODULES": "/tmp/nm",
		"SIGIL_NO_DEMO": "true", "SIGIL_STORAGE": "sqlite:/tmp/x.db", "SIGIL_LOG_LEVEL": "debug", "SIGIL_LOG_FORMAT": "json",
		"SIGIL_SHUTDOWN_DELAY": "5s"}
	for k, v := range env {
		t.Setenv(k, v)
	}
	var c cli
	k, err := kong.New(&c, kong.Exit(func(int) {}))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := k.Parse([]string{"dev"}); err != nil {
		t.Fatal(err)
	}
	d := c.Dev
	if d.Listen != env["SIGIL_LISTEN"] || d.PublicURL != env["SIGIL_PUBLIC_URL"] || d.DataDir != env["SIGIL_DATA_DIR"] ||
		d.SPAListen != env["SIGIL_SPA_LISTEN"] || d.NodeModules != env["SIGIL_NODE_MODULES"] || !d.NoDemo ||
		c.LogLevel != "debug" || c.LogFormat != "json" {
		t.Errorf("dev from the environment: %+v, log %s/%s", d, c.LogLevel, c.LogFormat)
	}
	t.Setenv("SIGIL_CONFIG", "sigil.yaml")
	c = cli{}
	if k, err = kong.New(&c, kong.Exit(func(int) {})); err != nil {
		t.Fatal(err)
	}
	if _, err := k.Parse([]string{"serve"}); err != nil {
		t.Fatal(err)
	}
	if s := c.Serve; s.Config != "sigil.yaml" || s.Listen != env["SIGIL_LISTEN"] || s.Storage != env["SIGIL_STORAGE"] ||
		s.PublicURL != env["SIGIL_PUBLIC_URL"] || s.DataDir != env["SIGIL_DATA_DIR"] || s.ShutdownDelay != 5*time.Second {
		t.Errorf("serve from the environment: %+v", s)
	}
}

// TestMigrate: sigil migrate applies the migrations and exits 0, and again 0 with nothing to
// do; a store opened afterwards finds nothing to apply. (The refusal of a newer schema is
// sqlstore's TestSchemaTooNew.)
func TestMigrate(t *testing.T) {
	db := "sqlite:" + t.TempDir() + "/sigil.db"
	for range 2 {
		if got := run([]string{"migrate", "--log-level", "error", "--storage", db}); got != 0 {
			t.Fatalf("sigil migrate exited %d", got)
		}
	}
	s, err := sqlstore.OpenSQLite(t.Context(), strings.TrimPrefix(db, "sqlite:"))
	if err != nil {
		t.Fatal(err)
	}
	if applied, version := s.Migrations(); len(applied) != 0 || version == 0 {
		t.Fatalf("after sigil migrate the store applied %v (version %d), want nothing left to apply", applied, version)
	}
	s.Close()
}
