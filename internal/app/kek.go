package app

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"

	"github.com/sigil-idp/sigil/internal/store"
	"github.com/sigil-idp/sigil/internal/tokens"
)

// GeneratedKEKFile is the key-encryption key file Sigil makes in the data folder when none is
// configured and the storage is SQLite.
const GeneratedKEKFile = "key-encryption-key"

// keyRing finds the key-encryption keys that seal the signing keys: keyEncryptionKeyFile, or
// SIGIL_KEY_ENCRYPTION_KEY (o.KeyEncryptionKey); with neither, SQLite storage uses (or
// makes) dataDir/key-encryption-key, and PostgreSQL refuses to start: its nodes share the
// keys, so they must share a KEK that no node can make up on its own.
func (a *App) keyRing(ctx context.Context, o Options) (*tokens.KeyRing, error) {
	c := a.cfg
	switch {
	case c.KeyEncryptionKeyFile != "":
		return a.readKeyRing(c.KeyEncryptionKeyFile, "keyEncryptionKeyFile "+c.KeyEncryptionKeyFile)
	case o.KeyEncryptionKey != "":
		r, err := tokens.ParseKeyRing(o.KeyEncryptionKey)
		if err != nil {
			return nil, fmt.Errorf("app: SIGIL_KEY_ENCRYPTION_KEY: %w", err)
		}
		return r, nil
	case isPostgres(c.Storage):
		return nil, errors.New("app: no key-encryption key: with PostgreSQL every node seals and opens the signing keys " +
			"with the same key, so it must be given: set keyEncryptionKeyFile or SIGIL_KEY_ENCRYPTION_KEY " +
			"(make one with: openssl rand -base64 32)")
	}
	path := filepath.Join(c.DataDir, GeneratedKEKFile)
	if _, err := os.Stat(path); err == nil {
		return a.readKeyRing(path, path)
	} else if !errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("app: key-encryption key: %w", err)
	}
	keys, err := a.store.SigningKeys(ctx)
	if err != nil {
		return nil, err
	}
	if slices.ContainsFunc(keys, func(k store.SigningKey) bool { return tokens.IsSealed(k.PrivateKey) }) {
		return nil, fmt.Errorf("app: the signing keys are sealed, but %s is missing and no other key-encryption key is "+
			"configured: restore that file, or set keyEncryptionKeyFile or SIGIL_KEY_ENCRYPTION_KEY to the key that sealed them", path)
	}
	text := "# Sigil's key-encryption key: it seals the signing keys in the database. Keep it apart from the database's backups.\n" +
		tokens.NewKeyEncryptionKey() + "\n"
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return nil, fmt.Errorf("app: key-encryption key: %w", err)
	}
	if _, err := f.WriteString(text); err != nil {
		f.Close()
		return nil, fmt.Errorf("app: key-encryption key: %w", err)
	}
	if err := f.Close(); err != nil {
		return nil, fmt.Errorf("app: key-encryption key: %w", err)
	}
	r, err := tokens.ParseKeyRing(text)
	if err != nil {
		return nil, err
	}
	if o.Dev || c.Testing.ControlAPI { // sigil dev, testidp and test suites: a throw-away folder
		a.log.Info("generated a key-encryption key for the signing keys", "file", path, "kek", r.ID())
	} else {
		a.log.Warn("no key-encryption key was configured: generated one next to the database; it keeps the signing keys "+
			"unreadable in a copy of the database alone, not in a copy of the whole data folder. For production move it "+
			"elsewhere and set keyEncryptionKeyFile (or SIGIL_KEY_ENCRYPTION_KEY)", "file", path, "kek", r.ID())
	}
	return r, nil
}

// readKeyRing reads a key-encryption key file, named by what in errors; a file others may
// read is used, with a warning.
func (a *App) readKeyRing(path, what string) (*tokens.KeyRing, error) {
	info, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("app: %s: %w", what, err)
	}
	if info.Mode().Perm()&0o077 != 0 {
		a.log.Warn("the key-encryption key file is readable by others than its owner: chmod 600 it", "file", path,
			"mode", fmt.Sprintf("%04o", info.Mode().Perm()))
	}
	text, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("app: %s: %w", what, err)
	}
	r, err := tokens.ParseKeyRing(string(text))
	if err != nil {
		return nil, fmt.Errorf("app: %s: %w", what, err)
	}
	return r, nil
}
