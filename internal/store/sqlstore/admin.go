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
		if err := rows.Scan(userDest(&u)...); err != nil {
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

// TenantGrants lists a tenant's consents, one per (app, user, resource).
func (s *Store) TenantGrants(ctx context.Context, tenantID string) ([]directory.Grant, error) {
	rows, err := s.auto().query(ctx, `SELECT client_id, user_id, resource, scope FROM grants WHERE tenant_id = $1
		ORDER BY client_id, user_id, resource, scope`, tenantID)
	if err != nil {
		return nil, fmt.Errorf("sqlstore: tenant grants: %w", err)
	}
	defer rows.Close()
	var out []directory.Grant
	for rows.Next() {
		var client, user, resource, scope string
		if err := rows.Scan(&client, &user, &resource, &scope); err != nil {
			return nil, fmt.Errorf("sqlstore: tenant grants: %w", err)
		}
		if n := len(out); n == 0 || out[n-1].ClientID != client || out[n-1].UserID != user || out[n-1].Resource != resource {
			out = append(out, directory.Grant{TenantID: tenantID, ClientID: client, UserID: user, Resource: resource})
		}
		out[len(out)-1].Scopes = append(out[len(out)-1].Scopes, scope)
	}
	return out, rows.Err()
}

// DeleteGrant deletes every scope of one consent.
func (s *Store) DeleteGrant(ctx context.Context, tenantID, clientID, userID, resource string) error {
	return rowsOrNotFound(s.auto().exec(ctx, `DELETE FROM grants WHERE tenant_id = $1 AND client_id = $2 AND user_id = $3
		AND resource = $4`, tenantID, clientID, userID, resource))
}

// TenantGroups lists a tenant's groups.
func (s *Store) TenantGroups(ctx context.Context, tenantID string) ([]directory.Group, error) {
	rows, err := s.auto().query(ctx, `SELECT id, display_name FROM security_groups WHERE tenant_id = $1
		ORDER BY display_name, id`, tenantID)
	if err != nil {
		return nil, fmt.Errorf("sqlstore: groups: %w", err)
	}
	defer rows.Close()
	var out []directory.Group
	for rows.Next() {
		g := directory.Group{TenantID: tenantID}
		if err := rows.Scan(&g.ID, &g.DisplayName); err != nil {
			return nil, fmt.Errorf("sqlstore: groups: %w", err)
		}
		out = append(out, g)
	}
	return out, rows.Err()
}

// AddGroupMember inserts the membership only when group and user are of one tenant.
func (s *Store) AddGroupMember(ctx context.Context, groupID, userID string) error {
	res, err := s.auto().exec(ctx, `INSERT INTO group_members (group_id, user_id)
		SELECT g.id, u.id FROM security_groups g JOIN users u ON u.tenant_id = g.tenant_id WHERE g.id = $1 AND u.id = $2
		ON CONFLICT DO NOTHING`, groupID, userID)
	if err != nil {
		return fmt.Errorf("sqlstore: add group member: %w", err)
	}
	if n, err := res.RowsAffected(); err != nil || n == 0 {
		return errors.Join(store.ErrConflict, err)
	}
	return nil
}

// RemoveGroupMember deletes one membership.
func (s *Store) RemoveGroupMember(ctx context.Context, groupID, userID string) error {
	return rowsOrNotFound(s.auto().exec(ctx, `DELETE FROM group_members WHERE group_id = $1 AND user_id = $2`, groupID, userID))
}

// rowsOrNotFound turns a write that touched no row into ErrNotFound.
func rowsOrNotFound(res sql.Result, err error) error {
	if err != nil {
		return fmt.Errorf("sqlstore: %w", err)
	}
	if n, err := res.RowsAffected(); err != nil || n == 0 {
		return errors.Join(store.ErrNotFound, err)
	}
	return nil
}
