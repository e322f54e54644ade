package sqlstore

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
)

// pruneBatch bounds the rows one pruning transaction deletes (Store.pruneBatch; the
// conformance tests make it 2 and pruneRead 3, so that every pruning test crosses both). A
// backlog — the first run after an upgrade, a node that was down for a day, a million rotated
// tokens — is pruned as many short transactions rather than one long one: on SQLite a long
// DELETE would hold the database's one write lock, and every refresh behind it, for seconds,
// past the busy timeout of other processes; on PostgreSQL it would hold one transaction open
// as long. Each batch goes the way a request's write goes (through the committer on SQLite),
// so requests interleave with the pruning.
const pruneBatch = 1000

// pruneRead bounds the refresh tokens one read of qPruneTokens returns (Store.pruneRead):
// a few MiB of hashes held at a time; every read costs a pass over the tokens presented
// in the last half hour, so a read is worth many batches.
const pruneRead = 50 * pruneBatch

// pruneStatements delete at most $2 rows that are expired at $1 each; DeleteExpired runs
// each until it deletes fewer. Every one finds its rows by index (migrations 0014, 0015,
// 0026, 0028), so a batch costs what it deletes, not what the table holds.
var pruneStatements = []string{
	`DELETE FROM sessions WHERE id IN (SELECT id FROM sessions WHERE expires_at < $1 LIMIT $2)`,
	// The apps of sessions that are gone (expired, or signed out).
	`DELETE FROM session_clients WHERE created_at < $1 AND session_id IN (
		SELECT c.session_id FROM session_clients c
		WHERE c.created_at < $1 AND NOT EXISTS (SELECT 1 FROM sessions s WHERE s.id = c.session_id) LIMIT $2)`,
	// Back-channel logouts not delivered within a day are given up.
	`DELETE FROM backchannel_outbox WHERE id IN (SELECT id FROM backchannel_outbox WHERE created_at + 86400000 < $1 LIMIT $2)`,
	`DELETE FROM completed_interactions WHERE id IN (SELECT id FROM completed_interactions WHERE expires_at < $1 LIMIT $2)`,
	`DELETE FROM auth_codes WHERE hash IN (SELECT hash FROM auth_codes WHERE expires_at < $1 LIMIT $2)`,
	`DELETE FROM device_codes WHERE hash IN (SELECT hash FROM device_codes WHERE expires_at < $1 LIMIT $2)`,
	// With their tokens (ON DELETE CASCADE).
	`DELETE FROM refresh_families WHERE id IN (SELECT id FROM refresh_families WHERE absolute_expires_at < $1 LIMIT $2)`,
}

// DeleteExpired removes what has outlived its use before now: sessions, interactions, codes
// (kept until expiry so that a replay is still recognised), device authorizations past their
// expiry, refresh-token families past their absolute lifetime (with their tokens), and the
// refresh tokens whose presentation can only revoke their family (qPruneTokens) — each in
// transactions of at most s.pruneBatch rows. When ctx ends it stops between batches; what it
// deleted stays deleted and the next run goes on from there.
func (s *Store) DeleteExpired(ctx context.Context, now time.Time) error {
	t := ms(now)
	for _, q := range pruneStatements {
		for {
			var n int64
			err := s.tx(ctx, func(tx *sql.Tx) error {
				res, err := s.in(tx).exec(ctx, q, t, s.pruneBatch)
				if err != nil {
					return err
				}
				n, err = res.RowsAffected()
				return err
			})
			if err != nil {
				return fmt.Errorf("sqlstore: delete expired: %w", err)
			}
			if n < int64(s.pruneBatch) {
				break
			}
		}
	}
	if err := s.pruneTokens(ctx, t); err != nil {
		return fmt.Errorf("sqlstore: delete expired refresh tokens: %w", err)
	}
	return nil
}

// pruneTokens deletes the tokens qPruneTokens finds at now: it reads up to s.pruneRead of
// them, ends the read, deletes them s.pruneBatch at a time, and reads again until a read
// finds fewer. What it found stays prunable (a superseded or spent token never becomes
// presentable again), so the deletions need not repeat qPruneTokens' conditions. No read
// stays open while the deletions run: on SQLite a long-lived reader would stop the WAL
// from being checkpointed and restarted, and the WAL would grow by every write meanwhile
// (measured: 2.4 GB in one run streaming 240 000 deletions under load).
func (s *Store) pruneTokens(ctx context.Context, now int64) error {
	for {
		found, err := s.prunableTokens(ctx, now)
		if err != nil {
			return err
		}
		for b := range slices.Chunk(found, s.pruneBatch) {
			if err := s.deleteTokens(ctx, b); err != nil {
				return err
			}
		}
		if len(found) < s.pruneRead {
			return nil
		}
	}
}

// prunableTokens reads up to s.pruneRead hashes that qPruneTokens finds at now.
func (s *Store) prunableTokens(ctx context.Context, now int64) ([]any, error) {
	rows, err := s.auto().query(ctx, qPruneTokens, now, s.pruneRead)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var found []any
	for rows.Next() {
		var h string
		if err := rows.Scan(&h); err != nil {
			return nil, err
		}
		found = append(found, h)
	}
	return found, rows.Err()
}

// deleteTokens deletes the refresh tokens of the given hashes in one transaction.
func (s *Store) deleteTokens(ctx context.Context, hashes []any) error {
	var q strings.Builder
	q.WriteString(`DELETE FROM refresh_tokens WHERE hash IN (`)
	for i := range hashes {
		if i > 0 {
			q.WriteByte(',')
		}
		q.WriteString("$" + strconv.Itoa(i+1))
	}
	q.WriteByte(')')
	return s.tx(ctx, func(tx *sql.Tx) error {
		_, err := s.in(tx).exec(ctx, q.String(), hashes...)
		return err
	})
}
