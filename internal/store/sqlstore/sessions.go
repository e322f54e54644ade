package sqlstore

import (
	"context"
	"database/sql"
	"fmt"

	"time"

	"github.com/sigil-idp/sigil/internal/store"
)

// UpsertSession signs an account in to a browser in one statement: a new session, or the
// existing one for (browser, user) with its authentication moved forward and its ID kept —
// unless it had expired, in which case it starts over with the new ID.
func (s *Store) UpsertSession(ctx context.Context, in store.Session, now time.Time) (store.Session, error) {
	out := in
	var created int64
	err := s.tx(ctx, func(tx *sql.Tx) error {
		return s.in(tx).queryRow(ctx, `INSERT INTO sessions (id, browser_hash, tenant_id, user_id, auth_time, amr,
			remember, created_at, expires_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
		ON CONFLICT (browser_hash, user_id) DO UPDATE SET
			id = CASE WHEN sessions.expires_at <= $10 THEN excluded.id ELSE sessions.id END,
			created_at = CASE WHEN sessions.expires_at <= $10 THEN excluded.created_at ELSE sessions.created_at END,
			tenant_id = excluded.tenant_id, auth_time = excluded.auth_time, amr = excluded.amr,
			remember = excluded.remember, expires_at = excluded.expires_at
		RETURNING id, created_at`,
			in.ID, in.BrowserHash, in.TenantID, in.UserID, ms(in.AuthTime), joinList(in.AMR), in.Remember,
			ms(in.CreatedAt), ms(in.ExpiresAt), ms(now)).Scan(&out.ID, &created)
	})
	if err != nil {
		return store.Session{}, fmt.Errorf("sqlstore: upsert session: %w", err)
	}
	out.CreatedAt = fromMS(created)
	return out, nil
}

// RebindBrowser moves a browser's sessions to a new browser hash.
func (s *Store) RebindBrowser(ctx context.Context, oldHash, newHash string) error {
	if _, err := s.auto().exec(ctx, `UPDATE sessions SET browser_hash = $2 WHERE browser_hash = $1`, oldHash, newHash); err != nil {
		return fmt.Errorf("sqlstore: rebind browser: %w", err)
	}
	return nil
}

// BrowserSessions returns a browser's unexpired sessions, oldest first.
func (s *Store) BrowserSessions(ctx context.Context, browserHash string, now time.Time) ([]store.Session, error) {
	rows, err := s.auto().query(ctx, `SELECT id, tenant_id, user_id, auth_time, amr, remember, created_at, expires_at
		FROM sessions WHERE browser_hash = $1 AND expires_at > $2 ORDER BY created_at, id`, browserHash, ms(now))
	if err != nil {
		return nil, fmt.Errorf("sqlstore: browser sessions: %w", err)
	}
	defer rows.Close()
	var out []store.Session
	for rows.Next() {
		x := store.Session{BrowserHash: browserHash}
		var auth, created, expires int64
		var amr string
		if err := rows.Scan(&x.ID, &x.TenantID, &x.UserID, &auth, &amr, &x.Remember, &created, &expires); err != nil {
			return nil, fmt.Errorf("sqlstore: browser sessions: %w", err)
		}
		x.AuthTime, x.AMR, x.CreatedAt, x.ExpiresAt = fromMS(auth), splitList(amr), fromMS(created), fromMS(expires)
		out = append(out, x)
	}
	return out, rows.Err()
}

// Statements of the sign-out transaction (prepared at open; see txStatements).
const (
	qDeleteSession         = `DELETE FROM sessions WHERE id = $1`
	qRevokeSessionFamilies = `UPDATE refresh_families SET revoked_at = $2 WHERE session_id = $1 AND revoked_at = 0`
)

// EndSession deletes a session and revokes the refresh-token families issued in it, in one
// transaction.
func (s *Store) EndSession(ctx context.Context, id string, now time.Time) error {
	return s.tx(ctx, func(tx *sql.Tx) error {
		if _, err := s.in(tx).exec(ctx, qDeleteSession, id); err != nil {
			return fmt.Errorf("sqlstore: end session: %w", err)
		}
		if _, err := s.in(tx).exec(ctx, qRevokeSessionFamilies, id, ms(now)); err != nil {
			return fmt.Errorf("sqlstore: end session: %w", err)
		}
		return nil
	})
}

// RecordSessionClient notes an app the session signed in to.
func (s *Store) RecordSessionClient(ctx context.Context, sessionID, clientID string, now time.Time) error {
	if _, err := s.auto().exec(ctx, `INSERT INTO session_clients (session_id, client_id, created_at) VALUES ($1, $2, $3)
		ON CONFLICT (session_id, client_id) DO NOTHING`, sessionID, clientID, ms(now)); err != nil {
		return fmt.Errorf("sqlstore: record session client: %w", err)
	}
	return nil
}

// SessionClients returns the apps a session signed in to.
func (s *Store) SessionClients(ctx context.Context, sessionID string) ([]string, error) {
	rows, err := s.auto().query(ctx, `SELECT client_id FROM session_clients WHERE session_id = $1 ORDER BY client_id`, sessionID)
	if err != nil {
		return nil, fmt.Errorf("sqlstore: session clients: %w", err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return nil, fmt.Errorf("sqlstore: session clients: %w", err)
		}
		out = append(out, id)
	}
	return out, rows.Err()
}

// CompleteInteraction records that the interaction id got its answer, in one conditional
// statement; a second completion gets store.ErrRedeemed. The record is pruned after expires.
func (s *Store) CompleteInteraction(ctx context.Context, id string, expires time.Time) error {
	res, err := s.auto().exec(ctx, `INSERT INTO completed_interactions (id, expires_at) VALUES ($1, $2)
		ON CONFLICT (id) DO NOTHING`, id, ms(expires))
	if err != nil {
		return fmt.Errorf("sqlstore: complete interaction: %w", err)
	}
	if n, err := res.RowsAffected(); err != nil || n == 0 {
		return fmt.Errorf("interaction %s: %w", id, store.ErrRedeemed)
	}
	return nil
}
