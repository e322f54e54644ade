package sqlstore

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/sigil-idp/sigil/internal/directory"
	"github.com/sigil-idp/sigil/internal/store"
)

// Users lists a tenant's users in username order, from after on.
func (s *Store) Users(ctx context.Context, tenantID, after string, limit int) ([]directory.User, error) {
	rows, err := s.auto().query(ctx, `SELECT `+userColumns+` FROM users WHERE tenant_id = $1 AND username > $2
		ORDER BY username LIMIT $3`, tenantID, after, limit)
	if err != nil {
		return nil, fmt.Errorf("sqlstore: users: %w", err)
	}
	defer rows.Close()
	var out []directory.User
	for rows.Next() {
		var u directory.User
		if err := rows.Scan(&u.ID, &u.TenantID, &u.Username, &u.DisplayName, &u.GivenName, &u.Surname, &u.Email,
			&u.PasswordHash, &u.Enabled, &u.Admin); err != nil {
			return nil, fmt.Errorf("sqlstore: users: %w", err)
		}
		out = append(out, u)
	}
	return out, rows.Err()
}

// SetUserEnabled sets a user's enabled flag.
func (s *Store) SetUserEnabled(ctx context.Context, id string, enabled bool) error {
	return s.updateUser(ctx, `UPDATE users SET enabled = $2, updated_at = $3 WHERE id = $1`, id, enabled)
}

// SetUserPassword replaces a user's password hash.
func (s *Store) SetUserPassword(ctx context.Context, id, hash string) error {
	return s.updateUser(ctx, `UPDATE users SET password_hash = $2, updated_at = $3 WHERE id = $1`, id, hash)
}

// UpdateUserProfile sets the given profile fields; COALESCE keeps the others as stored.
func (s *Store) UpdateUserProfile(ctx context.Context, id string, p store.UserProfile) error {
	res, err := s.auto().exec(ctx, `UPDATE users SET display_name = COALESCE($2, display_name),
		given_name = COALESCE($3, given_name), surname = COALESCE($4, surname), email = COALESCE($5, email),
		admin = COALESCE($6, admin), updated_at = $7 WHERE id = $1`,
		id, p.DisplayName, p.GivenName, p.Surname, p.Email, p.Admin, time.Now().UnixMilli())
	if err != nil {
		return fmt.Errorf("sqlstore: update user profile: %w", err)
	}
	if n, err := res.RowsAffected(); err != nil || n == 0 {
		return errors.Join(store.ErrNotFound, err)
	}
	return nil
}

// updateUser runs one UPDATE of a user ($1 id, $2 value, $3 now) and reports ErrNotFound when
// no row matched.
func (s *Store) updateUser(ctx context.Context, q, id string, value any) error {
	res, err := s.auto().exec(ctx, q, id, value, time.Now().UnixMilli())
	if err != nil {
		return fmt.Errorf("sqlstore: update user: %w", err)
	}
	if n, err := res.RowsAffected(); err != nil || n == 0 {
		return errors.Join(store.ErrNotFound, err)
	}
	return nil
}

// AppIDs lists the client ids of a tenant's apps.
func (s *Store) AppIDs(ctx context.Context, tenantID string) ([]string, error) {
	rows, err := s.auto().query(ctx, `SELECT client_id FROM apps WHERE tenant_id = $1 ORDER BY client_id`, tenantID)
	if err != nil {
		return nil, fmt.Errorf("sqlstore: apps: %w", err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return nil, fmt.Errorf("sqlstore: apps: %w", err)
		}
		out = append(out, id)
	}
	return out, rows.Err()
}
