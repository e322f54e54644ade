package sqlstore

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"

	"github.com/sigil-idp/sigil/internal/directory"
	"github.com/sigil-idp/sigil/internal/store"
)

// replaceAPIRoles replaces the app roles of an API, inside UpsertAPI's transaction.
func replaceAPIRoles(ctx context.Context, c conn, a directory.API, key string) error {
	if _, err := c.exec(ctx, `DELETE FROM api_app_roles WHERE tenant_id = $1 AND app_id_uri_key = $2`,
		a.TenantID, key); err != nil {
		return fmt.Errorf("sqlstore: upsert api roles: %w", err)
	}
	for i, r := range a.AppRoles {
		types := make([]string, len(r.AllowedMemberTypes))
		for j, t := range r.AllowedMemberTypes {
			types[j] = string(t)
		}
		if _, err := c.exec(ctx, `INSERT INTO api_app_roles (tenant_id, app_id_uri_key, value, allowed_member_types,
			description, position) VALUES ($1, $2, $3, $4, $5, $6)`,
			a.TenantID, key, r.Value, joinList(types), r.Description, i); err != nil {
			if isUniqueViolation(err) {
				return fmt.Errorf("api %s defines role %q twice: %w", a.AppIDURI, r.Value, store.ErrConflict)
			}
			return fmt.Errorf("sqlstore: upsert api role: %w", err)
		}
	}
	return nil
}

// apiRoles returns the app roles of an API, in their order.
func (s *Store) apiRoles(ctx context.Context, tenantID, key string) ([]directory.AppRole, error) {
	rows, err := s.auto().query(ctx, `SELECT value, allowed_member_types, description FROM api_app_roles
		WHERE tenant_id = $1 AND app_id_uri_key = $2 ORDER BY position`, tenantID, key)
	if err != nil {
		return nil, fmt.Errorf("sqlstore: api roles: %w", err)
	}
	defer rows.Close()
	var out []directory.AppRole
	for rows.Next() {
		var r directory.AppRole
		var types string
		if err := rows.Scan(&r.Value, &types, &r.Description); err != nil {
			return nil, fmt.Errorf("sqlstore: api roles: %w", err)
		}
		for _, t := range splitList(types) {
			r.AllowedMemberTypes = append(r.AllowedMemberTypes, directory.MemberType(t))
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

// SetUserAppRoles replaces the user's app role assignments.
func (s *Store) SetUserAppRoles(ctx context.Context, tenantID, userID string, roles []directory.RoleAssignment) error {
	return s.tx(ctx, func(tx *sql.Tx) error {
		if _, err := s.in(tx).exec(ctx, `DELETE FROM user_app_roles WHERE user_id = $1`, userID); err != nil {
			return fmt.Errorf("sqlstore: set user roles: %w", err)
		}
		for _, r := range roles {
			if _, err := s.in(tx).exec(ctx, `INSERT INTO user_app_roles (user_id, tenant_id, app_id_uri_key, value)
				VALUES ($1, $2, $3, $4) ON CONFLICT (user_id, tenant_id, app_id_uri_key, value) DO NOTHING`,
				userID, tenantID, strings.ToLower(r.Resource), r.Role); err != nil {
				return fmt.Errorf("sqlstore: set user roles: %w", err)
			}
		}
		return nil
	})
}

// qUserRoles reads a user's roles of the API appIDURI ($3, lower-case; empty for none) and
// of the API whose own registration is clientID ($4; empty for none), tagged 0 and 1.
const qUserRoles = `SELECT 0, u.value FROM user_app_roles u JOIN api_app_roles r
		ON r.tenant_id = u.tenant_id AND r.app_id_uri_key = u.app_id_uri_key AND r.value = u.value
	WHERE u.user_id = $1 AND u.tenant_id = $2 AND u.app_id_uri_key = $3 AND $3 != ''
	UNION ALL
	SELECT 1, u.value FROM user_app_roles u
		JOIN apis a ON a.tenant_id = u.tenant_id AND a.app_id_uri_key = u.app_id_uri_key
		JOIN api_app_roles r ON r.tenant_id = u.tenant_id AND r.app_id_uri_key = u.app_id_uri_key AND r.value = u.value
	WHERE u.user_id = $1 AND u.tenant_id = $2 AND a.client_id = $4 AND $4 != ''
	ORDER BY 1, 2`

// UserRoles returns a user's roles of an API and of an app's own API, in one statement.
func (s *Store) UserRoles(ctx context.Context, tenantID, userID, appIDURI, clientID string) (apiRoles, clientRoles []string, err error) {
	rows, err := s.auto().query(ctx, qUserRoles, userID, tenantID, strings.ToLower(appIDURI), clientID)
	if err != nil {
		return nil, nil, fmt.Errorf("sqlstore: user roles: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var of int
		var v string
		if err := rows.Scan(&of, &v); err != nil {
			return nil, nil, fmt.Errorf("sqlstore: user roles: %w", err)
		}
		if of == 0 {
			apiRoles = append(apiRoles, v)
		} else {
			clientRoles = append(clientRoles, v)
		}
	}
	return apiRoles, clientRoles, rows.Err()
}

// UpsertGroup creates or replaces a group and its members. A member that is not a user
// yields store.ErrNotFound.
func (s *Store) UpsertGroup(ctx context.Context, g directory.Group) error {
	return s.tx(ctx, func(tx *sql.Tx) error {
		if _, err := s.in(tx).exec(ctx, `INSERT INTO security_groups (id, tenant_id, display_name, updated_at)
			VALUES ($1, $2, $3, $4) ON CONFLICT (id) DO UPDATE SET tenant_id = excluded.tenant_id,
			display_name = excluded.display_name, updated_at = excluded.updated_at`,
			g.ID, g.TenantID, g.DisplayName, time.Now().UnixMilli()); err != nil {
			return fmt.Errorf("sqlstore: upsert group: %w", err)
		}
		if _, err := s.in(tx).exec(ctx, `DELETE FROM group_members WHERE group_id = $1`, g.ID); err != nil {
			return fmt.Errorf("sqlstore: upsert group: %w", err)
		}
		for _, m := range g.Members {
			var n int
			if err := s.in(tx).queryRow(ctx, `SELECT COUNT(*) FROM users WHERE id = $1`, m).Scan(&n); err != nil {
				return fmt.Errorf("sqlstore: upsert group: %w", err)
			}
			if n == 0 {
				return fmt.Errorf("group %s: member %s: %w", g.ID, m, store.ErrNotFound)
			}
			if _, err := s.in(tx).exec(ctx, `INSERT INTO group_members (group_id, user_id) VALUES ($1, $2)
				ON CONFLICT (group_id, user_id) DO NOTHING`, g.ID, m); err != nil {
				return fmt.Errorf("sqlstore: upsert group member: %w", err)
			}
		}
		return nil
	})
}

// GroupByID returns a group with its members, sorted.
func (s *Store) GroupByID(ctx context.Context, id string) (directory.Group, error) {
	g := directory.Group{ID: id}
	err := s.auto().queryRow(ctx, `SELECT tenant_id, display_name FROM security_groups WHERE id = $1`, id).
		Scan(&g.TenantID, &g.DisplayName)
	if err != nil {
		return g, notFound(err, "group")
	}
	rows, err := s.auto().query(ctx, `SELECT user_id FROM group_members WHERE group_id = $1 ORDER BY user_id`, id)
	if err != nil {
		return g, fmt.Errorf("sqlstore: group members: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var m string
		if err := rows.Scan(&m); err != nil {
			return g, fmt.Errorf("sqlstore: group members: %w", err)
		}
		g.Members = append(g.Members, m)
	}
	return g, rows.Err()
}

// UserGroups returns the groups the user is a member of, by id.
func (s *Store) UserGroups(ctx context.Context, userID string) ([]directory.Group, error) {
	rows, err := s.auto().query(ctx, `SELECT g.id, g.tenant_id, g.display_name FROM group_members m
		JOIN security_groups g ON g.id = m.group_id WHERE m.user_id = $1 ORDER BY g.id`, userID)
	if err != nil {
		return nil, fmt.Errorf("sqlstore: user groups: %w", err)
	}
	defer rows.Close()
	var out []directory.Group
	for rows.Next() {
		var g directory.Group
		if err := rows.Scan(&g.ID, &g.TenantID, &g.DisplayName); err != nil {
			return nil, fmt.Errorf("sqlstore: user groups: %w", err)
		}
		out = append(out, g)
	}
	return out, rows.Err()
}
