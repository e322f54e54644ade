package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/sigil-idp/sigil/internal/directory"
	"github.com/sigil-idp/sigil/internal/store"
)

// CreateRefreshFamily stores a family and its first token. It first claims the code's row
// with a conditional UPDATE that fails once the code is marked replayed: a replay racing with
// this redemption either sees the family (and revokes it) or stops its creation.
func (s *Store) CreateRefreshFamily(ctx context.Context, f store.RefreshFamily, first store.RefreshToken) error {
	return s.tx(ctx, func(tx *sql.Tx) error {
		if f.CodeHash != "" { // a family issued at /authorize (EAR) comes from no code
			res, err := s.in(tx).exec(ctx, qClaimCode, f.CodeHash)
			if err != nil {
				return fmt.Errorf("sqlstore: create family: %w", err)
			}
			if n, _ := res.RowsAffected(); n == 0 {
				return fmt.Errorf("code of family %s was replayed or is gone: %w", f.ID, store.ErrRevoked)
			}
		}
		args := append([]any{f.ID}, grantArgs(f.Grant)...)
		args = append(args, f.CodeHash, ms(f.CreatedAt), ms(f.AbsoluteExpiresAt))
		if _, err := s.in(tx).exec(ctx, qInsertFamily, args...); err != nil {
			return fmt.Errorf("sqlstore: create family: %w", err)
		}
		return insertToken(ctx, s.in(tx), first)
	})
}

func insertToken(ctx context.Context, c conn, t store.RefreshToken) error {
	if _, err := c.exec(ctx, qInsertToken, t.Hash, t.FamilyID, ms(t.CreatedAt), ms(t.ExpiresAt)); err != nil {
		return fmt.Errorf("sqlstore: insert refresh token: %w", err)
	}
	return nil
}

const familyColumns = `f.id, f.tenant_id, f.client_id, f.user_id, f.session_id, f.platform, f.resource, f.scopes,
	f.auth_time, f.amr, f.remember, f.claims, f.code_hash, f.created_at, f.absolute_expires_at, f.revoked_at`

// tokenFamilyColumns are a token t, the state of its current successor s (one snapshot) and
// its family f, as scanTokenFamily reads them.
const tokenFamilyColumns = `t.hash, t.family_id, t.created_at, t.expires_at, t.rotated_at, t.reuse_until,
	t.successor_hash, t.successor_seq, t.superseded_at,
	CASE WHEN t.successor_hash = '' THEN 0 WHEN s.hash IS NULL OR s.rotated_at != 0 THEN 1 ELSE 0 END,
	COALESCE(s.created_at, 0), COALESCE(s.expires_at, 0), ` + familyColumns

// Statements of the refresh-token transactions (prepared at open; see txStatements). They
// implement the state machine of package store's doc.
const (
	qClaimCode    = `UPDATE auth_codes SET redeemed_at = redeemed_at WHERE hash = $1 AND replayed_at = 0`
	qInsertFamily = `INSERT INTO refresh_families (id, ` + grantColumns + `, code_hash, created_at, absolute_expires_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)`
	qInsertToken = `INSERT INTO refresh_tokens (hash, family_id, created_at, expires_at) VALUES ($1, $2, $3, $4)`
	// qTokenFamily reads a token, the state of its current successor (one snapshot) and
	// its family. A successor row that is gone was pruned, which only happens once used.
	qTokenFamily = `SELECT ` + tokenFamilyColumns + `
		FROM refresh_tokens t JOIN refresh_families f ON f.id = t.family_id
		LEFT JOIN refresh_tokens s ON s.hash = t.successor_hash WHERE t.hash = $1`
	// qTokenFamilyUser is qTokenFamily with the family's user, if it still exists (its
	// userColumns, in their order).
	qTokenFamilyUser = `SELECT ` + tokenFamilyColumns + `, u.id IS NOT NULL, COALESCE(u.id, ''),
		COALESCE(u.tenant_id, ''), COALESCE(u.username, ''), COALESCE(u.display_name, ''),
		COALESCE(u.given_name, ''), COALESCE(u.surname, ''), COALESCE(u.email, ''),
		COALESCE(u.password_hash, ''), COALESCE(u.enabled, FALSE), COALESCE(u.admin, FALSE)
		FROM refresh_tokens t JOIN refresh_families f ON f.id = t.family_id
		LEFT JOIN refresh_tokens s ON s.hash = t.successor_hash
		LEFT JOIN users u ON u.id = f.user_id WHERE t.hash = $1`
	// qRotate is the first presentation of a live token: the common case, one conditional
	// statement (a live token has issued no successor, so its first is generation 1).
	qRotate = `UPDATE refresh_tokens SET rotated_at = $2, reuse_until = $3, successor_seq = 1, successor_hash = $4
		WHERE hash = $1 AND rotated_at = 0 AND superseded_at = 0 AND expires_at > $2
			AND EXISTS (SELECT 1 FROM refresh_families f WHERE f.id = refresh_tokens.family_id AND f.revoked_at = 0)
		RETURNING family_id`
	// qSupersedeGate issues generation $5+1 for a pending token after its interval, gated on
	// the generation the classification saw ($5): of concurrent presentations one passes,
	// the others find the new interval running and get its successor.
	qSupersedeGate = `UPDATE refresh_tokens SET rotated_at = $2, reuse_until = $3, successor_seq = successor_seq + 1,
			successor_hash = $4
		WHERE hash = $1 AND successor_seq = $5 AND rotated_at != 0 AND reuse_until <= $2 AND superseded_at = 0
			AND expires_at > $2
			AND EXISTS (SELECT 1 FROM refresh_families f WHERE f.id = refresh_tokens.family_id AND f.revoked_at = 0)
		RETURNING family_id`
	// qSupersede retires the unused successor — unless it was used meanwhile (then the
	// parent is spent, and the transaction is rolled back). Its row lock orders it against
	// the successor's own first presentation (qRotate, which requires superseded_at = 0).
	qSupersede    = `UPDATE refresh_tokens SET superseded_at = $2 WHERE hash = $1 AND rotated_at = 0 AND superseded_at = 0`
	qRevokeFamily = `UPDATE refresh_families SET revoked_at = $2 WHERE id = $1 AND revoked_at = 0`
	// qRevokeClientFamily revokes a family of a client; RETURNING finds it revoked or not.
	qRevokeClientFamily = `UPDATE refresh_families SET revoked_at = CASE WHEN revoked_at = 0 THEN $3 ELSE revoked_at END
		WHERE id = $1 AND client_id = $2 RETURNING id, ` + grantColumns + `, code_hash, created_at, absolute_expires_at, revoked_at`
	// qPruneTokens finds the tokens whose presentation can only revoke their family, by
	// index (migration 0026) rather than by reading every token: superseded ones; spent ones
	// past their interval, found from their successor — used (rotated), its own interval
	// ending after now−pruneWindow — as the one token of its family (the family index) that
	// names it; and rotated tokens from before migration 0021 (no successor recorded) past
	// their interval. A token P becomes prunable at max(P's reuse_until, its successor S's
	// first use), never after S's reuse_until (S was issued when P was presented, under the
	// same app's interval), so every DeleteExpired run within pruneWindow after that finds
	// P; runs are 10 minutes apart on every node. What a longer pause leaves behind goes
	// with its family at the family's absolute expiry. The parent is a correlated subquery
	// so that both engines look it up by family, whatever the size of the table.
	// It returns at most $2 of them (the three sets are disjoint: no hash twice), none NULL:
	// a successor whose parent is gone already yields nothing. The NULL test stays inside the
	// second set on purpose — applied to the whole union it reached the first set as
	// "hash IS NOT NULL", where SQLite took it for a range on the primary key and scanned
	// every token (9.7 s instead of 2 s on the 1 M store).
	qPruneTokens = `SELECT hash FROM refresh_tokens WHERE superseded_at != 0
		UNION ALL
		SELECT parent FROM (SELECT (SELECT p.hash FROM refresh_tokens p WHERE p.family_id = s.family_id
				AND p.successor_hash = s.hash AND p.reuse_until <= $1 LIMIT 1) AS parent
			FROM refresh_tokens s WHERE s.rotated_at != 0 AND s.reuse_until > $1 - CAST(` + pruneWindow + ` AS BIGINT)) AS w
			WHERE parent IS NOT NULL
		UNION ALL
		SELECT hash FROM refresh_tokens WHERE rotated_at != 0 AND successor_hash = '' AND reuse_until <= $1
		LIMIT $2`
	// pruneWindow (ms) is how far back qPruneTokens looks for successors used: half an
	// hour, three of DeleteExpired's 10-minute runs. Each run reads the tokens presented in
	// the window (about refreshes/s × 1 800 of them), so it costs what the window holds,
	// not what the store holds.
	pruneWindow = `1800000`
)

// tokenState is a token as qTokenFamily reads it.
type tokenState struct {
	t             store.RefreshToken
	f             store.RefreshFamily
	successorUsed bool
	succCreated   time.Time
	succExpires   time.Time
}

// RefreshToken returns a refresh token and its family, whatever their state.
func (s *Store) RefreshToken(ctx context.Context, hash string) (store.RefreshToken, store.RefreshFamily, error) {
	st, err := scanTokenFamily(s.auto().queryRow(ctx, qTokenFamily, hash))
	return st.t, st.f, err
}

// RefreshTokenAndUser is RefreshToken with the family's user (nil when it is gone), in one
// statement.
func (s *Store) RefreshTokenAndUser(ctx context.Context, hash string) (store.RefreshToken, store.RefreshFamily, *directory.User, error) {
	var u directory.User
	var found bool
	st, err := scanTokenFamily(s.auto().queryRow(ctx, qTokenFamilyUser, hash), append([]any{&found}, userDest(&u)...)...)
	if err != nil || !found {
		return st.t, st.f, nil, err
	}
	return st.t, st.f, &u, nil
}

// scanTokenFamily scans the tokenFamilyColumns of row, and the columns after them into more.
func scanTokenFamily(row *sql.Row, more ...any) (tokenState, error) {
	var st tokenState
	t, f := &st.t, &st.f
	var g grantScan
	var tc, te, tr, tu, tsup, sc, se, fc, fe, fr int64
	var used int
	dest := []any{&t.Hash, &t.FamilyID, &tc, &te, &tr, &tu, &t.SuccessorHash, &t.Successors, &tsup, &used, &sc, &se, &f.ID}
	dest = append(dest, g.dest()...)
	dest = append(dest, &f.CodeHash, &fc, &fe, &fr)
	dest = append(dest, more...)
	if err := row.Scan(dest...); err != nil {
		return st, notFound(err, "refresh token")
	}
	t.CreatedAt, t.ExpiresAt, t.RotatedAt, t.ReuseUntil, t.SupersededAt = fromMS(tc), fromMS(te), fromMS(tr), fromMS(tu), fromMS(tsup)
	f.Grant, f.CreatedAt, f.AbsoluteExpiresAt, f.RevokedAt = g.finish(), fromMS(fc), fromMS(fe), fromMS(fr)
	// Before migration 0021 a rotated token recorded no successor: spent.
	st.successorUsed = used == 1 || !t.RotatedAt.IsZero() && t.SuccessorHash == ""
	st.succCreated, st.succExpires = fromMS(sc), fromMS(se)
	return st, nil
}

// errRaced: the token's state changed between the classification and its gate; the
// rotation starts over (only on PostgreSQL, where statements of concurrent transactions
// interleave; SQLite's immediate transactions run one at a time).
var errRaced = errors.New("sqlstore: refresh token changed concurrently")

// RotateRefreshToken presents a refresh token (see the state machine in package store's
// doc). The first presentation of a live token is one conditional UPDATE; anything else is
// classified from one read, and each decision that writes is gated by a conditional
// statement on the state that read saw — a decision whose gate fails is taken again.
func (s *Store) RotateRefreshToken(ctx context.Context, r store.Rotation) (store.RefreshToken, store.RefreshFamily, error) {
	// Each attempt that races loses to a presentation that committed a change, so n
	// concurrent presentations need at most n attempts; the bound only stops a livelock.
	for range 64 {
		next, fam, err := s.rotateOnce(ctx, r)
		if !errors.Is(err, errRaced) {
			return next, fam, err
		}
	}
	return store.RefreshToken{}, store.RefreshFamily{}, fmt.Errorf("sqlstore: rotate: %w", errRaced)
}

func (s *Store) rotateOnce(ctx context.Context, r store.Rotation) (store.RefreshToken, store.RefreshFamily, error) {
	var next store.RefreshToken
	var fam store.RefreshFamily
	var refused error       // a refusal commits (a reuse revocation must stick) and is reported after
	issue := func() error { // the successor's tokens, signed while the commit is pending
		if refused != nil || r.Issue == nil {
			return nil
		}
		return r.Issue(next)
	}
	err := s.txThen(ctx, func(tx *sql.Tx) error {
		c := s.in(tx)
		first := r.Successor(1)
		var familyID string
		err := c.queryRow(ctx, qRotate, r.Hash, ms(r.Now), ms(r.ReuseUntil), first).Scan(&familyID)
		if err == nil {
			next = store.RefreshToken{Hash: first, FamilyID: familyID, CreatedAt: r.Now, ExpiresAt: r.Expires, Generation: 1}
			return insertToken(ctx, c, next)
		}
		if !errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("sqlstore: rotate: %w", err)
		}
		st, err := scanTokenFamily(c.queryRow(ctx, qTokenFamily, r.Hash))
		fam = st.f
		if err != nil {
			if errors.Is(err, store.ErrNotFound) {
				refused = err
				return nil
			}
			return err
		}
		t, now := st.t, r.Now
		switch {
		case !st.f.RevokedAt.IsZero():
			refused = fmt.Errorf("refresh token: %w", store.ErrRevoked)
			return nil
		case !t.SupersededAt.IsZero(), st.successorUsed && (!now.Before(t.ReuseUntil) || st.succExpires.IsZero()):
			// Reuse: the facts read (superseded, successor used) never revert, so the
			// revocation needs no further gate. (A successor already pruned cannot be
			// answered again even within the interval.)
			if _, err := c.exec(ctx, qRevokeFamily, st.f.ID, ms(now)); err != nil {
				return fmt.Errorf("sqlstore: revoke reused family: %w", err)
			}
			fam.RevokedAt = now
			refused = fmt.Errorf("refresh token: %w", store.ErrReused)
			return nil
		case !t.ExpiresAt.After(now):
			refused = fmt.Errorf("refresh token: %w", store.ErrExpired)
			return nil
		case t.RotatedAt.IsZero():
			return errRaced // live a moment ago; qRotate lost to a concurrent presentation
		case now.Before(t.ReuseUntil):
			// Within the interval: the same successor again, nothing written.
			next = store.RefreshToken{Hash: t.SuccessorHash, FamilyID: t.FamilyID, CreatedAt: st.succCreated,
				ExpiresAt: st.succExpires, Generation: t.Successors}
			return nil
		}
		// Pending after its interval: the answer was lost. Issue the next generation and
		// supersede the unused successor.
		gen := t.Successors + 1
		hash := r.Successor(gen)
		err = c.queryRow(ctx, qSupersedeGate, r.Hash, ms(now), ms(r.ReuseUntil), hash, t.Successors).Scan(&familyID)
		if errors.Is(err, sql.ErrNoRows) {
			return errRaced
		}
		if err != nil {
			return fmt.Errorf("sqlstore: supersede: %w", err)
		}
		res, err := c.exec(ctx, qSupersede, t.SuccessorHash, ms(now))
		if err != nil {
			return fmt.Errorf("sqlstore: supersede: %w", err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return errRaced // the successor was used meanwhile: rolled back, and now it is reuse
		}
		next = store.RefreshToken{Hash: hash, FamilyID: familyID, CreatedAt: now, ExpiresAt: r.Expires, Generation: gen}
		return insertToken(ctx, c, next)
	}, issue)
	if err == nil {
		err = refused
	}
	if err != nil {
		return store.RefreshToken{}, fam, err
	}
	return next, fam, nil
}

// RevokeRefreshFamily revokes a client's family in one conditional statement.
func (s *Store) RevokeRefreshFamily(ctx context.Context, id, clientID string, now time.Time) (store.RefreshFamily, error) {
	var f store.RefreshFamily
	err := s.tx(ctx, func(tx *sql.Tx) error {
		var g grantScan
		var fc, fe, fr int64
		dest := append([]any{&f.ID}, g.dest()...)
		dest = append(dest, &f.CodeHash, &fc, &fe, &fr)
		if err := s.in(tx).queryRow(ctx, qRevokeClientFamily, id, clientID, ms(now)).Scan(dest...); err != nil {
			return notFound(err, "refresh family")
		}
		f.Grant, f.CreatedAt, f.AbsoluteExpiresAt, f.RevokedAt = g.finish(), fromMS(fc), fromMS(fe), fromMS(fr)
		return nil
	})
	return f, err
}
