package sqlstore

import (
	"context"
	"database/sql"
	"encoding/base64"
	"fmt"
	"strings"
	"time"

	"github.com/sigil-idp/sigil/internal/directory"
	"github.com/sigil-idp/sigil/internal/store"
)

// UpsertTenant creates or replaces a tenant and its domain list. A domain that belongs to
// another tenant yields store.ErrConflict.
func (s *Store) UpsertTenant(ctx context.Context, t directory.Tenant) error {
	return s.directoryTx(ctx, func(tx *sql.Tx) error {
		if _, err := s.in(tx).exec(ctx, `INSERT INTO tenants (id, display_name, updated_at) VALUES ($1, $2, $3)
			ON CONFLICT (id) DO UPDATE SET display_name = excluded.display_name, updated_at = excluded.updated_at`,
			t.ID, t.DisplayName, time.Now().UnixMilli()); err != nil {
			return fmt.Errorf("sqlstore: upsert tenant: %w", err)
		}
		if _, err := s.in(tx).exec(ctx, `DELETE FROM tenant_domains WHERE tenant_id = $1`, t.ID); err != nil {
			return fmt.Errorf("sqlstore: upsert tenant: %w", err)
		}
		for _, d := range t.Domains {
			if _, err := s.in(tx).exec(ctx, `INSERT INTO tenant_domains (domain, tenant_id) VALUES ($1, $2)`, d, t.ID); err != nil {
				if isUniqueViolation(err) {
					return fmt.Errorf("domain %q belongs to another tenant: %w", d, store.ErrConflict)
				}
				return fmt.Errorf("sqlstore: upsert tenant domain: %w", err)
			}
		}
		return nil
	})
}

const tenantQuery = `SELECT t.id, t.display_name, COALESCE(d.domain, '') FROM tenants t
	LEFT JOIN tenant_domains d ON d.tenant_id = t.id `

// TenantByID returns a tenant with its domains.
func (s *Store) TenantByID(ctx context.Context, id string) (directory.Tenant, error) {
	return cached(s, cacheKey{kind: 't', key: id}, func() (directory.Tenant, error) {
		return s.tenant(ctx, tenantQuery+`WHERE t.id = $1 ORDER BY d.domain`, id)
	}, cloneTenant)
}

// TenantByDomain returns the tenant that owns a domain.
func (s *Store) TenantByDomain(ctx context.Context, domain string) (directory.Tenant, error) {
	return cached(s, cacheKey{kind: 'd', key: domain}, func() (directory.Tenant, error) {
		return s.tenant(ctx, tenantQuery+`WHERE t.id = (SELECT tenant_id FROM tenant_domains WHERE domain = $1) ORDER BY d.domain`, domain)
	}, cloneTenant)
}

func (s *Store) tenant(ctx context.Context, query, arg string) (directory.Tenant, error) {
	rows, err := s.auto().query(ctx, query, arg)
	if err != nil {
		return directory.Tenant{}, fmt.Errorf("sqlstore: tenant: %w", err)
	}
	defer rows.Close()
	var t directory.Tenant
	for rows.Next() {
		var domain string
		if err := rows.Scan(&t.ID, &t.DisplayName, &domain); err != nil {
			return directory.Tenant{}, fmt.Errorf("sqlstore: tenant: %w", err)
		}
		if domain != "" {
			t.Domains = append(t.Domains, domain)
		}
	}
	if err := rows.Err(); err != nil {
		return directory.Tenant{}, fmt.Errorf("sqlstore: tenant: %w", err)
	}
	if t.ID == "" {
		return directory.Tenant{}, fmt.Errorf("tenant %q: %w", arg, store.ErrNotFound)
	}
	return t, nil
}

// UpsertUser creates or replaces a user. A username taken by another user yields
// store.ErrConflict.
func (s *Store) UpsertUser(ctx context.Context, u directory.User) error {
	_, err := s.auto().exec(ctx, `INSERT INTO users (id, tenant_id, username, display_name, given_name, surname, email,
			password_hash, enabled, admin, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
		ON CONFLICT (id) DO UPDATE SET tenant_id = excluded.tenant_id, username = excluded.username,
			display_name = excluded.display_name, given_name = excluded.given_name, surname = excluded.surname,
			email = excluded.email, password_hash = excluded.password_hash, enabled = excluded.enabled,
			admin = excluded.admin, updated_at = excluded.updated_at`,
		u.ID, u.TenantID, u.Username, u.DisplayName, u.GivenName, u.Surname, u.Email, u.PasswordHash, u.Enabled,
		u.Admin, time.Now().UnixMilli())
	if isUniqueViolation(err) {
		return fmt.Errorf("username %q belongs to another user: %w", u.Username, store.ErrConflict)
	}
	if err != nil {
		return fmt.Errorf("sqlstore: upsert user: %w", err)
	}
	return nil
}

const userColumns = `id, tenant_id, username, display_name, given_name, surname, email, password_hash, enabled, admin`

func scanUser(row *sql.Row) (directory.User, error) {
	var u directory.User
	err := row.Scan(userDest(&u)...)
	return u, err
}

// userDest is where userColumns scan into.
func userDest(u *directory.User) []any {
	return []any{&u.ID, &u.TenantID, &u.Username, &u.DisplayName, &u.GivenName, &u.Surname, &u.Email,
		&u.PasswordHash, &u.Enabled, &u.Admin}
}

// UserByID returns a user by object id.
func (s *Store) UserByID(ctx context.Context, id string) (directory.User, error) {
	u, err := scanUser(s.auto().queryRow(ctx, `SELECT `+userColumns+` FROM users WHERE id = $1`, id))
	if err != nil {
		return u, notFound(err, "user")
	}
	return u, nil
}

// UserByUsername returns a user by lower-case username.
func (s *Store) UserByUsername(ctx context.Context, username string) (directory.User, error) {
	u, err := scanUser(s.auto().queryRow(ctx, `SELECT `+userColumns+` FROM users WHERE username = $1`, username))
	if err != nil {
		return u, notFound(err, "user")
	}
	return u, nil
}

// UpsertApp creates or replaces an app registration with its redirect URIs, post-logout
// URIs and secret hashes.
func (s *Store) UpsertApp(ctx context.Context, a directory.App) error {
	l := a.Lifetimes
	return s.directoryTx(ctx, func(tx *sql.Tx) error {
		if _, err := s.in(tx).exec(ctx, `INSERT INTO apps (client_id, tenant_id, display_name, sign_in_audience, consent,
				implicit_id_tokens, implicit_access_tokens, logout_url, backchannel_logout_url, optional_id_claims,
				optional_access_claims, access_token_ms, id_token_ms, auth_code_ms, refresh_reuse_ms, refresh_idle_ms,
				refresh_spa_absolute_ms, refresh_absolute_ms, updated_at, group_claims, allow_public_client_flows,
				id_token_signing_alg)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22)
			ON CONFLICT (client_id) DO UPDATE SET tenant_id = excluded.tenant_id, display_name = excluded.display_name,
				sign_in_audience = excluded.sign_in_audience, consent = excluded.consent,
				implicit_id_tokens = excluded.implicit_id_tokens, implicit_access_tokens = excluded.implicit_access_tokens,
				logout_url = excluded.logout_url, backchannel_logout_url = excluded.backchannel_logout_url,
				optional_id_claims = excluded.optional_id_claims, optional_access_claims = excluded.optional_access_claims,
				access_token_ms = excluded.access_token_ms, id_token_ms = excluded.id_token_ms,
				auth_code_ms = excluded.auth_code_ms, refresh_reuse_ms = excluded.refresh_reuse_ms,
				refresh_idle_ms = excluded.refresh_idle_ms, refresh_spa_absolute_ms = excluded.refresh_spa_absolute_ms,
				refresh_absolute_ms = excluded.refresh_absolute_ms, updated_at = excluded.updated_at,
				group_claims = excluded.group_claims, allow_public_client_flows = excluded.allow_public_client_flows,
				id_token_signing_alg = excluded.id_token_signing_alg`,
			a.ClientID, a.TenantID, a.DisplayName, string(a.SignInAudience), string(a.Consent), a.ImplicitIDTokens,
			a.ImplicitAccessTokens, a.LogoutURL, a.BackchannelLogoutURL, joinList(a.OptionalIDClaims),
			joinList(a.OptionalAccessClaims), l.AccessToken.Milliseconds(), l.IDToken.Milliseconds(),
			l.AuthorizationCode.Milliseconds(), l.RefreshReuse.Milliseconds(), l.RefreshIdle.Milliseconds(),
			l.RefreshSPAAbsolute.Milliseconds(), l.RefreshAbsolute.Milliseconds(), time.Now().UnixMilli(),
			string(a.GroupClaims), a.AllowPublicClientFlows, a.IDTokenSigningAlg); err != nil {
			return fmt.Errorf("sqlstore: upsert app: %w", err)
		}
		return replaceAppLists(ctx, s.in(tx), a)
	})
}

func replaceAppLists(ctx context.Context, c conn, a directory.App) error {
	if _, err := c.exec(ctx, `DELETE FROM app_uris WHERE client_id = $1`, a.ClientID); err != nil {
		return fmt.Errorf("sqlstore: upsert app: %w", err)
	}
	type row struct{ kind, value, platform, origin string }
	var rows []row
	for _, r := range a.RedirectURIs {
		rows = append(rows, row{"r", r.URI, string(r.Platform), directory.Origin(r.URI)})
	}
	for _, u := range a.PostLogoutRedirectURIs {
		rows = append(rows, row{"p", u, "", ""})
	}
	for _, h := range a.SecretHashes {
		rows = append(rows, row{"s", h, "", ""})
	}
	for _, der := range a.Certificates {
		rows = append(rows, row{"c", base64.StdEncoding.EncodeToString(der), "", ""})
	}
	for _, p := range a.AppPermissions {
		rows = append(rows, row{"a", p.Resource + "/" + p.Role, "", ""})
	}
	for i, r := range rows {
		if _, err := c.exec(ctx, `INSERT INTO app_uris (client_id, kind, value, platform, origin, position)
			VALUES ($1, $2, $3, $4, $5, $6)`, a.ClientID, r.kind, r.value, r.platform, r.origin, i); err != nil {
			if isUniqueViolation(err) {
				return fmt.Errorf("app %s lists %q twice: %w", a.ClientID, r.value, store.ErrConflict)
			}
			return fmt.Errorf("sqlstore: upsert app list: %w", err)
		}
	}
	return nil
}

// AppByClientID returns an app registration with its lists.
func (s *Store) AppByClientID(ctx context.Context, clientID string) (directory.App, error) {
	return cached(s, cacheKey{kind: 'a', key: clientID}, func() (directory.App, error) {
		return s.app(ctx, clientID)
	}, cloneApp)
}

func (s *Store) app(ctx context.Context, clientID string) (directory.App, error) {
	var a directory.App
	var aud, consent, idClaims, atClaims, groupClaims string
	var at, it, ac, rr, ri, rs, ra int64
	err := s.auto().queryRow(ctx, `SELECT client_id, tenant_id, display_name, sign_in_audience, consent,
			implicit_id_tokens, implicit_access_tokens, logout_url, backchannel_logout_url, optional_id_claims,
			optional_access_claims, access_token_ms, id_token_ms, auth_code_ms, refresh_reuse_ms, refresh_idle_ms,
			refresh_spa_absolute_ms, refresh_absolute_ms, group_claims, allow_public_client_flows, id_token_signing_alg
			FROM apps WHERE client_id = $1`, clientID).
		Scan(&a.ClientID, &a.TenantID, &a.DisplayName, &aud, &consent, &a.ImplicitIDTokens, &a.ImplicitAccessTokens,
			&a.LogoutURL, &a.BackchannelLogoutURL, &idClaims, &atClaims, &at, &it, &ac, &rr, &ri, &rs, &ra, &groupClaims,
			&a.AllowPublicClientFlows, &a.IDTokenSigningAlg)
	if err != nil {
		return a, notFound(err, "app")
	}
	a.SignInAudience, a.Consent = directory.Audience(aud), directory.ConsentPolicy(consent)
	a.GroupClaims = directory.GroupClaims(groupClaims)
	a.OptionalIDClaims, a.OptionalAccessClaims = splitList(idClaims), splitList(atClaims)
	d := func(v int64) time.Duration { return time.Duration(v) * time.Millisecond }
	a.Lifetimes = directory.Lifetimes{AccessToken: d(at), IDToken: d(it), AuthorizationCode: d(ac), RefreshReuse: d(rr),
		RefreshIdle: d(ri), RefreshSPAAbsolute: d(rs), RefreshAbsolute: d(ra)}
	rows, err := s.auto().query(ctx, `SELECT kind, value, platform FROM app_uris WHERE client_id = $1
		ORDER BY position`, clientID)
	if err != nil {
		return a, fmt.Errorf("sqlstore: app lists: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var kind, value, platform string
		if err := rows.Scan(&kind, &value, &platform); err != nil {
			return a, fmt.Errorf("sqlstore: app lists: %w", err)
		}
		switch kind {
		case "r":
			a.RedirectURIs = append(a.RedirectURIs, directory.RedirectURI{URI: value, Platform: directory.Platform(platform)})
		case "p":
			a.PostLogoutRedirectURIs = append(a.PostLogoutRedirectURIs, value)
		case "s":
			a.SecretHashes = append(a.SecretHashes, value)
		case "c":
			der, err := base64.StdEncoding.DecodeString(value)
			if err != nil {
				return a, fmt.Errorf("sqlstore: app %s: certificate: %w", clientID, err)
			}
			a.Certificates = append(a.Certificates, der)
		case "a":
			i := max(strings.LastIndexByte(value, '/'), 0)
			a.AppPermissions = append(a.AppPermissions, directory.RoleAssignment{Resource: value[:i], Role: value[i+1:]})
		}
	}
	return a, rows.Err()
}

// IsSPAOrigin reports whether any app registers a spa redirect URI with this origin.
func (s *Store) IsSPAOrigin(ctx context.Context, origin string) (bool, error) {
	var n int
	err := s.auto().queryRow(ctx, `SELECT COUNT(*) FROM app_uris WHERE origin = $1 AND platform = 'spa'`, origin).Scan(&n)
	if err != nil {
		return false, fmt.Errorf("sqlstore: spa origin: %w", err)
	}
	return n > 0, nil
}

// AllowsPostLogoutRedirect reports whether uri is a redirect or post-logout redirect URI of
// an app usable through the tenant ("" for common): registered in it, or for any tenant.
func (s *Store) AllowsPostLogoutRedirect(ctx context.Context, tenantID, uri string) (bool, error) {
	var n int
	err := s.auto().queryRow(ctx, `SELECT COUNT(*) FROM app_uris u JOIN apps a ON a.client_id = u.client_id
		WHERE u.value = $1 AND u.kind IN ('r', 'p') AND (a.tenant_id = $2 OR a.sign_in_audience = $3)`,
		uri, tenantID, string(directory.AudienceAnyTenant)).Scan(&n)
	if err != nil {
		return false, fmt.Errorf("sqlstore: post-logout uri: %w", err)
	}
	return n > 0, nil
}

// UpsertAPI creates or replaces an API registration and its scopes.
func (s *Store) UpsertAPI(ctx context.Context, a directory.API) error {
	key := strings.ToLower(a.AppIDURI)
	return s.directoryTx(ctx, func(tx *sql.Tx) error {
		if _, err := s.in(tx).exec(ctx, `INSERT INTO apis (tenant_id, app_id_uri_key, app_id_uri, display_name, client_id,
			updated_at, signing_alg) VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (tenant_id, app_id_uri_key) DO UPDATE SET
			app_id_uri = excluded.app_id_uri, display_name = excluded.display_name, client_id = excluded.client_id,
			updated_at = excluded.updated_at, signing_alg = excluded.signing_alg`,
			a.TenantID, key, a.AppIDURI, a.DisplayName, a.ClientID, time.Now().UnixMilli(), a.SigningAlg); err != nil {
			return fmt.Errorf("sqlstore: upsert api: %w", err)
		}
		if _, err := s.in(tx).exec(ctx, `DELETE FROM api_scopes WHERE tenant_id = $1 AND app_id_uri_key = $2`,
			a.TenantID, key); err != nil {
			return fmt.Errorf("sqlstore: upsert api: %w", err)
		}
		for i, sc := range a.Scopes {
			if _, err := s.in(tx).exec(ctx, `INSERT INTO api_scopes (tenant_id, app_id_uri_key, value,
				admin_consent_required, description, position) VALUES ($1, $2, $3, $4, $5, $6)`,
				a.TenantID, key, sc.Value, sc.AdminConsentRequired, sc.Description, i); err != nil {
				return fmt.Errorf("sqlstore: upsert api scope: %w", err)
			}
		}
		return replaceAPIRoles(ctx, s.in(tx), a, key)
	})
}

// APIByURI returns an API of the tenant by Application ID URI, compared case-insensitively.
func (s *Store) APIByURI(ctx context.Context, tenantID, appIDURI string) (directory.API, error) {
	return cached(s, cacheKey{kind: 'i', tenantID: tenantID, key: appIDURI}, func() (directory.API, error) {
		return s.api(ctx, tenantID, appIDURI)
	}, cloneAPI)
}

func (s *Store) api(ctx context.Context, tenantID, appIDURI string) (directory.API, error) {
	rows, err := s.auto().query(ctx, `SELECT a.app_id_uri, a.display_name, a.client_id, a.signing_alg, COALESCE(s.value, ''),
			COALESCE(s.admin_consent_required, FALSE), COALESCE(s.description, '')
		FROM apis a LEFT JOIN api_scopes s ON s.tenant_id = a.tenant_id AND s.app_id_uri_key = a.app_id_uri_key
		WHERE a.tenant_id = $1 AND (a.app_id_uri_key = $2 OR a.client_id <> '' AND LOWER(a.client_id) = $2)
		ORDER BY s.position`, tenantID, strings.ToLower(appIDURI))
	if err != nil {
		return directory.API{}, fmt.Errorf("sqlstore: api: %w", err)
	}
	defer rows.Close()
	a := directory.API{TenantID: tenantID}
	for rows.Next() {
		var sc directory.APIScope
		if err := rows.Scan(&a.AppIDURI, &a.DisplayName, &a.ClientID, &a.SigningAlg, &sc.Value, &sc.AdminConsentRequired, &sc.Description); err != nil {
			return directory.API{}, fmt.Errorf("sqlstore: api: %w", err)
		}
		if sc.Value != "" {
			a.Scopes = append(a.Scopes, sc)
		}
	}
	if err := rows.Err(); err != nil {
		return directory.API{}, fmt.Errorf("sqlstore: api: %w", err)
	}
	if a.AppIDURI == "" {
		return directory.API{}, fmt.Errorf("api %q: %w", appIDURI, store.ErrNotFound)
	}
	a.AppRoles, err = s.apiRoles(ctx, tenantID, strings.ToLower(a.AppIDURI))
	return a, err
}

// AddGrant adds the grant's scopes (lower-cased) for its user, app and resource; scopes
// already granted are left as they are.
func (s *Store) AddGrant(ctx context.Context, g directory.Grant, now time.Time) error {
	return s.tx(ctx, func(tx *sql.Tx) error {
		for _, sc := range g.Scopes {
			if _, err := s.in(tx).exec(ctx, `INSERT INTO grants (client_id, tenant_id, user_id, resource, scope, granted_at)
				VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (client_id, tenant_id, user_id, resource, scope) DO NOTHING`,
				g.ClientID, g.TenantID, g.UserID, g.Resource, strings.ToLower(sc), ms(now)); err != nil {
				return fmt.Errorf("sqlstore: add grant: %w", err)
			}
		}
		return nil
	})
}

// Grants returns the user's and the tenant-wide grants to an app, one per (user, resource).
func (s *Store) Grants(ctx context.Context, tenantID, clientID, userID string) ([]directory.Grant, error) {
	rows, err := s.auto().query(ctx, `SELECT user_id, resource, scope FROM grants
		WHERE client_id = $1 AND tenant_id = $2 AND user_id IN ($3, '') ORDER BY user_id, resource, scope`,
		clientID, tenantID, userID)
	if err != nil {
		return nil, fmt.Errorf("sqlstore: grants: %w", err)
	}
	defer rows.Close()
	var out []directory.Grant
	for rows.Next() {
		var user, resource, scope string
		if err := rows.Scan(&user, &resource, &scope); err != nil {
			return nil, fmt.Errorf("sqlstore: grants: %w", err)
		}
		if n := len(out); n == 0 || out[n-1].UserID != user || out[n-1].Resource != resource {
			out = append(out, directory.Grant{TenantID: tenantID, ClientID: clientID, UserID: user, Resource: resource})
		}
		out[len(out)-1].Scopes = append(out[len(out)-1].Scopes, scope)
	}
	return out, rows.Err()
}
