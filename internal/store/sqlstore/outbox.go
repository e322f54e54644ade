package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/sigil-idp/sigil/internal/store"
)

// EnqueueLogouts stores logout tokens to deliver.
func (s *Store) EnqueueLogouts(ctx context.Context, ls []store.BackchannelLogout) error {
	return s.tx(ctx, func(tx *sql.Tx) error {
		for _, l := range ls {
			if _, err := s.in(tx).exec(ctx, `INSERT INTO backchannel_outbox (id, client_id, url, logout_token, due_at, created_at)
				VALUES ($1, $2, $3, $4, $5, $6)`, l.ID, l.ClientID, l.URL, l.LogoutToken, ms(l.DueAt), ms(l.CreatedAt)); err != nil {
				return fmt.Errorf("sqlstore: enqueue logout: %w", err)
			}
		}
		return nil
	})
}

// ClaimLogout leases the oldest due logout; the UPDATE's condition makes the claim exclusive.
func (s *Store) ClaimLogout(ctx context.Context, now time.Time, lease time.Duration) (store.BackchannelLogout, error) {
	var l store.BackchannelLogout
	var due, created int64
	err := s.tx(ctx, func(tx *sql.Tx) error {
		return s.in(tx).queryRow(ctx, `UPDATE backchannel_outbox SET claimed_until = $2
			WHERE claimed_until <= $1 AND due_at <= $1 AND id = (SELECT id FROM backchannel_outbox
				WHERE claimed_until <= $1 AND due_at <= $1 ORDER BY due_at, id LIMIT 1)
			RETURNING id, client_id, url, logout_token, attempts, due_at, created_at`, ms(now), ms(now.Add(lease))).
			Scan(&l.ID, &l.ClientID, &l.URL, &l.LogoutToken, &l.Attempts, &due, &created)
	})
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return l, store.ErrNotFound
	case err != nil:
		return l, fmt.Errorf("sqlstore: claim logout: %w", err)
	}
	l.DueAt, l.CreatedAt = fromMS(due), fromMS(created)
	return l, nil
}

// FinishLogout deletes a delivered logout.
func (s *Store) FinishLogout(ctx context.Context, id string) error {
	return rowsOrNotFound(s.auto().exec(ctx, `DELETE FROM backchannel_outbox WHERE id = $1`, id))
}

// RetryLogout counts an attempt and releases the claim until dueAt.
func (s *Store) RetryLogout(ctx context.Context, id string, dueAt time.Time) error {
	return rowsOrNotFound(s.auto().exec(ctx, `UPDATE backchannel_outbox SET attempts = attempts + 1, due_at = $2,
		claimed_until = 0 WHERE id = $1`, id, ms(dueAt)))
}
