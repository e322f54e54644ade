package config

import (
	"context"
	"crypto/sha1"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/sigil-idp/sigil/internal/directory"
	"github.com/sigil-idp/sigil/internal/password"
	"github.com/sigil-idp/sigil/internal/store"
	"github.com/sigil-idp/sigil/internal/tokens"
)

// Apply creates or updates, in the store, every tenant, user, API and app the validated
// configuration names, and the tenant-wide grants of adminConsent. It is idempotent: applying
// the same file again changes nothing (a user's password is re-hashed only when it changed),
// and entities the file does not name are left alone. Grants are only ever added.
func Apply(ctx context.Context, c Config, st store.Store, hashParams password.Params) error {
	for _, t := range c.Tenants {
		if err := st.UpsertTenant(ctx, directory.Tenant{ID: t.ID, Domains: t.Domains, DisplayName: t.DisplayName}); err != nil {
			return fmt.Errorf("config: tenant %s: %w", t.ID, err)
		}
		for _, a := range append(t.APIs[:len(t.APIs):len(t.APIs)], AdminAPI()) {
			if err := st.UpsertAPI(ctx, toAPI(t.ID, a)); err != nil {
				return fmt.Errorf("config: api %s: %w", a.AppIDURI, err)
			}
		}
		for _, u := range t.Users {
			if err := applyUser(ctx, st, t.ID, u, hashParams); err != nil {
				return fmt.Errorf("config: user %s: %w", u.Username, err)
			}
		}
		for _, a := range t.Apps {
			if err := applyApp(ctx, st, t, a); err != nil {
				return fmt.Errorf("config: app %s: %w", a.ClientID, err)
			}
		}
		if err := applyGroups(ctx, st, t); err != nil {
			return err
		}
	}
	return nil
}

// Lifetimes are the server-wide token lifetimes; apps override them (see directory.Lifetimes).
func (c Config) Lifetimes() directory.Lifetimes { return lifetimes(c.TokenLifetimes, c.RefreshTokens) }

func lifetimes(t TokenLifetimes, r RefreshTokens) directory.Lifetimes {
	return directory.Lifetimes{
		AccessToken: time.Duration(t.AccessToken), IDToken: time.Duration(t.IDToken),
		AuthorizationCode: time.Duration(t.AuthorizationCode), RefreshReuse: time.Duration(r.ReuseInterval),
		RefreshIdle: time.Duration(r.IdleLifetime), RefreshSPAAbsolute: time.Duration(r.SPAAbsoluteLifetime),
		RefreshAbsolute: time.Duration(r.AbsoluteLifetime),
	}
}

func toAPI(tenantID string, a API) directory.API {
	out := directory.API{TenantID: tenantID, DisplayName: a.DisplayName, AppIDURI: a.AppIDURI, ClientID: a.ClientID,
		AppRoles: toAppRoles(a.AppRoles), SigningAlg: a.SigningAlg}
	for _, s := range a.Scopes {
		out.Scopes = append(out.Scopes, directory.APIScope{Value: s.Value, AdminConsentRequired: s.AdminConsentRequired,
			Description: s.Description})
	}
	return out
}

// UserID is the object id of a user the file names without one: a name-based GUID of tenant
// and username, so every restart and every node derives the same id.
func UserID(tenantID, username string) string {
	h := sha1.Sum([]byte("sigil-user\x00" + tenantID + "\x00" + strings.ToLower(username)))
	h[6], h[8] = h[6]&0x0f|0x50, h[8]&0x3f|0x80 // RFC 4122 version 5, variant 1
	return fmt.Sprintf("%x-%x-%x-%x-%x", h[0:4], h[4:6], h[6:8], h[8:10], h[10:16])
}

func applyUser(ctx context.Context, st store.Store, tenantID string, u User, hashParams password.Params) error {
	id := u.ID
	if id == "" {
		id = UserID(tenantID, u.Username)
	}
	hash := u.PasswordHash
	if hash == "" {
		existing, err := st.UserByID(ctx, id)
		if err != nil && !errors.Is(err, store.ErrNotFound) {
			return err
		}
		if ok, _ := password.Verify(existing.PasswordHash, u.Password); ok && existing.PasswordHash != "" {
			hash = existing.PasswordHash
		} else if hash, err = password.Hash(u.Password, hashParams); err != nil {
			return err
		}
	}
	err := st.UpsertUser(ctx, directory.User{ID: id, TenantID: tenantID, Username: u.Username, DisplayName: u.DisplayName,
		GivenName: u.GivenName, Surname: u.Surname, Email: u.Email, PasswordHash: hash, Enabled: u.Enabled == nil || *u.Enabled, Admin: u.Admin})
	if err != nil {
		return err
	}
	return st.SetUserAppRoles(ctx, tenantID, id, toRoleAssignments(u.AppRoles))
}

func applyApp(ctx context.Context, st store.Store, t Tenant, a App) error {
	app := directory.App{
		ClientID: a.ClientID, TenantID: t.ID, DisplayName: a.DisplayName,
		SignInAudience: directory.AudienceThisTenant, Consent: directory.ConsentUser,
		PostLogoutRedirectURIs: a.PostLogoutRedirectURIs, LogoutURL: a.LogoutURL, BackchannelLogoutURL: a.BackchannelLogoutURL,
		ImplicitIDTokens: a.ImplicitGrant.IDTokens, ImplicitAccessTokens: a.ImplicitGrant.AccessTokens,
		OptionalIDClaims: a.OptionalClaims.IDToken, OptionalAccessClaims: a.OptionalClaims.AccessToken,
		Lifetimes: lifetimes(a.TokenLifetimes, a.RefreshTokens), GroupClaims: toGroupClaims(a.GroupMembershipClaims),
		IDTokenSigningAlg: a.IDTokenSigningAlg,
	}
	if a.SignInAudience == SignInAudienceAnyTenant {
		app.SignInAudience = directory.AudienceAnyTenant
	}
	if a.Consent == ConsentPreauthorized {
		app.Consent = directory.ConsentPreauthorized
	}
	for _, p := range []struct {
		uris     []string
		platform directory.Platform
	}{{a.SPA.RedirectURIs, directory.PlatformSPA}, {a.Web.RedirectURIs, directory.PlatformWeb},
		{a.PublicClient.RedirectURIs, directory.PlatformPublicClient}} {
		for _, u := range p.uris {
			app.RedirectURIs = append(app.RedirectURIs, directory.RedirectURI{URI: u, Platform: p.platform})
		}
	}
	for _, s := range a.ClientSecrets {
		app.SecretHashes = append(app.SecretHashes, tokens.Hash(s))
	}
	for _, pemText := range a.Certificates {
		der, err := ParseCertificate(pemText) // validated: cannot fail
		if err != nil {
			return err
		}
		app.Certificates = append(app.Certificates, der)
	}
	app.AppPermissions = toRoleAssignments(a.ApplicationPermissions)
	app.AllowPublicClientFlows = a.AllowPublicClientFlows
	if err := st.UpsertApp(ctx, app); err != nil {
		return err
	}
	return applyAdminConsent(ctx, st, t, a)
}

// applyAdminConsent grants each "<appIdUri>/<scope>" of adminConsent tenant-wide.
func applyAdminConsent(ctx context.Context, st store.Store, t Tenant, a App) error {
	byResource := map[string][]string{}
	for _, entry := range a.AdminConsent {
		i := strings.LastIndexByte(entry, '/')
		for _, api := range t.APIs {
			if strings.EqualFold(api.AppIDURI, entry[:i]) {
				byResource[api.AppIDURI] = append(byResource[api.AppIDURI], entry[i+1:])
			}
		}
	}
	for resource, scopes := range byResource {
		g := directory.Grant{TenantID: t.ID, ClientID: a.ClientID, Resource: resource, Scopes: scopes}
		if err := st.AddGrant(ctx, g, time.Now()); err != nil {
			return err
		}
	}
	return nil
}

// CheckUser validates a user for a tenant with the given domains as the file's users are
// validated, and fills in what the file would default (enabled). Problems name "user.*".
func CheckUser(u *User, domains []string) error {
	v := &validator{usernames: make(map[string]string), userIDs: make(map[string]string)}
	set := make(map[string]bool, len(domains))
	for _, d := range domains {
		set[lower(d)] = true
	}
	v.user(u, "user", set)
	return newError(v.problems)
}

// ApplyUser creates or replaces one user of the tenant, hashing its password with hashParams,
// as applying the file does (the id derives from tenant and username unless u.ID is set). u
// must have passed CheckUser.
func ApplyUser(ctx context.Context, st store.Store, tenantID string, u User, hashParams password.Params) (string, error) {
	if u.ID == "" {
		u.ID = UserID(tenantID, u.Username)
	}
	return u.ID, applyUser(ctx, st, tenantID, u, hashParams)
}

// KeyRotation is the signing keys' rotation policy: the schedule, and how long a retired key
// stays published — the longest access or ID token lifetime of the server or any app, plus
// five minutes of clock skew.
func (c Config) KeyRotation() tokens.RotationPolicy {
	longest := max(time.Duration(c.TokenLifetimes.AccessToken), time.Duration(c.TokenLifetimes.IDToken))
	for _, t := range c.Tenants {
		for _, a := range t.Apps {
			longest = max(longest, time.Duration(a.TokenLifetimes.AccessToken), time.Duration(a.TokenLifetimes.IDToken))
		}
	}
	return tokens.RotationPolicy{Period: time.Duration(c.SigningKeys.RotationPeriod),
		PublishAhead: time.Duration(c.SigningKeys.PublishAhead), RetireAfter: longest + 5*time.Minute}
}
