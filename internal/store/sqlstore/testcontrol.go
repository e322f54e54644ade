package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/sigil-idp/sigil/internal/store"
)

// AddForcedFailure stores a forced failure.
func (s *Store) AddForcedFailure(ctx context.Context, f store.ForcedFailure) error {
	if _, err := s.auto().exec(ctx, `INSERT INTO forced_failures (id, client_id, user_id, error, description, remaining,
		created_at) VALUES ($1, $2, $3, $4, $5, $6, $7)`,
		f.ID, f.ClientID, f.UserID, f.Error, f.Description, f.Remaining, ms(f.CreatedAt)); err != nil {
		return fmt.Errorf("sqlstore: add forced failure: %w", err)
	}
	return nil
}

// TakeForcedFailure uses up one request of the oldest matching forced failure in one
// conditional UPDATE: the row must still have a request left when the update reaches it.
func (s *Store) TakeForcedFailure(ctx context.Context, clientID, userID string) (store.ForcedFailure, error) {
	var f store.ForcedFailure
	var created int64
	err := s.tx(ctx, func(tx *sql.Tx) error {
		return s.in(tx).queryRow(ctx, `UPDATE forced_failures SET remaining = remaining - 1
		WHERE remaining > 0 AND id = (SELECT id FROM forced_failures WHERE remaining > 0
			AND client_id IN ('', $1) AND user_id IN ('', $2) ORDER BY created_at, id LIMIT 1)
		RETURNING id, client_id, user_id, error, description, remaining, created_at`, clientID, userID).
			Scan(&f.ID, &f.ClientID, &f.UserID, &f.Error, &f.Description, &f.Remaining, &created)
	})
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return store.ForcedFailure{}, store.ErrNotFound
	case err != nil:
		return store.ForcedFailure{}, fmt.Errorf("sqlstore: take forced failure: %w", err)
	}
	f.CreatedAt = fromMS(created)
	return f, nil
}

// ClearForcedFailures deletes every forced failure.
func (s *Store) ClearForcedFailures(ctx context.Context) error {
	if _, err := s.auto().exec(ctx, `DELETE FROM forced_failures`); err != nil {
		return fmt.Errorf("sqlstore: clear forced failures: %w", err)
	}
	return nil
}

// userState are the statements that take everything issued to a user away ($1 the user id).
var userState = []string{
	`DELETE FROM sessions WHERE user_id = $1`,
	`DELETE FROM auth_codes WHERE user_id = $1`,
	`DELETE FROM device_codes WHERE user_id = $1`, // approved for the user, not yet (or already) redeemed
	`DELETE FROM grants WHERE user_id = $1`,
	`DELETE FROM forced_failures WHERE user_id = $1`,
}

// DeleteUser deletes the user and what was issued to it in one transaction; role
// assignments and group memberships go with the user row (ON DELETE CASCADE), refresh-token
// families with their tokens.
func (s *Store) DeleteUser(ctx context.Context, userID string) error {
	return s.tx(ctx, func(tx *sql.Tx) error {
		c := s.in(tx)
		for _, q := range append(userState, `DELETE FROM refresh_families WHERE user_id = $1`) {
			if _, err := c.exec(ctx, q, userID); err != nil {
				return fmt.Errorf("sqlstore: delete user: %w", err)
			}
		}
		res, err := c.exec(ctx, `DELETE FROM users WHERE id = $1`, userID)
		if err != nil {
			return fmt.Errorf("sqlstore: delete user: %w", err)
		}
		if n, err := res.RowsAffected(); err != nil || n == 0 {
			return errors.Join(store.ErrNotFound, err)
		}
		return nil
	})
}

// RevokeUser deletes the user's sessions, codes and own consents and revokes its refresh-token
// families, in one transaction.
func (s *Store) RevokeUser(ctx context.Context, userID string, now time.Time) error {
	return s.tx(ctx, func(tx *sql.Tx) error {
		c := s.in(tx)
		for _, q := range userState {
			if _, err := c.exec(ctx, q, userID); err != nil {
				return fmt.Errorf("sqlstore: revoke user: %w", err)
			}
		}
		if _, err := c.exec(ctx, `UPDATE refresh_families SET revoked_at = $2 WHERE user_id = $1 AND revoked_at = 0`,
			userID, ms(now)); err != nil {
			return fmt.Errorf("sqlstore: revoke user: %w", err)
		}
		return nil
	})
}

// ClearLoginFailures deletes every recorded sign-in failure.
func (s *Store) ClearLoginFailures(ctx context.Context) error {
	if _, err := s.auto().exec(ctx, `DELETE FROM login_failures`); err != nil {
		return fmt.Errorf("sqlstore: clear login failures: %w", err)
	}
	return nil
}

// resetTables are emptied by ResetState, dependents first.
var resetTables = []string{"sessions", "session_clients", "completed_interactions", "auth_codes", "device_codes", "refresh_tokens", "refresh_families",
	"grants", "login_failures", "forced_failures", "users"}

// ResetState empties the tables of users and protocol state in one transaction.
func (s *Store) ResetState(ctx context.Context) error {
	return s.tx(ctx, func(tx *sql.Tx) error {
		for _, table := range resetTables {
			if _, err := s.in(tx).exec(ctx, `DELETE FROM `+table); err != nil {
				return fmt.Errorf("sqlstore: reset %s: %w", table, err)
			}
		}
		return nil
	})
}
