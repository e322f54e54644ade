package protocol

import (
	"context"

	"github.com/sigil-idp/sigil/internal/directory"
)

// coverage expands the set's .default scopes (to every scope of the resource when an
// administrator grants for the tenant) and sorts what it asks for by grant: the
// granted scope keys per resource, and the scopes still missing — those the user may grant,
// and those only an administrator may. Authorization and refresh apply their own policies.
func (s *Server) coverage(ctx context.Context, app directory.App, user directory.User, set *directory.ScopeSet, adminGrants bool) (map[string]map[string]bool, []consentItem, []consentItem, error) {
	grants, err := s.store.Grants(ctx, user.TenantID, app.ClientID, user.ID)
	if err != nil {
		return nil, nil, nil, err
	}
	granted := map[string]map[string]bool{}
	var userMissing, adminMissing []consentItem
	for i := range set.Groups {
		g := &set.Groups[i]
		have := directory.GrantedScopes(grants, g.Resource)
		g.ExpandDefault(have, adminGrants)
		granted[g.Resource] = have
		u, a := g.Missing(have, app.Consent)
		for _, sc := range u {
			userMissing = append(userMissing, consentItem{resource: g.Resource, scope: sc})
		}
		for _, sc := range a {
			adminMissing = append(adminMissing, consentItem{resource: g.Resource, scope: sc})
		}
	}
	return granted, userMissing, adminMissing, nil
}

// consentState returns the granted scope keys per resource and the scopes the consent page
// must ask for: the missing ones, or with prompt=consent every requested one a user may
// grant. Scopes only an administrator may grant, and missing, end the request:
// consent_required when silent, access_denied (AADSTS90094) when interactive — never a
// dead-end page.
func (s *Server) consentState(ctx context.Context, f *flow, set *directory.ScopeSet, user directory.User) (map[string]map[string]bool, []consentItem, error) {
	adminGrants := user.Admin && (f.req.Prompt == "consent" || f.req.Reply.Type.AdminConsent)
	granted, ask, admin, err := s.coverage(ctx, f.app, user, set, adminGrants)
	switch {
	case err != nil:
		return nil, nil, err
	case f.req.Reply.Type.AdminConsent && !user.Admin:
		return nil, nil, errNotAdmin.new(user.Username)
	case adminGrants && len(admin) > 0:
		// An administrator decides on the admin-only scopes on the consent page, and grants
		// them tenant-wide; once the page is accepted, what was not ticked stays ungranted.
		if !f.consented {
			for i := range admin {
				admin[i].tenantWide = true
			}
			ask = append(ask, admin...)
		}
		admin = nil
	}
	switch {
	case len(admin) > 0 && f.req.silent():
		return nil, nil, errConsentNeeded.new(f.app.ClientID, f.app.DisplayName)
	case len(admin) > 0:
		return nil, nil, errAdminConsent.new(admin[0].scope.Requested, f.app.DisplayName)
	case f.consented:
		return granted, nil, nil // what was not ticked stays ungranted; the code carries the rest
	case f.req.Prompt == "consent" || f.req.Reply.Type.AdminConsent:
		ask = nil
		for _, g := range set.Groups {
			for _, sc := range g.Scopes {
				if !sc.AdminOnly || adminGrants {
					ask = append(ask, consentItem{resource: g.Resource, scope: sc, tenantWide: adminGrants && (sc.AdminOnly || f.req.Reply.Type.AdminConsent)})
				}
			}
		}
	}
	if len(ask) > 0 && f.req.silent() {
		return nil, nil, errConsentNeeded.new(f.app.ClientID, f.app.DisplayName)
	}
	return granted, ask, nil
}

// consentItem is one scope the consent page asks for.
type consentItem struct {
	resource   string
	scope      directory.Scope
	tenantWide bool // granted for every user of the tenant, by an administrator
}

// checkboxValue is what the consent form posts for a scope: the app's spelling for API
// scopes, the lower-case short name for the profile API (README, "Login pages").
func (c consentItem) checkboxValue() string {
	if c.resource == directory.ProfileResource {
		return c.scope.Key()
	}
	return c.scope.Requested
}

// codeScopes picks what a code grants: the covered scopes of the primary resource (in
// canonical spelling) plus the OpenID Connect scopes that were granted.
func codeScopes(set directory.ScopeSet, granted map[string]map[string]bool, policy directory.ConsentPolicy) (string, []string) {
	var out []string
	if set.OpenID {
		out = append(out, directory.ScopeOpenID)
	}
	covered := func(g directory.ResourceScopes, sc directory.Scope) bool {
		return granted[g.Resource][sc.Key()] || !sc.AdminOnly && policy == directory.ConsentPreauthorized
	}
	primary := set.Primary()
	resource := directory.ProfileResource
	for i, g := range set.Groups {
		if i == primary {
			resource = g.Resource
		}
		for _, sc := range g.Scopes {
			oidc := g.Resource == directory.ProfileResource && sc.Value != "User.Read"
			if (i == primary || oidc) && covered(g, sc) {
				out = append(out, g.Canonical(sc))
			}
		}
	}
	return resource, out
}

// silentScopes resolves the scope parameter of a grant that has no consent page — on-behalf-of
// and the password grant — for user of app: at most one API besides the OpenID Connect
// scopes, every scope of which the user or an administrator granted to app (or the app's
// preauthorization covers). profile, email and offline_access ride along without a grant of
// their own, since there is no page to ask for them on; what a token may do is decided by the
// resource's scopes. It returns the grant's resource and scopes, as a code would carry them,
// and the requested scopes that nobody granted (then resource and scopes are empty).
func (s *Server) silentScopes(ctx context.Context, app directory.App, user directory.User, raw string) (string, []string, []string, error) {
	set, err := s.parseScopes(ctx, app, raw)
	if err != nil {
		return "", nil, nil, err
	}
	if set.APIResources() > 1 {
		return "", nil, nil, errManyResources.new(truncate(raw, 200))
	}
	granted, userMissing, adminMissing, err := s.coverage(ctx, app, user, &set, false)
	if err != nil {
		return "", nil, nil, err
	}
	var missing []string
	for _, c := range append(userMissing, adminMissing...) {
		switch k := c.scope.Key(); {
		case c.resource == directory.ProfileResource &&
			(k == directory.ScopeProfile || k == directory.ScopeEmail || k == directory.ScopeOfflineAccess):
			if granted[c.resource] == nil {
				granted[c.resource] = map[string]bool{}
			}
			granted[c.resource][k] = true
		default:
			missing = append(missing, c.scope.Requested)
		}
	}
	if len(missing) > 0 {
		return "", nil, missing, nil
	}
	resource, scopes := codeScopes(set, granted, app.Consent)
	return resource, scopes, nil, nil
}
