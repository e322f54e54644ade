package app

import (
	"context"
	"crypto/x509"
	"database/sql"
	"encoding/hex"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sigil-idp/sigil/internal/config"
	"github.com/sigil-idp/sigil/internal/password"
	"github.com/sigil-idp/sigil/internal/store/sqlstore"
	"github.com/sigil-idp/sigil/internal/tokens"
)

var fastHash = password.Params{Memory: 64, Time: 1, Threads: 1}

// secretsConfig is a configuration on data folder dir with tls.auto.
func secretsConfig(t *testing.T, dir string) config.Config {
	t.Helper()
	c := config.Default()
	c.PublicURL = "https://localhost:8443"
	c.DataDir = dir
	c.TLS.Auto = true
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	return c
}

// start builds an App, writes through its store, and closes it.
func start(t *testing.T, c config.Config, o Options) error {
	t.Helper()
	o.HashParams = fastHash
	a, err := New(t.Context(), c, o)
	if err != nil {
		return err
	}
	defer a.Close()
	if _, err := a.Store().Secret(t.Context(), "probe", []byte("x")); err != nil {
		t.Fatal(err)
	}
	return nil
}

// storedKeys reads the signing_keys rows straight from the SQLite file, as a thief of the
// database would.
func storedKeys(t *testing.T, db string) map[string][]byte {
	t.Helper()
	return storedRows(t, db, `SELECT id, private_key FROM signing_keys`, 1)
}

// storedSecrets reads the instance secrets that seal pending interactions and derive
// pairwise subjects straight from the SQLite file.
func storedSecrets(t *testing.T, db string) map[string][]byte {
	t.Helper()
	return storedRows(t, db, `SELECT name, value FROM instance_secrets WHERE name IN ('interaction-seal', 'pairwise-subject')`, 2)
}

// storedRows runs query (name, value rows) on the SQLite file, read-only, and wants at
// least min rows.
func storedRows(t *testing.T, db, query string, min int) map[string][]byte {
	t.Helper()
	conn, err := sql.Open("sqlite", "file:"+db+"?mode=ro")
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	rows, err := conn.Query(query)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	out := map[string][]byte{}
	for rows.Next() {
		var name string
		var value []byte
		if err := rows.Scan(&name, &value); err != nil {
			t.Fatal(err)
		}
		out[name] = value
	}
	if len(out) < min {
		t.Fatalf("%d rows of %q, want at least %d", len(out), query, min)
	}
	return out
}

// wantSealed checks that no stored private key parses as a key, and that each is sealed by
// the KEK kekID.
func wantSealed(t *testing.T, keys map[string][]byte, kekID string) {
	t.Helper()
	for id, blob := range keys {
		if _, err := x509.ParsePKCS8PrivateKey(blob); err == nil {
			t.Errorf("key %s: the stored private key parses without the key-encryption key", id)
		}
		if !tokens.IsSealed(blob) {
			t.Errorf("key %s is not sealed", id)
		}
		if got := hex.EncodeToString(blob[4:12]); got != kekID {
			t.Errorf("key %s is not sealed by KEK %s", id, kekID)
		}
	}
}

func mode(t *testing.T, path string) os.FileMode {
	t.Helper()
	info, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	return info.Mode().Perm()
}

// TestSecretsAtRest starts Sigil on a fresh data folder (as sigil serve does, no KEK given)
// and checks the file modes, that the stored signing keys do not open without the generated
// key-encryption key, and the start-up errors when that key is missing or wrong.
func TestSecretsAtRest(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	c := secretsConfig(t, dir)
	a, err := New(t.Context(), c, Options{HashParams: fastHash})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := a.Store().Secret(t.Context(), "probe", []byte("x")); err != nil {
		t.Fatal(err)
	}
	db := filepath.Join(dir, "sigil.db")
	want := map[string]os.FileMode{dir: 0o700, db: 0o600, db + "-wal": 0o600, db + "-shm": 0o600,
		filepath.Join(dir, GeneratedKEKFile): 0o600, filepath.Join(dir, "tls"): 0o700}
	keyFiles, _ := filepath.Glob(filepath.Join(dir, "tls", "*key*"))
	if len(keyFiles) == 0 {
		t.Fatal("tls.auto left no key file")
	}
	for _, f := range keyFiles {
		want[f] = 0o600
	}
	for path, m := range want { // while the database is open: -wal and -shm exist
		if got := mode(t, path); got != m {
			t.Errorf("%s: mode %04o, want %04o", path, got, m)
		}
	}
	a.Close()
	kek, err := os.ReadFile(filepath.Join(dir, GeneratedKEKFile))
	if err != nil {
		t.Fatal(err)
	}
	ring, err := tokens.ParseKeyRing(string(kek))
	if err != nil {
		t.Fatal(err)
	}
	wantSealed(t, storedKeys(t, db), ring.ID())
	wantSealed(t, storedSecrets(t, db), ring.ID())

	t.Run("restart opens the keys", func(t *testing.T) {
		if err := start(t, c, Options{}); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("wrong key", func(t *testing.T) {
		err := start(t, c, Options{KeyEncryptionKey: tokens.NewKeyEncryptionKey()})
		if err == nil || !strings.Contains(err.Error(), "not among the configured ones") {
			t.Fatalf("got %v, want a wrong-key error", err)
		}
	})
	t.Run("key file missing", func(t *testing.T) {
		moved := filepath.Join(t.TempDir(), "kek")
		if err := os.Rename(filepath.Join(dir, GeneratedKEKFile), moved); err != nil {
			t.Fatal(err)
		}
		err := start(t, c, Options{})
		if err == nil || !strings.Contains(err.Error(), "is missing") {
			t.Fatalf("got %v, want a missing-key error", err)
		}
		if _, err := os.Stat(filepath.Join(dir, GeneratedKEKFile)); err == nil {
			t.Fatal("a new KEK was generated over sealed keys")
		}
		// keyEncryptionKeyFile pointing at the moved file opens them again.
		c2 := c
		c2.KeyEncryptionKeyFile = moved
		if err := start(t, c2, Options{}); err != nil {
			t.Fatal(err)
		}
	})
}

// TestKeyEncryptionKeyRotation: keys and instance secrets stored unsealed (before sealing
// existed) in a database made 0644 are sealed, keeping their values, and the file narrowed on
// the first start; with a new KEK put first and the old
// one after it they are sealed anew with the new one; with the new one alone they still open.
func TestKeyEncryptionKeyRotation(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "sigil.db")
	if err := os.WriteFile(db, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	st, err := sqlstore.OpenSQLite(context.Background(), db)
	if err != nil {
		t.Fatal(err)
	}
	os.Chmod(db, 0o644) // as an older Sigil left it
	if _, err := tokens.LoadKeys(t.Context(), st, nil, time.Now); err != nil {
		t.Fatal(err)
	}
	legacy := []byte("0123456789abcdef0123456789abcdef") // pairwise subjects derive from it: it must survive
	if _, err := st.Secret(t.Context(), "pairwise-subject", legacy); err != nil {
		t.Fatal(err)
	}
	st.Close()
	for id, blob := range storedKeys(t, db) {
		if _, err := x509.ParsePKCS8PrivateKey(blob); err != nil {
			t.Fatalf("key %s: the old layout should be unsealed: %v", id, err)
		}
	}
	oldKEK, newKEK := tokens.NewKeyEncryptionKey(), tokens.NewKeyEncryptionKey()
	file := filepath.Join(t.TempDir(), "kek")
	c := secretsConfig(t, dir)
	c.KeyEncryptionKeyFile = file
	run := func(text string) *tokens.KeyRing {
		t.Helper()
		if err := os.WriteFile(file, []byte(text), 0o600); err != nil {
			t.Fatal(err)
		}
		if err := start(t, c, Options{}); err != nil {
			t.Fatal(err)
		}
		r, err := tokens.ParseKeyRing(text)
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	r := run(oldKEK + "\n")
	if got := mode(t, db); got != 0o600 {
		t.Errorf("database mode %04o after start, want 0600", got)
	}
	wantSealed(t, storedKeys(t, db), r.ID())
	wantSealed(t, storedSecrets(t, db), r.ID())
	r = run("# rotated\n" + newKEK + "\n" + oldKEK + "\n")
	wantSealed(t, storedKeys(t, db), r.ID())
	wantSealed(t, storedSecrets(t, db), r.ID())
	if v, _, err := r.OpenSecret("pairwise-subject", storedSecrets(t, db)["pairwise-subject"]); err != nil || string(v) != string(legacy) {
		t.Fatalf("the pairwise secret changed in sealing: %q, %v", v, err)
	}
	run(newKEK + "\n")
	if err := os.WriteFile(file, []byte(oldKEK), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := start(t, c, Options{}); err == nil {
		t.Fatal("the retired KEK alone still opened the keys")
	}
}

// TestPostgresNeedsKEK: PostgreSQL without a key-encryption key does not start (before
// connecting), and says what to set.
func TestPostgresNeedsKEK(t *testing.T) {
	a := &App{cfg: config.Config{Storage: "postgres://nobody@127.0.0.1:1/x", DataDir: t.TempDir()}}
	_, err := a.keyRing(t.Context(), Options{})
	if err == nil || !strings.Contains(err.Error(), "SIGIL_KEY_ENCRYPTION_KEY") {
		t.Fatalf("got %v, want the missing-KEK error", err)
	}
}
