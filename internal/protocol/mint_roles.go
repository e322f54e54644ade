package protocol

import (
	"context"

	"github.com/sigil-idp/sigil/internal/directory"
	"github.com/sigil-idp/sigil/internal/store"
	"github.com/sigil-idp/sigil/internal/tokens"
)

// defaultGroupsOverage is Entra's limit of groups in a JWT, used when Options leave it zero.
const defaultGroupsOverage = 200

// memberObjectsPath is where the overage form sends clients for the groups left out: the
// profile API's getMemberObjects (as Entra's point at Graph's).
const memberObjectsPath = "/v1.0/me/getMemberObjects"

// directoryClaims are what a user's tokens say about the directory: the user's app roles of
// the access token's API, and the user's groups for an app with groupMembershipClaims.
type directoryClaims struct {
	roles    []string // values of the user's roles of the resource; nil for none
	appRoles []string // the user's roles of the API whose own registration the app is (ID tokens)
	groups   []string // group object ids; nil when the app asks for none or on overage
	overage  bool     // more groups than the limit: the overage form instead of groups
	implicit bool     // tokens of the implicit grant (the authorization endpoint)
}

// loadDirectoryClaims reads the user's roles of the grant's resource and, when the app asks
// for groups, the user's groups, into m.dir. implicit marks tokens of the implicit grant,
// whose ID tokens use hasgroups as the overage form.
func (s *Server) loadDirectoryClaims(ctx context.Context, m *mintRequest, u directory.User, implicit bool) error {
	d, err := readDirectoryClaims(ctx, s.store, m.app, u, m.grant.Resource, s.groupsOverage)
	d.implicit = implicit
	m.dir = d
	return err
}

// readDirectoryClaims reads what directoryClaims hold for the user's tokens from app for
// resource; past limit groups (limit <= 0: Entra's 200) they carry the overage form.
func readDirectoryClaims(ctx context.Context, st store.RolesAndGroups, app directory.App, u directory.User,
	resource string, limit int) (directoryClaims, error) {
	var d directoryClaims
	api := resource
	if api == directory.ProfileResource {
		api = ""
	}
	roles, appRoles, err := st.UserRoles(ctx, u.TenantID, u.ID, api, app.ClientID)
	if err != nil {
		return d, err
	}
	d.roles, d.appRoles = roles, appRoles
	if app.GroupClaims == directory.GroupClaimsNone {
		return d, nil
	}
	// SecurityGroup and All are the same here: every group of Sigil is a security group.
	groups, err := st.UserGroups(ctx, u.ID)
	if err != nil {
		return d, err
	}
	if limit <= 0 {
		limit = defaultGroupsOverage
	}
	if len(groups) > limit {
		d.overage = true
		return d, nil
	}
	for _, g := range groups {
		d.groups = append(d.groups, g.ID)
	}
	return d, nil
}

// access returns the claims of an access token; publicURL locates getMemberObjects.
func (d directoryClaims) access(publicURL string) tokens.DirectoryClaims {
	c := tokens.DirectoryClaims{Roles: d.roles, Groups: d.groups}
	if d.overage {
		c.ClaimNames, c.ClaimSources = distributedGroups(publicURL)
	}
	return c
}

// id returns the claims of an ID token: groups, or their overage form — hasgroups in the
// implicit grant's ID tokens, _claim_names and _claim_sources in the others (Entra's rule).
// Its roles are the user's roles of the app itself: of the API whose clientId the app is.
func (d directoryClaims) id(publicURL string) tokens.DirectoryClaims {
	c := tokens.DirectoryClaims{Roles: d.appRoles, Groups: d.groups}
	switch {
	case d.overage && d.implicit:
		c.HasGroups = true
	case d.overage:
		c.ClaimNames, c.ClaimSources = distributedGroups(publicURL)
	}
	return c
}

// distributedGroups is the overage form of tokens from the token endpoint: the groups claim
// is to be read from the profile API's getMemberObjects.
func distributedGroups(publicURL string) (map[string]string, map[string]tokens.ClaimSource) {
	return map[string]string{"groups": "src1"},
		map[string]tokens.ClaimSource{"src1": {Endpoint: publicURL + memberObjectsPath}}
}
