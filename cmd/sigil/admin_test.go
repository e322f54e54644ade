package main

import (
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sigil-idp/sigil/internal/app"
	"github.com/sigil-idp/sigil/internal/config"
	"github.com/sigil-idp/sigil/internal/password"
)

const adminConfig = `publicUrl: https://login.example.test
tenants:
  - id: 6a0b2c9e-7e4d-4c1e-9a53-0d6f2b8e4f10
    domains: [contoso.test]
    users:
      - {username: alice@contoso.test, password: "Passw0rd!alice"}
    apps:
      - displayName: SPA
        clientId: 3f1c2d4e-5a6b-4c7d-8e9f-0a1b2c3d4e5f
        spa: {redirectUris: ["https://app.example.test/"]}
`

// withStdin runs fn with standard input reading text, and returns what it wrote to standard
// output.
func withStdin(t *testing.T, text string, fn func()) string {
	t.Helper()
	inR, inW, _ := os.Pipe()
	outR, outW, _ := os.Pipe()
	io.WriteString(inW, text)
	inW.Close()
	oldIn, oldOut := os.Stdin, os.Stdout
	os.Stdin, os.Stdout = inR, outW
	defer func() { os.Stdin, os.Stdout = oldIn, oldOut }()
	done := make(chan string)
	go func() { b, _ := io.ReadAll(outR); done <- string(b) }()
	fn()
	outW.Close()
	return <-done
}

// TestUsersCommands runs the user commands against the store of a running server (both open
// the same SQLite file) and checks each change in the server's own store.
func TestUsersCommands(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "sigil.yaml")
	if err := os.WriteFile(file, []byte(adminConfig+"dataDir: "+dir+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, err := config.Load(file, config.Overrides{})
	if err != nil {
		t.Fatal(err)
	}
	server, err := app.New(t.Context(), cfg, app.Options{HashParams: password.Params{Memory: 64, Time: 1, Threads: 1}})
	if err != nil {
		t.Fatal(err)
	}
	defer server.Close()
	st := server.Store()
	sigil := func(stdin string, args ...string) (int, string) {
		t.Helper()
		var code int
		out := withStdin(t, stdin, func() { code = run(append(args, "--config", file)) })
		return code, out
	}

	if code, out := sigil("Passw0rd!bob\n", "users", "add", "--tenant", "contoso.test", "bob@contoso.test",
		"--display-name", "Bob"); code != 0 || !strings.Contains(out, "created bob@contoso.test") {
		t.Fatalf("users add: %d %q", code, out)
	}
	bob, err := st.UserByUsername(t.Context(), "bob@contoso.test")
	if ok, _ := password.Verify(bob.PasswordHash, "Passw0rd!bob"); err != nil || !ok || bob.DisplayName != "Bob" || !bob.Enabled {
		t.Fatalf("bob in the server's store: %+v, %v", bob, err)
	}
	if code, _ := sigil("x\n", "users", "add", "--tenant", "contoso.test", "bob@contoso.test"); code != 1 {
		t.Errorf("adding bob twice exited %d, want 1", code)
	}
	if code, _ := sigil("x\n", "users", "add", "--tenant", "contoso.test", "eve@elsewhere.test"); code != 1 {
		t.Errorf("a user outside the tenant's domains exited %d, want 1", code)
	}
	if code, out := sigil("", "users", "list", "--tenant", "contoso.test"); code != 0 ||
		!strings.Contains(out, "alice@contoso.test") || !strings.Contains(out, "bob@contoso.test") {
		t.Errorf("users list: %d %q", code, out)
	}
	if code, _ := sigil("", "users", "disable", "bob@contoso.test"); code != 0 {
		t.Fatalf("users disable exited %d", code)
	}
	if bob, _ = st.UserByUsername(t.Context(), "bob@contoso.test"); bob.Enabled {
		t.Errorf("bob is still enabled")
	}
	if code, _ := sigil("", "users", "enable", "bob@contoso.test"); code != 0 {
		t.Fatalf("users enable exited %d", code)
	}
	if code, _ := sigil("N3w-passw0rd\n", "users", "set-password", "bob@contoso.test"); code != 0 {
		t.Fatalf("users set-password exited %d", code)
	}
	bob, _ = st.UserByUsername(t.Context(), "bob@contoso.test")
	if ok, _ := password.Verify(bob.PasswordHash, "N3w-passw0rd"); !ok || !bob.Enabled {
		t.Errorf("after enable and set-password: %+v", bob)
	}
	if code, out := sigil("", "apps", "list", "--tenant", "contoso.test"); code != 0 ||
		!strings.Contains(out, "3f1c2d4e-5a6b-4c7d-8e9f-0a1b2c3d4e5f") || !strings.Contains(out, "spa:https://app.example.test/") {
		t.Errorf("apps list: %d %q", code, out)
	}
	if code, _ := sigil("", "users", "delete", "bob@contoso.test"); code != 0 {
		t.Fatalf("users delete exited %d", code)
	}
	if _, err := st.UserByUsername(t.Context(), "bob@contoso.test"); err == nil {
		t.Errorf("bob is still there")
	}
	if code, _ := sigil("", "users", "delete", "bob@contoso.test"); code != 1 {
		t.Errorf("deleting bob twice exited %d, want 1", code)
	}
}

// TestHashPassword prints a hash the bootstrap file's passwordHash accepts.
func TestHashPassword(t *testing.T) {
	var code int
	out := withStdin(t, "s3cret-passw0rd\n", func() { code = run([]string{"hash-password"}) })
	hash := strings.TrimSpace(out)
	if ok, err := password.Verify(hash, "s3cret-passw0rd"); code != 0 || !ok || err != nil || password.Check(hash) != nil {
		t.Fatalf("hash-password: %d %q (%v)", code, out, err)
	}
}
