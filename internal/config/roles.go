package config

import (
	"context"
	"fmt"
	"strings"

	"github.com/sigil-idp/sigil/internal/directory"
	"github.com/sigil-idp/sigil/internal/store"
)

// Checks of app roles, role assignments, groups and the settings that go with them.

// roleRef is an app role as users' appRoles entries name it.
type roleRef struct {
	canonical string // "<appIdUri>/<value>" as the API spells both
	forUsers  bool
	forApps   bool
}

// appRoles checks the app roles and client ids of a tenant's APIs and returns the roles by
// lower-cased "<appIdUri>/<value>". clientIDs are the tenant's apps' client ids.
func (v *validator) appRoles(apis []API, path string, clientIDs map[string]bool) map[string]roleRef {
	roles := make(map[string]roleRef)
	apiClients := make(map[string]string)
	for i := range apis {
		api, p := &apis[i], index(path, i)
		if api.ClientID != "" && v.guid(&api.ClientID, p+".clientId") {
			if !clientIDs[api.ClientID] {
				v.addf(p+".clientId", "%q names no app of this tenant: add the API's own registration under apps", api.ClientID)
			}
			v.unique(apiClients, api.ClientID, p+".clientId")
		}
		values := make(map[string]string)
		for j := range api.AppRoles {
			r, rp := &api.AppRoles[j], index(p+".appRoles", j)
			if v.check(rp+".value", r.Value, checkRoleValue(r.Value)) {
				v.unique(values, lower(r.Value), rp+".value")
			}
			forUsers, forApps := v.memberTypes(r.AllowedMemberTypes, rp+".allowedMemberTypes")
			key := lower(api.AppIDURI + "/" + r.Value)
			if _, dup := roles[key]; !dup {
				roles[key] = roleRef{canonical: api.AppIDURI + "/" + r.Value, forUsers: forUsers, forApps: forApps}
			}
		}
	}
	return roles
}

// memberTypes checks allowedMemberTypes and reports whether users and apps may hold the
// role.
func (v *validator) memberTypes(types []string, path string) (forUsers, forApps bool) {
	if len(types) == 0 {
		v.addf(path, "required: [%s], [%s] or both", MemberUser, MemberApplication)
	}
	seen := make(map[string]string)
	for i, t := range types {
		p := index(path, i)
		switch t {
		case MemberUser:
			forUsers = true
		case MemberApplication:
			forApps = true
		default:
			v.addf(p, "%q is not %q or %q", t, MemberUser, MemberApplication)
			continue
		}
		v.unique(seen, t, p)
	}
	return forUsers, forApps
}

// checkRoleValue accepts an app role value: not empty, no white space or "/".
func checkRoleValue(s string) string {
	switch {
	case s == "":
		return "must not be empty"
	case strings.ContainsAny(s, " \t\r\n/"):
		return `must not contain white space or "/"`
	}
	return ""
}

// userRoles checks a user's appRoles against the tenant's roles and spells each entry as
// the API does.
func (v *validator) userRoles(u *User, path string, roles map[string]roleRef) {
	v.roleEntries(u.AppRoles, path+".appRoles", roles, MemberUser)
}

// appPermissions checks an app's applicationPermissions like users' appRoles, for roles
// whose allowedMemberTypes include Application.
func (v *validator) appPermissions(a *App, path string, roles map[string]roleRef) {
	v.roleEntries(a.ApplicationPermissions, path+".applicationPermissions", roles, MemberApplication)
}

// roleEntries checks "<appIdUri>/<role>" entries held by member against the tenant's roles,
// and spells each entry as the API does.
func (v *validator) roleEntries(entries []string, path string, roles map[string]roleRef, member string) {
	seen := make(map[string]string)
	for i, e := range entries {
		p := index(path, i)
		slash := strings.LastIndex(e, "/")
		if slash <= 0 || slash == len(e)-1 {
			v.addf(p, "%q is not <appIdUri>/<role>, such as api://todo/Todo.Admin", e)
			continue
		}
		r, ok := roles[lower(e)]
		switch {
		case !ok:
			v.addf(p, "%q: no API of this tenant has appIdUri %q with app role %q", e, e[:slash], e[slash+1:])
		case member == MemberUser && !r.forUsers, member == MemberApplication && !r.forApps:
			v.addf(p, "%q: the role's allowedMemberTypes do not include %s", e, member)
		default:
			entries[i] = r.canonical
			v.unique(seen, lower(e), p)
		}
	}
}

// groups checks a tenant's groups; usernames are the tenant's (lower-case) usernames.
func (v *validator) groups(groups []Group, path string, usernames map[string]bool) {
	for i := range groups {
		g, p := &groups[i], index(path, i)
		if v.guid(&g.ID, p+".id") {
			v.unique(v.groupIDs, g.ID, p+".id")
		}
		if g.DisplayName == "" {
			v.addf(p+".displayName", "required")
		}
		seen := make(map[string]string)
		for j, m := range g.Members {
			mp := index(p+".members", j)
			if !usernames[lower(m)] {
				v.addf(mp, "%q is not a username of this tenant's users", m)
				continue
			}
			g.Members[j] = lower(m)
			v.unique(seen, lower(m), mp)
		}
	}
}

// groupsOverage checks the top-level groupsOverageLimit.
func (v *validator) groupsOverage(c *Config) {
	if c.GroupsOverageLimit < 1 {
		v.addf("groupsOverageLimit", "must be at least 1, got %d", c.GroupsOverageLimit)
	}
}

func toAppRoles(roles []AppRole) []directory.AppRole {
	var out []directory.AppRole
	for _, r := range roles {
		role := directory.AppRole{Value: r.Value, Description: r.Description}
		for _, t := range r.AllowedMemberTypes {
			role.AllowedMemberTypes = append(role.AllowedMemberTypes, directory.MemberType(t))
		}
		out = append(out, role)
	}
	return out
}

// toRoleAssignments splits validated "<appIdUri>/<value>" entries.
func toRoleAssignments(entries []string) []directory.RoleAssignment {
	var out []directory.RoleAssignment
	for _, e := range entries {
		i := strings.LastIndexByte(e, '/')
		out = append(out, directory.RoleAssignment{Resource: e[:i], Role: e[i+1:]})
	}
	return out
}

func toGroupClaims(v string) directory.GroupClaims {
	switch v {
	case GroupClaimsSecurityGroup:
		return directory.GroupClaimsSecurityGroup
	case GroupClaimsAll:
		return directory.GroupClaimsAll
	}
	return directory.GroupClaimsNone
}

// applyGroups creates or updates the tenant's groups, members named by username.
func applyGroups(ctx context.Context, st store.Store, t Tenant) error {
	ids := make(map[string]string, len(t.Users))
	for _, u := range t.Users {
		ids[lower(u.Username)] = u.ID
		if u.ID == "" {
			ids[lower(u.Username)] = UserID(t.ID, u.Username)
		}
	}
	for _, g := range t.Groups {
		dg := directory.Group{ID: g.ID, TenantID: t.ID, DisplayName: g.DisplayName}
		for _, m := range g.Members {
			dg.Members = append(dg.Members, ids[lower(m)])
		}
		if err := st.UpsertGroup(ctx, dg); err != nil {
			return fmt.Errorf("config: group %s: %w", g.ID, err)
		}
	}
	return nil
}

// AdminAPI is the built-in API of Sigil's Graph-shaped admin API, in every tenant: its
// application permissions are what an app is granted (applicationPermissions) to call the
// admin listener's /v1.0/ through client credentials. Its Application ID URI is reserved.
func AdminAPI() API {
	api := API{DisplayName: "Sigil admin API", AppIDURI: directory.AdminResource}
	for _, r := range directory.AdminRoles {
		api.AppRoles = append(api.AppRoles, AppRole{Value: r, AllowedMemberTypes: []string{MemberApplication}})
	}
	return api
}
