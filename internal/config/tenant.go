package config

import (
	"fmt"
	"strings"
	"unicode"

	"github.com/sigil-idp/sigil/internal/directory"

	"github.com/sigil-idp/sigil/internal/password"
)

// lower is strings.ToLower, named for what normalizing does to identifiers.
func lower(s string) string { return strings.ToLower(s) }

// index returns the path of item i of the list at path.
func index(path string, i int) string { return fmt.Sprintf("%s[%d]", path, i) }

// tenant checks a tenant and everything in it.
func (v *validator) tenant(t *Tenant, path string) {
	if v.guid(&t.ID, path+".id") {
		v.unique(v.tenantIDs, t.ID, path+".id")
	}
	domains := v.tenantDomains(t, path)
	scopes := v.apis(t.APIs, path+".apis")
	clientIDs := make(map[string]bool)
	for i := range t.Apps {
		v.app(&t.Apps[i], index(path+".apps", i), scopes)
		clientIDs[lower(t.Apps[i].ClientID)] = true
	}
	roles := v.appRoles(t.APIs, path+".apis", clientIDs)
	for _, r := range directory.AdminRoles { // the built-in admin API's (AdminAPI)
		roles[lower(directory.AdminResource+"/"+r)] = roleRef{canonical: directory.AdminResource + "/" + r, forApps: true}
	}
	for i := range t.Apps {
		v.appPermissions(&t.Apps[i], index(path+".apps", i), roles)
	}
	usernames := make(map[string]bool)
	for i := range t.Users {
		v.user(&t.Users[i], index(path+".users", i), domains)
		v.userRoles(&t.Users[i], index(path+".users", i), roles)
		usernames[lower(t.Users[i].Username)] = true
	}
	v.groups(t.Groups, path+".groups", usernames)
}

// tenantDomains checks and lower-cases the tenant's domains and returns
// them as a set.
func (v *validator) tenantDomains(t *Tenant, path string) map[string]bool {
	path += ".domains"
	if len(t.Domains) == 0 {
		v.addf(path, "at least one domain is required, such as contoso.test")
	}
	set := make(map[string]bool)
	for i, d := range t.Domains {
		p, d := index(path, i), lower(d)
		switch {
		case !isDNSName(d):
			v.addf(p, "%q is not a DNS name", t.Domains[i])
		case isReservedSegment(d):
			v.addf(p, "%q is reserved: it is a tenant path segment with its own meaning", d)
		case isGUID(d):
			v.addf(p, "%q is a GUID: tenant ids and domains share the {tenant} path segment", d)
		default:
			t.Domains[i] = d
			set[d] = true
			v.unique(v.domains, d, p)
		}
	}
	return set
}

// user checks a user of a tenant with the given domains.
func (v *validator) user(u *User, path string, domains map[string]bool) {
	if u.Username == "" {
		v.addf(path+".username", "required: local@domain, with one of the tenant's domains")
	} else if v.username(u.Username, path+".username", domains) {
		u.Username = lower(u.Username)
		v.unique(v.usernames, u.Username, path+".username")
	}
	switch {
	case u.Password != "" && u.PasswordHash != "":
		v.addf(path+".passwordHash", "set password or passwordHash, not both")
	case u.Password == "" && u.PasswordHash == "":
		v.addf(path+".password", "required: password or passwordHash")
	case u.PasswordHash != "":
		if err := password.Check(u.PasswordHash); err != nil {
			v.addf(path+".passwordHash", "is not a hash Sigil can verify: %v", err)
		}
	}
	if u.ID != "" && v.guid(&u.ID, path+".id") {
		v.unique(v.userIDs, u.ID, path+".id")
	}
	if u.Enabled == nil {
		enabled := true
		u.Enabled = &enabled
	}
}

// username checks that name is local@domain with one of domains.
func (v *validator) username(name, path string, domains map[string]bool) bool {
	local, domain, ok := strings.Cut(lower(name), "@")
	switch {
	case !ok || local == "" || strings.Contains(domain, "@") || strings.IndexFunc(name, unicode.IsSpace) >= 0:
		v.addf(path, "%q is not local@domain", name)
		return false
	case !domains[domain]:
		v.addf(path, "%q: %q is not one of this tenant's domains", name, domain)
		return false
	}
	return true
}

// apis checks a tenant's APIs and returns their scopes, lower-cased, by
// lower-cased Application ID URI, for adminConsent.
func (v *validator) apis(apis []API, path string) map[string]map[string]bool {
	byURI := make(map[string]map[string]bool)
	uris := make(map[string]string)
	for i, api := range apis {
		p := index(path, i)
		if api.SigningAlg != "" && api.SigningAlg != SigningAlgRS256 && api.SigningAlg != SigningAlgES256 { // "" is RS256
			v.addf(p+".signingAlg", "API %q: %q is not one of %q", api.AppIDURI, api.SigningAlg,
				[]string{SigningAlgRS256, SigningAlgES256})
		}
		switch {
		case api.AppIDURI == "":
			v.addf(p+".appIdUri", "required: an absolute URI such as api://todo")
		case strings.EqualFold(api.AppIDURI, directory.AdminResource):
			v.addf(p+".appIdUri", "%q is reserved for Sigil's admin API", api.AppIDURI)
		case v.check(p+".appIdUri", api.AppIDURI, checkAppIDURI(api.AppIDURI)):
			v.unique(uris, lower(api.AppIDURI), p+".appIdUri")
		}
		if len(api.Scopes) == 0 && len(api.AppRoles) == 0 {
			v.addf(p+".scopes", "at least one scope or app role is required")
		}
		scopes := make(map[string]bool)
		values := make(map[string]string)
		for j, s := range api.Scopes {
			sp := index(p+".scopes", j) + ".value"
			if v.check(sp, s.Value, checkScope(s.Value)) {
				v.unique(values, lower(s.Value), sp)
				scopes[lower(s.Value)] = true
			}
		}
		if _, dup := byURI[lower(api.AppIDURI)]; !dup {
			byURI[lower(api.AppIDURI)] = scopes
		}
	}
	return byURI
}
