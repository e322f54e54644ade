package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

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

// Statements of the refresh-token transactions (prepared at open; see txStatements).
const (
	qClaimCode    = `UPDATE auth_codes SET redeemed_at = redeemed_at WHERE hash = $1 AND replayed_at = 0`
	qInsertFamily = `INSERT INTO refresh_families (id, ` + grantColumns + `, code_hash, created_at, absolute_expires_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)`
	qInsertToken = `INSERT INTO refresh_tokens (hash, family_id, created_at, expires_at) VALUES ($1, $2, $3, $4)`
	qTokenFamily = `SELECT t.hash, t.family_id, t.created_at, t.expires_at, t.rotated_at, ` + familyColumns + `
		FROM refresh_tokens t JOIN refresh_families f ON f.id = t.family_id WHERE t.hash = $1`
	// qRotate is the rotation decision: the one conditional statement.
	qRotate = `UPDATE refresh_tokens SET rotated_at = CASE WHEN rotated_at = 0 THEN $2 ELSE rotated_at END
		WHERE hash = $1 AND expires_at > $2 AND (rotated_at = 0 OR rotated_at >= $3)
			AND EXISTS (SELECT 1 FROM refresh_families f WHERE f.id = refresh_tokens.family_id AND f.revoked_at = 0)
		RETURNING family_id`
	qRevokeFamily = `UPDATE refresh_families SET revoked_at = $2 WHERE id = $1 AND revoked_at = 0`
)

// RefreshToken returns a refresh token and its family, whatever their state.
func (s *Store) RefreshToken(ctx context.Context, hash string) (store.RefreshToken, store.RefreshFamily, error) {
	return scanTokenFamily(s.auto().queryRow(ctx, qTokenFamily, hash))
}

func scanTokenFamily(row *sql.Row) (store.RefreshToken, store.RefreshFamily, error) {
	var t store.RefreshToken
	var f store.RefreshFamily
	var g grantScan
	var tc, te, tr, fc, fe, fr int64
	dest := []any{&t.Hash, &t.FamilyID, &tc, &te, &tr, &f.ID}
	dest = append(dest, g.dest()...)
	dest = append(dest, &f.CodeHash, &fc, &fe, &fr)
	if err := row.Scan(dest...); err != nil {
		return t, f, notFound(err, "refresh token")
	}
	t.CreatedAt, t.ExpiresAt, t.RotatedAt = fromMS(tc), fromMS(te), fromMS(tr)
	f.Grant, f.CreatedAt, f.AbsoluteExpiresAt, f.RevokedAt = g.finish(), fromMS(fc), fromMS(fe), fromMS(fr)
	return t, f, nil
}

// RotateRefreshToken exchanges a refresh token in one transaction. The decision is one
// conditional UPDATE: the token is unexpired, its family unrevoked, and it was never rotated
// or was rotated within the reuse window (its first rotation time is kept, so the window
// never slides). Anything else is classified afterwards; a token rotated before the window
// is reuse, which revokes the family.
func (s *Store) RotateRefreshToken(ctx context.Context, r store.Rotation) (store.RefreshToken, store.RefreshFamily, error) {
	var next store.RefreshToken
	var fam store.RefreshFamily
	var refused error // a refusal commits (a reuse revocation must stick) and is reported after
	err := s.tx(ctx, func(tx *sql.Tx) error {
		var familyID string
		err := s.in(tx).queryRow(ctx, qRotate, r.Hash, ms(r.Now), ms(r.ReuseCutoff)).Scan(&familyID)
		if errors.Is(err, sql.ErrNoRows) {
			fam, refused = s.refusedRotation(ctx, tx, r)
			if isRefusal(refused) {
				return nil
			}
			return refused
		}
		if err != nil {
			return fmt.Errorf("sqlstore: rotate: %w", err)
		}
		next = store.RefreshToken{Hash: r.NewHash, FamilyID: familyID, CreatedAt: r.Now, ExpiresAt: r.Expires}
		return insertToken(ctx, s.in(tx), next)
	})
	if err == nil {
		err = refused
	}
	if err != nil {
		return store.RefreshToken{}, fam, err
	}
	return next, fam, nil
}

// refusedRotation says why a rotation was refused, revoking the family on reuse; errors other
// than the store's sentinels are database failures. It runs in the rotation's transaction,
// and a token's rotated_at never returns to 0, so the classification cannot race the refusal.
func (s *Store) refusedRotation(ctx context.Context, tx *sql.Tx, r store.Rotation) (store.RefreshFamily, error) {
	t, f, err := scanTokenFamily(s.in(tx).queryRow(ctx, qTokenFamily, r.Hash))
	switch {
	case err != nil:
		return f, err
	case !f.RevokedAt.IsZero():
		return f, fmt.Errorf("refresh token: %w", store.ErrRevoked)
	case !t.ExpiresAt.After(r.Now):
		return f, fmt.Errorf("refresh token: %w", store.ErrExpired)
	}
	if _, err := s.in(tx).exec(ctx, qRevokeFamily, f.ID, ms(r.Now)); err != nil {
		return f, fmt.Errorf("sqlstore: revoke reused family: %w", err)
	}
	f.RevokedAt = r.Now
	return f, fmt.Errorf("refresh token: %w", store.ErrReused)
}

// isRefusal reports whether err is a decision (to be committed and reported) rather than a
// database failure.
func isRefusal(err error) bool {
	for _, e := range []error{store.ErrNotFound, store.ErrRevoked, store.ErrExpired, store.ErrReused} {
		if errors.Is(err, e) {
			return true
		}
	}
	return false
}
