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

// grantColumns are the columns auth_codes and refresh_families share for a store.Grant.
const grantColumns = `tenant_id, client_id, user_id, session_id, platform, resource, scopes, auth_time, amr, remember, claims`

// grantScan scans grantColumns; finish converts the raw values once scanned.
type grantScan struct {
	g                     store.Grant
	platform, scopes, amr string
	authTime              int64
}

func (g *grantScan) dest() []any {
	return []any{&g.g.TenantID, &g.g.ClientID, &g.g.UserID, &g.g.SessionID, &g.platform, &g.g.Resource,
		&g.scopes, &g.authTime, &g.amr, &g.g.Remember, &g.g.Claims}
}

func (g *grantScan) finish() store.Grant {
	g.g.Platform, g.g.Scopes, g.g.AuthTime, g.g.AMR = directory.Platform(g.platform), splitList(g.scopes),
		fromMS(g.authTime), splitList(g.amr)
	return g.g
}

func grantArgs(g store.Grant) []any {
	return []any{g.TenantID, g.ClientID, g.UserID, g.SessionID, string(g.Platform), g.Resource, joinList(g.Scopes),
		ms(g.AuthTime), joinList(g.AMR), g.Remember, g.Claims}
}

// CreateAuthCode stores an authorization code (by hash). A code issued from another one (a
// hybrid spa_code) first claims its parent's row, as a refresh-token family claims its
// code's: the parent must not be marked replayed.
func (s *Store) CreateAuthCode(ctx context.Context, c store.AuthCode) error {
	args := append([]any{c.Hash}, grantArgs(c.Grant)...)
	args = append(args, c.RedirectURI, c.RedirectGiven, c.Nonce, c.CodeChallenge, ms(c.CreatedAt), ms(c.ExpiresAt), c.ParentHash)
	if c.ParentHash == "" {
		if _, err := s.auto().exec(ctx, qInsertCode, args...); err != nil {
			return fmt.Errorf("sqlstore: create code: %w", err)
		}
		return nil
	}
	return s.tx(ctx, func(tx *sql.Tx) error {
		res, err := s.in(tx).exec(ctx, qClaimCode, c.ParentHash)
		if err != nil {
			return fmt.Errorf("sqlstore: create code: %w", err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return fmt.Errorf("parent of a code was replayed or is gone: %w", store.ErrRevoked)
		}
		if _, err := s.in(tx).exec(ctx, qInsertCode, args...); err != nil {
			return fmt.Errorf("sqlstore: create code: %w", err)
		}
		return nil
	})
}

const codeReturning = ` RETURNING ` + grantColumns + `, redirect_uri, redirect_given, nonce, code_challenge,
	created_at, expires_at, redeemed_at, replayed_at, parent_hash`

// Statements of the redemption transaction (prepared at open; see txStatements).
const (
	// qRedeem is the redemption: the one conditional statement.
	qRedeem     = `UPDATE auth_codes SET redeemed_at = $2 WHERE hash = $1 AND redeemed_at = 0` + codeReturning
	qMarkReplay = `UPDATE auth_codes SET replayed_at = CASE WHEN replayed_at = 0 THEN $2 ELSE replayed_at END
		WHERE hash = $1` + codeReturning
	qRevokeCodeFamilies = `UPDATE refresh_families SET revoked_at = $2 WHERE code_hash = $1 AND revoked_at = 0`
	// A replay also burns the codes issued from the replayed one (hybrid spa_codes), then
	// revokes their families; in this order, so that a family being created from such a
	// code either is seen here or is stopped by the burn (qClaimCode).
	qBurnChildCodes = `UPDATE auth_codes SET redeemed_at = CASE WHEN redeemed_at = 0 THEN $2 ELSE redeemed_at END,
		replayed_at = CASE WHEN replayed_at = 0 THEN $2 ELSE replayed_at END WHERE parent_hash = $1`
	qRevokeChildFamilies = `UPDATE refresh_families SET revoked_at = $2
		WHERE revoked_at = 0 AND code_hash IN (SELECT hash FROM auth_codes WHERE parent_hash = $1)`
	qInsertCode = `INSERT INTO auth_codes (hash, ` + grantColumns + `, redirect_uri, redirect_given,
		nonce, code_challenge, created_at, expires_at, parent_hash)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19)`
)

// RedeemAuthCode redeems a code in one conditional UPDATE. On a replay it marks the code
// replayed and revokes every refresh-token family issued from it, and burns the codes issued
// from it with their families, in one transaction.
func (s *Store) RedeemAuthCode(ctx context.Context, hash string, now time.Time) (store.AuthCode, error) {
	var c store.AuthCode
	replayed := false
	err := s.tx(ctx, func(tx *sql.Tx) error {
		var err error
		c, err = scanCode(s.in(tx).queryRow(ctx, qRedeem, hash, ms(now)), hash)
		if !errors.Is(err, sql.ErrNoRows) {
			return err
		}
		replayed = true
		if c, err = scanCode(s.in(tx).queryRow(ctx, qMarkReplay, hash, ms(now)), hash); err != nil {
			return notFound(err, "code")
		}
		if _, err := s.in(tx).exec(ctx, qRevokeCodeFamilies, hash, ms(now)); err != nil {
			return fmt.Errorf("sqlstore: revoke replayed code's families: %w", err)
		}
		if _, err := s.in(tx).exec(ctx, qBurnChildCodes, hash, ms(now)); err != nil {
			return fmt.Errorf("sqlstore: burn codes issued from a replayed code: %w", err)
		}
		if _, err := s.in(tx).exec(ctx, qRevokeChildFamilies, hash, ms(now)); err != nil {
			return fmt.Errorf("sqlstore: revoke families of codes issued from a replayed code: %w", err)
		}
		return nil
	})
	switch {
	case err != nil:
		return store.AuthCode{}, err
	case replayed:
		return c, fmt.Errorf("code: %w", store.ErrRedeemed)
	}
	return c, nil
}

func scanCode(row *sql.Row, hash string) (store.AuthCode, error) {
	c := store.AuthCode{Hash: hash}
	var g grantScan
	var created, expires, redeemed, replayed int64
	dest := append(g.dest(), &c.RedirectURI, &c.RedirectGiven, &c.Nonce, &c.CodeChallenge, &created, &expires,
		&redeemed, &replayed, &c.ParentHash)
	if err := row.Scan(dest...); err != nil {
		return store.AuthCode{}, err
	}
	c.Grant = g.finish()
	c.CreatedAt, c.ExpiresAt, c.RedeemedAt = fromMS(created), fromMS(expires), fromMS(redeemed)
	c.ReplayDetected = replayed != 0
	return c, nil
}
