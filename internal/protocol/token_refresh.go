package protocol

import (
	"context"
	"errors"
	"strings"
	"time"

	"github.com/sigil-idp/sigil/internal/directory"
	"github.com/sigil-idp/sigil/internal/store"
	"github.com/sigil-idp/sigil/internal/tokens"
)

// refreshGrant exchanges a refresh token. It reads the token to check the client, platform,
// user and scopes, and only then rotates it — so a request that fails a check does not use
// the token up — in one conditional statement in the store: of concurrent presentations,
// all win within the reuse interval, only the first after it, and reuse revokes the family.
//
// Any scope set the user consented to may be asked for (one resource at a time), as with
// Entra; without scope the grant's own scopes are used (RFC 6749 §6). Every failure is
// invalid_grant with no interaction words in its description, so MSAL falls back to its
// hidden iframe — except missing consent, which carries suberror consent_required.
func (s *Server) refreshGrant(ctx context.Context, tr *tokenRequest) (*tokenResponse, error) {
	raw := tr.p.get("refresh_token")
	if raw == "" {
		return nil, errMissingParam.new("refresh_token")
	}
	hash := tokens.Hash(raw)
	_, fam, err := s.store.RefreshToken(ctx, hash)
	switch {
	case errors.Is(err, store.ErrNotFound):
		return nil, errBadRefresh.new("")
	case err != nil:
		return nil, err
	case fam.Grant.ClientID != tr.app.ClientID:
		return nil, errBadRefresh.new(": it was issued to another application")
	case !tr.tenant.admits(fam.Grant.TenantID):
		return nil, errBadRefresh.new(": it was issued for another tenant")
	}
	if err := checkPlatform(tr, fam.Grant.Platform); err != nil {
		return nil, err
	}
	user, err := s.store.UserByID(ctx, fam.Grant.UserID)
	if errors.Is(err, store.ErrNotFound) || err == nil && !user.Enabled {
		return nil, errGrantUserGone.new()
	}
	if err != nil {
		return nil, err
	}
	grant := fam.Grant
	if tr.p.has("scope") {
		if grant.Resource, grant.Scopes, err = s.refreshScopes(ctx, tr, user, fam.Grant); err != nil {
			return nil, err
		}
	}
	now, life := s.now(), s.lifetimesFor(tr.app)
	next := tokens.RandomID(32)
	expires := now.Add(life.RefreshIdle)
	if expires.After(fam.AbsoluteExpiresAt) {
		expires = fam.AbsoluteExpiresAt
	}
	rt, fam, err := s.store.RotateRefreshToken(ctx, store.Rotation{Hash: hash, NewHash: tokens.Hash(next), Now: now,
		ReuseCutoff: now.Add(-life.RefreshReuse), Expires: expires})
	if errors.Is(err, store.ErrReused) {
		s.refreshReused(ctx, fam.Grant)
	}
	if err != nil {
		return nil, refreshError(err, fam, life, now)
	}
	claims, err := tr.claimsFor(grant)
	if err != nil {
		return nil, err
	}
	return s.mint(ctx, mintRequest{app: tr.app, authn: tr.authn, grant: grant, user: &user, claims: claims,
		ipaddr: tr.addr, refreshToken: next, refreshExpires: rt.ExpiresAt, now: now})
}

// refreshScopes resolves the scope parameter of a refresh request and checks that the user
// (or an administrator, or the app's preauthorization) granted all of it. The scopes the
// refreshed grant itself carries count as granted (RFC 6749 §6): the OpenID Connect scopes
// of an on-behalf-of or password grant were never on a consent page.
func (s *Server) refreshScopes(ctx context.Context, tr *tokenRequest, user directory.User, prev store.Grant) (string, []string, error) {
	set, err := s.parseScopes(ctx, tr.app, tr.p.get("scope"))
	if err != nil {
		return "", nil, err
	}
	if set.APIResources() > 1 {
		return "", nil, errManyResources.new(truncate(tr.p.get("scope"), 200))
	}
	granted, userMissing, adminMissing, err := s.coverage(ctx, tr.app, user, &set, false)
	if err != nil {
		return "", nil, err
	}
	missing := 0
	for _, c := range append(userMissing, adminMissing...) {
		if !grantCarries(prev, c) {
			missing++
			continue
		}
		if granted[c.resource] == nil {
			granted[c.resource] = map[string]bool{}
		}
		granted[c.resource][c.scope.Key()] = true
	}
	if missing > 0 {
		e := errRefreshConsent.new(tr.app.ClientID, tr.app.DisplayName)
		e.Suberror = "consent_required"
		return "", nil, e
	}
	resource, scopes := codeScopes(set, granted, tr.app.Consent)
	return resource, scopes, nil
}

// refreshError maps a refused rotation to the error table.
func refreshError(err error, fam store.RefreshFamily, life directory.Lifetimes, now time.Time) error {
	switch {
	case errors.Is(err, store.ErrNotFound):
		return errBadRefresh.new("")
	case errors.Is(err, store.ErrRevoked), errors.Is(err, store.ErrReused):
		return errRefreshRevoked.new().because(err)
	case errors.Is(err, store.ErrExpired) && !now.Before(fam.AbsoluteExpiresAt) && fam.Grant.Platform == directory.PlatformSPA:
		return errRefreshSPAExpired.new(lifetimeText(life.RefreshSPAAbsolute), timestamp(fam.CreatedAt))
	case errors.Is(err, store.ErrExpired) && !now.Before(fam.AbsoluteExpiresAt):
		return errCodeExpired.new()
	case errors.Is(err, store.ErrExpired):
		return errRefreshIdle.new(timestamp(fam.CreatedAt), lifetimeText(life.RefreshIdle))
	}
	return err
}

// lifetimeText formats a lifetime as Entra does ("1.00:00:00", days.hours:minutes:seconds).
func lifetimeText(d time.Duration) string {
	days := int(d / (24 * time.Hour))
	d -= time.Duration(days) * 24 * time.Hour
	return fmtDuration(days, d)
}

// grantCarries reports whether a grant's scopes (spelled as codes carry them: the profile
// API's short, the others with their resource) include a consent item's scope.
func grantCarries(g store.Grant, c consentItem) bool {
	for _, sc := range g.Scopes {
		resource, value := directory.ProfileResource, sc
		if i := strings.LastIndexByte(sc, '/'); i >= 0 {
			resource, value = sc[:i], sc[i+1:]
		}
		if strings.EqualFold(resource, c.resource) && strings.EqualFold(value, c.scope.Value) {
			return true
		}
	}
	return false
}
