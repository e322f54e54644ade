package protocol

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/sigil-idp/sigil/internal/directory"
	"github.com/sigil-idp/sigil/internal/store"
)

// tenantRef is what the {tenant} path segment names: one tenant (by id or domain, in any
// case — MSAL lower-cases authorities), or, for common and organizations, any tenant whose
// users an app registered for any tenant admits.
type tenantRef struct {
	segment string // lower-cased, as used in this server's URLs
	tenant  directory.Tenant
	multi   bool
}

// resolveTenant resolves a tenant path segment.
func (s *Server) resolveTenant(ctx context.Context, segment string) (tenantRef, error) {
	seg := strings.ToLower(segment)
	if directory.IsMultiTenantSegment(seg) {
		return tenantRef{segment: seg, multi: true}, nil
	}
	if seg == directory.TenantConsumers || len(seg) > 255 || seg == "" {
		return tenantRef{}, errTenantUnsupported.new(truncate(segment, 64))
	}
	var t directory.Tenant
	var err error
	if directory.IsGUID(seg) {
		t, err = s.store.TenantByID(ctx, seg)
	} else {
		t, err = s.store.TenantByDomain(ctx, seg)
	}
	if errors.Is(err, store.ErrNotFound) {
		return tenantRef{}, errTenantNotFound.new(truncate(segment, 64))
	}
	if err != nil {
		return tenantRef{}, err
	}
	return tenantRef{segment: seg, tenant: t}, nil
}

// admits reports whether a user of tenantID may sign in through this tenant reference.
func (t tenantRef) admits(tenantID string) bool { return t.multi || t.tenant.ID == tenantID }

// name is how errors name the tenant.
func (t tenantRef) name() string {
	if t.multi {
		return t.segment
	}
	return t.tenant.ID
}

// appFor looks up the client and checks that it may be used through this tenant reference:
// registered in the tenant, or registered for any tenant when the reference is common.
func (s *Server) appFor(ctx context.Context, t tenantRef, clientID string) (directory.App, error) {
	if clientID == "" {
		return directory.App{}, errMissingParam.new("client_id")
	}
	if !directory.IsGUID(clientID) {
		return directory.App{}, errAppNotFound.new(truncate(clientID, 64), t.name())
	}
	app, err := s.store.AppByClientID(ctx, strings.ToLower(clientID))
	if errors.Is(err, store.ErrNotFound) {
		return app, errAppNotFound.new(clientID, t.name())
	}
	if err != nil {
		return app, err
	}
	switch {
	case t.multi && app.SignInAudience != directory.AudienceAnyTenant:
		return app, errAppNotMultiTenant.new(clientID)
	case !t.multi && app.TenantID != t.tenant.ID && app.SignInAudience != directory.AudienceAnyTenant:
		return app, errAppNotFound.new(clientID, t.name()).withDevNotes(fmt.Sprintf(
			"The app %q is registered in the tenant %s, not in %s: use that tenant's authority, %s/%s, or set signInAudience: AzureADMultipleOrgs on the app.",
			app.DisplayName, app.TenantID, t.name(), s.publicURL, app.TenantID))
	}
	return app, nil
}
