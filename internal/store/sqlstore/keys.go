package sqlstore

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/sigil-idp/sigil/internal/store"
)

// SigningKeys returns every signing key, oldest first.
func (s *Store) SigningKeys(ctx context.Context) ([]store.SigningKey, error) {
	rows, err := s.auto().query(ctx, `SELECT id, algorithm, private_key, certificate, state, created_at, state_since
		FROM signing_keys ORDER BY created_at, id`)
	if err != nil {
		return nil, fmt.Errorf("sqlstore: signing keys: %w", err)
	}
	defer rows.Close()
	var out []store.SigningKey
	for rows.Next() {
		var k store.SigningKey
		var state string
		var created, since int64
		if err := rows.Scan(&k.ID, &k.Algorithm, &k.PrivateKey, &k.Certificate, &state, &created, &since); err != nil {
			return nil, fmt.Errorf("sqlstore: signing keys: %w", err)
		}
		k.State, k.CreatedAt, k.StateSince = store.KeyState(state), fromMS(created), fromMS(since)
		out = append(out, k)
	}
	return out, rows.Err()
}

// AddSigningKey stores a key; a second current key (or a duplicate id) is store.ErrConflict.
func (s *Store) AddSigningKey(ctx context.Context, k store.SigningKey) error {
	since := k.StateSince
	if since.IsZero() {
		since = k.CreatedAt
	}
	res, err := s.auto().exec(ctx, `INSERT INTO signing_keys (id, algorithm, private_key, certificate, state, created_at,
		state_since) VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT DO NOTHING`,
		k.ID, k.Algorithm, k.PrivateKey, k.Certificate, string(k.State), ms(k.CreatedAt), ms(since))
	if err != nil {
		return fmt.Errorf("sqlstore: add signing key: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("signing key %s: %w", k.ID, store.ErrConflict)
	}
	return nil
}

// PromoteSigningKey retires currentID and makes nextID current, in one transaction whose
// first statement — the retirement, conditional on currentID being current — is the gate.
func (s *Store) PromoteSigningKey(ctx context.Context, currentID, nextID string, now time.Time) error {
	return s.tx(ctx, func(tx *sql.Tx) error {
		c := s.in(tx)
		for _, step := range []struct{ id, from, to string }{{currentID, "current", "retired"}, {nextID, "next", "current"}} {
			res, err := c.exec(ctx, `UPDATE signing_keys SET state = $3, state_since = $4 WHERE id = $1 AND state = $2`,
				step.id, step.from, step.to, ms(now))
			if err != nil {
				return fmt.Errorf("sqlstore: promote signing key: %w", err)
			}
			if n, _ := res.RowsAffected(); n == 0 {
				return fmt.Errorf("signing key %s is not %s: %w", step.id, step.from, store.ErrConflict)
			}
		}
		return nil
	})
}

// DeleteRetiredKeys deletes keys retired before the cutoff.
func (s *Store) DeleteRetiredKeys(ctx context.Context, retiredBefore time.Time) error {
	if _, err := s.auto().exec(ctx, `DELETE FROM signing_keys WHERE state = 'retired' AND state_since < $1`,
		ms(retiredBefore)); err != nil {
		return fmt.Errorf("sqlstore: delete retired keys: %w", err)
	}
	return nil
}

// ResealSigningKey replaces the private key of key id while it is still old.
func (s *Store) ResealSigningKey(ctx context.Context, id string, old, sealed []byte) error {
	res, err := s.auto().exec(ctx, `UPDATE signing_keys SET private_key = $1 WHERE id = $2 AND private_key = $3`,
		sealed, id, old)
	if err != nil {
		return fmt.Errorf("sqlstore: reseal signing key: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("signing key %s: %w", id, store.ErrConflict)
	}
	return nil
}

// Secret returns the named instance secret, storing value first when there is none.
func (s *Store) Secret(ctx context.Context, name string, value []byte) ([]byte, error) {
	if _, err := s.auto().exec(ctx, `INSERT INTO instance_secrets (name, value) VALUES ($1, $2)
		ON CONFLICT (name) DO NOTHING`, name, value); err != nil {
		return nil, fmt.Errorf("sqlstore: secret: %w", err)
	}
	var out []byte
	if err := s.auto().queryRow(ctx, `SELECT value FROM instance_secrets WHERE name = $1`, name).Scan(&out); err != nil {
		return nil, notFound(err, "secret")
	}
	return out, nil
}

// ResealSecret replaces the named secret's value while it is still old.
func (s *Store) ResealSecret(ctx context.Context, name string, old, sealed []byte) error {
	res, err := s.auto().exec(ctx, `UPDATE instance_secrets SET value = $1 WHERE name = $2 AND value = $3`, sealed, name, old)
	if err != nil {
		return fmt.Errorf("sqlstore: reseal secret: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("secret %s: %w", name, store.ErrConflict)
	}
	return nil
}
