package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/sigil-idp/sigil/internal/store"
)

// Throttle rows live in login_failures: a failure has pending_until 0 and counts from `at`;
// a reservation (store.Attempt) has an id and counts while pending_until is in the future.

// qReserveAttempt is the reservation: one conditional INSERT that adds the reservation only
// while the key's failures within the window plus its live reservations are below the limit.
// $1 id, $2 key, $3 now, $4 until, $5 since, $6 limit.
const qReserveAttempt = `INSERT INTO login_failures (id, key, at, pending_until)
	SELECT CAST($1 AS TEXT), CAST($2 AS TEXT), CAST($3 AS BIGINT), CAST($4 AS BIGINT)
	WHERE (SELECT COUNT(*) FROM login_failures WHERE key = $2
		AND ((pending_until = 0 AND at >= $5) OR pending_until > $3)) < $6`

// qLockThrottleKey serialises PostgreSQL reservations of one key (every node's). Under READ
// COMMITTED each statement reads a snapshot taken when it starts, so two concurrent
// qReserveAttempt statements would both count without the other's row and both insert; taken
// first, in the same transaction, this lock makes the next statement's snapshot include
// every reservation committed before it. Only reservations add to a key's count (failing
// one turns it into a failure, releasing one deletes it), so only they need it. SQLite needs
// none: its write transactions begin with the database's write lock (_txlock=immediate).
const qLockThrottleKey = `SELECT pg_advisory_xact_lock(7438121, hashtext($1))`

// ReserveAttempt reserves a credential check under all of a.Keys, in one transaction (one
// commit), or under none.
func (s *Store) ReserveAttempt(ctx context.Context, a store.Attempt) (int, error) {
	refused := -1
	err := s.tx(ctx, func(tx *sql.Tx) error {
		if s.engine == "postgres" {
			keys := make([]string, len(a.Keys))
			for i, k := range a.Keys {
				keys[i] = k.Key
			}
			slices.Sort(keys) // one order for every caller: no deadlocks
			for _, k := range slices.Compact(keys) {
				if _, err := s.in(tx).exec(ctx, qLockThrottleKey, k); err != nil {
					return err
				}
			}
		}
		for i, k := range a.Keys {
			res, err := s.in(tx).exec(ctx, qReserveAttempt, a.ID, k.Key, ms(a.Now), ms(a.Until), ms(a.Since), k.Limit)
			if err != nil {
				return err
			}
			if n, err := res.RowsAffected(); err != nil || n != 1 {
				refused = i
				return errRefused
			}
		}
		return nil
	})
	switch {
	case errors.Is(err, errRefused):
		return refused, nil
	case err != nil:
		return -1, fmt.Errorf("sqlstore: reserve attempt: %w", err)
	}
	return -1, nil
}

// errRefused rolls back a reservation that a key refused.
var errRefused = errors.New("refused")

// ReleaseAttempt deletes a reservation's rows.
func (s *Store) ReleaseAttempt(ctx context.Context, id string) error {
	if _, err := s.auto().exec(ctx, `DELETE FROM login_failures WHERE id = $1 AND pending_until > 0`, id); err != nil {
		return fmt.Errorf("sqlstore: release attempt: %w", err)
	}
	return nil
}

// FailAttempt turns a reservation's rows into failures in one upsert (inserting a failure
// where a row is gone).
func (s *Store) FailAttempt(ctx context.Context, id string, keys []string, at time.Time) error {
	if len(keys) == 0 {
		return nil
	}
	var q strings.Builder
	q.WriteString(`INSERT INTO login_failures (id, key, at, pending_until) VALUES `)
	args := []any{id, ms(at)}
	for i, k := range keys {
		if i > 0 {
			q.WriteString(", ")
		}
		fmt.Fprintf(&q, "($1, $%d, $2, 0)", i+3)
		args = append(args, k)
	}
	q.WriteString(` ON CONFLICT (id, key) DO UPDATE SET at = excluded.at, pending_until = 0`)
	if _, err := s.auto().exec(ctx, q.String(), args...); err != nil {
		return fmt.Errorf("sqlstore: fail attempt: %w", err)
	}
	return nil
}

// RecordLoginFailure records one failure for key.
func (s *Store) RecordLoginFailure(ctx context.Context, key string, at time.Time) error {
	if _, err := s.auto().exec(ctx, `INSERT INTO login_failures (key, at) VALUES ($1, $2)`, key, ms(at)); err != nil {
		return fmt.Errorf("sqlstore: record login failure: %w", err)
	}
	return nil
}

// LoginFailures counts failures for key at or after since.
func (s *Store) LoginFailures(ctx context.Context, key string, since time.Time) (int, error) {
	var n int
	err := s.auto().queryRow(ctx, `SELECT COUNT(*) FROM login_failures WHERE key = $1 AND pending_until = 0 AND at >= $2`,
		key, ms(since)).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("sqlstore: login failures: %w", err)
	}
	return n, nil
}

// PruneLoginFailures forgets failures and reservations from before the cutoff.
func (s *Store) PruneLoginFailures(ctx context.Context, before time.Time) error {
	if _, err := s.auto().exec(ctx, `DELETE FROM login_failures WHERE at < $1 AND pending_until < $1`, ms(before)); err != nil {
		return fmt.Errorf("sqlstore: prune login failures: %w", err)
	}
	return nil
}
