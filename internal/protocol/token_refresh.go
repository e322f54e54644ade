package protocol

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/sigil-idp/sigil/internal/directory"
	"github.com/sigil-idp/sigil/internal/store"
	"github.com/sigil-idp/sigil/internal/tokens"
)

// refreshGrant exchanges a refresh token. It reads the token to check the client, platform,
// user and scopes, and only then presents it to the store — so a request that fails a check
// does not use the token up — which answers with its one successor (package store's doc has
// the state machine): the first, the same one again within the reuse interval (a retry, a
// second tab), or a new one after it when the previous answer was lost (never used); a
// token whose successor was used, or that was superseded, revokes the family (AADSTS50173).
// The successor's secret is derived from the presented token (successorToken), so every
// node answers a retry with the same refresh token while the store keeps only hashes.
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
	_, fam, stored, err := s.store.RefreshTokenAndUser(ctx, hash)
	switch {
	case errors.Is(err, store.ErrNotFound):
		return nil, s.prunedRefresh(ctx, tr, raw)
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
	if stored == nil || !stored.Enabled {
		return nil, errGrantUserGone.new()
	}
	user := *stored
	grant := fam.Grant
	var api *directory.API // the resource's, when the scope parameter resolved it
	if tr.p.has("scope") {
		if grant.Resource, grant.Scopes, api, err = s.refreshScopes(ctx, tr, user, fam.Grant); err != nil {
			return nil, err
		}
	}
	now, life := s.now(), s.lifetimesFor(tr.app)
	expires := now.Add(life.RefreshIdle)
	if expires.After(fam.AbsoluteExpiresAt) {
		expires = fam.AbsoluteExpiresAt
	}
	familyID := fam.ID
	successor := func(gen int) string { return tokens.Hash(s.successorToken(raw, familyID, gen)) }
	// The response is minted (signed) while the store makes the rotation durable, and sent
	// only once it is.
	var resp *tokenResponse
	var mintErr error
	issue := func(rt store.RefreshToken) error {
		claims, err := tr.claimsFor(grant)
		if err == nil {
			resp, err = s.mint(ctx, mintRequest{app: tr.app, authn: tr.authn, grant: grant, user: &user, claims: claims,
				api: api, ipaddr: tr.addr, refreshToken: s.successorToken(raw, familyID, rt.Generation),
				refreshExpires: rt.ExpiresAt, now: now})
		}
		mintErr = err
		return err
	}
	_, fam, err = s.store.RotateRefreshToken(ctx, store.Rotation{Hash: hash, Successor: successor, Now: now,
		ReuseUntil: now.Add(life.RefreshReuse), Expires: expires, Issue: issue})
	switch {
	case mintErr != nil && err == mintErr:
		return nil, mintErr
	case errors.Is(err, store.ErrReused):
		s.refreshReused(ctx, fam.Grant)
	}
	if err != nil {
		return nil, refreshError(err, fam, life, now)
	}
	if resp == nil { // the store broke Rotation.Issue's contract
		return nil, errors.New("protocol: the store answered a refresh without calling Issue")
	}
	return resp, nil
}

// A refresh token is "family.secret.tag": the family's id, 32 bytes of secret (random for
// a family's first token, derived from the parent for the others) and a MAC of both under
// the instance's refresh key. The tag lets a token the store has pruned (replaced, its
// successor used: package store's doc) still be recognised as one of the family's, whose
// presentation is reuse — so pruning keeps nothing per refresh and loses no detection.
// Tokens issued before this format are plain random strings; they keep working by hash.

// newRefreshToken returns a family's first refresh token.
func (s *Server) newRefreshToken(familyID string) string {
	return s.refreshTokenOf(familyID, tokens.RandomID(32))
}

// successorToken derives the gen-th successor of a refresh token (one secret per token and
// generation, under the instance key: a retry gets the same token on any node).
func (s *Server) successorToken(parent, familyID string, gen int) string {
	mac := hmac.New(sha256.New, s.refreshKey)
	mac.Write([]byte("sigil refresh successor\x00" + parent + "\x00" + strconv.Itoa(gen)))
	return s.refreshTokenOf(familyID, base64.RawURLEncoding.EncodeToString(mac.Sum(nil)))
}

func (s *Server) refreshTokenOf(familyID, secret string) string {
	return familyID + "." + secret + "." + s.refreshTag(familyID, secret)
}

func (s *Server) refreshTag(familyID, secret string) string {
	mac := hmac.New(sha256.New, s.refreshKey)
	mac.Write([]byte("sigil refresh tag\x00" + familyID + "." + secret))
	return base64.RawURLEncoding.EncodeToString(mac.Sum(nil)[:16])
}

// refreshFamilyOf returns the family of a refresh token of this instance's format whose tag
// is valid.
func (s *Server) refreshFamilyOf(raw string) (string, bool) {
	familyID, rest, ok := strings.Cut(raw, ".")
	if !ok {
		return "", false
	}
	secret, tag, ok := strings.Cut(rest, ".")
	if !ok || familyID == "" || secret == "" {
		return "", false
	}
	return familyID, hmac.Equal([]byte(tag), []byte(s.refreshTag(familyID, secret)))
}

// prunedRefresh answers a refresh token the store does not know. One of ours (its tag
// valid) was pruned, which only happens once it cannot be answered any more: its successor
// was used, or it was superseded. Presenting it is reuse, as for a stored one: the family is
// revoked (AADSTS50173). Anything else is AADSTS70000.
func (s *Server) prunedRefresh(ctx context.Context, tr *tokenRequest, raw string) error {
	familyID, ok := s.refreshFamilyOf(raw)
	if !ok {
		return errBadRefresh.new("")
	}
	fam, err := s.store.RevokeRefreshFamily(ctx, familyID, tr.app.ClientID, s.now())
	switch {
	case errors.Is(err, store.ErrNotFound): // expired and deleted, or another client's
		return errBadRefresh.new("")
	case err != nil:
		return err
	}
	s.refreshReused(ctx, fam.Grant)
	return errRefreshRevoked.new().because(fmt.Errorf("pruned refresh token: %w", store.ErrReused))
}

// refreshScopes resolves the scope parameter of a refresh request and checks that the user
// (or an administrator, or the app's preauthorization) granted all of it. The scopes the
// refreshed grant itself carries count as granted (RFC 6749 §6): the OpenID Connect scopes
// of an on-behalf-of or password grant were never on a consent page. It also returns the
// resolved API of the resource (nil for none, or the profile API).
func (s *Server) refreshScopes(ctx context.Context, tr *tokenRequest, user directory.User, prev store.Grant) (string, []string, *directory.API, error) {
	set, err := s.parseScopes(ctx, tr.app, tr.p.get("scope"))
	if err != nil {
		return "", nil, nil, err
	}
	if set.APIResources() > 1 {
		return "", nil, nil, errManyResources.new(truncate(tr.p.get("scope"), 200))
	}
	granted, missing := carriedScopes(prev, set), 0
	if granted == nil { // it asks for more than the grant carries, or for .default: read the grants
		var userMissing, adminMissing []consentItem
		if granted, userMissing, adminMissing, err = s.coverage(ctx, tr.app, user, &set, false); err != nil {
			return "", nil, nil, err
		}
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
	}
	if missing > 0 {
		e := errRefreshConsent.new(tr.app.ClientID, tr.app.DisplayName)
		e.Suberror = "consent_required"
		return "", nil, nil, e
	}
	resource, scopes := codeScopes(set, granted, tr.app.Consent)
	for _, g := range set.Groups {
		if g.API != nil && g.Resource == resource {
			return resource, scopes, g.API, nil
		}
	}
	return resource, scopes, nil, nil
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

// carriedScopes returns the set's scopes as granted when the grant carries every one of
// them and none is .default, else nil. Such a refresh needs no read of the consent grants:
// what the grant carries counts as granted anyway, and .default (whose expansion depends on
// the grants) is not involved.
func carriedScopes(prev store.Grant, set directory.ScopeSet) map[string]map[string]bool {
	granted := map[string]map[string]bool{}
	for _, g := range set.Groups {
		if g.Default {
			return nil
		}
		granted[g.Resource] = map[string]bool{}
		for _, sc := range g.Scopes {
			if !grantCarries(prev, consentItem{resource: g.Resource, scope: sc}) {
				return nil
			}
			granted[g.Resource][sc.Key()] = true
		}
	}
	return granted
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
