package directory

import (
	"fmt"
	"slices"
	"strings"
)

// ProfileResource names the built-in profile API in grants and scope strings. Requests may
// name its scopes short ("User.Read", "profile") or, as Microsoft Graph's, in full
// ("https://graph.microsoft.com/User.Read"), so apps written against Entra need no change.
const ProfileResource = "https://graph.microsoft.com"

// AdminResource is the Application ID URI of Sigil's Graph-shaped admin API (served on the
// admin listener): a resource of its own, not Graph's, so that no user's Graph token
// (User.Read, for /v1.0/me) can ever be an admin token; apps reach it through client
// credentials with the application permissions in AdminRoles.
const AdminResource = "api://sigil-admin"

// AdminRoles are the admin API's application permissions, named as Microsoft Graph's.
var AdminRoles = []string{"User.ReadWrite.All", "Application.ReadWrite.All", "Group.ReadWrite.All", "Directory.Read.All"}

// ProfileAudience is the aud claim of access tokens for the built-in profile API: Microsoft
// Graph's application id, as in Entra-issued Graph tokens.
const ProfileAudience = "00000003-0000-0000-c000-000000000000"

// The built-in profile API's scopes, by their lower-case short names (the names grants keep
// and consent checkboxes carry). openid is implied by signing in and needs no consent.
const (
	ScopeOpenID        = "openid"
	ScopeProfile       = "profile"
	ScopeEmail         = "email"
	ScopeOfflineAccess = "offline_access"
	ScopeUserRead      = "user.read"
)

// Limits on a scope parameter, so a hostile request costs little.
const (
	MaxScopeTokens = 64
	MaxScopeLength = 512
)

// Scope is one requested scope, resolved.
type Scope struct {
	Requested   string // the spelling the app used ("api://todo/Todo.Read", "User.Read")
	Value       string // the value as the resource exposes it ("Todo.Read", "User.Read", "profile")
	AdminOnly   bool   // needs a tenant-wide grant by an administrator
	Description string // the API's description of the scope, if any
}

// Key is the name a grant stores for the scope: its value, lower-cased (grants compare
// case-insensitively, as Entra's do).
func (s Scope) Key() string { return strings.ToLower(s.Value) }

// ResourceScopes are the requested scopes of one resource.
type ResourceScopes struct {
	Resource string // an API's AppIDURI, or ProfileResource
	API      *API   // nil for the profile API
	Scopes   []Scope
	Default  bool // the request said "<resource>/.default"; see ExpandDefault
}

// ScopeSet is a parsed scope parameter: whether openid was asked for, and the scopes grouped
// by resource in order of first appearance.
type ScopeSet struct {
	OpenID bool
	Groups []ResourceScopes
}

// ScopeError says why a scope parameter does not resolve.
type ScopeError struct {
	Kind  ScopeErrorKind
	Scope string // the offending token or resource
}

// ScopeErrorKind classifies ScopeError.
type ScopeErrorKind int

// Kinds of ScopeError.
const (
	ScopeMalformed       ScopeErrorKind = iota // too long, too many, or not a scope token
	ScopeUnknownResource                       // no API with that Application ID URI
	ScopeUnknownValue                          // the resource exposes no such scope
)

func (e *ScopeError) Error() string {
	switch e.Kind {
	case ScopeUnknownResource:
		return fmt.Sprintf("resource %q is not registered in this tenant", e.Scope)
	case ScopeUnknownValue:
		return fmt.Sprintf("scope %q is not exposed by its resource", e.Scope)
	}
	return fmt.Sprintf("scope %q is not valid", e.Scope)
}

// ParseScopes resolves a space-separated scope parameter. findAPI looks an API up by its
// Application ID URI (case-insensitively) in the tenant the request is for.
func ParseScopes(raw string, findAPI func(appIDURI string) (API, bool, error)) (ScopeSet, error) {
	var set ScopeSet
	if len(raw) > MaxScopeTokens*MaxScopeLength {
		return set, &ScopeError{Kind: ScopeMalformed, Scope: raw[:32] + "…"}
	}
	tokens := strings.Fields(raw)
	if len(tokens) > MaxScopeTokens {
		return set, &ScopeError{Kind: ScopeMalformed, Scope: tokens[MaxScopeTokens]}
	}
	for _, tok := range tokens {
		if len(tok) > MaxScopeLength || strings.ContainsAny(tok, "\"\\") {
			return set, &ScopeError{Kind: ScopeMalformed, Scope: tok}
		}
		if strings.EqualFold(tok, ScopeOpenID) {
			set.OpenID = true
			continue
		}
		if err := set.add(tok, findAPI); err != nil {
			return ScopeSet{}, err
		}
	}
	return set, nil
}

func (s *ScopeSet) add(tok string, findAPI func(string) (API, bool, error)) error {
	resource, value := ProfileResource, tok
	if i := strings.LastIndexByte(tok, '/'); i >= 0 {
		resource, value = tok[:i], tok[i+1:]
		if strings.EqualFold(resource, ProfileResource) || strings.EqualFold(resource, ProfileAudience) {
			resource = ProfileResource
		}
	}
	if value == "" || resource == "" {
		return &ScopeError{Kind: ScopeMalformed, Scope: tok}
	}
	if resource == ProfileResource {
		return s.addProfile(tok, value)
	}
	api, ok, err := findAPI(resource)
	if err != nil {
		return err
	}
	if !ok {
		return &ScopeError{Kind: ScopeUnknownResource, Scope: resource}
	}
	g := s.group(api.AppIDURI, &api)
	if value == ".default" {
		g.Default = true
		return nil
	}
	i := slices.IndexFunc(api.Scopes, func(x APIScope) bool { return strings.EqualFold(x.Value, value) })
	if i < 0 {
		return &ScopeError{Kind: ScopeUnknownValue, Scope: tok}
	}
	x := api.Scopes[i]
	g.addScope(Scope{Requested: tok, Value: x.Value, AdminOnly: x.AdminConsentRequired, Description: x.Description})
	return nil
}

func (s *ScopeSet) addProfile(tok, value string) error {
	g := s.group(ProfileResource, nil)
	switch v := strings.ToLower(value); v {
	case ".default":
		g.Default = true
	case ScopeOpenID:
		s.OpenID = true
	case ScopeProfile, ScopeEmail, ScopeOfflineAccess:
		g.addScope(Scope{Requested: tok, Value: v})
	case ScopeUserRead:
		g.addScope(Scope{Requested: tok, Value: "User.Read"})
	default:
		return &ScopeError{Kind: ScopeUnknownValue, Scope: tok}
	}
	return nil
}

func (s *ScopeSet) group(resource string, api *API) *ResourceScopes {
	for i := range s.Groups {
		if s.Groups[i].Resource == resource {
			return &s.Groups[i]
		}
	}
	s.Groups = append(s.Groups, ResourceScopes{Resource: resource, API: api})
	return &s.Groups[len(s.Groups)-1]
}

func (g *ResourceScopes) addScope(sc Scope) {
	if !slices.ContainsFunc(g.Scopes, func(x Scope) bool { return x.Key() == sc.Key() }) {
		g.Scopes = append(g.Scopes, sc)
	}
}

// Canonical spells a scope of g the way tokens and responses carry it: the API's Application
// ID URI and the scope value as exposed ("api://todo/Todo.Read"); for the profile API, the
// value alone ("User.Read", "profile"), with Graph's prefix only when the app used it.
func (g ResourceScopes) Canonical(sc Scope) string {
	if g.Resource != ProfileResource || strings.Contains(sc.Requested, "/") {
		return g.Resource + "/" + sc.Value
	}
	return sc.Value
}

// Has reports whether the set asks for the profile API's scope short (profile, email,
// offline_access).
func (s ScopeSet) Has(short string) bool {
	for _, g := range s.Groups {
		if g.Resource == ProfileResource {
			return slices.ContainsFunc(g.Scopes, func(x Scope) bool { return x.Key() == short })
		}
	}
	return false
}

// Primary returns the index of the group an access token is issued for: the first resource
// with a scope that is not one of the OpenID Connect scopes (profile, email, offline_access),
// else the profile API. It returns -1 when the set names no resource at all (openid alone).
func (s ScopeSet) Primary() int {
	profile := -1
	for i, g := range s.Groups {
		if g.Resource != ProfileResource {
			return i
		}
		profile = i
		if g.Default || slices.ContainsFunc(g.Scopes, func(x Scope) bool { return !isOIDCScope(x.Key()) }) {
			return i
		}
	}
	return profile
}

// APIResources counts the groups that are registered APIs (not the profile API). A token
// request may name at most one resource besides the OpenID Connect scopes.
func (s ScopeSet) APIResources() int {
	n := 0
	for _, g := range s.Groups {
		if g.Resource != ProfileResource {
			n++
		}
	}
	return n
}

// isOIDCScope reports whether key is one of the OpenID Connect scopes that ride along with
// any resource.
func isOIDCScope(key string) bool {
	return key == ScopeProfile || key == ScopeEmail || key == ScopeOfflineAccess
}

// ExpandDefault fills a ".default" group with concrete scopes: those already granted for the
// resource, or, when none are, every scope the resource exposes that a user may consent to —
// and, with admin (an administrator granting for the tenant), every scope it exposes.
func (g *ResourceScopes) ExpandDefault(granted map[string]bool, admin bool) {
	if !g.Default {
		return
	}
	var exposed []Scope
	if g.API == nil {
		for _, v := range []string{"User.Read", ScopeProfile, ScopeEmail, ScopeOfflineAccess} {
			exposed = append(exposed, Scope{Requested: v, Value: v})
		}
	} else {
		for _, x := range g.API.Scopes {
			exposed = append(exposed, Scope{Requested: g.Resource + "/" + x.Value, Value: x.Value,
				AdminOnly: x.AdminConsentRequired, Description: x.Description})
		}
	}
	anyGranted := slices.ContainsFunc(exposed, func(x Scope) bool { return granted[x.Key()] })
	for _, x := range exposed {
		switch {
		case admin && (g.API != nil || x.Value == "User.Read"):
			g.addScope(x)
		case anyGranted && granted[x.Key()] || !anyGranted && !x.AdminOnly && (g.API != nil || x.Value == "User.Read"):
			g.addScope(x)
		}
	}
}

// Missing returns the scopes of g that granted does not cover, split into those the user may
// consent to and those only an administrator may grant. Under ConsentPreauthorized the
// user-consentable ones count as granted.
func (g ResourceScopes) Missing(granted map[string]bool, policy ConsentPolicy) (user, admin []Scope) {
	for _, sc := range g.Scopes {
		switch {
		case granted[sc.Key()]:
		case sc.AdminOnly:
			admin = append(admin, sc)
		case policy != ConsentPreauthorized:
			user = append(user, sc)
		}
	}
	return user, admin
}

// GrantedScopes merges the grants for one resource into a set of lower-case scope keys.
func GrantedScopes(grants []Grant, resource string) map[string]bool {
	set := map[string]bool{}
	for _, g := range grants {
		if g.Resource != resource {
			continue
		}
		for _, s := range g.Scopes {
			set[strings.ToLower(s)] = true
		}
	}
	return set
}
