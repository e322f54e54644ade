package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/sigil-idp/sigil/internal/store"
)

// deviceReturning lists what every device-code statement returns, in scanDevice's order.
const deviceReturning = `hash, user_code_hash, tenant_segment, scope, status, ` + grantColumns + `,
	created_at, expires_at, entered_at, last_polled_at`

// Statements of the device-code transactions (prepared at open; see txStatements). Each
// state change is one conditional UPDATE; the SELECT only explains why one matched no row.
const (
	qEnterUserCode = `UPDATE device_codes SET entered_at = $2
		WHERE user_code_hash = $1 AND entered_at = 0 AND status = 'pending' AND expires_at > $2
		RETURNING ` + deviceReturning
	qPollDevice = `UPDATE device_codes SET last_polled_at = $2 WHERE hash = $1 AND last_polled_at <= $3
		RETURNING ` + deviceReturning
	qRedeemDevice = `UPDATE device_codes SET status = 'redeemed'
		WHERE hash = $1 AND status = 'approved' AND expires_at > $2
		RETURNING ` + deviceReturning
	qDeviceByHash = `SELECT ` + deviceReturning + ` FROM device_codes WHERE hash = $1`
)

// CreateDeviceCode stores a pending device authorization; a user code hash in use is
// store.ErrConflict.
func (s *Store) CreateDeviceCode(ctx context.Context, d store.DeviceCode) error {
	g := d.Grant
	args := append([]any{d.Hash, d.UserCodeHash, d.Tenant, d.Scope}, grantArgs(g)...)
	args = append(args, ms(d.CreatedAt), ms(d.ExpiresAt))
	_, err := s.auto().exec(ctx, `INSERT INTO device_codes (hash, user_code_hash, tenant_segment, scope, status,
		`+grantColumns+`, created_at, expires_at)
		VALUES ($1, $2, $3, $4, 'pending', $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17)`, args...)
	switch {
	case isUniqueViolation(err):
		return fmt.Errorf("device code: %w", store.ErrConflict)
	case err != nil:
		return fmt.Errorf("sqlstore: create device code: %w", err)
	}
	return nil
}

// EnterUserCode claims a pending authorization by its user code, once, in one conditional
// UPDATE.
func (s *Store) EnterUserCode(ctx context.Context, userCodeHash string, now time.Time) (store.DeviceCode, error) {
	var d store.DeviceCode
	err := s.tx(ctx, func(tx *sql.Tx) error {
		var err error
		d, err = scanDevice(s.in(tx).queryRow(ctx, qEnterUserCode, userCodeHash, ms(now)))
		return err
	})
	if err != nil {
		return store.DeviceCode{}, notFound(err, "user code")
	}
	return d, nil
}

// ApproveDeviceCode stores the grant of a pending, unexpired authorization in one
// conditional UPDATE.
func (s *Store) ApproveDeviceCode(ctx context.Context, hash string, g store.Grant, now time.Time) error {
	res, err := s.auto().exec(ctx, `UPDATE device_codes SET status = 'approved', tenant_id = $3, user_id = $4,
		session_id = $5, platform = $6, resource = $7, scopes = $8, auth_time = $9, amr = $10, remember = $11, claims = $12
		WHERE hash = $1 AND status = 'pending' AND expires_at > $2`,
		hash, ms(now), g.TenantID, g.UserID, g.SessionID, string(g.Platform), g.Resource, joinList(g.Scopes),
		ms(g.AuthTime), joinList(g.AMR), g.Remember, g.Claims)
	return changedOne(res, err, "approve device code")
}

// DeclineDeviceCode declines a pending, unexpired authorization in one conditional UPDATE.
func (s *Store) DeclineDeviceCode(ctx context.Context, hash string, now time.Time) error {
	res, err := s.auto().exec(ctx, `UPDATE device_codes SET status = 'declined'
		WHERE hash = $1 AND status = 'pending' AND expires_at > $2`, hash, ms(now))
	return changedOne(res, err, "decline device code")
}

// changedOne turns the result of a conditional UPDATE into nil (one row changed) or
// store.ErrNotFound (none).
func changedOne(res sql.Result, err error, what string) error {
	if err != nil {
		return fmt.Errorf("sqlstore: %s: %w", what, err)
	}
	if n, err := res.RowsAffected(); err != nil || n == 0 {
		return fmt.Errorf("%s: %w", what, store.ErrNotFound)
	}
	return nil
}

// PollDeviceCode records a poll in one conditional UPDATE that moves last_polled_at only when
// the previous poll is at least interval old; when it matches no row, a SELECT tells a poll
// that came too fast from an unknown device code.
func (s *Store) PollDeviceCode(ctx context.Context, hash string, now time.Time, interval time.Duration) (store.DeviceCode, bool, error) {
	var d store.DeviceCode
	recorded := true
	err := s.tx(ctx, func(tx *sql.Tx) error {
		var err error
		d, err = scanDevice(s.in(tx).queryRow(ctx, qPollDevice, hash, ms(now), ms(now)-interval.Milliseconds()))
		if !errors.Is(err, sql.ErrNoRows) {
			return err
		}
		recorded = false
		d, err = scanDevice(s.in(tx).queryRow(ctx, qDeviceByHash, hash))
		return err
	})
	if err != nil {
		return store.DeviceCode{}, false, notFound(err, "device code")
	}
	return d, recorded, nil
}

// RedeemDeviceCode redeems an approved, unexpired authorization in one conditional UPDATE.
func (s *Store) RedeemDeviceCode(ctx context.Context, hash string, now time.Time) (store.DeviceCode, error) {
	var d store.DeviceCode
	err := s.tx(ctx, func(tx *sql.Tx) error {
		var err error
		d, err = scanDevice(s.in(tx).queryRow(ctx, qRedeemDevice, hash, ms(now)))
		if !errors.Is(err, sql.ErrNoRows) {
			return err
		}
		if d, err = scanDevice(s.in(tx).queryRow(ctx, qDeviceByHash, hash)); err == nil && d.Status == store.DeviceRedeemed {
			return fmt.Errorf("device code: %w", store.ErrRedeemed)
		}
		return sql.ErrNoRows
	})
	if err != nil {
		return store.DeviceCode{}, notFound(err, "device code")
	}
	return d, nil
}

func scanDevice(row *sql.Row) (store.DeviceCode, error) {
	var d store.DeviceCode
	var g grantScan
	var status string
	var created, expires, entered, polled int64
	dest := []any{&d.Hash, &d.UserCodeHash, &d.Tenant, &d.Scope, &status}
	dest = append(dest, g.dest()...)
	dest = append(dest, &created, &expires, &entered, &polled)
	if err := row.Scan(dest...); err != nil {
		return store.DeviceCode{}, err
	}
	d.Status, d.Grant = store.DeviceStatus(status), g.finish()
	d.CreatedAt, d.ExpiresAt, d.EnteredAt, d.LastPolledAt = fromMS(created), fromMS(expires), fromMS(entered), fromMS(polled)
	return d, nil
}
